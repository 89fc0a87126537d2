/*
 * cpu_int8.c: the int8 inference ops of the exported model that are GEMMs
 * (dense conv2d, linear), and the quantization of their inputs.  Inputs and
 * weights are int8, products accumulate in int32, and each output channel is
 * requantized to float with its multiplier and bias (BN folded), then the
 * activation is applied.  The depthwise conv lives in cpu_depthwise.c.
 *
 * The GEMM C[m][p] = sum_j A[m][j] B[j][p] runs on packed operands made for
 * the x86 instruction that multiplies pairs of int16 and adds each pair into
 * an int32 lane (vpmaddwd, 16 multiply-adds per instruction): A's rows hold
 * (A[m][2i], A[m][2i+1]) pairs as one int32 to broadcast, B holds the same two
 * rows interleaved per column.  A register block of 4 rows x 16 columns keeps
 * 8 accumulators and reads each B pair once per 4 rows; the AVX2 block also
 * requantizes in registers.  Integer sums are exact in any order, so every
 * version (AVX2, portable) and every thread count gives the same bits; the
 * float requantization is the op's formula, without FMA.
 */
#include "config.h"

#include <string.h>

#include "cpu_ops.h"

#define MR 4  /* rows of A per register block */
#define NR 16 /* columns of B per register block */

static float bin_of(int bits)
{
    return (float)((1 << (bits - 1)) - 1);
}

static int64_t round_up(int64_t v, int64_t m)
{
    return (v + m - 1) / m * m;
}

/* ---- quantize ------------------------------------------------------------ */

/* q = round(k*clip(x, -s, s)), clip as x < -s ? -s : x > s ? s : x. */
static void quantize_range(const float *x, int8_t *q, int64_t n, float s, float k)
{
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < n; i++) {
        const float xc = x[i] < -s ? -s : x[i] > s ? s : x[i];
        q[i] = (int8_t)pactcl_cpu_round_half_away(k * xc);
    }
}

#ifdef PACTCL_CPU_X86_AVX2
static inline PACTCL_CPU_AVX2 __m256i quantize8(const float *x, __m256 vs, __m256 vns, __m256 vk)
{
    const __m256 v = _mm256_loadu_ps(x);
    const __m256 lo = _mm256_blendv_ps(v, vns, _mm256_cmp_ps(v, vns, _CMP_LT_OQ));
    const __m256 xc = _mm256_blendv_ps(lo, vs, _mm256_cmp_ps(v, vs, _CMP_GT_OQ));
    return _mm256_cvttps_epi32(pactcl_cpu_round_half_away8(_mm256_mul_ps(vk, xc)));
}

/* 32 values per step, narrowed int32 -> int16 -> int8; the packs work per
 * 128-bit lane, and the final permutation puts the four groups back in order. */
PACTCL_CPU_AVX2 static void quantize_range_avx2(const float *x, int8_t *q, int64_t n, float s,
                                                float k)
{
    const __m256 vs = _mm256_set1_ps(s), vns = _mm256_set1_ps(-s), vk = _mm256_set1_ps(k);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i ab = _mm256_packs_epi32(quantize8(x + i, vs, vns, vk),
                                              quantize8(x + i + 8, vs, vns, vk));
        const __m256i cd = _mm256_packs_epi32(quantize8(x + i + 16, vs, vns, vk),
                                              quantize8(x + i + 24, vs, vns, vk));
        const __m256i bytes = _mm256_packs_epi16(ab, cd);
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    quantize_range(x + i, q + i, n - i, s, k);
}
#endif

#define QUANTIZE_CHUNK 16384

PACTCL_CPU_OP(pactcl_cpu_quantize_i8)
{
    const float *x = pactcl_cpu_f32(call, 0);
    const float s = pactcl_cpu_f32(call, 1)[0];
    int8_t *q = PACTCL_TENSOR_HOST(call->args[2]);
    const int64_t n = pactcl_cpu_numel(call, 0);
    const float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
    const float k = bin_of(call->params.int8.bits) * inv;
    void (*fn)(const float *, int8_t *, int64_t, float, float) = quantize_range;
#ifdef PACTCL_CPU_X86_AVX2
    if (pactcl_cpu_has_avx2())
        fn = quantize_range_avx2;
#endif
    const int64_t chunks = (n + QUANTIZE_CHUNK - 1) / QUANTIZE_CHUNK;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * QUANTIZE_CHUNK;
        fn(x + lo, q + lo, n - lo < QUANTIZE_CHUNK ? n - lo : QUANTIZE_CHUNK, s, k);
    }
    return PACTCL_OK;
}

