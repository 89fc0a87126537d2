/*
 * cpu_ops.h: what the files of the CPU backend share: the device context
 * (host services, scratch memory), the op entry points the dispatch table of
 * cpu_plugin.c points to, and small inline helpers for hot loops.
 */
#ifndef PACTCL_CPU_OPS_H
#define PACTCL_CPU_OPS_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include "pactcl-plugin.h"

/* OpenMP pragmas go through this macro so that a build without OpenMP
 * compiles the same loops serially instead of warning about unknown pragmas. */
#ifdef _OPENMP
#define PACTCL_CPU_PRAGMA(x) _Pragma(#x)
#else
#define PACTCL_CPU_PRAGMA(x)
#endif

/* Clang reports each `omp simd` loop it cannot vectorise (some instances of
 * the depthwise loop around the unrolled kernel window) as a warning; such a
 * loop is still correct, only slower, so it must not fail a -Werror build. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* Elementwise loops shorter than this run on one thread.  A parallel region
 * costs a few microseconds on an idle machine, but a whole scheduler time
 * slice whenever a team thread has been preempted (every region ends in a
 * barrier that waits for it), which on a shared or oversubscribed machine
 * dominated the small ops of a 32x32 training step.  At 128K elements a loop
 * runs 30-100 us on one core, so splitting it gains little even when idle. */
#define PACTCL_CPU_PAR_MIN (1 << 17)

/* The same bound for convolutions, in multiply-adds. */
#define PACTCL_CPU_PAR_MIN_MACS (1 << 21)

/* An elementwise loop over n elements: vectorised, and split across threads
 * when n is large enough to pay for it. */
#define PACTCL_CPU_PARALLEL_SIMD(n)                                                                \
    PACTCL_CPU_PRAGMA(omp parallel for simd schedule(static) if ((n) >= PACTCL_CPU_PAR_MIN))

/* Constant kernel sizes and strides must reach the specialised loop bodies,
 * and their kernel loops must be unrolled before the vectoriser sees them. */
#if defined(__GNUC__)
#define PACTCL_CPU_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PACTCL_CPU_ALWAYS_INLINE inline
#endif
#if defined(__clang__)
#define PACTCL_CPU_UNROLL _Pragma("unroll 8")
#elif defined(__GNUC__)
#define PACTCL_CPU_UNROLL _Pragma("GCC unroll 8")
#else
#define PACTCL_CPU_UNROLL
#endif

/* Hot kernels are compiled twice, for the baseline ISA and for AVX2, and the
 * loader picks the version the CPU runs (GNU ifunc), so that a distribution
 * build still uses 256-bit vectors.  Put it on functions called from inside
 * a parallel region: the region's own outlined body is not cloned. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define PACTCL_CPU_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define PACTCL_CPU_MULTIVERSION
#endif

/* x86-64 kernels written with AVX2 intrinsics, picked at run time where the
 * CPU has AVX2 (pactcl_cpu_has_avx2), for loops the compiler does not
 * vectorise well by itself; every one has a portable twin with the same
 * results.  No FMA anywhere: the results must round as the portable code's. */
#if defined(__x86_64__) && defined(__GNUC__)
#define PACTCL_CPU_X86_AVX2 1
#include <immintrin.h>
#define PACTCL_CPU_AVX2 __attribute__((target("avx2")))
static inline int pactcl_cpu_has_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}

/* pactcl_cpu_round_half_away on 8 lanes: the same value for every input
 * (trunc, then +-1 on a remainder of at least one half, then v's sign). */
