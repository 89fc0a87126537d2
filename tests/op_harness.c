/*
 * op_harness.c: device handling, tensors, comparisons and gradient checks for
 * the op tests (see op_harness.h).
 */
#include "op_harness.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- devices ------------------------------------------------------------------ */

static pactcl_context *g_ctx;
static pid_t g_ctx_pid;
static pactcl_device *g_dev;
static char g_dev_id[TH_ID_LEN] = "?";

static int open_context(pactcl_context **out)
{
    /* Only the plugins of the build tree (PACTCL_PLUGIN_PATH), never an
     * installed copy that could hide a broken build. */
    struct pactcl_context_options opts = {0};
    opts.skip_installed_dir = 1;
    return pactcl_context_create(&opts, out);
}

static void free_context(void)
{
    if (g_ctx && g_ctx_pid == getpid())
        pactcl_context_free(g_ctx);
    g_ctx = NULL;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* The child's side of th_list_devices: count, then one id per device. */
static void report_devices(int fd, int max)
{
    pactcl_context *ctx;
    int rc = open_context(&ctx);
    if (rc != PACTCL_OK) {
        fprintf(stderr, "test_ops: cannot create a context: %s\n", pactcl_last_error());
        int n = -1;
        write_all(fd, &n, sizeof n);
        return;
    }
    for (int i = 0; i < pactcl_context_refused_count(ctx); i++)
        fprintf(stderr, "test_ops: plugin %s refused: %s\n", pactcl_context_refused_path(ctx, i),
                pactcl_context_refused_reason(ctx, i));
    for (int i = 0; i < pactcl_context_plugin_count(ctx); i++) {
        const char *status = pactcl_context_plugin_status(ctx, i);
        if (status && status[0]) /* e.g. "no OpenCL platform" */
            fprintf(stderr, "test_ops: plugin %s: %s\n", pactcl_context_plugin_name(ctx, i),
                    status);
    }
    int n = pactcl_context_device_count(ctx);
    if (n > max)
        n = max;
    write_all(fd, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        char id[TH_ID_LEN] = {0};
        pactcl_device *d = pactcl_context_device(ctx, i);
        snprintf(id, sizeof id, "%s", pactcl_device_id(d));
        write_all(fd, id, sizeof id);
        fprintf(stderr, "test_ops: device %d: %s (%s, %s)\n", i, id, pactcl_device_name(d),
                pactcl_device_backend(d));
    }
    pactcl_context_free(ctx);
}

int th_list_devices(char ids[][TH_ID_LEN], int max)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("test_ops: pipe");
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("test_ops: fork");
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        report_devices(fds[1], max);
        close(fds[1]);
        fflush(NULL);
        _exit(0);
    }
    close(fds[1]);
    int n = -1;
    if (read_all(fds[0], &n, sizeof n) != 0)
        n = -1;
    for (int i = 0; i < n; i++)
        if (read_all(fds[0], ids[i], TH_ID_LEN) != 0) {
            n = -1;
            break;
        }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n < 0)
        fprintf(stderr, "test_ops: device enumeration failed\n");
    return n;
}

/* ---- what a test owns ------------------------------------------------------------- */

static struct pactcl_tensor **g_tensors;
static size_t g_ntensors, g_captensors;
static void **g_blocks;
static size_t g_nblocks, g_capblocks;

static int g_failures;
static char g_first_failure[1024];
static char g_label[256];

static void own(void ***list, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        void **nl = realloc(*list, nc * sizeof *nl);
        ck_assert_msg(nl != NULL, "out of memory");
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = p;
}

static void release_all(void)
{
    /* Reverse order: views are freed before their base. */
    while (g_ntensors)
        pactcl_tensor_free(g_tensors[--g_ntensors]);
    while (g_nblocks)
        free(g_blocks[--g_nblocks]);
}

static void release_everything(void)
{
    release_all();
    free(g_tensors);
    free(g_blocks);
    g_tensors = NULL;
    g_blocks = NULL;
    g_captensors = g_capblocks = 0;
    free_context();
}

pactcl_device *th_begin(int index)
{
    /* A previous test that aborted (no-fork mode) leaves its objects here. */
    release_all();
    g_failures = 0;
    g_first_failure[0] = '\0';
    g_label[0] = '\0';
    if (g_ctx && g_ctx_pid != getpid())
        g_ctx = NULL; /* inherited over fork(): not ours to use or free */
    if (!g_ctx) {
        int rc = open_context(&g_ctx);
        ck_assert_msg(rc == PACTCL_OK, "cannot create a context: %s", pactcl_last_error());
        g_ctx_pid = getpid();
        static int registered;
        if (!registered) {
            atexit(release_everything);
            registered = 1;
        }
    }
    ck_assert_msg(index < pactcl_context_device_count(g_ctx), "device %d disappeared", index);
    g_dev = pactcl_context_device(g_ctx, index);
    snprintf(g_dev_id, sizeof g_dev_id, "%s", pactcl_device_id(g_dev));
    return g_dev;
}

