/*
 * test_ops_quant.c: PACT, channel-wise and moving-average fake quant, the
 * output observer and the SGD momentum update.  The fake-quant expectations
 * are worked out by hand in the comments (SEED-SPEC 3.5), not with any code
 * under test.
 */
#include <math.h>

#include "naive_ref.h"
#include "op_harness.h"

#define RTOL 1e-4
#define ATOL 1e-5

/* Quantized values are a handful of fp32 operations: hand values are held to
 * rtol 1e-6 (a few ulp), enough to catch a wrong level (>= 1/127 relative). */
#define Q_RTOL 1e-6

/* ---- PACT ------------------------------------------------------------------------ */

static struct pactcl_tensor *scalar(float v)
{
    return th_f32(TH_SHAPE(1), &v);
}

static float read_scalar(const struct pactcl_tensor *t)
{
    float v;
    th_read(t, &v);
    return v;
}

/* x in [-3, 3] around alpha 1.5, with points exactly on +-alpha (not clipped:
 * the masks are strict) and far outside. */
static void fill_pact_input(struct th_rng *r, float *x, size_t n)
{
    static const float special[] = {1.5f, -1.5f, 0.0f, 100.0f, -100.0f, 1.5000001f, -1.5000001f};
    th_fill(r, x, n, -3.0f, 3.0f);
    for (size_t i = 0; i < sizeof special / sizeof special[0] && i < n; i++)
        x[i] = special[i];
}

TH_TEST(pact_fwd)
{
    static const struct {
        struct th_shape s;
        float alpha;
    } cases[] = {{{4, {3, 5, 7, 7}}, 1.5f}, {{2, {13, 11}}, 100.0f}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const size_t n = th_numel(cases[ci].s);
        struct th_rng r;
        th_rng_seed(&r, 3000 + ci);
        float *x = th_floats(n);
        fill_pact_input(&r, x, n);
        th_label("pact_fwd %zu elements alpha %g", n, (double)cases[ci].alpha);
        struct pactcl_op_call c = th_call(PACTCL_OP_PACT_FWD);
        c.args[0] = th_f32(cases[ci].s, x);
        c.args[1] = scalar(cases[ci].alpha);
        c.args[2] = th_f32(cases[ci].s, NULL);
        th_run(&c);
        double *want = th_doubles(n);
        ref_pact_fwd(n, x, cases[ci].alpha, want);
        th_close("y", th_read_f32(c.args[2]), want, n, RTOL, ATOL);
    }
}

TH_TEST(pact_bwd)
{
    const struct th_shape s = TH_SHAPE(3, 5, 7, 7);
    const size_t n = th_numel(s);
    const float alpha = 1.5f;
    struct th_rng r;
    th_rng_seed(&r, 3100);
    float *x = th_floats(n), *dy = th_floats(n);
    fill_pact_input(&r, x, n);
    th_fill(&r, dy, n, -1.0f, 1.0f);
    th_label("pact_bwd %zu elements", n);
    struct pactcl_op_call c = th_call(PACTCL_OP_PACT_BWD);
    c.args[0] = th_f32(s, x);
    c.args[1] = scalar(alpha);
    c.args[2] = th_f32(s, dy);
    c.args[3] = th_f32(s, NULL);
    c.args[4] = scalar(123.0f); /* must be overwritten, not accumulated */
    th_run(&c);
    double *dx = th_doubles(n), dalpha;
    ref_pact_bwd(n, x, alpha, dy, dx, &dalpha);
    th_close("dx", th_read_f32(c.args[3]), dx, n, RTOL, ATOL);
    th_close1("dalpha", read_scalar(c.args[4]), dalpha, RTOL, th_sum_atol(n));
}

struct pact_fd {
    size_t n;
    float *x, *alpha, *gup, *y;
    struct pactcl_tensor *tx, *talpha, *ty;
};

