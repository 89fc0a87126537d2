/*
 * example_plugin.c: a minimal pactcl vendor plugin.
 *
 * It has no devices of its own.  It offers one override, a hard-swish forward
 * (y = x * min(max(x + 3, 0), 6) / 6), for devices of the "cpu" backend, with
 * priority 10 so that it wins over the backend's own kernel (priority 0).
 * Everything a plugin needs comes from pactcl-plugin.h; it does not link
 * libpactcl.  See README.md in this directory for building it out of tree.
 */
#include <stdint.h>
#include <string.h>

#include "pactcl-plugin.h"

static int example_init(const struct pactcl_host *host, void **plugin_ctx)
{
    /* Stateless: a plugin that needs state (a handle to a vendor library, say)
     * allocates it here, returns it in *plugin_ctx and frees it in shutdown. */
    *plugin_ctx = NULL;
    return PACTCL_OK;
}

static const char *example_status(void *plugin_ctx)
{
    return "no devices of its own; overrides hardswish_fwd on cpu devices";
}

/* The kernel below dereferences buffer->native, so only host memory will do. */
static int hardswish_claims_device(void *plugin_ctx, const struct pactcl_plugin_device *dev)
{
    return dev->info.host_addressable == 1 && dev->backend && strcmp(dev->backend, "cpu") == 0;
}

/* Any validated hardswish_fwd call will do: the kernel is elementwise over
 * any shape, and the core has checked that x and y are f32 of one shape. */
static int hardswish_supports(void *plugin_ctx, const struct pactcl_plugin_device *dev,
                              const struct pactcl_op_call *call)
{
    return call->op == PACTCL_OP_HARDSWISH_FWD;
}

static inline float hardswish1(float x)
{
    /* Comparisons rather than fminf/fmaxf, which without -ffast-math are libm
     * calls that keep the loop below from vectorising.  NaN still gives NaN. */
    float r = x + 3.0f;
    r = r < 0.0f ? 0.0f : r;
    r = r > 6.0f ? 6.0f : r;
    return x * r / 6.0f;
}

/* No restrict: y may be x itself (an in-place activation).  Compilers that
 * vectorise this loop (-O3, or -O2 -ftree-vectorize) add a run-time overlap
 * check and keep the vector path for both the in-place and disjoint cases. */
static void hardswish_f32(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = hardswish1(x[i]);
}

static int hardswish_run(void *plugin_ctx, struct pactcl_plugin_device *dev,
                         const struct pactcl_op_call *call)
{
    /* The backend may still have work queued on these buffers. */
    int rc = dev->iface->sync(dev);
    if (rc != PACTCL_OK)
        return rc;
    const struct pactcl_tensor *x = call->args[0], *y = call->args[1];
    hardswish_f32(PACTCL_TENSOR_HOST(x), PACTCL_TENSOR_HOST(y), pactcl_plugin_numel(x));
    return PACTCL_OK;
}

static const struct pactcl_override hardswish_override = {
    .name = "example",
    .priority = 10,
    .claims_device = hardswish_claims_device,
    .supports = hardswish_supports,
    .run = hardswish_run,
};

static int example_override_count(void *plugin_ctx)
{
    return 1;
}

static const struct pactcl_override *example_override_get(void *plugin_ctx, int index)
{
    return index == 0 ? &hardswish_override : NULL;
}

/* The one symbol the loader looks up; its abi_version is read before init. */
const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "example",
    .description = "example vendor plugin: hard-swish forward for the CPU backend",
    .init = example_init,
    .status = example_status,
    .override_count = example_override_count,
    .override_get = example_override_get,
};