/* ---- packing -------------------------------------------------------------- */

/* ap[m][i] = (A[m][2i] & 0xffff) | A[m][2i+1] << 16 for m < M (zero rows up to
 * a multiple of MR, zero for a missing odd column); A is [M][J]. */
static void pack_a(const int8_t *a, int64_t M, int64_t J, int32_t *ap)
{
    const int64_t JJ = (J + 1) / 2, Mp = round_up(M, MR);
    for (int64_t m = 0; m < Mp; m++) {
        for (int64_t i = 0; i < JJ; i++) {
            const int lo = m < M ? a[m * J + 2 * i] : 0;
            const int hi = m < M && 2 * i + 1 < J ? a[m * J + 2 * i + 1] : 0;
            ap[m * JJ + i] = (int32_t)((uint32_t)(uint16_t)(int16_t)lo | (uint32_t)hi << 16);
        }
    }
}

/* bp[i][p] = (B[2i][p], B[2i+1][p]) as int16 for p < cols, zero pairs up to
 * ldp (a multiple of NR) and for a missing odd row; B is [J][cols]. */
static void pack_b(const int8_t *b, int64_t J, int64_t cols, int64_t ldp, int16_t *bp)
{
    for (int64_t i = 0; i < (J + 1) / 2; i++) {
        const int8_t *r0 = b + 2 * i * cols;
        const int8_t *r1 = 2 * i + 1 < J ? r0 + cols : NULL;
        int16_t *d = bp + 2 * i * ldp;
        if (r1) {
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t p = 0; p < cols; p++) {
                d[2 * p] = r0[p];
                d[2 * p + 1] = r1[p];
            }
        } else {
            for (int64_t p = 0; p < cols; p++) {
                d[2 * p] = r0[p];
                d[2 * p + 1] = 0;
            }
        }
        memset(d + 2 * cols, 0, (size_t)(2 * (ldp - cols)) * sizeof *d);
    }
}

/* col[(c*R + r)*S + s][p*Q + q] = x[c, p*sh - ph + r, q*sw - pw + s], 0 in the
 * padding; the columns q whose input lies inside the row are [qlo, qhi), so
 * the bounds are checked once per row. */
static void im2col_i8(const int8_t *x, int64_t C, int64_t H, int64_t W, int64_t R, int64_t S,
                      int64_t P, int64_t Q, const struct pactcl_conv_params *cp, int8_t *col)
{
    const int64_t sh = cp->stride_h, sw = cp->stride_w;
    for (int64_t c = 0; c < C; c++)
        for (int64_t r = 0; r < R; r++)
            for (int64_t s = 0; s < S; s++) {
                int8_t *row = col + ((c * R + r) * S + s) * P * Q;
                const int64_t off = s - cp->pad_w;
                int64_t qlo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                int64_t qhi = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
                qhi = qhi > Q ? Q : qhi;
                qlo = qlo > qhi ? qhi : qlo;
                for (int64_t p = 0; p < P; p++) {
                    int8_t *d = row + p * Q;
                    const int64_t ih = p * sh - cp->pad_h + r;
                    if (ih < 0 || ih >= H) {
                        memset(d, 0, (size_t)Q);
                        continue;
                    }
                    const int8_t *xr = x + (c * H + ih) * W + off;
                    memset(d, 0, (size_t)qlo);
                    PACTCL_CPU_PRAGMA(omp simd)
                    for (int64_t q = qlo; q < qhi; q++)
                        d[q] = xr[q * sw];
                    memset(d + qhi, 0, (size_t)(Q - qhi));
                }
            }
}

/* ---- the GEMM ------------------------------------------------------------- */

/* How the int32 sums become outputs: y = act(acc*mult + bias) with mult and
 * bias per row (conv: output channels are rows) or per column (linear). */
struct epilogue {
    const float *mult, *bias;
    int per_row;
    int act;
};

