/*
 * sgd.cl: Paddle's momentum op with L2 decay, one work-item per parameter:
 * g = grad + l2*param; v = momentum*v + g; param -= (lr*lr_mult)*v.  lr*lr_mult
 * is multiplied on the host in float, as the CPU does.
 */

__kernel void sgd_momentum(__global float *param, uint po, __global const float *grad, uint go,
                           __global float *vel, uint vo, float lr_eff, float momentum,
                           float l2_decay, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float p = param[po + i];
    const float g = grad[go + i] + l2_decay * p;
    const float v = momentum * vel[vo + i] + g;
    vel[vo + i] = v;
    param[po + i] = p - lr_eff * v;
}
