/* cli.h: what the pactcl command's subcommands share. */
#ifndef PACTCL_CLI_H
#define PACTCL_CLI_H

#include "pactcl.h"

/* Options every subcommand accepts before or after its name. */
struct cli_common {
    const char **plugin_files; /* --plugin FILE, repeatable */
    int n_plugin_files;
};

/* Opens a context with the default plugin search plus --plugin files;
 * prints the error and returns NULL on failure. */
pactcl_context *cli_open_context(const struct cli_common *common);

/* Prints "pactcl: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_devices(const struct cli_common *common, int argc, char **argv);

#endif
