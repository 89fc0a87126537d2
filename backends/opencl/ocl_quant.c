/*
 * ocl_quant.c: PACT (kernels/pact.cl) and fake quantization
 * (kernels/fake_quant.cl).  Alpha, the per-channel scales and the
 * moving-average state are device buffers read and written by the kernels:
 * a training step never waits for the host.
 */
#include "ocl_internal.h"

static float bin_of(int bits)
{
    return (float)((1 << (bits - 1)) - 1);
}

PACTCL_OCL_OP(pactcl_ocl_pact_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *alpha = call->args[1], *y = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pact", "", "pact_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), am = pactcl_ocl_mem(alpha), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), ao = pactcl_ocl_off(alpha), yo = pactcl_ocl_off(y);
    cl_uint n = pactcl_ocl_numel(x);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(am), PACTCL_OCL_ARG(ao),
        PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_pact_bwd)
{
    const struct pactcl_tensor *x = call->args[0], *alpha = call->args[1], *dy = call->args[2],
                               *dx = call->args[3], *dalpha = call->args[4];
    const struct pactcl_ocl_kernel *k, *kf;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pact", "", "pact_bwd", &k));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pact", "", "pact_bwd_finalize", &kf));
    cl_uint n = pactcl_ocl_numel(x), G, chunk;
    const size_t L = pactcl_ocl_wg_for(k, n);
    pactcl_ocl_split(n, L, &G, &chunk);
    const size_t pbytes = G * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));
    cl_mem xm = pactcl_ocl_mem(x), am = pactcl_ocl_mem(alpha), gm = pactcl_ocl_mem(dy);
    cl_mem dxm = pactcl_ocl_mem(dx), dam = pactcl_ocl_mem(dalpha);
    cl_uint xo = pactcl_ocl_off(x), ao = pactcl_ocl_off(alpha), go = pactcl_ocl_off(dy);
    cl_uint dxo = pactcl_ocl_off(dx), dao = pactcl_ocl_off(dalpha);
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),
        PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(am),
        PACTCL_OCL_ARG(ao),
        PACTCL_OCL_ARG(gm),
        PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(dxm),
        PACTCL_OCL_ARG(dxo),
        PACTCL_OCL_ARG(n),
        PACTCL_OCL_ARG(part),
        PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    const size_t g1 = G * L;
    int rc = pactcl_ocl_enqueue(d, k, g1, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        const size_t L2 = pactcl_ocl_wg_for(kf, G);
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part),
            PACTCL_OCL_ARG(G),
            PACTCL_OCL_ARG(dam),
            PACTCL_OCL_ARG(dao),
            PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, kf, L2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_fq_channel_fwd)
{
    const struct pactcl_tensor *w = call->args[0], *wq = call->args[1], *scale = call->args[2];
    const int axis = call->params.fake_quant.axis;
    /* w as [outer][C][inner] with C the quantised axis. */
    cl_uint outer = axis == 0 ? 1 : (cl_uint)w->dims[0], C = (cl_uint)w->dims[axis], inner = 1;
    for (int i = axis + 1; i < w->ndim; i++)
        inner *= (cl_uint)w->dims[i];
    const struct pactcl_ocl_kernel *kp, *kf, *ka;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_chan_partial_absmax", &kp));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_chan_finalize", &kf));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_chan_apply", &ka));
    const size_t m = (size_t)outer * inner, L = pactcl_ocl_wg_for(kp, m);
    cl_uint G, chunk;
    pactcl_ocl_split(m, L, &G, &chunk);
    const size_t pbytes = (size_t)G * C * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));
    cl_mem wm = pactcl_ocl_mem(w), sm = pactcl_ocl_mem(scale), qm = pactcl_ocl_mem(wq);
    cl_uint wo = pactcl_ocl_off(w), so = pactcl_ocl_off(scale), qo = pactcl_ocl_off(wq);
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(wm),    PACTCL_OCL_ARG(wo),
        PACTCL_OCL_ARG(outer), PACTCL_OCL_ARG(C),
        PACTCL_OCL_ARG(inner), PACTCL_OCL_ARG(chunk),
        PACTCL_OCL_ARG(part),  PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    const size_t g1 = (size_t)C * G * L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        const size_t L2 = pactcl_ocl_wg_for(kf, G), g2 = C * L2;
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part),
            PACTCL_OCL_ARG(G),
            PACTCL_OCL_ARG(sm),
            PACTCL_OCL_ARG(so),
            PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, kf, g2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    if (rc == PACTCL_OK) {
        cl_uint n = pactcl_ocl_numel(w);
        float bin = bin_of(call->params.fake_quant.bits);
        const struct pactcl_ocl_arg a3[] = {
            PACTCL_OCL_ARG(wm), PACTCL_OCL_ARG(wo),    PACTCL_OCL_ARG(sm),  PACTCL_OCL_ARG(so),
            PACTCL_OCL_ARG(C),  PACTCL_OCL_ARG(inner), PACTCL_OCL_ARG(bin), PACTCL_OCL_ARG(qm),
            PACTCL_OCL_ARG(qo), PACTCL_OCL_ARG(n),
        };
        rc = pactcl_ocl_enqueue_1d(d, ka, n, a3, PACTCL_OCL_NARGS(a3));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}

