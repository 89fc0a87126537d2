/*
 * cpu_conv.c: dense 2-D convolution (groups = 1), forward, backward-data and
 * backward-filter, as GEMMs.
 *
 * The batch is split across the OpenMP team, one image per GEMM (see
 * cpu_gemm.c for why the GEMMs run inside the team).  Pointwise convolutions
 * (1x1, stride 1, no padding) are a GEMM on the NCHW image as it lies; other
 * shapes go through an im2col matrix [C*R*S, P*Q] per thread, kept in the
 * device's scratch area.  On 1x1 feature maps (the SE block) the whole batch
 * is one GEMM.  Backward-filter sums the images of each thread into its own
 * partial weight gradient and adds the partials in thread order, so the
 * result does not change from run to run.
 */
#include "config.h"

#include <string.h>

#include "cpu_ops.h"

struct conv_geom {
    int64_t N, C, H, W; /* input */
    int64_t K, R, S;    /* filters */
    int64_t P, Q;       /* output */
    int64_t sh, sw, ph, pw;
};

static struct conv_geom conv_geom(const struct pactcl_op_call *call, int ix, int iw)
{
    const int64_t *x = call->args[ix]->dims, *w = call->args[iw]->dims;
    const struct pactcl_conv_params *p = &call->params.conv;
    struct conv_geom g = {
        .N = x[0],
        .C = x[1],
        .H = x[2],
        .W = x[3],
        .K = w[0],
        .R = w[2],
        .S = w[3],
        .sh = p->stride_h,
        .sw = p->stride_w,
        .ph = p->pad_h,
        .pw = p->pad_w,
    };
    g.P = (g.H + 2 * g.ph - g.R) / g.sh + 1;
    g.Q = (g.W + 2 * g.pw - g.S) / g.sw + 1;
    return g;
}

static int is_pointwise(const struct conv_geom *g)
{
    return g->R == 1 && g->S == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* Bytes of one thread's im2col matrix; none for pointwise convolutions. */
static size_t col_bytes(const struct conv_geom *g)
{
    return is_pointwise(g) ? 0 : (size_t)(g->C * g->R * g->S * g->P * g->Q) * sizeof(float);
}

/*
 * Output positions o in [0, out) whose input coordinate o*stride - pad + k lies
 * in [0, in) form the range [*lo, *hi), so that im2col and col2im check
 * bounds once per row instead of once per element.
 */
static void valid_range(int64_t pad, int64_t k, int64_t stride, int64_t in, int64_t out,
                        int64_t *lo, int64_t *hi)
{
    int64_t first = pad - k; /* smallest o*stride allowed */
    int64_t l = first <= 0 ? 0 : (first + stride - 1) / stride;
    int64_t last = in - 1 + pad - k; /* largest o*stride allowed */
    int64_t h = last < 0 ? 0 : last / stride + 1;
    if (h > out)
        h = out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* col[(c*R + r)*S + s][p*Q + q] = x[c, p*sh - ph + r, q*sw - pw + s], 0 in the padding. */
static void im2col(const struct conv_geom *g, const float *x, float *col)
{
    const int64_t rows = g->C * g->R * g->S, PQ = g->P * g->Q;
    for (int64_t row = 0; row < rows; row++) {
        const int64_t c = row / (g->R * g->S), r = row / g->S % g->R, s = row % g->S;
        const float *xc = x + c * g->H * g->W;
        float *dst = col + row * PQ;
        int64_t qlo, qhi;
        valid_range(g->pw, s, g->sw, g->W, g->Q, &qlo, &qhi);
        for (int64_t p = 0; p < g->P; p++) {
            float *d = dst + p * g->Q;
            const int64_t ih = p * g->sh - g->ph + r;
            if (ih < 0 || ih >= g->H) {
                memset(d, 0, (size_t)g->Q * sizeof *d);
                continue;
            }
            const float *xr = xc + ih * g->W;
            const int64_t off = s - g->pw;
            for (int64_t q = 0; q < qlo; q++)
                d[q] = 0.0f;
            if (g->sw == 1) {
                if (qhi > qlo)
                    memcpy(d + qlo, xr + qlo + off, (size_t)(qhi - qlo) * sizeof *d);
            } else {
                PACTCL_CPU_PRAGMA(omp simd)
                for (int64_t q = qlo; q < qhi; q++)
                    d[q] = xr[q * g->sw + off];
            }
            for (int64_t q = qhi; q < g->Q; q++)
                d[q] = 0.0f;
        }
    }
}

/* The adjoint of im2col: dx[c, ...] = sum of the col entries that read it. */
static void col2im(const struct conv_geom *g, const float *col, float *dx)
{
    const int64_t PQ = g->P * g->Q, HW = g->H * g->W;
    for (int64_t c = 0; c < g->C; c++) {
        float *plane = dx + c * HW;
        memset(plane, 0, (size_t)HW * sizeof *plane);
        for (int64_t r = 0; r < g->R; r++) {
            for (int64_t s = 0; s < g->S; s++) {
                const float *src = col + ((c * g->R + r) * g->S + s) * PQ;
                int64_t qlo, qhi;
                valid_range(g->pw, s, g->sw, g->W, g->Q, &qlo, &qhi);
                const int64_t off = s - g->pw;
                for (int64_t p = 0; p < g->P; p++) {
                    const int64_t ih = p * g->sh - g->ph + r;
                    if (ih < 0 || ih >= g->H)
                        continue;
                    float *dr = plane + ih * g->W;
                    const float *sr = src + p * g->Q;
                    PACTCL_CPU_PRAGMA(omp simd)
                    for (int64_t q = qlo; q < qhi; q++)
                        dr[q * g->sw + off] += sr[q];
                }
            }
        }
    }
}

/* y[k,:] = b[k] for the K planes of one image, so that the GEMM can add onto
 * it with beta = 1. */
static void fill_bias(float *y, const float *b, int64_t K, int64_t plane)
{
    for (int64_t k = 0; k < K; k++) {
        const float v = b[k];
        float *yp = y + k * plane;
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < plane; i++)
            yp[i] = v;
    }
}

/* db[k] = sum over n and the plane of dy[n,k,:], in double. */
static void bias_grad(const float *dy, float *db, int64_t N, int64_t K, int64_t plane)
{
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * K * plane >= PACTCL_CPU_PAR_MIN))
    for (int64_t k = 0; k < K; k++) {
        double sum = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *d = dy + (n * K + k) * plane;
            PACTCL_CPU_PRAGMA(omp simd reduction(+ : sum))
            for (int64_t i = 0; i < plane; i++)
                sum += d[i];
        }
        db[k] = (float)sum;
    }
}

