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
 * extra columns this computes.  With stride 2, 5x5 windows run the same flat
 * loops on the plane's four phase planes (split_phases), 3x3 windows row by
 * row.  Planes of at most 16 pixels skip all of this (dw_small).
 *
 * The int8 depthwise conv of the exported model runs on the same float
 * kernels, exactly (see pactcl_cpu_dwconv_i8).
 *
 * Backward-data with stride 1 is the forward pass of dy with the flipped
 * kernel and padding R-1-pad; with stride 2 it adds each tap's contribution
 * into the phase planes of dx, and with other strides it scatters each dy
 * into a padded dx plane.  Backward-filter is parallel over channels, so its
 * sums over the batch need no cross-thread reduction; for 3x3 and 5x5 it
 * takes all the taps of a kernel row in one pass (dw_filter_taps_body).
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

/* Vector lanes of the backward-filter tap sums (dw_filter_taps_body): the
 * loops over a plane run in whole groups of LANES, reading up to LANES - 1
 * floats past the plane's last position. */
#define LANES 8

/* Floats of zeroed slack after a padded or phase plane: what the flat loops
 * read past its end (S - 1 for the last tap, LANES - 1 for the last group). */
static int64_t plane_slack(const struct dw_geom *g)
{
    return g->S + LANES;
}

/* Bytes of the zero-bordered copy of one input plane, plus its slack. */
static size_t padded_bytes(const struct dw_geom *g)
{
    return pactcl_cpu_round64(
        (size_t)((g->H + 2 * g->ph) * (g->W + 2 * g->pw) + plane_slack(g)) * sizeof(float));
}

/* The padded copy of x in buf, always made, with its slack zeroed. */
static const float *padded_with_slack(const struct dw_geom *g, const float *x, float *buf)
{
    const int64_t size = (g->H + 2 * g->ph) * (g->W + 2 * g->pw);
    pad_plane(x, g->H, g->W, g->ph, g->pw, buf);
    memset(buf + size, 0, (size_t)plane_slack(g) * sizeof *buf);
    return buf;
}

/* Whether a stride-1 geometry runs the flat loops (square 3x3 or 5x5). */
static int dw_flat(const struct dw_geom *g)
{
    return g->R == g->S && (g->R == 3 || g->R == 5) && g->sh == 1 && g->sw == 1;
}

/* Whether a geometry is square 3x3 or 5x5 at stride 2. */
static int dw_stride2(const struct dw_geom *g)
{
    return g->R == g->S && (g->R == 3 || g->R == 5) && g->sh == 2 && g->sw == 2;
}

/* Whether a stride-2 forward or backward-filter runs on phase planes: for 5x5
 * windows.  A 3x3 window at stride 2 reads each input about twice, and its
 * direct row loop already runs at memory speed; the split into phases then
 * only adds a pass.  Backward-data at stride 2 always uses phases. */
static int dw_phased(const struct dw_geom *g)
{
    return dw_stride2(g) && g->R == 5;
}

/*
 * Stride 2 by phases: the zero-padded plane xp[Hp][Wp] is split into four
 * planes ph[a][b][i][j] = xp[2i + a][2j + b] (a, b in {0, 1}), all with the
 * pitch ld = ceil(Wp/2).  Then xp[2p + r][2q + s] = ph[r%2][s%2][p + r/2][q + s/2]:
 * every tap of a stride-2 window is a contiguous stride-1 read of one phase
 * plane, so the stride-2 sums run as flat vector loops like stride 1, in the
 * same tap order (the forward sums are bit for bit those of a direct loop).
 */
static int64_t phase_ld(const struct dw_geom *g)
{
    return (g->W + 2 * g->pw + 1) / 2;
}

/* Floats from one phase plane to the next: its rows, plus the zeroed slack
 * that the flat loops read past the last row. */
static int64_t phase_stride(const struct dw_geom *g)
{
    const int64_t rows = (g->H + 2 * g->ph + 1) / 2;
    return (int64_t)(pactcl_cpu_round64((size_t)(rows * phase_ld(g) + plane_slack(g)) *
                                        sizeof(float)) /
                     sizeof(float));
}

