/*
 * cpu_depthwise.c: depthwise convolution (groups = C, weights [C,1,R,S]),
 * forward, backward-data and backward-filter, as direct loops.
 *
 * Each thread copies the plane it works on into a zero-bordered buffer, so the
 * kernel loops run without a single bounds check; the padded copy costs one
 * pass over the plane, against R*S multiply-adds per output.  The kernel loops
 * are written once and instantiated with constant R and S for the shapes
 * MobileNetV3 uses (3x3 and 5x5, stride 1 and 2), where the compiler unrolls
 * the kernel window and vectorises; any other shape runs a generic version of
 * the same sums.  With stride 1 the loops run over the whole padded plane as
 * one flat array (full vectors even on 7x7 and 14x14 maps) and drop the few
 * extra columns this computes; with stride 2 they run row by row.
 *
 * Backward-data with stride 1 is the forward pass of dy with the flipped
 * kernel and padding R-1-pad; with larger strides it scatters each dy into a
 * padded dx plane.  Backward-filter is parallel over channels, so its sums
 * over the batch need no cross-thread reduction.
 */
#include "config.h"

#include <string.h>

#include "cpu_ops.h"

struct dw_geom {
    int64_t N, C, H, W, R, S, P, Q;
    int64_t sh, sw, ph, pw;
};

static struct dw_geom dw_geom(const struct pactcl_op_call *call, int ix, int iw)
{
    const int64_t *x = call->args[ix]->dims, *w = call->args[iw]->dims;
    const struct pactcl_conv_params *p = &call->params.conv;
    struct dw_geom g = {
        .N = x[0],
        .C = x[1],
        .H = x[2],
        .W = x[3],
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

/* Copies plane x[H,W] into buf[H+2ph, W+2pw] with zero borders. */
static void pad_plane(const float *x, int64_t H, int64_t W, int64_t ph, int64_t pw, float *buf)
{
    const int64_t Wp = W + 2 * pw;
    memset(buf, 0, (size_t)(ph * Wp) * sizeof *buf);
    for (int64_t h = 0; h < H; h++) {
        float *row = buf + (h + ph) * Wp;
        memset(row, 0, (size_t)pw * sizeof *row);
        memcpy(row + pw, x + h * W, (size_t)W * sizeof *row);
        memset(row + pw + W, 0, (size_t)pw * sizeof *row);
    }
    memset(buf + (H + ph) * Wp, 0, (size_t)(ph * Wp) * sizeof *buf);
}

/* Returns x itself when there is no padding, else its padded copy in buf. */
static const float *padded(const float *x, int64_t H, int64_t W, int64_t ph, int64_t pw, float *buf)
{
    if (ph == 0 && pw == 0)
        return x;
    pad_plane(x, H, W, ph, pw, buf);
    return buf;
}

/* Bytes of the zero-bordered copy of one input plane, plus the S floats of
 * zeroed slack that the flat stride-1 loops read past its end. */
static size_t padded_bytes(const struct dw_geom *g)
{
    return pactcl_cpu_round64((size_t)((g->H + 2 * g->ph) * (g->W + 2 * g->pw) + g->S) *
                              sizeof(float));
}

/* The padded copy of x in buf, always made, with its slack zeroed. */
static const float *padded_with_slack(const struct dw_geom *g, const float *x, float *buf)
{
    const int64_t size = (g->H + 2 * g->ph) * (g->W + 2 * g->pw);
    pad_plane(x, g->H, g->W, g->ph, g->pw, buf);
    memset(buf + size, 0, (size_t)g->S * sizeof *buf);
    return buf;
}

/* Whether a stride-1 geometry runs the flat loops (square 3x3 or 5x5). */
static int dw_flat(const struct dw_geom *g)
{
    return g->R == g->S && (g->R == 3 || g->R == 5) && g->sh == 1 && g->sw == 1;
}

/* Whether a stride-2 geometry has a specialised row loop (square 3x3 or 5x5). */
static int dw_strided(const struct dw_geom *g)
{
    return g->R == g->S && (g->R == 3 || g->R == 5) && g->sh == 2 && g->sw == 2;
}

/* ---- kernel loops, instantiated per shape --------------------------------- */

struct dw_fwd_args {
    const float *src; /* padded input plane */
    int64_t ld;       /* its row pitch */
    const float *w;   /* R*S weights */
    float bias;
    float *y;
    float *stage; /* flat loops: P*ld outputs at the input's pitch */
    int64_t P, Q;
    int64_t R, S, sh, sw;
};

/* Row by row: y[p,q] = bias + sum_{r,s} w[r,s] * src[p*sh + r, q*sw + s]. */
static PACTCL_CPU_ALWAYS_INLINE void dw_fwd_body(const struct dw_fwd_args *a, const int64_t R,
                                                 const int64_t S, const int64_t sh,
                                                 const int64_t sw)
{
    const float *w = a->w;
    const int64_t ld = a->ld;
    for (int64_t p = 0; p < a->P; p++) {
        const float *xr = a->src + p * sh * ld;
        float *yr = a->y + p * a->Q;
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t q = 0; q < a->Q; q++) {
            float acc = a->bias;
            PACTCL_CPU_UNROLL
            for (int64_t r = 0; r < R; r++) {
                PACTCL_CPU_UNROLL
                for (int64_t s = 0; s < S; s++)
                    acc += w[r * S + s] * xr[r * ld + q * sw + s];
            }
            yr[q] = acc;
        }
    }
}

/* Stride 1: the same sums for every position i = p*ld + q at the padded pitch,
 * stage[i] = bias + sum_{r,s} w[r,s] * src[i + r*ld + s], as one loop of full
 * vectors (rows of 7 or 14 outputs leave most of a vector idle); the columns
 * q >= Q of each row are computed and dropped. */
static PACTCL_CPU_ALWAYS_INLINE void dw_fwd_flat_body(const struct dw_fwd_args *a, const int64_t R,
                                                      const int64_t S)
{
    const float *w = a->w, *src = a->src;
    const int64_t ld = a->ld, len = a->P * ld;
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < len; i++) {
        float acc = a->bias;
        PACTCL_CPU_UNROLL
        for (int64_t r = 0; r < R; r++) {
            PACTCL_CPU_UNROLL
            for (int64_t s = 0; s < S; s++)
                acc += w[r * S + s] * src[i + r * ld + s];
        }
        a->stage[i] = acc;
    }
    for (int64_t p = 0; p < a->P; p++)
        memcpy(a->y + p * a->Q, a->stage + p * ld, (size_t)a->Q * sizeof *a->y);
}

