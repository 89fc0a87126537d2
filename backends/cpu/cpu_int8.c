/*
 * cpu_int8.c: the int8 inference ops of the exported model.  Inputs and
 * weights are int8, products accumulate in int32, and each output channel is
 * requantized to float with its multiplier and bias (BN folded), then the
 * activation is applied.  Inner loops run over contiguous output positions
 * with int8 -> int32 widening so that the compiler vectorises them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_ops.h"

static float bin_of(int bits)
{
    return (float)((1 << (bits - 1)) - 1);
}

int pactcl_cpu_quantize_i8(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call)
{
    const float *x = PACTCL_TENSOR_HOST(call->args[0]);
    float s = *(const float *)PACTCL_TENSOR_HOST(call->args[1]);
    int8_t *q = PACTCL_TENSOR_HOST(call->args[2]);
    int64_t n = pactcl_plugin_numel(call->args[0]);
    float bin = bin_of(call->params.int8.bits);
    float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
    float k = bin * inv;
PACTCL_CPU_PARALLEL_SIMD(n)
    for (int64_t i = 0; i < n; i++) {
        float xc = x[i] < -s ? -s : x[i] > s ? s : x[i];
        q[i] = (int8_t)pactcl_cpu_round_half_away(k * xc);
    }
    return PACTCL_OK;
}

static inline float activate(float v, int act)
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

/* acc[0..n) += w * a[0..n), int8 x int8 -> int32. */
static inline void axpy_i8(int32_t *restrict acc, int32_t w, const int8_t *restrict a, int64_t n)
{
    for (int64_t p = 0; p < n; p++)
        acc[p] += w * (int32_t)a[p];
}

/* acc += w0*a0 + w1*a1 + w2*a2 + w3*a3: four input rows per pass over acc. */
static inline void axpy4_i8(int32_t *restrict acc, const int8_t *w, const int8_t *restrict a0,
                            const int8_t *restrict a1, const int8_t *restrict a2,
                            const int8_t *restrict a3, int64_t n)
{
    int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    for (int64_t p = 0; p < n; p++)
        acc[p] += w0 * (int32_t)a0[p] + w1 * (int32_t)a1[p] + w2 * (int32_t)a2[p] +
                  w3 * (int32_t)a3[p];
}

/* y[k][p] = act(sum_j w[k][j] * col[j][p] * mult[k] + bias[k]) for one image. */
static void gemm_i8_requant(const int8_t *w, const int8_t *col, int64_t K, int64_t J, int64_t PQ,
                            const float *mult, const float *bias, int act, float *y, int32_t *acc)
{
    for (int64_t k = 0; k < K; k++) {
        memset(acc, 0, (size_t)PQ * sizeof *acc);
        const int8_t *wk = w + k * J;
        int64_t j = 0;
        for (; j + 4 <= J; j += 4)
            axpy4_i8(acc, wk + j, col + j * PQ, col + (j + 1) * PQ, col + (j + 2) * PQ,
                     col + (j + 3) * PQ, PQ);
        for (; j < J; j++)
            axpy_i8(acc, wk[j], col + j * PQ, PQ);
        float m = mult[k], b = bias[k];
        float *yk = y + k * PQ;
        for (int64_t p = 0; p < PQ; p++)
            yk[p] = activate((float)acc[p] * m + b, act);
    }
}

int pactcl_cpu_conv2d_i8(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call)
{
    const struct pactcl_tensor *xt = call->args[0], *wt = call->args[1], *yt = call->args[4];
    const int8_t *x = PACTCL_TENSOR_HOST(xt), *w = PACTCL_TENSOR_HOST(wt);
    const float *mult = PACTCL_TENSOR_HOST(call->args[2]), *bias = PACTCL_TENSOR_HOST(call->args[3]);
    float *y = PACTCL_TENSOR_HOST(yt);
    const struct pactcl_conv_params *cp = &call->params.int8.conv;
    int act = call->params.int8.act;
    int64_t N = xt->dims[0], C = xt->dims[1], H = xt->dims[2], W = xt->dims[3];
    int64_t K = wt->dims[0], R = wt->dims[2], S = wt->dims[3], P = yt->dims[2], Q = yt->dims[3];
    int64_t J = C * R * S, PQ = P * Q;
    int direct = R == 1 && S == 1 && cp->stride_h == 1 && cp->stride_w == 1 && cp->pad_h == 0 &&
                 cp->pad_w == 0;
    int failed = 0;
PACTCL_CPU_PRAGMA(omp parallel)
    {
        int32_t *acc = malloc((size_t)PQ * sizeof *acc);
        int8_t *col = direct ? NULL : malloc((size_t)(J * PQ));
        if (!acc || (!direct && !col)) {
PACTCL_CPU_PRAGMA(omp atomic write)
            failed = 1;
        } else {
PACTCL_CPU_PRAGMA(omp for schedule(dynamic, 1))
            for (int64_t n = 0; n < N; n++) {
                const int8_t *xn = x + n * C * H * W;
                if (!direct) {
                    /* im2col with zero padding: col[(c*R + r)*S + s][p*Q + q]. */
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t r = 0; r < R; r++)
                            for (int64_t s = 0; s < S; s++) {
                                int8_t *row = col + ((c * R + r) * S + s) * PQ;
                                for (int64_t p = 0; p < P; p++) {
                                    int64_t ih = p * cp->stride_h - cp->pad_h + r;
                                    for (int64_t q = 0; q < Q; q++) {
                                        int64_t iw = q * cp->stride_w - cp->pad_w + s;
                                        row[p * Q + q] = ih >= 0 && ih < H && iw >= 0 && iw < W
                                                             ? xn[(c * H + ih) * W + iw]
                                                             : 0;
                                    }
                                }
                            }
                }
                gemm_i8_requant(w, direct ? xn : col, K, J, PQ, mult, bias, act, y + n * K * PQ, acc);
            }
        }
        free(acc);
        free(col);
    }
    if (failed)
        return ctx->host->set_error(PACTCL_ENOMEM, "conv2d_i8: cannot allocate scratch on the CPU");
    return PACTCL_OK;
}

