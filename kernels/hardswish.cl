/*
 * hardswish.cl: hard-swish (Paddle hard_swish, threshold 6, scale 6, offset 3),
 * forward and backward, one work-item per element, evaluated as written in
 * pactcl-ops.h: y = min(max(x+3,0),6)*x/6.
 */

__kernel void hardswish_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float v = x[xo + i];
    float r = v + 3.0f;
    r = r < 0.0f ? 0.0f : r;
    r = r > 6.0f ? 6.0f : r;
    y[yo + i] = r * v / 6.0f;
}

/* dx = dy*([x+3>0][x+3<6](2x+3)/6 + [x+3>=6]) */
__kernel void hardswish_bwd(__global const float *x, uint xo, __global const float *dy, uint dyo,
                            __global float *dx, uint dxo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float v = x[xo + i], t = v + 3.0f;
    float g;
    if (t > 0.0f && t < 6.0f)
        g = (2.0f * v + 3.0f) / 6.0f;
    else
        g = t >= 6.0f ? 1.0f : 0.0f;
    dx[dxo + i] = dy[dyo + i] * g;
}