void th_end(void)
{
    int rc = pactcl_device_sync(g_dev);
    ck_assert_msg(rc == PACTCL_OK, "[%s] device sync: %s", g_dev_id, pactcl_last_error());
    release_all();
    ck_assert_msg(g_failures == 0, "[%s] %d check(s) failed; first: %s", g_dev_id, g_failures,
                  g_first_failure);
}

pactcl_device *th_dev(void)
{
    return g_dev;
}

const char *th_dev_id(void)
{
    return g_dev_id;
}

int th_failures(void)
{
    return g_failures;
}

/* ---- random numbers --------------------------------------------------------------- */

void th_rng_seed(struct th_rng *r, uint64_t seed)
{
    r->s = seed * 0x9e3779b97f4a7c15ULL + 1;
}

uint32_t th_rng_u32(struct th_rng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 32);
}

float th_rng_uniform(struct th_rng *r, float lo, float hi)
{
    double u = (th_rng_u32(r) >> 8) * (1.0 / 16777216.0);
    return (float)(lo + (hi - lo) * u);
}

void th_fill(struct th_rng *r, float *a, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = th_rng_uniform(r, lo, hi);
}

/* ---- host memory -------------------------------------------------------------------- */

void *th_alloc(size_t bytes)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    ck_assert_msg(p != NULL, "out of memory (%zu bytes)", bytes);
    own(&g_blocks, &g_nblocks, &g_capblocks, p);
    return p;
}

float *th_floats(size_t n)
{
    return th_alloc(n * sizeof(float));
}

double *th_doubles(size_t n)
{
    return th_alloc(n * sizeof(double));
}

float *th_to_float(const double *src, size_t n)
{
    float *f = th_floats(n);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)src[i];
    return f;
}

double *th_to_double(const float *src, size_t n)
{
    double *d = th_doubles(n);
    for (size_t i = 0; i < n; i++)
        d[i] = src[i];
    return d;
}

/* ---- tensors -------------------------------------------------------------------------- */

size_t th_numel(struct th_shape s)
{
    size_t n = 1;
    for (int i = 0; i < s.ndim; i++)
        n *= (size_t)s.d[i];
    return n;
}

struct pactcl_tensor *th_tensor(enum pactcl_dtype dtype, struct th_shape s, const void *host)
{
    struct pactcl_tensor *t = NULL;
    int rc = pactcl_tensor_create(g_dev, dtype, s.ndim, s.d, &t);
    ck_assert_msg(rc == PACTCL_OK, "[%s] tensor_create: %s", g_dev_id, pactcl_last_error());
    own((void ***)&g_tensors, &g_ntensors, &g_captensors, t);
    if (host)
        th_write(t, host);
    return t;
}

struct pactcl_tensor *th_f32(struct th_shape s, const float *host)
{
    return th_tensor(PACTCL_F32, s, host);
}

void th_write(struct pactcl_tensor *t, const void *host)
{
    int rc = pactcl_tensor_write(t, host, pactcl_tensor_bytes(t));
    ck_assert_msg(rc == PACTCL_OK, "[%s] tensor_write: %s", g_dev_id, pactcl_last_error());
}

void th_read(const struct pactcl_tensor *t, void *host)
{
    int rc = pactcl_tensor_read(t, host, pactcl_tensor_bytes(t));
    ck_assert_msg(rc == PACTCL_OK, "[%s] tensor_read: %s", g_dev_id, pactcl_last_error());
}

float *th_read_f32(const struct pactcl_tensor *t)
{
    float *h = th_floats((size_t)pactcl_tensor_numel(t));
    th_read(t, h);
    return h;
}

/* ---- running ops ------------------------------------------------------------------------ */

struct pactcl_op_call th_call(enum pactcl_op op)
{
    struct pactcl_op_call c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.nargs = pactcl_op_nargs(op);
    return c;
}

void th_run(struct pactcl_op_call *call)
{
    int rc = pactcl_op_run(g_dev, call);
    ck_assert_msg(rc == PACTCL_OK, "[%s] %s%s%s failed (%d): %s", g_dev_id,
                  pactcl_op_name(call->op), g_label[0] ? " / " : "", g_label, rc,
                  pactcl_last_error());
}

void th_expect_reject(struct pactcl_op_call *call, const char *why)
{
    int rc = pactcl_op_run(g_dev, call);
    const char *msg = pactcl_last_error();
    if (rc >= 0)
        th_fail("%s: accepted (status %d), expected a negative status", why, rc);
    else if (!msg || !msg[0])
        th_fail("%s: status %d but pactcl_last_error() is empty", why, rc);
}

