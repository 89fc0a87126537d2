/*
 * model_bench.c: the model-level workloads of shared/BENCH.md on MobileNetV3-
 * small with synthetic data, on every device pactcl finds or on --device:
 *
 *   T-fp32    one training step: upload images and labels, forward, loss,
 *             backward, momentum-SGD, device sync
 *   T-qat     the same with PACT QAT (36 quantized layers, 8 bits)
 *   I-fp32    eval forward of the float model (upload included)
 *   I-int8    forward of the exported int8 model (a QAT model trained for two
 *             steps, exported to a temporary directory and loaded back), at
 *             --batch and, as I-int8@1, at batch 1 (a latency)
 *
 * Each workload runs in a child process of its own (fork), so the peak RSS
 * that getrusage reports belongs to that workload alone; the parent never
 * loads a plugin.  Warm-up iterations are not timed; the median, min and max
 * are over --iters timed ones.
 *
 * Every result is one line, `result <system> <workload> key=value...`, the
 * format that the peers (bench/peers/torch_bench.py, paddle_bench.py) print
 * too and that bench/compare.sh turns into the table of ratios.
 *
 * --profile times every op of one T-fp32 and one T-qat step through the
 * timing override plugin of bench/profile_plugin.c instead, and prints where
 * the step's time goes.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, mkdtemp */
#include "pactcl.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/graph.h"
#include "model/mobilenetv3.h"
#include "profile_plugin.h"
#include "quant/int8_model.h"
#include "bench_util.h"

const char *bench_prog = "model_bench";

#ifndef PACTCL_BENCH_PROFILE_PLUGIN
#define PACTCL_BENCH_PROFILE_PLUGIN ""
#endif

enum workload { W_TFP32, W_TQAT, W_IFP32, W_IINT8, W_COUNT };
static const char *const workload_names[W_COUNT] = { "T-fp32", "T-qat", "I-fp32", "I-int8" };

struct options {
    const char *device;
    long iters, warmup, batch, size, classes;
    int run[W_COUNT];
    int profile;
    long top; /* --profile: rows of the per-shape table */
    const char *profile_plugin;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: model_bench [--device X] [--batch N] [--size N] [--classes N] [--iters N]\n"
            "                   [--warmup N] [--workloads LIST] [--profile [--top N]]\n"
            "Times MobileNetV3-small training and inference steps on synthetic data.\n"
            "  --device X        only this device (cpu, opencl:P:D, gpu, or part of a name)\n"
            "  --batch N         batch size, 1..1024 (default 64)\n"
            "  --size N          image height = width, 16..1024 (default 224)\n"
            "  --classes N       classifier outputs, 1..100000 (default 1000)\n"
            "  --iters N         timed iterations, 1..100000 (default 10)\n"
            "  --warmup N        untimed iterations before them, 0..100000 (default 3)\n"
            "  --workloads LIST  comma-separated subset of T-fp32,T-qat,I-fp32,I-int8\n"
            "  --profile         per-op time shares of the workloads (default T-fp32,T-qat)\n"
            "  --top N           --profile: rows of the per-shape table (default 25)\n"
            "  --profile-plugin FILE  the timing plugin (default: the build tree's)\n"
            "Plugins come from PACTCL_PLUGIN_PATH alone when it is set.\n");
}

