/*
 * test_ops_elementwise.c: relu, hardswish, hardsigmoid, global average pool,
 * SE scale, add and dropout, forward and backward.
 */
#include <math.h>

#include "naive_ref.h"
#include "op_harness.h"

#define RTOL 1e-4
#define ATOL 1e-5
#define SLOPE 0.1666667f /* MobileNetV3's float32 attribute, not 1/6 */
#define OFFSET 0.5f

/* Central differences: 1e-2 relative plus 1e-3 of the largest gradient. */
#define FD_H 1e-2f
#define FD_RTOL 1e-2
#define FD_ATOL 1e-3

/* ---- activations --------------------------------------------------------------- */

enum act { ACT_RELU, ACT_HARDSWISH, ACT_HARDSIGMOID };

static const char *const act_names[] = {"relu", "hardswish", "hardsigmoid"};
static const enum pactcl_op act_fwd_op[] = {PACTCL_OP_RELU_FWD, PACTCL_OP_HARDSWISH_FWD,
                                            PACTCL_OP_HARDSIGMOID_FWD};
static const enum pactcl_op act_bwd_op[] = {PACTCL_OP_RELU_BWD, PACTCL_OP_HARDSWISH_BWD,
                                            PACTCL_OP_HARDSIGMOID_BWD};

/* Odd, 4-D and 2-D. */
static const struct th_shape act_shapes[] = {
    {4, {3, 5, 7, 7}},
    {2, {13, 11}},
};
#define N_ACT_SHAPES (sizeof act_shapes / sizeof act_shapes[0])

/* Exactly on and next to the kinks (0 for relu, -3 and 3 for hardswish, where
 * hardsigmoid also saturates up to the float slope) and far outside them. */
static const float special_x[] = {0.0f,   -0.0f, -3.0f, 3.0f,   -2.999f, 2.999f, -3.001f,
                                  3.001f, 6.0f,  -6.0f, 100.0f, -100.0f, 1e-7f,  -1e-7f};
#define N_SPECIAL (sizeof special_x / sizeof special_x[0])

static void fill_act_input(struct th_rng *r, float *x, size_t n)
{
    th_fill(r, x, n, -5.0f, 5.0f);
    for (size_t i = 0; i < N_SPECIAL && i < n; i++)
        x[i] = special_x[i];
}

static void ref_act_fwd(enum act a, size_t n, const float *x, double *y)
{
    if (a == ACT_RELU)
        ref_relu_fwd(n, x, y);
    else if (a == ACT_HARDSWISH)
        ref_hardswish_fwd(n, x, y);
    else
        ref_hardsigmoid_fwd(n, x, SLOPE, OFFSET, y);
}

static struct pactcl_op_call act_call(enum pactcl_op op)
{
    struct pactcl_op_call c = th_call(op);
    c.params.hardsigmoid.slope = SLOPE;
    c.params.hardsigmoid.offset = OFFSET;
    return c;
}

static void check_act_fwd(enum act a)
{
    for (size_t si = 0; si < N_ACT_SHAPES; si++) {
        struct th_shape s = act_shapes[si];
        size_t n = th_numel(s);
        struct th_rng r;
        th_rng_seed(&r, 900 + si + 10 * a);
        float *x = th_floats(n);
        fill_act_input(&r, x, n);
        th_label("%s_fwd %zu elements", act_names[a], n);
        struct pactcl_op_call c = act_call(act_fwd_op[a]);
        c.args[0] = th_f32(s, x);
        c.args[1] = th_f32(s, NULL);
        th_run(&c);
        double *want = th_doubles(n);
        ref_act_fwd(a, n, x, want);
        th_close("y", th_read_f32(c.args[1]), want, n, RTOL, ATOL);
    }
}

/* relu and hardsigmoid differentiate through y, hardswish through x. */
static int bwd_takes_y(enum act a)
{
    return a != ACT_HARDSWISH;
}