static double pact_loss(void *vctx)
{
    struct pact_fd *f = vctx;
    th_write(f->tx, f->x);
    th_write(f->talpha, f->alpha);
    struct pactcl_op_call c = th_call(PACTCL_OP_PACT_FWD);
    c.args[0] = f->tx;
    c.args[1] = f->talpha;
    c.args[2] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, f->n);
}

/* Every point is kept more than 2h from +-alpha, so moving x_i or alpha by h
 * never crosses a clip edge and the forward is linear over the step. */
TH_TEST(pact_gradcheck)
{
    const struct th_shape s = TH_SHAPE(3, 5, 7, 7);
    const size_t n = th_numel(s);
    const float h = 1e-2f;
    struct th_rng r;
    th_rng_seed(&r, 3200);
    float alpha = 1.5f;
    struct pact_fd f = {.n = n, .alpha = &alpha};
    f.x = th_floats(n);
    f.gup = th_floats(n);
    f.y = th_floats(n);
    th_fill(&r, f.x, n, -3.0f, 3.0f);
    for (size_t i = 0; i < n; i++)
        if (fabsf(fabsf(f.x[i]) - alpha) <= 3.0f * h)
            f.x[i] += f.x[i] >= 0 ? 6.0f * h : -6.0f * h;
    th_fill(&r, f.gup, n, -1.0f, 1.0f);
    f.tx = th_f32(s, f.x);
    f.talpha = scalar(alpha);
    f.ty = th_f32(s, NULL);
    th_label("pact gradcheck");

    struct pactcl_op_call c = th_call(PACTCL_OP_PACT_BWD);
    c.args[0] = f.tx;
    c.args[1] = f.talpha;
    c.args[2] = th_f32(s, f.gup);
    c.args[3] = th_f32(s, NULL);
    c.args[4] = th_f32(TH_SHAPE(1), NULL);
    th_run(&c);
    float *dx = th_read_f32(c.args[3]);
    float dalpha = read_scalar(c.args[4]);
    th_gradcheck("dL/dx", pact_loss, &f, f.x, n, dx, 32, h, 1e-2, 1e-3);
    th_gradcheck("dL/dalpha", pact_loss, &f, f.alpha, 1, &dalpha, 1, h, 1e-2, 0.0);
}

/* ---- channel-wise fake quant -------------------------------------------------------------- */

static struct pactcl_op_call fq_call(enum pactcl_op op, int bits, int axis)
{
    struct pactcl_op_call c = th_call(op);
    c.params.fake_quant.bits = bits;
    c.params.fake_quant.axis = axis;
    c.params.fake_quant.moving_rate = 0.9f;
    return c;
}

/* Runs FQ_CHANNEL_FWD and checks wq and the scales against hand values. */
static void check_fq_channel(const char *what, struct th_shape s, int axis, int bits,
                             const float *w, const double *wq_want, const double *scale_want)
{
    const size_t n = th_numel(s), C = (size_t)s.d[axis];
    th_label("fq_channel_fwd %s", what);
    struct pactcl_op_call c = fq_call(PACTCL_OP_FQ_CHANNEL_FWD, bits, axis);
    c.args[0] = th_f32(s, w);
    c.args[1] = th_f32(s, NULL);
    c.args[2] = th_f32(TH_SHAPE(s.d[axis]), NULL);
    th_run(&c);
    th_close("wq", th_read_f32(c.args[1]), wq_want, n, Q_RTOL, 0);
    th_close("scale", th_read_f32(c.args[2]), scale_want, C, 0, 0);
}