static size_t phase_bytes(const struct dw_geom *g)
{
    return (size_t)(4 * phase_stride(g)) * sizeof(float);
}

/* The columns j of phase b whose padded column 2j + b - pw lies in [0, W). */
static void phase_cols(const struct dw_geom *g, int64_t b, int64_t *lo, int64_t *hi)
{
    const int64_t first = g->pw - b; /* 2j >= first */
    *lo = first <= 0 ? 0 : (first + 1) / 2;
    *hi = (g->W - 1 + g->pw - b) / 2 + 1;
}

/* The four phase planes of x[H][W] zero-padded by (ph, pw), in ph4.  Each
 * image row fills one row of both column phases in one loop (even and odd
 * floats of a contiguous read); only the padding and slack are zeroed, not
 * whole planes, which on 3x3 windows would cost as much as the taps. */
static const float *split_phases(const struct dw_geom *g, const float *x, float *ph4)
{
    const int64_t ld = phase_ld(g), stride = phase_stride(g);
    const int64_t rows = (g->H + 2 * g->ph + 1) / 2;
    for (int64_t a = 0; a < 2; a++) {
        for (int64_t i = 0; i < rows; i++) {
            const int64_t hp = 2 * i + a;
            if (hp >= g->ph && hp < g->ph + g->H)
                continue;
            for (int64_t b = 0; b < 2; b++)
                memset(ph4 + (a * 2 + b) * stride + i * ld, 0, (size_t)ld * sizeof *ph4);
        }
        for (int64_t b = 0; b < 2; b++)
            memset(ph4 + (a * 2 + b) * stride + rows * ld, 0,
                   (size_t)(stride - rows * ld) * sizeof *ph4);
    }
    int64_t lo[2], hi[2];
    phase_cols(g, 0, &lo[0], &hi[0]);
    phase_cols(g, 1, &lo[1], &hi[1]);
    const int64_t both_lo = lo[0] > lo[1] ? lo[0] : lo[1];
    const int64_t both_hi = hi[0] < hi[1] ? hi[0] : hi[1];
    for (int64_t h = 0; h < g->H; h++) {
        const int64_t hp = h + g->ph;
        float *row[2] = { ph4 + hp % 2 * 2 * stride + hp / 2 * ld,
                          ph4 + (hp % 2 * 2 + 1) * stride + hp / 2 * ld };
        /* Padded column 2j + b is xr[2j + b - pw]. */
        const float *xr = x + h * g->W;
        float *even = row[0], *odd = row[1];
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t j = both_lo; j < both_hi; j++) {
            even[j] = xr[2 * j - g->pw];
            odd[j] = xr[2 * j + 1 - g->pw];
        }
        for (int64_t b = 0; b < 2; b++) {
            for (int64_t j = 0; j < lo[b]; j++)
                row[b][j] = 0.0f;
            for (int64_t j = lo[b]; j < both_lo; j++)
                row[b][j] = xr[2 * j + b - g->pw];
            for (int64_t j = both_hi > lo[b] ? both_hi : lo[b]; j < hi[b]; j++)
                row[b][j] = xr[2 * j + b - g->pw];
            for (int64_t j = hi[b]; j < ld; j++)
                row[b][j] = 0.0f;
        }
    }
    return ph4;
}

/* The inverse of split_phases, dropping the padding: dx[H][W]. */
static void merge_phases(const struct dw_geom *g, const float *ph4, float *dx)
{
    const int64_t ld = phase_ld(g), stride = phase_stride(g);
    for (int64_t h = 0; h < g->H; h++) {
        const int64_t hp = h + g->ph;
        float *dr = dx + h * g->W;
        for (int64_t b = 0; b < 2; b++) {
            const float *row = ph4 + (hp % 2 * 2 + b) * stride + hp / 2 * ld;
            int64_t lo, hi;
            phase_cols(g, b, &lo, &hi);
            PACTCL_CPU_PRAGMA(omp simd)
            for (int64_t j = lo; j < hi; j++)
                dr[2 * j + b - g->pw] = row[j];
        }
    }
}

