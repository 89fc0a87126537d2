/*
 * activation.cl: ReLU and hard-sigmoid, forward and backward, one work-item
 * per element.  The formulas are those of pactcl-ops.h, evaluated as written
 * (common.cl turns contraction off), so they match the CPU backend bit for bit.
 */

__kernel void relu_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float v = x[xo + i];
    y[yo + i] = v > 0.0f ? v : 0.0f;
}

/* dx = dy*[y>0] */
__kernel void relu_bwd(__global const float *y, uint yo, __global const float *dy, uint dyo,
                       __global float *dx, uint dxo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    dx[dxo + i] = dy[dyo + i] * (y[yo + i] > 0.0f ? 1.0f : 0.0f);
}

/* y = clip(slope*x + offset, 0, 1) */
__kernel void hardsigmoid_fwd(__global const float *x, uint xo, float slope, float offset,
                              __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float v = slope * x[xo + i] + offset;
    y[yo + i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* dx = dy*slope*[0<y<1] */
__kernel void hardsigmoid_bwd(__global const float *y, uint yo, __global const float *dy, uint dyo,
                              float slope, __global float *dx, uint dxo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float v = y[yo + i];
    dx[dxo + i] = dy[dyo + i] * slope * (v > 0.0f && v < 1.0f ? 1.0f : 0.0f);
}
