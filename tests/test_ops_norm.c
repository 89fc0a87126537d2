/*
 * test_ops_norm.c: batch norm in training (with the running-stat update in
 * Paddle's momentum convention) and eval, and its backward.
 */
#include "naive_ref.h"
#include "op_harness.h"

struct bn_case {
    int N, C, H, W;
    float epsilon, momentum;
};

/* The model's eps 1e-3 and momentum 0.01, and other values in the second
 * case so that a backend ignoring the parameters fails.  The last case has
 * one value per channel and image, as after a global pool. */
static const struct bn_case bn_cases[] = {
    {3, 5, 7, 7, 1e-3f, 0.01f},
    {1, 13, 13, 11, 1e-5f, 0.1f},
    {3, 3, 1, 1, 1e-3f, 0.01f},
};

#define N_BN_CASES (sizeof bn_cases / sizeof bn_cases[0])
#define EPS 1e-3f
#define MOMENTUM 0.01f
#define RTOL 1e-4

/* Inputs with a different mean and spread per channel, so that a mean or
 * variance taken over the wrong axis cannot pass. */
static void fill_bn_input(struct th_rng *r, const struct bn_case *bc, float *x)
{
    for (int n = 0; n < bc->N; n++)
        for (int c = 0; c < bc->C; c++)
            for (int i = 0; i < bc->H * bc->W; i++) {
                float spread = 0.5f + 0.3f * (float)c;
                float centre = 0.7f * (float)(c - bc->C / 2);
                x[((size_t)n * bc->C + c) * bc->H * bc->W + i] =
                    centre + spread * th_rng_uniform(r, -1.0f, 1.0f);
            }
}

static void label(const char *op, const struct bn_case *bc)
{
    th_label("%s N%d C%d %dx%d eps %g momentum %g", op, bc->N, bc->C, bc->H, bc->W,
             (double)bc->epsilon, (double)bc->momentum);
}

#define XSHAPE(bc) TH_SHAPE((bc)->N, (bc)->C, (bc)->H, (bc)->W)

static struct pactcl_op_call bn_call(enum pactcl_op op, float epsilon, float momentum)
{
    struct pactcl_op_call c = th_call(op);
    c.params.bn.epsilon = epsilon;
    c.params.bn.momentum = momentum;
    return c;
}

TH_TEST(bn_fwd_train)
{
    for (size_t ci = 0; ci < N_BN_CASES; ci++) {
        const struct bn_case *bc = &bn_cases[ci];
        const int HW = bc->H * bc->W;
        const size_t n = (size_t)bc->N * bc->C * HW, C = (size_t)bc->C;
        struct th_rng r;
        th_rng_seed(&r, 500 + ci);
        float *x = th_floats(n), *gamma = th_floats(C), *beta = th_floats(C);
        float *mean = th_floats(C), *var = th_floats(C);
        fill_bn_input(&r, bc, x);
        th_fill(&r, gamma, C, 0.5f, 1.5f);
        th_fill(&r, beta, C, -1.0f, 1.0f);
        th_fill(&r, mean, C, -1.0f, 1.0f);
        th_fill(&r, var, C, 0.5f, 2.0f);
        label("bn_fwd_train", bc);

        struct pactcl_op_call c = bn_call(PACTCL_OP_BN_FWD_TRAIN, bc->epsilon, bc->momentum);
        c.args[0] = th_f32(XSHAPE(bc), x);
        c.args[1] = th_f32(TH_SHAPE(bc->C), gamma);
        c.args[2] = th_f32(TH_SHAPE(bc->C), beta);
        c.args[3] = th_f32(TH_SHAPE(bc->C), mean);
        c.args[4] = th_f32(TH_SHAPE(bc->C), var);
        c.args[5] = th_f32(XSHAPE(bc), NULL);
        c.args[6] = th_f32(TH_SHAPE(bc->C), NULL);
        c.args[7] = th_f32(TH_SHAPE(bc->C), NULL);
        th_run(&c);

        double *y = th_doubles(n), *smean = th_doubles(C), *sinv = th_doubles(C);
        double *mean_out = th_doubles(C), *var_out = th_doubles(C);
        ref_bn_fwd_train(bc->N, bc->C, HW, x, gamma, beta, mean, var, bc->epsilon, bc->momentum, y,
                         smean, sinv, mean_out, var_out);
        const double atol = th_sum_atol((size_t)bc->N * HW);
        th_close("y", th_read_f32(c.args[5]), y, n, RTOL, atol);
        th_close("saved_mean", th_read_f32(c.args[6]), smean, C, RTOL, atol);
        th_close("saved_invstd", th_read_f32(c.args[7]), sinv, C, RTOL, atol);
        th_close("running mean", th_read_f32(c.args[3]), mean_out, C, RTOL, atol);
        th_close("running var", th_read_f32(c.args[4]), var_out, C, RTOL, atol);
    }
}