/*
 * 8 bits (bin 127), axis 0 of a [3,2,2,2] conv weight.
 * Channel 0 (max 127): s = 127, inv = 1/127 and 127*inv rounds to exactly
 *   1.0f, so q = round(x) half away from zero: 127 -> 127, 2.5 -> 3,
 *   -2.5 -> -3, 0.5 -> 1, -0.5 -> -1, 1.49 -> 1, -126.5 -> -127, 0 -> 0;
 *   wq = q*127/127 = q.  (Banker's rounding would give 2, -2, 0, 0, -126.)
 * Channel 1 (all zero): s = 0 <= 1e-30, inv = 1/(0+1e-6) = 1e6, q = 0,
 *   wq = 0*0/127 = 0 and no NaN (1/0 * 0 would be NaN).
 * Channel 2 (max 2): 127*inv = 63.5 exactly: -2 -> -127 -> -2;
 *   1 -> 63.5 -> 64 -> 64*2/127 = 1.007874016; -1 -> -1.007874016;
 *   0.3 -> 19.05 -> 19 -> 0.299212598; 0.01 -> 0.635 -> 1 -> 0.015748031;
 *   0.007 -> 0.4445 -> 0; 1.5 -> 95.25 -> 95 -> 1.496062992;
 *   -0.5 -> -31.75 -> -32 -> -0.503937008.
 * scale = {127, 0, 2}.
 */
TH_TEST(fq_channel_axis0_by_hand)
{
    /* clang-format off */
    const float w[24] = { 127, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f, -126.5f, 0,
                          0, 0, 0, 0, 0, 0, 0, 0,
                          -2, 1, -1, 0.3f, 0.01f, 0.007f, 1.5f, -0.5f };
    const double wq[24] = { 127, 3, -3, 1, -1, 1, -127, 0,
                            0, 0, 0, 0, 0, 0, 0, 0,
                            -2, 1.007874016, -1.007874016, 0.299212598, 0.015748031, 0,
                            1.496062992, -0.503937008 };
    /* clang-format on */
    const double scale[3] = {127, 0, 2};
    check_fq_channel("axis 0 [3,2,2,2] 8 bits", TH_SHAPE(3, 2, 2, 2), 0, 8, w, wq, scale);
}

/*
 * 8 bits, axis 1 of a [4,3] Linear weight ([in,out]): one scale per column.
 * Column 0 = 1, -0.5, 0.25, 0.3: s = 1, 127*inv = 127: 1 -> 1;
 *   -0.5 -> -63.5 -> -64 -> -0.503937008; 0.25 -> 31.75 -> 32 -> 0.251968504;
 *   0.3 -> 38.1 -> 38 -> 0.299212598.
 * Column 1 = -4, 2, 1, 0.02: s = 4, 127*inv = 31.75: -4 -> -127 -> -4;
 *   2 -> 63.5 -> 64 -> 64*4/127 = 2.015748031; 1 -> 31.75 -> 32 -> 1.007874016;
 *   0.02 -> 0.635 -> 1 -> 0.031496063.
 * Column 2 = 0: s = 0, wq = 0.
 * scale = {1, 4, 0}.  Per-row scales would quantize column 0 with s = 4.
 */
TH_TEST(fq_channel_axis1_by_hand)
{
    const float w[12] = {1, -4, 0, -0.5f, 2, 0, 0.25f, 1, 0, 0.3f, 0.02f, 0};
    const double wq[12] = {1,           -4,          0, -0.503937008, 2.015748031, 0,
                           0.251968504, 1.007874016, 0, 0.299212598,  0.031496063, 0};
    const double scale[3] = {1, 4, 0};
    check_fq_channel("axis 1 [4,3] 8 bits", TH_SHAPE(4, 3), 1, 8, w, wq, scale);
}

/*
 * 4 bits: bin = 2^3 - 1 = 7, axis 0 of [2,1,1,4].
 * Channel 0 = 1, 0.5, -0.5, 0.2: s = 1, 7*inv = 7: 1 -> 7 -> 1;
 *   0.5 -> 3.5 -> 4 -> 4/7 = 0.571428571; -0.5 -> -0.571428571;
 *   0.2 -> 1.4 -> 1 -> 0.142857143.
 * Channel 1 = -0.9, 0.3, 0.05, -0.6: s = 0.9, 7*inv = 7.777778:
 *   -0.9 -> -7 -> -0.9; 0.3 -> 2.333 -> 2 -> 2*0.9/7 = 0.257142857;
 *   0.05 -> 0.389 -> 0; -0.6 -> -4.667 -> -5 -> -0.642857143.
 */