static int parse_workloads(const char *s, int *run)
{
    memset(run, 0, W_COUNT * sizeof *run);
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int w = 0; w < W_COUNT; w++) {
            if (strlen(workload_names[w]) == n && strncmp(p, workload_names[w], n) == 0)
                run[w] = found = 1;
        }
        if (!found)
            return bench_bad_value("--workloads", s, "a list of T-fp32, T-qat, I-fp32, I-int8");
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Returns -1 to go on, else the exit status (0 after --help, 2 on a bad flag). */
static int parse_args(int argc, char **argv, struct options *o, int *workloads_given)
{
    static const char *const flags[] = { "--device", "--iters",     "--warmup", "--batch",
                                         "--size",   "--classes",   "--workloads", "--top",
                                         "--profile-plugin" };
    const int n_flags = (int)(sizeof flags / sizeof flags[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--profile") == 0) {
            o->profile = 1;
            continue;
        }
        const char *val = NULL;
        int which = bench_match_flag(flags, n_flags, argc, argv, &i, &val);
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
            rc = bench_parse_long("--batch", val, 1, 1024, &o->batch);
            break;
        case 4:
            rc = bench_parse_long("--size", val, 16, 1024, &o->size);
            break;
        case 5:
            rc = bench_parse_long("--classes", val, 1, 100000, &o->classes);
            break;
        case 6:
            rc = parse_workloads(val, o->run);
            *workloads_given = 1;
            break;
        case 7:
            rc = bench_parse_long("--top", val, 1, PACTCL_BENCH_PROFILE_MAX, &o->top);
            break;
        case 8:
            if (!*val)
                return bench_bad_value("--profile-plugin", val, "a file name");
            o->profile_plugin = val;
            break;
        default:
            fprintf(stderr, "model_bench: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
        if (rc)
            return rc;
    }
    return -1;
}

/* ---- host ------------------------------------------------------------------ */

static int thread_count(int *from_env)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (cpus <= 0)
        cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *omp = getenv("OMP_NUM_THREADS");
    /* OMP_NUM_THREADS may be a nesting list ("4,2"): the first level counts. */
    long t = omp ? strtol(omp, NULL, 10) : 0;
    *from_env = t > 0;
    return t > 0 ? (int)t : cpus > 0 ? cpus : 1;
}

static void load_average(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    double a, b, c;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
    fclose(f);
}

static double median_sorted(const double *v, long n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0;
}

/* ---- profile ------------------------------------------------------------------ */

struct op_total {
    enum pactcl_op op;
    int64_t calls;
    double ms;
};

static int cmp_total(const void *a, const void *b)
{
    double x = ((const struct op_total *)a)->ms, y = ((const struct op_total *)b)->ms;
    return (x < y) - (x > y);
}

static int cmp_record(const void *a, const void *b)
{
    double x = ((const struct pactcl_bench_profile_record *)a)->ms;
    double y = ((const struct pactcl_bench_profile_record *)b)->ms;
    return (x < y) - (x > y);
}

static void dims_str(char *buf, size_t len, int ndim, const int64_t *d)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", i ? "x" : "", (long long)d[i]);
}

/* The first argument's shape plus, for convolutions, the weight's shape and
 * the stride. */
static void record_shape(char *buf, size_t len, const struct pactcl_bench_profile_key *k)
{
    char a0[48], w[48];
    dims_str(a0, sizeof a0, k->ndim[0], k->dims[0]);
    switch (k->op) {
    case PACTCL_OP_CONV2D_FWD:
    case PACTCL_OP_CONV2D_BWD_DATA:
    case PACTCL_OP_DWCONV_FWD:
    case PACTCL_OP_DWCONV_BWD_DATA:
    case PACTCL_OP_CONV2D_I8:
    case PACTCL_OP_DWCONV_I8:
        dims_str(w, sizeof w, k->ndim[1], k->dims[1]);
        snprintf(buf, len, "%s w=%s s%d", a0, w, k->stride);
        break;
    case PACTCL_OP_CONV2D_BWD_FILTER:
    case PACTCL_OP_DWCONV_BWD_FILTER:
        dims_str(w, sizeof w, k->ndim[2], k->dims[2]);
        snprintf(buf, len, "%s w=%s s%d", a0, w, k->stride);
        break;
    default:
        snprintf(buf, len, "%s", a0);
        break;
    }
}

/* Shares are of the mean step (the ops' times are sums), which the median
 * printed beside it shows to be representative or not. */