/*
 * By hand, N=1 C=2 2x2, eps 1e-3, momentum 0.01.
 * Channel 0: x = 1,2,3,4, gamma 1, beta 0, running mean 0, var 1.
 *   mu = 2.5; biased sigma2 = (2.25+0.25+0.25+2.25)/4 = 1.25 (unbiased would be
 *   1.6667); invstd = 1/sqrt(1.251) = 0.894069635;
 *   y = (x-2.5)*invstd = -1.341104452, -0.447034817, 0.447034817, 1.341104452;
 *   mean = 0*0.01 + 2.5*0.99 = 2.475; var = 1*0.01 + 1.25*0.99 = 1.2475.
 * Channel 1: x = 10,10,10,10, gamma 2, beta 0.5, running mean 5, var 2.
 *   mu = 10, sigma2 = 0, invstd = 1/sqrt(1e-3) = 31.6227766; y = beta = 0.5;
 *   mean = 5*0.01 + 10*0.99 = 9.95; var = 2*0.01 + 0*0.99 = 0.02.
 * A backend using torch's convention (new = old*(1-m) + batch*m) would give a
 * running mean of 0.025 for channel 0.
 */
TH_TEST(bn_running_stats_by_hand)
{
    const float x[8] = {1, 2, 3, 4, 10, 10, 10, 10};
    const float gamma[2] = {1, 2}, beta[2] = {0, 0.5f};
    const float mean[2] = {0, 5}, var[2] = {1, 2};
    const double y_want[8] = {-1.341104452, -0.447034817, 0.447034817, 1.341104452,
                              0.5,          0.5,          0.5,         0.5};
    const double mean_want[2] = {2.475, 9.95}, var_want[2] = {1.2475, 0.02};
    const double smean_want[2] = {2.5, 10}, sinv_want[2] = {0.894069635, 31.6227766};
    th_label("bn_fwd_train by hand");

    struct pactcl_op_call c = bn_call(PACTCL_OP_BN_FWD_TRAIN, EPS, MOMENTUM);
    c.args[0] = th_f32(TH_SHAPE(1, 2, 2, 2), x);
    c.args[1] = th_f32(TH_SHAPE(2), gamma);
    c.args[2] = th_f32(TH_SHAPE(2), beta);
    c.args[3] = th_f32(TH_SHAPE(2), mean);
    c.args[4] = th_f32(TH_SHAPE(2), var);
    c.args[5] = th_f32(TH_SHAPE(1, 2, 2, 2), NULL);
    c.args[6] = th_f32(TH_SHAPE(2), NULL);
    c.args[7] = th_f32(TH_SHAPE(2), NULL);
    th_run(&c);
    th_close("y", th_read_f32(c.args[5]), y_want, 8, 1e-5, 1e-6);
    th_close("running mean", th_read_f32(c.args[3]), mean_want, 2, 1e-5, 1e-6);
    th_close("running var", th_read_f32(c.args[4]), var_want, 2, 1e-5, 1e-6);
    th_close("saved_mean", th_read_f32(c.args[6]), smean_want, 2, 1e-5, 1e-6);
    th_close("saved_invstd", th_read_f32(c.args[7]), sinv_want, 2, 1e-5, 1e-6);
}