TH_TEST(fq_channel_4bit_by_hand)
{
    const float w[8] = {1, 0.5f, -0.5f, 0.2f, -0.9f, 0.3f, 0.05f, -0.6f};
    const double wq[8] = {1,           0.571428571, -0.571428571, 0.142857143, -0.9,
                          0.257142857, 0,           -0.642857143};
    const double scale[2] = {1, 0.9f};
    check_fq_channel("axis 0 [2,1,1,4] 4 bits", TH_SHAPE(2, 1, 1, 4), 0, 4, w, wq, scale);
}

/* Random weights against the float-order reference; an element that sits on a
 * rounding boundary (to 1e-4) may land one level away. */
TH_TEST(fq_channel_fwd)
{
    static const struct {
        struct th_shape s;
        int axis, bits;
    } cases[] = {
        {{4, {13, 5, 3, 3}}, 0, 8}, {{4, {16, 1, 5, 5}}, 0, 4},  {{2, {37, 11}}, 1, 8},
        {{2, {37, 11}}, 0, 2},      {{4, {40, 24, 1, 1}}, 0, 8}, {{4, {5, 7, 3, 3}}, 1, 8},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const struct th_shape s = cases[ci].s;
        const int axis = cases[ci].axis, bits = cases[ci].bits;
        const size_t n = th_numel(s), C = (size_t)s.d[axis];
        struct th_rng r;
        th_rng_seed(&r, 3300 + ci);
        float *w = th_floats(n);
        th_fill(&r, w, n, -1.0f, 1.0f);
        /* Different magnitudes per channel, and channel 1 all zero. */
        size_t inner = 1;
        for (int d = axis + 1; d < s.ndim; d++)
            inner *= (size_t)s.d[d];
        for (size_t i = 0; i < n; i++) {
            size_t c = (i / inner) % C;
            w[i] *= c == 1 ? 0.0f : 0.05f * (float)(c + 1);
        }
        th_label("fq_channel_fwd [%lld,%lld,...] axis %d bits %d", (long long)s.d[0],
                 (long long)s.d[1], axis, bits);
        struct pactcl_op_call c = fq_call(PACTCL_OP_FQ_CHANNEL_FWD, bits, axis);
        c.args[0] = th_f32(s, w);
        c.args[1] = th_f32(s, NULL);
        c.args[2] = th_f32(TH_SHAPE((int64_t)C), NULL);
        th_run(&c);
        double *wq = th_doubles(n), *scale = th_doubles(C), *step = th_doubles(n);
        uint8_t *tie = th_alloc(n);
        ref_fq_channel_fwd(w, s.ndim, s.d, axis, bits, wq, scale, tie);
        for (size_t i = 0; i < n; i++)
            step[i] = scale[(i / inner) % C] / ref_bin(bits);
        th_close_quant("wq", th_read_f32(c.args[1]), wq, tie, step, n, Q_RTOL);
        th_close("scale", th_read_f32(c.args[2]), scale, C, 0, 0);
    }
}

/* ---- moving-average fake quant and the observer ------------------------------------------- */

struct ma_state {
    struct pactcl_tensor *scale, *state, *accum;
};

static struct ma_state ma_state_new(float scale, float state, float accum)
{
    struct ma_state m = {scalar(scale), scalar(state), scalar(accum)};
    return m;
}

static void check_ma_state(const struct ma_state *m, double scale, double state, double accum,
                           double rtol)
{
    th_close1("scale", read_scalar(m->scale), scale, rtol, 1e-7);
    th_close1("state", read_scalar(m->state), state, rtol, 1e-7);
    th_close1("accum", read_scalar(m->accum), accum, rtol, 1e-7);
}

