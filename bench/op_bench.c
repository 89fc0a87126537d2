/*
 * op_bench.c: the OPS workload of shared/BENCH.md, i.e. the throughput of each
 * heavy op of MobileNetV3-small training (224x224, batch 64 by default) on
 * every device pactcl finds, or on the one named with --device.
 *
 * Every op runs on the real shapes of one layer (SEED-SPEC §1.2).  Warm-up
 * iterations are not timed.  Each timed iteration ends with a device sync, so
 * devices that queue work (OpenCL) are measured to completion.  Throughput is
 * computed from the median time:
 *  - GFLOP/s (2 x MACs) and the % of the fp32 peak for conv and linear ops;
 *  - GB/s of compulsory traffic for every op: each argument read or written
 *    once, in/out arguments counted twice.
 * A number only means something as a ratio to a peer measured in the same run
 * on the same machine, so no test asserts on them.
 *
 * A failing op (unsupported, out of memory, ...) prints pactcl_last_error() in
 * its row; the other ops still run.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, getline */
#include "pactcl.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"

const char *bench_prog = "op_bench";

/* ---- the workload --------------------------------------------------------- */

/* A layer of MobileNetV3-small at 224x224; fN is torchvision's features.N. */
struct layer {
    const char *name;
    int in_c, out_c; /* equal for depthwise convs and activation tensors */
    int hw;          /* input height = width; 0 for the classifier (2-D features) */
    int k, stride;   /* kernel size with padding k/2; 0 when not a conv */
};

static const struct layer stem = { "stem", 3, 16, 224, 3, 2 };
static const struct layer f2_expand = { "f2.expand", 16, 72, 56, 1, 1 };
static const struct layer f5_expand = { "f5.expand", 40, 240, 14, 1, 1 };
static const struct layer f10_project = { "f10.project", 576, 96, 7, 1, 1 };
static const struct layer f2_dw = { "f2.dw", 72, 72, 56, 3, 2 };
static const struct layer f3_dw = { "f3.dw", 88, 88, 28, 3, 1 };
static const struct layer f4_dw = { "f4.dw", 96, 96, 28, 5, 2 };
static const struct layer f5_dw = { "f5.dw", 240, 240, 14, 5, 1 };
/* Activations: the stem output (the largest hardswish input), the f2 expand
 * output (the largest BN and the largest quantized-conv input) and the
 * 576-channel f10 expand output (many channels, few pixels). */
static const struct layer stem_out = { "stem.out", 16, 16, 112, 0, 0 };
static const struct layer f2_expand_out = { "f2.expand.out", 72, 72, 56, 0, 0 };
static const struct layer f10_expand_out = { "f10.expand.out", 576, 576, 7, 0, 0 };
static const struct layer classifier0 = { "classifier.0", 576, 1024, 0, 0, 0 };

struct bench_case {
    enum pactcl_op op;
    const struct layer *layer;
};