int pactcl_cpu_dwconv_i8(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call)
{
    const struct pactcl_tensor *xt = call->args[0], *wt = call->args[1], *yt = call->args[4];
    const int8_t *x = PACTCL_TENSOR_HOST(xt), *w = PACTCL_TENSOR_HOST(wt);
    const float *mult = PACTCL_TENSOR_HOST(call->args[2]), *bias = PACTCL_TENSOR_HOST(call->args[3]);
    float *y = PACTCL_TENSOR_HOST(yt);
    const struct pactcl_conv_params *cp = &call->params.int8.conv;
    int act = call->params.int8.act;
    int64_t N = xt->dims[0], C = xt->dims[1], H = xt->dims[2], W = xt->dims[3];
    int64_t R = wt->dims[2], S = wt->dims[3], P = yt->dims[2], Q = yt->dims[3];
    int sh = cp->stride_h, sw = cp->stride_w, ph = cp->pad_h, pw = cp->pad_w;
PACTCL_CPU_PRAGMA(omp parallel for schedule(static))
    for (int64_t nc = 0; nc < N * C; nc++) {
        int64_t c = nc % C;
        const int8_t *xp = x + nc * H * W, *wc = w + c * R * S;
        float *yp = y + nc * P * Q;
        float m = mult[c], b = bias[c];
        for (int64_t p = 0; p < P; p++) {
            int64_t ih0 = p * sh - ph;
            /* Rows of the kernel that fall inside the image. */
            int64_t r0 = ih0 < 0 ? -ih0 : 0, r1 = ih0 + R > H ? H - ih0 : R;
            for (int64_t q = 0; q < Q; q++) {
                int64_t iw0 = q * sw - pw;
                int64_t s0 = iw0 < 0 ? -iw0 : 0, s1 = iw0 + S > W ? W - iw0 : S;
                int32_t acc = 0;
                for (int64_t r = r0; r < r1; r++) {
                    const int8_t *xr = xp + (ih0 + r) * W + iw0;
                    const int8_t *wr = wc + r * S;
                    for (int64_t s = s0; s < s1; s++)
                        acc += (int32_t)xr[s] * (int32_t)wr[s];
                }
                yp[p * Q + q] = activate((float)acc * m + b, act);
            }
        }
    }
    return PACTCL_OK;
}

int pactcl_cpu_linear_i8(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call)
{
    const struct pactcl_tensor *xt = call->args[0], *wt = call->args[1], *yt = call->args[4];
    const int8_t *x = PACTCL_TENSOR_HOST(xt), *w = PACTCL_TENSOR_HOST(wt);
    const float *mult = PACTCL_TENSOR_HOST(call->args[2]), *bias = PACTCL_TENSOR_HOST(call->args[3]);
    float *y = PACTCL_TENSOR_HOST(yt);
    int act = call->params.int8.act;
    int64_t N = xt->dims[0], I = xt->dims[1], O = wt->dims[1];
    int failed = 0;
PACTCL_CPU_PRAGMA(omp parallel)
    {
        int32_t *acc = malloc((size_t)O * sizeof *acc);
        if (!acc) {
PACTCL_CPU_PRAGMA(omp atomic write)
            failed = 1;
        } else {
PACTCL_CPU_PRAGMA(omp for schedule(static))
            for (int64_t n = 0; n < N; n++) {
                memset(acc, 0, (size_t)O * sizeof *acc);
                const int8_t *xn = x + n * I;
                for (int64_t i = 0; i < I; i++)
                    if (xn[i])
                        axpy_i8(acc, xn[i], w + i * O, O);
                for (int64_t o = 0; o < O; o++)
                    y[n * O + o] = activate((float)acc[o] * mult[o] + bias[o], act);
            }
        }
        free(acc);
    }
    if (failed)
        return ctx->host->set_error(PACTCL_ENOMEM, "linear_i8: cannot allocate scratch on the CPU");
    return PACTCL_OK;
}