static float *run_fq_ma(const struct ma_state *m, const float *x, int64_t n, int bits, float rate,
                        int is_test)
{
    struct pactcl_op_call c = fq_call(PACTCL_OP_FQ_MOVING_AVG_FWD, bits, 0);
    c.params.fake_quant.moving_rate = rate;
    c.params.fake_quant.is_test = is_test;
    c.args[0] = th_f32(TH_SHAPE(n), x);
    c.args[1] = m->scale;
    c.args[2] = m->state;
    c.args[3] = m->accum;
    c.args[4] = th_f32(TH_SHAPE(n), NULL);
    th_run(&c);
    return th_read_f32(c.args[4]);
}

/*
 * Training, rate 0.9, from Paddle's initial buffers (scale 0.001, state 1,
 * accum 1); cur = max|x| of each step:
 *   step 1, cur 2:   state = 0.9*1 + 1 = 1.9;       accum = 0.9*1 + 2 = 2.9;
 *                    scale = 2.9/1.9 = 1.526315789  (= (0.9 + cur)/1.9)
 *   step 2, cur 1:   state = 0.9*1.9 + 1 = 2.71;    accum = 0.9*2.9 + 1 = 3.61;
 *                    scale = 3.61/2.71 = 1.332103321
 *   step 3, cur 4:   state = 0.9*2.71 + 1 = 3.439;  accum = 0.9*3.61 + 4 = 7.249;
 *                    scale = 7.249/3.439 = 2.107880198
 *   step 4, cur 0.5: state = 0.9*3.439 + 1 = 4.0951; accum = 0.9*7.249 + 0.5 = 7.0241;
 *                    scale = 7.0241/4.0951 = 1.715245049
 * Output of step 1 with the NEW scale s = 1.526315789, 127/s = 83.2069:
 *   0.5 -> 41.60 -> 42 -> 42*s/127 = 0.504765852; -2 is clipped to -s -> -127
 *   -> -1.526315789; 1 -> 83.21 -> 83 -> 0.997513469; 0.25 -> 20.80 -> 21
 *   -> 0.252382926.
 */
TH_TEST(fq_moving_avg_by_hand)
{
    const float x[4][4] = {{0.5f, -2.0f, 1.0f, 0.25f},
                           {1.0f, -0.5f, 0.25f, 0.0f},
                           {-4.0f, 2.0f, 1.0f, 3.0f},
                           {0.5f, -0.25f, 0.125f, 0.0f}};
    const double want[4][3] = {{1.526315789, 1.9, 2.9},
                               {1.332103321, 2.71, 3.61},
                               {2.107880198, 3.439, 7.249},
                               {1.715245049, 4.0951, 7.0241}};
    const double y1[4] = {0.504765852, -1.526315789, 0.997513469, 0.252382926};
    struct ma_state m = ma_state_new(0.001f, 1.0f, 1.0f);
    for (int step = 0; step < 4; step++) {
        th_label("fq_moving_avg_fwd by hand, step %d", step + 1);
        float *y = run_fq_ma(&m, x[step], 4, 8, 0.9f, 0);
        /* Four fp32 recurrences: a few ulp each. */
        check_ma_state(&m, want[step][0], want[step][1], want[step][2], 1e-5);
        if (step == 0)
            th_close("y", y, y1, 4, 1e-5, 1e-7);
    }
}

/*
 * is_test: the stored scale 2 is used as is and nothing is updated.
 * 127*inv(2) = 63.5: 5 -> clipped to 2 -> 127 -> 2; -7 -> -2; 1 -> 63.5 -> 64
 * -> 1.007874016; 0.3 -> 19.05 -> 19 -> 0.299212598; -1 -> -1.007874016;
 * 0.01 -> 0.635 -> 1 -> 0.015748031.  scale/state/accum stay 2, 5, 7.
 */
