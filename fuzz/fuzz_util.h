/*
 * fuzz_util.h: what the libFuzzer targets of fuzz/ share (header-only, each
 * target is one translation unit plus the instrumented library).
 *
 *   FUZZ_CHECK(cond)     abort()s with a message when an invariant breaks, so
 *                        that libFuzzer records the input as a crash
 *   fuzz_quiet()         warnings the library logs for bad inputs are expected
 *                        by the thousand: keep stderr for real reports
 *   fuzz_explain(rc)     with PACTCL_FUZZ_VERBOSE set, prints each status and
 *                        message, to see how far the seeds get
 *   fuzz_fake_device()   a context holding only the test suite's fake backend
 *                        (tests/plugins/fake_backend.c, built as
 *                        fuzz/.libs/pactcl-fuzz-fake.so): host memory, no
 *                        OpenMP, no driver, so model graphs can be built and
 *                        filled as the real CLI does, at fuzzing speed
 *   fuzz_scratch_dir()   a private directory for targets whose API takes paths,
 *                        removed at exit
 *   fuzz_write_file()    writes bytes to a path (aborts on I/O failure: that
 *                        is the harness failing, not the code under test)
 */
#ifndef PACTCL_FUZZ_UTIL_H
#define PACTCL_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pactcl.h"

#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, pactcl_last_error());                                      \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_quiet(void)
{
    if (!getenv("PACTCL_FUZZ_VERBOSE"))
        pactcl_log_set_level(PACTCL_LOG_ERROR);
}

/* With PACTCL_FUZZ_VERBOSE set, prints why an input was refused: for
 * checking what the seeds reach (-runs=0 DIR). */
static inline void fuzz_explain(int status)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("PACTCL_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "fuzz: status %d: %s\n", status,
                status == PACTCL_OK ? "ok" : pactcl_last_error());
}

#ifndef FUZZ_FAKE_PLUGIN
#define FUZZ_FAKE_PLUGIN "pactcl-fuzz-fake.so"
#endif

/* The fake backend's first device, in a context that loads nothing else (no
 * installed or PACTCL_PLUGIN_PATH plugins).  PACTCL_FUZZ_FAKE_PLUGIN
 * overrides the build-tree path compiled in by fuzz/fuzz.mk. */
static inline pactcl_device *fuzz_fake_device(pactcl_context **ctx_out)
{
    const char *path = getenv("PACTCL_FUZZ_FAKE_PLUGIN");
    if (!path || !*path)
        path = FUZZ_FAKE_PLUGIN;
    const char *files[1] = { path };
    struct pactcl_context_options o = {
        .plugin_files = files, .n_plugin_files = 1, .skip_installed_dir = 1, .skip_env_path = 1,
    };
    pactcl_context *ctx = NULL;
    pactcl_device *dev = NULL;
    if (pactcl_context_create(&o, &ctx) != PACTCL_OK ||
        pactcl_context_find_device(ctx, "fake:0", &dev) != PACTCL_OK) {
        fprintf(stderr, "fuzz: cannot load the fake backend %s: %s\n", path, pactcl_last_error());
        if (ctx && pactcl_context_refused_count(ctx))
            fprintf(stderr, "fuzz: %s\n", pactcl_context_refused_reason(ctx, 0));
        exit(1);
    }
    *ctx_out = ctx;
    return dev;
}

static char fuzz_scratch[512];

/* The targets write plain files only, no subdirectories. */
static void fuzz_remove_scratch(void)
{
    DIR *d = fuzz_scratch[0] ? opendir(fuzz_scratch) : NULL;
    if (!d)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", fuzz_scratch, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(fuzz_scratch);
}

/* A fresh directory, removed with its contents when the fuzzer exits
 * normally (a crash leaves it for inspection).  Under $TMPDIR when set, else
 * /dev/shm when writable (the file targets write every input: tmpfs keeps
 * that at memory speed), else /tmp. */
static inline const char *fuzz_scratch_dir(void)
{
    if (!fuzz_scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/pactcl-fuzz-XXXXXX", tmp);
        if (!mkdtemp(fuzz_scratch)) {
            perror("fuzz: mkdtemp");
            exit(1);
        }
        atexit(fuzz_remove_scratch);
    }
    return fuzz_scratch;
}

static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

#endif /* PACTCL_FUZZ_UTIL_H */
