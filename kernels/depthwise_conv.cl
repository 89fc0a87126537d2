/*
 * depthwise_conv.cl: depthwise convolution (groups = C, weights [C,1,R,S]):
 * forward, input gradient and weight (+ bias) gradient.
 *
 * Specialised at build time like Arm Compute Library's depthwise kernels:
 * -DKSIZE=3|5 fixes R = S (0: R and S from the arguments) and -DSTRIDE=1|2
 * fixes both strides (0: from the arguments), so the tap loops have constant
 * bounds the compiler unrolls and the stride-1 input gradient needs no
 * divisibility test.  Every variant takes the same arguments.
 */
#ifndef KSIZE
#define KSIZE 0
#endif
#ifndef STRIDE
#define STRIDE 0
#endif

#if KSIZE > 0
#define KH KSIZE
#define KW KSIZE
#else
#define KH ((int)R)
#define KW ((int)S)
#endif
#if STRIDE > 0
#define SH STRIDE
#define SW STRIDE
#else
#define SH ((int)sh)
#define SW ((int)sw)
#endif

/* One work-item per output element y[n][c][p][q]. */
__kernel void dw_fwd(__global const float *x, uint xo, __global const float *w, uint wo,
                     __global const float *b, uint bo, uint has_bias, __global float *y, uint yo,
                     uint C, uint H, uint W, uint P, uint Q, uint R, uint S, uint sh, uint sw,
                     uint ph, uint pw, uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint q = i % Q, t = i / Q, p = t % P, nc = t / P, c = nc % C;
    __global const float *xp = x + xo + nc * H * W;
    __global const float *wp = w + wo + c * (uint)(KH * KW);
    const int h0 = (int)p * SH - (int)ph, w0 = (int)q * SW - (int)pw;
    float acc = 0.0f;
    for (int r = 0; r < KH; r++) {
        const int h = h0 + r;
        if (h < 0 || h >= (int)H)
            continue;
        for (int s = 0; s < KW; s++) {
            const int ww = w0 + s;
            if (ww >= 0 && ww < (int)W)
                acc += xp[h * (int)W + ww] * wp[r * KW + s];
        }
    }
    y[yo + i] = has_bias ? acc + b[bo + c] : acc;
}

/* One work-item per input element dx[n][c][h][w]: gathers the outputs it fed,
 * in (r, s) order, without atomics. */
__kernel void dw_bwd_data(__global const float *dy, uint dyo, __global const float *w, uint wo,
                          __global float *dx, uint dxo, uint C, uint H, uint W, uint P, uint Q,
                          uint R, uint S, uint sh, uint sw, uint ph, uint pw, uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint x_ = i % W, t = i / W, h = t % H, nc = t / H, c = nc % C;
    __global const float *gp = dy + dyo + nc * P * Q;
    __global const float *wp = w + wo + c * (uint)(KH * KW);
    float acc = 0.0f;
    for (int r = 0; r < KH; r++) {
        const int hp = (int)(h + ph) - r;
#if STRIDE == 1
        if (hp < 0 || hp >= (int)P)
            continue;
        const int p = hp;
#else
        if (hp < 0 || hp % SH != 0)
            continue;
        const int p = hp / SH;
        if (p >= (int)P)
            continue;
#endif
        for (int s = 0; s < KW; s++) {
            const int wq = (int)(x_ + pw) - s;
#if STRIDE == 1
            if (wq < 0 || wq >= (int)Q)
                continue;
            const int q = wq;
#else
            if (wq < 0 || wq % SW != 0)
                continue;
            const int q = wq / SW;
            if (q >= (int)Q)
                continue;
#endif
            acc += gp[p * (int)Q + q] * wp[r * KW + s];
        }
    }
    dx[dxo + i] = acc;
}

/*
 * Weight gradient, first pass: group c*G + g of C*G (1-D, as reduce.cl) sums
 * chunk g of the N*P*Q outputs of channel c for every tap and for the bias:
 * partial[(c*(T+1) + t)*G + g], t < T = R*S taps, t = T the bias.
 */
