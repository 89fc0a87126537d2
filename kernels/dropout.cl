/*
 * dropout.cl: dropout in Paddle's upscale_in_train mode.  The mask of element
 * i depends only on (seed, i) through the 32-bit hash of pactcl-ops.h, ported
 * here bit for bit, so every device draws the masks the CPU draws.
 */

uint pactcl_hash32(uint x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* pactcl_dropout_uniform: the seed arrives as its low and high 32 bits. */
float pactcl_dropout_uniform(uint seed_lo, uint seed_hi, uint index)
{
    uint h = pactcl_hash32(index ^ seed_lo);
    h = pactcl_hash32(h + seed_hi + 0x9e3779b9U);
    return (float)(h >> 8) * (1.0f / 16777216.0f);
}

/* keep = u >= p; y = keep ? x/keep_prob : 0, keep_prob = 1 - p (computed on
 * the host in float, as the CPU does). */
__kernel void dropout_fwd(__global const float *x, uint xo, float p, float keep_prob, uint seed_lo,
                          uint seed_hi, __global float *y, uint yo, __global uchar *mask, uint mo,
                          uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const int keep = pactcl_dropout_uniform(seed_lo, seed_hi, i) >= p;
    y[yo + i] = keep ? x[xo + i] / keep_prob : 0.0f;
    mask[mo + i] = (uchar)keep;
}

/* dx = mask ? dy/keep_prob : 0 */
__kernel void dropout_bwd(__global const float *dy, uint dyo, __global const uchar *mask, uint mo,
                          float keep_prob, __global float *dx, uint dxo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    dx[dxo + i] = mask[mo + i] ? dy[dyo + i] / keep_prob : 0.0f;
}
