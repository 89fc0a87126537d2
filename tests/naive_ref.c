/*
 * naive_ref.c: the reference ops (see naive_ref.h).  Each function is the
 * formula from pactcl-ops.h spelled out with loops and double accumulation.
 */
#include "naive_ref.h"

#include <math.h>
#include <string.h>

#include "pactcl-ops.h"

/* ---- convolution ---------------------------------------------------------- */

void ref_conv_init(struct ref_conv *g)
{
    g->P = (g->H + 2 * g->pad_h - g->R) / g->stride_h + 1;
    g->Q = (g->W + 2 * g->pad_w - g->S) / g->stride_w + 1;
}

/* Input channels seen by one output channel. */
static int conv_cin(const struct ref_conv *g)
{
    return g->depthwise ? 1 : g->C;
}

/* The input channel that weight slot (k, ci) reads. */
static int conv_in_channel(const struct ref_conv *g, int k, int ci)
{
    return g->depthwise ? k : ci;
}

size_t ref_conv_x_size(const struct ref_conv *g)
{
    return (size_t)g->N * g->C * g->H * g->W;
}

size_t ref_conv_w_size(const struct ref_conv *g)
{
    return (size_t)g->K * conv_cin(g) * g->R * g->S;
}

size_t ref_conv_y_size(const struct ref_conv *g)
{
    return (size_t)g->N * g->K * g->P * g->Q;
}

static size_t x_at(const struct ref_conv *g, int n, int c, int h, int w)
{
    return (((size_t)n * g->C + c) * g->H + h) * g->W + w;
}

static size_t w_at(const struct ref_conv *g, int k, int ci, int r, int s)
{
    return (((size_t)k * conv_cin(g) + ci) * g->R + r) * g->S + s;
}

static size_t y_at(const struct ref_conv *g, int n, int k, int p, int q)
{
    return (((size_t)n * g->K + k) * g->P + p) * g->Q + q;
}

void ref_conv_fwd(const struct ref_conv *g, const float *x, const float *w, const float *b,
                  double *y)
{
    for (int n = 0; n < g->N; n++)
        for (int k = 0; k < g->K; k++)
            for (int p = 0; p < g->P; p++)
                for (int q = 0; q < g->Q; q++) {
                    double acc = b ? b[k] : 0.0;
                    for (int ci = 0; ci < conv_cin(g); ci++)
                        for (int r = 0; r < g->R; r++)
                            for (int s = 0; s < g->S; s++) {
                                int h = p * g->stride_h - g->pad_h + r;
                                int v = q * g->stride_w - g->pad_w + s;
                                if (h < 0 || h >= g->H || v < 0 || v >= g->W)
                                    continue;
                                int c = conv_in_channel(g, k, ci);
                                acc += (double)x[x_at(g, n, c, h, v)] * w[w_at(g, k, ci, r, s)];
                            }
                    y[y_at(g, n, k, p, q)] = acc;
                }
}

/* Scatter each output gradient back through the window it was computed from. */
void ref_conv_bwd_data(const struct ref_conv *g, const float *dy, const float *w, double *dx)
{
    memset(dx, 0, ref_conv_x_size(g) * sizeof *dx);
    for (int n = 0; n < g->N; n++)
        for (int k = 0; k < g->K; k++)
            for (int p = 0; p < g->P; p++)
                for (int q = 0; q < g->Q; q++)
                    for (int ci = 0; ci < conv_cin(g); ci++)
                        for (int r = 0; r < g->R; r++)
                            for (int s = 0; s < g->S; s++) {
                                int h = p * g->stride_h - g->pad_h + r;
                                int v = q * g->stride_w - g->pad_w + s;
                                if (h < 0 || h >= g->H || v < 0 || v >= g->W)
                                    continue;
                                int c = conv_in_channel(g, k, ci);
                                dx[x_at(g, n, c, h, v)] +=
                                    (double)dy[y_at(g, n, k, p, q)] * w[w_at(g, k, ci, r, s)];
                            }
}