/* The moving-average update shared by FQ_MOVING_AVG_FWD (training) and
 * MA_OBSERVE: max|x| in two passes, then the state update, on the device. */
static int ma_update(struct pactcl_ocl_device *d, const struct pactcl_op_call *call,
                     const struct pactcl_tensor *x, const struct pactcl_tensor *scale,
                     const struct pactcl_tensor *state, const struct pactcl_tensor *accum)
{
    const struct pactcl_ocl_kernel *kp, *ku;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_absmax_partial", &kp));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_ma_update", &ku));
    cl_uint n = pactcl_ocl_numel(x), G, chunk;
    const size_t L = pactcl_ocl_wg_for(kp, n);
    pactcl_ocl_split(n, L, &G, &chunk);
    const size_t pbytes = G * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));
    cl_mem xm = pactcl_ocl_mem(x);
    cl_uint xo = pactcl_ocl_off(x);
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),
        PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(n),
        PACTCL_OCL_ARG(part),
        PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    const size_t g1 = G * L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        cl_mem sm = pactcl_ocl_mem(scale), stm = pactcl_ocl_mem(state), am = pactcl_ocl_mem(accum);
        cl_uint so = pactcl_ocl_off(scale), sto = pactcl_ocl_off(state), ao = pactcl_ocl_off(accum);
        float rate = call->params.fake_quant.moving_rate;
        const size_t L2 = pactcl_ocl_wg_for(ku, G);
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part), PACTCL_OCL_ARG(G),
            PACTCL_OCL_ARG(rate), PACTCL_OCL_ARG(sm),
            PACTCL_OCL_ARG(so),   PACTCL_OCL_ARG(stm),
            PACTCL_OCL_ARG(sto),  PACTCL_OCL_ARG(am),
            PACTCL_OCL_ARG(ao),   PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, ku, L2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_fq_moving_avg_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *scale = call->args[1], *state = call->args[2],
                               *accum = call->args[3], *y = call->args[4];
    if (!call->params.fake_quant.is_test)
        PACTCL_OCL_TRY(ma_update(d, call, x, scale, state, accum));
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "fake_quant", "", "fq_apply", &k));
    cl_mem xm = pactcl_ocl_mem(x), sm = pactcl_ocl_mem(scale), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), so = pactcl_ocl_off(scale), yo = pactcl_ocl_off(y);
    cl_uint n = pactcl_ocl_numel(x);
    float bin = bin_of(call->params.fake_quant.bits);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm),  PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(sm), PACTCL_OCL_ARG(so),
        PACTCL_OCL_ARG(bin), PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_ma_observe)
{
    return ma_update(d, call, call->args[0], call->args[1], call->args[2], call->args[3]);
}