TH_TEST(bn_fwd_eval)
{
    for (size_t ci = 0; ci < N_BN_CASES; ci++) {
        const struct bn_case *bc = &bn_cases[ci];
        const int HW = bc->H * bc->W;
        const size_t n = (size_t)bc->N * bc->C * HW, C = (size_t)bc->C;
        struct th_rng r;
        th_rng_seed(&r, 600 + ci);
        float *x = th_floats(n), *gamma = th_floats(C), *beta = th_floats(C);
        float *mean = th_floats(C), *var = th_floats(C);
        fill_bn_input(&r, bc, x);
        th_fill(&r, gamma, C, 0.5f, 1.5f);
        th_fill(&r, beta, C, -1.0f, 1.0f);
        th_fill(&r, mean, C, -2.0f, 2.0f);
        th_fill(&r, var, C, 0.1f, 2.0f);
        label("bn_fwd_eval", bc);

        struct pactcl_op_call c = bn_call(PACTCL_OP_BN_FWD_EVAL, bc->epsilon, bc->momentum);
        c.args[0] = th_f32(XSHAPE(bc), x);
        c.args[1] = th_f32(TH_SHAPE(bc->C), gamma);
        c.args[2] = th_f32(TH_SHAPE(bc->C), beta);
        c.args[3] = th_f32(TH_SHAPE(bc->C), mean);
        c.args[4] = th_f32(TH_SHAPE(bc->C), var);
        c.args[5] = th_f32(XSHAPE(bc), NULL);
        th_run(&c);
        double *y = th_doubles(n);
        ref_bn_fwd_eval(bc->N, bc->C, HW, x, gamma, beta, mean, var, bc->epsilon, y);
        th_close("y", th_read_f32(c.args[5]), y, n, RTOL, 1e-5);
        /* Eval must leave the running statistics alone. */
        th_close("running mean untouched", th_read_f32(c.args[3]), th_to_double(mean, C), C, 0, 0);
        th_close("running var untouched", th_read_f32(c.args[4]), th_to_double(var, C), C, 0, 0);
    }
}

TH_TEST(bn_bwd)
{
    for (size_t ci = 0; ci < N_BN_CASES; ci++) {
        const struct bn_case *bc = &bn_cases[ci];
        const int HW = bc->H * bc->W;
        const size_t n = (size_t)bc->N * bc->C * HW, C = (size_t)bc->C;
        struct th_rng r;
        th_rng_seed(&r, 700 + ci);
        float *x = th_floats(n), *dy = th_floats(n), *gamma = th_floats(C);
        fill_bn_input(&r, bc, x);
        th_fill(&r, dy, n, -1.0f, 1.0f);
        th_fill(&r, gamma, C, 0.5f, 1.5f);
        /* The saved statistics as the forward would produce them, in fp32. */
        double *yd = th_doubles(n), *sm = th_doubles(C), *si = th_doubles(C);
        double *mo = th_doubles(C), *vo = th_doubles(C);
        float *zeros = th_floats(C), *ones = th_floats(C);
        for (size_t c = 0; c < C; c++)
            ones[c] = 1.0f;
        ref_bn_fwd_train(bc->N, bc->C, HW, x, gamma, zeros, zeros, ones, bc->epsilon, bc->momentum,
                         yd, sm, si, mo, vo);
        float *smean = th_to_float(sm, C), *sinv = th_to_float(si, C);
        label("bn_bwd", bc);

        struct pactcl_op_call c = bn_call(PACTCL_OP_BN_BWD, bc->epsilon, bc->momentum);
        c.args[0] = th_f32(XSHAPE(bc), x);
        c.args[1] = th_f32(XSHAPE(bc), dy);
        c.args[2] = th_f32(TH_SHAPE(bc->C), gamma);
        c.args[3] = th_f32(TH_SHAPE(bc->C), smean);
        c.args[4] = th_f32(TH_SHAPE(bc->C), sinv);
        c.args[5] = th_f32(XSHAPE(bc), NULL);
        c.args[6] = th_f32(TH_SHAPE(bc->C), NULL);
        c.args[7] = th_f32(TH_SHAPE(bc->C), NULL);
        th_run(&c);
        double *dx = th_doubles(n), *dgamma = th_doubles(C), *dbeta = th_doubles(C);
        ref_bn_bwd(bc->N, bc->C, HW, x, dy, gamma, smean, sinv, dx, dgamma, dbeta);
        /* dx subtracts per-channel sums of N*H*W terms from dy. */
        const double atol = th_sum_atol((size_t)bc->N * HW);
        th_close("dx", th_read_f32(c.args[5]), dx, n, RTOL, atol);
        th_close("dgamma", th_read_f32(c.args[6]), dgamma, C, RTOL, atol);
        th_close("dbeta", th_read_f32(c.args[7]), dbeta, C, RTOL, atol);
    }
}

/* ---- BN_BWD by central differences of BN_FWD_TRAIN's y ----------------------------- */

struct bn_fd {
    const struct bn_case *bc;
    float *x, *gamma, *beta, *gup, *y;
    struct pactcl_tensor *tx, *tgamma, *tbeta, *tmean, *tvar, *ty, *tsm, *tsi;
};