void ref_conv_bwd_filter(const struct ref_conv *g, const float *x, const float *dy, double *dw,
                         double *db)
{
    for (int k = 0; k < g->K; k++)
        for (int ci = 0; ci < conv_cin(g); ci++)
            for (int r = 0; r < g->R; r++)
                for (int s = 0; s < g->S; s++) {
                    double acc = 0.0;
                    for (int n = 0; n < g->N; n++)
                        for (int p = 0; p < g->P; p++)
                            for (int q = 0; q < g->Q; q++) {
                                int h = p * g->stride_h - g->pad_h + r;
                                int v = q * g->stride_w - g->pad_w + s;
                                if (h < 0 || h >= g->H || v < 0 || v >= g->W)
                                    continue;
                                int c = conv_in_channel(g, k, ci);
                                acc += (double)x[x_at(g, n, c, h, v)] * dy[y_at(g, n, k, p, q)];
                            }
                    dw[w_at(g, k, ci, r, s)] = acc;
                }
    if (!db)
        return;
    for (int k = 0; k < g->K; k++) {
        double acc = 0.0;
        for (int n = 0; n < g->N; n++)
            for (int p = 0; p < g->P; p++)
                for (int q = 0; q < g->Q; q++)
                    acc += dy[y_at(g, n, k, p, q)];
        db[k] = acc;
    }
}

/* ---- batch norm ------------------------------------------------------------ */

static size_t nchw(int C, int HW, int n, int c, int i)
{
    return ((size_t)n * C + c) * HW + i;
}

void ref_bn_fwd_train(int N, int C, int HW, const float *x, const float *gamma, const float *beta,
                      const float *mean_in, const float *var_in, float epsilon, float momentum,
                      double *y, double *saved_mean, double *saved_invstd, double *mean_out,
                      double *var_out)
{
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
                sum += x[nchw(C, HW, n, c, i)];
        double mu = sum / M;
        double ss = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double d = x[nchw(C, HW, n, c, i)] - mu;
                ss += d * d;
            }
        double sigma2 = ss / M; /* biased: divided by N*H*W, not N*H*W-1 */
        double invstd = 1.0 / sqrt(sigma2 + (double)epsilon);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                y[at] = (double)gamma[c] * (x[at] - mu) * invstd + beta[c];
            }
        saved_mean[c] = mu;
        saved_invstd[c] = invstd;
        /* Paddle: momentum weights the old running value. */
        mean_out[c] = (double)mean_in[c] * momentum + mu * (1.0 - (double)momentum);
        var_out[c] = (double)var_in[c] * momentum + sigma2 * (1.0 - (double)momentum);
    }
}

void ref_bn_fwd_eval(int N, int C, int HW, const float *x, const float *gamma, const float *beta,
                     const float *mean, const float *var, float epsilon, double *y)
{
    for (int c = 0; c < C; c++) {
        double invstd = 1.0 / sqrt((double)var[c] + (double)epsilon);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                y[at] = (double)gamma[c] * ((double)x[at] - mean[c]) * invstd + beta[c];
            }
    }
}

/* The textbook batch-norm gradient with xhat = (x - mean) * invstd:
 * dbeta = sum dy, dgamma = sum dy*xhat,
 * dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma). */
void ref_bn_bwd(int N, int C, int HW, const float *x, const float *dy, const float *gamma,
                const float *saved_mean, const float *saved_invstd, double *dx, double *dgamma,
                double *dbeta)
{
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double sdy = 0.0, sdyx = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                double xhat = ((double)x[at] - saved_mean[c]) * saved_invstd[c];
                sdy += dy[at];
                sdyx += dy[at] * xhat;
            }
        dbeta[c] = sdy;
        dgamma[c] = sdyx;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                double xhat = ((double)x[at] - saved_mean[c]) * saved_invstd[c];
                dx[at] = (double)gamma[c] * saved_invstd[c] / M * (M * dy[at] - sdy - xhat * sdyx);
            }
    }
}

/* ---- activations ------------------------------------------------------------- */

void ref_relu_fwd(size_t n, const float *x, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0;
}

void ref_relu_bwd(size_t n, const float *y, const float *dy, double *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0;
}

void ref_hardswish_fwd(size_t n, const float *x, double *y)
{
    for (size_t i = 0; i < n; i++) {
        double t = fmin(fmax((double)x[i] + 3.0, 0.0), 6.0);
        y[i] = t * x[i] / 6.0;
    }
}

