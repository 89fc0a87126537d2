/*
 * cpu_plugin.c: the CPU backend's plugin descriptor, its one device ("cpu"),
 * host-memory buffers, scratch memory and the op dispatch table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_ops.h"
#include "pactcl-plugin.h"

#define PACTCL_CPU_ALIGN 64

struct pactcl_cpu_plugin {
    struct pactcl_cpu_ctx ctx;
    struct pactcl_plugin_device device;
    char name[256];
    char vendor[64];
    char status[64];
};

typedef int (*pactcl_cpu_op_fn)(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call);

static const pactcl_cpu_op_fn pactcl_cpu_op_table[] = {
    [PACTCL_OP_CONV2D_FWD] = pactcl_cpu_conv2d_fwd,
    [PACTCL_OP_CONV2D_BWD_DATA] = pactcl_cpu_conv2d_bwd_data,
    [PACTCL_OP_CONV2D_BWD_FILTER] = pactcl_cpu_conv2d_bwd_filter,
    [PACTCL_OP_DWCONV_FWD] = pactcl_cpu_dwconv_fwd,
    [PACTCL_OP_DWCONV_BWD_DATA] = pactcl_cpu_dwconv_bwd_data,
    [PACTCL_OP_DWCONV_BWD_FILTER] = pactcl_cpu_dwconv_bwd_filter,
    [PACTCL_OP_BN_FWD_TRAIN] = pactcl_cpu_bn_fwd_train,
    [PACTCL_OP_BN_FWD_EVAL] = pactcl_cpu_bn_fwd_eval,
    [PACTCL_OP_BN_BWD] = pactcl_cpu_bn_bwd,
    [PACTCL_OP_RELU_FWD] = pactcl_cpu_relu_fwd,
    [PACTCL_OP_RELU_BWD] = pactcl_cpu_relu_bwd,
    [PACTCL_OP_HARDSWISH_FWD] = pactcl_cpu_hardswish_fwd,
    [PACTCL_OP_HARDSWISH_BWD] = pactcl_cpu_hardswish_bwd,
    [PACTCL_OP_HARDSIGMOID_FWD] = pactcl_cpu_hardsigmoid_fwd,
    [PACTCL_OP_HARDSIGMOID_BWD] = pactcl_cpu_hardsigmoid_bwd,
    [PACTCL_OP_AVGPOOL_FWD] = pactcl_cpu_avgpool_fwd,
    [PACTCL_OP_AVGPOOL_BWD] = pactcl_cpu_avgpool_bwd,
    [PACTCL_OP_SE_SCALE_FWD] = pactcl_cpu_se_scale_fwd,
    [PACTCL_OP_SE_SCALE_BWD] = pactcl_cpu_se_scale_bwd,
    [PACTCL_OP_ADD] = pactcl_cpu_add,
    [PACTCL_OP_LINEAR_FWD] = pactcl_cpu_linear_fwd,
    [PACTCL_OP_LINEAR_BWD_DATA] = pactcl_cpu_linear_bwd_data,
    [PACTCL_OP_LINEAR_BWD_WEIGHT] = pactcl_cpu_linear_bwd_weight,
    [PACTCL_OP_DROPOUT_FWD] = pactcl_cpu_dropout_fwd,
    [PACTCL_OP_DROPOUT_BWD] = pactcl_cpu_dropout_bwd,
    [PACTCL_OP_SOFTMAX_CE_FWD] = pactcl_cpu_softmax_ce_fwd,
    [PACTCL_OP_SOFTMAX_CE_BWD] = pactcl_cpu_softmax_ce_bwd,
    [PACTCL_OP_TOPK_ACCURACY] = pactcl_cpu_topk_accuracy,
    [PACTCL_OP_PACT_FWD] = pactcl_cpu_pact_fwd,
    [PACTCL_OP_PACT_BWD] = pactcl_cpu_pact_bwd,
    [PACTCL_OP_FQ_CHANNEL_FWD] = pactcl_cpu_fq_channel_fwd,
    [PACTCL_OP_FQ_MOVING_AVG_FWD] = pactcl_cpu_fq_moving_avg_fwd,
    [PACTCL_OP_MA_OBSERVE] = pactcl_cpu_ma_observe,
    [PACTCL_OP_SGD_MOMENTUM] = pactcl_cpu_sgd_momentum,
    [PACTCL_OP_QUANTIZE_I8] = pactcl_cpu_quantize_i8,
    [PACTCL_OP_CONV2D_I8] = pactcl_cpu_conv2d_i8,
    [PACTCL_OP_DWCONV_I8] = pactcl_cpu_dwconv_i8,
    [PACTCL_OP_LINEAR_I8] = pactcl_cpu_linear_i8,
};

_Static_assert(sizeof pactcl_cpu_op_table / sizeof pactcl_cpu_op_table[0] == PACTCL_OP_COUNT,
               "the CPU backend must implement every op of pactcl-ops.h");

static struct pactcl_cpu_ctx *cpu_ctx(struct pactcl_plugin_device *dev)
{
    return dev->context;
}

static void *cpu_aligned_alloc(size_t bytes)
{
    /* aligned_alloc wants a multiple of the alignment. */
    size_t rounded = pactcl_cpu_round64(bytes);
    if (rounded < bytes)
        return NULL;
    return aligned_alloc(PACTCL_CPU_ALIGN, rounded);
}