/* The stem has no conv2d_bwd_data: training never needs the image gradient. */
static const struct bench_case cases[] = {
    { PACTCL_OP_CONV2D_FWD, &stem },
    { PACTCL_OP_CONV2D_BWD_FILTER, &stem },
    { PACTCL_OP_CONV2D_FWD, &f2_expand },
    { PACTCL_OP_CONV2D_BWD_DATA, &f2_expand },
    { PACTCL_OP_CONV2D_BWD_FILTER, &f2_expand },
    { PACTCL_OP_CONV2D_FWD, &f5_expand },
    { PACTCL_OP_CONV2D_BWD_DATA, &f5_expand },
    { PACTCL_OP_CONV2D_BWD_FILTER, &f5_expand },
    { PACTCL_OP_CONV2D_FWD, &f10_project },
    { PACTCL_OP_CONV2D_BWD_DATA, &f10_project },
    { PACTCL_OP_CONV2D_BWD_FILTER, &f10_project },
    { PACTCL_OP_DWCONV_FWD, &f2_dw },
    { PACTCL_OP_DWCONV_BWD_DATA, &f2_dw },
    { PACTCL_OP_DWCONV_BWD_FILTER, &f2_dw },
    { PACTCL_OP_DWCONV_FWD, &f3_dw },
    { PACTCL_OP_DWCONV_BWD_DATA, &f3_dw },
    { PACTCL_OP_DWCONV_BWD_FILTER, &f3_dw },
    { PACTCL_OP_DWCONV_FWD, &f4_dw },
    { PACTCL_OP_DWCONV_BWD_DATA, &f4_dw },
    { PACTCL_OP_DWCONV_BWD_FILTER, &f4_dw },
    { PACTCL_OP_DWCONV_FWD, &f5_dw },
    { PACTCL_OP_DWCONV_BWD_DATA, &f5_dw },
    { PACTCL_OP_DWCONV_BWD_FILTER, &f5_dw },
    { PACTCL_OP_BN_FWD_TRAIN, &f2_expand_out },
    { PACTCL_OP_BN_BWD, &f2_expand_out },
    { PACTCL_OP_BN_FWD_TRAIN, &f10_expand_out },
    { PACTCL_OP_BN_BWD, &f10_expand_out },
    { PACTCL_OP_HARDSWISH_FWD, &stem_out },
    { PACTCL_OP_HARDSWISH_BWD, &stem_out },
    { PACTCL_OP_PACT_FWD, &f2_expand_out },
    { PACTCL_OP_PACT_BWD, &f2_expand_out },
    { PACTCL_OP_FQ_MOVING_AVG_FWD, &f2_expand_out },
    { PACTCL_OP_FQ_CHANNEL_FWD, &f10_project },
    { PACTCL_OP_FQ_CHANNEL_FWD, &classifier0 },
    { PACTCL_OP_LINEAR_FWD, &classifier0 },
    { PACTCL_OP_LINEAR_BWD_DATA, &classifier0 },
    { PACTCL_OP_LINEAR_BWD_WEIGHT, &classifier0 },
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- options -------------------------------------------------------------- */

struct options {
    const char *device;
    long iters, warmup, batch;
    double peak_gflops; /* 0: estimate */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: op_bench [--device X] [--iters N] [--warmup N] [--batch N] [--peak-gflops X]\n"
            "Times the heavy ops of MobileNetV3-small training on every device found.\n"
            "  --device X       only this device (cpu, opencl:P:D, gpu, or part of a name)\n"
            "  --iters N        timed iterations per op, 1..100000 (default 10)\n"
            "  --warmup N       untimed iterations before them, 0..100000 (default 3)\n"
            "  --batch N        batch size, 1..4096 (default 64)\n"
            "  --peak-gflops X  fp32 peak used for %%peak instead of the estimate\n"
            "Plugins come from PACTCL_PLUGIN_PATH alone when it is set.\n");
}

/* Returns -1 to go on, else the exit status (0 after --help, 2 on a bad flag). */
static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        /* Both "--flag value" and "--flag=value". */
        static const char *const flags[] = { "--device", "--iters", "--warmup", "--batch",
                                             "--peak-gflops" };
        const char *val = NULL;
        int which = bench_match_flag(flags, 5, argc, argv, &i, &val);
        if (which == -2)
            return 2;
        int rc = 0;
        switch (which) {
        case 0:
            if (!*val)
                return bench_bad_value("--device", val, "a device name");
            o->device = val;
            break;
        case 1:
            rc = bench_parse_long("--iters", val, 1, 100000, &o->iters);
            break;
        case 2:
            rc = bench_parse_long("--warmup", val, 0, 100000, &o->warmup);
            break;
        case 3:
            rc = bench_parse_long("--batch", val, 1, 4096, &o->batch);
            break;
        case 4: {
            char *end;
            errno = 0;
            o->peak_gflops = strtod(val, &end);
            if (errno || end == val || *end || !isfinite(o->peak_gflops) || o->peak_gflops <= 0)
                return bench_bad_value("--peak-gflops", val, "a positive number of GFLOP/s");
            break;
        }
        default:
            fprintf(stderr, "op_bench: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
        if (rc)
            return rc;
    }
    return -1;
}

/* ---- the host: threads and the fp32 peak ---------------------------------- */

static int available_cpus(cpu_set_t *set)
{
    CPU_ZERO(set);
    if (sched_getaffinity(0, sizeof *set, set) == 0 && CPU_COUNT(set) > 0)
        return CPU_COUNT(set);
    /* No affinity information: treat every online CPU as ours. */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 0; i < n && i < CPU_SETSIZE; i++)
        CPU_SET((int)i, set);
    return n > 0 ? (int)n : 1;
}