/* One channel of one image of strided backward-filter, added into
 * tmp[r*S+s][q]: tmp[r,s,q] += sum_p dy[p,q] * src[p*sh + r, q*sw + s]. */
struct dw_filter_args {
    const float *src; /* padded input plane */
    int64_t ld;
    const float *dy;
    float *tmp; /* R*S rows of Q partial sums */
    int64_t P, Q;
    int64_t R, S, sh, sw;
};

static PACTCL_CPU_ALWAYS_INLINE void dw_filter_body(const struct dw_filter_args *a, const int64_t R,
                                                    const int64_t S, const int64_t sh,
                                                    const int64_t sw)
{
    const int64_t ld = a->ld, Q = a->Q;
    for (int64_t p = 0; p < a->P; p++) {
        const float *dyr = a->dy + p * Q;
        const float *xr = a->src + p * sh * ld;
        PACTCL_CPU_UNROLL
        for (int64_t r = 0; r < R; r++) {
            PACTCL_CPU_UNROLL
            for (int64_t s = 0; s < S; s++) {
                float *t = a->tmp + (r * S + s) * Q;
                const float *xs = xr + r * ld + s;
                PACTCL_CPU_PRAGMA(omp simd)
                for (int64_t q = 0; q < Q; q++)
                    t[q] += dyr[q] * xs[q * sw];
            }
        }
    }
}

typedef void (*dw_fwd_fn)(const struct dw_fwd_args *a);
typedef void (*dw_filter_fn)(const struct dw_filter_args *a);

#define DW_FLAT_INSTANCE(k)                                                                        \
    PACTCL_CPU_MULTIVERSION static void dw_fwd_flat_k##k(const struct dw_fwd_args *a)              \
    {                                                                                              \
        dw_fwd_flat_body(a, k, k);                                                                 \
    }
#define DW_STRIDED_INSTANCE(k)                                                                     \
    PACTCL_CPU_MULTIVERSION static void dw_fwd_k##k##s2(const struct dw_fwd_args *a)               \
    {                                                                                              \
        dw_fwd_body(a, k, k, 2, 2);                                                                \
    }                                                                                              \
    PACTCL_CPU_MULTIVERSION static void dw_filter_k##k##s2(const struct dw_filter_args *a)         \
    {                                                                                              \
        dw_filter_body(a, k, k, 2, 2);                                                             \
    }