int pactcl_cpu_scratch(struct pactcl_cpu_ctx *ctx, size_t bytes, void **out)
{
    if (bytes > ctx->scratch_size) {
        /* Grow by half again so that a sequence of slightly larger layers
         * does not reallocate every call. */
        size_t want = bytes + bytes / 2;
        if (want < bytes)
            want = bytes;
        free(ctx->scratch);
        ctx->scratch = cpu_aligned_alloc(want);
        ctx->scratch_size = ctx->scratch ? want : 0;
        if (!ctx->scratch)
            return ctx->host->set_error(
                PACTCL_ENOMEM, "cannot allocate %zu bytes of scratch memory on the CPU", bytes);
    }
    *out = ctx->scratch;
    return PACTCL_OK;
}

int pactcl_cpu_thread_scratch(struct pactcl_cpu_ctx *ctx, size_t shared, size_t per_thread,
                              char **base)
{
    size_t threads = (size_t)pactcl_cpu_max_threads();
    return pactcl_cpu_scratch(
        ctx, pactcl_cpu_round64(shared) + threads * pactcl_cpu_round64(per_thread), (void **)base);
}

/* ---- buffers ------------------------------------------------------------ */

static int cpu_buffer_alloc(struct pactcl_plugin_device *dev, size_t size,
                            struct pactcl_buffer **out)
{
    struct pactcl_buffer *buf = malloc(sizeof *buf);
    void *mem = buf ? cpu_aligned_alloc(size) : NULL;
    if (!mem) {
        free(buf);
        return cpu_ctx(dev)->host->set_error(
            PACTCL_ENOMEM, "cannot allocate %zu bytes on the CPU (out of host memory)", size);
    }
    memset(mem, 0, size);
    *buf = (struct pactcl_buffer){.device = dev, .size = size, .native = mem, .context = NULL};
    *out = buf;
    return PACTCL_OK;
}

static void cpu_buffer_free(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf)
{
    if (!buf)
        return;
    free(buf->native);
    free(buf);
}

static int cpu_buffer_write(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf,
                            size_t offset, const void *src, size_t size)
{
    memcpy((char *)buf->native + offset, src, size);
    return PACTCL_OK;
}

static int cpu_buffer_read(struct pactcl_plugin_device *dev, const struct pactcl_buffer *buf,
                           size_t offset, void *dst, size_t size)
{
    memcpy(dst, (const char *)buf->native + offset, size);
    return PACTCL_OK;
}

