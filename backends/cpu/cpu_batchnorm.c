/*
 * cpu_batchnorm.c: 2-D batch normalisation over N*H*W per channel: training
 * forward (batch statistics, Paddle's running-average convention), inference
 * forward and backward.
 *
 * Every op is parallel over channels, so each channel's sums over the batch
 * are taken by one thread in a fixed order (deterministic).  Sums run in float
 * over chunks of a plane, at vector speed, and the chunks are added in double,
 * which bounds the rounding error of sums over N*H*W.  The per-plane kernels
 * are multiversioned (see PACTCL_CPU_MULTIVERSION): BN is a large share of a
 * training step.
 */
#include "config.h"

#include <math.h>

#include "cpu_ops.h"

#define SUM_CHUNK 256

struct bn_geom {
    int64_t N, C, HW;
};

static struct bn_geom bn_geom(const struct pactcl_op_call *call)
{
    const int64_t *d = call->args[0]->dims;
    return (struct bn_geom){d[0], d[1], d[2] * d[3]};
}

/* s1 += sum (x - k), s2 += sum (x - k)^2 over one plane.  k, a value of the
 * channel, keeps the one-pass variance s2/M - (s1/M)^2 from cancelling on
 * activations whose mean is large against their spread. */
PACTCL_CPU_MULTIVERSION static void plane_moments(const float *x, int64_t n, float k, double *s1,
                                                  double *s2)
{
    double a = 0.0, b = 0.0;
    for (int64_t lo = 0; lo < n; lo += SUM_CHUNK) {
        const int64_t len = n - lo < SUM_CHUNK ? n - lo : SUM_CHUNK;
        float f1 = 0.0f, f2 = 0.0f;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : f1, f2))
        for (int64_t i = 0; i < len; i++) {
            const float d = x[lo + i] - k;
            f1 += d;
            f2 += d * d;
        }
        a += f1;
        b += f2;
    }
    *s1 += a;
    *s2 += b;
}

/* y = (x - mean)*scale + shift over one plane. */
PACTCL_CPU_MULTIVERSION static void plane_affine(const float *x, float *y, int64_t n, float mean,
                                                 float scale, float shift)
{
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < n; i++)
        y[i] = (x[i] - mean) * scale + shift;
}

/* s_dy += sum dy, s_dyxc += sum dy*(x - mean) over one plane. */
PACTCL_CPU_MULTIVERSION static void plane_grad_sums(const float *x, const float *dy, int64_t n,
                                                    float mean, double *s_dy, double *s_dyxc)
{
    double a = 0.0, b = 0.0;
    for (int64_t lo = 0; lo < n; lo += SUM_CHUNK) {
        const int64_t len = n - lo < SUM_CHUNK ? n - lo : SUM_CHUNK;
        float f1 = 0.0f, f2 = 0.0f;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : f1, f2))
        for (int64_t i = 0; i < len; i++) {
            const float g = dy[lo + i];
            f1 += g;
            f2 += g * (x[lo + i] - mean);
        }
        a += f1;
        b += f2;
    }
    *s_dy += a;
    *s_dyxc += b;
}

/* dx = coef*(M*dy - dbeta - xhat*dgamma), xhat = (x - mean)*invstd, over one plane. */
PACTCL_CPU_MULTIVERSION static void plane_grad_input(const float *x, const float *dy, float *dx,
                                                     int64_t n, float mean, float invstd,
                                                     float coef, float M, float dbeta, float dgamma)
{
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < n; i++) {
        const float xhat = (x[i] - mean) * invstd;
        dx[i] = coef * (M * dy[i] - dbeta - xhat * dgamma);
    }
}