DW_FLAT_INSTANCE(3)
DW_FLAT_INSTANCE(5)
DW_STRIDED_INSTANCE(3)
DW_STRIDED_INSTANCE(5)
#undef DW_FLAT_INSTANCE
#undef DW_STRIDED_INSTANCE

/* Any other shape: the same sums in the same order, accumulated in the output
 * row one kernel tap at a time, which vectorises without constant bounds. */
static void dw_fwd_any(const struct dw_fwd_args *a)
{
    for (int64_t p = 0; p < a->P; p++) {
        const float *xr = a->src + p * a->sh * a->ld;
        float *yr = a->y + p * a->Q;
        for (int64_t q = 0; q < a->Q; q++)
            yr[q] = a->bias;
        for (int64_t r = 0; r < a->R; r++) {
            for (int64_t s = 0; s < a->S; s++) {
                const float wv = a->w[r * a->S + s], *xs = xr + r * a->ld + s;
                PACTCL_CPU_PRAGMA(omp simd)
                for (int64_t q = 0; q < a->Q; q++)
                    yr[q] += wv * xs[q * a->sw];
            }
        }
    }
}

static void dw_filter_any(const struct dw_filter_args *a)
{
    dw_filter_body(a, a->R, a->S, a->sh, a->sw);
}

static dw_fwd_fn dw_fwd_pick(const struct dw_geom *g)
{
    if (dw_flat(g))
        return g->R == 3 ? dw_fwd_flat_k3 : dw_fwd_flat_k5;
    if (dw_strided(g))
        return g->R == 3 ? dw_fwd_k3s2 : dw_fwd_k5s2;
    return dw_fwd_any;
}

static dw_filter_fn dw_filter_pick(const struct dw_geom *g)
{
    if (dw_strided(g))
        return g->R == 3 ? dw_filter_k3s2 : dw_filter_k5s2;
    return dw_filter_any;
}

/* ---- forward ---------------------------------------------------------------- */

/* Per-thread bytes of dw_forward_planes: the padded plane and, for the flat
 * loops, their staging area. */
static size_t dw_forward_bytes(const struct dw_geom *g)
{
    const size_t stage = (size_t)(g->P * (g->W + 2 * g->pw)) * sizeof(float);
    return padded_bytes(g) + (dw_flat(g) ? pactcl_cpu_round64(stage) : 0);
}

/* y = depthwise(x, w) + b over every (n, c) plane of the geometry g, with the
 * per-thread areas (dw_forward_bytes each) of a thread_scratch area. */
static void dw_forward_planes(const struct dw_geom *g, const float *x, const float *w,
                              const float *b, float *y, char *base, size_t shared,
                              size_t per_thread)
{
    const int64_t HW = g->H * g->W, PQ = g->P * g->Q, RS = g->R * g->S;
    const dw_fwd_fn fn = dw_fwd_pick(g);
    const int flat = dw_flat(g);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g->N * g->C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {
        const int64_t c = nc % g->C;
        char *area = pactcl_cpu_thread_area(base, shared, per_thread, pactcl_cpu_thread_num());
        float *buf = (float *)area;
        const struct dw_fwd_args a = {
            .src = flat ? padded_with_slack(g, x + nc * HW, buf)
                        : padded(x + nc * HW, g->H, g->W, g->ph, g->pw, buf),
            .ld = g->W + 2 * g->pw,
            .w = w + c * RS,
            .bias = b ? b[c] : 0.0f,
            .y = y + nc * PQ,
            .stage = (float *)(area + padded_bytes(g)),
            .P = g->P,
            .Q = g->Q,
            .R = g->R,
            .S = g->S,
            .sh = g->sh,
            .sw = g->sw,
        };
        fn(&a);
    }
}

PACTCL_CPU_OP(pactcl_cpu_dwconv_fwd)
{
    const struct dw_geom g = dw_geom(call, 0, 1);
    const size_t per_thread = dw_forward_bytes(&g);
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc == PACTCL_OK)
        dw_forward_planes(&g, pactcl_cpu_f32(call, 0), pactcl_cpu_f32(call, 1),
                          pactcl_cpu_f32_opt(call, 2), pactcl_cpu_f32(call, 3), base, 0,
                          per_thread);
    return rc;
}

