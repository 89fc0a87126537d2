/*
 * ocl_ops.c: the op table of the OpenCL backend and the iface's supports/run.
 *
 * The core has validated every call (shapes, dtypes, devices); what is left
 * here is what only this backend knows: the device must open, and every
 * tensor must fit the 32-bit indices of the kernels.
 */
#include "ocl_internal.h"

#include <stdint.h>

typedef int (*op_fn)(struct pactcl_ocl_device *d, const struct pactcl_op_call *call);

static const op_fn ops[PACTCL_OP_COUNT] = {
    [PACTCL_OP_CONV2D_FWD] = pactcl_ocl_conv2d_fwd,
    [PACTCL_OP_CONV2D_BWD_DATA] = pactcl_ocl_conv2d_bwd_data,
    [PACTCL_OP_CONV2D_BWD_FILTER] = pactcl_ocl_conv2d_bwd_filter,
    [PACTCL_OP_DWCONV_FWD] = pactcl_ocl_dwconv_fwd,
    [PACTCL_OP_DWCONV_BWD_DATA] = pactcl_ocl_dwconv_bwd_data,
    [PACTCL_OP_DWCONV_BWD_FILTER] = pactcl_ocl_dwconv_bwd_filter,
    [PACTCL_OP_BN_FWD_TRAIN] = pactcl_ocl_bn_fwd_train,
    [PACTCL_OP_BN_FWD_EVAL] = pactcl_ocl_bn_fwd_eval,
    [PACTCL_OP_BN_BWD] = pactcl_ocl_bn_bwd,
    [PACTCL_OP_RELU_FWD] = pactcl_ocl_relu_fwd,
    [PACTCL_OP_RELU_BWD] = pactcl_ocl_relu_bwd,
    [PACTCL_OP_HARDSWISH_FWD] = pactcl_ocl_hardswish_fwd,
    [PACTCL_OP_HARDSWISH_BWD] = pactcl_ocl_hardswish_bwd,
    [PACTCL_OP_HARDSIGMOID_FWD] = pactcl_ocl_hardsigmoid_fwd,
    [PACTCL_OP_HARDSIGMOID_BWD] = pactcl_ocl_hardsigmoid_bwd,
    [PACTCL_OP_AVGPOOL_FWD] = pactcl_ocl_avgpool_fwd,
    [PACTCL_OP_AVGPOOL_BWD] = pactcl_ocl_avgpool_bwd,
    [PACTCL_OP_SE_SCALE_FWD] = pactcl_ocl_se_scale_fwd,
    [PACTCL_OP_SE_SCALE_BWD] = pactcl_ocl_se_scale_bwd,
    [PACTCL_OP_ADD] = pactcl_ocl_add,
    [PACTCL_OP_LINEAR_FWD] = pactcl_ocl_linear_fwd,
    [PACTCL_OP_LINEAR_BWD_DATA] = pactcl_ocl_linear_bwd_data,
    [PACTCL_OP_LINEAR_BWD_WEIGHT] = pactcl_ocl_linear_bwd_weight,
    [PACTCL_OP_DROPOUT_FWD] = pactcl_ocl_dropout_fwd,
    [PACTCL_OP_DROPOUT_BWD] = pactcl_ocl_dropout_bwd,
    [PACTCL_OP_SOFTMAX_CE_FWD] = pactcl_ocl_softmax_ce_fwd,
    [PACTCL_OP_SOFTMAX_CE_BWD] = pactcl_ocl_softmax_ce_bwd,
    [PACTCL_OP_TOPK_ACCURACY] = pactcl_ocl_topk_accuracy,
    [PACTCL_OP_PACT_FWD] = pactcl_ocl_pact_fwd,
    [PACTCL_OP_PACT_BWD] = pactcl_ocl_pact_bwd,
    [PACTCL_OP_FQ_CHANNEL_FWD] = pactcl_ocl_fq_channel_fwd,
    [PACTCL_OP_FQ_MOVING_AVG_FWD] = pactcl_ocl_fq_moving_avg_fwd,
    [PACTCL_OP_MA_OBSERVE] = pactcl_ocl_ma_observe,
    [PACTCL_OP_SGD_MOMENTUM] = pactcl_ocl_sgd_momentum,
    [PACTCL_OP_QUANTIZE_I8] = pactcl_ocl_quantize_i8,
    [PACTCL_OP_CONV2D_I8] = pactcl_ocl_conv2d_i8,
    [PACTCL_OP_DWCONV_I8] = pactcl_ocl_dwconv_i8,
    [PACTCL_OP_LINEAR_I8] = pactcl_ocl_linear_i8,
};

/* The plugin does not link libpactcl, so it keeps its own copy of the names. */
static const char *const op_names[] = {
#define OCL_OP_NAME_(id, name, nargs) name,
    PACTCL_OP_LIST(OCL_OP_NAME_)
#undef OCL_OP_NAME_
};
_Static_assert(sizeof op_names / sizeof op_names[0] == PACTCL_OP_COUNT, "op name table");

const char *pactcl_ocl_op_name(enum pactcl_op op)
{
    return (unsigned)op < PACTCL_OP_COUNT ? op_names[op] : "unknown op";
}

int pactcl_ocl_supports(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    return (unsigned)call->op < PACTCL_OP_COUNT && ops[call->op] != NULL;
}

/* Whether the last element of every tensor has a 32-bit element index. */
static int fits_u32(const struct pactcl_op_call *call, int *bad)
{
    for (int i = 0; i < call->nargs; i++) {
        const struct pactcl_tensor *t = call->args[i];
        if (!t)
            continue;
        size_t esize = (t->dtype == PACTCL_U8 || t->dtype == PACTCL_I8) ? 1 : 4;
        uint64_t end = (uint64_t)(t->offset / esize) + (uint64_t)pactcl_plugin_numel(t);
        if (end > UINT32_MAX) {
            *bad = i;
            return 0;
        }
    }
    return 1;
}

int pactcl_ocl_run(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    if (!pactcl_ocl_supports(dev, call))
        return pactcl_ocl_error(PACTCL_EUNSUPPORTED, "op %d is not supported on %s", (int)call->op,
                                d->id_str);
    d->what = op_names[call->op];
    int rc = pactcl_ocl_device_open(d);
    if (rc != PACTCL_OK)
        return rc;
    int bad = -1;
    if (!fits_u32(call, &bad))
        return pactcl_ocl_error(PACTCL_EUNSUPPORTED,
                                "%s on %s: argument %d has %lld elements, beyond the 2^32 that the "
                                "OpenCL kernels index; try a smaller batch",
                                d->what, d->id_str, bad,
                                (long long)pactcl_plugin_numel(call->args[bad]));
    return ops[call->op](d, call);
}