static void check_act_bwd(enum act a)
{
    for (size_t si = 0; si < N_ACT_SHAPES; si++) {
        struct th_shape s = act_shapes[si];
        size_t n = th_numel(s);
        struct th_rng r;
        th_rng_seed(&r, 1000 + si + 10 * a);
        float *x = th_floats(n), *dy = th_floats(n);
        fill_act_input(&r, x, n);
        th_fill(&r, dy, n, -1.0f, 1.0f);
        /* The saved y as the forward would store it; exact 0 and 1 included. */
        double *yd = th_doubles(n);
        ref_act_fwd(a, n, x, yd);
        float *y = th_to_float(yd, n);
        const float *in = bwd_takes_y(a) ? y : x;
        th_label("%s_bwd %zu elements", act_names[a], n);

        struct pactcl_op_call c = act_call(act_bwd_op[a]);
        c.args[0] = th_f32(s, in);
        c.args[1] = th_f32(s, dy);
        c.args[2] = th_f32(s, NULL);
        th_run(&c);
        double *want = th_doubles(n);
        if (a == ACT_RELU)
            ref_relu_bwd(n, y, dy, want);
        else if (a == ACT_HARDSWISH)
            ref_hardswish_bwd(n, x, dy, want);
        else
            ref_hardsigmoid_bwd(n, y, dy, SLOPE, want);
        th_close("dx", th_read_f32(c.args[2]), want, n, RTOL, ATOL);
    }
}

struct act_fd {
    enum act a;
    size_t n;
    float *x, *gup, *y;
    struct pactcl_tensor *tx, *ty;
};

static double act_loss(void *vctx)
{
    struct act_fd *f = vctx;
    th_write(f->tx, f->x);
    struct pactcl_op_call c = act_call(act_fwd_op[f->a]);
    c.args[0] = f->tx;
    c.args[1] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, f->n);
}

/* Central differences need every sampled point at least 2h from a kink
 * (0, -3, 3; hardsigmoid's are at +-0.5/0.1666667 = +-2.9999994). */
static void keep_off_kinks(float *x, size_t n)
{
    const float kinks[] = {0.0f, -3.0f, 3.0f};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof kinks / sizeof kinks[0]; k++)
            if (fabsf(x[i] - kinks[k]) < 4.0f * FD_H)
                x[i] = kinks[k] + (x[i] >= kinks[k] ? 5.0f : -5.0f) * FD_H;
}

static void check_act_gradients(enum act a)
{
    struct th_shape s = act_shapes[0];
    size_t n = th_numel(s);
    struct th_rng r;
    th_rng_seed(&r, 1100 + a);
    struct act_fd f = {.a = a, .n = n};
    f.x = th_floats(n);
    f.gup = th_floats(n);
    f.y = th_floats(n);
    th_fill(&r, f.x, n, -5.0f, 5.0f);
    keep_off_kinks(f.x, n);
    th_fill(&r, f.gup, n, -1.0f, 1.0f);
    f.tx = th_f32(s, f.x);
    f.ty = th_f32(s, NULL);
    th_label("%s gradcheck", act_names[a]);

    act_loss(&f);
    struct pactcl_op_call c = act_call(act_bwd_op[a]);
    c.args[0] = bwd_takes_y(a) ? f.ty : f.tx;
    c.args[1] = th_f32(s, f.gup);
    c.args[2] = th_f32(s, NULL);
    th_run(&c);
    th_gradcheck("dL/dx", act_loss, &f, f.x, n, th_read_f32(c.args[2]), 48, FD_H, FD_RTOL, FD_ATOL);
}

TH_TEST(relu_fwd)
{
    check_act_fwd(ACT_RELU);
}

TH_TEST(relu_bwd)
{
    check_act_bwd(ACT_RELU);
    check_act_gradients(ACT_RELU);
}

TH_TEST(hardswish_fwd)
{
    check_act_fwd(ACT_HARDSWISH);
}

TH_TEST(hardswish_bwd)
{
    check_act_bwd(ACT_HARDSWISH);
    check_act_gradients(ACT_HARDSWISH);
}

