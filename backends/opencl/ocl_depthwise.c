/*
 * ocl_depthwise.c: depthwise convolution (kernels/depthwise_conv.cl).
 *
 * The program is specialised per (kernel size, stride): 3x3 and 5x5 with
 * equal strides 1 or 2 (every depthwise layer of MobileNetV3) get constant
 * loop bounds, anything else the generic variant.  The weight gradient is a
 * two-pass reduction over N*P*Q per channel and tap, without atomics.
 */
#include "ocl_internal.h"

#include <stdio.h>

struct dw {
    cl_uint N, C, H, W, P, Q, R, S, sh, sw, ph, pw;
    char defines[48];
};

static void dw_of(const struct pactcl_op_call *call, const struct pactcl_tensor *x,
                  const struct pactcl_tensor *w, const struct pactcl_tensor *y, struct dw *g)
{
    const struct pactcl_conv_params *p = &call->params.conv;
    *g = (struct dw){
        .N = (cl_uint)x->dims[0],
        .C = (cl_uint)x->dims[1],
        .H = (cl_uint)x->dims[2],
        .W = (cl_uint)x->dims[3],
        .P = (cl_uint)y->dims[2],
        .Q = (cl_uint)y->dims[3],
        .R = (cl_uint)w->dims[2],
        .S = (cl_uint)w->dims[3],
        .sh = (cl_uint)p->stride_h,
        .sw = (cl_uint)p->stride_w,
        .ph = (cl_uint)p->pad_h,
        .pw = (cl_uint)p->pad_w,
    };
    int ksize = g->R == g->S && (g->R == 3 || g->R == 5) ? (int)g->R : 0;
    int stride = g->sh == g->sw && (g->sh == 1 || g->sh == 2) ? (int)g->sh : 0;
    snprintf(g->defines, sizeof g->defines, "-DKSIZE=%d -DSTRIDE=%d", ksize, stride);
}

