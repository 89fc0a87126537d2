/*
 * ocl_int8.c: the int8 inference ops of the exported model (kernels/int8.cl):
 * quantization of activations, and int8 convolution, depthwise convolution
 * and linear layers with int32 accumulation and per-channel requantization.
 * CLBlast has no int8 GEMM (CLBlast #202), hence our own kernels.
 */
#include "ocl_internal.h"

/* The arguments every int8 layer shares: q w mult bias -> y. */
struct layer {
    cl_mem x, w, mult, bias, y;
    cl_uint xo, wo, mo, bo, yo, total;
    cl_int act;
};

static struct layer layer_of(const struct pactcl_op_call *call)
{
    struct pactcl_tensor *const *a = call->args;
    return (struct layer){
        .x = pactcl_ocl_mem(a[0]),
        .w = pactcl_ocl_mem(a[1]),
        .mult = pactcl_ocl_mem(a[2]),
        .bias = pactcl_ocl_mem(a[3]),
        .y = pactcl_ocl_mem(a[4]),
        .xo = pactcl_ocl_off(a[0]),
        .wo = pactcl_ocl_off(a[1]),
        .mo = pactcl_ocl_off(a[2]),
        .bo = pactcl_ocl_off(a[3]),
        .yo = pactcl_ocl_off(a[4]),
        .total = pactcl_ocl_numel(a[4]),
        .act = call->params.int8.act,
    };
}

PACTCL_OCL_OP(pactcl_ocl_quantize_i8)
{
    const struct pactcl_tensor *x = call->args[0], *scale = call->args[1], *q = call->args[2];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "int8", "", "quantize_i8", &k));
    cl_mem xm = pactcl_ocl_mem(x), sm = pactcl_ocl_mem(scale), qm = pactcl_ocl_mem(q);
    cl_uint xo = pactcl_ocl_off(x), so = pactcl_ocl_off(scale), qo = pactcl_ocl_off(q);
    cl_uint n = pactcl_ocl_numel(x);
    float bin = (float)((1 << (call->params.int8.bits - 1)) - 1);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm),  PACTCL_OCL_ARG(xo), PACTCL_OCL_ARG(sm), PACTCL_OCL_ARG(so),
        PACTCL_OCL_ARG(bin), PACTCL_OCL_ARG(qm), PACTCL_OCL_ARG(qo), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_conv2d_i8)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1], *y = call->args[4];
    const struct pactcl_conv_params *p = &call->params.int8.conv;
    struct layer l = layer_of(call);
    cl_uint C = (cl_uint)x->dims[1], H = (cl_uint)x->dims[2], W = (cl_uint)x->dims[3];
    cl_uint K = (cl_uint)w->dims[0], R = (cl_uint)w->dims[2], S = (cl_uint)w->dims[3];
    cl_uint P = (cl_uint)y->dims[2], Q = (cl_uint)y->dims[3];
    cl_uint sh = (cl_uint)p->stride_h, sw = (cl_uint)p->stride_w;
    cl_uint ph = (cl_uint)p->pad_h, pw = (cl_uint)p->pad_w;
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "int8", "", "conv2d_i8", &k));
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(l.x),    PACTCL_OCL_ARG(l.xo),   PACTCL_OCL_ARG(l.w),
        PACTCL_OCL_ARG(l.wo),   PACTCL_OCL_ARG(l.mult), PACTCL_OCL_ARG(l.mo),
        PACTCL_OCL_ARG(l.bias), PACTCL_OCL_ARG(l.bo),   PACTCL_OCL_ARG(l.y),
        PACTCL_OCL_ARG(l.yo),   PACTCL_OCL_ARG(C),      PACTCL_OCL_ARG(H),
        PACTCL_OCL_ARG(W),      PACTCL_OCL_ARG(K),      PACTCL_OCL_ARG(R),
        PACTCL_OCL_ARG(S),      PACTCL_OCL_ARG(P),      PACTCL_OCL_ARG(Q),
        PACTCL_OCL_ARG(sh),     PACTCL_OCL_ARG(sw),     PACTCL_OCL_ARG(ph),
        PACTCL_OCL_ARG(pw),     PACTCL_OCL_ARG(l.act),  PACTCL_OCL_ARG(l.total),
    };
    return pactcl_ocl_enqueue_1d(d, k, l.total, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_dwconv_i8)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1], *y = call->args[4];
    const struct pactcl_conv_params *p = &call->params.int8.conv;
    struct layer l = layer_of(call);
    cl_uint C = (cl_uint)x->dims[1], H = (cl_uint)x->dims[2], W = (cl_uint)x->dims[3];
    cl_uint R = (cl_uint)w->dims[2], S = (cl_uint)w->dims[3];
    cl_uint P = (cl_uint)y->dims[2], Q = (cl_uint)y->dims[3];
    cl_uint sh = (cl_uint)p->stride_h, sw = (cl_uint)p->stride_w;
    cl_uint ph = (cl_uint)p->pad_h, pw = (cl_uint)p->pad_w;
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "int8", "", "dwconv_i8", &k));
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(l.x),    PACTCL_OCL_ARG(l.xo),    PACTCL_OCL_ARG(l.w),
        PACTCL_OCL_ARG(l.wo),   PACTCL_OCL_ARG(l.mult),  PACTCL_OCL_ARG(l.mo),
        PACTCL_OCL_ARG(l.bias), PACTCL_OCL_ARG(l.bo),    PACTCL_OCL_ARG(l.y),
        PACTCL_OCL_ARG(l.yo),   PACTCL_OCL_ARG(C),       PACTCL_OCL_ARG(H),
        PACTCL_OCL_ARG(W),      PACTCL_OCL_ARG(R),       PACTCL_OCL_ARG(S),
        PACTCL_OCL_ARG(P),      PACTCL_OCL_ARG(Q),       PACTCL_OCL_ARG(sh),
        PACTCL_OCL_ARG(sw),     PACTCL_OCL_ARG(ph),      PACTCL_OCL_ARG(pw),
        PACTCL_OCL_ARG(l.act),  PACTCL_OCL_ARG(l.total),
    };
    return pactcl_ocl_enqueue_1d(d, k, l.total, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_linear_i8)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1];
    struct layer l = layer_of(call);
    cl_uint I = (cl_uint)x->dims[1], O = (cl_uint)w->dims[1];
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "int8", "", "linear_i8", &k));
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(l.x),    PACTCL_OCL_ARG(l.xo),    PACTCL_OCL_ARG(l.w),
        PACTCL_OCL_ARG(l.wo),   PACTCL_OCL_ARG(l.mult),  PACTCL_OCL_ARG(l.mo),
        PACTCL_OCL_ARG(l.bias), PACTCL_OCL_ARG(l.bo),    PACTCL_OCL_ARG(l.y),
        PACTCL_OCL_ARG(l.yo),   PACTCL_OCL_ARG(I),       PACTCL_OCL_ARG(O),
        PACTCL_OCL_ARG(l.act),  PACTCL_OCL_ARG(l.total),
    };
    return pactcl_ocl_enqueue_1d(d, k, l.total, a, PACTCL_OCL_NARGS(a));
}
