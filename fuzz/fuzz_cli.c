/*
 * fuzz_cli.c: libFuzzer target for the pactcl command line (tools/main.c,
 * cli_parse.c and the option parsing of every cmd_*.c).
 *
 * The input is split at NUL bytes into argv[1..] (argv[0] is "pactcl"), and
 * the whole command runs as main() would run it: the --plugin scan, the
 * global options, the subcommand's getopt_long loop, the strict number
 * parsers and the cross-option checks.  A subcommand stops at the first
 * thing that is not parsing, because fuzz/fuzz.mk links the target with
 * `ld --wrap` for the calls that would act (references from the tools/ and
 * library objects to SYM go to __wrap_SYM below):
 *   - cli_open_context() returns NULL, as when no context can be opened,
 *     so nothing loads plugins (--plugin names one from the input), picks
 *     devices or trains;
 *   - mkdir() (train --output-dir) does nothing;
 *   - pactcl_fashion_mnist_convert() (dataset fashion-mnist) writes nothing.
 * The files other options name (--pretrained, --img-path, eval's manifest)
 * are only read, and mostly are not there (`make fuzz` runs the target in
 * fuzz-work/fuzz_cli, which holds its log and corpus copy; libFuzzer needs
 * its working directory for those, so the harness cannot move elsewhere).
 * The exit status must be 0, 1 or 2, and no input may crash or leak.
 *
 * Seeds: fuzz/corpus/fuzz_cli, one command line per file, arguments
 * separated by NUL bytes (the README's and tests' command lines).
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fuzz_util.h"

#include "internal.h"
#include "data/fashion_mnist.h"
#include "../tools/cli.h"

#define MAX_ARGS 64

int pactcl_cli_main(int argc, char **argv);
pactcl_context *__wrap_cli_open_context(const struct cli_common *common);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_pactcl_fashion_mnist_convert(const struct pactcl_fashion_mnist_options *o,
                                        struct pactcl_fashion_mnist_result *r);

pactcl_context *__wrap_cli_open_context(const struct cli_common *common)
{
    FUZZ_CHECK(common != NULL);
    return NULL;
}

int __wrap_mkdir(const char *path, mode_t mode)
{
    (void)mode;
    FUZZ_CHECK(path != NULL);
    return 0;
}

int __wrap_pactcl_fashion_mnist_convert(const struct pactcl_fashion_mnist_options *o,
                                        struct pactcl_fashion_mnist_result *r)
{
    FUZZ_CHECK(o != NULL && o->out_dir != NULL && r != NULL);
    return pactcl__set_error(PACTCL_ENOTFOUND, "fuzz_cli: the converter does not run here");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    /* Help texts and error lines by the million: keep the fuzzer's own
     * output readable.  Sanitizer reports and libFuzzer write to their own
     * descriptors and stay visible. */
    if (!getenv("PACTCL_FUZZ_VERBOSE")) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            close(null);
        }
        FILE *quiet = fopen("/dev/null", "w");
        if (quiet)
            stderr = quiet;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Each argument in its own allocation, so that reading past one is an
     * ASan report rather than a read into the next. */
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = strdup("pactcl");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || data[i] == 0) {
            if (i == size && i == start && (argc > 1 || size == 0))
                break; /* a trailing NUL ends the last argument; "" is no argument */
            size_t n = i - start;
            char *a = malloc(n + 1);
            FUZZ_CHECK(a != NULL);
            if (n)
                memcpy(a, data + start, n);
            a[n] = '\0';
            argv[argc++] = a;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    /* main() rewrites argv in place (it drops the --plugin options): keep
     * the pointers to free. */
    char *owned[MAX_ARGS + 1];
    memcpy(owned, argv, sizeof argv);
    int owned_n = argc;

    int rc = pactcl_cli_main(argc, argv);
    if (rc < 0 || rc > 2) {
        dprintf(2, "fuzz_cli: exit status %d, expected 0, 1 or 2\n", rc);
        abort();
    }
    for (int i = 0; i < owned_n; i++)
        free(owned[i]);
    return 0;
}
