/*
 * test_ops_conv.c: conv2d and depthwise conv, forward and both backwards,
 * against the naive reference and by central differences of the forward.
 */
#include "naive_ref.h"
#include "op_harness.h"

struct conv_case {
    const char *name;
    int N, C, H, W, K, R, S, stride_h, stride_w, pad_h, pad_w;
};

/* Odd sizes and channel counts on purpose: nothing divides a SIMD width or a
 * GEMM tile, and batches 1 and 3 both appear. */
static const struct conv_case conv_cases[] = {
    {"1x1 s1", 3, 5, 7, 7, 13, 1, 1, 1, 1, 0, 0},
    {"stem 3x3 s2 p1", 1, 3, 13, 11, 16, 3, 3, 2, 2, 1, 1},
    {"stem 3x3 s2 p1 batch 3", 3, 3, 7, 7, 5, 3, 3, 2, 2, 1, 1},
    {"3x3 s1 p0", 3, 5, 7, 7, 3, 3, 3, 1, 1, 0, 0},
    {"2x3 s2x1 p0x1", 3, 3, 13, 11, 5, 2, 3, 2, 1, 0, 1},
    {"1x1 wide", 2, 40, 7, 7, 24, 1, 1, 1, 1, 0, 0},
};

/* Depthwise: K == C.  3x3 and 5x5, stride 1 and 2, the model's pads (1, 2) and
 * unpadded cases; the last one has an even size and 16 channels. */
static const struct conv_case dw_cases[] = {
    {"3x3 s1 p1", 3, 5, 13, 11, 5, 3, 3, 1, 1, 1, 1},
    {"3x3 s2 p1", 1, 13, 7, 7, 13, 3, 3, 2, 2, 1, 1},
    {"5x5 s1 p2", 1, 5, 13, 11, 5, 5, 5, 1, 1, 2, 2},
    {"5x5 s2 p2", 3, 3, 13, 11, 3, 5, 5, 2, 2, 2, 2},
    {"3x3 s1 p0", 3, 5, 7, 7, 5, 3, 3, 1, 1, 0, 0},
    {"5x5 s2 p0", 1, 13, 13, 11, 13, 5, 5, 2, 2, 0, 0},
    {"3x3 s2 p1 16ch", 2, 16, 14, 14, 16, 3, 3, 2, 2, 1, 1},
};

#define N_CONV_CASES (sizeof conv_cases / sizeof conv_cases[0])
#define N_DW_CASES (sizeof dw_cases / sizeof dw_cases[0])

/* Inputs are in [-1,1]; rtol 1e-4 and an absolute tolerance that grows with
 * the number of summed products (th_sum_atol: 1e-5 up to 16 terms).  The
 * filter gradient sums N*P*Q products, up to a few hundred here. */
#define RTOL 1e-4

/* Central differences: the forward is linear in every input, so the only
 * error is fp32 rounding of the outputs; 1e-2 relative plus 1e-3 of the
 * largest gradient is far above it and far below any real bug. */
#define FD_H 1e-2f
#define FD_RTOL 1e-2
#define FD_ATOL 1e-3
#define FD_SAMPLES 24

static struct ref_conv geometry(const struct conv_case *cc, int depthwise)
{
    struct ref_conv g = {.N = cc->N,
                         .C = cc->C,
                         .H = cc->H,
                         .W = cc->W,
                         .K = cc->K,
                         .R = cc->R,
                         .S = cc->S,
                         .stride_h = cc->stride_h,
                         .stride_w = cc->stride_w,
                         .pad_h = cc->pad_h,
                         .pad_w = cc->pad_w,
                         .depthwise = depthwise};
    ref_conv_init(&g);
    return g;
}

static void label(const char *op, const struct conv_case *cc)
{
    th_label("%s %s: N%d C%d %dx%d K%d", op, cc->name, cc->N, cc->C, cc->H, cc->W, cc->K);
}

