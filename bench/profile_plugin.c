/*
 * profile_plugin.c: a timing shim for model_bench --profile (see
 * profile_plugin.h).  It is an override provider with no devices: every call
 * on every device goes through it, to the device's own backend, so the model
 * runs exactly the kernels it runs without the shim, on the same data and with
 * the same cache state, and each op's time is the time it took inside a real
 * training step.  The cost it adds is two clock reads and a table lookup per
 * call, which model_bench reports as part of the time outside ops.
 *
 * Only loaded when model_bench names it explicitly; it never sits in a
 * directory that the loader scans.
 */
#include <string.h>
#include <time.h>

#include "pactcl-plugin.h"
#include "profile_plugin.h"

static struct pactcl_bench_profile table;

/* The symbol model_bench looks up. */
struct pactcl_bench_profile *pactcl_bench_profile(void);
struct pactcl_bench_profile *pactcl_bench_profile(void)
{
    return &table;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static struct pactcl_bench_profile_key key_of(const struct pactcl_op_call *call)
{
    struct pactcl_bench_profile_key k;
    memset(&k, 0, sizeof k);
    k.op = call->op;
    for (int i = 0; i < call->nargs && i < PACTCL_MAX_OP_ARGS; i++) {
        const struct pactcl_tensor *t = call->args[i];
        if (!t)
            continue;
        k.ndim[i] = t->ndim;
        memcpy(k.dims[i], t->dims, (size_t)t->ndim * sizeof t->dims[0]);
    }
    switch (call->op) {
    case PACTCL_OP_CONV2D_FWD:
    case PACTCL_OP_CONV2D_BWD_DATA:
    case PACTCL_OP_CONV2D_BWD_FILTER:
    case PACTCL_OP_DWCONV_FWD:
    case PACTCL_OP_DWCONV_BWD_DATA:
    case PACTCL_OP_DWCONV_BWD_FILTER:
        k.stride = call->params.conv.stride_h;
        k.pad = call->params.conv.pad_h;
        break;
    case PACTCL_OP_CONV2D_I8:
    case PACTCL_OP_DWCONV_I8:
        k.stride = call->params.int8.conv.stride_h;
        k.pad = call->params.int8.conv.pad_h;
        break;
    default:
        break;
    }
    return k;
}

/* Open addressing on a hash of the key, so that the lookup costs about the
 * same for the first call as for the 800th of a step.  Slots hold record
 * index + 1; the table is twice the record capacity, so it never fills. */
#define SLOTS (2 * PACTCL_BENCH_PROFILE_MAX)
static int slot_of_record[SLOTS];
static int slots_for_n; /* table.n when the slots were last valid */

static uint64_t key_hash(const struct pactcl_bench_profile_key *k)
{
    const unsigned char *b = (const unsigned char *)k;
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static void record(const struct pactcl_op_call *call, double ms)
{
    /* model_bench clears the table by setting n = 0: forget the slots then. */
    if (table.n < slots_for_n || table.n == 0)
        memset(slot_of_record, 0, sizeof slot_of_record);
    const struct pactcl_bench_profile_key k = key_of(call);
    size_t i = (size_t)(key_hash(&k) % SLOTS);
    for (; slot_of_record[i]; i = (i + 1) % SLOTS) {
        struct pactcl_bench_profile_record *r = &table.rec[slot_of_record[i] - 1];
        if (memcmp(&r->key, &k, sizeof k) == 0) {
            r->calls++;
            r->ms += ms;
            slots_for_n = table.n;
            return;
        }
    }
    if (table.n == PACTCL_BENCH_PROFILE_MAX) {
        table.overflowed++;
    } else {
        table.rec[table.n] = (struct pactcl_bench_profile_record){ .key = k, .calls = 1, .ms = ms };
        slot_of_record[i] = ++table.n;
    }
    slots_for_n = table.n;
}

static int profile_init(const struct pactcl_host *host, void **plugin_ctx)
{
    *plugin_ctx = NULL;
    return PACTCL_OK;
}

static const char *profile_status(void *plugin_ctx)
{
    return "timing shim for model_bench --profile: every op, through the device's own backend";
}

static int profile_claims_device(void *plugin_ctx, const struct pactcl_plugin_device *dev)
{
    return 1;
}

static int profile_supports(void *plugin_ctx, const struct pactcl_plugin_device *dev,
                            const struct pactcl_op_call *call)
{
    return dev->iface->supports((struct pactcl_plugin_device *)dev, call);
}

/* Synced after the op, so that devices that queue work are charged per op. */
static int profile_run(void *plugin_ctx, struct pactcl_plugin_device *dev,
                       const struct pactcl_op_call *call)
{
    const double t0 = now_ms();
    int rc = dev->iface->run(dev, call);
    if (rc == PACTCL_OK)
        rc = dev->iface->sync(dev);
    const double ms = now_ms() - t0;
    if (rc == PACTCL_OK)
        record(call, ms);
    return rc;
}

static const struct pactcl_override profile_override = {
    .name = "profile",
    .priority = 1 << 30,
    .claims_device = profile_claims_device,
    .supports = profile_supports,
    .run = profile_run,
};

static int profile_override_count(void *plugin_ctx)
{
    return 1;
}

static const struct pactcl_override *profile_override_get(void *plugin_ctx, int index)
{
    return index == 0 ? &profile_override : NULL;
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "profile",
    .description = "model_bench --profile: times every op through the device's own backend",
    .init = profile_init,
    .status = profile_status,
    .override_count = profile_override_count,
    .override_get = profile_override_get,
};
