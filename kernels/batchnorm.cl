/*
 * batchnorm.cl: batch norm over x[N][C][HW] (Paddle conventions, SEED-SPEC
 * 1.1): training statistics in two passes (mean, then the mean of squared
 * deviations: no E[x^2] - mu^2 cancellation), the running-stat update,
 * normalisation, evaluation, and the backward pass.  The per-channel sums
 * reuse reduce.cl's partial/finalize scheme; each reduction is in fixed order.
 */

/* Group c*G + g of C*G (as reduce.cl): partial[c*G + g] = sum over chunk g
 * of (x - mean[c])^2. */
__kernel void bn_partial_sqdev(__global const float *x, uint xo, uint N, uint C, uint HW,
                               uint chunk, __global const float *mean, uint mo,
                               __global float *partial, __local float *scratch)
{
    const uint G = get_num_groups(0) / C, c = get_group_id(0) / G, g = get_group_id(0) % G;
    const uint lid = get_local_id(0), L = get_local_size(0);
    const uint M = N * HW, begin = g * chunk, end = min(begin + chunk, M);
    const float mu = mean[mo + c];
    float acc = 0.0f, comp = 0.0f;
    for (uint m = begin + lid; m < end; m += L) {
        const float d = x[xo + pactcl_chan_index(m, c, C, HW)] - mu;
        pactcl_kadd(&acc, &comp, d * d);
    }
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        partial[c * G + g] = s;
}

/* One work-group per channel: the biased variance, saved 1/sqrt(var+eps),
 * and running = running*momentum + batch*(1-momentum). */
__kernel void bn_finalize_var(__global const float *partial, uint G, float count,
                              __global const float *saved_mean, uint smo,
                              __global float *saved_invstd, uint sio, __global float *rmean,
                              uint rmo, __global float *rvar, uint rvo, float momentum,
                              float epsilon, __local float *scratch)
{
    const uint c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc += partial[c * G + g];
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid != 0)
        return;
    const float var = s / count, mu = saved_mean[smo + c];
    saved_invstd[sio + c] = 1.0f / sqrt(var + epsilon);
    rmean[rmo + c] = rmean[rmo + c] * momentum + mu * (1.0f - momentum);
    rvar[rvo + c] = rvar[rvo + c] * momentum + var * (1.0f - momentum);
}

/* y = gamma*(x-mu)*invstd + beta */
__kernel void bn_normalize(__global const float *x, uint xo, __global const float *gamma, uint go,
                           __global const float *beta, uint bo, __global const float *mean,
                           uint mo, __global const float *invstd, uint io, __global float *y,
                           uint yo, uint C, uint HW, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint c = (i / HW) % C;
    y[yo + i] = gamma[go + c] * (x[xo + i] - mean[mo + c]) * invstd[io + c] + beta[bo + c];
}

/* y = gamma*(x-mean)/sqrt(var+eps) + beta, with the running statistics. */
__kernel void bn_eval(__global const float *x, uint xo, __global const float *gamma, uint go,
                      __global const float *beta, uint bo, __global const float *mean, uint mo,
                      __global const float *var, uint vo, float epsilon, __global float *y,
                      uint yo, uint C, uint HW, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint c = (i / HW) % C;
    y[yo + i] =
        gamma[go + c] * (x[xo + i] - mean[mo + c]) / sqrt(var[vo + c] + epsilon) + beta[bo + c];
}

/* Group c*G + g of C*G: partials of sum(dy) and sum(dy*(x-mu)) over chunk g,
 * at partial[c*G + g] and partial[(C + c)*G + g]. */
__kernel void bn_bwd_partial(__global const float *x, uint xo, __global const float *dy, uint dyo,
                             __global const float *mean, uint mo, uint N, uint C, uint HW,
                             uint chunk, __global float *partial, __local float *scratch)
{
    const uint G = get_num_groups(0) / C, c = get_group_id(0) / G, g = get_group_id(0) % G;
    const uint lid = get_local_id(0), L = get_local_size(0);
    const uint M = N * HW, begin = g * chunk, end = min(begin + chunk, M);
    const float mu = mean[mo + c];
    float sdy = 0.0f, cdy = 0.0f, sdyx = 0.0f, cdyx = 0.0f;
    for (uint m = begin + lid; m < end; m += L) {
        const uint idx = pactcl_chan_index(m, c, C, HW);
        const float gv = dy[dyo + idx];
        pactcl_kadd(&sdy, &cdy, gv);
        pactcl_kadd(&sdyx, &cdyx, gv * (x[xo + idx] - mu));
    }
    const float a = pactcl_wg_sum(sdy, scratch);
    const float b = pactcl_wg_sum(sdyx, scratch);
    if (lid == 0) {
        partial[c * G + g] = a;
        partial[(C + c) * G + g] = b;
    }
}

/* One work-group per channel: dbeta = sum dy, dgamma = invstd * sum dy*(x-mu). */
__kernel void bn_bwd_finalize(__global const float *partial, uint G, uint C,
                              __global const float *invstd, uint io, __global float *dgamma,
                              uint dgo, __global float *dbeta, uint dbo, __local float *scratch)
{
    const uint c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    float a = 0.0f, b = 0.0f;
    for (uint g = lid; g < G; g += L) {
        a += partial[c * G + g];
        b += partial[(C + c) * G + g];
    }
    const float sa = pactcl_wg_sum(a, scratch);
    const float sb = pactcl_wg_sum(b, scratch);
    if (lid == 0) {
        dbeta[dbo + c] = sa;
        dgamma[dgo + c] = sb * invstd[io + c];
    }
}

/* dx = gamma*invstd * (dy - (dbeta + xhat*dgamma)/M), xhat = (x-mu)*invstd */
__kernel void bn_bwd_dx(__global const float *x, uint xo, __global const float *dy, uint dyo,
                        __global const float *gamma, uint go, __global const float *mean, uint mo,
                        __global const float *invstd, uint io, __global const float *dgamma,
                        uint dgo, __global const float *dbeta, uint dbo, float count,
                        __global float *dx, uint dxo, uint C, uint HW, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint c = (i / HW) % C;
    const float is = invstd[io + c];
    const float xhat = (x[xo + i] - mean[mo + c]) * is;
    dx[dxo + i] = gamma[go + c] * is * (dy[dyo + i] - (dbeta[dbo + c] + xhat * dgamma[dgo + c]) / count);
}