void ref_hardswish_bwd(size_t n, const float *x, const float *dy, double *dx)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)x[i] + 3.0;
        double d = 0.0;
        if (t > 0.0 && t < 6.0)
            d = (2.0 * x[i] + 3.0) / 6.0;
        else if (t >= 6.0)
            d = 1.0;
        dx[i] = dy[i] * d;
    }
}

void ref_hardsigmoid_fwd(size_t n, const float *x, float slope, float offset, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fmin(fmax((double)slope * x[i] + offset, 0.0), 1.0);
}

void ref_hardsigmoid_bwd(size_t n, const float *y, const float *dy, float slope, double *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (y[i] > 0.0f && y[i] < 1.0f) ? (double)dy[i] * slope : 0.0;
}

/* ---- pooling, SE scale, add ------------------------------------------------------ */

void ref_avgpool_fwd(int N, int C, int HW, const float *x, double *y)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double acc = 0.0;
            for (int i = 0; i < HW; i++)
                acc += x[nchw(C, HW, n, c, i)];
            y[(size_t)n * C + c] = acc / HW;
        }
}

void ref_avgpool_bwd(int N, int C, int HW, const float *dy, double *dx)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < HW; i++)
                dx[nchw(C, HW, n, c, i)] = (double)dy[(size_t)n * C + c] / HW;
}

void ref_se_scale_fwd(int N, int C, int HW, const float *x, const float *s, double *y)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                y[at] = (double)x[at] * s[(size_t)n * C + c];
            }
}

void ref_se_scale_bwd(int N, int C, int HW, const float *x, const float *s, const float *dy,
                      double *dx, double *ds)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double acc = 0.0;
            for (int i = 0; i < HW; i++) {
                size_t at = nchw(C, HW, n, c, i);
                dx[at] = (double)dy[at] * s[(size_t)n * C + c];
                acc += (double)dy[at] * x[at];
            }
            ds[(size_t)n * C + c] = acc;
        }
}

void ref_add(size_t n, const float *a, const float *b, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (double)a[i] + b[i];
}

/* ---- linear -------------------------------------------------------------------- */

void ref_linear_fwd(int N, int I, int O, const float *x, const float *w, const float *b, double *y)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < I; i++)
                acc += (double)x[(size_t)n * I + i] * w[(size_t)i * O + o];
            y[(size_t)n * O + o] = acc;
        }
}

void ref_linear_bwd_data(int N, int I, int O, const float *dy, const float *w, double *dx)
{
    for (int n = 0; n < N; n++)
        for (int i = 0; i < I; i++) {
            double acc = 0.0;
            for (int o = 0; o < O; o++)
                acc += (double)dy[(size_t)n * O + o] * w[(size_t)i * O + o];
            dx[(size_t)n * I + i] = acc;
        }
}

void ref_linear_bwd_weight(int N, int I, int O, const float *x, const float *dy, double *dw,
                           double *db)
{
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            double acc = 0.0;
            for (int n = 0; n < N; n++)
                acc += (double)x[(size_t)n * I + i] * dy[(size_t)n * O + o];
            dw[(size_t)i * O + o] = acc;
        }
    if (!db)
        return;
    for (int o = 0; o < O; o++) {
        double acc = 0.0;
        for (int n = 0; n < N; n++)
            acc += dy[(size_t)n * O + o];
        db[o] = acc;
    }
}

/* ---- dropout --------------------------------------------------------------------- */

void ref_dropout_fwd(size_t n, const float *x, float p, uint64_t seed, double *y, uint8_t *keep)
{
    for (size_t i = 0; i < n; i++) {
        keep[i] = pactcl_dropout_uniform(seed, (uint32_t)i) >= p;
        y[i] = keep[i] ? (double)x[i] / (1.0 - (double)p) : 0.0;
    }
}

void ref_dropout_bwd(size_t n, const float *dy, const uint8_t *mask, float p, double *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = mask[i] ? (double)dy[i] / (1.0 - (double)p) : 0.0;
}

/* ---- softmax cross-entropy, top-k ----------------------------------------------- */

