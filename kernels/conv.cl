/*
 * conv.cl: im2col and col2im for the convolutions that are not 1x1 (the 3x3
 * stem); the GEMMs around them run in CLBlast.
 *
 * Columns of a chunk of images are laid out col[b][(c*R + r)*S + s][p*Q + q],
 * so that y[b] (K x PQ) = w (K x CRS) * col[b] (CRS x PQ).  Both kernels use
 * one work-item per output element of a flat 1-D range.
 */

__kernel void im2col(__global const float *x, uint xo, uint C, uint H, uint W, uint R, uint S,
                     uint P, uint Q, uint sh, uint sw, uint ph, uint pw, __global float *col,
                     uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint PQ = P * Q, CRS = C * R * S;
    const uint pq = i % PQ, crs = (i / PQ) % CRS, b = i / (PQ * CRS);
    const uint p = pq / Q, q = pq - p * Q;
    const uint s = crs % S, r = (crs / S) % R, c = crs / (R * S);
    const int h = (int)(p * sh + r) - (int)ph, w = (int)(q * sw + s) - (int)pw;
    float v = 0.0f;
    if (h >= 0 && h < (int)H && w >= 0 && w < (int)W)
        v = x[xo + ((b * C + c) * H + (uint)h) * W + (uint)w];
    col[i] = v;
}

/* Gathers, for each input pixel, the column entries that came from it, in
 * (r, s) order: the same order a scatter-add over the columns would use,
 * with no atomics. */
__kernel void col2im(__global const float *col, uint C, uint H, uint W, uint R, uint S, uint P,
                     uint Q, uint sh, uint sw, uint ph, uint pw, __global float *x, uint xo,
                     uint total)
{
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint hw = i % (H * W), c = (i / (H * W)) % C, b = i / (H * W * C);
    const uint h = hw / W, w = hw - h * W;
    const uint PQ = P * Q, CRS = C * R * S;
    float acc = 0.0f;
    for (uint r = 0; r < R; r++) {
        const int hp = (int)(h + ph) - (int)r;
        if (hp < 0 || hp % (int)sh != 0)
            continue;
        const uint p = (uint)hp / sh;
        if (p >= P)
            continue;
        for (uint s = 0; s < S; s++) {
            const int wq = (int)(w + pw) - (int)s;
            if (wq < 0 || wq % (int)sw != 0)
                continue;
            const uint q = (uint)wq / sw;
            if (q >= Q)
                continue;
            acc += col[(b * CRS + (c * R + r) * S + s) * PQ + p * Q + q];
        }
    }
    x[xo + i] = acc;
}