TH_TEST(hardsigmoid_fwd)
{
    check_act_fwd(ACT_HARDSIGMOID);
}

TH_TEST(hardsigmoid_bwd)
{
    check_act_bwd(ACT_HARDSIGMOID);
    check_act_gradients(ACT_HARDSIGMOID);
}

/*
 * Hand values at the kinks, from the header's formulas:
 * hardswish(-3) = 0, hardswish(3) = 6*3/6 = 3, hardswish(-1) = 2*-1/6 = -1/3,
 * hardswish(1) = 4/6; d/dx at x=-3 is 0 ([x+3>0] fails), at x=3 it is 1
 * ([x+3>=6]), at x=-1 it is (2*-1+3)/6 = 1/6, at x=1 it is 5/6.
 * hardsigmoid(x) = clip(0.1666667x + 0.5): at 3 it is 1.0000001 -> 1, so the
 * saturated y = 1 gives dx = 0; at x = 1.5: 0.75000005, dx = 0.1666667*dy.
 */
TH_TEST(activation_kinks_by_hand)
{
    const float x[6] = {-3.0f, 3.0f, -1.0f, 1.0f, 0.0f, 1.5f};
    const float ones[6] = {1, 1, 1, 1, 1, 1};
    const struct th_shape s = TH_SHAPE(6);
    th_label("activations by hand");

    struct pactcl_op_call c = act_call(PACTCL_OP_HARDSWISH_FWD);
    c.args[0] = th_f32(s, x);
    c.args[1] = th_f32(s, NULL);
    th_run(&c);
    const double hs_want[6] = {0.0, 3.0, -1.0 / 3.0, 4.0 / 6.0, 0.0, 1.5 * 4.5 / 6.0};
    th_close("hardswish y", th_read_f32(c.args[1]), hs_want, 6, 1e-6, 1e-7);

    c = act_call(PACTCL_OP_HARDSWISH_BWD);
    c.args[0] = th_f32(s, x);
    c.args[1] = th_f32(s, ones);
    c.args[2] = th_f32(s, NULL);
    th_run(&c);
    const double hsd_want[6] = {0.0, 1.0, 1.0 / 6.0, 5.0 / 6.0, 0.5, 6.0 / 6.0};
    th_close("hardswish dx", th_read_f32(c.args[2]), hsd_want, 6, 1e-6, 1e-7);

    c = act_call(PACTCL_OP_HARDSIGMOID_FWD);
    c.args[0] = th_f32(s, x);
    c.args[1] = th_f32(s, NULL);
    th_run(&c);
    const double sg_want[6] = {0.0, 1.0, 0.3333333, 0.6666667, 0.5, 0.75000005};
    float *y = th_read_f32(c.args[1]);
    th_close("hardsigmoid y", y, sg_want, 6, 1e-6, 1e-7);

    c = act_call(PACTCL_OP_HARDSIGMOID_BWD);
    c.args[0] = th_f32(s, y);
    c.args[1] = th_f32(s, ones);
    c.args[2] = th_f32(s, NULL);
    th_run(&c);
    const double sgd_want[6] = {0.0, 0.0, 0.1666667, 0.1666667, 0.1666667, 0.1666667};
    th_close("hardsigmoid dx", th_read_f32(c.args[2]), sgd_want, 6, 1e-6, 1e-7);

    /* The parameters are honoured, not hard-coded: Paddle's own default
     * slope 0.2 with offset 0.3 gives clip(0.2x + 0.3): at -3 -> -0.3 -> 0,
     * 3 -> 0.9, -1 -> 0.1, 1 -> 0.5, 0 -> 0.3, 1.5 -> 0.6; dx = 0.2 inside. */
    c = act_call(PACTCL_OP_HARDSIGMOID_FWD);
    c.params.hardsigmoid.slope = 0.2f;
    c.params.hardsigmoid.offset = 0.3f;
    c.args[0] = th_f32(s, x);
    c.args[1] = th_f32(s, NULL);
    th_run(&c);
    const double sg2_want[6] = {0.0, 0.9, 0.1, 0.5, 0.3, 0.6};
    y = th_read_f32(c.args[1]);
    th_close("hardsigmoid(0.2, 0.3) y", y, sg2_want, 6, 1e-6, 1e-7);

    c = act_call(PACTCL_OP_HARDSIGMOID_BWD);
    c.params.hardsigmoid.slope = 0.2f;
    c.params.hardsigmoid.offset = 0.3f;
    c.args[0] = th_f32(s, y);
    c.args[1] = th_f32(s, ones);
    c.args[2] = th_f32(s, NULL);
    th_run(&c);
    const double sgd2_want[6] = {0.0, 0.2, 0.2, 0.2, 0.2, 0.2};
    th_close("hardsigmoid(0.2, 0.3) dx", th_read_f32(c.args[2]), sgd2_want, 6, 1e-6, 1e-7);
}