/* acc[MR][NR] = ap[0..MR) . bp[.., 0..NR), over JJ pairs; bp points at the
 * block's first column, ldb2 = 2*ldp int16 per pair row. */
static void kernel_portable(const int32_t *ap, int64_t JJ, const int16_t *bp, int64_t ldb2,
                            int32_t acc[MR][NR])
{
    memset(acc, 0, sizeof(int32_t) * MR * NR);
    for (int64_t i = 0; i < JJ; i++) {
        const int16_t *b = bp + i * ldb2;
        for (int m = 0; m < MR; m++) {
            const int32_t a = ap[m * JJ + i];
            const int32_t lo = (int16_t)(a & 0xffff), hi = a >> 16;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int t = 0; t < NR; t++)
                acc[m][t] += lo * b[2 * t] + hi * b[2 * t + 1];
        }
    }
}

#ifdef PACTCL_CPU_X86_AVX2
PACTCL_CPU_AVX2 static void kernel_avx2(const int32_t *ap, int64_t JJ, const int16_t *bp,
                                        int64_t ldb2, int32_t acc[MR][NR])
{
    /* Named accumulators: GCC keeps an array of them in memory. */
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
    __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int64_t i = 0; i < JJ; i++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(bp + i * ldb2));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + i * ldb2 + 16));
        __m256i a = _mm256_set1_epi32(ap[i]);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, a));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b1, a));
        a = _mm256_set1_epi32(ap[JJ + i]);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b0, a));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, a));
        a = _mm256_set1_epi32(ap[2 * JJ + i]);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b0, a));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b1, a));
        a = _mm256_set1_epi32(ap[3 * JJ + i]);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b0, a));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b1, a));
    }
    _mm256_storeu_si256((__m256i *)acc[0], c00);
    _mm256_storeu_si256((__m256i *)(acc[0] + 8), c01);
    _mm256_storeu_si256((__m256i *)acc[1], c10);
    _mm256_storeu_si256((__m256i *)(acc[1] + 8), c11);
    _mm256_storeu_si256((__m256i *)acc[2], c20);
    _mm256_storeu_si256((__m256i *)(acc[2] + 8), c21);
    _mm256_storeu_si256((__m256i *)acc[3], c30);
    _mm256_storeu_si256((__m256i *)(acc[3] + 8), c31);
}

/* pactcl_cpu_int8_activate((float)acc * mult + bias) on 8 lanes; max/min
 * return their second operand on ties, which keeps +0 where the scalar
 * selects give +0. */
static inline PACTCL_CPU_AVX2 __m256 requant8(__m256i acc, __m256 mult, __m256 bias, int act)
{
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), mult), bias);
    const __m256 zero = _mm256_setzero_ps();
    if (act == PACTCL_INT8_ACT_RELU)
        return _mm256_max_ps(v, zero);
    if (act == PACTCL_INT8_ACT_HARDSWISH) {
        const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(3.0f)), zero),
                                       _mm256_set1_ps(6.0f));
        return _mm256_div_ps(_mm256_mul_ps(v, r), _mm256_set1_ps(6.0f));
    }
    return v;
}

/* A whole register block with the requantization fused: no int32 round trip
 * through memory, which on short sums (J = 16 or 27) costs as much as the
 * multiply-adds. */
PACTCL_CPU_AVX2 static void block_avx2(const int32_t *ap, int64_t JJ, const int16_t *bp,
                                       int64_t ldb2, int64_t m0, int64_t p0,
                                       const struct epilogue *e, float *y, int64_t ldy)
{
    int32_t acc[MR][NR];
    kernel_avx2(ap, JJ, bp, ldb2, acc);
    for (int m = 0; m < MR; m++) {
        __m256 mu0, mu1, b0, b1;
        if (e->per_row) {
            mu0 = mu1 = _mm256_set1_ps(e->mult[m0 + m]);
            b0 = b1 = _mm256_set1_ps(e->bias[m0 + m]);
        } else {
            mu0 = _mm256_loadu_ps(e->mult + p0), mu1 = _mm256_loadu_ps(e->mult + p0 + 8);
            b0 = _mm256_loadu_ps(e->bias + p0), b1 = _mm256_loadu_ps(e->bias + p0 + 8);
        }
        float *yr = y + (m0 + m) * ldy + p0;
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)acc[m]);
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(acc[m] + 8));
        _mm256_storeu_ps(yr, requant8(a0, mu0, b0, e->act));
        _mm256_storeu_ps(yr + 8, requant8(a1, mu1, b1, e->act));
    }
}
#endif