static double bn_loss(void *vctx)
{
    struct bn_fd *f = vctx;
    th_write(f->tx, f->x);
    th_write(f->tgamma, f->gamma);
    th_write(f->tbeta, f->beta);
    struct pactcl_op_call c = bn_call(PACTCL_OP_BN_FWD_TRAIN, f->bc->epsilon, f->bc->momentum);
    c.args[0] = f->tx;
    c.args[1] = f->tgamma;
    c.args[2] = f->tbeta;
    c.args[3] = f->tmean; /* updated each call; y does not depend on it */
    c.args[4] = f->tvar;
    c.args[5] = f->ty;
    c.args[6] = f->tsm;
    c.args[7] = f->tsi;
    th_run(&c);
    size_t n = (size_t)f->bc->N * f->bc->C * f->bc->H * f->bc->W;
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, n);
}

/*
 * y is not linear in x (the batch statistics move with it), so the central
 * difference has a truncation error of order h^2 relative to the channel's
 * spread (>= 0.29 here): about 1e-3 at h = 1e-2, inside the 1e-2 rtol.
 */
TH_TEST(bn_gradcheck)
{
    for (size_t ci = 0; ci < N_BN_CASES; ci++) {
        const struct bn_case *bc = &bn_cases[ci];
        const size_t n = (size_t)bc->N * bc->C * bc->H * bc->W, C = (size_t)bc->C;
        struct th_rng r;
        th_rng_seed(&r, 800 + ci);
        struct bn_fd f = {.bc = bc};
        f.x = th_floats(n);
        f.gamma = th_floats(C);
        f.beta = th_floats(C);
        f.gup = th_floats(n);
        f.y = th_floats(n);
        fill_bn_input(&r, bc, f.x);
        th_fill(&r, f.gamma, C, 0.5f, 1.5f);
        th_fill(&r, f.beta, C, -1.0f, 1.0f);
        th_fill(&r, f.gup, n, -1.0f, 1.0f);
        f.tx = th_f32(XSHAPE(bc), f.x);
        f.tgamma = th_f32(TH_SHAPE(bc->C), f.gamma);
        f.tbeta = th_f32(TH_SHAPE(bc->C), f.beta);
        f.tmean = th_f32(TH_SHAPE(bc->C), NULL);
        f.tvar = th_f32(TH_SHAPE(bc->C), NULL);
        f.ty = th_f32(XSHAPE(bc), NULL);
        f.tsm = th_f32(TH_SHAPE(bc->C), NULL);
        f.tsi = th_f32(TH_SHAPE(bc->C), NULL);
        label("bn gradcheck", bc);

        bn_loss(&f); /* saved statistics at the unperturbed point */
        struct pactcl_op_call c = bn_call(PACTCL_OP_BN_BWD, bc->epsilon, bc->momentum);
        c.args[0] = f.tx;
        c.args[1] = th_f32(XSHAPE(bc), f.gup);
        c.args[2] = f.tgamma;
        c.args[3] = f.tsm;
        c.args[4] = f.tsi;
        c.args[5] = th_f32(XSHAPE(bc), NULL);
        c.args[6] = th_f32(TH_SHAPE(bc->C), NULL);
        c.args[7] = th_f32(TH_SHAPE(bc->C), NULL);
        th_run(&c);
        float *dx = th_read_f32(c.args[5]);
        float *dgamma = th_read_f32(c.args[6]);
        float *dbeta = th_read_f32(c.args[7]);

        th_gradcheck("dL/dx", bn_loss, &f, f.x, n, dx, 24, 1e-2f, 1e-2, 1e-3);
        th_gradcheck("dL/dgamma", bn_loss, &f, f.gamma, C, dgamma, 16, 1e-2f, 1e-2, 1e-3);
        th_gradcheck("dL/dbeta", bn_loss, &f, f.beta, C, dbeta, 16, 1e-2f, 1e-2, 1e-3);
    }
}

void ops_norm_register(TCase *tc, int dev)
{
    TH_ADD(tc, bn_fwd_train, dev);
    TH_ADD(tc, bn_running_stats_by_hand, dev);
    TH_ADD(tc, bn_fwd_eval, dev);
    TH_ADD(tc, bn_bwd, dev);
    TH_ADD(tc, bn_gradcheck, dev);
}