TH_TEST(fq_moving_avg_is_test_by_hand)
{
    const float x[6] = {5, -7, 1, 0.3f, -1, 0.01f};
    const double want[6] = {2, -2, 1.007874016, 0.299212598, -1.007874016, 0.015748031};
    struct ma_state m = ma_state_new(2.0f, 5.0f, 7.0f);
    th_label("fq_moving_avg_fwd is_test by hand");
    float *y = run_fq_ma(&m, x, 6, 8, 0.9f, 1);
    th_close("y", y, want, 6, Q_RTOL, 0);
    check_ma_state(&m, 2.0, 5.0, 7.0, 0);
}

/* Random activations over two training steps (the second with 5 bits and rate
 * 0.5, so that ignoring either parameter fails) and one test step, against
 * the reference state update; y is checked with the scale the device
 * produced, so that a last-ulp difference in the scale cannot move a
 * rounding tie. */
TH_TEST(fq_moving_avg_fwd)
{
    const int64_t n = 3 * 5 * 7 * 7;
    struct th_rng r;
    th_rng_seed(&r, 3400);
    float *x = th_floats((size_t)n);
    double scale = 0.001, state = 1, accum = 1;
    struct ma_state m = ma_state_new(0.001f, 1.0f, 1.0f);
    for (int step = 0; step < 3; step++) {
        const int is_test = step == 2, bits = step == 1 ? 5 : 8;
        const float rate = step == 1 ? 0.5f : 0.9f;
        th_fill(&r, x, (size_t)n, -3.0f / (float)(step + 1), 3.0f / (float)(step + 1));
        th_label("fq_moving_avg_fwd %lld elements, step %d%s, %d bits", (long long)n, step + 1,
                 is_test ? " (is_test)" : "", bits);
        float *y = run_fq_ma(&m, x, n, bits, rate, is_test);
        if (!is_test)
            ref_ma_update((size_t)n, x, rate, &scale, &state, &accum);
        check_ma_state(&m, scale, state, accum, 1e-5);
        float s = read_scalar(m.scale);
        double *want = th_doubles((size_t)n), *step_size = th_doubles((size_t)n);
        uint8_t *tie = th_alloc((size_t)n);
        for (int64_t i = 0; i < n; i++) {
            int t;
            want[i] = ref_qdq(x[i], s, ref_bin(bits), &t);
            tie[i] = (uint8_t)t;
            step_size[i] = (double)s / ref_bin(bits);
        }
        th_close_quant("y", y, want, tie, step_size, (size_t)n, Q_RTOL);
    }
}

/*
 * The output observer starts from zeros, so its first scale is cur itself:
 *   x = 1, -3.5, 2: state = 0.9*0 + 1 = 1, accum = 0.9*0 + 3.5 = 3.5,
 *   scale = 3.5;  then x = 0.5, -1: state = 1.9, accum = 0.9*3.5 + 1 = 4.15,
 *   scale = 4.15/1.9 = 2.184210526.  x itself is never modified.
 */
TH_TEST(ma_observe_by_hand)
{
    const float x1[3] = {1, -3.5f, 2}, x2[2] = {0.5f, -1};
    struct ma_state m = ma_state_new(0, 0, 0);
    th_label("ma_observe by hand");
    struct pactcl_op_call c = fq_call(PACTCL_OP_MA_OBSERVE, 8, 0);
    c.args[0] = th_f32(TH_SHAPE(3), x1);
    c.args[1] = m.scale;
    c.args[2] = m.state;
    c.args[3] = m.accum;
    th_run(&c);
    check_ma_state(&m, 3.5, 1, 3.5, 1e-6);
    th_close("x untouched", th_read_f32(c.args[0]), th_to_double(x1, 3), 3, 0, 0);
    c.args[0] = th_f32(TH_SHAPE(2), x2);
    th_run(&c);
    check_ma_state(&m, 2.184210526, 1.9, 4.15, 1e-6);
}