/* The value of "key<tabs>: value" in a /proc/cpuinfo line, or NULL. */
static const char *cpuinfo_field(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return NULL;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != ':')
        return NULL;
    line++;
    while (*line == ' ')
        line++;
    return line;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

struct host_info {
    char model[128];
    int cpus;    /* logical CPUs this process may run on */
    int threads; /* OMP_NUM_THREADS, else cpus */
    int threads_from_env;
    char loadavg[32]; /* 1-minute load: other work on a shared machine skews timings */
    double peak;      /* GFLOP/s, 0 when unknown */
    char peak_how[384];
};

/* Distinct (package, core) pairs: SMT siblings share their FMA pipes. */
struct core_ids {
    int n;
    long ids[1024];
};

static void add_core(struct core_ids *c, const cpu_set_t *set, long proc, long pkg, long core)
{
    if (proc < 0 || core < 0 || proc >= CPU_SETSIZE || !CPU_ISSET((int)proc, set))
        return;
    long id = pkg * 65536 + core;
    for (int i = 0; i < c->n; i++)
        if (c->ids[i] == id)
            return;
    if (c->n < (int)(sizeof c->ids / sizeof c->ids[0]))
        c->ids[c->n++] = id;
}

static double read_sysfs_max_mhz(void)
{
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    double khz = 0;
    if (f) {
        if (fscanf(f, "%lf", &khz) != 1)
            khz = 0;
        fclose(f);
    }
    return khz / 1000.0;
}

/* peak = cores x 2 FMA pipes x lanes x 2 flop x clock, as BENCH.md defines it. */
static void probe_host(struct host_info *h)
{
    cpu_set_t set;
    h->cpus = available_cpus(&set);
    const char *omp = getenv("OMP_NUM_THREADS");
    /* OMP_NUM_THREADS may be a nesting list ("4,2"): the first level counts. */
    long t = omp ? strtol(omp, NULL, 10) : 0;
    h->threads_from_env = t > 0;
    h->threads = t > 0 ? (int)t : h->cpus;
    snprintf(h->model, sizeof h->model, "unknown CPU");
    snprintf(h->loadavg, sizeof h->loadavg, "unknown");
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        double load;
        if (fscanf(la, "%lf", &load) == 1)
            snprintf(h->loadavg, sizeof h->loadavg, "%.2f", load);
        fclose(la);
    }

    struct core_ids cores = { 0 };
    double mhz = 0;
    int avx512 = 0, avx2 = 0, fma = 0, seen_flags = 0, amd = 0;
    long family = -1, proc = -1, pkg = 0, core = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        const char *v;
        if ((v = cpuinfo_field(line, "processor"))) {
            add_core(&cores, &set, proc, pkg, core);
            proc = strtol(v, NULL, 10), pkg = 0, core = -1;
        } else if ((v = cpuinfo_field(line, "physical id"))) {
            pkg = strtol(v, NULL, 10);
        } else if ((v = cpuinfo_field(line, "core id"))) {
            core = strtol(v, NULL, 10);
        } else if ((v = cpuinfo_field(line, "cpu MHz"))) {
            mhz = fmax(mhz, strtod(v, NULL));
        } else if ((v = cpuinfo_field(line, "model name")) &&
                   strcmp(h->model, "unknown CPU") == 0) {
            snprintf(h->model, sizeof h->model, "%.*s", (int)strcspn(v, "\n"), v);
        } else if ((v = cpuinfo_field(line, "vendor_id"))) {
            amd = strncmp(v, "AuthenticAMD", 12) == 0;
        } else if ((v = cpuinfo_field(line, "cpu family")) && family < 0) {
            family = strtol(v, NULL, 10);
        } else if ((v = cpuinfo_field(line, "flags")) && !seen_flags) {
            seen_flags = 1;
            avx512 = has_word(v, "avx512f");
            avx2 = has_word(v, "avx2");
            fma = has_word(v, "fma");
        }
    }
    add_core(&cores, &set, proc, pkg, core);
    free(line);
    if (f)
        fclose(f);

    int n_cores = cores.n > 0 ? cores.n : h->cpus;
    const char *cores_how = cores.n > 0 ? "physical cores" : "CPUs (no core ids in /proc/cpuinfo)";
    int lanes;
    const char *lanes_how;
    if (avx512 && amd && family == 25) {
        /* Zen 4 (family 19h) splits each 512-bit op over its two 256-bit pipes. */
        lanes = 8, lanes_how = "AVX-512 on Zen 4, issued as 2x256-bit";
    } else if (avx512) {
        lanes = 16, lanes_how = "AVX-512";
    } else if (avx2 && fma) {
        lanes = 8, lanes_how = "AVX2";
    } else {
        lanes = 4, lanes_how = "no AVX2: 128-bit SIMD assumed";
    }
    double sys_mhz = read_sysfs_max_mhz();
    const char *clock_how =
        sys_mhz >= mhz ? "cpuinfo_max_freq" : "max \"cpu MHz\" in /proc/cpuinfo";
    mhz = fmax(mhz, sys_mhz);
    if (mhz <= 0) {
        h->peak = 0;
        snprintf(h->peak_how, sizeof h->peak_how, "unknown (no clock in /proc/cpuinfo or cpufreq)");
        return;
    }
    h->peak = n_cores * 2.0 * lanes * 2.0 * mhz / 1000.0;
    snprintf(h->peak_how, sizeof h->peak_how,
             "%.1f GFLOP/s = %d %s x 2 FMA pipes x %d lanes (%s) x 2 flop x %.3f GHz (%s)",
             h->peak, n_cores, cores_how, lanes, lanes_how, mhz / 1000.0, clock_how);
}

