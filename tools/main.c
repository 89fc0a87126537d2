/*
 * main.c: the pactcl command: global options, then a subcommand.
 *
 *   pactcl [--plugin FILE]... COMMAND [options]
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pactcl-plugin.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(const struct cli_common *common, int argc, char **argv);
};

static const struct command commands[] = {
    { "devices", "list devices, loaded plugins and refused plugins", cmd_devices },
    { "train", "train MobileNetV3 (optionally with PACT QAT) on an image folder", cmd_train },
    { "predict", "classify one image with a .pdparams model", cmd_predict },
    { "export", "write the int8 model from a QAT checkpoint", cmd_export },
    { "eval", "evaluate an int8 model or a checkpoint on a val set", cmd_eval },
    { "dataset", "convert a dataset (fashion-mnist) into the image-folder layout", cmd_dataset },
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: pactcl [--plugin FILE]... COMMAND [OPTIONS]\n"
            "PACT quantization-aware training of MobileNetV3 on OpenCL devices and CPUs.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nGlobal options:\n"
            "  --plugin FILE  load a plugin file in addition to the plugin directories\n"
            "  --help         show this help ('pactcl COMMAND --help' for a command)\n"
            "  --version      show the version\n\n"
            "Plugins are loaded from %s, then from each directory of\n"
            "PACTCL_PLUGIN_PATH (':'-separated), then from --plugin files.\n"
            "PACTCL_LOG=debug shows which plugin runs each op.\n",
            pactcl_installed_plugin_dir());
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout); /* keep the log's order when both go to one file */
    fputs("pactcl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

pactcl_context *cli_open_context(const struct cli_common *common)
{
    struct pactcl_context_options opts = {
        .plugin_files = common->plugin_files,
        .n_plugin_files = common->n_plugin_files,
    };
    pactcl_context *ctx = NULL;
    if (pactcl_context_create(&opts, &ctx) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return NULL;
    }
    return ctx;
}

/* Removes "--plugin FILE" / "--plugin=FILE" from argv wherever they appear,
 * so that they may be given before or after the subcommand. */
static int take_plugin_options(int *argc, char **argv, struct cli_common *common)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *file = NULL;
        if (strcmp(argv[i], "--plugin") == 0) {
            if (i + 1 >= *argc) {
                cli_error("--plugin needs a FILE argument");
                return -1;
            }
            file = argv[++i];
        } else if (strncmp(argv[i], "--plugin=", 9) == 0) {
            file = argv[i] + 9;
        } else if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (!*file) {
            cli_error("--plugin needs a non-empty FILE argument");
            return -1;
        }
        common->plugin_files[common->n_plugin_files++] = file;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    /* OpenMP threads that spin while waiting take the core their partner
     * needs on small machines (a 2-core training step ran 16x slower with
     * the loader busy); waiting passively costs ~10 us per region.  Set
     * before the CPU plugin loads the OpenMP runtime; the user's value wins. */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    struct cli_common common = { 0 };
    common.plugin_files = calloc((size_t)argc, sizeof *common.plugin_files);
    if (!common.plugin_files) {
        cli_error("out of memory");
        return 1;
    }
    int rc = 2;
    if (take_plugin_options(&argc, argv, &common) != 0)
        goto done;
    if (argc < 2) {
        usage(stderr);
        goto done;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        rc = 0;
        goto done;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pactcl %s (plugin ABI %u)\n", PACKAGE_VERSION, PACTCL_PLUGIN_ABI_VERSION);
        rc = 0;
        goto done;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            rc = commands[i].run(&common, argc - 1, argv + 1);
            goto done;
        }
    }
    cli_error("unknown command '%s' (see 'pactcl --help')", argv[1]);
done:
    free(common.plugin_files);
    return rc;
}
