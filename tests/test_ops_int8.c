/*
 * test_ops_int8.c: the int8 inference ops against exact integer references
 * written here: quantization by the fake-quant formula (hand-worked ties,
 * clipping, the tiny-scale rule, 4 bits), and int8 x int8 -> int32
 * convolutions, depthwise convolutions and GEMMs with per-channel float
 * requantization and the fused activation.
 */
#include <math.h>
#include <stdint.h>

#include "naive_ref.h"
#include "op_harness.h"

static struct pactcl_tensor *th_i8(struct th_shape s, const int8_t *host)
{
    return th_tensor(PACTCL_I8, s, host);
}

static void rand_i8(struct th_rng *r, int8_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (int8_t)((int)(th_rng_u32(r) % 255u) - 127);
}

static double act_ref(double v, int act)
{
    if (act == PACTCL_INT8_ACT_RELU)
        return v > 0 ? v : 0;
    if (act == PACTCL_INT8_ACT_HARDSWISH)
        return v * fmin(fmax(v + 3, 0), 6) / 6;
    return v;
}

/* ---- quantize ------------------------------------------------------------------- */

TH_TEST(quantize_i8_hand_worked)
{
    /* bits 8, s = 127: q = round(x) with half away from zero, clipped at +-127. */
    static const float x[] = { 2.5f, -2.5f, 0.5f, -0.5f, 126.5f, 200.0f, -1000.0f, 0.49f, -0.4f };
    static const int8_t want[] = { 3, -3, 1, -1, 127, 127, -127, 0, 0 };
    const float s = 127.0f;
    struct pactcl_op_call c = th_call(PACTCL_OP_QUANTIZE_I8);
    c.params.int8.bits = 8;
    c.args[0] = th_f32(TH_SHAPE(9), x);
    c.args[1] = th_f32(TH_SHAPE(1), &s);
    c.args[2] = th_i8(TH_SHAPE(9), NULL);
    th_label("quantize_i8 bits 8");
    th_run(&c);
    int8_t got[9];
    th_read(c.args[2], got);
    th_equal_u8("q", (const uint8_t *)got, (const uint8_t *)want, 9);

    /* bits 4 (bin 7), s = 7: 3.5 -> 4, -3.5 -> -4, -100 -> -7. */
    static const float x4[] = { 3.5f, -3.5f, -100.0f, 6.6f };
    static const int8_t want4[] = { 4, -4, -7, 7 };
    const float s4 = 7.0f;
    c = th_call(PACTCL_OP_QUANTIZE_I8);
    c.params.int8.bits = 4;
    c.args[0] = th_f32(TH_SHAPE(4), x4);
    c.args[1] = th_f32(TH_SHAPE(1), &s4);
    c.args[2] = th_i8(TH_SHAPE(4), NULL);
    th_label("quantize_i8 bits 4");
    th_run(&c);
    th_read(c.args[2], got);
    th_equal_u8("q4", (const uint8_t *)got, (const uint8_t *)want4, 4);

    /* Scale 0 (a layer whose input was always 0): inv = 1/(0+1e-6), the
     * clip makes every value 0. */
    static const float xz[] = { 1.0f, -3.0f, 0.0f };
    static const int8_t wantz[] = { 0, 0, 0 };
    const float sz = 0.0f;
    c = th_call(PACTCL_OP_QUANTIZE_I8);
    c.params.int8.bits = 8;
    c.args[0] = th_f32(TH_SHAPE(3), xz);
    c.args[1] = th_f32(TH_SHAPE(1), &sz);
    c.args[2] = th_i8(TH_SHAPE(3), NULL);
    th_label("quantize_i8 scale 0");
    th_run(&c);
    th_read(c.args[2], got);
    th_equal_u8("qz", (const uint8_t *)got, (const uint8_t *)wantz, 3);
}

TH_TEST(quantize_i8_random)
{
    struct th_rng r;
    th_rng_seed(&r, 8100);
    const size_t n = 3 * 5 * 7 * 9;
    float *x = th_floats(n);
    th_fill(&r, x, n, -3.0f, 3.0f);
    const float s = 2.3f;
    struct pactcl_op_call c = th_call(PACTCL_OP_QUANTIZE_I8);
    c.params.int8.bits = 8;
    c.args[0] = th_f32(TH_SHAPE(3, 5, 7, 9), x);
    c.args[1] = th_f32(TH_SHAPE(1), &s);
    c.args[2] = th_i8(TH_SHAPE(3, 5, 7, 9), NULL);
    th_label("quantize_i8 random");
    th_run(&c);
    int8_t *got = th_alloc(n);
    th_read(c.args[2], got);
    float k = 127.0f * (1.0f / s);
    for (size_t i = 0; i < n; i++) {
        float xc = fminf(fmaxf(x[i], -s), s);
        float v = k * xc;
        /* Skip values within float noise of a .5 boundary. */
        if (fabsf(v - truncf(v) - copysignf(0.5f, v)) < 1e-4f)
            continue;
        int want = (int)roundf(v);
        if (got[i] != want) {
            th_fail("[%s] quantize_i8 element %zu: x %g got %d want %d", th_dev_id(), i, x[i], got[i], want);
            break;
        }
    }
}

