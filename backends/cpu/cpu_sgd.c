/*
 * cpu_sgd.c: Paddle's momentum optimizer step with l2_decay folded in:
 * g = grad + l2*param; v = momentum*v + g; param -= (lr*lr_mult)*v.
 */
#include "config.h"

#include "cpu_ops.h"

/* param(in/out) grad velocity(in/out) */
PACTCL_CPU_OP(pactcl_cpu_sgd_momentum)
{
    float *param = pactcl_cpu_f32(call, 0), *velocity = pactcl_cpu_f32(call, 2);
    const float *grad = pactcl_cpu_f32(call, 1);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const struct pactcl_sgd_params *p = &call->params.sgd;
    const float lr = p->lr * p->lr_mult, momentum = p->momentum, l2 = p->l2_decay;
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float g = grad[i] + l2 * param[i];
        const float v = momentum * velocity[i] + g;
        velocity[i] = v;
        param[i] = param[i] - lr * v;
    }
    return PACTCL_OK;
}