/* x gamma beta mean(in/out) var(in/out) -> y saved_mean saved_invstd */
PACTCL_CPU_OP(pactcl_cpu_bn_fwd_train)
{
    const struct bn_geom g = bn_geom(call);
    const float *x = pactcl_cpu_f32(call, 0), *gamma = pactcl_cpu_f32(call, 1);
    const float *beta = pactcl_cpu_f32(call, 2);
    float *run_mean = pactcl_cpu_f32(call, 3), *run_var = pactcl_cpu_f32(call, 4);
    float *y = pactcl_cpu_f32(call, 5), *saved_mean = pactcl_cpu_f32(call, 6);
    float *saved_invstd = pactcl_cpu_f32(call, 7);
    const float eps = call->params.bn.epsilon, momentum = call->params.bn.momentum;
    const double M = (double)(g.N * g.HW);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * g.HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < g.C; c++) {
        const float k = x[c * g.HW];
        double s1 = 0.0, s2 = 0.0;
        for (int64_t n = 0; n < g.N; n++)
            plane_moments(x + (n * g.C + c) * g.HW, g.HW, k, &s1, &s2);
        const double d = s1 / M, var_d = s2 / M - d * d;
        const float mean = (float)(k + d), var = var_d > 0.0 ? (float)var_d : 0.0f;
        const float invstd = 1.0f / sqrtf(var + eps);
        const float scale = gamma[c] * invstd;
        for (int64_t n = 0; n < g.N; n++)
            plane_affine(x + (n * g.C + c) * g.HW, y + (n * g.C + c) * g.HW, g.HW, mean, scale,
                         beta[c]);
        saved_mean[c] = mean;
        saved_invstd[c] = invstd;
        run_mean[c] = run_mean[c] * momentum + mean * (1.0f - momentum);
        run_var[c] = run_var[c] * momentum + var * (1.0f - momentum);
    }
    return PACTCL_OK;
}

/* x gamma beta mean var -> y */
PACTCL_CPU_OP(pactcl_cpu_bn_fwd_eval)
{
    const struct bn_geom g = bn_geom(call);
    const float *x = pactcl_cpu_f32(call, 0), *gamma = pactcl_cpu_f32(call, 1);
    const float *beta = pactcl_cpu_f32(call, 2), *mean = pactcl_cpu_f32(call, 3);
    const float *var = pactcl_cpu_f32(call, 4);
    float *y = pactcl_cpu_f32(call, 5);
    const float eps = call->params.bn.epsilon;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * g.HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g.N * g.C; nc++) {
        const int64_t c = nc % g.C;
        plane_affine(x + nc * g.HW, y + nc * g.HW, g.HW, mean[c], gamma[c] / sqrtf(var[c] + eps),
                     beta[c]);
    }
    return PACTCL_OK;
}

/* x dy gamma saved_mean saved_invstd -> dx dgamma dbeta
 * dbeta = sum dy, dgamma = sum dy*xhat,
 * dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma), xhat = (x-mean)*invstd. */
PACTCL_CPU_OP(pactcl_cpu_bn_bwd)
{
    const struct bn_geom g = bn_geom(call);
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    const float *gamma = pactcl_cpu_f32(call, 2), *saved_mean = pactcl_cpu_f32(call, 3);
    const float *saved_invstd = pactcl_cpu_f32(call, 4);
    float *dx = pactcl_cpu_f32(call, 5), *dgamma = pactcl_cpu_f32(call, 6);
    float *dbeta = pactcl_cpu_f32(call, 7);
    const int64_t M = g.N * g.HW;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * g.HW >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < g.C; c++) {
        const float mean = saved_mean[c], invstd = saved_invstd[c];
        double s_dy = 0.0, s_dyxc = 0.0;
        for (int64_t n = 0; n < g.N; n++) {
            const int64_t off = (n * g.C + c) * g.HW;
            plane_grad_sums(x + off, dy + off, g.HW, mean, &s_dy, &s_dyxc);
        }
        const float db = (float)s_dy, dg = (float)(s_dyxc * invstd);
        const float coef = gamma[c] * invstd / (float)M;
        for (int64_t n = 0; n < g.N; n++) {
            const int64_t off = (n * g.C + c) * g.HW;
            plane_grad_input(x + off, dy + off, dx + off, g.HW, mean, invstd, coef, (float)M, db,
                             dg);
        }
        dgamma[c] = dg;
        dbeta[c] = db;
    }
    return PACTCL_OK;
}
