/*
 * test_plugins.c: the plugin loader, its refusals, per-op overrides and device
 * selection, against real plugin files: the CPU backend, the example vendor
 * plugin (plugins/example) and the test plugins of tests/plugins.
 *
 * Every test names its plugins itself (PACTCL_PLUGIN_PATH, plugin_files, and
 * never the installed directory) and sets PACTCL_DISABLE_OVERRIDES before it
 * creates a context, so results do not depend on the caller's environment.
 * The build passes the plugin directories in:
 *   PACTCL_TEST_CPU_PLUGIN_DIR      pactcl-cpu.so
 *   PACTCL_TEST_EXAMPLE_PLUGIN_DIR  pactcl-example.so
 *   PACTCL_TEST_PLUGIN_DIR          pactcl-bad-*.so, pactcl-fake.so, fake-copy.so,
 *                                   test-overrides.so
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pactcl.h"
#include "pactcl-plugin.h"

#define CPU_DIR PACTCL_TEST_CPU_PLUGIN_DIR
#define EXAMPLE_DIR PACTCL_TEST_EXAMPLE_PLUGIN_DIR
#define TEST_DIR PACTCL_TEST_PLUGIN_DIR

/* ---- helpers ------------------------------------------------------------ */

/* A context from exactly these plugins: the directories of `path` (NULL: none)
 * and `files`; `disable` is PACTCL_DISABLE_OVERRIDES (NULL: unset). */
static pactcl_context *open_context(const char *path, const char *disable,
                                    const char *const *files, int n_files)
{
    if (path)
        setenv("PACTCL_PLUGIN_PATH", path, 1);
    else
        unsetenv("PACTCL_PLUGIN_PATH");
    if (disable)
        setenv("PACTCL_DISABLE_OVERRIDES", disable, 1);
    else
        unsetenv("PACTCL_DISABLE_OVERRIDES");
    const struct pactcl_context_options opts = {
        .plugin_files = files,
        .n_plugin_files = n_files,
        .skip_installed_dir = 1,
        .skip_env_path = path == NULL,
    };
    pactcl_context *ctx = NULL;
    int rc = pactcl_context_create(&opts, &ctx);
    ck_assert_msg(rc == PACTCL_OK, "pactcl_context_create: %s", pactcl_last_error());
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

/* The reason the plugin file `file` (a base name) was refused, or NULL. */
static const char *refusal_of(const pactcl_context *ctx, const char *file)
{
    for (int i = 0; i < pactcl_context_refused_count(ctx); i++) {
        const char *p = pactcl_context_refused_path(ctx, i);
        const char *base = strrchr(p, '/');
        if (strcmp(base ? base + 1 : p, file) == 0)
            return pactcl_context_refused_reason(ctx, i);
    }
    return NULL;
}

/* Index of the loaded plugin called `name`, or -1. */
static int plugin_index(const pactcl_context *ctx, const char *name)
{
    for (int i = 0; i < pactcl_context_plugin_count(ctx); i++)
        if (strcmp(pactcl_context_plugin_name(ctx, i), name) == 0)
            return i;
    return -1;
}

static pactcl_device *device_by_id(const pactcl_context *ctx, const char *id)
{
    for (int i = 0; i < pactcl_context_device_count(ctx); i++)
        if (strcmp(pactcl_device_id(pactcl_context_device(ctx, i)), id) == 0)
            return pactcl_context_device(ctx, i);
    return NULL;
}

/* The CPU device, or a failure saying why it is missing. */
static pactcl_device *require_cpu(const pactcl_context *ctx)
{
    pactcl_device *cpu = device_by_id(ctx, "cpu");
    if (!cpu) {
        char refused[2048] = "";
        for (int i = 0; i < pactcl_context_refused_count(ctx); i++) {
            size_t u = strlen(refused);
            snprintf(refused + u, sizeof refused - u, "; %s: %s",
                     pactcl_context_refused_path(ctx, i), pactcl_context_refused_reason(ctx, i));
        }
        ck_abort_msg("no 'cpu' device: the CPU backend must be built as %s/pactcl-cpu.so%s",
                     CPU_DIR, refused);
    }
    return cpu;
}

static struct pactcl_tensor *new_tensor(pactcl_device *dev, int64_t n, const float *data)
{
    struct pactcl_tensor *t = NULL;
    int rc = pactcl_tensor_create(dev, PACTCL_F32, 1, &n, &t);
    ck_assert_msg(rc == PACTCL_OK, "pactcl_tensor_create: %s", pactcl_last_error());
    if (data) {
        rc = pactcl_tensor_write(t, data, (size_t)n * sizeof *data);
        ck_assert_msg(rc == PACTCL_OK, "pactcl_tensor_write: %s", pactcl_last_error());
    }
    return t;
}

static void read_tensor(const struct pactcl_tensor *t, float *out, int64_t n)
{
    int rc = pactcl_tensor_read(t, out, (size_t)n * sizeof *out);
    ck_assert_msg(rc == PACTCL_OK, "pactcl_tensor_read: %s", pactcl_last_error());
}

static struct pactcl_op_call unary_call(enum pactcl_op op, struct pactcl_tensor *x,
                                        struct pactcl_tensor *y)
{
    return (struct pactcl_op_call){ .op = op, .nargs = 2, .args = { x, y } };
}

/* fp32 against a double reference (DESIGN.md §7: rtol 1e-4, atol 1e-5). */
static void expect_close(const float *got, const double *want, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-5 + 1e-4 * fabs(want[i]),
                      "%s[%lld] = %.9g, expected %.9g", what, (long long)i, (double)got[i],
                      want[i]);
}