/* dst[p*ld + q] = src[p*Q + q] for q < Q, zero for Q <= q < ld. */
static void copy_at_pitch(const float *src, int64_t P, int64_t Q, int64_t ld, float *dst)
{
    for (int64_t p = 0; p < P; p++) {
        memcpy(dst + p * ld, src + p * Q, (size_t)Q * sizeof *dst);
        memset(dst + p * ld + Q, 0, (size_t)(ld - Q) * sizeof *dst);
    }
}

/* y[p*Q + q] = stage[p*ld + q]: the flat loops' outputs without their extra
 * columns. */
static void copy_from_pitch(const float *stage, int64_t P, int64_t Q, int64_t ld, float *y)
{
    for (int64_t p = 0; p < P; p++)
        memcpy(y + p * Q, stage + p * ld, (size_t)Q * sizeof *y);
}

/* ---- kernel loops, instantiated per shape --------------------------------- */

struct dw_fwd_args {
    const float *src; /* padded input plane */
    int64_t ld;       /* its row pitch */
    const float *w;   /* R*S weights */
    float bias;
    float *y;
    float *stage;    /* flat loops: P*ld outputs at the input's pitch */
    int64_t pstride; /* phase loops: floats between the four phase planes */
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
    copy_from_pitch(a->stage, a->P, a->Q, ld, a->y);
}

/* Stride 2 on phase planes: stage[i] = bias + sum_{r,s} w[r,s] *
 * ph[r%2][s%2][i + (r/2)*ld + s/2] for i = p*ld + q, as dw_fwd_flat_body. */
static PACTCL_CPU_ALWAYS_INLINE void dw_fwd_phase_body(const struct dw_fwd_args *a, const int64_t R,
                                                       const int64_t S)
{
    const float *w = a->w, *src = a->src;
    const int64_t ld = a->ld, len = a->P * ld, ps = a->pstride;
    PACTCL_CPU_PRAGMA(omp simd)
    for (int64_t i = 0; i < len; i++) {
        float acc = a->bias;
        PACTCL_CPU_UNROLL
        for (int64_t r = 0; r < R; r++) {
            PACTCL_CPU_UNROLL
            for (int64_t s = 0; s < S; s++)
                acc += w[r * S + s] * src[(r % 2 * 2 + s % 2) * ps + i + r / 2 * ld + s / 2];
        }
        a->stage[i] = acc;
    }
    copy_from_pitch(a->stage, a->P, a->Q, ld, a->y);
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

#define DW_FLAT_INSTANCE(k)                                                                        \
    PACTCL_CPU_MULTIVERSION static void dw_fwd_flat_k##k(const struct dw_fwd_args *a)              \
    {                                                                                              \
        dw_fwd_flat_body(a, k, k);                                                                 \
    }
DW_FLAT_INSTANCE(3)
DW_FLAT_INSTANCE(5)
#undef DW_FLAT_INSTANCE

PACTCL_CPU_MULTIVERSION static void dw_fwd_k3s2(const struct dw_fwd_args *a)
{
    dw_fwd_body(a, 3, 3, 2, 2);
}

PACTCL_CPU_MULTIVERSION static void dw_fwd_phase_k5(const struct dw_fwd_args *a)
{
    dw_fwd_phase_body(a, 5, 5);
}

PACTCL_CPU_MULTIVERSION static void dw_filter_k3s2(const struct dw_filter_args *a)
{
    dw_filter_body(a, 3, 3, 2, 2);
}

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
    if (dw_phased(g))
        return dw_fwd_phase_k5;
    if (dw_stride2(g))
        return dw_fwd_k3s2;
    return dw_fwd_any;
}

/* ---- small planes ------------------------------------------------------------ */

/*
 * Planes of at most SMALL_PLANE pixels (the last stages of a 32x32 model:
 * 4x4, 2x2, 1x1) go through direct loops over the kernel taps that land
 * inside the image: the padded copies, staging and per-tap dot products of
 * the general paths cost far more than the few multiply-adds of such a plane.
 * The forward sums are the general path's, in the same tap order, without
 * the zero products of the padding; the backward sums are regrouped.
 */
#define SMALL_PLANE 16

static int dw_small(const struct dw_geom *g)
{
    return g->H * g->W <= SMALL_PLANE && g->P * g->Q <= SMALL_PLANE;
}