static int cpu_buffer_copy(struct pactcl_plugin_device *dev, struct pactcl_buffer *dst,
                           size_t dst_offset, const struct pactcl_buffer *src, size_t src_offset,
                           size_t size)
{
    /* memmove: source and destination may be ranges of the same buffer. */
    memmove((char *)dst->native + dst_offset, (const char *)src->native + src_offset, size);
    return PACTCL_OK;
}

static int cpu_buffer_zero(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf,
                           size_t offset, size_t size)
{
    memset((char *)buf->native + offset, 0, size);
    return PACTCL_OK;
}

/* ---- ops ---------------------------------------------------------------- */

static int cpu_supports(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    return (unsigned)call->op < PACTCL_OP_COUNT && pactcl_cpu_op_table[call->op] != NULL;
}

static int cpu_run(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    if (!cpu_supports(dev, call))
        return cpu_ctx(dev)->host->set_error(PACTCL_EUNSUPPORTED, "cpu: unknown op id %d",
                                             (int)call->op);
    return pactcl_cpu_op_table[call->op](cpu_ctx(dev), call);
}

/* Every op has finished when run() returns. */
static int cpu_sync(struct pactcl_plugin_device *dev)
{
    return PACTCL_OK;
}

static const struct pactcl_device_iface pactcl_cpu_iface = {
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .buffer_copy = cpu_buffer_copy,
    .buffer_zero = cpu_buffer_zero,
    .supports = cpu_supports,
    .run = cpu_run,
    .sync = cpu_sync,
    .get_native = NULL,
};

/* ---- device description --------------------------------------------------- */

/* Copies the value of the first "key : value" line of /proc/cpuinfo into out;
 * leaves out untouched when the key is absent (non-Linux, ARM without it). */
static void cpuinfo_field(const char *key, char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        const char *p = line + klen;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ':')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, "\n");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        if (n >= len)
            n = len - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        break;
    }
    fclose(f);
}

static uint64_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

/* ---- plugin ------------------------------------------------------------- */

static int cpu_init(const struct pactcl_host *host, void **plugin_ctx)
{
    struct pactcl_cpu_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return host->set_error(PACTCL_ENOMEM, "cpu: out of memory starting the plugin");
    p->ctx.host = host;
    snprintf(p->name, sizeof p->name, "CPU");
    cpuinfo_field("model name", p->name, sizeof p->name);
    cpuinfo_field("vendor_id", p->vendor, sizeof p->vendor);
    snprintf(p->status, sizeof p->status, "%d threads", pactcl_cpu_max_threads());
    p->device = (struct pactcl_plugin_device){
        .iface = &pactcl_cpu_iface,
        .info =
            {
                .id = "cpu",
                .name = p->name,
                .vendor = p->vendor,
                .driver = pactcl_cpu_blas_name(),
                .kind = PACTCL_DEVICE_CPU,
                .memory_bytes = physical_memory(),
                .max_alloc_bytes = 0,
                .host_addressable = 1,
            },
        .backend = "cpu",
        .context = &p->ctx,
    };
    *plugin_ctx = p;
    return PACTCL_OK;
}

static void cpu_shutdown(void *plugin_ctx)
{
    struct pactcl_cpu_plugin *p = plugin_ctx;
    if (!p)
        return;
    free(p->ctx.scratch);
    free(p);
}

static const char *cpu_status(void *plugin_ctx)
{
    const struct pactcl_cpu_plugin *p = plugin_ctx;
    return p->status;
}

static int cpu_device_count(void *plugin_ctx)
{
    return 1;
}

static struct pactcl_plugin_device *cpu_device_get(void *plugin_ctx, int index)
{
    struct pactcl_cpu_plugin *p = plugin_ctx;
    return index == 0 ? &p->device : NULL;
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "cpu",
    .description = "CPU backend (C, OpenMP, CBLAS)",
    .init = cpu_init,
    .shutdown = cpu_shutdown,
    .device_count = cpu_device_count,
    .device_get = cpu_device_get,
    .status = cpu_status,
    .override_count = NULL,
    .override_get = NULL,
};
