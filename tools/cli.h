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

/* Strict number parsing: the whole text, within range; on error prints
 * "pactcl: FLAG TEXT: expected ..." and returns -1. */
int cli_parse_int(const char *flag, const char *text, long min, long max, int *out);
int cli_parse_u64(const char *flag, const char *text, uint64_t *out);
int cli_parse_float(const char *flag, const char *text, double min, double max, float *out);

/* Resolves --device; the reference falls back to the default device when
 * its choice fails ("device set error, use default device..."), and so does
 * pactcl when `fallback` is set. */
pactcl_device *cli_pick_device(pactcl_context *ctx, const char *spec, int fallback);

/* PACTCL_MAX_PIXELS: the largest image (width x height) decoded; 0 (unset)
 * keeps the library's default. */
uint64_t cli_max_pixels(void);

int cmd_devices(const struct cli_common *common, int argc, char **argv);
int cmd_train(const struct cli_common *common, int argc, char **argv);
int cmd_predict(const struct cli_common *common, int argc, char **argv);
int cmd_export(const struct cli_common *common, int argc, char **argv);
int cmd_eval(const struct cli_common *common, int argc, char **argv);
int cmd_dataset(const struct cli_common *common, int argc, char **argv);

#endif