/* The taps [lo, hi) of a kernel axis that read inside [0, in) from output
 * position o: o*stride - pad + k in [0, in). */
static void tap_range(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t in, int64_t *lo,
                      int64_t *hi)
{
    const int64_t i0 = o * stride - pad;
    *lo = i0 < 0 ? -i0 : 0;
    *hi = i0 + k > in ? in - i0 : k;
}

/* y = depthwise(x, w) + b on one small plane. */
static void dw_small_fwd(const struct dw_geom *g, const float *x, const float *w, float bias,
                         float *y)
{
    for (int64_t p = 0; p < g->P; p++) {
        int64_t r0, r1;
        tap_range(p, g->sh, g->ph, g->R, g->H, &r0, &r1);
        for (int64_t q = 0; q < g->Q; q++) {
            int64_t s0, s1;
            tap_range(q, g->sw, g->pw, g->S, g->W, &s0, &s1);
            const int64_t o = (p * g->sh - g->ph) * g->W + q * g->sw - g->pw;
            float acc = bias;
            for (int64_t r = r0; r < r1; r++)
                for (int64_t s = s0; s < s1; s++)
                    acc += w[r * g->S + s] * x[o + r * g->W + s];
            y[p * g->Q + q] = acc;
        }
    }
}

/* dx = the adjoint of dw_small_fwd on one small plane. */
static void dw_small_bwd_data(const struct dw_geom *g, const float *dy, const float *w, float *dx)
{
    for (int64_t i = 0; i < g->H * g->W; i++)
        dx[i] = 0.0f;
    for (int64_t p = 0; p < g->P; p++) {
        int64_t r0, r1;
        tap_range(p, g->sh, g->ph, g->R, g->H, &r0, &r1);
        for (int64_t q = 0; q < g->Q; q++) {
            int64_t s0, s1;
            tap_range(q, g->sw, g->pw, g->S, g->W, &s0, &s1);
            const int64_t o = (p * g->sh - g->ph) * g->W + q * g->sw - g->pw;
            const float d = dy[p * g->Q + q];
            for (int64_t r = r0; r < r1; r++)
                for (int64_t s = s0; s < s1; s++)
                    dx[o + r * g->W + s] += w[r * g->S + s] * d;
        }
    }
}

/* tap[r*S + s] = sum over the plane of dy[p,q] * x[p*sh - ph + r, q*sw - pw + s]. */
static void dw_small_filter(const struct dw_geom *g, const float *x, const float *dy, float *tap)
{
    for (int64_t i = 0; i < g->R * g->S; i++)
        tap[i] = 0.0f;
    for (int64_t p = 0; p < g->P; p++) {
        int64_t r0, r1;
        tap_range(p, g->sh, g->ph, g->R, g->H, &r0, &r1);
        for (int64_t q = 0; q < g->Q; q++) {
            int64_t s0, s1;
            tap_range(q, g->sw, g->pw, g->S, g->W, &s0, &s1);
            const int64_t o = (p * g->sh - g->ph) * g->W + q * g->sw - g->pw;
            const float d = dy[p * g->Q + q];
            for (int64_t r = r0; r < r1; r++)
                for (int64_t s = s0; s < s1; s++)
                    tap[r * g->S + s] += d * x[o + r * g->W + s];
        }
    }
}

/* ---- forward ---------------------------------------------------------------- */

/* Per-thread bytes of dw_forward_planes: the padded plane and, for the flat
 * loops, their staging area. */
static size_t dw_forward_bytes(const struct dw_geom *g)
{
    if (dw_phased(g))
        return phase_bytes(g) + pactcl_cpu_round64((size_t)(g->P * phase_ld(g)) * sizeof(float));
    const size_t stage = (size_t)(g->P * (g->W + 2 * g->pw)) * sizeof(float);
    return padded_bytes(g) + (dw_flat(g) ? pactcl_cpu_round64(stage) : 0);
}

/* y = depthwise(x, w) + b for one plane (x, y) of channel weights w, in a
 * thread's area of dw_forward_bytes. */