#define XSHAPE(g) TH_SHAPE((g)->N, (g)->C, (g)->H, (g)->W)
#define WSHAPE(g) TH_SHAPE((g)->K, (g)->depthwise ? 1 : (g)->C, (g)->R, (g)->S)
#define YSHAPE(g) TH_SHAPE((g)->N, (g)->K, (g)->P, (g)->Q)

static struct pactcl_op_call conv_call(enum pactcl_op op, const struct ref_conv *g)
{
    struct pactcl_op_call c = th_call(op);
    c.params.conv.stride_h = g->stride_h;
    c.params.conv.stride_w = g->stride_w;
    c.params.conv.pad_h = g->pad_h;
    c.params.conv.pad_w = g->pad_w;
    return c;
}

static enum pactcl_op op_fwd(int dw)
{
    return dw ? PACTCL_OP_DWCONV_FWD : PACTCL_OP_CONV2D_FWD;
}

static enum pactcl_op op_bwd_data(int dw)
{
    return dw ? PACTCL_OP_DWCONV_BWD_DATA : PACTCL_OP_CONV2D_BWD_DATA;
}

static enum pactcl_op op_bwd_filter(int dw)
{
    return dw ? PACTCL_OP_DWCONV_BWD_FILTER : PACTCL_OP_CONV2D_BWD_FILTER;
}

/* ---- forward ------------------------------------------------------------------- */

static void check_fwd(const struct conv_case *cases, size_t ncases, int dw)
{
    for (size_t ci = 0; ci < ncases; ci++) {
        const struct conv_case *cc = &cases[ci];
        struct ref_conv g = geometry(cc, dw);
        struct th_rng r;
        th_rng_seed(&r, 100 + ci);
        float *x = th_floats(ref_conv_x_size(&g));
        float *w = th_floats(ref_conv_w_size(&g));
        float *b = th_floats((size_t)g.K);
        th_fill(&r, x, ref_conv_x_size(&g), -1.0f, 1.0f);
        th_fill(&r, w, ref_conv_w_size(&g), -1.0f, 1.0f);
        th_fill(&r, b, (size_t)g.K, -1.0f, 1.0f);
        double *want = th_doubles(ref_conv_y_size(&g));
        label(pactcl_op_name(op_fwd(dw)), cc);

        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            struct pactcl_op_call c = conv_call(op_fwd(dw), &g);
            c.args[0] = th_f32(XSHAPE(&g), x);
            c.args[1] = th_f32(WSHAPE(&g), w);
            c.args[2] = with_bias ? th_f32(TH_SHAPE(g.K), b) : NULL;
            c.args[3] = th_f32(YSHAPE(&g), NULL);
            th_run(&c);
            ref_conv_fwd(&g, x, w, with_bias ? b : NULL, want);
            th_close(with_bias ? "y (bias)" : "y (no bias)", th_read_f32(c.args[3]), want,
                     ref_conv_y_size(&g), RTOL, th_sum_atol((size_t)(dw ? 1 : g.C) * g.R * g.S));
        }
    }
}

/* ---- backward against the reference ---------------------------------------------- */

static void check_bwd_data(const struct conv_case *cases, size_t ncases, int dw)
{
    for (size_t ci = 0; ci < ncases; ci++) {
        const struct conv_case *cc = &cases[ci];
        struct ref_conv g = geometry(cc, dw);
        struct th_rng r;
        th_rng_seed(&r, 200 + ci);
        float *dy = th_floats(ref_conv_y_size(&g));
        float *w = th_floats(ref_conv_w_size(&g));
        th_fill(&r, dy, ref_conv_y_size(&g), -1.0f, 1.0f);
        th_fill(&r, w, ref_conv_w_size(&g), -1.0f, 1.0f);
        label(pactcl_op_name(op_bwd_data(dw)), cc);

        struct pactcl_op_call c = conv_call(op_bwd_data(dw), &g);
        c.args[0] = th_f32(YSHAPE(&g), dy);
        c.args[1] = th_f32(WSHAPE(&g), w);
        /* Pre-filled with garbage: backward ops overwrite, never accumulate. */
        float *junk = th_floats(ref_conv_x_size(&g));
        th_fill(&r, junk, ref_conv_x_size(&g), 5.0f, 9.0f);
        c.args[2] = th_f32(XSHAPE(&g), junk);
        th_run(&c);
        double *want = th_doubles(ref_conv_x_size(&g));
        ref_conv_bwd_data(&g, dy, w, want);
        th_close("dx", th_read_f32(c.args[2]), want, ref_conv_x_size(&g), RTOL,
                 th_sum_atol((size_t)(dw ? 1 : g.K) * g.R * g.S));
    }
}

