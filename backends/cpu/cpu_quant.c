/*
 * cpu_quant.c: PACT clipping with its alpha gradient, and the fake
 * quantize-dequantize ops of Paddle 2.2 (channel-wise abs-max for weights,
 * moving-average abs-max for activations, and the output observer).
 *
 * Quantization must match Paddle bit for bit (a one-ulp difference before the
 * rounding moves a value by a whole quantization step), so the formulas keep
 * Paddle's evaluation order and rounding: see qdq().
 */
#include "config.h"

#include <math.h>

#include "cpu_ops.h"

/* The alpha gradient is summed over at most this many blocks of the tensor,
 * a count independent of the thread count, then added in block order. */
#define PACT_BLOCKS 64
#define PACT_BLOCK_MIN 4096

static float bin_count(int bits)
{
    return (float)((1 << (bits - 1)) - 1);
}

/* Paddle's inverse(s), #36762: guards the division for an all-zero tensor. */
static float scale_inverse(float s)
{
    return s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
}


/* Quantize-dequantize one value with scale s; bin_inv = bin * inverse(s) is
 * computed once by the caller, as Paddle does.  The clamps reproduce
 * fminf(fmaxf(x, -s), s), including a NaN x becoming -s. */
static inline float qdq(float x, float s, float bin_inv, float bin)
{
    const float lo = x >= -s ? x : -s;
    const float xc = lo <= s ? lo : s;
    return pactcl_cpu_round_half_away(bin_inv * xc) * s / bin;
}

/* The portable loop.  Not multiversioned: with SSE4.1 and later, GCC 12
 * turns the int conversion of round_half_away into a branch and the loop
 * stays scalar, slower than this baseline vector loop. */
static void qdq_range(const float *x, float *y, int64_t n, float s, float bin_inv, float bin)
{
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < n; i++)
        y[i] = qdq(x[i], s, bin_inv, bin);
}

#ifdef PACTCL_CPU_X86_AVX2
/* qdq() on 8 lanes: the clamps are compare-and-blend, so that a NaN becomes
 * -s and a zero keeps its sign exactly as in the scalar formula. */
PACTCL_CPU_AVX2 static void qdq_range_avx2(const float *x, float *y, int64_t n, float s,
                                           float bin_inv, float bin)
{
    const __m256 vs = _mm256_set1_ps(s), vns = _mm256_set1_ps(-s);
    const __m256 vbi = _mm256_set1_ps(bin_inv), vbin = _mm256_set1_ps(bin);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 lo = _mm256_blendv_ps(vns, v, _mm256_cmp_ps(v, vns, _CMP_GE_OQ));
        const __m256 xc = _mm256_blendv_ps(vs, lo, _mm256_cmp_ps(lo, vs, _CMP_LE_OQ));
        const __m256 q = pactcl_cpu_round_half_away8(_mm256_mul_ps(vbi, xc));
        _mm256_storeu_ps(y + i, _mm256_div_ps(_mm256_mul_ps(q, vs), vbin));
    }
    for (; i < n; i++)
        y[i] = qdq(x[i], s, bin_inv, bin);
}
#endif

typedef void (*qdq_fn)(const float *x, float *y, int64_t n, float s, float bin_inv, float bin);

static qdq_fn qdq_pick(void)
{
#ifdef PACTCL_CPU_X86_AVX2
    if (pactcl_cpu_has_avx2())
        return qdq_range_avx2;
#endif
    return qdq_range;
}

/* The passes over a tensor run in chunks of this many elements, one kernel
 * call per chunk. */
#define CHUNK 16384

static void qdq_tensor(const float *x, float *y, int64_t n, float s, int bits)
{
    const float bin = bin_count(bits), bin_inv = bin * scale_inverse(s);
    const qdq_fn fn = qdq_pick();
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        fn(x + lo, y + lo, len, s, bin_inv, bin);
    }
}

/* max |x|, ignoring NaNs as `a > m ? a : m` does.  The maxima are kept per
 * lane of a block rather than as an `omp simd reduction(max)`, which GCC
 * keeps in memory at -O2 and so runs at a store-forwarding round trip per
 * vector. */
#define MAX_LANES 16

