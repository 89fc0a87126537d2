/*
 * fake_quant.cl: quant-dequant as Paddle 2.2 computes it (SEED-SPEC 3.5):
 * per-channel abs-max for weights, moving-average abs-max for activations,
 * and the moving-average observer.  Scales and the moving-average state live
 * in device buffers and are updated here: nothing is read back to the host.
 */

/* Quant-dequant of one value with scale s, in this order:
 * inv = s <= 1e-30 ? 1/(s+1e-6) : 1/s; xc = clip(x, -s, s);
 * q = round((bin*inv)*xc) (half away from zero); out = (q*s)/bin. */
float pactcl_qdq(float x, float s, float bin)
{
    const float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
    const float xc = x < -s ? -s : (x > s ? s : x);
    const float q = round((bin * inv) * xc);
    return (q * s) / bin;
}

/* Group c*G + g of C*G (1-D, as reduce.cl): partial[c*G + g] = max |w| over
 * chunk g of channel c, w laid out [outer][C][inner]. */
__kernel void fq_chan_partial_absmax(__global const float *w, uint wo, uint outer, uint C,
                                     uint inner, uint chunk, __global float *partial,
                                     __local float *scratch)
{
    const uint G = get_num_groups(0) / C, c = get_group_id(0) / G, g = get_group_id(0) % G;
    const uint lid = get_local_id(0), L = get_local_size(0);
    const uint M = outer * inner, begin = g * chunk, end = min(begin + chunk, M);
    float acc = 0.0f;
    for (uint m = begin + lid; m < end; m += L)
        acc = fmax(acc, fabs(w[wo + pactcl_chan_index(m, c, C, inner)]));
    const float s = pactcl_wg_max(acc, scratch);
    if (lid == 0)
        partial[c * G + g] = s;
}

/* One work-group per channel: scale[c] = max of its G partials. */
__kernel void fq_chan_finalize(__global const float *partial, uint G, __global float *scale, uint so,
                               __local float *scratch)
{
    const uint c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc = fmax(acc, partial[c * G + g]);
    const float s = pactcl_wg_max(acc, scratch);
    if (lid == 0)
        scale[so + c] = s;
}

__kernel void fq_chan_apply(__global const float *w, uint wo, __global const float *scale, uint so,
                            uint C, uint inner, float bin, __global float *wq, uint wqo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    wq[wqo + i] = pactcl_qdq(w[wo + i], scale[so + (i / inner) % C], bin);
}

/* First pass of max|x| over a whole tensor: partial[group] over a
 * grid-strided share. */
__kernel void fq_absmax_partial(__global const float *x, uint xo, uint n, __global float *partial,
                                __local float *scratch)
{
    const uint stride = get_global_size(0);
    float acc = 0.0f;
    for (uint i = get_global_id(0); i < n; i += stride)
        acc = fmax(acc, fabs(x[xo + i]));
    const float s = pactcl_wg_max(acc, scratch);
    if (get_local_id(0) == 0)
        partial[get_group_id(0)] = s;
}

/* One work-group: cur = max of the partials; state = rate*state + 1;
 * accum = rate*accum + cur; scale = accum/state. */
__kernel void fq_ma_update(__global const float *partial, uint G, float rate,
                           __global float *scale, uint so, __global float *state, uint sto,
                           __global float *accum, uint aco, __local float *scratch)
{
    const uint lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc = fmax(acc, partial[g]);
    const float cur = pactcl_wg_max(acc, scratch);
    if (lid != 0)
        return;
    const float st = rate * state[sto] + 1.0f;
    const float ac = rate * accum[aco] + cur;
    state[sto] = st;
    accum[aco] = ac;
    scale[so] = ac / st;
}

/* Quant-dequant with the one scale in scale[so]. */
__kernel void fq_apply(__global const float *x, uint xo, __global const float *scale, uint so,
                       float bin, __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] = pactcl_qdq(x[xo + i], scale[so], bin);
}