/* ---- backward-data ---------------------------------------------------------- */

/* Stride 1: dx = depthwise(dy, w flipped in both axes) with padding R-1-ph,
 * S-1-pw, which maps the P x Q plane of dy back onto H x W. */
static int dw_bwd_data_flipped(struct pactcl_cpu_ctx *ctx, const struct dw_geom *g, const float *dy,
                               const float *w, float *dx)
{
    const int64_t RS = g->R * g->S;
    const struct dw_geom t = {
        .N = g->N,
        .C = g->C,
        .H = g->P,
        .W = g->Q,
        .R = g->R,
        .S = g->S,
        .P = g->H,
        .Q = g->W,
        .sh = 1,
        .sw = 1,
        .ph = g->R - 1 - g->ph,
        .pw = g->S - 1 - g->pw,
    };
    const size_t shared = (size_t)(g->C * RS) * sizeof(float);
    const size_t per_thread = dw_forward_bytes(&t);
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, shared, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    float *flipped = (float *)base;
    for (int64_t c = 0; c < g->C; c++)
        for (int64_t i = 0; i < RS; i++)
            flipped[c * RS + i] = w[c * RS + RS - 1 - i];
    dw_forward_planes(&t, dy, flipped, NULL, dx, base, shared, per_thread);
    return PACTCL_OK;
}

/* Any stride: each dy[p,q] adds w[r,s]*dy[p,q] to dx[p*sh - ph + r, q*sw - pw + s],
 * gathered in a padded plane whose border is then dropped. */
static int dw_bwd_data_scatter(struct pactcl_cpu_ctx *ctx, const struct dw_geom *g, const float *dy,
                               const float *w, float *dx)
{
    const int64_t HW = g->H * g->W, PQ = g->P * g->Q, RS = g->R * g->S;
    const int64_t Hp = g->H + 2 * g->ph, Wp = g->W + 2 * g->pw;
    const size_t per_thread = padded_bytes(g);
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g->N * g->C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {
        const float *wc = w + nc % g->C * RS, *dyp = dy + nc * PQ;
        float *buf = (float *)pactcl_cpu_thread_area(base, 0, per_thread, pactcl_cpu_thread_num());
        memset(buf, 0, (size_t)(Hp * Wp) * sizeof *buf);
        for (int64_t p = 0; p < g->P; p++) {
            const float *dyr = dyp + p * g->Q;
            for (int64_t r = 0; r < g->R; r++) {
                for (int64_t s = 0; s < g->S; s++) {
                    const float wv = wc[r * g->S + s];
                    float *dr = buf + (p * g->sh + r) * Wp + s;
                    PACTCL_CPU_PRAGMA(omp simd)
                    for (int64_t q = 0; q < g->Q; q++)
                        dr[q * g->sw] += wv * dyr[q];
                }
            }
        }
        for (int64_t h = 0; h < g->H; h++)
            memcpy(dx + nc * HW + h * g->W, buf + (h + g->ph) * Wp + g->pw,
                   (size_t)g->W * sizeof *dx);
    }
    return PACTCL_OK;
}

PACTCL_CPU_OP(pactcl_cpu_dwconv_bwd_data)
{
    const struct dw_geom g = dw_geom(call, 2, 1);
    const float *dy = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
    float *dx = pactcl_cpu_f32(call, 2);
    if (g.sh == 1 && g.sw == 1 && g.ph < g.R && g.pw < g.S)
        return dw_bwd_data_flipped(ctx, &g, dy, w, dx);
    return dw_bwd_data_scatter(ctx, &g, dy, w, dx);
}

/* ---- backward-filter -------------------------------------------------------- */

/* Float dot products are summed in chunks of this many terms, the chunks in
 * double: vector-speed inner loop, bounded rounding error. */
#define DOT_CHUNK 256

PACTCL_CPU_MULTIVERSION static double dot_f32(const float *a, const float *b, int64_t n)
{
    double total = 0.0;
    for (int64_t lo = 0; lo < n; lo += DOT_CHUNK) {
        const int64_t len = n - lo < DOT_CHUNK ? n - lo : DOT_CHUNK;
        float sum = 0.0f;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : sum))
        for (int64_t i = 0; i < len; i++)
            sum += a[lo + i] * b[lo + i];
        total += sum;
    }
    return total;
}