static void check_bwd_filter(const struct conv_case *cases, size_t ncases, int dw)
{
    for (size_t ci = 0; ci < ncases; ci++) {
        const struct conv_case *cc = &cases[ci];
        struct ref_conv g = geometry(cc, dw);
        struct th_rng r;
        th_rng_seed(&r, 300 + ci);
        float *x = th_floats(ref_conv_x_size(&g));
        float *dy = th_floats(ref_conv_y_size(&g));
        th_fill(&r, x, ref_conv_x_size(&g), -1.0f, 1.0f);
        th_fill(&r, dy, ref_conv_y_size(&g), -1.0f, 1.0f);
        double *dw_want = th_doubles(ref_conv_w_size(&g));
        double *db_want = th_doubles((size_t)g.K);
        ref_conv_bwd_filter(&g, x, dy, dw_want, db_want);
        label(pactcl_op_name(op_bwd_filter(dw)), cc);

        const double atol = th_sum_atol((size_t)g.N * g.P * g.Q);
        float *junk = th_floats(ref_conv_w_size(&g));
        th_fill(&r, junk, ref_conv_w_size(&g), 5.0f, 9.0f);
        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            struct pactcl_op_call c = conv_call(op_bwd_filter(dw), &g);
            c.args[0] = th_f32(XSHAPE(&g), x);
            c.args[1] = th_f32(YSHAPE(&g), dy);
            c.args[2] = th_f32(WSHAPE(&g), junk);
            c.args[3] = with_bias ? th_f32(TH_SHAPE(g.K), junk) : NULL;
            th_run(&c);
            th_close(with_bias ? "dw (with db)" : "dw (no db)", th_read_f32(c.args[2]), dw_want,
                     ref_conv_w_size(&g), RTOL, atol);
            if (with_bias)
                th_close("db", th_read_f32(c.args[3]), db_want, (size_t)g.K, RTOL, atol);
        }
    }
}

/* ---- backward by central differences of the device's forward ----------------------- */

struct conv_fd {
    const struct ref_conv *g;
    int dw;
    float *x, *w, *b, *gup;
    struct pactcl_tensor *tx, *tw, *tb, *ty;
    float *y;
};

/* L = sum(gup * conv(x, w, b)) on the device. */
static double conv_loss(void *vctx)
{
    struct conv_fd *f = vctx;
    th_write(f->tx, f->x);
    th_write(f->tw, f->w);
    th_write(f->tb, f->b);
    struct pactcl_op_call c = conv_call(op_fwd(f->dw), f->g);
    c.args[0] = f->tx;
    c.args[1] = f->tw;
    c.args[2] = f->tb;
    c.args[3] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, ref_conv_y_size(f->g));
}