/* ---- global average pool and SE scale ------------------------------------------------- */

struct nchw_case {
    int N, C, H, W;
};

static const struct nchw_case pool_cases[] = {
    {3, 5, 7, 7},
    {1, 13, 13, 11},
    {2, 16, 1, 1},
};
#define N_POOL_CASES (sizeof pool_cases / sizeof pool_cases[0])

#define BIG(pc) TH_SHAPE((pc)->N, (pc)->C, (pc)->H, (pc)->W)
#define SMALL(pc) TH_SHAPE((pc)->N, (pc)->C, 1, 1)

static size_t big_n(const struct nchw_case *pc)
{
    return (size_t)pc->N * pc->C * pc->H * pc->W;
}

static size_t small_n(const struct nchw_case *pc)
{
    return (size_t)pc->N * pc->C;
}

TH_TEST(avgpool_fwd)
{
    for (size_t ci = 0; ci < N_POOL_CASES; ci++) {
        const struct nchw_case *pc = &pool_cases[ci];
        struct th_rng r;
        th_rng_seed(&r, 1200 + ci);
        float *x = th_floats(big_n(pc));
        th_fill(&r, x, big_n(pc), -1.0f, 2.0f);
        th_label("avgpool_fwd N%d C%d %dx%d", pc->N, pc->C, pc->H, pc->W);
        struct pactcl_op_call c = th_call(PACTCL_OP_AVGPOOL_FWD);
        c.args[0] = th_f32(BIG(pc), x);
        c.args[1] = th_f32(SMALL(pc), NULL);
        th_run(&c);
        double *want = th_doubles(small_n(pc));
        ref_avgpool_fwd(pc->N, pc->C, pc->H * pc->W, x, want);
        th_close("y", th_read_f32(c.args[1]), want, small_n(pc), RTOL, ATOL);
    }
}

struct pool_fd {
    const struct nchw_case *pc;
    float *x, *gup, *y;
    struct pactcl_tensor *tx, *ty;
};

static double pool_loss(void *vctx)
{
    struct pool_fd *f = vctx;
    th_write(f->tx, f->x);
    struct pactcl_op_call c = th_call(PACTCL_OP_AVGPOOL_FWD);
    c.args[0] = f->tx;
    c.args[1] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, small_n(f->pc));
}

