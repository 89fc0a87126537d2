/*
 * ocl_loss.c: softmax cross-entropy and top-k accuracy (kernels/loss.cl).
 *
 * Labels are validated on the device (see loss.cl): these ops mark the
 * device's error flag as pending and return at once; an out-of-range label is
 * reported by the next sync or buffer read (ocl_device.c), which is when the
 * host first looks at the results anyway.
 */
#include "ocl_internal.h"

static cl_int code_of(const struct pactcl_op_call *call)
{
    return (cl_int)call->op + 1;
}

PACTCL_OCL_OP(pactcl_ocl_softmax_ce_fwd)
{
    const struct pactcl_tensor *logits = call->args[0], *labels = call->args[1],
                               *loss = call->args[2], *prob = call->args[3];
    const struct pactcl_ocl_kernel *kr, *km;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "loss", "", "softmax_ce_rows", &kr));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "loss", "", "softmax_ce_mean", &km));
    cl_uint N = (cl_uint)logits->dims[0], K = (cl_uint)logits->dims[1];
    const size_t rbytes = (size_t)N * sizeof(float);
    cl_mem rowloss;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, rbytes, &rowloss));
    cl_mem xm = pactcl_ocl_mem(logits), lm = pactcl_ocl_mem(labels), pm = pactcl_ocl_mem(prob);
    cl_uint xo = pactcl_ocl_off(logits), lbo = pactcl_ocl_off(labels), po = pactcl_ocl_off(prob);
    cl_int code = code_of(call);
    const size_t L = pactcl_ocl_wg_for(kr, K), g = N * L;
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),
        PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(lm),
        PACTCL_OCL_ARG(lbo),
        PACTCL_OCL_ARG(K),
        PACTCL_OCL_ARG(pm),
        PACTCL_OCL_ARG(po),
        PACTCL_OCL_ARG(rowloss),
        PACTCL_OCL_ARG(d->error_flag),
        PACTCL_OCL_ARG(code),
        PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    int rc = pactcl_ocl_enqueue(d, kr, g, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        d->flag_pending = 1;
        cl_mem om = pactcl_ocl_mem(loss);
        cl_uint oo = pactcl_ocl_off(loss);
        const size_t L2 = pactcl_ocl_wg_for(km, N);
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(rowloss),
            PACTCL_OCL_ARG(N),
            PACTCL_OCL_ARG(om),
            PACTCL_OCL_ARG(oo),
            PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, km, L2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, rowloss, rbytes);
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_softmax_ce_bwd)
{
    const struct pactcl_tensor *prob = call->args[0], *labels = call->args[1], *dl = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "loss", "", "softmax_ce_bwd", &k));
    cl_uint N = (cl_uint)prob->dims[0], K = (cl_uint)prob->dims[1];
    cl_mem pm = pactcl_ocl_mem(prob), lm = pactcl_ocl_mem(labels), dm = pactcl_ocl_mem(dl);
    cl_uint po = pactcl_ocl_off(prob), lbo = pactcl_ocl_off(labels), dlo = pactcl_ocl_off(dl);
    cl_int code = code_of(call);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(pm),   PACTCL_OCL_ARG(po),  PACTCL_OCL_ARG(lm),
        PACTCL_OCL_ARG(lbo),  PACTCL_OCL_ARG(N),   PACTCL_OCL_ARG(K),
        PACTCL_OCL_ARG(dm),   PACTCL_OCL_ARG(dlo), PACTCL_OCL_ARG(d->error_flag),
        PACTCL_OCL_ARG(code),
    };
    int rc = pactcl_ocl_enqueue_1d(d, k, (size_t)N * K, a, PACTCL_OCL_NARGS(a));
    if (rc == PACTCL_OK)
        d->flag_pending = 1;
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_topk_accuracy)
{
    const struct pactcl_tensor *logits = call->args[0], *labels = call->args[1],
                               *correct = call->args[2];
    const struct pactcl_ocl_kernel *kr, *ks;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "loss", "", "topk_rows", &kr));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "loss", "", "topk_sum", &ks));
    cl_uint N = (cl_uint)logits->dims[0], K = (cl_uint)logits->dims[1];
    cl_uint k0 = (cl_uint)call->params.topk.k[0], k1 = (cl_uint)call->params.topk.k[1];
    const size_t hbytes = 2 * (size_t)N * sizeof(cl_uint);
    cl_mem hits;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, hbytes, &hits));
    cl_mem xm = pactcl_ocl_mem(logits), lm = pactcl_ocl_mem(labels);
    cl_uint xo = pactcl_ocl_off(logits), lbo = pactcl_ocl_off(labels);
    cl_int code = code_of(call);
    const size_t L = pactcl_ocl_wg_for(kr, K), g = N * L;
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),
        PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(lm),
        PACTCL_OCL_ARG(lbo),
        PACTCL_OCL_ARG(K),
        PACTCL_OCL_ARG(k0),
        PACTCL_OCL_ARG(k1),
        PACTCL_OCL_ARG(hits),
        PACTCL_OCL_ARG(d->error_flag),
        PACTCL_OCL_ARG(code),
        PACTCL_OCL_LOCAL(L * sizeof(cl_uint)),
    };
    int rc = pactcl_ocl_enqueue(d, kr, g, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        d->flag_pending = 1;
        cl_mem cm = pactcl_ocl_mem(correct);
        cl_uint co = pactcl_ocl_off(correct);
        const size_t L2 = pactcl_ocl_wg_for(ks, N);
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(hits),
            PACTCL_OCL_ARG(N),
            PACTCL_OCL_ARG(cm),
            PACTCL_OCL_ARG(co),
            PACTCL_OCL_LOCAL(L2 * sizeof(cl_uint)),
        };
        rc = pactcl_ocl_enqueue(d, ks, L2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, hits, hbytes);
    return rc;
}
