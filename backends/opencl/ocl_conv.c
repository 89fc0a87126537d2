/*
 * ocl_conv.c: dense convolution (groups = 1), forward and both gradients, as
 * GEMMs in CLBlast.
 *
 * A 1x1 convolution with stride 1 and no padding (every pointwise conv of
 * MobileNetV3) is a GEMM per image on the NCHW tensors themselves, batched
 * over the images.  Any other geometry (the 3x3 stride-2 stem) goes through
 * im2col/col2im (kernels/conv.cl) in chunks of images whose columns fit the
 * scratch budget.  The weight gradient is computed per image into scratch
 * and summed over images in order (reduce.cl batch_sum): no atomics, the
 * same result every run.
 */
#include "ocl_internal.h"

struct geom {
    cl_uint N, C, H, W, K, R, S, P, Q, sh, sw, ph, pw;
};

static void geom_of(const struct pactcl_op_call *call, const struct pactcl_tensor *x,
                    const struct pactcl_tensor *w, const struct pactcl_tensor *y, struct geom *g)
{
    const struct pactcl_conv_params *p = &call->params.conv;
    *g = (struct geom){
        .N = (cl_uint)x->dims[0],
        .C = (cl_uint)x->dims[1],
        .H = (cl_uint)x->dims[2],
        .W = (cl_uint)x->dims[3],
        .K = (cl_uint)w->dims[0],
        .R = (cl_uint)w->dims[2],
        .S = (cl_uint)w->dims[3],
        .P = (cl_uint)y->dims[2],
        .Q = (cl_uint)y->dims[3],
        .sh = (cl_uint)p->stride_h,
        .sw = (cl_uint)p->stride_w,
        .ph = (cl_uint)p->pad_h,
        .pw = (cl_uint)p->pad_w,
    };
}

static int pointwise(const struct geom *g)
{
    return g->R == 1 && g->S == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* Images per chunk when each needs `per_image` bytes of scratch. */
static cl_uint chunk_images(const struct pactcl_ocl_device *d, const struct geom *g,
                            size_t per_image)
{
    size_t nb = pactcl_ocl_chunk_budget(d) / (per_image ? per_image : 1);
    if (nb < 1)
        nb = 1;
    return nb < g->N ? (cl_uint)nb : g->N;
}

static int im2col(struct pactcl_ocl_device *d, const struct geom *g, cl_mem x, cl_uint xo,
                  cl_uint nb, cl_mem col)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "conv", "", "im2col", &k));
    const cl_uint total = nb * g->C * g->R * g->S * g->P * g->Q;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(x),     PACTCL_OCL_ARG(xo),    PACTCL_OCL_ARG(g->C),  PACTCL_OCL_ARG(g->H),
        PACTCL_OCL_ARG(g->W),  PACTCL_OCL_ARG(g->R),  PACTCL_OCL_ARG(g->S),  PACTCL_OCL_ARG(g->P),
        PACTCL_OCL_ARG(g->Q),  PACTCL_OCL_ARG(g->sh), PACTCL_OCL_ARG(g->sw), PACTCL_OCL_ARG(g->ph),
        PACTCL_OCL_ARG(g->pw), PACTCL_OCL_ARG(col),   PACTCL_OCL_ARG(total),
    };
    return pactcl_ocl_enqueue_1d(d, k, total, a, PACTCL_OCL_NARGS(a));
}