/*
 * Stride 1, one (n, c) plane: with dy copied at the padded row pitch ld and
 * zeros in its columns past Q, dw[r,s] += sum_i dyp[i] * src[r*ld + s + i]
 * over the whole plane: one long dot product per kernel tap.  The last taps
 * read up to S-1 floats past the padded plane, which the caller zeroes.  The
 * inputs under the zero columns are multiplied by zero: only an infinite
 * activation, after training has already diverged, could show through.
 */
static void dw_filter_flat(const struct dw_geom *g, const float *src, const float *dy, float *dyp,
                           double *total)
{
    const int64_t ld = g->W + 2 * g->pw;
    for (int64_t p = 0; p < g->P; p++) {
        memcpy(dyp + p * ld, dy + p * g->Q, (size_t)g->Q * sizeof *dyp);
        memset(dyp + p * ld + g->Q, 0, (size_t)(ld - g->Q) * sizeof *dyp);
    }
    for (int64_t r = 0; r < g->R; r++)
        for (int64_t s = 0; s < g->S; s++)
            total[r * g->S + s] += dot_f32(dyp, src + r * ld + s, g->P * ld);
}

/* Other strides, one (n, c) plane: the per-row partials of dw_filter_body. */
static void dw_filter_rows(const struct dw_geom *g, dw_filter_fn fn, const float *src,
                           const float *dy, float *tmp, double *total)
{
    const int64_t RS = g->R * g->S;
    memset(tmp, 0, (size_t)(RS * g->Q) * sizeof *tmp);
    const struct dw_filter_args a = {
        .src = src,
        .ld = g->W + 2 * g->pw,
        .dy = dy,
        .tmp = tmp,
        .P = g->P,
        .Q = g->Q,
        .R = g->R,
        .S = g->S,
        .sh = g->sh,
        .sw = g->sw,
    };
    fn(&a);
    for (int64_t i = 0; i < RS; i++) {
        double sum = 0.0;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : sum))
        for (int64_t q = 0; q < g->Q; q++)
            sum += tmp[i * g->Q + q];
        total[i] += sum;
    }
}

PACTCL_CPU_OP(pactcl_cpu_dwconv_bwd_filter)
{
    const struct dw_geom g = dw_geom(call, 0, 2);
    const float *x = pactcl_cpu_f32(call, 0), *dy = pactcl_cpu_f32(call, 1);
    float *dw = pactcl_cpu_f32(call, 2), *db = pactcl_cpu_f32_opt(call, 3);
    const int64_t HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S;
    const int64_t ld = g.W + 2 * g.pw;
    const int unit_stride = g.sh == 1 && g.sw == 1;
    /* Per thread: the padded plane with S floats of slack, a work area (dy at
     * the padded pitch, or R*S rows of Q partials) and R*S double totals. */
    const size_t pad_sz = padded_bytes(&g);
    const size_t work_sz =
        pactcl_cpu_round64((size_t)(unit_stride ? g.P * ld : RS * g.Q) * sizeof(float));
    const size_t per_thread = pad_sz + work_sz + pactcl_cpu_round64((size_t)RS * sizeof(double));
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    const dw_filter_fn fn = dw_filter_pick(&g);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < g.C; c++) {
        char *area = pactcl_cpu_thread_area(base, 0, per_thread, pactcl_cpu_thread_num());
        float *plane = (float *)area, *work = (float *)(area + pad_sz);
        double *total = (double *)(area + pad_sz + work_sz);
        double bias_sum = 0.0;
        for (int64_t i = 0; i < RS; i++)
            total[i] = 0.0;
        for (int64_t n = 0; n < g.N; n++) {
            const int64_t nc = n * g.C + c;
            const float *dyp = dy + nc * PQ;
            if (db) {
                PACTCL_CPU_PRAGMA(omp simd reduction(+ : bias_sum))
                for (int64_t i = 0; i < PQ; i++)
                    bias_sum += dyp[i];
            }
            if (unit_stride) {
                dw_filter_flat(&g, padded_with_slack(&g, x + nc * HW, plane), dyp, work, total);
            } else {
                dw_filter_rows(&g, fn, padded(x + nc * HW, g.H, g.W, g.ph, g.pw, plane), dyp, work,
                               total);
            }
        }
        for (int64_t i = 0; i < RS; i++)
            dw[c * RS + i] = (float)total[i];
        if (db)
            db[c] = (float)bias_sum;
    }
    return PACTCL_OK;
}
