/*
 * overrides.c: an override provider for the fake backend's ADD
 * (test-overrides.so; its name keeps it out of directory scans, so tests load
 * it explicitly).  Two overrides, listed lowest priority first so that only
 * the core's sorting can make the higher one win:
 *
 *   add-low   priority 5, claims every fake device, supports every ADD
 *   add-high  priority 20, claims fake:0 only, supports ADD when dims[0] is
 *             even, so other calls fall through to add-low
 */
#include <stdint.h>
#include <string.h>

#include "pactcl-plugin.h"

static int is_fake(const struct pactcl_plugin_device *dev)
{
    return dev->info.host_addressable == 1 && dev->backend && strcmp(dev->backend, "fake") == 0;
}

static int low_claims(void *plugin_ctx, const struct pactcl_plugin_device *dev)
{
    return is_fake(dev);
}

static int high_claims(void *plugin_ctx, const struct pactcl_plugin_device *dev)
{
    return is_fake(dev) && strcmp(dev->info.id, "fake:0") == 0;
}

static int low_supports(void *plugin_ctx, const struct pactcl_plugin_device *dev,
                        const struct pactcl_op_call *call)
{
    return call->op == PACTCL_OP_ADD;
}

static int high_supports(void *plugin_ctx, const struct pactcl_plugin_device *dev,
                         const struct pactcl_op_call *call)
{
    return call->op == PACTCL_OP_ADD && call->args[0]->dims[0] % 2 == 0;
}

/* Both compute y = a + b; which one ran is told by pactcl_device_op_provider. */
static int add_run(void *plugin_ctx, struct pactcl_plugin_device *dev,
                   const struct pactcl_op_call *call)
{
    const float *a = PACTCL_TENSOR_HOST(call->args[0]), *b = PACTCL_TENSOR_HOST(call->args[1]);
    float *y = PACTCL_TENSOR_HOST(call->args[2]);
    int64_t n = pactcl_plugin_numel(call->args[0]);
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
    return PACTCL_OK;
}

static const struct pactcl_override overrides[] = {
    { .name = "add-low", .priority = 5, .claims_device = low_claims, .supports = low_supports,
      .run = add_run },
    { .name = "add-high", .priority = 20, .claims_device = high_claims,
      .supports = high_supports, .run = add_run },
};

static int overrides_init(const struct pactcl_host *host, void **plugin_ctx)
{
    *plugin_ctx = NULL;
    return PACTCL_OK;
}

static int overrides_count(void *plugin_ctx)
{
    return (int)(sizeof overrides / sizeof overrides[0]);
}

static const struct pactcl_override *overrides_get(void *plugin_ctx, int index)
{
    return index >= 0 && index < overrides_count(plugin_ctx) ? &overrides[index] : NULL;
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "test-overrides",
    .description = "test plugin: two prioritised ADD overrides for the fake backend",
    .init = overrides_init,
    .override_count = overrides_count,
    .override_get = overrides_get,
};