/* ---- comparisons ----------------------------------------------------------------------------- */

void th_label(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_label, sizeof g_label, fmt, ap);
    va_end(ap);
}

static void record_failure(const char *msg)
{
    fprintf(stderr, "FAIL [%s] %s%s%s\n", g_dev_id, g_label, g_label[0] ? ": " : "", msg);
    if (g_failures++ == 0)
        snprintf(g_first_failure, sizeof g_first_failure, "%s%s%s", g_label, g_label[0] ? ": " : "",
                 msg);
}

void th_fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    record_failure(msg);
}

int th_close(const char *what, const float *got, const double *want, size_t n, double rtol,
             double atol)
{
    size_t bad = 0, worst = 0;
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double tol = atol + rtol * fabs(want[i]);
        /* A non-finite result is always wrong (NaN would compare false). */
        double err = isfinite(got[i]) ? fabs((double)got[i] - want[i]) : INFINITY;
        if (err > tol)
            bad++;
        if (err - tol > worst_excess) {
            worst_excess = err - tol;
            worst = i;
        }
    }
    if (!bad)
        return 1;
    th_fail("%s: %zu of %zu elements out of tolerance (rtol %.0e, atol %.0e); worst [%zu] got "
            "%.9g want %.9g",
            what, bad, n, rtol, atol, worst, (double)got[worst], want[worst]);
    return 0;
}

double th_sum_atol(size_t nterms)
{
    double a = 1e-5 * sqrt((double)nterms / 16.0);
    return a > 1e-5 ? a : 1e-5;
}

int th_close1(const char *what, double got, double want, double rtol, double atol)
{
    double err = fabs(got - want);
    if (isfinite(got) && err <= atol + rtol * fabs(want))
        return 1;
    th_fail("%s: got %.9g want %.9g (rtol %.0e, atol %.0e)", what, got, want, rtol, atol);
    return 0;
}

int th_equal_u8(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i] && bad++ == 0)
            first = i;
    if (!bad)
        return 1;
    th_fail("%s: %zu of %zu differ; first [%zu] got %u want %u", what, bad, n, first, got[first],
            want[first]);
    return 0;
}

int th_close_quant(const char *what, const float *got, const double *want, const uint8_t *tie,
                   const double *step, size_t n, double rtol)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double tol = rtol * fabs(want[i]) + 1e-30;
        int ok = isfinite(got[i]) && err <= tol;
        if (!ok && tie && tie[i])
            ok = fabs(err - step[i]) <= rtol * fabs(step[i]) + tol;
        if (!ok && bad++ == 0)
            first = i;
    }
    if (!bad)
        return 1;
    th_fail("%s: %zu of %zu differ; first [%zu] got %.9g want %.9g", what, bad, n, first,
            (double)got[first], want[first]);
    return 0;
}

/* ---- gradient checks --------------------------------------------------------------------------
 */

double th_dot(const float *g, const float *y, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += (double)g[i] * y[i];
    return acc;
}

void th_gradcheck(const char *what, th_loss_fn loss, void *ctx, float *param, size_t n,
                  const float *grad, int max_samples, float h, double rtol, double atol_frac)
{
    double gmax = 0.0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs((double)grad[i]));
    const double atol = atol_frac * gmax;

    size_t count = n <= (size_t)max_samples ? n : (size_t)max_samples;
    struct th_rng r;
    th_rng_seed(&r, n * 31 + 7);
    size_t bad = 0;
    for (size_t k = 0; k < count; k++) {
        size_t i;
        if (count == n)
            i = k;
        else if (k == 0)
            i = 0;
        else if (k == 1)
            i = n - 1;
        else
            i = th_rng_u32(&r) % n;
        const float orig = param[i];
        const float up = orig + h, down = orig - h;
        param[i] = up;
        double lp = loss(ctx);
        param[i] = down;
        double lm = loss(ctx);
        param[i] = orig;
        double num = (lp - lm) / ((double)up - (double)down);
        double ana = grad[i];
        double err = fabs(num - ana);
        if (!(err <= rtol * fmax(fabs(num), fabs(ana)) + atol)) {
            if (bad++ < 3)
                th_fail("%s: gradient [%zu] backward %.7g, central difference %.7g (h %g, rtol "
                        "%.0e, atol %.2g)",
                        what, i, ana, num, (double)h, rtol, atol);
        }
    }
    /* Leave the device input as it was found. */
    loss(ctx);
    if (bad > 3)
        th_fail("%s: %zu of %zu sampled gradients out of tolerance", what, bad, count);
}
