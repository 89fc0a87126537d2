/*
 * cpu_activation.c: ReLU, hardswish and hardsigmoid, forward and backward,
 * with Paddle 2.2's formulas and evaluation order.
 *
 * Clamps are written as comparisons rather than fminf/fmaxf, which are
 * library calls at the baseline ISA, and every operand is loaded before the
 * select: a load inside one arm of a ?: keeps the loop scalar and branchy.
 * Outputs may alias inputs: every element is read before it is written.
 */
#include "config.h"

#include "cpu_ops.h"

/* x -> y */
PACTCL_CPU_OP(pactcl_cpu_relu_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *y = pactcl_cpu_f32(call, 1);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
    return PACTCL_OK;
}

/* y dy -> dx: dx = dy*[y>0] */
PACTCL_CPU_OP(pactcl_cpu_relu_bwd)
{
    const float *y = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = y[i], g = dy[i];
        dx[i] = v > 0.0f ? g : 0.0f;
    }
    return PACTCL_OK;
}

/* x -> y: y = x*min(max(x+3,0),6)/6 */
PACTCL_CPU_OP(pactcl_cpu_hardswish_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *y = pactcl_cpu_f32(call, 1);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i], t = v + 3.0f;
        const float c = t > 0.0f ? (t < 6.0f ? t : 6.0f) : 0.0f;
        y[i] = v * c / 6.0f;
    }
    return PACTCL_OK;
}

/* x dy -> dx: dx = dy*([x+3>0][x+3<6](2x+3)/6 + [x+3>=6]) */
PACTCL_CPU_OP(pactcl_cpu_hardswish_bwd)
{
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i], t = v + 3.0f;
        const float d = t > 0.0f ? (t < 6.0f ? (2.0f * v + 3.0f) / 6.0f : 1.0f) : 0.0f;
        dx[i] = dy[i] * d;
    }
    return PACTCL_OK;
}

/* x -> y: y = max(0, min(1, slope*x + offset)) */
PACTCL_CPU_OP(pactcl_cpu_hardsigmoid_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *y = pactcl_cpu_f32(call, 1);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const float slope = call->params.hardsigmoid.slope, offset = call->params.hardsigmoid.offset;
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = slope * x[i] + offset;
        const float hi = v < 1.0f ? v : 1.0f;
        y[i] = hi > 0.0f ? hi : 0.0f;
    }
    return PACTCL_OK;
}

/* y dy -> dx: dx = dy*slope*[0<y<1] */
PACTCL_CPU_OP(pactcl_cpu_hardsigmoid_bwd)
{
    const float *y = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const float slope = call->params.hardsigmoid.slope;
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = y[i], g = dy[i] * slope;
        dx[i] = v > 0.0f && v < 1.0f ? g : 0.0f;
    }
    return PACTCL_OK;
}