/* ---- stderr capture, to check what PACTCL_LOG shows ---------------------- */

struct capture {
    FILE *file;
    int saved_fd;
};

static void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    ck_assert_ptr_nonnull(c->file);
    c->saved_fd = dup(STDERR_FILENO);
    ck_assert_int_ge(c->saved_fd, 0);
    ck_assert_int_ge(dup2(fileno(c->file), STDERR_FILENO), 0);
}

/* Restores stderr and returns what was written meanwhile (caller frees). */
static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    long n = ftell(c->file);
    ck_assert_int_ge(n, 0);
    char *text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    rewind(c->file);
    size_t got = fread(text, 1, (size_t)n, c->file);
    text[got] = '\0';
    fclose(c->file);
    return text;
}

/* ---- hard-swish: inputs and an independent reference ------------------- */

#define HS_N 1031 /* odd: not a multiple of any vector width */

static void hardswish_inputs(float *x)
{
    for (int i = 0; i < HS_N; i++)
        x[i] = -7.0f + 14.0f * (float)i / (HS_N - 1);
    /* The kinks, both sides of them, zero and large magnitudes. */
    static const float special[] = { -3.0f, 3.0f, 0.0f, -0.0f, -3.0001f, -2.9999f, 2.9999f,
                                     3.0001f, 1e6f, -1e6f, 6.0f, -6.0f };
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        x[k * 37] = special[k];
}

static void hardswish_reference(const float *x, double *y)
{
    for (int i = 0; i < HS_N; i++) {
        double v = x[i], r = v + 3.0;
        if (r < 0.0)
            r = 0.0;
        if (r > 6.0)
            r = 6.0;
        y[i] = v * r / 6.0;
    }
}

/* Runs hardswish_fwd on `dev`, out of place then in place, checks both against
 * the reference and returns the provider the core chose. */