static void dw_forward_plane(const struct dw_geom *g, dw_fwd_fn fn, const float *x, const float *w,
                             float bias, float *y, char *area)
{
    float *buf = (float *)area;
    const int phased = dw_phased(g);
    const struct dw_fwd_args a = {
        .src = phased       ? split_phases(g, x, buf)
               : dw_flat(g) ? padded_with_slack(g, x, buf)
                            : padded(x, g->H, g->W, g->ph, g->pw, buf),
        .ld = phased ? phase_ld(g) : g->W + 2 * g->pw,
        .w = w,
        .bias = bias,
        .y = y,
        .stage = (float *)(area + (phased ? phase_bytes(g) : padded_bytes(g))),
        .pstride = phase_stride(g),
        .P = g->P,
        .Q = g->Q,
        .R = g->R,
        .S = g->S,
        .sh = g->sh,
        .sw = g->sw,
    };
    fn(&a);
}

/* y = depthwise(x, w) + b over every (n, c) plane of the geometry g, with the
 * per-thread areas (dw_forward_bytes each) of a thread_scratch area. */
static void dw_forward_planes(const struct dw_geom *g, const float *x, const float *w,
                              const float *b, float *y, char *base, size_t shared,
                              size_t per_thread)
{
    const int64_t HW = g->H * g->W, PQ = g->P * g->Q, RS = g->R * g->S;
    const dw_fwd_fn fn = dw_fwd_pick(g);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g->N * g->C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {
        const int64_t c = nc % g->C;
        char *area = pactcl_cpu_thread_area(base, shared, per_thread, pactcl_cpu_thread_num());
        dw_forward_plane(g, fn, x + nc * HW, w + c * RS, b ? b[c] : 0.0f, y + nc * PQ, area);
    }
}

PACTCL_CPU_OP(pactcl_cpu_dwconv_fwd)
{
    const struct dw_geom g = dw_geom(call, 0, 1);
    if (dw_small(&g)) {
        const float *x = pactcl_cpu_f32(call, 0), *w = pactcl_cpu_f32(call, 1);
        const float *b = pactcl_cpu_f32_opt(call, 2);
        float *y = pactcl_cpu_f32(call, 3);
        const int64_t HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S;
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * PQ * RS >= PACTCL_CPU_PAR_MIN))
        for (int64_t nc = 0; nc < g.N * g.C; nc++)
            dw_small_fwd(&g, x + nc * HW, w + nc % g.C * RS, b ? b[nc % g.C] : 0.0f, y + nc * PQ);
        return PACTCL_OK;
    }
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

/* Stride 2 on phase planes (see split_phases): each tap adds w[r,s]*dy[p,q]
 * to ph[r%2][s%2][p + r/2][q + s/2], one flat loop per tap over dy at the
 * phase pitch (zero in its columns q >= Q), then the phases are merged. */
static int dw_bwd_data_phased(struct pactcl_cpu_ctx *ctx, const struct dw_geom *g, const float *dy,
                              const float *w, float *dx)
{
    const int64_t HW = g->H * g->W, PQ = g->P * g->Q, RS = g->R * g->S;
    const int64_t ld = phase_ld(g), ps = phase_stride(g), len = g->P * ld;
    const size_t per_thread = phase_bytes(g) + pactcl_cpu_round64((size_t)len * sizeof(float));
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g->N * g->C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {
        const float *wc = w + nc % g->C * RS;
        char *area = pactcl_cpu_thread_area(base, 0, per_thread, pactcl_cpu_thread_num());
        float *ph4 = (float *)area, *dyp = (float *)(area + phase_bytes(g));
        memset(ph4, 0, phase_bytes(g));
        copy_at_pitch(dy + nc * PQ, g->P, g->Q, ld, dyp);
        for (int64_t r = 0; r < g->R; r++) {
            for (int64_t s = 0; s < g->S; s++) {
                const float wv = wc[r * g->S + s];
                float *dst = ph4 + (r % 2 * 2 + s % 2) * ps + r / 2 * ld + s / 2;
                PACTCL_CPU_PRAGMA(omp simd)
                for (int64_t i = 0; i < len; i++)
                    dst[i] += wv * dyp[i];
            }
        }
        merge_phases(g, ph4, dx + nc * HW);
    }
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
    if (dw_small(&g)) {
        const int64_t HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S;
        PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * PQ * RS >= PACTCL_CPU_PAR_MIN))
        for (int64_t nc = 0; nc < g.N * g.C; nc++)
            dw_small_bwd_data(&g, dy + nc * PQ, w + nc % g.C * RS, dx + nc * HW);
        return PACTCL_OK;
    }
    if (g.sh == 1 && g.sw == 1 && g.ph < g.R && g.pw < g.S)
        return dw_bwd_data_flipped(ctx, &g, dy, w, dx);
    if (dw_stride2(&g))
        return dw_bwd_data_phased(ctx, &g, dy, w, dx);
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
    copy_at_pitch(dy, g->P, g->Q, ld, dyp);
    for (int64_t r = 0; r < g->R; r++)
        for (int64_t s = 0; s < g->S; s++)
            total[r * g->S + s] += dot_f32(dyp, src + r * ld + s, g->P * ld);
}

