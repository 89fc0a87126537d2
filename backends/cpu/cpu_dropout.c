/*
 * cpu_dropout.c: dropout in Paddle's "upscale_in_train" mode.  The mask comes
 * from pactcl_dropout_uniform(seed, flat index), the stream every backend
 * shares, so CPU and OpenCL training drop the same elements.
 */
#include "config.h"

#include "cpu_ops.h"

/* x -> y mask: keep = u(seed, i) >= p; y = keep ? x/(1-p) : 0 */
PACTCL_CPU_OP(pactcl_cpu_dropout_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *y = pactcl_cpu_f32(call, 1);
    uint8_t *mask = pactcl_cpu_u8(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const float p = call->params.dropout.p, keep_scale = 1.0f - p;
    const uint64_t seed = call->params.dropout.seed;
    /* No simd: not every compiler vectorises the hash, and the op is small. */
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t i = 0; i < n; i++) {
        const int keep = pactcl_dropout_uniform(seed, (uint32_t)i) >= p;
        const float scaled = x[i] / keep_scale;
        mask[i] = (uint8_t)keep;
        y[i] = keep ? scaled : 0.0f;
    }
    return PACTCL_OK;
}

/* dy mask -> dx = mask ? dy/(1-p) : 0 */
PACTCL_CPU_OP(pactcl_cpu_dropout_bwd)
{
    const float *dy = pactcl_cpu_f32(call, 0);
    const uint8_t *mask = pactcl_cpu_u8(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const float keep_scale = 1.0f - call->params.dropout.p;
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float scaled = dy[i] / keep_scale;
        dx[i] = mask[i] ? scaled : 0.0f;
    }
    return PACTCL_OK;
}