TH_TEST(avgpool_bwd)
{
    for (size_t ci = 0; ci < N_POOL_CASES; ci++) {
        const struct nchw_case *pc = &pool_cases[ci];
        struct th_rng r;
        th_rng_seed(&r, 1300 + ci);
        struct pool_fd f = {.pc = pc};
        f.x = th_floats(big_n(pc));
        f.gup = th_floats(small_n(pc));
        f.y = th_floats(small_n(pc));
        th_fill(&r, f.x, big_n(pc), -1.0f, 1.0f);
        th_fill(&r, f.gup, small_n(pc), -1.0f, 1.0f);
        f.tx = th_f32(BIG(pc), f.x);
        f.ty = th_f32(SMALL(pc), NULL);
        th_label("avgpool_bwd N%d C%d %dx%d", pc->N, pc->C, pc->H, pc->W);

        struct pactcl_op_call c = th_call(PACTCL_OP_AVGPOOL_BWD);
        c.args[0] = th_f32(SMALL(pc), f.gup);
        c.args[1] = th_f32(BIG(pc), NULL);
        th_run(&c);
        float *dx = th_read_f32(c.args[1]);
        double *want = th_doubles(big_n(pc));
        ref_avgpool_bwd(pc->N, pc->C, pc->H * pc->W, f.gup, want);
        th_close("dx", dx, want, big_n(pc), RTOL, ATOL);
        th_gradcheck("dL/dx", pool_loss, &f, f.x, big_n(pc), dx, 16, FD_H, FD_RTOL, FD_ATOL);
    }
}

TH_TEST(se_scale_fwd)
{
    for (size_t ci = 0; ci < N_POOL_CASES; ci++) {
        const struct nchw_case *pc = &pool_cases[ci];
        struct th_rng r;
        th_rng_seed(&r, 1400 + ci);
        float *x = th_floats(big_n(pc)), *s = th_floats(small_n(pc));
        th_fill(&r, x, big_n(pc), -2.0f, 2.0f);
        th_fill(&r, s, small_n(pc), 0.0f, 1.0f);
        th_label("se_scale_fwd N%d C%d %dx%d", pc->N, pc->C, pc->H, pc->W);
        struct pactcl_op_call c = th_call(PACTCL_OP_SE_SCALE_FWD);
        c.args[0] = th_f32(BIG(pc), x);
        c.args[1] = th_f32(SMALL(pc), s);
        c.args[2] = th_f32(BIG(pc), NULL);
        th_run(&c);
        double *want = th_doubles(big_n(pc));
        ref_se_scale_fwd(pc->N, pc->C, pc->H * pc->W, x, s, want);
        th_close("y", th_read_f32(c.args[2]), want, big_n(pc), RTOL, ATOL);
    }
}

struct se_fd {
    const struct nchw_case *pc;
    float *x, *s, *gup, *y;
    struct pactcl_tensor *tx, *ts, *ty;
};

static double se_loss(void *vctx)
{
    struct se_fd *f = vctx;
    th_write(f->tx, f->x);
    th_write(f->ts, f->s);
    struct pactcl_op_call c = th_call(PACTCL_OP_SE_SCALE_FWD);
    c.args[0] = f->tx;
    c.args[1] = f->ts;
    c.args[2] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, big_n(f->pc));
}

TH_TEST(se_scale_bwd)
{
    for (size_t ci = 0; ci < N_POOL_CASES; ci++) {
        const struct nchw_case *pc = &pool_cases[ci];
        struct th_rng r;
        th_rng_seed(&r, 1500 + ci);
        struct se_fd f = {.pc = pc};
        f.x = th_floats(big_n(pc));
        f.s = th_floats(small_n(pc));
        f.gup = th_floats(big_n(pc));
        f.y = th_floats(big_n(pc));
        th_fill(&r, f.x, big_n(pc), -2.0f, 2.0f);
        th_fill(&r, f.s, small_n(pc), 0.0f, 1.0f);
        th_fill(&r, f.gup, big_n(pc), -1.0f, 1.0f);
        f.tx = th_f32(BIG(pc), f.x);
        f.ts = th_f32(SMALL(pc), f.s);
        f.ty = th_f32(BIG(pc), NULL);
        th_label("se_scale_bwd N%d C%d %dx%d", pc->N, pc->C, pc->H, pc->W);

        struct pactcl_op_call c = th_call(PACTCL_OP_SE_SCALE_BWD);
        c.args[0] = f.tx;
        c.args[1] = f.ts;
        c.args[2] = th_f32(BIG(pc), f.gup);
        c.args[3] = th_f32(BIG(pc), NULL);
        c.args[4] = th_f32(SMALL(pc), NULL);
        th_run(&c);
        float *dx = th_read_f32(c.args[3]), *ds = th_read_f32(c.args[4]);
        double *dx_want = th_doubles(big_n(pc)), *ds_want = th_doubles(small_n(pc));
        ref_se_scale_bwd(pc->N, pc->C, pc->H * pc->W, f.x, f.s, f.gup, dx_want, ds_want);
        th_close("dx", dx, dx_want, big_n(pc), RTOL, ATOL);
        /* ds sums H*W products. */
        th_close("ds", ds, ds_want, small_n(pc), RTOL, th_sum_atol((size_t)pc->H * pc->W));
        th_gradcheck("dL/dx", se_loss, &f, f.x, big_n(pc), dx, 16, FD_H, FD_RTOL, FD_ATOL);
        th_gradcheck("dL/ds", se_loss, &f, f.s, small_n(pc), ds, 16, FD_H, FD_RTOL, FD_ATOL);
    }
}