PACTCL_CPU_OP(pactcl_cpu_conv2d_fwd)
{
    const struct conv_geom g = conv_geom(call, 0, 1);
    const float *x = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
    const float *b = pactcl_cpu_f32_opt(call, 2);
    float *y = pactcl_cpu_f32(call, 3);
    const int64_t HW = g.H * g.W, PQ = g.P * g.Q, CRS = g.C * g.R * g.S;
    const float beta = b ? 1.0f : 0.0f;
    if (is_pointwise(&g) && HW == 1) { /* y[N,K] = x[N,C] w[K,C]^T */
        for (int64_t n = 0; b && n < g.N; n++)
            fill_bias(y + n * g.K, b, g.K, 1);
        return pactcl_cpu_sgemm(ctx, 0, 1, g.N, g.K, g.C, 1.0f, x, g.C, w, g.C, beta, y, g.K);
    }
    int rc = pactcl_cpu_gemm_check(ctx, g.K, PQ, CRS);
    const size_t per_thread = col_bytes(&g);
    char *base = NULL;
    if (rc == PACTCL_OK && per_thread)
        rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    const int saved = pactcl_cpu_blas_serial_begin();
    /* y_n[K,PQ] = w[K,CRS] col_n[CRS,PQ], col_n = x_n itself when pointwise */
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.K * PQ * CRS >= PACTCL_CPU_PAR_MIN_MACS))
    for (int64_t n = 0; n < g.N; n++) {
        const float *src = x + n * g.C * HW;
        float *yn = y + n * g.K * PQ;
        if (per_thread) {
            float *col =
                (float *)pactcl_cpu_thread_area(base, 0, per_thread, pactcl_cpu_thread_num());
            im2col(&g, src, col);
            src = col;
        }
        if (b)
            fill_bias(yn, b, g.K, PQ);
        pactcl_cpu_sgemm_serial(0, 0, g.K, PQ, CRS, 1.0f, w, CRS, src, PQ, beta, yn, PQ);
    }
    pactcl_cpu_blas_serial_end(saved);
    return PACTCL_OK;
}