PACTCL_OCL_OP(pactcl_ocl_dwconv_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1], *b = call->args[2],
                               *y = call->args[3];
    struct dw g;
    dw_of(call, x, w, y, &g);
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "depthwise_conv", g.defines, "dw_fwd", &k));
    cl_mem xm = pactcl_ocl_mem(x), wm = pactcl_ocl_mem(w), ym = pactcl_ocl_mem(y);
    cl_mem bm = b ? pactcl_ocl_mem(b) : xm; /* any valid buffer when there is no bias */
    cl_uint xo = pactcl_ocl_off(x), wo = pactcl_ocl_off(w), yo = pactcl_ocl_off(y);
    cl_uint bo = b ? pactcl_ocl_off(b) : 0, has_bias = b != NULL, total = pactcl_ocl_numel(y);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm),    PACTCL_OCL_ARG(xo),   PACTCL_OCL_ARG(wm),       PACTCL_OCL_ARG(wo),
        PACTCL_OCL_ARG(bm),    PACTCL_OCL_ARG(bo),   PACTCL_OCL_ARG(has_bias), PACTCL_OCL_ARG(ym),
        PACTCL_OCL_ARG(yo),    PACTCL_OCL_ARG(g.C),  PACTCL_OCL_ARG(g.H),      PACTCL_OCL_ARG(g.W),
        PACTCL_OCL_ARG(g.P),   PACTCL_OCL_ARG(g.Q),  PACTCL_OCL_ARG(g.R),      PACTCL_OCL_ARG(g.S),
        PACTCL_OCL_ARG(g.sh),  PACTCL_OCL_ARG(g.sw), PACTCL_OCL_ARG(g.ph),     PACTCL_OCL_ARG(g.pw),
        PACTCL_OCL_ARG(total),
    };
    return pactcl_ocl_enqueue_1d(d, k, total, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_dwconv_bwd_data)
{
    const struct pactcl_tensor *dy = call->args[0], *w = call->args[1], *dx = call->args[2];
    struct dw g;
    dw_of(call, dx, w, dy, &g);
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "depthwise_conv", g.defines, "dw_bwd_data", &k));
    cl_mem gm = pactcl_ocl_mem(dy), wm = pactcl_ocl_mem(w), xm = pactcl_ocl_mem(dx);
    cl_uint go = pactcl_ocl_off(dy), wo = pactcl_ocl_off(w), xo = pactcl_ocl_off(dx);
    cl_uint total = pactcl_ocl_numel(dx);
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(gm),   PACTCL_OCL_ARG(go),    PACTCL_OCL_ARG(wm),   PACTCL_OCL_ARG(wo),
        PACTCL_OCL_ARG(xm),   PACTCL_OCL_ARG(xo),    PACTCL_OCL_ARG(g.C),  PACTCL_OCL_ARG(g.H),
        PACTCL_OCL_ARG(g.W),  PACTCL_OCL_ARG(g.P),   PACTCL_OCL_ARG(g.Q),  PACTCL_OCL_ARG(g.R),
        PACTCL_OCL_ARG(g.S),  PACTCL_OCL_ARG(g.sh),  PACTCL_OCL_ARG(g.sw), PACTCL_OCL_ARG(g.ph),
        PACTCL_OCL_ARG(g.pw), PACTCL_OCL_ARG(total),
    };
    return pactcl_ocl_enqueue_1d(d, k, total, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_dwconv_bwd_filter)
{
    const struct pactcl_tensor *x = call->args[0], *dy = call->args[1], *dw = call->args[2],
                               *db = call->args[3];
    struct dw g;
    dw_of(call, x, dw, dy, &g);
    const struct pactcl_ocl_kernel *kp, *kf;
    PACTCL_OCL_TRY(
        pactcl_ocl_kernel_get(d, "depthwise_conv", g.defines, "dw_bwd_filter_partial", &kp));
    PACTCL_OCL_TRY(
        pactcl_ocl_kernel_get(d, "depthwise_conv", g.defines, "dw_bwd_filter_finalize", &kf));
    const size_t M = (size_t)g.N * g.P * g.Q, rows = (size_t)g.C * (g.R * g.S + 1);
    const size_t L = pactcl_ocl_wg_for(kp, M);
    cl_uint G, chunk;
    pactcl_ocl_split(M, L, &G, &chunk);
    const size_t pbytes = rows * G * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));

    cl_mem xm = pactcl_ocl_mem(x), gm = pactcl_ocl_mem(dy), wm = pactcl_ocl_mem(dw);
    cl_mem bm = db ? pactcl_ocl_mem(db) : wm;
    cl_uint xo = pactcl_ocl_off(x), go = pactcl_ocl_off(dy), wo = pactcl_ocl_off(dw);
    cl_uint bo = db ? pactcl_ocl_off(db) : 0, has_bias = db != NULL;
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),
        PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(gm),
        PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(g.C),
        PACTCL_OCL_ARG(g.H),
        PACTCL_OCL_ARG(g.W),
        PACTCL_OCL_ARG(g.P),
        PACTCL_OCL_ARG(g.Q),
        PACTCL_OCL_ARG(g.R),
        PACTCL_OCL_ARG(g.S),
        PACTCL_OCL_ARG(g.sh),
        PACTCL_OCL_ARG(g.sw),
        PACTCL_OCL_ARG(g.ph),
        PACTCL_OCL_ARG(g.pw),
        PACTCL_OCL_ARG(g.N),
        PACTCL_OCL_ARG(chunk),
        PACTCL_OCL_ARG(part),
        PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    const size_t g1 = (size_t)g.C * G * L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        const size_t L2 = pactcl_ocl_wg_for(kf, G), g2 = rows * L2;
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part),     PACTCL_OCL_ARG(G),
            PACTCL_OCL_ARG(g.R),      PACTCL_OCL_ARG(g.S),
            PACTCL_OCL_ARG(wm),       PACTCL_OCL_ARG(wo),
            PACTCL_OCL_ARG(bm),       PACTCL_OCL_ARG(bo),
            PACTCL_OCL_ARG(has_bias), PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, kf, g2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}