static void check_gradients(const struct conv_case *cases, size_t ncases, int dw)
{
    for (size_t ci = 0; ci < ncases; ci++) {
        const struct conv_case *cc = &cases[ci];
        struct ref_conv g = geometry(cc, dw);
        struct th_rng r;
        th_rng_seed(&r, 400 + ci);
        struct conv_fd f = {.g = &g, .dw = dw};
        f.x = th_floats(ref_conv_x_size(&g));
        f.w = th_floats(ref_conv_w_size(&g));
        f.b = th_floats((size_t)g.K);
        f.gup = th_floats(ref_conv_y_size(&g));
        f.y = th_floats(ref_conv_y_size(&g));
        th_fill(&r, f.x, ref_conv_x_size(&g), -1.0f, 1.0f);
        th_fill(&r, f.w, ref_conv_w_size(&g), -1.0f, 1.0f);
        th_fill(&r, f.b, (size_t)g.K, -1.0f, 1.0f);
        th_fill(&r, f.gup, ref_conv_y_size(&g), -1.0f, 1.0f);
        f.tx = th_f32(XSHAPE(&g), f.x);
        f.tw = th_f32(WSHAPE(&g), f.w);
        f.tb = th_f32(TH_SHAPE(g.K), f.b);
        f.ty = th_f32(YSHAPE(&g), NULL);
        label(dw ? "dwconv gradcheck" : "conv2d gradcheck", cc);

        struct pactcl_tensor *tg = th_f32(YSHAPE(&g), f.gup);
        struct pactcl_op_call c = conv_call(op_bwd_data(dw), &g);
        c.args[0] = tg;
        c.args[1] = f.tw;
        c.args[2] = th_f32(XSHAPE(&g), NULL);
        th_run(&c);
        float *dx = th_read_f32(c.args[2]);

        c = conv_call(op_bwd_filter(dw), &g);
        c.args[0] = f.tx;
        c.args[1] = tg;
        c.args[2] = th_f32(WSHAPE(&g), NULL);
        c.args[3] = th_f32(TH_SHAPE(g.K), NULL);
        th_run(&c);
        float *dwt = th_read_f32(c.args[2]);
        float *db = th_read_f32(c.args[3]);

        th_gradcheck("dL/dx", conv_loss, &f, f.x, ref_conv_x_size(&g), dx, FD_SAMPLES, FD_H,
                     FD_RTOL, FD_ATOL);
        th_gradcheck("dL/dw", conv_loss, &f, f.w, ref_conv_w_size(&g), dwt, FD_SAMPLES, FD_H,
                     FD_RTOL, FD_ATOL);
        th_gradcheck("dL/db", conv_loss, &f, f.b, (size_t)g.K, db, FD_SAMPLES, FD_H, FD_RTOL,
                     FD_ATOL);
    }
}

/* ---- tests ---------------------------------------------------------------------------- */

TH_TEST(conv2d_fwd)
{
    check_fwd(conv_cases, N_CONV_CASES, 0);
}

TH_TEST(conv2d_bwd_data)
{
    check_bwd_data(conv_cases, N_CONV_CASES, 0);
}

TH_TEST(conv2d_bwd_filter)
{
    check_bwd_filter(conv_cases, N_CONV_CASES, 0);
}

TH_TEST(conv2d_gradcheck)
{
    check_gradients(conv_cases, N_CONV_CASES, 0);
}

TH_TEST(dwconv_fwd)
{
    check_fwd(dw_cases, N_DW_CASES, 1);
}

TH_TEST(dwconv_bwd_data)
{
    check_bwd_data(dw_cases, N_DW_CASES, 1);
}

TH_TEST(dwconv_bwd_filter)
{
    check_bwd_filter(dw_cases, N_DW_CASES, 1);
}

TH_TEST(dwconv_gradcheck)
{
    check_gradients(dw_cases, N_DW_CASES, 1);
}

void ops_conv_register(TCase *tc, int dev)
{
    TH_ADD(tc, conv2d_fwd, dev);
    TH_ADD(tc, conv2d_bwd_data, dev);
    TH_ADD(tc, conv2d_bwd_filter, dev);
    TH_ADD(tc, conv2d_gradcheck, dev);
    TH_ADD(tc, dwconv_fwd, dev);
    TH_ADD(tc, dwconv_bwd_data, dev);
    TH_ADD(tc, dwconv_bwd_filter, dev);
    TH_ADD(tc, dwconv_gradcheck, dev);
}