static const char *check_hardswish(pactcl_device *dev)
{
    float x[HS_N], got[HS_N];
    double want[HS_N];
    hardswish_inputs(x);
    hardswish_reference(x, want);
    struct pactcl_tensor *tx = new_tensor(dev, HS_N, x), *ty = new_tensor(dev, HS_N, NULL);
    struct pactcl_op_call call = unary_call(PACTCL_OP_HARDSWISH_FWD, tx, ty);
    const char *provider = pactcl_device_op_provider(dev, &call);
    ck_assert_ptr_nonnull(provider);

    int rc = pactcl_op_run(dev, &call);
    ck_assert_msg(rc == PACTCL_OK, "hardswish_fwd: %s", pactcl_last_error());
    read_tensor(ty, got, HS_N);
    expect_close(got, want, HS_N, "hardswish y");
    read_tensor(tx, got, HS_N);
    ck_assert_msg(memcmp(got, x, sizeof x) == 0, "hardswish_fwd modified its input");

    call = unary_call(PACTCL_OP_HARDSWISH_FWD, tx, tx);
    rc = pactcl_op_run(dev, &call);
    ck_assert_msg(rc == PACTCL_OK, "hardswish_fwd in place: %s", pactcl_last_error());
    read_tensor(tx, got, HS_N);
    expect_close(got, want, HS_N, "hardswish in place");

    pactcl_tensor_free(tx);
    pactcl_tensor_free(ty);
    return provider;
}

/* The provider for `op` on `dev`, asked with a valid elementwise call. */
static const char *provider_of(pactcl_device *dev, enum pactcl_op op)
{
    ck_assert_msg(pactcl_op_nargs(op) <= 3, "provider_of is for elementwise ops");
    struct pactcl_tensor *t[3];
    struct pactcl_op_call call = { .op = op, .nargs = pactcl_op_nargs(op) };
    for (int i = 0; i < call.nargs; i++)
        call.args[i] = t[i] = new_tensor(dev, 8, NULL);
    const char *p = pactcl_device_op_provider(dev, &call);
    for (int i = 0; i < call.nargs; i++)
        pactcl_tensor_free(t[i]);
    return p;
}