static void print_profile(const struct pactcl_bench_profile *p, const struct options *o,
                          const double *step_times, long steps)
{
    double step_ms = 0;
    for (long i = 0; i < steps; i++)
        step_ms += step_times[i] / (double)steps;
    struct op_total tot[PACTCL_OP_COUNT];
    double op_ms = 0;
    int64_t calls = 0;
    for (int i = 0; i < PACTCL_OP_COUNT; i++)
        tot[i] = (struct op_total){ (enum pactcl_op)i, 0, 0 };
    for (int i = 0; i < p->n; i++) {
        tot[p->rec[i].key.op].calls += p->rec[i].calls;
        tot[p->rec[i].key.op].ms += p->rec[i].ms;
        op_ms += p->rec[i].ms;
        calls += p->rec[i].calls;
    }
    op_ms /= (double)steps;
    qsort(tot, PACTCL_OP_COUNT, sizeof tot[0], cmp_total);
    printf("step %.2f ms (mean of %ld, profiled; median %.2f), ops %.2f ms in %.0f calls, "
           "outside ops %.2f ms (%.1f%%: copies, validation, dispatch)\n",
           step_ms, steps, median_sorted(step_times, steps), op_ms, (double)calls / (double)steps,
           step_ms - op_ms, 100.0 * (step_ms - op_ms) / step_ms);
    printf("%-20s %10s %10s %8s %10s\n", "op", "calls/step", "ms/step", "share%", "us/call");
    for (int i = 0; i < PACTCL_OP_COUNT && tot[i].calls; i++) {
        const double ms = tot[i].ms / (double)steps;
        printf("%-20s %10.0f %10.2f %8.1f %10.1f\n", pactcl_op_name(tot[i].op),
               (double)tot[i].calls / (double)steps, ms, 100.0 * ms / step_ms,
               1e3 * tot[i].ms / (double)tot[i].calls);
    }
    struct pactcl_bench_profile_record *rec = malloc((size_t)p->n * sizeof *rec);
    if (!rec)
        return;
    memcpy(rec, p->rec, (size_t)p->n * sizeof *rec);
    qsort(rec, (size_t)p->n, sizeof *rec, cmp_record);
    printf("top %ld of %d distinct calls (op and shapes):\n", o->top < p->n ? o->top : p->n, p->n);
    printf("%-20s %-38s %10s %10s %8s\n", "op", "shape", "calls/step", "ms/step", "share%");
    for (int i = 0; i < p->n && i < o->top; i++) {
        char shape[160];
        record_shape(shape, sizeof shape, &rec[i].key);
        const double ms = rec[i].ms / (double)steps;
        printf("%-20s %-38s %10.0f %10.2f %8.1f\n", pactcl_op_name(rec[i].key.op), shape,
               (double)rec[i].calls / (double)steps, ms, 100.0 * ms / step_ms);
    }
    if (p->overflowed)
        printf("(%lld calls beyond %d distinct shapes were timed but not listed)\n",
               (long long)p->overflowed, PACTCL_BENCH_PROFILE_MAX);
    free(rec);
}

/* ---- one workload (runs in a child process) --------------------------------- */

#define TRY(x)                    \
    do {                          \
        int rc_ = (x);            \
        if (rc_ != PACTCL_OK)     \
            return rc_;           \
    } while (0)

/* A fixed batch of synthetic images (ImageNet-normalised range) and labels. */
struct batch {
    float *images;
    int32_t *labels;
    size_t image_bytes;
};

static int batch_make(struct batch *b, long n, long size, long classes)
{
    const size_t count = (size_t)n * 3 * (size_t)size * (size_t)size;
    b->image_bytes = count * sizeof *b->images;
    b->images = malloc(b->image_bytes);
    b->labels = malloc((size_t)n * sizeof *b->labels);
    if (!b->images || !b->labels) {
        fprintf(stderr, "model_bench: out of host memory for the batch\n");
        return PACTCL_ENOMEM;
    }
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < count; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        b->images[i] = -2.1f + 4.7f * (float)((s * 0x2545f4914f6cdd1du) >> 40) / 16777216.0f;
    }
    for (long i = 0; i < n; i++)
        b->labels[i] = (int32_t)((i * 7919) % classes);
    return PACTCL_OK;
}

static void batch_free(struct batch *b)
{
    free(b->images);
    free(b->labels);
}

static struct pactcl_mnv3_config model_config(const struct options *o, int qat)
{
    return (struct pactcl_mnv3_config){ .arch = PACTCL_MNV3_SMALL,
                                        .num_classes = (int)o->classes,
                                        .image_size = (int)o->size,
                                        .pact_quant = qat,
                                        .weight_bits = 8,
                                        .act_bits = 8 };
}

static int build(struct pactcl_graph *g, pactcl_device *dev, const struct options *o, long batch,
                 int qat, int with_grads)
{
    const struct pactcl_mnv3_config cfg = model_config(o, qat);
    TRY(pactcl_graph_init(g, dev, (int)batch, with_grads));
    TRY(pactcl_mnv3_build(g, &cfg));
    return pactcl_model_init_params(g, 42);
}

