/*
 * ocl_elementwise.c: the ops that touch each element once: activations
 * (activation.cl, hardswish.cl), dropout (dropout.cl), and pooling, the SE
 * channel scale and the residual add (pool_se.cl).
 */
#include "ocl_internal.h"

/* y = f(x) for kernels taking (x, xo, y, yo, n). */
static int unary(struct pactcl_ocl_device *d, const char *file, const char *kname,
                 const struct pactcl_tensor *x, const struct pactcl_tensor *y)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, file, "", kname, &k));
    cl_mem xm = pactcl_ocl_mem(x), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), yo = pactcl_ocl_off(y), n = pactcl_ocl_numel(x);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(ym),
        PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

/* out = f(a, b) for kernels taking (a, ao, b, bo, out, oo, n). */
static int binary(struct pactcl_ocl_device *d, const char *file, const char *kname,
                  const struct pactcl_tensor *a, const struct pactcl_tensor *b,
                  const struct pactcl_tensor *out)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, file, "", kname, &k));
    cl_mem am = pactcl_ocl_mem(a), bm = pactcl_ocl_mem(b), om = pactcl_ocl_mem(out);
    cl_uint ao = pactcl_ocl_off(a), bo = pactcl_ocl_off(b), oo = pactcl_ocl_off(out);
    cl_uint n = pactcl_ocl_numel(a);
    const struct pactcl_ocl_arg args[] = {
        PACTCL_OCL_ARG(am), PACTCL_OCL_ARG(ao), PACTCL_OCL_ARG(bm), PACTCL_OCL_ARG(bo),
        PACTCL_OCL_ARG(om), PACTCL_OCL_ARG(oo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, args, PACTCL_OCL_NARGS(args));
}

PACTCL_OCL_OP(pactcl_ocl_relu_fwd)
{
    return unary(d, "activation", "relu_fwd", call->args[0], call->args[1]);
}

PACTCL_OCL_OP(pactcl_ocl_relu_bwd)
{
    return binary(d, "activation", "relu_bwd", call->args[0], call->args[1], call->args[2]);
}

PACTCL_OCL_OP(pactcl_ocl_hardswish_fwd)
{
    return unary(d, "hardswish", "hardswish_fwd", call->args[0], call->args[1]);
}

PACTCL_OCL_OP(pactcl_ocl_hardswish_bwd)
{
    return binary(d, "hardswish", "hardswish_bwd", call->args[0], call->args[1], call->args[2]);
}

PACTCL_OCL_OP(pactcl_ocl_add)
{
    return binary(d, "pool_se", "add", call->args[0], call->args[1], call->args[2]);
}

PACTCL_OCL_OP(pactcl_ocl_hardsigmoid_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *y = call->args[1];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "activation", "", "hardsigmoid_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), yo = pactcl_ocl_off(y), n = pactcl_ocl_numel(x);
    float slope = call->params.hardsigmoid.slope, offset = call->params.hardsigmoid.offset;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(slope), PACTCL_OCL_ARG(offset),
        PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_hardsigmoid_bwd)
{
    const struct pactcl_tensor *y = call->args[0], *dy = call->args[1], *dx = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "activation", "", "hardsigmoid_bwd", &k));
    cl_mem ym = pactcl_ocl_mem(y), gm = pactcl_ocl_mem(dy), xm = pactcl_ocl_mem(dx);
    cl_uint yo = pactcl_ocl_off(y), go = pactcl_ocl_off(dy), xo = pactcl_ocl_off(dx);
    cl_uint n = pactcl_ocl_numel(y);
    float slope = call->params.hardsigmoid.slope;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(ym),    PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(gm), PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(slope), PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

/* ---- pooling and SE scale: rows of HW elements ---------------------------- */

static cl_uint hw_of(const struct pactcl_tensor *t)
{
    return (cl_uint)(t->dims[2] * t->dims[3]);
}