typedef void (*kernel_fn)(const int32_t *ap, int64_t JJ, const int16_t *bp, int64_t ldb2,
                          int32_t acc[MR][NR]);

static kernel_fn kernel_pick(void)
{
#ifdef PACTCL_CPU_X86_AVX2
    if (pactcl_cpu_has_avx2())
        return kernel_avx2;
#endif
    return kernel_portable;
}

/* The outputs of one register block: rows [m0, m0+mr), columns [p0, p0+nr). */
static void store_block(int32_t acc[MR][NR], int64_t m0, int mr, int64_t p0, int nr,
                        const struct epilogue *e, float *y, int64_t ldy)
{
    for (int m = 0; m < mr; m++) {
        float *yr = y + (m0 + m) * ldy + p0;
        if (e->per_row) {
            const float mu = e->mult[m0 + m], b = e->bias[m0 + m];
            PACTCL_CPU_PRAGMA(omp simd)
            for (int t = 0; t < nr; t++)
                yr[t] = pactcl_cpu_int8_activate((float)acc[m][t] * mu + b, e->act);
        } else {
            const float *mu = e->mult + p0, *b = e->bias + p0;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int t = 0; t < nr; t++)
                yr[t] = pactcl_cpu_int8_activate((float)acc[m][t] * mu[t] + b[t], e->act);
        }
    }
}

/* y[m][p] for every row m < M and the column blocks [blk0, blk1) of NR: the
 * column block outer, so that its slice of bp stays in L1 across all rows. */
static void gemm_blocks(kernel_fn kernel, const int32_t *ap, int64_t M, int64_t JJ,
                        const int16_t *bp, int64_t ldp, int64_t cols, int64_t blk0, int64_t blk1,
                        const struct epilogue *e, float *y, int64_t ldy)
{
    int32_t acc[MR][NR];
    for (int64_t blk = blk0; blk < blk1; blk++) {
        const int64_t p0 = blk * NR;
        const int nr = cols - p0 < NR ? (int)(cols - p0) : NR;
        for (int64_t m0 = 0; m0 < M; m0 += MR) {
            const int mr = M - m0 < MR ? (int)(M - m0) : MR;
#ifdef PACTCL_CPU_X86_AVX2
            if (kernel == kernel_avx2 && mr == MR && nr == NR) {
                block_avx2(ap + m0 * JJ, JJ, bp + 2 * p0, 2 * ldp, m0, p0, e, y, ldy);
                continue;
            }
#endif
            kernel(ap + m0 * JJ, JJ, bp + 2 * p0, 2 * ldp, acc);
            store_block(acc, m0, mr, p0, nr, e, y, ldy);
        }
    }
}

/* ---- ops -------------------------------------------------------------------- */

/* Per image: B = the image (pointwise) or its im2col matrix, [J][PQ]; A = the
 * weights [K][J], packed once.  With at least as many images as threads,
 * each thread packs and multiplies whole images; otherwise (batch-1 latency)
 * each image is packed once and its column blocks are split across threads. */
