/*
 * reduce.cl: per-channel reductions and broadcasts shared by convolution,
 * linear and batch norm, over tensors laid out [outer][C][inner] (NCHW
 * activations: outer = N, inner = H*W; [N, F] features: inner = 1).
 *
 * Sums run in two passes: chan_partial_sum gives one partial per (channel,
 * chunk) of the N*HW elements, chan_finalize_sum adds a channel's partials; both in fixed order
 * (no atomics), so results are reproducible run to run.
 */

/* A 1-D range of C*G work-groups (group c*G + g sums chunk g of channel c):
 * 1-D because some drivers cap the group count of dimensions 1 and 2 at
 * 65535 (NVIDIA maps them onto CUDA's grid). */
__kernel void chan_partial_sum(__global const float *x, uint xo, uint outer, uint C, uint inner,
                               uint chunk, __global float *partial, __local float *scratch)
{
    const uint G = get_num_groups(0) / C, c = get_group_id(0) / G, g = get_group_id(0) % G;
    const uint lid = get_local_id(0), L = get_local_size(0);
    const uint M = outer * inner;
    const uint begin = g * chunk, end = min(begin + chunk, M);
    float acc = 0.0f, comp = 0.0f;
    for (uint m = begin + lid; m < end; m += L)
        pactcl_kadd(&acc, &comp, x[xo + pactcl_chan_index(m, c, C, inner)]);
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        partial[c * G + g] = s;
}

/* One work-group per channel: out[c] = (sum of its G partials) / divisor. */
__kernel void chan_finalize_sum(__global const float *partial, uint G, float divisor,
                                __global float *out, uint oo, __local float *scratch)
{
    const uint c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc += partial[c * G + g];
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        out[oo + c] = s / divisor;
}

/* y[o][c][i] += b[c] over n elements. */
__kernel void chan_bias_add(__global float *y, uint yo, __global const float *b, uint bo, uint C,
                            uint inner, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] += b[bo + (i / inner) % C];
}

/* out[i] = (accumulate ? out[i] : 0) + part[0][i] + part[1][i] + ... in that
 * order: the weight gradient of a convolution, summed over images. */
__kernel void batch_sum(__global const float *part, uint len, uint nb, uint accumulate,
                        __global float *out, uint oo)
{
    const uint i = get_global_id(0);
    if (i >= len)
        return;
    float acc = accumulate ? out[oo + i] : 0.0f, comp = 0.0f;
    for (uint b = 0; b < nb; b++)
        pactcl_kadd(&acc, &comp, part[b * len + i]);
    out[oo + i] = acc;
}