PACTCL_CPU_OP(pactcl_cpu_conv2d_bwd_data)
{
    const struct conv_geom g = conv_geom(call, 2, 1);
    const float *dy = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    const int64_t HW = g.H * g.W, PQ = g.P * g.Q, CRS = g.C * g.R * g.S;
    if (is_pointwise(&g) && HW == 1) /* dx[N,C] = dy[N,K] w[K,C] */
        return pactcl_cpu_sgemm(ctx, 0, 0, g.N, g.C, g.K, 1.0f, dy, g.K, w, g.C, 0.0f, dx, g.C);
    int rc = pactcl_cpu_gemm_check(ctx, CRS, PQ, g.K);
    const size_t per_thread = col_bytes(&g);
    char *base = NULL;
    if (rc == PACTCL_OK && per_thread)
        rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    const int saved = pactcl_cpu_blas_serial_begin();
    /* col_n[CRS,PQ] = w^T[CRS,K] dy_n[K,PQ], then scattered back onto dx_n;
     * pointwise, col_n is dx_n itself. */
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.K * PQ * CRS >= PACTCL_CPU_PAR_MIN_MACS))
    for (int64_t n = 0; n < g.N; n++) {
        float *dxn = dx + n * g.C * HW;
        float *col = per_thread ? (float *)pactcl_cpu_thread_area(base, 0, per_thread,
                                                                  pactcl_cpu_thread_num())
                                : dxn;
        pactcl_cpu_sgemm_serial(1, 0, CRS, PQ, g.K, 1.0f, w, CRS, dy + n * g.K * PQ, PQ, 0.0f, col,
                                PQ);
        if (per_thread)
            col2im(&g, col, dxn);
    }
    pactcl_cpu_blas_serial_end(saved);
    return PACTCL_OK;
}

PACTCL_CPU_OP(pactcl_cpu_conv2d_bwd_filter)
{
    const struct conv_geom g = conv_geom(call, 0, 2);
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dw = pactcl_cpu_f32(call, 2), *db = pactcl_cpu_f32_opt(call, 3);
    const int64_t HW = g.H * g.W, PQ = g.P * g.Q, CRS = g.C * g.R * g.S;
    int rc = PACTCL_OK;
    if (is_pointwise(&g) && HW == 1) { /* dw[K,C] = dy^T[K,N] x[N,C] */
        rc = pactcl_cpu_sgemm(ctx, 1, 0, g.K, g.C, g.N, 1.0f, dy, g.K, x, g.C, 0.0f, dw, g.C);
    } else {
        rc = pactcl_cpu_gemm_check(ctx, g.K, CRS, PQ);
        /* Thread t sums images [N*t/T, N*(t+1)/T) into its partial: dw itself
         * for t = 0, its scratch area otherwise, followed by its im2col matrix. */
        const int64_t macs = g.N * g.K * PQ * CRS;
        int64_t threads = macs >= PACTCL_CPU_PAR_MIN_MACS ? pactcl_cpu_max_threads() : 1;
        if (threads > g.N)
            threads = g.N;
        const size_t partial = pactcl_cpu_round64((size_t)(g.K * CRS) * sizeof(float));
        const size_t per_thread = partial + col_bytes(&g);
        char *base = NULL;
        if (rc == PACTCL_OK)
            rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
        if (rc != PACTCL_OK)
            return rc;
        const int saved = pactcl_cpu_blas_serial_begin();
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) num_threads((int)threads))
        for (int64_t t = 0; t < threads; t++) {
            char *area = pactcl_cpu_thread_area(base, 0, per_thread, (int)t);
            float *acc = t == 0 ? dw : (float *)area, *col = (float *)(area + partial);
            for (int64_t n = g.N * t / threads; n < g.N * (t + 1) / threads; n++) {
                const float *src = x + n * g.C * HW;
                if (col_bytes(&g)) {
                    im2col(&g, src, col);
                    src = col;
                }
                pactcl_cpu_sgemm_serial(0, 1, g.K, CRS, PQ, 1.0f, dy + n * g.K * PQ, PQ, src, PQ,
                                        n == g.N * t / threads ? 0.0f : 1.0f, acc, CRS);
            }
        }
        pactcl_cpu_blas_serial_end(saved);
        const int64_t total = g.K * CRS;
        for (int64_t t = 1; t < threads; t++) {
            const float *part = (const float *)pactcl_cpu_thread_area(base, 0, per_thread, (int)t);
            PACTCL_CPU_PARALLEL_SIMD(total)
            for (int64_t i = 0; i < total; i++)
                dw[i] += part[i];
        }
    }
    if (rc == PACTCL_OK && db)
        bias_grad(dy, db, g.N, g.K, PQ);
    return rc;
}