/*
 * 3x3 and 5x5 at stride 1 or 2, one (n, c) plane: all R*S tap sums in one
 * pass per kernel row, lanes[(r*S + s)*LANES + l] += dyp[i] * src(r, s)[i]
 * over i = l (mod LANES) in [0, len), with the S accumulators of a row in
 * registers instead of R*S separate dot products (on a 7x7 plane those are
 * 77 terms each, and their setup cost more than their arithmetic).  dyp is
 * dy at the plane's pitch, zero past its columns and up to len, a multiple
 * of LANES.  src(r, s) is src + r*ld + s at stride 1, and the tap's phase
 * plane (split_phases) at stride 2.  Each DOT_CHUNK of products is summed in
 * float and the chunks in double, as dot_f32 does.
 */
static PACTCL_CPU_ALWAYS_INLINE void dw_filter_taps_body(const float *dyp, const float *src,
                                                         int64_t ld, int64_t ps, int64_t len,
                                                         const int64_t R, const int64_t S,
                                                         const int phased, double *lanes)
{
    for (int64_t lo = 0; lo < len; lo += DOT_CHUNK) {
        const int64_t hi = len - lo < DOT_CHUNK ? len : lo + DOT_CHUNK;
        PACTCL_CPU_UNROLL
        for (int64_t r = 0; r < R; r++) {
            float acc[5][LANES] = { { 0.0f } };
            for (int64_t i = lo; i < hi; i += LANES) {
                PACTCL_CPU_UNROLL
                for (int64_t s = 0; s < S; s++) {
                    const float *t =
                        src + (phased ? (r % 2 * 2 + s % 2) * ps + r / 2 * ld + s / 2 : r * ld + s);
                    PACTCL_CPU_PRAGMA(omp simd)
                    for (int l = 0; l < LANES; l++)
                        acc[s][l] += dyp[i + l] * t[i + l];
                }
            }
            for (int64_t s = 0; s < S; s++)
                for (int l = 0; l < LANES; l++)
                    lanes[(r * S + s) * LANES + l] += acc[s][l];
        }
    }
}

typedef void (*dw_taps_fn)(const float *dyp, const float *src, int64_t ld, int64_t ps, int64_t len,
                           double *lanes);

#define DW_TAPS_INSTANCE(name, k, phased)                                                          \
    PACTCL_CPU_MULTIVERSION static void name(const float *dyp, const float *src, int64_t ld,       \
                                             int64_t ps, int64_t len, double *lanes)               \
    {                                                                                              \
        dw_filter_taps_body(dyp, src, ld, ps, len, k, k, phased, lanes);                           \
    }
DW_TAPS_INSTANCE(dw_filter_taps_k3, 3, 0)
DW_TAPS_INSTANCE(dw_filter_taps_k5, 5, 0)
DW_TAPS_INSTANCE(dw_filter_taps_k5s2, 5, 1)
#undef DW_TAPS_INSTANCE

/* The tap-sum kernel of a geometry, NULL when it has none. */
static dw_taps_fn dw_taps_pick(const struct dw_geom *g)
{
    if (dw_flat(g))
        return g->R == 3 ? dw_filter_taps_k3 : dw_filter_taps_k5;
    if (dw_phased(g))
        return dw_filter_taps_k5s2;
    return NULL;
}