/* ---- conv ------------------------------------------------------------------------ */

struct i8conv_case {
    int N, C, H, W, K, R, S, sh, sw, ph, pw, depthwise, act;
};

static const struct i8conv_case conv_cases[] = {
    { 2, 5, 7, 7, 13, 1, 1, 1, 1, 0, 0, 0, PACTCL_INT8_ACT_NONE },      /* 1x1: the direct path */
    { 1, 3, 13, 11, 16, 3, 3, 2, 2, 1, 1, 0, PACTCL_INT8_ACT_HARDSWISH }, /* the stem */
    { 3, 6, 13, 11, 7, 3, 3, 1, 1, 0, 0, 0, PACTCL_INT8_ACT_RELU },
    { 2, 9, 11, 11, 9, 3, 3, 1, 1, 1, 1, 1, PACTCL_INT8_ACT_RELU },
    { 1, 7, 13, 13, 7, 5, 5, 2, 2, 2, 2, 1, PACTCL_INT8_ACT_HARDSWISH },
    { 2, 4, 9, 8, 4, 3, 3, 2, 2, 0, 0, 1, PACTCL_INT8_ACT_NONE },
};

static void conv_ref(const struct i8conv_case *cc, int P, int Q, const int8_t *x, const int8_t *w,
                     const float *mult, const float *bias, double *y)
{
    for (int n = 0; n < cc->N; n++)
        for (int k = 0; k < cc->K; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    int64_t acc = 0;
                    int c0 = cc->depthwise ? k : 0, c1 = cc->depthwise ? k + 1 : cc->C;
                    for (int c = c0; c < c1; c++)
                        for (int r = 0; r < cc->R; r++)
                            for (int s = 0; s < cc->S; s++) {
                                int ih = p * cc->sh - cc->ph + r, iw = q * cc->sw - cc->pw + s;
                                if (ih < 0 || ih >= cc->H || iw < 0 || iw >= cc->W)
                                    continue;
                                int wc = cc->depthwise ? 0 : c;
                                int wv = w[((k * (cc->depthwise ? 1 : cc->C) + wc) * cc->R + r) * cc->S + s];
                                acc += (int64_t)x[((n * cc->C + c) * cc->H + ih) * cc->W + iw] * wv;
                            }
                    /* The requantization in float, as the op defines it. */
                    float v = (float)acc * mult[k] + bias[k];
                    y[((n * cc->K + k) * P + p) * Q + q] = act_ref(v, cc->act);
                }
}

TH_TEST(conv_i8)
{
    for (size_t ci = 0; ci < sizeof conv_cases / sizeof conv_cases[0]; ci++) {
        const struct i8conv_case *cc = &conv_cases[ci];
        int P = (cc->H + 2 * cc->ph - cc->R) / cc->sh + 1, Q = (cc->W + 2 * cc->pw - cc->S) / cc->sw + 1;
        int wc = cc->depthwise ? 1 : cc->C;
        size_t nx = (size_t)cc->N * cc->C * cc->H * cc->W, nw = (size_t)cc->K * wc * cc->R * cc->S;
        size_t ny = (size_t)cc->N * cc->K * P * Q;
        struct th_rng r;
        th_rng_seed(&r, 8200 + ci);
        int8_t *x = th_alloc(nx), *w = th_alloc(nw);
        rand_i8(&r, x, nx);
        rand_i8(&r, w, nw);
        float *mult = th_floats((size_t)cc->K), *bias = th_floats((size_t)cc->K);
        th_fill(&r, mult, (size_t)cc->K, 1e-5f, 1e-3f);
        th_fill(&r, bias, (size_t)cc->K, -1.0f, 1.0f);
        th_label("%s_i8 N%d C%d %dx%d K%d %dx%d s%d p%d act%d", cc->depthwise ? "dwconv" : "conv2d",
                 cc->N, cc->C, cc->H, cc->W, cc->K, cc->R, cc->S, cc->sh, cc->ph, cc->act);
        struct pactcl_op_call c = th_call(cc->depthwise ? PACTCL_OP_DWCONV_I8 : PACTCL_OP_CONV2D_I8);
        c.params.int8.conv = (struct pactcl_conv_params){ cc->sh, cc->sw, cc->ph, cc->pw };
        c.params.int8.act = cc->act;
        c.args[0] = th_i8(TH_SHAPE(cc->N, cc->C, cc->H, cc->W), x);
        c.args[1] = th_i8(TH_SHAPE(cc->K, wc, cc->R, cc->S), w);
        c.args[2] = th_f32(TH_SHAPE(cc->K), mult);
        c.args[3] = th_f32(TH_SHAPE(cc->K), bias);
        c.args[4] = th_f32(TH_SHAPE(cc->N, cc->K, P, Q), NULL);
        th_run(&c);
        double *want = th_doubles(ny);
        conv_ref(cc, P, Q, x, w, mult, bias, want);
        /* Integer sums are exact; only the float requantization and the
         * activation may round differently. */
        th_close("y", th_read_f32(c.args[4]), want, ny, 1e-5, 1e-6);
    }
}