static int col2im(struct pactcl_ocl_device *d, const struct geom *g, cl_mem col, cl_uint nb,
                  cl_mem x, cl_uint xo)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "conv", "", "col2im", &k));
    const cl_uint total = nb * g->C * g->H * g->W;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(col),   PACTCL_OCL_ARG(g->C),  PACTCL_OCL_ARG(g->H),  PACTCL_OCL_ARG(g->W),
        PACTCL_OCL_ARG(g->R),  PACTCL_OCL_ARG(g->S),  PACTCL_OCL_ARG(g->P),  PACTCL_OCL_ARG(g->Q),
        PACTCL_OCL_ARG(g->sh), PACTCL_OCL_ARG(g->sw), PACTCL_OCL_ARG(g->ph), PACTCL_OCL_ARG(g->pw),
        PACTCL_OCL_ARG(x),     PACTCL_OCL_ARG(xo),    PACTCL_OCL_ARG(total),
    };
    return pactcl_ocl_enqueue_1d(d, k, total, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_conv2d_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1], *b = call->args[2],
                               *y = call->args[3];
    struct geom g;
    geom_of(call, x, w, y, &g);
    const size_t HW = (size_t)g.H * g.W, PQ = (size_t)g.P * g.Q, CRS = (size_t)g.C * g.R * g.S;
    const struct pactcl_ocl_mat wa = {pactcl_ocl_mem(w), pactcl_ocl_off(w), CRS, 0, 0};
    if (pointwise(&g)) {
        const struct pactcl_ocl_mat xb = {pactcl_ocl_mem(x), pactcl_ocl_off(x), HW, g.C * HW, 0};
        const struct pactcl_ocl_mat yc = {pactcl_ocl_mem(y), pactcl_ocl_off(y), HW, g.K * HW, 0};
        PACTCL_OCL_TRY(pactcl_ocl_gemm(d, g.K, HW, g.C, 1.0f, wa, xb, 0.0f, yc, g.N));
    } else {
        const cl_uint nb = chunk_images(d, &g, CRS * PQ * sizeof(float));
        const size_t bytes = (size_t)nb * CRS * PQ * sizeof(float);
        cl_mem col;
        PACTCL_OCL_TRY(pactcl_ocl_scratch(d, bytes, &col));
        int rc = PACTCL_OK;
        for (cl_uint n0 = 0; rc == PACTCL_OK && n0 < g.N; n0 += nb) {
            const cl_uint cnt = g.N - n0 < nb ? g.N - n0 : nb;
            rc = im2col(d, &g, pactcl_ocl_mem(x), pactcl_ocl_off(x) + n0 * g.C * (cl_uint)HW, cnt,
                        col);
            const struct pactcl_ocl_mat cb = {col, 0, PQ, CRS * PQ, 0};
            const struct pactcl_ocl_mat yc = {pactcl_ocl_mem(y), pactcl_ocl_off(y) + n0 * g.K * PQ,
                                              PQ, g.K * PQ, 0};
            if (rc == PACTCL_OK)
                rc = pactcl_ocl_gemm(d, g.K, PQ, CRS, 1.0f, wa, cb, 0.0f, yc, cnt);
        }
        pactcl_ocl_scratch_release(d, col, bytes);
        PACTCL_OCL_TRY(rc);
    }
    if (!b)
        return PACTCL_OK;
    return pactcl_ocl_bias_add(d, pactcl_ocl_mem(y), pactcl_ocl_off(y), pactcl_ocl_mem(b),
                               pactcl_ocl_off(b), g.K, (cl_uint)PQ, pactcl_ocl_numel(y));
}