static int upload(struct pactcl_graph *g, const struct batch *b, int labels)
{
    struct pactcl_tensor *x = g->values[g->input].t;
    TRY(pactcl_tensor_write(x, b->images, pactcl_tensor_bytes(x)));
    if (labels)
        TRY(pactcl_tensor_write(g->labels, b->labels, pactcl_tensor_bytes(g->labels)));
    return PACTCL_OK;
}

/* One training step as the trainer runs it (lr 0.01: synthetic labels must not
 * drive the weights to inf or NaN, whose arithmetic can run at another speed). */
static int train_step(struct pactcl_graph *g, const struct batch *b, uint64_t seed)
{
    TRY(upload(g, b, 1));
    TRY(pactcl_graph_forward(g, 1, seed));
    TRY(pactcl_graph_loss(g));
    TRY(pactcl_graph_backward(g));
    TRY(pactcl_graph_sgd_step(g, 0.01f, 0.9f, 1e-4f));
    return pactcl_device_sync(g->dev);
}

static int eval_step(struct pactcl_graph *g, const struct batch *b)
{
    TRY(upload(g, b, 0));
    TRY(pactcl_graph_forward(g, 0, 0));
    return pactcl_device_sync(g->dev);
}

/* Times warm-up + iters steps into ms[] (sorted); with a profile table, clears
 * it after the warm-up so that it holds the timed steps alone. */
static int time_steps(struct pactcl_graph *g, const struct batch *b, int train,
                      const struct options *o, struct pactcl_bench_profile *prof, double *ms)
{
    for (long i = 0; i < o->warmup + o->iters; i++) {
        if (prof && i == o->warmup)
            prof->n = 0, prof->overflowed = 0;
        const double t0 = bench_now_ms();
        TRY(train ? train_step(g, b, (uint64_t)i) : eval_step(g, b));
        if (i >= o->warmup)
            ms[i - o->warmup] = bench_now_ms() - t0;
    }
    qsort(ms, (size_t)o->iters, sizeof *ms, bench_cmp_double);
    return PACTCL_OK;
}

static void print_result(const char *dev_id, const char *workload, long batch,
                         const struct options *o, const double *ms)
{
    const double med = median_sorted(ms, o->iters);
    printf("result pactcl:%s %s batch=%ld median_ms=%.2f min_ms=%.2f max_ms=%.2f img_s=%.1f "
           "img_s_min=%.1f img_s_max=%.1f rss_mib=%.0f\n",
           dev_id, workload, batch, med, ms[0], ms[o->iters - 1], 1e3 * (double)batch / med,
           1e3 * (double)batch / ms[o->iters - 1], 1e3 * (double)batch / ms[0], peak_rss_mib());
}

/* Removes the two files of an export and its directory. */
static void remove_export(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/bench.pcmodel", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bench.pcparams", dir);
    unlink(path);
    rmdir(dir);
}

/* A QAT model trained two steps at a small batch (its scales become real),
 * exported, and loaded back as an int8 inference graph for `batch` images. */
static int int8_model(pactcl_device *dev, const struct options *o, struct pactcl_graph *g)
{
    const long train_batch = o->batch < 8 ? o->batch : 8;
    struct pactcl_graph qat;
    struct batch b = { 0 };
    int rc = build(&qat, dev, o, train_batch, 1, 1);
    if (rc == PACTCL_OK)
        rc = batch_make(&b, train_batch, o->size, o->classes);
    for (int i = 0; rc == PACTCL_OK && i < 2; i++)
        rc = train_step(&qat, &b, (uint64_t)i);
    char dir[] = "/tmp/pactcl-model-bench-XXXXXX", model[600];
    if (rc == PACTCL_OK && !mkdtemp(dir)) {
        fprintf(stderr, "model_bench: mkdtemp: %s\n", strerror(errno));
        rc = PACTCL_EIO;
    }
    const struct pactcl_mnv3_config cfg = model_config(o, 1);
    if (rc == PACTCL_OK)
        rc = pactcl_int8_export(&qat, &cfg, dir, "bench", model, sizeof model);
    pactcl_graph_release(&qat);
    batch_free(&b);
    if (rc == PACTCL_OK) {
        rc = pactcl_graph_init(g, dev, (int)o->batch, 0);
        if (rc == PACTCL_OK)
            rc = pactcl_int8_model_load(g, model, NULL, (int)o->size, NULL);
    }
    remove_export(dir);
    return rc;
}