TH_TEST(linear_i8)
{
    static const int cases[][3] = { { 3, 13, 5 }, { 1, 40, 17 }, { 2, 576, 24 } };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int N = cases[ci][0], I = cases[ci][1], O = cases[ci][2];
        for (int act = PACTCL_INT8_ACT_NONE; act <= PACTCL_INT8_ACT_HARDSWISH; act++) {
            struct th_rng r;
            th_rng_seed(&r, 8300 + ci * 3 + act);
            int8_t *x = th_alloc((size_t)N * I), *w = th_alloc((size_t)I * O);
            rand_i8(&r, x, (size_t)N * I);
            rand_i8(&r, w, (size_t)I * O);
            float *mult = th_floats((size_t)O), *bias = th_floats((size_t)O);
            th_fill(&r, mult, (size_t)O, 1e-5f, 1e-3f);
            th_fill(&r, bias, (size_t)O, -1.0f, 1.0f);
            th_label("linear_i8 N%d I%d O%d act%d", N, I, O, act);
            struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_I8);
            c.params.int8.act = act;
            c.args[0] = th_i8(TH_SHAPE(N, I), x);
            c.args[1] = th_i8(TH_SHAPE(I, O), w);
            c.args[2] = th_f32(TH_SHAPE(O), mult);
            c.args[3] = th_f32(TH_SHAPE(O), bias);
            c.args[4] = th_f32(TH_SHAPE(N, O), NULL);
            th_run(&c);
            double *want = th_doubles((size_t)N * O);
            for (int n = 0; n < N; n++)
                for (int o = 0; o < O; o++) {
                    int64_t acc = 0;
                    for (int i = 0; i < I; i++)
                        acc += (int64_t)x[n * I + i] * w[i * O + o];
                    want[n * O + o] = act_ref((float)acc * mult[o] + bias[o], act);
                }
            th_close("y", th_read_f32(c.args[4]), want, (size_t)N * O, 1e-5, 1e-6);
        }
    }
}

TH_TEST(int8_validation)
{
    const float s = 1.0f;
    struct pactcl_op_call c = th_call(PACTCL_OP_QUANTIZE_I8);
    c.params.int8.bits = 9;
    c.args[0] = th_f32(TH_SHAPE(4), NULL);
    c.args[1] = th_f32(TH_SHAPE(1), &s);
    c.args[2] = th_i8(TH_SHAPE(4), NULL);
    th_expect_reject(&c, "quantize_i8 with 9 bits");
    c.params.int8.bits = 8;
    c.args[2] = th_f32(TH_SHAPE(4), NULL);
    th_expect_reject(&c, "quantize_i8 into a float tensor");
    c = th_call(PACTCL_OP_CONV2D_I8);
    c.args[0] = th_i8(TH_SHAPE(1, 3, 5, 5), NULL);
    c.args[1] = th_i8(TH_SHAPE(4, 2, 3, 3), NULL);
    c.args[2] = th_f32(TH_SHAPE(4), NULL);
    c.args[3] = th_f32(TH_SHAPE(4), NULL);
    c.args[4] = th_f32(TH_SHAPE(1, 4, 3, 3), NULL);
    th_expect_reject(&c, "conv2d_i8 with a channel mismatch");
    c.args[1] = th_i8(TH_SHAPE(4, 3, 3, 3), NULL);
    c.params.int8.act = 7;
    th_expect_reject(&c, "conv2d_i8 with an unknown activation");
}

void ops_int8_register(TCase *tc, int dev)
{
    TH_ADD(tc, quantize_i8_hand_worked, dev);
    TH_ADD(tc, quantize_i8_random, dev);
    TH_ADD(tc, conv_i8, dev);
    TH_ADD(tc, linear_i8, dev);
    TH_ADD(tc, int8_validation, dev);
}
