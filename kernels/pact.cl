/*
 * pact.cl: PACT activation clipping (PaddleSlim 2.2.1, SEED-SPEC 3.4) with its
 * learnable alpha, read from device memory so training never syncs.
 *
 * Forward exactly as Paddle evaluates it, not as a clamp:
 *     y = (x - relu(x - a)) + relu(-a - x)
 * which rounds differently from clamp(x, -a, a) when |x| > a.
 */

float pactcl_relu(float v)
{
    return v > 0.0f ? v : 0.0f;
}

__kernel void pact_fwd(__global const float *x, uint xo, __global const float *alpha, uint ao,
                       __global float *y, uint yo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float a = alpha[ao], v = x[xo + i];
    y[yo + i] = (v - pactcl_relu(v - a)) + pactcl_relu(-a - v);
}

/*
 * dx = dy*(1 - [x>a] - [x<-a]) per element; dalpha = sum dy*([x>a] - [x<-a]),
 * first pass: each work-group of a G*L range sums a grid-strided share of the
 * elements into partial[group].
 */
__kernel void pact_bwd(__global const float *x, uint xo, __global const float *alpha, uint ao,
                       __global const float *dy, uint dyo, __global float *dx, uint dxo, uint n,
                       __global float *partial, __local float *scratch)
{
    const uint stride = get_global_size(0);
    const float a = alpha[ao];
    float acc = 0.0f, comp = 0.0f;
    for (uint i = get_global_id(0); i < n; i += stride) {
        const float v = x[xo + i], g = dy[dyo + i];
        const int hi = v > a, lo = v < -a;
        dx[dxo + i] = g * (float)(1 - hi - lo);
        pactcl_kadd(&acc, &comp, g * (float)(hi - lo));
    }
    const float s = pactcl_wg_sum(acc, scratch);
    if (get_local_id(0) == 0)
        partial[get_group_id(0)] = s;
}

/* Second pass, one work-group: dalpha = sum of the G partials. */
__kernel void pact_bwd_finalize(__global const float *partial, uint G, __global float *dalpha,
                                uint dao, __local float *scratch)
{
    const uint lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc += partial[g];
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        dalpha[dao] = s;
}