/* ---- add ------------------------------------------------------------------------------------ */

/* y = a + b, also with y aliasing a and aliasing b (the residual add writes in
 * place). */
TH_TEST(add)
{
    const struct th_shape s = TH_SHAPE(3, 5, 7, 7);
    const size_t n = th_numel(s);
    struct th_rng r;
    th_rng_seed(&r, 1600);
    float *a = th_floats(n), *b = th_floats(n);
    th_fill(&r, a, n, -3.0f, 3.0f);
    th_fill(&r, b, n, -3.0f, 3.0f);
    double *want = th_doubles(n);
    ref_add(n, a, b, want);
    th_label("add");

    for (int alias = 0; alias < 3; alias++) {
        struct pactcl_op_call c = th_call(PACTCL_OP_ADD);
        c.args[0] = th_f32(s, a);
        c.args[1] = th_f32(s, b);
        c.args[2] = alias == 0 ? th_f32(s, NULL) : c.args[alias - 1];
        th_run(&c);
        static const char *const what[] = {"y", "y aliasing a", "y aliasing b"};
        th_close(what[alias], th_read_f32(c.args[2]), want, n, RTOL, ATOL);
    }
}

/* ---- dropout ------------------------------------------------------------------------------- */

struct dropout_case {
    struct th_shape shape;
    float p;
    uint64_t seed;
};

/* Both halves of the 64-bit seed matter; p = 0 keeps everything. */
static const struct dropout_case dropout_cases[] = {
    {{4, {3, 5, 7, 7}}, 0.2f, 0x0123456789abcdefULL},
    {{2, {5, 1000}}, 0.2f, 42},
    {{1, {13}}, 0.5f, 0xfedcba9876543210ULL},
    {{2, {7, 11}}, 0.0f, 7},
};
#define N_DROPOUT_CASES (sizeof dropout_cases / sizeof dropout_cases[0])

static struct pactcl_op_call dropout_call(enum pactcl_op op, const struct dropout_case *dc)
{
    struct pactcl_op_call c = th_call(op);
    c.params.dropout.p = dc->p;
    c.params.dropout.seed = dc->seed;
    return c;
}

TH_TEST(dropout_fwd)
{
    for (size_t ci = 0; ci < N_DROPOUT_CASES; ci++) {
        const struct dropout_case *dc = &dropout_cases[ci];
        const size_t n = th_numel(dc->shape);
        struct th_rng r;
        th_rng_seed(&r, 1700 + ci);
        float *x = th_floats(n);
        th_fill(&r, x, n, -2.0f, 2.0f);
        th_label("dropout_fwd %zu elements p %g seed %#llx", n, (double)dc->p,
                 (unsigned long long)dc->seed);
        struct pactcl_op_call c = dropout_call(PACTCL_OP_DROPOUT_FWD, dc);
        c.args[0] = th_f32(dc->shape, x);
        c.args[1] = th_f32(dc->shape, NULL);
        c.args[2] = th_tensor(PACTCL_U8, dc->shape, NULL);
        th_run(&c);
        double *want = th_doubles(n);
        uint8_t *keep = th_alloc(n), *mask = th_alloc(n);
        ref_dropout_fwd(n, x, dc->p, dc->seed, want, keep);
        th_read(c.args[2], mask);
        for (size_t i = 0; i < n; i++)
            mask[i] = mask[i] != 0; /* the header only asks for zero / non-zero */
        th_equal_u8("mask", mask, keep, n);
        th_close("y", th_read_f32(c.args[1]), want, n, RTOL, ATOL);
    }
}