PACTCL_OCL_OP(pactcl_ocl_avgpool_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *y = call->args[1];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pool_se", "", "avgpool_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), yo = pactcl_ocl_off(y), HW = hw_of(x);
    const size_t L = pactcl_ocl_wg_for(k, HW), rows = pactcl_ocl_numel(y), g = rows * L;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(HW),
        PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo), PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    return pactcl_ocl_enqueue(d, k, g, L, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_avgpool_bwd)
{
    const struct pactcl_tensor *dy = call->args[0], *dx = call->args[1];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pool_se", "", "avgpool_bwd", &k));
    cl_mem gm = pactcl_ocl_mem(dy), xm = pactcl_ocl_mem(dx);
    cl_uint go = pactcl_ocl_off(dy), xo = pactcl_ocl_off(dx), HW = hw_of(dx);
    cl_uint n = pactcl_ocl_numel(dx);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(gm), PACTCL_OCL_ARG(go), PACTCL_OCL_ARG(HW),
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_se_scale_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *s = call->args[1], *y = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pool_se", "", "se_scale_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), sm = pactcl_ocl_mem(s), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), so = pactcl_ocl_off(s), yo = pactcl_ocl_off(y);
    cl_uint HW = hw_of(x), n = pactcl_ocl_numel(x);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(sm), PACTCL_OCL_ARG(so),
        PACTCL_OCL_ARG(HW), PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_se_scale_bwd)
{
    const struct pactcl_tensor *x = call->args[0], *s = call->args[1], *dy = call->args[2],
                               *dx = call->args[3], *ds = call->args[4];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "pool_se", "", "se_scale_bwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), sm = pactcl_ocl_mem(s), gm = pactcl_ocl_mem(dy);
    cl_mem dxm = pactcl_ocl_mem(dx), dsm = pactcl_ocl_mem(ds);
    cl_uint xo = pactcl_ocl_off(x), so = pactcl_ocl_off(s), go = pactcl_ocl_off(dy);
    cl_uint dxo = pactcl_ocl_off(dx), dso = pactcl_ocl_off(ds), HW = hw_of(x);
    const size_t L = pactcl_ocl_wg_for(k, HW), rows = pactcl_ocl_numel(s), g = rows * L;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm),  PACTCL_OCL_ARG(xo),  PACTCL_OCL_ARG(sm),
        PACTCL_OCL_ARG(so),  PACTCL_OCL_ARG(gm),  PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(HW),  PACTCL_OCL_ARG(dxm), PACTCL_OCL_ARG(dxo),
        PACTCL_OCL_ARG(dsm), PACTCL_OCL_ARG(dso), PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    return pactcl_ocl_enqueue(d, k, g, L, a, PACTCL_OCL_NARGS(a));
}

/* ---- dropout ----------------------------------------------------------------- */

PACTCL_OCL_OP(pactcl_ocl_dropout_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *y = call->args[1], *mask = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "dropout", "", "dropout_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), ym = pactcl_ocl_mem(y), mm = pactcl_ocl_mem(mask);
    cl_uint xo = pactcl_ocl_off(x), yo = pactcl_ocl_off(y), mo = pactcl_ocl_off(mask);
    cl_uint n = pactcl_ocl_numel(x);
    float p = call->params.dropout.p, keep = 1.0f - p;
    cl_uint lo = (cl_uint)call->params.dropout.seed,
            hi = (cl_uint)(call->params.dropout.seed >> 32);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(p),  PACTCL_OCL_ARG(keep),
        PACTCL_OCL_ARG(lo), PACTCL_OCL_ARG(hi), PACTCL_OCL_ARG(ym), PACTCL_OCL_ARG(yo),
        PACTCL_OCL_ARG(mm), PACTCL_OCL_ARG(mo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_dropout_bwd)
{
    const struct pactcl_tensor *dy = call->args[0], *mask = call->args[1], *dx = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "dropout", "", "dropout_bwd", &k));
    cl_mem gm = pactcl_ocl_mem(dy), mm = pactcl_ocl_mem(mask), xm = pactcl_ocl_mem(dx);
    cl_uint go = pactcl_ocl_off(dy), mo = pactcl_ocl_off(mask), xo = pactcl_ocl_off(dx);
    cl_uint n = pactcl_ocl_numel(dy);
    float keep = 1.0f - call->params.dropout.p;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(gm),   PACTCL_OCL_ARG(go), PACTCL_OCL_ARG(mm), PACTCL_OCL_ARG(mo),
        PACTCL_OCL_ARG(keep), PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}