/* y = a + b on `dev` over n elements, checked; returns the provider. */
static const char *check_add(pactcl_device *dev, int64_t n)
{
    float a[64], b[64], y[64];
    ck_assert_int_le(n, 64);
    for (int64_t i = 0; i < n; i++) {
        a[i] = 0.5f * (float)i - 3.0f;
        b[i] = 100.0f - 2.0f * (float)i;
    }
    struct pactcl_tensor *ta = new_tensor(dev, n, a), *tb = new_tensor(dev, n, b);
    struct pactcl_tensor *ty = new_tensor(dev, n, NULL);
    struct pactcl_op_call call = { .op = PACTCL_OP_ADD, .nargs = 3, .args = { ta, tb, ty } };
    const char *provider = pactcl_device_op_provider(dev, &call);
    int rc = pactcl_op_run(dev, &call);
    ck_assert_msg(rc == PACTCL_OK, "add on %s: %s", pactcl_device_id(dev), pactcl_last_error());
    read_tensor(ty, y, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(y[i] == a[i] + b[i], "add on %s: y[%lld] = %g, expected %g",
                      pactcl_device_id(dev), (long long)i, (double)y[i], (double)(a[i] + b[i]));
    pactcl_tensor_free(ta);
    pactcl_tensor_free(tb);
    pactcl_tensor_free(ty);
    return provider;
}

/* ---- refusals ----------------------------------------------------------- */

START_TEST(test_abi_mismatch_refused)
{
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    const char *why = refusal_of(ctx, "pactcl-bad-abi.so");
    ck_assert_msg(why != NULL, "pactcl-bad-abi.so was not refused");
    char theirs[32], ours[32];
    snprintf(theirs, sizeof theirs, "version %u", PACTCL_PLUGIN_ABI_VERSION + 1);
    snprintf(ours, sizeof ours, "version %u", PACTCL_PLUGIN_ABI_VERSION);
    ck_assert_msg(strstr(why, theirs) && strstr(why, ours), "reason '%s' lacks '%s' or '%s'", why,
                  theirs, ours);
    /* Its init fails with its own message if called: the check came first. */
    ck_assert_ptr_null(strstr(why, "init"));
    ck_assert_int_eq(plugin_index(ctx, "bad-abi"), -1);
    pactcl_context_free(ctx);
}
END_TEST

/* What a user sees with PACTCL_LOG=info: the file and both versions in one line. */
START_TEST(test_refusal_is_logged_with_file)
{
    pactcl_log_set_level(PACTCL_LOG_INFO);
    struct capture cap;
    capture_begin(&cap);
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    char *log = capture_end(&cap);
    pactcl_log_set_level(PACTCL_LOG_WARN);
    char want[512];
    snprintf(want, sizeof want, "%s/pactcl-bad-abi.so refused: %s", TEST_DIR,
             refusal_of(ctx, "pactcl-bad-abi.so"));
    ck_assert_msg(strstr(log, want), "log lacks '%s':\n%s", want, log);
    free(log);
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_missing_symbol_refused)
{
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    const char *why = refusal_of(ctx, "pactcl-bad-nosym.so");
    ck_assert_msg(why != NULL, "pactcl-bad-nosym.so was not refused");
    ck_assert_msg(strstr(why, "'" PACTCL_PLUGIN_SYMBOL "'"), "reason: %s", why);
    ck_assert_int_eq(plugin_index(ctx, "bad-nosym"), -1);
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_failing_init_refused_with_its_message)
{
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    const char *why = refusal_of(ctx, "pactcl-bad-init.so");
    ck_assert_msg(why != NULL, "pactcl-bad-init.so was not refused");
    ck_assert_msg(strstr(why, "init failed") && strstr(why, "no frobnicator found (code 42)"),
                  "reason: %s", why);
    ck_assert_int_eq(plugin_index(ctx, "bad-init"), -1);
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_missing_slot_refused)
{
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    const char *why = refusal_of(ctx, "pactcl-bad-slot.so");
    ck_assert_msg(why != NULL, "pactcl-bad-slot.so was not refused");
    ck_assert_msg(strstr(why, "'bad-slot:0'") && strstr(why, "sync"), "reason: %s", why);
    ck_assert_int_eq(plugin_index(ctx, "bad-slot"), -1);
    ck_assert_ptr_null(device_by_id(ctx, "bad-slot:0"));
    pactcl_context_free(ctx);
}
END_TEST

/* Four refusals next to the CPU backend and the fake one: both keep working. */
START_TEST(test_others_keep_working)
{
    char path[2048];
    snprintf(path, sizeof path, "%s:%s", CPU_DIR, TEST_DIR);
    pactcl_context *ctx = open_context(path, NULL, NULL, 0);
    ck_assert_int_eq(pactcl_context_refused_count(ctx), 4);
    pactcl_device *cpu = require_cpu(ctx);
    ck_assert_str_eq(pactcl_device_backend(cpu), "cpu");
    ck_assert_int_eq(pactcl_device_kind(cpu), PACTCL_DEVICE_CPU);
    ck_assert_int_eq(pactcl_context_device_count(ctx), 3);
    ck_assert_ptr_nonnull(device_by_id(ctx, "fake:0"));
    ck_assert_ptr_nonnull(device_by_id(ctx, "fake:1"));
    ck_assert_str_eq(check_add(cpu, 33), "cpu");
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:1"), 33), "fake");
    ck_assert_str_eq(check_hardswish(cpu), "cpu");
    pactcl_context_free(ctx);
}
END_TEST

/* ---- loading ------------------------------------------------------------ */

/* Directory scans only take pactcl-*.so: fake-copy.so and test-overrides.so
 * sit in the same directory and must be ignored. */
START_TEST(test_directory_scan_takes_pactcl_files_only)
{
    pactcl_context *ctx = open_context(TEST_DIR, NULL, NULL, 0);
    ck_assert_int_eq(pactcl_context_plugin_count(ctx), 1);
    ck_assert_str_eq(pactcl_context_plugin_name(ctx, 0), "fake");
    ck_assert_str_eq(pactcl_context_plugin_path(ctx, 0), TEST_DIR "/pactcl-fake.so");
    ck_assert_str_eq(pactcl_context_plugin_status(ctx, 0),
                     "test backend: two host-memory devices running add only");
    ck_assert_ptr_null(refusal_of(ctx, "fake-copy.so"));
    ck_assert_ptr_null(refusal_of(ctx, "test-overrides.so"));
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_explicit_plugin_files)
{
    const char *const files[] = { TEST_DIR "/pactcl-bad-init.so", TEST_DIR "/pactcl-fake.so",
                                  TEST_DIR "/no-such-plugin.so", TEST_DIR "/test-overrides.so" };
    pactcl_context *ctx = open_context(NULL, NULL, files, 4);
    /* Named files need no pactcl- prefix; refused ones do not fail the context. */
    ck_assert_int_eq(pactcl_context_plugin_count(ctx), 2);
    ck_assert_int_ge(plugin_index(ctx, "fake"), 0);
    ck_assert_int_ge(plugin_index(ctx, "test-overrides"), 0);
    ck_assert_int_eq(pactcl_context_refused_count(ctx), 2);
    ck_assert_ptr_nonnull(refusal_of(ctx, "pactcl-bad-init.so"));
    const char *why = refusal_of(ctx, "no-such-plugin.so");
    ck_assert_msg(why && strstr(why, "cannot be loaded"), "reason: %s", why ? why : "(none)");
    ck_assert_int_eq(pactcl_context_device_count(ctx), 2);
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:0"), 10), "add-high");
    pactcl_context_free(ctx);
}
END_TEST

/* A second plugin called "fake" (another file) is refused; the first stays. */
START_TEST(test_duplicate_name_refused)
{
    const char *const files[] = { TEST_DIR "/fake-copy.so" };
    pactcl_context *ctx = open_context(TEST_DIR, NULL, files, 1);
    const char *why = refusal_of(ctx, "fake-copy.so");
    ck_assert_msg(why != NULL, "fake-copy.so was not refused");
    ck_assert_msg(strstr(why, "'fake'") && strstr(why, TEST_DIR "/pactcl-fake.so"), "reason: %s",
                  why);
    ck_assert_int_eq(pactcl_context_device_count(ctx), 2);
    ck_assert_str_eq(pactcl_context_plugin_path(ctx, plugin_index(ctx, "fake")),
                     TEST_DIR "/pactcl-fake.so");
    pactcl_context_free(ctx);
}
END_TEST

/* ---- the example vendor plugin ------------------------------------------ */

static pactcl_context *open_cpu_and_example(const char *disable)
{
    char path[2048];
    snprintf(path, sizeof path, "%s:%s", CPU_DIR, EXAMPLE_DIR);
    pactcl_context *ctx = open_context(path, disable, NULL, 0);
    int i = plugin_index(ctx, "example");
    ck_assert_msg(i >= 0, "the example plugin was not loaded from %s", EXAMPLE_DIR);
    ck_assert_str_eq(pactcl_context_plugin_path(ctx, i), EXAMPLE_DIR "/pactcl-example.so");
    return ctx;
}

START_TEST(test_example_override_chosen)
{
    pactcl_context *ctx = open_cpu_and_example(NULL);
    pactcl_device *cpu = require_cpu(ctx);
    ck_assert_str_eq(check_hardswish(cpu), "example");
    /* Only hardswish_fwd: every other op stays with the backend. */
    ck_assert_str_eq(provider_of(cpu, PACTCL_OP_HARDSWISH_BWD), "cpu");
    ck_assert_str_eq(provider_of(cpu, PACTCL_OP_RELU_FWD), "cpu");
    ck_assert_str_eq(provider_of(cpu, PACTCL_OP_HARDSIGMOID_FWD), "cpu");
    ck_assert_str_eq(check_add(cpu, 17), "cpu");
    /* An override-only plugin adds no device. */
    ck_assert_int_eq(pactcl_context_device_count(ctx), 1);
    pactcl_context_free(ctx);
}
END_TEST

/* The example claims only devices of the "cpu" backend, even host-addressable ones. */
START_TEST(test_example_ignores_other_backends)
{
    const char *const files[] = { EXAMPLE_DIR "/pactcl-example.so" };
    pactcl_context *ctx = open_context(TEST_DIR, NULL, files, 1);
    ck_assert_int_ge(plugin_index(ctx, "example"), 0);
    ck_assert_ptr_null(provider_of(device_by_id(ctx, "fake:0"), PACTCL_OP_HARDSWISH_FWD));
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_disable_override_for_op)
{
    pactcl_context *ctx = open_cpu_and_example("hardswish_fwd");
    ck_assert_str_eq(check_hardswish(require_cpu(ctx)), "cpu");
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_disable_all_overrides)
{
    pactcl_context *ctx = open_cpu_and_example("all");
    ck_assert_str_eq(check_hardswish(require_cpu(ctx)), "cpu");
    pactcl_context_free(ctx);
}
END_TEST

/* Other ops in the list leave hardswish_fwd alone; an unknown name is warned
 * about and ignored rather than failing. */
START_TEST(test_disable_other_ops_keeps_override)
{
    pactcl_log_set_level(PACTCL_LOG_WARN);
    struct capture cap;
    capture_begin(&cap);
    pactcl_context *ctx = open_cpu_and_example("relu_fwd, no_such_op");
    char *log = capture_end(&cap);
    ck_assert_msg(strstr(log, "'no_such_op'"), "no warning about no_such_op:\n%s", log);
    free(log);
    ck_assert_str_eq(check_hardswish(require_cpu(ctx)), "example");
    pactcl_context_free(ctx);
}
END_TEST

/* PACTCL_LOG=debug shows the claim and, once per op, the choice. */
START_TEST(test_choice_visible_in_debug_log)
{
    pactcl_log_set_level(PACTCL_LOG_DEBUG);
    struct capture cap;
    capture_begin(&cap);
    pactcl_context *ctx = open_cpu_and_example(NULL);
    pactcl_device *cpu = require_cpu(ctx);
    check_hardswish(cpu);
    char *log = capture_end(&cap);
    ck_assert_msg(strstr(log, "override 'example' (priority 10) from " EXAMPLE_DIR
                              "/pactcl-example.so claims device cpu"),
                  "no claim line:\n%s", log);
    const char *choice = "op hardswish_fwd on cpu: override example\n";
    const char *first = strstr(log, choice);
    ck_assert_msg(first, "no choice line:\n%s", log);
    ck_assert_msg(!strstr(first + 1, choice), "choice logged more than once:\n%s", log);
    free(log);
    pactcl_context_free(ctx);

    capture_begin(&cap);
    ctx = open_cpu_and_example("hardswish_fwd");
    check_hardswish(require_cpu(ctx));
    log = capture_end(&cap);
    pactcl_log_set_level(PACTCL_LOG_WARN);
    ck_assert_msg(strstr(log, "op hardswish_fwd on cpu: backend cpu (overrides disabled)"),
                  "no fallback line:\n%s", log);
    free(log);
    pactcl_context_free(ctx);
}
END_TEST

/* ---- override priority (test-overrides.so over the fake backend) -------- */

static pactcl_context *open_fake_and_overrides(const char *disable)
{
    const char *const files[] = { TEST_DIR "/pactcl-fake.so", TEST_DIR "/test-overrides.so" };
    return open_context(NULL, disable, files, 2);
}

START_TEST(test_highest_priority_override_wins)
{
    pactcl_context *ctx = open_fake_and_overrides(NULL);
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:0"), 4), "add-high");
    pactcl_context_free(ctx);
}
END_TEST

/* add-high declines odd lengths: the next override gets the call. */
START_TEST(test_declined_call_falls_to_next_override)
{
    pactcl_context *ctx = open_fake_and_overrides(NULL);
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:0"), 5), "add-low");
    pactcl_context_free(ctx);
}
END_TEST

/* add-high claims fake:0 only. */
START_TEST(test_unclaimed_device_skips_override)
{
    pactcl_context *ctx = open_fake_and_overrides(NULL);
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:1"), 4), "add-low");
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_disabled_overrides_fall_back_to_backend)
{
    pactcl_context *ctx = open_fake_and_overrides("add");
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:0"), 4), "fake");
    ck_assert_str_eq(check_add(device_by_id(ctx, "fake:1"), 5), "fake");
    pactcl_context_free(ctx);
}
END_TEST

/* Neither the backend nor an override supports it: a status and a message. */
START_TEST(test_unsupported_op)
{
    pactcl_context *ctx = open_fake_and_overrides(NULL);
    pactcl_device *dev = device_by_id(ctx, "fake:0");
    struct pactcl_tensor *x = new_tensor(dev, 4, NULL), *y = new_tensor(dev, 4, NULL);
    struct pactcl_op_call call = unary_call(PACTCL_OP_RELU_FWD, x, y);
    ck_assert_ptr_null(pactcl_device_op_provider(dev, &call));
    ck_assert_int_eq(pactcl_op_run(dev, &call), PACTCL_EUNSUPPORTED);
    const char *msg = pactcl_last_error();
    ck_assert_msg(strstr(msg, "relu_fwd") && strstr(msg, "fake:0"), "message: %s", msg);
    pactcl_tensor_free(x);
    pactcl_tensor_free(y);
    pactcl_context_free(ctx);
}
END_TEST

/* ---- device selection --------------------------------------------------- */

static void expect_found(const pactcl_context *ctx, const char *spec, const char *id)
{
    pactcl_device *dev = NULL;
    int rc = pactcl_context_find_device(ctx, spec, &dev);
    ck_assert_msg(rc == PACTCL_OK, "--device '%s': %s", spec, pactcl_last_error());
    ck_assert_msg(dev && strcmp(pactcl_device_id(dev), id) == 0, "--device '%s' gave %s, not %s",
                  spec, dev ? pactcl_device_id(dev) : "NULL", id);
}

/* Fails with `status`, leaves *out NULL and names every string of `listed`. */
static void expect_refused(const pactcl_context *ctx, const char *spec, int status,
                           const char *const *listed, int n_listed)
{
    pactcl_device *dev = pactcl_context_device(ctx, 0);
    int rc = pactcl_context_find_device(ctx, spec, &dev);
    ck_assert_msg(rc == status, "--device '%s' returned %d (%s), expected %d", spec, rc,
                  pactcl_last_error(), status);
    ck_assert_ptr_null(dev);
    const char *msg = pactcl_last_error();
    for (int i = 0; i < n_listed; i++)
        ck_assert_msg(strstr(msg, listed[i]), "--device '%s': message lacks '%s': %s", spec,
                      listed[i], msg);
}

START_TEST(test_select_cpu)
{
    pactcl_context *ctx = open_context(CPU_DIR, NULL, NULL, 0);
    pactcl_device *cpu = require_cpu(ctx);
    expect_found(ctx, "cpu", "cpu");
    expect_found(ctx, "CPU", "cpu");
    /* A part of the driver's name, in another case. */
    const char *name = pactcl_device_name(cpu);
    size_t n = strlen(name);
    ck_assert_msg(n >= 3, "CPU device name '%s' is too short to test", name);
    char part[256];
    snprintf(part, sizeof part, "%.*s", (int)(n - 2 < sizeof part - 1 ? n - 2 : sizeof part - 1),
             name + 1);
    for (char *c = part; *c; c++)
        *c = (char)(islower((unsigned char)*c) ? toupper((unsigned char)*c)
                                               : tolower((unsigned char)*c));
    expect_found(ctx, part, "cpu");
    const char *choices[] = { "cpu (" };
    expect_refused(ctx, "gpu", PACTCL_ENOTFOUND, choices, 1);
    expect_refused(ctx, "nonexistent", PACTCL_ENOTFOUND, choices, 1);
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_select_by_name)
{
    const char *const files[] = { TEST_DIR "/pactcl-fake.so" };
    pactcl_context *ctx = open_context(NULL, NULL, files, 1);
    expect_found(ctx, "fake:1", "fake:1");
    expect_found(ctx, "FAKE DEVICE a", "fake:0");
    expect_found(ctx, "device b", "fake:1");
    expect_found(ctx, ":0", "fake:0");
    const char *both[] = { "fake:0 (Fake Device A)", "fake:1 (Fake Device B)" };
    expect_refused(ctx, "Fake Device", PACTCL_EAMBIGUOUS, both, 2);
    expect_refused(ctx, "fake", PACTCL_EAMBIGUOUS, both, 2);
    pactcl_context_free(ctx);
}
END_TEST

START_TEST(test_select_unknown_lists_choices)
{
    char path[2048];
    snprintf(path, sizeof path, "%s:%s", CPU_DIR, TEST_DIR);
    pactcl_context *ctx = open_context(path, NULL, NULL, 0);
    require_cpu(ctx);
    const char *all[] = { "cpu (", "fake:0 (Fake Device A)", "fake:1 (Fake Device B)" };
    expect_refused(ctx, "gpu", PACTCL_ENOTFOUND, all, 3);
    expect_refused(ctx, "nonexistent", PACTCL_ENOTFOUND, all, 3);
    expect_refused(ctx, "", PACTCL_ENOTFOUND, all, 3);
    expect_found(ctx, "Cpu", "cpu");
    pactcl_context_free(ctx);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *plugins_suite(void)
{
    Suite *s = suite_create("plugins");

    TCase *tc = tcase_create("refusals");
    tcase_add_test(tc, test_abi_mismatch_refused);
    tcase_add_test(tc, test_refusal_is_logged_with_file);
    tcase_add_test(tc, test_missing_symbol_refused);
    tcase_add_test(tc, test_failing_init_refused_with_its_message);
    tcase_add_test(tc, test_missing_slot_refused);
    tcase_add_test(tc, test_others_keep_working);
    suite_add_tcase(s, tc);

    tc = tcase_create("loading");
    tcase_add_test(tc, test_directory_scan_takes_pactcl_files_only);
    tcase_add_test(tc, test_explicit_plugin_files);
    tcase_add_test(tc, test_duplicate_name_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("example");
    tcase_add_test(tc, test_example_override_chosen);
    tcase_add_test(tc, test_example_ignores_other_backends);
    tcase_add_test(tc, test_disable_override_for_op);
    tcase_add_test(tc, test_disable_all_overrides);
    tcase_add_test(tc, test_disable_other_ops_keeps_override);
    tcase_add_test(tc, test_choice_visible_in_debug_log);
    suite_add_tcase(s, tc);

    tc = tcase_create("priority");
    tcase_add_test(tc, test_highest_priority_override_wins);
    tcase_add_test(tc, test_declined_call_falls_to_next_override);
    tcase_add_test(tc, test_unclaimed_device_skips_override);
    tcase_add_test(tc, test_disabled_overrides_fall_back_to_backend);
    tcase_add_test(tc, test_unsupported_op);
    suite_add_tcase(s, tc);

    tc = tcase_create("devices");
    tcase_add_test(tc, test_select_cpu);
    tcase_add_test(tc, test_select_by_name);
    tcase_add_test(tc, test_select_unknown_lists_choices);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugins_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