/* Other strides, one (n, c) plane: the per-row partials of dw_filter_body. */
static void dw_filter_rows(const struct dw_geom *g, const float *src, const float *dy, float *tmp,
                           double *total)
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
    if (dw_stride2(g) && g->R == 3)
        dw_filter_k3s2(&a);
    else
        dw_filter_any(&a);
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
    const int small = dw_small(&g), phased = !small && dw_phased(&g);
    const dw_taps_fn taps = small ? NULL : dw_taps_pick(&g);
    const int64_t ld = phased ? phase_ld(&g) : g.W + 2 * g.pw;
    const int64_t len = (g.P * ld + LANES - 1) / LANES * LANES;
    /* Per thread: the padded plane with its slack (or the phase planes), a
     * work area (dy at the plane's pitch, R*S rows of Q partials, or a small
     * plane's R*S taps) and R*S*LANES double totals. */
    const size_t pad_sz = phased ? phase_bytes(&g) : padded_bytes(&g);
    const int64_t work = small ? RS : taps || g.sh * g.sw == 1 ? len : RS * g.Q;
    const size_t work_sz = pactcl_cpu_round64((size_t)work * sizeof(float));
    const size_t per_thread =
        pad_sz + work_sz + pactcl_cpu_round64((size_t)(RS * LANES) * sizeof(double));
    char *base;
    int rc = pactcl_cpu_thread_scratch(ctx, 0, per_thread, &base);
    if (rc != PACTCL_OK)
        return rc;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t c = 0; c < g.C; c++) {
        char *area = pactcl_cpu_thread_area(base, 0, per_thread, pactcl_cpu_thread_num());
        float *plane = (float *)area, *work_area = (float *)(area + pad_sz);
        double *total = (double *)(area + pad_sz + work_sz);
        double bias_sum = 0.0;
        for (int64_t i = 0; i < RS * LANES; i++)
            total[i] = 0.0;
        for (int64_t n = 0; n < g.N; n++) {
            const int64_t nc = n * g.C + c;
            const float *dyp = dy + nc * PQ, *xp = x + nc * HW;
            if (db) {
                PACTCL_CPU_PRAGMA(omp simd reduction(+ : bias_sum))
                for (int64_t i = 0; i < PQ; i++)
                    bias_sum += dyp[i];
            }
            if (small) {
                dw_small_filter(&g, xp, dyp, work_area);
                for (int64_t i = 0; i < RS; i++)
                    total[i] += work_area[i];
            } else if (taps) {
                copy_at_pitch(dyp, g.P, g.Q, ld, work_area);
                memset(work_area + g.P * ld, 0, (size_t)(len - g.P * ld) * sizeof *work_area);
                const float *src =
                    phased ? split_phases(&g, xp, plane) : padded_with_slack(&g, xp, plane);
                taps(work_area, src, ld, phased ? phase_stride(&g) : 0, len, total);
            } else if (g.sh == 1 && g.sw == 1) {
                dw_filter_flat(&g, padded_with_slack(&g, xp, plane), dyp, work_area, total);
            } else {
                dw_filter_rows(&g, padded(xp, g.H, g.W, g.ph, g.pw, plane), dyp, work_area, total);
            }
        }
        for (int64_t t = 0; t < RS; t++) {
            double sum = 0.0;
            /* The tap kernels leave one partial per lane. */
            for (int l = 0; taps && l < LANES; l++)
                sum += total[t * LANES + l];
            dw[c * RS + t] = (float)(taps ? sum : total[t]);
        }
        if (db)
            db[c] = (float)bias_sum;
    }
    return PACTCL_OK;
}

/* ---- int8 inference ------------------------------------------------------------ */

/*
 * DWCONV_I8 on the float kernels above: a product of two int8 values is at
 * most 2^14 in magnitude, so while R*S <= 2^10 every partial sum of a window
 * is an integer below 2^24, which float represents exactly: the float sums
 * equal the int32 sums bit for bit, whatever their order.  Larger windows
 * (no model has them) take the integer loop.
 */
#define DW_I8_EXACT_TAPS 1024

