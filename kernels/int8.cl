/*
 * int8.cl: the int8 inference ops of the exported model: quantization of a
 * float activation to int8, and int8 convolution, depthwise convolution and
 * linear layers that accumulate in int32 (exact, so every device gives the
 * CPU's sums) and requantize each output channel to float: act(acc*mult + bias).
 * One work-item per output element; consecutive work-items take consecutive
 * output positions, so the activation reads coalesce.  Byte stores are core
 * since OpenCL 1.1.
 */

/* act: 0 none, 1 relu, 2 hardswish (enum pactcl_int8_act), formulas as the
 * fp32 activations. */
float pactcl_i8_requant(int acc, float mult, float bias, int act)
{
    const float v = (float)acc * mult + bias;
    if (act == 1)
        return v > 0.0f ? v : 0.0f;
    if (act == 2) {
        float r = v + 3.0f;
        r = r < 0.0f ? 0.0f : r;
        r = r > 6.0f ? 6.0f : r;
        return v * r / 6.0f;
    }
    return v;
}

/* q = round((bin*inv(s))*clip(x,-s,s)): the fake-quant formula without the
 * dequantization; |q| <= bin <= 127. */
__kernel void quantize_i8(__global const float *x, uint xo, __global const float *scale, uint so,
                          float bin, __global char *q, uint qo, uint n)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float s = scale[so];
    const float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
    const float v = x[xo + i];
    const float xc = v < -s ? -s : (v > s ? s : v);
    q[qo + i] = (char)round((bin * inv) * xc);
}

/* y[n][k][p][q] over q[N][C][H][W] and w[K][C][R][S], zero padding: the
 * im2col of the CPU done implicitly, in the same (c, r, s) order. */
__kernel void conv2d_i8(__global const char *x, uint xo, __global const char *w, uint wo,
                        __global const float *mult, uint mo, __global const float *bias, uint bo,
                        __global float *y, uint yo, uint C, uint H, uint W, uint K, uint R, uint S,
                        uint P, uint Q, uint sh, uint sw, uint ph, uint pw, int act, uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint PQ = P * Q, pq = i % PQ, k = (i / PQ) % K, n = i / (PQ * K);
    const uint p = pq / Q, q = pq - p * Q;
    const int h0 = (int)(p * sh) - (int)ph, w0 = (int)(q * sw) - (int)pw;
    __global const char *xn = x + xo + n * C * H * W;
    __global const char *wk = w + wo + k * C * R * S;
    int acc = 0;
    for (uint c = 0; c < C; c++) {
        for (uint r = 0; r < R; r++) {
            const int h = h0 + (int)r;
            if (h < 0 || h >= (int)H)
                continue;
            for (uint s = 0; s < S; s++) {
                const int ww = w0 + (int)s;
                if (ww >= 0 && ww < (int)W)
                    acc += (int)xn[(c * H + (uint)h) * W + (uint)ww] * (int)wk[(c * R + r) * S + s];
            }
        }
    }
    y[yo + i] = pactcl_i8_requant(acc, mult[mo + k], bias[bo + k], act);
}

/* Depthwise: y[n][c][p][q] over q[N][C][H][W] and w[C][1][R][S]. */
__kernel void dwconv_i8(__global const char *x, uint xo, __global const char *w, uint wo,
                        __global const float *mult, uint mo, __global const float *bias, uint bo,
                        __global float *y, uint yo, uint C, uint H, uint W, uint R, uint S, uint P,
                        uint Q, uint sh, uint sw, uint ph, uint pw, int act, uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint PQ = P * Q, pq = i % PQ, nc = i / PQ, c = nc % C;
    const uint p = pq / Q, q = pq - p * Q;
    const int h0 = (int)(p * sh) - (int)ph, w0 = (int)(q * sw) - (int)pw;
    __global const char *xp = x + xo + nc * H * W;
    __global const char *wc = w + wo + c * R * S;
    int acc = 0;
    for (uint r = 0; r < R; r++) {
        const int h = h0 + (int)r;
        if (h < 0 || h >= (int)H)
            continue;
        for (uint s = 0; s < S; s++) {
            const int ww = w0 + (int)s;
            if (ww >= 0 && ww < (int)W)
                acc += (int)xp[(uint)h * W + (uint)ww] * (int)wc[r * S + s];
        }
    }
    y[yo + i] = pactcl_i8_requant(acc, mult[mo + c], bias[bo + c], act);
}

/* y[n][o] over q[N][I] and w[I][O] (Paddle's layout): consecutive work-items
 * take consecutive o, so the weight rows are read coalesced. */
__kernel void linear_i8(__global const char *x, uint xo, __global const char *w, uint wo,
                        __global const float *mult, uint mo, __global const float *bias, uint bo,
                        __global float *y, uint yo, uint I, uint O, int act, uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint o = i % O, n = i / O;
    __global const char *xn = x + xo + n * I;
    int acc = 0;
    for (uint j = 0; j < I; j++)
        acc += (int)xn[j] * (int)w[wo + j * O + o];
    y[yo + i] = pactcl_i8_requant(acc, mult[mo + o], bias[bo + o], act);
}