PACTCL_CPU_MULTIVERSION static float abs_max_range(const float *x, int64_t n)
{
    float lanes[MAX_LANES] = {0.0f};
    int64_t i = 0;
    for (; i + MAX_LANES <= n; i += MAX_LANES) {
        PACTCL_CPU_PRAGMA(omp simd)
        for (int j = 0; j < MAX_LANES; j++) {
            const float a = fabsf(x[i + j]);
            lanes[j] = a > lanes[j] ? a : lanes[j];
        }
    }
    float m = 0.0f;
    for (; i < n; i++) {
        const float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    for (int j = 0; j < MAX_LANES; j++)
        m = lanes[j] > m ? lanes[j] : m;
    return m;
}

static float abs_max(const float *x, int64_t n)
{
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
    float m = 0.0f;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) reduction(max : m) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        const float cm = abs_max_range(x + lo, len);
        m = cm > m ? cm : m;
    }
    return m;
}

/* ---- PACT ------------------------------------------------------------------- */

/* x alpha -> y = (x - relu(x - a)) + relu(-a - x), in this order. */
PACTCL_CPU_OP(pactcl_cpu_pact_fwd)
{
    const float *x = pactcl_cpu_f32(call, 0);
    const float a = pactcl_cpu_f32(call, 1)[0];
    float *y = pactcl_cpu_f32(call, 2);
    const int64_t n = pactcl_cpu_numel(call, 0);
    PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i], over = v - a, under = -a - v;
        y[i] = (v - (over > 0.0f ? over : 0.0f)) + (under > 0.0f ? under : 0.0f);
    }
    return PACTCL_OK;
}

/* The alpha gradient's terms are summed in float over runs of this many
 * elements, the runs in double: full-width vectors, bounded rounding error. */
#define PACT_RUN 256

/* dx = dy*(1 - [x>a] - [x<-a]) over [lo, hi); returns sum dy*([x>a] - [x<-a]). */
PACTCL_CPU_MULTIVERSION static double pact_bwd_range(const float *x, const float *dy, float a,
                                                     float *dx, int64_t lo, int64_t hi)
{
    double sum = 0.0;
    for (int64_t r = lo; r < hi; r += PACT_RUN) {
        const int64_t end = hi - r < PACT_RUN ? hi : r + PACT_RUN;
        float run = 0.0f;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : run))
        for (int64_t i = r; i < end; i++) {
            const float v = x[i], g = dy[i];
            const float above = (float)(v > a), below = (float)(v < -a);
            dx[i] = g * (1.0f - above - below);
            run += g * (above - below);
        }
        sum += run;
    }
    return sum;
}

/* x alpha dy -> dx = dy*(1 - [x>a] - [x<-a]), dalpha = sum dy*([x>a] - [x<-a]) */
PACTCL_CPU_OP(pactcl_cpu_pact_bwd)
{
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 2);
    const float a = pactcl_cpu_f32(call, 1)[0];
    float *dx = pactcl_cpu_f32(call, 3), *dalpha = pactcl_cpu_f32(call, 4);
    const int64_t n = pactcl_cpu_numel(call, 0);
    int64_t blocks = (n + PACT_BLOCK_MIN - 1) / PACT_BLOCK_MIN;
    if (blocks > PACT_BLOCKS)
        blocks = PACT_BLOCKS;
    double partial[PACT_BLOCKS];
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t b = 0; b < blocks; b++)
        partial[b] = pact_bwd_range(x, dy, a, dx, n * b / blocks, n * (b + 1) / blocks);
    double total = 0.0;
    for (int64_t b = 0; b < blocks; b++)
        total += partial[b];
    dalpha[0] = (float)total;
    return PACTCL_OK;
}

/* ---- channel-wise abs-max (weights) -------------------------------------------- */

/* Channels per block when finding the maxima: the block's maxima stay in
 * registers or L1 while rows stream past, which keeps the reads contiguous
 * for axis 1 ([in,out] weights, one channel per column). */
#define CHANNEL_BLOCK 64

