/*
 * pool_se.cl: global average pooling, the squeeze-excitation channel scale
 * and the residual add.  Tensors are x[N*C rows][HW]; a "row kernel" runs one
 * work-group per row and reduces it in local memory (fixed order).
 */

/* y[row] = sum(x[row][:]) / HW */
__kernel void avgpool_fwd(__global const float *x, uint xo, uint HW, __global float *y, uint yo,
                          __local float *scratch)
{
    const uint row = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    __global const float *xp = x + xo + row * HW;
    float acc = 0.0f, comp = 0.0f;
    for (uint j = lid; j < HW; j += L)
        pactcl_kadd(&acc, &comp, xp[j]);
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        y[yo + row] = s / (float)HW;
}

/* dx[row][j] = dy[row] / HW */
__kernel void avgpool_bwd(__global const float *dy, uint dyo, uint HW, __global float *dx, uint dxo,
                          uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    dx[dxo + i] = dy[dyo + i / HW] / (float)HW;
}

/* y[row][j] = x[row][j] * s[row] */
__kernel void se_scale_fwd(__global const float *x, uint xo, __global const float *s, uint so,
                           uint HW, __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] = x[xo + i] * s[so + i / HW];
}

/* Row kernel: dx = dy*s[row]; ds[row] = sum_j dy*x. */
__kernel void se_scale_bwd(__global const float *x, uint xo, __global const float *s, uint so,
                           __global const float *dy, uint dyo, uint HW, __global float *dx,
                           uint dxo, __global float *ds, uint dso, __local float *scratch)
{
    const uint row = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    const uint base = row * HW;
    const float sv = s[so + row];
    float acc = 0.0f, comp = 0.0f;
    for (uint j = lid; j < HW; j += L) {
        const float g = dy[dyo + base + j];
        pactcl_kadd(&acc, &comp, g * x[xo + base + j]);
        dx[dxo + base + j] = g * sv;
    }
    const float t = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        ds[dso + row] = t;
}

/* y = a + b; y may be a or b (each element is read before it is written). */
__kernel void add(__global const float *a, uint ao, __global const float *b, uint bo,
                  __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] = a[ao + i] + b[bo + i];
}