/* ---- building one op call ------------------------------------------------- */

struct run {
    struct pactcl_op_call call;
    double flops; /* 0 for the memory-bound ops */
    double bytes;
    char kernel[16], x[40], y[40];
};

/* Reset for every op, so each device and run sees the same data. */
static uint64_t rng_state;

static float uniform(float lo, float hi)
{
    /* xorshift64*: cheap, and good enough for benchmark data. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545f4914f6cdd1du;
    return lo + (hi - lo) * (float)(r >> 40) * (1.0f / 16777216.0f);
}

/* Creates argument `slot` filled uniformly in [lo, hi); outputs pass lo = hi = 0
 * and keep the zeros pactcl_tensor_create gives them. */
static int add_arg(struct run *r, pactcl_device *dev, int slot, int ndim, const int64_t *dims,
                   float lo, float hi)
{
    struct pactcl_tensor *t;
    int rc = pactcl_tensor_create(dev, PACTCL_F32, ndim, dims, &t);
    if (rc != PACTCL_OK)
        return rc;
    r->call.args[slot] = t;
    if (lo == 0.0f && hi == 0.0f)
        return PACTCL_OK;
    size_t n = (size_t)pactcl_tensor_numel(t);
    float *host = malloc(n * sizeof *host);
    if (!host) {
        fprintf(stderr, "op_bench: out of host memory for %zu floats\n", n);
        return PACTCL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        host[i] = uniform(lo, hi);
    rc = pactcl_tensor_write(t, host, n * sizeof *host);
    free(host);
    return rc;
}

static void free_args(struct run *r)
{
    for (int i = 0; i < PACTCL_MAX_OP_ARGS; i++) {
        pactcl_tensor_free(r->call.args[i]);
        r->call.args[i] = NULL;
    }
}

static void shape_str(char *buf, size_t len, int ndim, const int64_t *d)
{
    size_t u = 0;
    for (int i = 0; i < ndim && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", i ? "x" : "", (long long)d[i]);
}

#define TRY(x)                    \
    do {                          \
        int rc_ = (x);            \
        if (rc_ != PACTCL_OK)     \
            return rc_;           \
    } while (0)

/* Inputs in [-1, 1]; weights too, which only matters for speed through denormals. */
static int setup_conv(struct run *r, pactcl_device *dev, const struct layer *l, int64_t n)
{
    const enum pactcl_op op = r->call.op;
    const int dw = op == PACTCL_OP_DWCONV_FWD || op == PACTCL_OP_DWCONV_BWD_DATA ||
                   op == PACTCL_OP_DWCONV_BWD_FILTER;
    const int pad = l->k / 2;
    const int64_t p = (l->hw + 2 * pad - l->k) / l->stride + 1;
    const int64_t x[4] = { n, l->in_c, l->hw, l->hw };
    const int64_t y[4] = { n, l->out_c, p, p };
    const int64_t w[4] = { l->out_c, dw ? 1 : l->in_c, l->k, l->k };
    r->call.params.conv = (struct pactcl_conv_params){ l->stride, l->stride, pad, pad };
    r->flops = 2.0 * (double)n * l->out_c * (dw ? 1 : l->in_c) * l->k * l->k * (double)(p * p);
    snprintf(r->kernel, sizeof r->kernel, "%dx%ds%d", l->k, l->k, l->stride);
    shape_str(r->x, sizeof r->x, 4, x);
    shape_str(r->y, sizeof r->y, 4, y);
    /* MobileNetV3 convs have no bias (BN follows), so b and db stay NULL. */
    switch (op) {
    case PACTCL_OP_CONV2D_FWD:
    case PACTCL_OP_DWCONV_FWD:
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 4, w, -1, 1));
        TRY(add_arg(r, dev, 3, 4, y, 0, 0));
        break;
    case PACTCL_OP_CONV2D_BWD_DATA:
    case PACTCL_OP_DWCONV_BWD_DATA:
        TRY(add_arg(r, dev, 0, 4, y, -1, 1));
        TRY(add_arg(r, dev, 1, 4, w, -1, 1));
        TRY(add_arg(r, dev, 2, 4, x, 0, 0));
        break;
    default: /* the bwd_filter ops */
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 4, y, -1, 1));
        TRY(add_arg(r, dev, 2, 4, w, 0, 0));
        break;
    }
    return PACTCL_OK;
}

