/*
 * ocl_linear.c: fully connected layers with Paddle's weight layout w[I,O]
 * (y = x*w + b), as CLBlast GEMMs; the bias and its gradient use reduce.cl.
 */
#include "ocl_internal.h"

PACTCL_OCL_OP(pactcl_ocl_linear_fwd)
{
    const struct pactcl_tensor *x = call->args[0], *w = call->args[1], *b = call->args[2],
                               *y = call->args[3];
    const size_t N = (size_t)x->dims[0], I = (size_t)x->dims[1], O = (size_t)w->dims[1];
    const struct pactcl_ocl_mat xa = {pactcl_ocl_mem(x), pactcl_ocl_off(x), I, 0, 0};
    const struct pactcl_ocl_mat wb = {pactcl_ocl_mem(w), pactcl_ocl_off(w), O, 0, 0};
    const struct pactcl_ocl_mat yc = {pactcl_ocl_mem(y), pactcl_ocl_off(y), O, 0, 0};
    PACTCL_OCL_TRY(pactcl_ocl_gemm(d, N, O, I, 1.0f, xa, wb, 0.0f, yc, 1));
    if (!b)
        return PACTCL_OK;
    return pactcl_ocl_bias_add(d, yc.mem, (cl_uint)yc.off, pactcl_ocl_mem(b), pactcl_ocl_off(b),
                               (cl_uint)O, 1, pactcl_ocl_numel(y));
}

/* dx[N,I] = dy[N,O] * w^T */
PACTCL_OCL_OP(pactcl_ocl_linear_bwd_data)
{
    const struct pactcl_tensor *dy = call->args[0], *w = call->args[1], *dx = call->args[2];
    const size_t N = (size_t)dy->dims[0], O = (size_t)dy->dims[1], I = (size_t)w->dims[0];
    const struct pactcl_ocl_mat ga = {pactcl_ocl_mem(dy), pactcl_ocl_off(dy), O, 0, 0};
    const struct pactcl_ocl_mat wt = {pactcl_ocl_mem(w), pactcl_ocl_off(w), O, 0, 1};
    const struct pactcl_ocl_mat xc = {pactcl_ocl_mem(dx), pactcl_ocl_off(dx), I, 0, 0};
    return pactcl_ocl_gemm(d, N, I, O, 1.0f, ga, wt, 0.0f, xc, 1);
}

/* dw[I,O] = x^T * dy; db[O] = sum over rows of dy */
PACTCL_OCL_OP(pactcl_ocl_linear_bwd_weight)
{
    const struct pactcl_tensor *x = call->args[0], *dy = call->args[1], *dw = call->args[2],
                               *db = call->args[3];
    const size_t N = (size_t)x->dims[0], I = (size_t)x->dims[1], O = (size_t)dy->dims[1];
    const struct pactcl_ocl_mat xt = {pactcl_ocl_mem(x), pactcl_ocl_off(x), I, 0, 1};
    const struct pactcl_ocl_mat gb = {pactcl_ocl_mem(dy), pactcl_ocl_off(dy), O, 0, 0};
    const struct pactcl_ocl_mat wc = {pactcl_ocl_mem(dw), pactcl_ocl_off(dw), O, 0, 0};
    PACTCL_OCL_TRY(pactcl_ocl_gemm(d, I, O, N, 1.0f, xt, gb, 0.0f, wc, 1));
    if (!db)
        return PACTCL_OK;
    return pactcl_ocl_channel_sum(d, gb.mem, (cl_uint)gb.off, (cl_uint)N, (cl_uint)O, 1, 1.0f,
                                  pactcl_ocl_mem(db), pactcl_ocl_off(db));
}
