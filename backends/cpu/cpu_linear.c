/*
 * cpu_linear.c: the fully connected layer in Paddle's layout, weight [in,out]:
 * y = x*w + b, dx = dy*w^T, dw = x^T*dy, db = column sums of dy.
 */
#include "config.h"

#include "cpu_ops.h"

/* Columns per block of the bias gradient: the block's double sums live on
 * the stack while the rows stream past. */
#define BIAS_BLOCK 256

/* x[N,I] w[I,O] b?[O] -> y[N,O] */
PACTCL_CPU_OP(pactcl_cpu_linear_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
    const float *b = pactcl_cpu_f32_opt(call, 2);
    float *y = pactcl_cpu_f32(call, 3);
    const int64_t N = call->args[0]->dims[0], I = call->args[0]->dims[1];
    const int64_t O = call->args[1]->dims[1];
    if (b) {
        /* Start from the bias so that the GEMM adds onto it (beta = 1). */
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * O >= PACTCL_CPU_PAR_MIN))
        for (int64_t n = 0; n < N; n++) {
            float *yr = y + n * O;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t o = 0; o < O; o++)
                yr[o] = b[o];
        }
    }
    return pactcl_cpu_sgemm(ctx, 0, 0, N, O, I, 1.0f, x, I, w, O, b ? 1.0f : 0.0f, y, O);
}

/* dy[N,O] w[I,O] -> dx[N,I] = dy w^T */
PACTCL_CPU_OP(pactcl_cpu_linear_bwd_data)
{
    const float *dy = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t N = call->args[0]->dims[0], O = call->args[0]->dims[1];
    const int64_t I = call->args[1]->dims[0];
    return pactcl_cpu_sgemm(ctx, 0, 1, N, I, O, 1.0f, dy, O, w, O, 0.0f, dx, I);
}

/* x[N,I] dy[N,O] -> dw[I,O] = x^T dy, db?[O] = sum over rows of dy */
PACTCL_CPU_OP(pactcl_cpu_linear_bwd_weight)
{
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dw = pactcl_cpu_f32(call, 2), *db = pactcl_cpu_f32_opt(call, 3);
    const int64_t N = call->args[0]->dims[0], I = call->args[0]->dims[1];
    const int64_t O = call->args[1]->dims[1];
    int rc = pactcl_cpu_sgemm(ctx, 1, 0, I, O, N, 1.0f, x, I, dy, O, 0.0f, dw, O);
    if (rc != PACTCL_OK || !db)
        return rc;
    const int64_t blocks = (O + BIAS_BLOCK - 1) / BIAS_BLOCK;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * O >= PACTCL_CPU_PAR_MIN))
    for (int64_t blk = 0; blk < blocks; blk++) {
        const int64_t o0 = blk * BIAS_BLOCK;
        const int64_t width = O - o0 < BIAS_BLOCK ? O - o0 : BIAS_BLOCK;
        double sum[BIAS_BLOCK] = {0.0};
        for (int64_t n = 0; n < N; n++) {
            const float *dyr = dy + n * O + o0;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t j = 0; j < width; j++)
                sum[j] += dyr[j];
        }
        for (int64_t j = 0; j < width; j++)
            db[o0 + j] = (float)sum[j];
    }
    return PACTCL_OK;
}