static void dw_i8_integer(const struct dw_geom *g, const int8_t *xp, const int8_t *wc, float m,
                          float b, int act, float *yp)
{
    for (int64_t p = 0; p < g->P; p++) {
        const int64_t ih0 = p * g->sh - g->ph;
        const int64_t r0 = ih0 < 0 ? -ih0 : 0, r1 = ih0 + g->R > g->H ? g->H - ih0 : g->R;
        for (int64_t q = 0; q < g->Q; q++) {
            const int64_t iw0 = q * g->sw - g->pw;
            const int64_t s0 = iw0 < 0 ? -iw0 : 0, s1 = iw0 + g->S > g->W ? g->W - iw0 : g->S;
            int32_t acc = 0;
            for (int64_t r = r0; r < r1; r++)
                for (int64_t s = s0; s < s1; s++)
                    acc += (int32_t)xp[(ih0 + r) * g->W + iw0 + s] * (int32_t)wc[r * g->S + s];
            yp[p * g->Q + q] = pactcl_cpu_int8_activate((float)acc * m + b, act);
        }
    }
}

/* q[N,C,H,W](I8) w[C,1,R,S](I8) mult[C] bias[C] -> y = act(acc*mult + bias) */
PACTCL_CPU_OP(pactcl_cpu_dwconv_i8)
{
    const struct pactcl_conv_params *cp = &call->params.int8.conv;
    const int64_t *xd = call->args[0]->dims, *wd = call->args[1]->dims;
    struct dw_geom g = { .N = xd[0], .C = xd[1], .H = xd[2], .W = xd[3], .R = wd[2], .S = wd[3],
                         .sh = cp->stride_h, .sw = cp->stride_w, .ph = cp->pad_h, .pw = cp->pad_w };
    g.P = (g.H + 2 * g.ph - g.R) / g.sh + 1;
    g.Q = (g.W + 2 * g.pw - g.S) / g.sw + 1;
    const int8_t *x = PACTCL_TENSOR_HOST(call->args[0]), *w = PACTCL_TENSOR_HOST(call->args[1]);
    const float *mult = pactcl_cpu_f32(call, 2), *bias = pactcl_cpu_f32(call, 3);
    float *y = pactcl_cpu_f32(call, 4);
    const int act = call->params.int8.act;
    const int64_t HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S;
    const int exact = RS <= DW_I8_EXACT_TAPS;
    /* Shared: the weights as float.  Per thread: the plane as float, then
     * the forward kernels' areas. */
    const size_t shared = exact ? (size_t)(g.C * RS) * sizeof(float) : 0;
    const size_t plane = pactcl_cpu_round64((size_t)HW * sizeof(float));
    const size_t per_thread = exact ? plane + dw_forward_bytes(&g) : 0;
    char *base = NULL;
    int rc = exact ? pactcl_cpu_thread_scratch(ctx, shared, per_thread, &base) : PACTCL_OK;
    if (rc != PACTCL_OK)
        return rc;
    float *wf = (float *)base;
    for (int64_t i = 0; exact && i < g.C * RS; i++)
        wf[i] = (float)w[i];
    const dw_fwd_fn fn = dw_fwd_pick(&g);
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (g.N * g.C * PQ * RS >= PACTCL_CPU_PAR_MIN))
    for (int64_t nc = 0; nc < g.N * g.C; nc++) {
        const int64_t c = nc % g.C;
        float *yp = y + nc * PQ;
        if (!exact) {
            dw_i8_integer(&g, x + nc * HW, w + c * RS, mult[c], bias[c], act, yp);
            continue;
        }
        char *area = pactcl_cpu_thread_area(base, shared, per_thread, pactcl_cpu_thread_num());
        float *xf = (float *)area;
        const int8_t *xp = x + nc * HW;
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < HW; i++)
            xf[i] = (float)xp[i];
        dw_forward_plane(&g, fn, xf, wf + c * RS, 0.0f, yp, area + plane);
        const float m = mult[c], b = bias[c];
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t i = 0; i < PQ; i++)
            yp[i] = pactcl_cpu_int8_activate(yp[i] * m + b, act);
    }
    return PACTCL_OK;
}