/* Rate 0.8 here, the model's 0.9 in the hand test. */
TH_TEST(ma_observe)
{
    const struct th_shape s = TH_SHAPE(3, 13, 7, 7);
    const size_t n = th_numel(s);
    struct th_rng r;
    th_rng_seed(&r, 3500);
    float *x = th_floats(n);
    double scale = 0, state = 0, accum = 0;
    struct ma_state m = ma_state_new(0, 0, 0);
    for (int step = 0; step < 3; step++) {
        th_fill(&r, x, n, -1.0f - (float)step, 2.0f);
        th_label("ma_observe %zu elements, step %d", n, step + 1);
        struct pactcl_op_call c = fq_call(PACTCL_OP_MA_OBSERVE, 8, 0);
        c.params.fake_quant.moving_rate = 0.8f;
        c.args[0] = th_f32(s, x);
        c.args[1] = m.scale;
        c.args[2] = m.state;
        c.args[3] = m.accum;
        th_run(&c);
        ref_ma_update(n, x, 0.8f, &scale, &state, &accum);
        check_ma_state(&m, scale, state, accum, 1e-5);
        th_close("x untouched", th_read_f32(c.args[0]), th_to_double(x, n), n, 0, 0);
    }
}

/* ---- SGD momentum ---------------------------------------------------------------------------- */

static void run_sgd(struct pactcl_tensor *param, const float *grad, struct pactcl_tensor *vel,
                    float lr, float lr_mult, float momentum, float l2)
{
    struct pactcl_op_call c = th_call(PACTCL_OP_SGD_MOMENTUM);
    c.params.sgd.lr = lr;
    c.params.sgd.lr_mult = lr_mult;
    c.params.sgd.momentum = momentum;
    c.params.sgd.l2_decay = l2;
    c.args[0] = param;
    c.args[1] = th_f32(TH_SHAPE(param->dims[0]), grad);
    c.args[2] = vel;
    th_run(&c);
}

/*
 * A weight: p = {1, -2}, grad {0.5, 0.1} every step, lr 0.1, lr_mult 1,
 * momentum 0.9, l2 0.01; g' = g + 0.01 p, v = 0.9 v + g', p -= 0.1 v:
 *   1: g' = 0.51, 0.08;             v = 0.51, 0.08;          p = 0.949, -2.008
 *   2: g' = 0.50949, 0.07992;       v = 0.96849, 0.15192;    p = 0.852151, -2.023192
 *   3: g' = 0.50852151, 0.07976808; v = 1.38016251, 0.21649608;
 *                                   p = 0.714134749, -2.044841608
 * PACT alpha: p = 100, lr 0.001 with lr_mult 1000 (step 1.0), momentum 0.9,
 * l2 1e-4, grads 2, -1, 0.5:
 *   1: g' = 2 + 0.01 = 2.01;                v = 2.01;        p = 97.99
 *   2: g' = -1 + 0.009799 = -0.990201;      v = 1.809 - 0.990201 = 0.818799;
 *                                           p = 97.171201
 *   3: g' = 0.5 + 0.0097171201 = 0.5097171201; v = 0.7369191 + 0.5097171201
 *      = 1.2466362201;                      p = 95.9245647799
 */