PACTCL_CPU_OP(pactcl_cpu_conv2d_i8)
{
    const struct pactcl_tensor *xt = call->args[0], *wt = call->args[1], *yt = call->args[4];
    const int8_t *x = PACTCL_TENSOR_HOST(xt), *w = PACTCL_TENSOR_HOST(wt);
    float *y = pactcl_cpu_f32(call, 4);
    const struct pactcl_conv_params *cp = &call->params.int8.conv;
    const struct epilogue e = { pactcl_cpu_f32(call, 2), pactcl_cpu_f32(call, 3), 1,
                                call->params.int8.act };
    const int64_t N = xt->dims[0], C = xt->dims[1], H = xt->dims[2], W = xt->dims[3];
    const int64_t K = wt->dims[0], R = wt->dims[2], S = wt->dims[3];
    const int64_t P = yt->dims[2], Q = yt->dims[3];
    const int64_t J = C * R * S, JJ = (J + 1) / 2, PQ = P * Q, ldp = round_up(PQ, NR);
    const int direct = R == 1 && S == 1 && cp->stride_h == 1 && cp->stride_w == 1 &&
                       cp->pad_h == 0 && cp->pad_w == 0;
    const size_t ap_bytes = (size_t)(round_up(K, MR) * JJ) * sizeof(int32_t);
    const size_t bp_bytes = pactcl_cpu_round64((size_t)(2 * JJ * ldp) * sizeof(int16_t));
    const size_t per_thread = bp_bytes + (direct ? 0 : (size_t)(J * PQ));
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, ap_bytes, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    int32_t *ap = (int32_t *)base;
    pack_a(w, K, J, ap);
    const kernel_fn kernel = kernel_pick();
    const int64_t blocks = ldp / NR;
    const int threads = pactcl_cpu_max_threads();
    const int par = N * K * PQ * J >= PACTCL_CPU_PAR_MIN_MACS;
    if (N >= threads || !par) {
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (par))
        for (int64_t n = 0; n < N; n++) {
            char *area =
                pactcl_cpu_thread_area(base, ap_bytes, per_thread, pactcl_cpu_thread_num());
            int16_t *bp = (int16_t *)area;
            const int8_t *src = x + n * C * H * W;
            if (!direct) {
                im2col_i8(src, C, H, W, R, S, P, Q, cp, (int8_t *)(area + bp_bytes));
                src = (const int8_t *)(area + bp_bytes);
            }
            pack_b(src, J, PQ, ldp, bp);
            gemm_blocks(kernel, ap, K, JJ, bp, ldp, PQ, 0, blocks, &e, y + n * K * PQ, PQ);
        }
        return PACTCL_OK;
    }
    char *area = pactcl_cpu_thread_area(base, ap_bytes, per_thread, 0);
    int16_t *bp = (int16_t *)area;
    for (int64_t n = 0; n < N; n++) {
        const int8_t *src = x + n * C * H * W;
        if (!direct) {
            im2col_i8(src, C, H, W, R, S, P, Q, cp, (int8_t *)(area + bp_bytes));
            src = (const int8_t *)(area + bp_bytes);
        }
        pack_b(src, J, PQ, ldp, bp);
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static))
        for (int t = 0; t < threads; t++)
            gemm_blocks(kernel, ap, K, JJ, bp, ldp, PQ, blocks * t / threads,
                        blocks * (t + 1) / threads, &e, y + n * K * PQ, PQ);
    }
    return PACTCL_OK;
}

/* y[N][O] = x[N][I] w[I][O]: A = x, B = w, multipliers per column; the column
 * blocks are split across threads. */
PACTCL_CPU_OP(pactcl_cpu_linear_i8)
{
    const struct pactcl_tensor *xt = call->args[0], *wt = call->args[1];
    const int8_t *x = PACTCL_TENSOR_HOST(xt), *w = PACTCL_TENSOR_HOST(wt);
    float *y = pactcl_cpu_f32(call, 4);
    const struct epilogue e = { pactcl_cpu_f32(call, 2), pactcl_cpu_f32(call, 3), 0,
                                call->params.int8.act };
    const int64_t N = xt->dims[0], I = xt->dims[1], O = wt->dims[1];
    const int64_t II = (I + 1) / 2, ldp = round_up(O, NR);
    const size_t ap_bytes = pactcl_cpu_round64((size_t)(round_up(N, MR) * II) * sizeof(int32_t));
    const size_t bp_bytes = (size_t)(2 * II * ldp) * sizeof(int16_t);
    char *base;
    int rc = pactcl_cpu_scratch(ctx, ap_bytes + bp_bytes, (void **)&base);
    if (rc != PACTCL_OK)
        return rc;
    int32_t *ap = (int32_t *)base;
    int16_t *bp = (int16_t *)(base + ap_bytes);
    pack_a(x, N, I, ap);
    pack_b(w, I, O, ldp, bp);
    const kernel_fn kernel = kernel_pick();
    const int64_t blocks = ldp / NR;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * I * O >= PACTCL_CPU_PAR_MIN_MACS))
    for (int64_t blk = 0; blk < blocks; blk++)
        gemm_blocks(kernel, ap, N, II, bp, ldp, O, blk, blk + 1, &e, y, O);
    return PACTCL_OK;
}