struct dropout_fd {
    const struct dropout_case *dc;
    size_t n;
    float *x, *gup, *y;
    struct pactcl_tensor *tx, *ty, *tmask;
};

static double dropout_loss(void *vctx)
{
    struct dropout_fd *f = vctx;
    th_write(f->tx, f->x);
    struct pactcl_op_call c = dropout_call(PACTCL_OP_DROPOUT_FWD, f->dc);
    c.args[0] = f->tx;
    c.args[1] = f->ty;
    c.args[2] = f->tmask;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, f->n);
}

TH_TEST(dropout_bwd)
{
    for (size_t ci = 0; ci < N_DROPOUT_CASES; ci++) {
        const struct dropout_case *dc = &dropout_cases[ci];
        const size_t n = th_numel(dc->shape);
        struct th_rng r;
        th_rng_seed(&r, 1800 + ci);
        struct dropout_fd f = {.dc = dc, .n = n};
        f.x = th_floats(n);
        f.gup = th_floats(n);
        f.y = th_floats(n);
        th_fill(&r, f.x, n, -2.0f, 2.0f);
        th_fill(&r, f.gup, n, -1.0f, 1.0f);
        f.tx = th_f32(dc->shape, f.x);
        f.ty = th_f32(dc->shape, NULL);
        f.tmask = th_tensor(PACTCL_U8, dc->shape, NULL);
        th_label("dropout_bwd %zu elements p %g", n, (double)dc->p);

        /* Against the reference with the reference's own mask. */
        double *yd = th_doubles(n);
        uint8_t *keep = th_alloc(n);
        ref_dropout_fwd(n, f.x, dc->p, dc->seed, yd, keep);
        struct pactcl_op_call c = dropout_call(PACTCL_OP_DROPOUT_BWD, dc);
        c.args[0] = th_f32(dc->shape, f.gup);
        c.args[1] = th_tensor(PACTCL_U8, dc->shape, keep);
        c.args[2] = th_f32(dc->shape, NULL);
        th_run(&c);
        double *want = th_doubles(n);
        ref_dropout_bwd(n, f.gup, keep, dc->p, want);
        th_close("dx", th_read_f32(c.args[2]), want, n, RTOL, ATOL);

        /* Against central differences, with the mask the device's forward drew. */
        dropout_loss(&f);
        c.args[1] = f.tmask;
        th_run(&c);
        th_gradcheck("dL/dx", dropout_loss, &f, f.x, n, th_read_f32(c.args[2]), 16, FD_H, FD_RTOL,
                     FD_ATOL);
    }
}

void ops_elementwise_register(TCase *tc, int dev)
{
    TH_ADD(tc, relu_fwd, dev);
    TH_ADD(tc, relu_bwd, dev);
    TH_ADD(tc, hardswish_fwd, dev);
    TH_ADD(tc, hardswish_bwd, dev);
    TH_ADD(tc, hardsigmoid_fwd, dev);
    TH_ADD(tc, hardsigmoid_bwd, dev);
    TH_ADD(tc, activation_kinks_by_hand, dev);
    TH_ADD(tc, avgpool_fwd, dev);
    TH_ADD(tc, avgpool_bwd, dev);
    TH_ADD(tc, se_scale_fwd, dev);
    TH_ADD(tc, se_scale_bwd, dev);
    TH_ADD(tc, add, dev);
    TH_ADD(tc, dropout_fwd, dev);
    TH_ADD(tc, dropout_bwd, dev);
}