void ref_softmax_ce_fwd(int N, int K, const float *logits, const int32_t *labels, double *loss,
                        double *prob)
{
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * K;
        double mx = l[0];
        for (int k = 1; k < K; k++)
            mx = fmax(mx, l[k]);
        double se = 0.0;
        for (int k = 0; k < K; k++)
            se += exp(l[k] - mx);
        double lse = mx + log(se);
        for (int k = 0; k < K; k++)
            prob[(size_t)n * K + k] = exp(l[k] - lse);
        total += lse - l[labels[n]];
    }
    *loss = total / N;
}

void ref_softmax_ce_bwd(int N, int K, const float *prob, const int32_t *labels, double *dlogits)
{
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            double onehot = k == labels[n] ? 1.0 : 0.0;
            dlogits[(size_t)n * K + k] = ((double)prob[(size_t)n * K + k] - onehot) / N;
        }
}

void ref_topk_accuracy(int N, int K, const float *logits, const int32_t *labels, const int k[2],
                       double correct[2])
{
    correct[0] = correct[1] = 0.0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * K;
        int rank = 0; /* ties with the label's logit do not count against it */
        for (int j = 0; j < K; j++)
            rank += l[j] > l[labels[n]];
        for (int t = 0; t < 2; t++)
            correct[t] += rank < k[t];
    }
}

/* ---- PACT, fake quant ------------------------------------------------------------- */

void ref_pact_fwd(size_t n, const float *x, float alpha, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fmin(fmax((double)x[i], -(double)alpha), (double)alpha);
}

void ref_pact_bwd(size_t n, const float *x, float alpha, const float *dy, double *dx,
                  double *dalpha)
{
    double da = 0.0;
    for (size_t i = 0; i < n; i++) {
        int above = x[i] > alpha, below = x[i] < -alpha;
        dx[i] = (double)dy[i] * (1 - above - below);
        da += (double)dy[i] * (above - below);
    }
    *dalpha = da;
}

int ref_bin(int bits)
{
    return (1 << (bits - 1)) - 1;
}

float ref_qdq(float x, float s, int bin, int *near_tie)
{
    float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
    float xc = fminf(fmaxf(x, -s), s);
    float v = ((float)bin * inv) * xc;
    if (near_tie) {
        double frac = fabs((double)v) - floor(fabs((double)v));
        *near_tie = fabs(frac - 0.5) < 1e-4;
    }
    float q = roundf(v); /* half away from zero, like std::round */
    return q * s / (float)bin;
}

void ref_fq_channel_fwd(const float *w, int ndim, const int64_t *dims, int axis, int bits,
                        double *wq, double *scale, uint8_t *tie)
{
    /* View w as [outer, C, inner] with C = dims[axis]. */
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= (size_t)dims[d];
    for (int d = axis + 1; d < ndim; d++)
        inner *= (size_t)dims[d];
    const size_t C = (size_t)dims[axis];
    const int bin = ref_bin(bits);
    for (size_t c = 0; c < C; c++) {
        float s = 0.0f;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++)
                s = fmaxf(s, fabsf(w[(o * C + c) * inner + i]));
        scale[c] = s;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                size_t at = (o * C + c) * inner + i;
                int t;
                wq[at] = ref_qdq(w[at], s, bin, &t);
                if (tie)
                    tie[at] = (uint8_t)t;
            }
    }
}

void ref_ma_update(size_t n, const float *x, float rate, double *scale, double *state,
                   double *accum)
{
    double cur = 0.0;
    for (size_t i = 0; i < n; i++)
        cur = fmax(cur, fabs((double)x[i]));
    *state = (double)rate * *state + 1.0;
    *accum = (double)rate * *accum + cur;
    *scale = *accum / *state;
}

/* ---- SGD momentum -------------------------------------------------------------------- */

void ref_sgd_momentum(size_t n, double *param, const float *grad, double *velocity, float lr,
                      float lr_mult, float momentum, float l2_decay)
{
    const double step = (double)lr * lr_mult;
    for (size_t i = 0; i < n; i++) {
        double g = grad[i] + (double)l2_decay * param[i];
        velocity[i] = (double)momentum * velocity[i] + g;
        param[i] -= step * velocity[i];
    }
}