TH_TEST(sgd_momentum_by_hand)
{
    const float p0[2] = {1, -2}, g[2] = {0.5f, 0.1f};
    const double p_want[3][2] = {
        {0.949, -2.008}, {0.852151, -2.023192}, {0.714134749, -2.044841608}};
    const double v_want[3][2] = {{0.51, 0.08}, {0.96849, 0.15192}, {1.38016251, 0.21649608}};
    struct pactcl_tensor *p = th_f32(TH_SHAPE(2), p0), *v = th_f32(TH_SHAPE(2), NULL);
    for (int step = 0; step < 3; step++) {
        th_label("sgd_momentum by hand, weight step %d", step + 1);
        run_sgd(p, g, v, 0.1f, 1.0f, 0.9f, 0.01f);
        /* fp32 updates of O(1) values: a few ulp. */
        th_close("param", th_read_f32(p), p_want[step], 2, 2e-6, 1e-7);
        th_close("velocity", th_read_f32(v), v_want[step], 2, 2e-6, 1e-7);
    }

    const float alpha0 = 100, ga[3] = {2, -1, 0.5f};
    const double a_want[3] = {97.99, 97.171201, 95.9245647799};
    const double va_want[3] = {2.01, 0.818799, 1.2466362201};
    struct pactcl_tensor *a = scalar(alpha0), *va = scalar(0);
    for (int step = 0; step < 3; step++) {
        th_label("sgd_momentum by hand, PACT alpha (lr_mult 1000) step %d", step + 1);
        run_sgd(a, &ga[step], va, 0.001f, 1000.0f, 0.9f, 1e-4f);
        th_close1("alpha", read_scalar(a), a_want[step], 2e-6, 1e-7);
        th_close1("velocity", read_scalar(va), va_want[step], 2e-6, 1e-7);
    }
}

TH_TEST(sgd_momentum)
{
    static const struct {
        float lr, lr_mult, momentum, l2;
    } cases[] = {
        {0.01f, 1.0f, 0.9f, 1e-4f}, {0.001f, 1000.0f, 0.9f, 1e-4f}, {0.5f, 1.0f, 0.0f, 0.0f}};
    const size_t n = 3 * 5 * 7 * 7;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        struct th_rng r;
        th_rng_seed(&r, 3600 + ci);
        float *p = th_floats(n), *g = th_floats(n), *v = th_floats(n);
        th_fill(&r, p, n, -1.0f, 1.0f);
        th_fill(&r, g, n, -1.0f, 1.0f);
        th_fill(&r, v, n, -0.5f, 0.5f);
        th_label("sgd_momentum %zu elements lr %g lr_mult %g momentum %g l2 %g", n,
                 (double)cases[ci].lr, (double)cases[ci].lr_mult, (double)cases[ci].momentum,
                 (double)cases[ci].l2);
        struct pactcl_tensor *tp = th_f32(TH_SHAPE((int64_t)n), p);
        struct pactcl_tensor *tv = th_f32(TH_SHAPE((int64_t)n), v);
        run_sgd(tp, g, tv, cases[ci].lr, cases[ci].lr_mult, cases[ci].momentum, cases[ci].l2);
        double *pd = th_to_double(p, n), *vd = th_to_double(v, n);
        ref_sgd_momentum(n, pd, g, vd, cases[ci].lr, cases[ci].lr_mult, cases[ci].momentum,
                         cases[ci].l2);
        /* Elementwise, a few fp32 operations: tighter than the default, since a
         * wrong lr (e.g. lr_mult ignored) changes p by only lr*v. */
        th_close("param", th_read_f32(tp), pd, n, 1e-6, 1e-6);
        th_close("velocity", th_read_f32(tv), vd, n, 1e-6, 1e-6);
    }
}

void ops_quant_register(TCase *tc, int dev)
{
    TH_ADD(tc, pact_fwd, dev);
    TH_ADD(tc, pact_bwd, dev);
    TH_ADD(tc, pact_gradcheck, dev);
    TH_ADD(tc, fq_channel_axis0_by_hand, dev);
    TH_ADD(tc, fq_channel_axis1_by_hand, dev);
    TH_ADD(tc, fq_channel_4bit_by_hand, dev);
    TH_ADD(tc, fq_channel_fwd, dev);
    TH_ADD(tc, fq_moving_avg_by_hand, dev);
    TH_ADD(tc, fq_moving_avg_is_test_by_hand, dev);
    TH_ADD(tc, fq_moving_avg_fwd, dev);
    TH_ADD(tc, ma_observe_by_hand, dev);
    TH_ADD(tc, ma_observe, dev);
    TH_ADD(tc, sgd_momentum_by_hand, dev);
    TH_ADD(tc, sgd_momentum, dev);
}
