/*
 * cpu_pool_se.c: global average pooling, the squeeze-excitation channel scale
 * (x[n,c,:] * s[n,c]) and the residual add, forward and backward.
 *
 * Sums over a plane are taken in double by the one thread that owns the
 * (n, c) plane, so they do not depend on the thread count.
 */
#include "config.h"

#include "cpu_ops.h"

static int64_t plane_size(const struct pactcl_tensor *t)
{
    return t->dims[2] * t->dims[3];
}

/* x[N,C,H,W] -> y[N,C,1,1] = mean over H*W */
PACTCL_CPU_OP(pactcl_cpu_avgpool_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *y = pactcl_cpu_f32(call, 1);
    const int64_t NC = pactcl_cpu_numel(call, 1), HW = plane_size(call->args[0]);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (NC * HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < NC; nc++) {
        const float *xp = x + nc * HW;
        double sum = 0.0;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : sum))
        for (int64_t i = 0; i < HW; i++)
            sum += xp[i];
        y[nc] = (float)(sum / (double)HW);
    }
    return PACTCL_OK;
}

/* dy[N,C,1,1] -> dx[N,C,H,W] = dy / (H*W) */
PACTCL_CPU_OP(pactcl_cpu_avgpool_bwd)
{
    const float *dy = pactcl_cpu_f32(call, 0);
    float *dx = pactcl_cpu_f32(call, 1);
    const int64_t NC = pactcl_cpu_numel(call, 0), HW = plane_size(call->args[1]);
    const float inv_hw = 1.0f / (float)HW;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (NC * HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < NC; nc++) {
        const float g = dy[nc] * inv_hw;
        float *dxp = dx + nc * HW;
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < HW; i++)
            dxp[i] = g;
    }
    return PACTCL_OK;
}

/* x[N,C,H,W] s[N,C,1,1] -> y = x*s */
PACTCL_CPU_OP(pactcl_cpu_se_scale_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0), *s = pactcl_cpu_f32(call, 1);
    float *y = pactcl_cpu_f32(call, 2);
    const int64_t NC = pactcl_cpu_numel(call, 1), HW = plane_size(call->args[0]);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (NC * HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < NC; nc++) {
        const float sc = s[nc];
        const float *xp = x + nc * HW;
        float *yp = y + nc * HW;
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < HW; i++)
            yp[i] = xp[i] * sc;
    }
    return PACTCL_OK;
}

/* x s dy -> dx = dy*s, ds[n,c] = sum over H*W of dy*x */
PACTCL_CPU_OP(pactcl_cpu_se_scale_bwd)
{
    const float *x = pactcl_cpu_f32(call, 0), *s = pactcl_cpu_f32(call, 1);
    const float *dy = pactcl_cpu_f32(call, 2);
    float *dx = pactcl_cpu_f32(call, 3), *ds = pactcl_cpu_f32(call, 4);
    const int64_t NC = pactcl_cpu_numel(call, 1), HW = plane_size(call->args[0]);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (NC * HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < NC; nc++) {
        const float sc = s[nc];
        const float *xp = x + nc * HW, *dyp = dy + nc * HW;
        float *dxp = dx + nc * HW;
        double sum = 0.0;
        /* ds first: dx may alias dy or x. */
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : sum))
        for (int64_t i = 0; i < HW; i++)
            sum += (double)(dyp[i] * xp[i]);
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < HW; i++)
            dxp[i] = dyp[i] * sc;
        ds[nc] = (float)sum;
    }
    return PACTCL_OK;
}

/* a b -> y = a + b; y may alias a or b. */
PACTCL_CPU_OP(pactcl_cpu_add)
{
    const float *a = pactcl_cpu_f32(call, 0), *b = pactcl_cpu_f32(call, 1);
    float *y = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
    return PACTCL_OK;
}