static int setup_linear(struct run *r, pactcl_device *dev, const struct layer *l, int64_t n)
{
    const int64_t x[2] = { n, l->in_c }, y[2] = { n, l->out_c };
    const int64_t w[2] = { l->in_c, l->out_c }, b[1] = { l->out_c };
    r->flops = 2.0 * (double)n * l->in_c * l->out_c;
    snprintf(r->kernel, sizeof r->kernel, "-");
    shape_str(r->x, sizeof r->x, 2, x);
    shape_str(r->y, sizeof r->y, 2, y);
    switch (r->call.op) {
    case PACTCL_OP_LINEAR_FWD:
        TRY(add_arg(r, dev, 0, 2, x, -1, 1));
        TRY(add_arg(r, dev, 1, 2, w, -1, 1));
        TRY(add_arg(r, dev, 2, 1, b, -1, 1));
        TRY(add_arg(r, dev, 3, 2, y, 0, 0));
        break;
    case PACTCL_OP_LINEAR_BWD_DATA:
        TRY(add_arg(r, dev, 0, 2, y, -1, 1));
        TRY(add_arg(r, dev, 1, 2, w, -1, 1));
        TRY(add_arg(r, dev, 2, 2, x, 0, 0));
        break;
    default: /* LINEAR_BWD_WEIGHT, with the bias gradient the classifier needs */
        TRY(add_arg(r, dev, 0, 2, x, -1, 1));
        TRY(add_arg(r, dev, 1, 2, y, -1, 1));
        TRY(add_arg(r, dev, 2, 2, w, 0, 0));
        TRY(add_arg(r, dev, 3, 1, b, 0, 0));
        break;
    }
    return PACTCL_OK;
}

/* Per-channel weight quantization: a conv weight [K,C,R,S] along axis 0, the
 * classifier's [in,out] along axis 1. */
static int setup_fq_channel(struct run *r, pactcl_device *dev, const struct layer *l)
{
    const int conv = l->hw > 0;
    int64_t w[4] = { l->in_c, l->out_c, 0, 0 };
    if (conv) {
        w[0] = l->out_c, w[1] = l->in_c, w[2] = l->k, w[3] = l->k;
    }
    const int ndim = conv ? 4 : 2, axis = conv ? 0 : 1;
    const int64_t s[1] = { w[axis] };
    r->call.params.fake_quant = (struct pactcl_fake_quant_params){ .bits = 8, .axis = axis };
    snprintf(r->kernel, sizeof r->kernel, "axis%d", axis);
    shape_str(r->x, sizeof r->x, ndim, w);
    shape_str(r->y, sizeof r->y, ndim, w);
    TRY(add_arg(r, dev, 0, ndim, w, -1, 1));
    TRY(add_arg(r, dev, 1, ndim, w, 0, 0));
    return add_arg(r, dev, 2, 1, s, 0, 0);
}

