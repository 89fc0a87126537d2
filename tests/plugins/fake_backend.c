/*
 * fake_backend.c: a minimal working backend for the tests (pactcl-fake.so).
 *
 * Two devices over host memory, "Fake Device A" (fake:0) and "Fake Device B"
 * (fake:1), so that tests can select by name, meet an ambiguous name, move
 * tensors between devices and run ops without the CPU backend.  It runs only
 * ADD; supports() refuses every other op, which real backends never do, to
 * exercise the "not supported" path.  The same source is also built as
 * fake-copy.so: a second plugin named "fake", for the duplicate-name test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pactcl-plugin.h"

#define FAKE_DEVICES 2

/* Per init, not static: two contexts may load this plugin at once. */
struct fake_ctx {
    const struct pactcl_host *host;
    struct pactcl_plugin_device devices[FAKE_DEVICES];
};

static const struct pactcl_host *host_of(const struct pactcl_plugin_device *dev)
{
    return ((const struct fake_ctx *)dev->context)->host;
}

static int fake_alloc(struct pactcl_plugin_device *dev, size_t size, struct pactcl_buffer **out)
{
    struct pactcl_buffer *b = malloc(sizeof *b);
    void *mem = calloc(1, size);
    if (!b || !mem) {
        free(b);
        free(mem);
        return host_of(dev)->set_error(PACTCL_ENOMEM, "fake: cannot allocate %zu bytes on %s",
                                       size, dev->info.id);
    }
    *b = (struct pactcl_buffer){ .device = dev, .size = size, .native = mem };
    *out = b;
    return PACTCL_OK;
}

static void fake_free(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf)
{
    free(buf->native);
    free(buf);
}

static int fake_write(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                      const void *src, size_t size)
{
    memcpy((char *)buf->native + offset, src, size);
    return PACTCL_OK;
}

static int fake_read(struct pactcl_plugin_device *dev, const struct pactcl_buffer *buf,
                     size_t offset, void *dst, size_t size)
{
    memcpy(dst, (const char *)buf->native + offset, size);
    return PACTCL_OK;
}

static int fake_copy(struct pactcl_plugin_device *dev, struct pactcl_buffer *dst, size_t dst_offset,
                     const struct pactcl_buffer *src, size_t src_offset, size_t size)
{
    /* memmove: a view and its base share one buffer. */
    memmove((char *)dst->native + dst_offset, (const char *)src->native + src_offset, size);
    return PACTCL_OK;
}

static int fake_zero(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                     size_t size)
{
    memset((char *)buf->native + offset, 0, size);
    return PACTCL_OK;
}

static int fake_supports(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    return call->op == PACTCL_OP_ADD;
}

static int fake_run(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    /* The core must not run what supports() refused: say so rather than crash. */
    if (call->op != PACTCL_OP_ADD)
        return host_of(dev)->set_error(PACTCL_EINTERNAL, "fake: op %d run although unsupported",
                                       (int)call->op);
    /* Validated: three f32 tensors of one shape; y may alias a or b. */
    const float *a = PACTCL_TENSOR_HOST(call->args[0]), *b = PACTCL_TENSOR_HOST(call->args[1]);
    float *y = PACTCL_TENSOR_HOST(call->args[2]);
    int64_t n = pactcl_plugin_numel(call->args[0]);
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
    return PACTCL_OK;
}

/* Work runs synchronously: nothing is ever queued. */
static int fake_sync(struct pactcl_plugin_device *dev)
{
    return PACTCL_OK;
}

static const struct pactcl_device_iface fake_iface = {
    .buffer_alloc = fake_alloc,
    .buffer_free = fake_free,
    .buffer_write = fake_write,
    .buffer_read = fake_read,
    .buffer_copy = fake_copy,
    .buffer_zero = fake_zero,
    .supports = fake_supports,
    .run = fake_run,
    .sync = fake_sync,
};

static int fake_init(const struct pactcl_host *host, void **plugin_ctx)
{
    static const char *const ids[FAKE_DEVICES] = { "fake:0", "fake:1" };
    static const char *const names[FAKE_DEVICES] = { "Fake Device A", "Fake Device B" };
    struct fake_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return host->set_error(PACTCL_ENOMEM, "fake: out of memory");
    ctx->host = host;
    for (int i = 0; i < FAKE_DEVICES; i++) {
        ctx->devices[i] = (struct pactcl_plugin_device){
            .iface = &fake_iface,
            .info = { .id = ids[i], .name = names[i], .vendor = "pactcl tests", .driver = "",
                      .kind = PACTCL_DEVICE_ACCELERATOR,
                      .memory_bytes = UINT64_C(256) << 20,
                      /* Small, so that tests can hit the limit without allocating. */
                      .max_alloc_bytes = UINT64_C(64) << 20,
                      .host_addressable = 1 },
            .backend = "fake",
            .context = ctx,
        };
    }
    *plugin_ctx = ctx;
    return PACTCL_OK;
}

static void fake_shutdown(void *plugin_ctx)
{
    free(plugin_ctx);
}

static const char *fake_status(void *plugin_ctx)
{
    return "test backend: two host-memory devices running add only";
}

static int fake_device_count(void *plugin_ctx)
{
    return FAKE_DEVICES;
}

static struct pactcl_plugin_device *fake_device_get(void *plugin_ctx, int index)
{
    struct fake_ctx *ctx = plugin_ctx;
    return index >= 0 && index < FAKE_DEVICES ? &ctx->devices[index] : NULL;
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "fake",
    .description = "test backend: two host-memory devices running add",
    .init = fake_init,
    .shutdown = fake_shutdown,
    .status = fake_status,
    .device_count = fake_device_count,
    .device_get = fake_device_get,
};