/* The timing plugin's table, when --profile loaded it. */
static struct pactcl_bench_profile *profile_table(const struct options *o, void **handle)
{
    *handle = dlopen(o->profile_plugin, RTLD_NOW | RTLD_NOLOAD);
    pactcl_bench_profile_fn get =
        *handle ? (pactcl_bench_profile_fn)dlsym(*handle, PACTCL_BENCH_PROFILE_SYMBOL) : NULL;
    if (!get) {
        fprintf(stderr, "model_bench: the profile plugin %s is not loaded (%s)\n",
                o->profile_plugin, dlerror());
        return NULL;
    }
    return get();
}

static int run_workload(pactcl_device *dev, const struct options *o, enum workload w, double *ms)
{
    struct pactcl_graph g;
    memset(&g, 0, sizeof g);
    struct batch b = { 0 };
    void *handle = NULL;
    struct pactcl_bench_profile *prof = o->profile ? profile_table(o, &handle) : NULL;
    if (o->profile && !prof)
        return PACTCL_EPLUGIN;
    const int train = w == W_TFP32 || w == W_TQAT;
    int rc = w == W_IINT8 ? int8_model(dev, o, &g)
                          : build(&g, dev, o, o->batch, w == W_TQAT, train);
    if (rc == PACTCL_OK)
        rc = batch_make(&b, o->batch, o->size, o->classes);
    if (rc == PACTCL_OK)
        rc = time_steps(&g, &b, train, o, prof, ms);
    if (rc == PACTCL_OK && prof) {
        printf("\nprofile %s, device %s, batch %ld, %ldx%ld:\n", workload_names[w],
               pactcl_device_id(dev), o->batch, o->size, o->size);
        print_profile(prof, o, ms, o->iters);
    } else if (rc == PACTCL_OK) {
        print_result(pactcl_device_id(dev), workload_names[w], o->batch, o, ms);
    }
    if (rc == PACTCL_OK && w == W_IINT8 && !prof) {
        /* Batch-1 latency: the first image of the same batch. */
        rc = pactcl_graph_set_batch(&g, 1);
        if (rc == PACTCL_OK)
            rc = time_steps(&g, &b, 0, o, NULL, ms);
        if (rc == PACTCL_OK)
            print_result(pactcl_device_id(dev), "I-int8@1", 1, o, ms);
    }
    pactcl_graph_release(&g);
    batch_free(&b);
    if (handle)
        dlclose(handle);
    return rc;
}

/* ---- processes ------------------------------------------------------------------ */

static int open_context(const struct options *o, pactcl_context **ctx)
{
    /* A set PACTCL_PLUGIN_PATH means a build tree: keep installed plugins out. */
    const char *path = getenv("PACTCL_PLUGIN_PATH");
    const char *const files[1] = { o->profile_plugin };
    struct pactcl_context_options copts = { .skip_installed_dir = path && *path };
    if (o->profile) {
        copts.plugin_files = files;
        copts.n_plugin_files = 1;
    }
    return pactcl_context_create(&copts, ctx);
}

/* Child side: workload w on the device with this id.  Returns the exit status. */
static int child_main(const struct options *o, const char *dev_id, int w)
{
    pactcl_context *ctx;
    pactcl_device *dev;
    double *ms = malloc((size_t)o->iters * sizeof *ms);
    int rc = ms ? open_context(o, &ctx) : PACTCL_ENOMEM;
    if (rc == PACTCL_OK) {
        rc = pactcl_context_find_device(ctx, dev_id, &dev);
        if (rc == PACTCL_OK)
            rc = run_workload(dev, o, (enum workload)w, ms);
        if (rc != PACTCL_OK)
            printf("error pactcl:%s %s %s\n", dev_id, workload_names[w],
                   *pactcl_last_error() ? pactcl_last_error() : pactcl_strerror(rc));
        pactcl_context_free(ctx);
    }
    free(ms);
    fflush(stdout);
    return rc == PACTCL_OK ? 0 : 1;
}