/* BN, activations and activation quantizers on one NCHW tensor. */
static int setup_activation(struct run *r, pactcl_device *dev, const struct layer *l, int64_t n)
{
    const int64_t x[4] = { n, l->in_c, l->hw, l->hw }, c[1] = { l->in_c }, one[1] = { 1 };
    snprintf(r->kernel, sizeof r->kernel, "-");
    shape_str(r->x, sizeof r->x, 4, x);
    shape_str(r->y, sizeof r->y, 4, x);
    switch (r->call.op) {
    case PACTCL_OP_BN_FWD_TRAIN:
        r->call.params.bn = (struct pactcl_bn_params){ 1e-3f, 0.01f };
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 1, c, 0.5f, 1.5f)); /* gamma */
        TRY(add_arg(r, dev, 2, 1, c, -1, 1));      /* beta */
        TRY(add_arg(r, dev, 3, 1, c, -1, 1));      /* running mean */
        TRY(add_arg(r, dev, 4, 1, c, 0.5f, 1.5f)); /* running var */
        TRY(add_arg(r, dev, 5, 4, x, 0, 0));
        TRY(add_arg(r, dev, 6, 1, c, 0, 0));
        TRY(add_arg(r, dev, 7, 1, c, 0, 0));
        break;
    case PACTCL_OP_BN_BWD:
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 4, x, -1, 1));       /* dy */
        TRY(add_arg(r, dev, 2, 1, c, 0.5f, 1.5f));  /* gamma */
        TRY(add_arg(r, dev, 3, 1, c, -0.1f, 0.1f)); /* saved mean */
        TRY(add_arg(r, dev, 4, 1, c, 0.5f, 2.0f));  /* saved invstd */
        TRY(add_arg(r, dev, 5, 4, x, 0, 0));
        TRY(add_arg(r, dev, 6, 1, c, 0, 0));
        TRY(add_arg(r, dev, 7, 1, c, 0, 0));
        break;
    /* Hardswish inputs span all three pieces of the function (x < -3, |x| < 3, x > 3). */
    case PACTCL_OP_HARDSWISH_FWD:
        TRY(add_arg(r, dev, 0, 4, x, -4, 4));
        TRY(add_arg(r, dev, 1, 4, x, 0, 0));
        break;
    case PACTCL_OP_HARDSWISH_BWD:
        TRY(add_arg(r, dev, 0, 4, x, -4, 4));
        TRY(add_arg(r, dev, 1, 4, x, -1, 1));
        TRY(add_arg(r, dev, 2, 4, x, 0, 0));
        break;
    /* alpha = 0.5 inside the data range, so both clipped and passed values occur. */
    case PACTCL_OP_PACT_FWD:
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 1, one, 0.5f, 0.5f));
        TRY(add_arg(r, dev, 2, 4, x, 0, 0));
        break;
    case PACTCL_OP_PACT_BWD:
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        TRY(add_arg(r, dev, 1, 1, one, 0.5f, 0.5f));
        TRY(add_arg(r, dev, 2, 4, x, -1, 1));
        TRY(add_arg(r, dev, 3, 4, x, 0, 0));
        TRY(add_arg(r, dev, 4, 1, one, 0, 0));
        break;
    default: /* FQ_MOVING_AVG_FWD in training mode: the state updates every call */
        r->call.params.fake_quant =
            (struct pactcl_fake_quant_params){ .bits = 8, .moving_rate = 0.9f, .is_test = 0 };
        TRY(add_arg(r, dev, 0, 4, x, -1, 1));
        for (int i = 1; i <= 3; i++)
            TRY(add_arg(r, dev, i, 1, one, 1, 1));
        TRY(add_arg(r, dev, 4, 4, x, 0, 0));
        break;
    }
    return PACTCL_OK;
}

/* Whether argument `slot` is read and then written (it moves twice). */
static int is_inout(enum pactcl_op op, int slot)
{
    if (op == PACTCL_OP_BN_FWD_TRAIN)
        return slot == 3 || slot == 4;
    if (op == PACTCL_OP_FQ_MOVING_AVG_FWD)
        return slot >= 1 && slot <= 3;
    return 0;
}