static inline PACTCL_CPU_AVX2 __m256 pactcl_cpu_round_half_away8(__m256 v)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 d = _mm256_sub_ps(v, t);
    const __m256 up = _mm256_and_ps(_mm256_cmp_ps(d, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
    const __m256 dn = _mm256_and_ps(_mm256_cmp_ps(d, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one);
    const __m256 r = _mm256_sub_ps(_mm256_add_ps(t, up), dn);
    return _mm256_or_ps(_mm256_andnot_ps(sign, r), _mm256_and_ps(sign, v));
}
#endif

#ifdef _OPENMP
#include <omp.h>
static inline int pactcl_cpu_max_threads(void)
{
    return omp_get_max_threads();
}
static inline int pactcl_cpu_thread_num(void)
{
    return omp_get_thread_num();
}
#else
static inline int pactcl_cpu_max_threads(void)
{
    return 1;
}
static inline int pactcl_cpu_thread_num(void)
{
    return 0;
}
#endif

/* roundf (half away from zero) without the library call, so that the loops
 * vectorise.  Exact for |v| < 2^23, which the clip to [-s, s] guarantees: the
 * argument is at most bin in magnitude.  A NaN passes through unchanged. */
static inline float pactcl_cpu_round_half_away(float v)
{
    const int in_range = fabsf(v) < 8388608.0f;
    const float t = (float)(int32_t)(in_range ? v : 0.0f), d = v - t;
    const float r = copysignf(t + (float)(d >= 0.5f) - (float)(d <= -0.5f), v);
    return in_range ? r : v;
}

/* The activation of the int8 ops (enum pactcl_int8_act), after the float
 * requantization, with the formulas of the float ops. */
static inline float pactcl_cpu_int8_activate(float v, int act)
{
    if (act == PACTCL_INT8_ACT_RELU)
        return v > 0.0f ? v : 0.0f;
    if (act == PACTCL_INT8_ACT_HARDSWISH) {
        float r = v + 3.0f;
        r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
        return v * r / 6.0f;
    }
    return v;
}

/* Rounds a byte count up to the 64-byte alignment of buffers and scratch. */
static inline size_t pactcl_cpu_round64(size_t bytes)
{
    return (bytes + 63) & ~(size_t)63;
}

struct pactcl_cpu_ctx {
    const struct pactcl_host *host;
    /* Reused between calls (im2col columns, per-row partials); the core calls
     * a device from one thread at a time, so one scratch area suffices. */
    void *scratch;
    size_t scratch_size;
};

/* Returns a 64-byte aligned area of at least `bytes` in *out, valid until the
 * next call; PACTCL_ENOMEM (message set) when it cannot grow. */
int pactcl_cpu_scratch(struct pactcl_cpu_ctx *ctx, size_t bytes, void **out);

/* A scratch area laid out as `shared` bytes, then one area of `per_thread`
 * bytes for each thread of the team (each part 64-byte aligned). */
int pactcl_cpu_thread_scratch(struct pactcl_cpu_ctx *ctx, size_t shared, size_t per_thread,
                              char **base);

static inline char *pactcl_cpu_thread_area(char *base, size_t shared, size_t per_thread, int index)
{
    return base + pactcl_cpu_round64(shared) + (size_t)index * pactcl_cpu_round64(per_thread);
}

/* The BLAS library and its build options, for the device's driver field. */
const char *pactcl_cpu_blas_name(void);

/* Row-major C = alpha*op(A)*op(B) + beta*C, split across the OpenMP team;
 * refuses dimensions beyond the int of the CBLAS interface.  Call it from
 * outside any parallel region. */
int pactcl_cpu_sgemm(struct pactcl_cpu_ctx *ctx, int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, float *c, int64_t ldc);

/* For ops that run their own GEMMs inside a parallel region (one image per
 * thread): check the dimensions (leading dimensions are always one of them
 * here) first, bracket the region with serial_begin/serial_end, and call
 * pactcl_cpu_sgemm_serial from the threads. */
int pactcl_cpu_gemm_check(struct pactcl_cpu_ctx *ctx, int64_t m, int64_t n, int64_t k);
int pactcl_cpu_blas_serial_begin(void);
void pactcl_cpu_blas_serial_end(int saved);
void pactcl_cpu_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                             const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                             float *c, int64_t ldc);

static inline float *pactcl_cpu_f32(const struct pactcl_op_call *call, int i)
{
    return (float *)PACTCL_TENSOR_HOST(call->args[i]);
}

/* For the arguments pactcl-ops.h marks optional: NULL when absent. */
static inline float *pactcl_cpu_f32_opt(const struct pactcl_op_call *call, int i)
{
    return call->args[i] ? pactcl_cpu_f32(call, i) : NULL;
}

static inline const int32_t *pactcl_cpu_i32(const struct pactcl_op_call *call, int i)
{
    return (const int32_t *)PACTCL_TENSOR_HOST(call->args[i]);
}

static inline uint8_t *pactcl_cpu_u8(const struct pactcl_op_call *call, int i)
{
    return (uint8_t *)PACTCL_TENSOR_HOST(call->args[i]);
}

static inline int64_t pactcl_cpu_numel(const struct pactcl_op_call *call, int i)
{
    return pactcl_plugin_numel(call->args[i]);
}

/* Op entry points: one per op id, all with the dispatch table's signature. */
#define PACTCL_CPU_OP(fn) int fn(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call)

PACTCL_CPU_OP(pactcl_cpu_conv2d_fwd);
PACTCL_CPU_OP(pactcl_cpu_conv2d_bwd_data);
PACTCL_CPU_OP(pactcl_cpu_conv2d_bwd_filter);
PACTCL_CPU_OP(pactcl_cpu_dwconv_fwd);
PACTCL_CPU_OP(pactcl_cpu_dwconv_bwd_data);
PACTCL_CPU_OP(pactcl_cpu_dwconv_bwd_filter);
PACTCL_CPU_OP(pactcl_cpu_bn_fwd_train);
PACTCL_CPU_OP(pactcl_cpu_bn_fwd_eval);
PACTCL_CPU_OP(pactcl_cpu_bn_bwd);
PACTCL_CPU_OP(pactcl_cpu_quantize_i8);
PACTCL_CPU_OP(pactcl_cpu_conv2d_i8);
PACTCL_CPU_OP(pactcl_cpu_dwconv_i8);
PACTCL_CPU_OP(pactcl_cpu_linear_i8);
PACTCL_CPU_OP(pactcl_cpu_relu_fwd);
PACTCL_CPU_OP(pactcl_cpu_relu_bwd);
PACTCL_CPU_OP(pactcl_cpu_hardswish_fwd);
PACTCL_CPU_OP(pactcl_cpu_hardswish_bwd);
PACTCL_CPU_OP(pactcl_cpu_hardsigmoid_fwd);
PACTCL_CPU_OP(pactcl_cpu_hardsigmoid_bwd);
PACTCL_CPU_OP(pactcl_cpu_avgpool_fwd);
PACTCL_CPU_OP(pactcl_cpu_avgpool_bwd);
PACTCL_CPU_OP(pactcl_cpu_se_scale_fwd);
PACTCL_CPU_OP(pactcl_cpu_se_scale_bwd);
PACTCL_CPU_OP(pactcl_cpu_add);
PACTCL_CPU_OP(pactcl_cpu_linear_fwd);
PACTCL_CPU_OP(pactcl_cpu_linear_bwd_data);
PACTCL_CPU_OP(pactcl_cpu_linear_bwd_weight);
PACTCL_CPU_OP(pactcl_cpu_dropout_fwd);
PACTCL_CPU_OP(pactcl_cpu_dropout_bwd);
PACTCL_CPU_OP(pactcl_cpu_softmax_ce_fwd);
PACTCL_CPU_OP(pactcl_cpu_softmax_ce_bwd);
PACTCL_CPU_OP(pactcl_cpu_topk_accuracy);
PACTCL_CPU_OP(pactcl_cpu_pact_fwd);
PACTCL_CPU_OP(pactcl_cpu_pact_bwd);
PACTCL_CPU_OP(pactcl_cpu_fq_channel_fwd);
PACTCL_CPU_OP(pactcl_cpu_fq_moving_avg_fwd);
PACTCL_CPU_OP(pactcl_cpu_ma_observe);
PACTCL_CPU_OP(pactcl_cpu_sgd_momentum);

#endif /* PACTCL_CPU_OPS_H */