static int in_child(const struct options *o, const char *dev_id, int w)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "model_bench: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0)
        _exit(child_main(o, dev_id, w));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        printf("error pactcl:%s %s killed by signal %d\n", dev_id,
               workload_names[w], WTERMSIG(status));
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* "<id>: <name> (backend <plugin>)": the id never holds a space. */
static void print_device(FILE *out, pactcl_device *dev)
{
    fprintf(out, "%s: %s (backend %s)\n", pactcl_device_id(dev), pactcl_device_name(dev),
            pactcl_device_backend(dev));
}

/* The devices to run, one description each (print_device), listed by a
 * child so that the parent never maps a plugin (its pages would count in
 * every workload's RSS otherwise). */
static int list_devices(const struct options *o, char ids[][256], int max)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        FILE *out = fdopen(fds[1], "w");
        pactcl_context *ctx;
        int status = 1;
        if (out && open_context(o, &ctx) == PACTCL_OK) {
            status = 0;
            if (o->device) {
                pactcl_device *dev;
                if (pactcl_context_find_device(ctx, o->device, &dev) == PACTCL_OK)
                    print_device(out, dev);
                else
                    fprintf(stderr, "model_bench: %s\n", pactcl_last_error()), status = 1;
            } else {
                for (int i = 0; i < pactcl_context_device_count(ctx); i++)
                    print_device(out, pactcl_context_device(ctx, i));
                for (int i = 0; i < pactcl_context_refused_count(ctx); i++)
                    fprintf(stderr, "model_bench: refused plugin %s: %s\n",
                            pactcl_context_refused_path(ctx, i),
                            pactcl_context_refused_reason(ctx, i));
            }
            pactcl_context_free(ctx);
        } else {
            fprintf(stderr, "model_bench: %s\n", pactcl_last_error());
        }
        if (out)
            fclose(out);
        _exit(status);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    FILE *in = fdopen(fds[0], "r");
    int n = 0;
    char line[256];
    while (in && n < max && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(ids[n++], 256, "%s", line);
    }
    if (in)
        fclose(in);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? n : -1;
}

int main(int argc, char **argv)
{
    struct options o = { .iters = 10, .warmup = 3, .batch = 64, .size = 224, .classes = 1000,
                         .top = 25, .profile_plugin = PACTCL_BENCH_PROFILE_PLUGIN };
    int workloads_given = 0;
    int rc = parse_args(argc, argv, &o, &workloads_given);
    if (rc >= 0)
        return rc;
    /* Every workload by default; --profile looks at the training steps. */
    for (int w = 0; w < W_COUNT && !workloads_given; w++)
        o.run[w] = !o.profile || w == W_TFP32 || w == W_TQAT;
    if (o.profile && !*o.profile_plugin) {
        fprintf(stderr, "model_bench: --profile needs --profile-plugin FILE\n");
        return 2;
    }

    int from_env;
    const int threads = thread_count(&from_env);
    char load[48];
    load_average(load, sizeof load);
    printf("pactcl model benchmark: MobileNetV3-small %ldx%ld, batch %ld, %ld classes, "
           "synthetic data\n",
           o.size, o.size, o.batch, o.classes);
    printf("timing: %ld warm-up + %ld timed iterations, each ending in a device sync; "
           "each workload in a fresh process\n",
           o.warmup, o.iters);
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("host: %d thread%s (%s), OMP_WAIT_POLICY %s; load average %s\n", threads,
           threads == 1 ? "" : "s",
           from_env ? "OMP_NUM_THREADS" : "available CPUs; OMP_NUM_THREADS unset",
           wait && *wait ? wait : "unset", load);

    char ids[16][256];
    const int n = list_devices(&o, ids, 16);
    if (n < 0)
        return 1;
    if (n == 0)
        printf("no devices\n");
    int status = 0;
    for (int d = 0; d < n; d++) {
        printf("\ndevice %s\n", ids[d]);
        char *sep = strstr(ids[d], ": ");
        if (sep)
            *sep = '\0';
        for (int w = 0; w < W_COUNT; w++)
            if (o.run[w])
                status |= in_child(&o, ids[d], w);
    }
    load_average(load, sizeof load);
    printf("\nload average at the end: %s\n", load);
    return status ? 1 : 0;
}