static int setup(struct run *r, pactcl_device *dev, const struct bench_case *c, int64_t n)
{
    memset(r, 0, sizeof *r);
    rng_state = 0x9e3779b97f4a7c15u;
    r->call.op = c->op;
    r->call.nargs = pactcl_op_nargs(c->op);
    int rc;
    switch (c->op) {
    case PACTCL_OP_CONV2D_FWD:
    case PACTCL_OP_CONV2D_BWD_DATA:
    case PACTCL_OP_CONV2D_BWD_FILTER:
    case PACTCL_OP_DWCONV_FWD:
    case PACTCL_OP_DWCONV_BWD_DATA:
    case PACTCL_OP_DWCONV_BWD_FILTER:
        rc = setup_conv(r, dev, c->layer, n);
        break;
    case PACTCL_OP_LINEAR_FWD:
    case PACTCL_OP_LINEAR_BWD_DATA:
    case PACTCL_OP_LINEAR_BWD_WEIGHT:
        rc = setup_linear(r, dev, c->layer, n);
        break;
    case PACTCL_OP_FQ_CHANNEL_FWD:
        rc = setup_fq_channel(r, dev, c->layer);
        break;
    default:
        rc = setup_activation(r, dev, c->layer, n);
        break;
    }
    for (int i = 0; i < r->call.nargs; i++)
        r->bytes += (double)pactcl_tensor_bytes(r->call.args[i]) * (is_inout(c->op, i) ? 2 : 1);
    return rc;
}

/* ---- timing and the table ------------------------------------------------- */

/* Runs warm-up then timed iterations; ms[] gets the timed ones, sorted. */
static int time_op(pactcl_device *dev, const struct pactcl_op_call *call, const struct options *o,
                   double *ms)
{
    /* Tensor uploads may still be queued: keep them out of the first timing. */
    TRY(pactcl_device_sync(dev));
    for (long i = 0; i < o->warmup + o->iters; i++) {
        double t0 = bench_now_ms();
        TRY(pactcl_op_run(dev, call));
        TRY(pactcl_device_sync(dev));
        if (i >= o->warmup)
            ms[i - o->warmup] = bench_now_ms() - t0;
    }
    qsort(ms, (size_t)o->iters, sizeof *ms, bench_cmp_double);
    return PACTCL_OK;
}

#define ROW_FMT "%-18s %-15s %-6s %-16s %-16s %10s %10s %10s %8s %6s %8s  %s"

static void print_header(void)
{
    printf(ROW_FMT "\n", "op", "layer", "kernel", "x", "y", "median_ms", "min_ms", "max_ms",
           "GFLOP/s", "%peak", "GB/s", "impl");
}

/* A number, or "-" when it does not apply or the op failed. */
static const char *cell(char *buf, size_t len, const char *f, double v, int show)
{
    if (show)
        snprintf(buf, len, f, v);
    else
        snprintf(buf, len, "-");
    return buf;
}

/* Returns 1 when the op failed. */
static int bench_one(pactcl_device *dev, const struct bench_case *c, const struct options *o,
                     double peak, double *ms)
{
    struct run r;
    int rc = setup(&r, dev, c, o->batch);
    if (rc == PACTCL_OK)
        rc = time_op(dev, &r.call, o, ms);
    char err[512] = "";
    if (rc != PACTCL_OK)
        snprintf(err, sizeof err, "  error: %s",
                 *pactcl_last_error() ? pactcl_last_error() : pactcl_strerror(rc));
    const int ok = rc == PACTCL_OK;
    const long m = o->iters / 2;
    const double median = !ok ? 0 : o->iters % 2 ? ms[m] : 0.5 * (ms[m - 1] + ms[m]);
    const double lo = ok ? ms[0] : 0, hi = ok ? ms[o->iters - 1] : 0;
    /* A median of 0 would be below the clock's resolution: no rate then. */
    const int rated = ok && median > 0;
    const double gflops = rated ? r.flops / median * 1e-6 : 0;
    const char *impl = ok ? pactcl_device_op_provider(dev, &r.call) : NULL;
    char b[6][24];
    printf(ROW_FMT "%s\n", pactcl_op_name(c->op), c->layer->name, r.kernel, r.x, r.y,
           cell(b[0], sizeof b[0], "%.3f", median, ok), cell(b[1], sizeof b[1], "%.3f", lo, ok),
           cell(b[2], sizeof b[2], "%.3f", hi, ok),
           cell(b[3], sizeof b[3], "%.1f", gflops, rated && r.flops > 0),
           cell(b[4], sizeof b[4], "%.1f", 100.0 * gflops / peak, rated && r.flops > 0 && peak > 0),
           cell(b[5], sizeof b[5], "%.1f", rated ? r.bytes / median * 1e-6 : 0, rated),
           impl ? impl : "-", err);
    fflush(stdout);
    free_args(&r);
    return !ok;
}