PACTCL_OCL_OP(pactcl_ocl_conv2d_bwd_data)
{
    const struct pactcl_tensor *dy = call->args[0], *w = call->args[1], *dx = call->args[2];
    struct geom g;
    geom_of(call, dx, w, dy, &g);
    const size_t HW = (size_t)g.H * g.W, PQ = (size_t)g.P * g.Q, CRS = (size_t)g.C * g.R * g.S;
    /* op(A) = w^T: w is stored K x CRS. */
    const struct pactcl_ocl_mat wt = {pactcl_ocl_mem(w), pactcl_ocl_off(w), CRS, 0, 1};
    if (pointwise(&g)) {
        const struct pactcl_ocl_mat db = {pactcl_ocl_mem(dy), pactcl_ocl_off(dy), HW, g.K * HW, 0};
        const struct pactcl_ocl_mat xc = {pactcl_ocl_mem(dx), pactcl_ocl_off(dx), HW, g.C * HW, 0};
        return pactcl_ocl_gemm(d, g.C, HW, g.K, 1.0f, wt, db, 0.0f, xc, g.N);
    }
    const cl_uint nb = chunk_images(d, &g, CRS * PQ * sizeof(float));
    const size_t bytes = (size_t)nb * CRS * PQ * sizeof(float);
    cl_mem col;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, bytes, &col));
    int rc = PACTCL_OK;
    for (cl_uint n0 = 0; rc == PACTCL_OK && n0 < g.N; n0 += nb) {
        const cl_uint cnt = g.N - n0 < nb ? g.N - n0 : nb;
        const struct pactcl_ocl_mat db = {pactcl_ocl_mem(dy), pactcl_ocl_off(dy) + n0 * g.K * PQ,
                                          PQ, g.K * PQ, 0};
        const struct pactcl_ocl_mat cc = {col, 0, PQ, CRS * PQ, 0};
        rc = pactcl_ocl_gemm(d, CRS, PQ, g.K, 1.0f, wt, db, 0.0f, cc, cnt);
        if (rc == PACTCL_OK)
            rc = col2im(d, &g, col, cnt, pactcl_ocl_mem(dx),
                        pactcl_ocl_off(dx) + n0 * g.C * (cl_uint)HW);
    }
    pactcl_ocl_scratch_release(d, col, bytes);
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_conv2d_bwd_filter)
{
    const struct pactcl_tensor *x = call->args[0], *dy = call->args[1], *dw = call->args[2],
                               *db = call->args[3];
    struct geom g;
    geom_of(call, x, dw, dy, &g);
    const size_t HW = (size_t)g.H * g.W, PQ = (size_t)g.P * g.Q, CRS = (size_t)g.C * g.R * g.S;
    const int pw = pointwise(&g);
    const size_t part_per = (size_t)g.K * CRS * sizeof(float);
    const size_t col_per = pw ? 0 : CRS * PQ * sizeof(float);
    const cl_uint nb = chunk_images(d, &g, part_per + col_per);
    const size_t part_bytes = nb * part_per, col_bytes = nb * col_per;
    cl_mem part, col = NULL;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, part_bytes, &part));
    int rc = pw ? PACTCL_OK : pactcl_ocl_scratch(d, col_bytes, &col);
    for (cl_uint n0 = 0; rc == PACTCL_OK && n0 < g.N; n0 += nb) {
        const cl_uint cnt = g.N - n0 < nb ? g.N - n0 : nb;
        const struct pactcl_ocl_mat da = {pactcl_ocl_mem(dy), pactcl_ocl_off(dy) + n0 * g.K * PQ,
                                          PQ, g.K * PQ, 0};
        const struct pactcl_ocl_mat pc = {part, 0, CRS, g.K * CRS, 0};
        if (pw) {
            /* part[b] = dy[b] (K x HW) * x[b]^T (HW x C) */
            const struct pactcl_ocl_mat xb = {pactcl_ocl_mem(x), pactcl_ocl_off(x) + n0 * g.C * HW,
                                              HW, g.C * HW, 1};
            rc = pactcl_ocl_gemm(d, g.K, g.C, HW, 1.0f, da, xb, 0.0f, pc, cnt);
        } else {
            rc = im2col(d, &g, pactcl_ocl_mem(x), pactcl_ocl_off(x) + n0 * g.C * (cl_uint)HW, cnt,
                        col);
            const struct pactcl_ocl_mat cb = {col, 0, PQ, CRS * PQ, 1};
            if (rc == PACTCL_OK)
                rc = pactcl_ocl_gemm(d, g.K, CRS, PQ, 1.0f, da, cb, 0.0f, pc, cnt);
        }
        if (rc == PACTCL_OK)
            rc = pactcl_ocl_batch_sum(d, part, g.K * (cl_uint)CRS, cnt, n0 > 0, pactcl_ocl_mem(dw),
                                      pactcl_ocl_off(dw));
    }
    pactcl_ocl_scratch_release(d, part, part_bytes);
    pactcl_ocl_scratch_release(d, col, col_bytes);
    PACTCL_OCL_TRY(rc);
    if (!db)
        return PACTCL_OK;
    return pactcl_ocl_channel_sum(d, pactcl_ocl_mem(dy), pactcl_ocl_off(dy), g.N, g.K, (cl_uint)PQ,
                                  1.0f, pactcl_ocl_mem(db), pactcl_ocl_off(db));
}