/* w -> wq scale[C]; w is viewed as [outer, C, inner] with C = dims[axis]. */
PACTCL_CPU_OP(pactcl_cpu_fq_channel_fwd)
{
    const float *w = pactcl_cpu_f32(call, 0);
    float *wq = pactcl_cpu_f32(call, 1), *scale = pactcl_cpu_f32(call, 2);
    const struct pactcl_fake_quant_params *p = &call->params.fake_quant;
    const int64_t n = pactcl_cpu_numel(call, 0);
    const int64_t outer = p->axis == 0 ? 1 : call->args[0]->dims[0];
    const int64_t C = call->args[0]->dims[p->axis], inner = n / (outer * C);
    const float bin = bin_count(p->bits);

    const int64_t blocks = (C + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
    for (int64_t blk = 0; blk < blocks; blk++) {
        const int64_t c0 = blk * CHANNEL_BLOCK;
        const int64_t width = C - c0 < CHANNEL_BLOCK ? C - c0 : CHANNEL_BLOCK;
        float m[CHANNEL_BLOCK] = {0.0f};
        for (int64_t o = 0; o < outer; o++) {
            const float *row = w + (o * C + c0) * inner;
            if (inner == 1) { /* one element per channel: vectorise across them */
                PACTCL_CPU_PRAGMA(omp simd)
                for (int64_t j = 0; j < width; j++) {
                    const float a = fabsf(row[j]);
                    m[j] = a > m[j] ? a : m[j];
                }
            } else {
                for (int64_t j = 0; j < width; j++) {
                    const float a = abs_max_range(row + j * inner, inner);
                    m[j] = a > m[j] ? a : m[j];
                }
            }
        }
        for (int64_t j = 0; j < width; j++)
            scale[c0 + j] = m[j];
    }

    float *bin_inv;
    int rc = pactcl_cpu_scratch(ctx, (size_t)C * sizeof *bin_inv, (void **)&bin_inv);
    if (rc != PACTCL_OK)
        return rc;
    for (int64_t c = 0; c < C; c++)
        bin_inv[c] = bin * scale_inverse(scale[c]);

    if (inner == 1) { /* rows of C channels: vectorise across channels */
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
        for (int64_t o = 0; o < outer; o++) {
            const float *src = w + o * C;
            float *dst = wq + o * C;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t c = 0; c < C; c++)
                dst[c] = qdq(src[c], scale[c], bin_inv[c], bin);
        }
    } else { /* slices of inner elements sharing one scale */
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (n >= PACTCL_CPU_PAR_MIN))
        for (int64_t oc = 0; oc < outer * C; oc++) {
            const int64_t c = oc % C;
            const float s = scale[c], si = bin_inv[c];
            const float *src = w + oc * inner;
            float *dst = wq + oc * inner;
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t i = 0; i < inner; i++)
                dst[i] = qdq(src[i], s, si, bin);
        }
    }
    return PACTCL_OK;
}

/* ---- moving-average abs-max (activations) --------------------------------------- */

/* state = rate*state + 1; accum = rate*accum + max|x|; scale = accum/state. */
static void moving_average_update(const struct pactcl_op_call *call)
{
    const float *x = pactcl_cpu_f32(call, 0);
    float *scale = pactcl_cpu_f32(call, 1), *state = pactcl_cpu_f32(call, 2);
    float *accum = pactcl_cpu_f32(call, 3);
    const float rate = call->params.fake_quant.moving_rate;
    const float cur = abs_max(x, pactcl_cpu_numel(call, 0));
    state[0] = rate * state[0] + 1.0f;
    accum[0] = rate * accum[0] + cur;
    scale[0] = accum[0] / state[0];
}

/* x scale state accum -> y */
PACTCL_CPU_OP(pactcl_cpu_fq_moving_avg_fwd)
{
    const struct pactcl_fake_quant_params *p = &call->params.fake_quant;
    if (!p->is_test)
        moving_average_update(call);
    qdq_tensor(pactcl_cpu_f32(call, 0), pactcl_cpu_f32(call, 4), pactcl_cpu_numel(call, 0),
               pactcl_cpu_f32(call, 1)[0], p->bits);
    return PACTCL_OK;
}

/* x scale state accum: the training update alone (output observer). */
PACTCL_CPU_OP(pactcl_cpu_ma_observe)
{
    moving_average_update(call);
    return PACTCL_OK;
}