static void bench_device(pactcl_device *dev, const struct options *o, const struct host_info *h,
                         double *ms)
{
    enum pactcl_device_kind kind = pactcl_device_kind(dev);
    /* The host's peak says nothing about a GPU: only --peak-gflops applies there. */
    double peak = o->peak_gflops > 0 ? o->peak_gflops : kind == PACTCL_DEVICE_CPU ? h->peak : 0;
    printf("\ndevice %s: %s (backend %s, kind %s); %%peak of %s\n", pactcl_device_id(dev),
           pactcl_device_name(dev), pactcl_device_backend(dev), pactcl_device_kind_name(kind),
           peak > 0 ? "the peak above" : "nothing (not a CPU; pass --peak-gflops)");
    print_header();
    int failed = 0;
    for (int i = 0; i < N_CASES; i++)
        failed += bench_one(dev, &cases[i], o, peak, ms);
    if (failed)
        printf("%d of %d ops failed on %s\n", failed, N_CASES, pactcl_device_id(dev));
}

static void print_plugins(const pactcl_context *ctx)
{
    for (int i = 0; i < pactcl_context_plugin_count(ctx); i++) {
        const char *st = pactcl_context_plugin_status(ctx, i);
        printf("plugin: %s (%s)%s%s\n", pactcl_context_plugin_name(ctx, i),
               pactcl_context_plugin_path(ctx, i), st && *st ? ": " : "", st ? st : "");
    }
    for (int i = 0; i < pactcl_context_refused_count(ctx); i++)
        printf("refused plugin: %s: %s\n", pactcl_context_refused_path(ctx, i),
               pactcl_context_refused_reason(ctx, i));
}

int main(int argc, char **argv)
{
    struct options o = { NULL, 10, 3, 64, 0 };
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    struct host_info h;
    probe_host(&h);

    /* A set PACTCL_PLUGIN_PATH means a build tree: keep installed plugins out. */
    const char *plugin_path = getenv("PACTCL_PLUGIN_PATH");
    if (plugin_path && !*plugin_path)
        plugin_path = NULL;
    struct pactcl_context_options copts = { .skip_installed_dir = 1 };
    pactcl_context *ctx;
    if (pactcl_context_create(plugin_path ? &copts : NULL, &ctx) != PACTCL_OK) {
        fprintf(stderr, "op_bench: %s\n", pactcl_last_error());
        return 1;
    }

    printf("pactcl op benchmark (BENCH.md OPS): MobileNetV3-small 224x224 layers, batch %ld\n",
           o.batch);
    printf("timing: %ld warm-up + %ld timed iterations per op, each ending in a device sync\n",
           o.warmup, o.iters);
    printf("host: %s; %d thread%s (%s); load average %s\n", h.model, h.threads,
           h.threads == 1 ? "" : "s",
           h.threads_from_env ? "OMP_NUM_THREADS" : "available CPUs; OMP_NUM_THREADS unset",
           h.loadavg);
    if (o.peak_gflops > 0)
        printf("fp32 peak: %.1f GFLOP/s from --peak-gflops; estimated: %s\n", o.peak_gflops,
               h.peak_how);
    else
        printf("fp32 peak, estimated: %s%s\n", h.peak_how,
               h.peak > 0 ? "" : "; pass --peak-gflops");
    print_plugins(ctx);

    int status = 0;
    double *ms = malloc((size_t)o.iters * sizeof *ms);
    if (!ms) {
        fprintf(stderr, "op_bench: out of memory\n");
        status = 1;
    } else if (o.device) {
        pactcl_device *dev;
        if (pactcl_context_find_device(ctx, o.device, &dev) != PACTCL_OK) {
            fprintf(stderr, "op_bench: %s\n", pactcl_last_error());
            status = 1;
        } else {
            bench_device(dev, &o, &h, ms);
        }
    } else if (pactcl_context_device_count(ctx) == 0) {
        printf("\nno devices: no plugin in %s exposes one\n",
               plugin_path ? plugin_path : pactcl_installed_plugin_dir());
    } else {
        for (int i = 0; i < pactcl_context_device_count(ctx); i++)
            bench_device(pactcl_context_device(ctx, i), &o, &h, ms);
    }
    free(ms);
    pactcl_context_free(ctx);

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("\npeak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    return status;
}