__kernel void dw_bwd_filter_partial(__global const float *x, uint xo, __global const float *dy,
                                    uint dyo, uint C, uint H, uint W, uint P, uint Q, uint R,
                                    uint S, uint sh, uint sw, uint ph, uint pw, uint N,
                                    uint chunk, __global float *partial,
                                    __local float *scratch)
{
    const uint G = get_num_groups(0) / C, c = get_group_id(0) / G, g = get_group_id(0) % G;
    const uint lid = get_local_id(0), L = get_local_size(0);
    const uint PQ = P * Q, M = N * PQ, T = (uint)(KH * KW);
    const uint begin = g * chunk, end = min(begin + chunk, M);
#if KSIZE > 0
    /* All taps in one sweep, accumulated in registers. */
    float acc[KSIZE * KSIZE], comp[KSIZE * KSIZE];
    for (int t = 0; t < KSIZE * KSIZE; t++)
        acc[t] = comp[t] = 0.0f;
    float accb = 0.0f, compb = 0.0f;
    for (uint m = begin + lid; m < end; m += L) {
        const uint n = m / PQ, pq = m - n * PQ, p = pq / Q, q = pq - p * Q;
        const float gv = dy[dyo + (n * C + c) * PQ + pq];
        __global const float *xp = x + xo + (n * C + c) * H * W;
        const int h0 = (int)p * SH - (int)ph, w0 = (int)q * SW - (int)pw;
        pactcl_kadd(&accb, &compb, gv);
        for (int r = 0; r < KSIZE; r++) {
            const int h = h0 + r;
            if (h < 0 || h >= (int)H)
                continue;
            for (int s = 0; s < KSIZE; s++) {
                const int ww = w0 + s;
                if (ww >= 0 && ww < (int)W)
                    pactcl_kadd(&acc[r * KSIZE + s], &comp[r * KSIZE + s],
                                gv * xp[h * (int)W + ww]);
            }
        }
    }
    for (uint t = 0; t < T; t++) {
        const float v = pactcl_wg_sum(acc[t], scratch);
        if (lid == 0)
            partial[(c * (T + 1) + t) * G + g] = v;
    }
    const float vb = pactcl_wg_sum(accb, scratch);
    if (lid == 0)
        partial[(c * (T + 1) + T) * G + g] = vb;
#else
    /* Any kernel size: one sweep per tap (the register array needs a
     * constant size); t == T sums the bias. */
    for (uint t = 0; t <= T; t++) {
        const int r = (int)t / KW, s = (int)t % KW;
        float acc = 0.0f, comp = 0.0f;
        for (uint m = begin + lid; m < end; m += L) {
            const uint n = m / PQ, pq = m - n * PQ, p = pq / Q, q = pq - p * Q;
            const float gv = dy[dyo + (n * C + c) * PQ + pq];
            if (t == T) {
                pactcl_kadd(&acc, &comp, gv);
                continue;
            }
            const int h = (int)p * SH - (int)ph + r, ww = (int)q * SW - (int)pw + s;
            if (h >= 0 && h < (int)H && ww >= 0 && ww < (int)W)
                pactcl_kadd(&acc, &comp, gv * x[xo + ((n * C + c) * H + (uint)h) * W + (uint)ww]);
        }
        const float v = pactcl_wg_sum(acc, scratch);
        if (lid == 0)
            partial[(c * (T + 1) + t) * G + g] = v;
    }
#endif
}

/* Second pass: one work-group per (channel, tap or bias) adds its partials. */
__kernel void dw_bwd_filter_finalize(__global const float *partial, uint G, uint R, uint S,
                                     __global float *dw, uint dwo, __global float *db, uint dbo,
                                     uint has_bias, __local float *scratch)
{
    const uint row = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    const uint T = (uint)(KH * KW), c = row / (T + 1), t = row % (T + 1);
    float acc = 0.0f;
    for (uint g = lid; g < G; g += L)
        acc += partial[row * G + g];
    const float v = pactcl_wg_sum(acc, scratch);
    if (lid != 0)
        return;
    if (t < T)
        dw[dwo + c * T + t] = v;
    else if (has_bias)
        db[dbo + c] = v;
}
