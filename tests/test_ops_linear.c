/*
 * test_ops_linear.c: linear (Paddle's [in,out] weight), softmax cross-entropy
 * and top-k accuracy.
 */
#include "naive_ref.h"
#include "op_harness.h"

#define RTOL 1e-4

#define FD_H 1e-2f
#define FD_RTOL 1e-2
#define FD_ATOL 1e-3

/* ---- linear ------------------------------------------------------------------------ */

struct linear_case {
    int N, I, O;
};

/* Odd sizes, batch 1, and the classifier's 576-wide input. */
static const struct linear_case linear_cases[] = {
    {3, 13, 5},
    {1, 40, 17},
    {5, 64, 37},
    {2, 576, 24},
};
#define N_LINEAR_CASES (sizeof linear_cases / sizeof linear_cases[0])

static void label(const char *op, const struct linear_case *lc)
{
    th_label("%s N%d I%d O%d", op, lc->N, lc->I, lc->O);
}

TH_TEST(linear_fwd)
{
    for (size_t ci = 0; ci < N_LINEAR_CASES; ci++) {
        const struct linear_case *lc = &linear_cases[ci];
        const size_t nx = (size_t)lc->N * lc->I, nw = (size_t)lc->I * lc->O;
        const size_t ny = (size_t)lc->N * lc->O;
        struct th_rng r;
        th_rng_seed(&r, 2000 + ci);
        float *x = th_floats(nx), *w = th_floats(nw), *b = th_floats((size_t)lc->O);
        th_fill(&r, x, nx, -1.0f, 1.0f);
        th_fill(&r, w, nw, -1.0f, 1.0f);
        th_fill(&r, b, (size_t)lc->O, -1.0f, 1.0f);
        double *want = th_doubles(ny);
        label("linear_fwd", lc);
        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_FWD);
            c.args[0] = th_f32(TH_SHAPE(lc->N, lc->I), x);
            c.args[1] = th_f32(TH_SHAPE(lc->I, lc->O), w);
            c.args[2] = with_bias ? th_f32(TH_SHAPE(lc->O), b) : NULL;
            c.args[3] = th_f32(TH_SHAPE(lc->N, lc->O), NULL);
            th_run(&c);
            ref_linear_fwd(lc->N, lc->I, lc->O, x, w, with_bias ? b : NULL, want);
            th_close(with_bias ? "y (bias)" : "y (no bias)", th_read_f32(c.args[3]), want, ny, RTOL,
                     th_sum_atol((size_t)lc->I));
        }
    }
}

TH_TEST(linear_bwd_data)
{
    for (size_t ci = 0; ci < N_LINEAR_CASES; ci++) {
        const struct linear_case *lc = &linear_cases[ci];
        const size_t nx = (size_t)lc->N * lc->I, nw = (size_t)lc->I * lc->O;
        const size_t ny = (size_t)lc->N * lc->O;
        struct th_rng r;
        th_rng_seed(&r, 2100 + ci);
        float *dy = th_floats(ny), *w = th_floats(nw), *junk = th_floats(nx);
        th_fill(&r, dy, ny, -1.0f, 1.0f);
        th_fill(&r, w, nw, -1.0f, 1.0f);
        th_fill(&r, junk, nx, 5.0f, 9.0f);
        label("linear_bwd_data", lc);
        struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_BWD_DATA);
        c.args[0] = th_f32(TH_SHAPE(lc->N, lc->O), dy);
        c.args[1] = th_f32(TH_SHAPE(lc->I, lc->O), w);
        c.args[2] = th_f32(TH_SHAPE(lc->N, lc->I), junk); /* must be overwritten */
        th_run(&c);
        double *want = th_doubles(nx);
        ref_linear_bwd_data(lc->N, lc->I, lc->O, dy, w, want);
        th_close("dx", th_read_f32(c.args[2]), want, nx, RTOL, th_sum_atol((size_t)lc->O));
    }
}

TH_TEST(linear_bwd_weight)
{
    for (size_t ci = 0; ci < N_LINEAR_CASES; ci++) {
        const struct linear_case *lc = &linear_cases[ci];
        const size_t nx = (size_t)lc->N * lc->I, nw = (size_t)lc->I * lc->O;
        const size_t ny = (size_t)lc->N * lc->O;
        struct th_rng r;
        th_rng_seed(&r, 2200 + ci);
        float *x = th_floats(nx), *dy = th_floats(ny), *junk = th_floats(nw);
        th_fill(&r, x, nx, -1.0f, 1.0f);
        th_fill(&r, dy, ny, -1.0f, 1.0f);
        th_fill(&r, junk, nw, 5.0f, 9.0f);
        double *dw = th_doubles(nw), *db = th_doubles((size_t)lc->O);
        ref_linear_bwd_weight(lc->N, lc->I, lc->O, x, dy, dw, db);
        label("linear_bwd_weight", lc);
        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_BWD_WEIGHT);
            c.args[0] = th_f32(TH_SHAPE(lc->N, lc->I), x);
            c.args[1] = th_f32(TH_SHAPE(lc->N, lc->O), dy);
            c.args[2] = th_f32(TH_SHAPE(lc->I, lc->O), junk);
            c.args[3] = with_bias ? th_f32(TH_SHAPE(lc->O), junk) : NULL;
            th_run(&c);
            th_close(with_bias ? "dw (with db)" : "dw (no db)", th_read_f32(c.args[2]), dw, nw,
                     RTOL, th_sum_atol((size_t)lc->N));
            if (with_bias)
                th_close("db", th_read_f32(c.args[3]), db, (size_t)lc->O, RTOL,
                         th_sum_atol((size_t)lc->N));
        }
    }
}

struct linear_fd {
    const struct linear_case *lc;
    float *x, *w, *b, *gup, *y;
    struct pactcl_tensor *tx, *tw, *tb, *ty;
};

static double linear_loss(void *vctx)
{
    struct linear_fd *f = vctx;
    th_write(f->tx, f->x);
    th_write(f->tw, f->w);
    th_write(f->tb, f->b);
    struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_FWD);
    c.args[0] = f->tx;
    c.args[1] = f->tw;
    c.args[2] = f->tb;
    c.args[3] = f->ty;
    th_run(&c);
    th_read(f->ty, f->y);
    return th_dot(f->gup, f->y, (size_t)f->lc->N * f->lc->O);
}

/* Linear in every input: only fp32 rounding separates the two sides. */
TH_TEST(linear_gradcheck)
{
    for (size_t ci = 0; ci < N_LINEAR_CASES; ci++) {
        const struct linear_case *lc = &linear_cases[ci];
        const size_t nx = (size_t)lc->N * lc->I, nw = (size_t)lc->I * lc->O;
        const size_t ny = (size_t)lc->N * lc->O;
        struct th_rng r;
        th_rng_seed(&r, 2300 + ci);
        struct linear_fd f = {.lc = lc};
        f.x = th_floats(nx);
        f.w = th_floats(nw);
        f.b = th_floats((size_t)lc->O);
        f.gup = th_floats(ny);
        f.y = th_floats(ny);
        th_fill(&r, f.x, nx, -1.0f, 1.0f);
        th_fill(&r, f.w, nw, -1.0f, 1.0f);
        th_fill(&r, f.b, (size_t)lc->O, -1.0f, 1.0f);
        th_fill(&r, f.gup, ny, -1.0f, 1.0f);
        f.tx = th_f32(TH_SHAPE(lc->N, lc->I), f.x);
        f.tw = th_f32(TH_SHAPE(lc->I, lc->O), f.w);
        f.tb = th_f32(TH_SHAPE(lc->O), f.b);
        f.ty = th_f32(TH_SHAPE(lc->N, lc->O), NULL);
        struct pactcl_tensor *tg = th_f32(TH_SHAPE(lc->N, lc->O), f.gup);
        label("linear gradcheck", lc);

        struct pactcl_op_call c = th_call(PACTCL_OP_LINEAR_BWD_DATA);
        c.args[0] = tg;
        c.args[1] = f.tw;
        c.args[2] = th_f32(TH_SHAPE(lc->N, lc->I), NULL);
        th_run(&c);
        float *dx = th_read_f32(c.args[2]);
        c = th_call(PACTCL_OP_LINEAR_BWD_WEIGHT);
        c.args[0] = f.tx;
        c.args[1] = tg;
        c.args[2] = th_f32(TH_SHAPE(lc->I, lc->O), NULL);
        c.args[3] = th_f32(TH_SHAPE(lc->O), NULL);
        th_run(&c);
        float *dw = th_read_f32(c.args[2]), *db = th_read_f32(c.args[3]);

        th_gradcheck("dL/dx", linear_loss, &f, f.x, nx, dx, 24, FD_H, FD_RTOL, FD_ATOL);
        th_gradcheck("dL/dw", linear_loss, &f, f.w, nw, dw, 24, FD_H, FD_RTOL, FD_ATOL);
        th_gradcheck("dL/db", linear_loss, &f, f.b, (size_t)lc->O, db, 24, FD_H, FD_RTOL, FD_ATOL);
    }
}

/* ---- softmax cross-entropy --------------------------------------------------------------- */

struct ce_case {
    int N, K;
};

static const struct ce_case ce_cases[] = {
    {3, 13},
    {1, 7},
    {5, 1000},
};
#define N_CE_CASES (sizeof ce_cases / sizeof ce_cases[0])

/* Probabilities are small numbers whose relative accuracy matters (1e-3 and
 * below with 1000 classes), so they get a tiny atol. */
#define PROB_ATOL 1e-7

static void fill_labels(struct th_rng *r, int32_t *labels, int N, int K)
{
    for (int n = 0; n < N; n++)
        labels[n] = (int32_t)(th_rng_u32(r) % (uint32_t)K);
}

TH_TEST(softmax_ce_fwd)
{
    for (size_t ci = 0; ci < N_CE_CASES; ci++) {
        const struct ce_case *cc = &ce_cases[ci];
        const size_t n = (size_t)cc->N * cc->K;
        struct th_rng r;
        th_rng_seed(&r, 2400 + ci);
        float *logits = th_floats(n);
        int32_t *labels = th_alloc((size_t)cc->N * sizeof *labels);
        th_fill(&r, logits, n, -8.0f, 8.0f);
        fill_labels(&r, labels, cc->N, cc->K);
        th_label("softmax_ce_fwd N%d K%d", cc->N, cc->K);

        struct pactcl_op_call c = th_call(PACTCL_OP_SOFTMAX_CE_FWD);
        c.args[0] = th_f32(TH_SHAPE(cc->N, cc->K), logits);
        c.args[1] = th_tensor(PACTCL_I32, TH_SHAPE(cc->N), labels);
        c.args[2] = th_f32(TH_SHAPE(1), NULL);
        c.args[3] = th_f32(TH_SHAPE(cc->N, cc->K), NULL);
        th_run(&c);
        double loss, *prob = th_doubles(n);
        ref_softmax_ce_fwd(cc->N, cc->K, logits, labels, &loss, prob);
        float got_loss;
        th_read(c.args[2], &got_loss);
        th_close1("loss", got_loss, loss, RTOL, 1e-5);
        th_close("prob", th_read_f32(c.args[3]), prob, n, RTOL, PROB_ATOL);
    }
}

TH_TEST(softmax_ce_bwd)
{
    for (size_t ci = 0; ci < N_CE_CASES; ci++) {
        const struct ce_case *cc = &ce_cases[ci];
        const size_t n = (size_t)cc->N * cc->K;
        struct th_rng r;
        th_rng_seed(&r, 2500 + ci);
        float *logits = th_floats(n);
        int32_t *labels = th_alloc((size_t)cc->N * sizeof *labels);
        th_fill(&r, logits, n, -8.0f, 8.0f);
        fill_labels(&r, labels, cc->N, cc->K);
        double loss, *probd = th_doubles(n);
        ref_softmax_ce_fwd(cc->N, cc->K, logits, labels, &loss, probd);
        float *prob = th_to_float(probd, n);
        th_label("softmax_ce_bwd N%d K%d", cc->N, cc->K);

        struct pactcl_op_call c = th_call(PACTCL_OP_SOFTMAX_CE_BWD);
        c.args[0] = th_f32(TH_SHAPE(cc->N, cc->K), prob);
        c.args[1] = th_tensor(PACTCL_I32, TH_SHAPE(cc->N), labels);
        c.args[2] = th_f32(TH_SHAPE(cc->N, cc->K), NULL);
        th_run(&c);
        double *want = th_doubles(n);
        ref_softmax_ce_bwd(cc->N, cc->K, prob, labels, want);
        th_close("dlogits", th_read_f32(c.args[2]), want, n, RTOL, PROB_ATOL);
    }
}

struct ce_fd {
    const struct ce_case *cc;
    float *logits;
    struct pactcl_tensor *tlogits, *tlabels, *tloss, *tprob;
};

static double ce_loss(void *vctx)
{
    struct ce_fd *f = vctx;
    th_write(f->tlogits, f->logits);
    struct pactcl_op_call c = th_call(PACTCL_OP_SOFTMAX_CE_FWD);
    c.args[0] = f->tlogits;
    c.args[1] = f->tlabels;
    c.args[2] = f->tloss;
    c.args[3] = f->tprob;
    th_run(&c);
    float loss;
    th_read(f->tloss, &loss);
    return loss;
}

/* dlogits from the device's prob against differences of the device's loss.
 * Smooth, so h = 1e-2 leaves a truncation error near h^2/6 of the curvature,
 * well inside the 1e-2 rtol; the atol term (1e-3 of the largest entry) covers
 * the tiny probabilities whose differences are mostly rounding of the fp32 loss. */
TH_TEST(softmax_ce_gradcheck)
{
    for (size_t ci = 0; ci < N_CE_CASES; ci++) {
        const struct ce_case *cc = &ce_cases[ci];
        const size_t n = (size_t)cc->N * cc->K;
        struct th_rng r;
        th_rng_seed(&r, 2600 + ci);
        struct ce_fd f = {.cc = cc};
        f.logits = th_floats(n);
        int32_t *labels = th_alloc((size_t)cc->N * sizeof *labels);
        th_fill(&r, f.logits, n, -3.0f, 3.0f);
        fill_labels(&r, labels, cc->N, cc->K);
        f.tlogits = th_f32(TH_SHAPE(cc->N, cc->K), f.logits);
        f.tlabels = th_tensor(PACTCL_I32, TH_SHAPE(cc->N), labels);
        f.tloss = th_f32(TH_SHAPE(1), NULL);
        f.tprob = th_f32(TH_SHAPE(cc->N, cc->K), NULL);
        th_label("softmax_ce gradcheck N%d K%d", cc->N, cc->K);

        ce_loss(&f);
        struct pactcl_op_call c = th_call(PACTCL_OP_SOFTMAX_CE_BWD);
        c.args[0] = f.tprob;
        c.args[1] = f.tlabels;
        c.args[2] = th_f32(TH_SHAPE(cc->N, cc->K), NULL);
        th_run(&c);
        float *dlogits = th_read_f32(c.args[2]);
        th_gradcheck("dloss/dlogits", ce_loss, &f, f.logits, n, dlogits, 40, FD_H, FD_RTOL,
                     FD_ATOL);
        /* The label entries carry the large gradients: check each one. */
        for (int i = 0; i < cc->N; i++) {
            size_t at = (size_t)i * cc->K + (size_t)labels[i];
            th_gradcheck("dloss/dlogits at the label", ce_loss, &f, f.logits + at, 1, dlogits + at,
                         1, FD_H, FD_RTOL, 0.0);
        }
    }
}

/*
 * By hand, N=2 K=3.  Row 0 = 1001, 1002, 1003 with label 2: a softmax without
 * the max shift overflows here.  Shifted by 1003: exp(-2), exp(-1), 1, sum
 * 1.503214724, log 0.407605964, so -log p(2) = 0.407605964 and
 * p = 0.090030573, 0.244728471, 0.665240956.
 * Row 1 = 0, 0, 0 with label 1: p = 1/3 each, -log p = ln 3 = 1.098612289.
 * loss = (0.407605964 + 1.098612289)/2 = 0.753109127.
 * dlogits = (p - onehot)/2: row 0 = 0.045015287, 0.122364236, -0.167379522;
 * row 1 = 1/6, -1/3, 1/6.
 * Held to rtol 1e-4, not tighter: the fp32 spacing of 1003 is 6e-5, so a
 * correct fp32 log-sum-exp (e.g. p = exp(x - lse) with lse near 1003) can be
 * off by that much relative.  What row 0 must catch is overflow (inf, NaN),
 * which no tolerance lets through.
 */
TH_TEST(softmax_ce_by_hand)
{
    const float logits[6] = {1001, 1002, 1003, 0, 0, 0};
    const int32_t labels[2] = {2, 1};
    const double prob_want[6] = {0.090030573, 0.244728471, 0.665240956, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    const double dl_want[6] = {0.045015287, 0.122364236, -0.167379522, 1.0 / 6, -1.0 / 3, 1.0 / 6};
    th_label("softmax_ce by hand");

    struct pactcl_op_call c = th_call(PACTCL_OP_SOFTMAX_CE_FWD);
    c.args[0] = th_f32(TH_SHAPE(2, 3), logits);
    c.args[1] = th_tensor(PACTCL_I32, TH_SHAPE(2), labels);
    c.args[2] = th_f32(TH_SHAPE(1), NULL);
    c.args[3] = th_f32(TH_SHAPE(2, 3), NULL);
    th_run(&c);
    float loss;
    th_read(c.args[2], &loss);
    th_close1("loss", loss, 0.753109127, 1e-4, 1e-7);
    th_close("prob", th_read_f32(c.args[3]), prob_want, 6, 1e-4, 1e-8);

    struct pactcl_op_call b = th_call(PACTCL_OP_SOFTMAX_CE_BWD);
    b.args[0] = c.args[3];
    b.args[1] = c.args[1];
    b.args[2] = th_f32(TH_SHAPE(2, 3), NULL);
    th_run(&b);
    th_close("dlogits", th_read_f32(b.args[2]), dl_want, 6, 1e-4, 1e-8);
}

/* ---- top-k accuracy ------------------------------------------------------------------------- */

static void run_topk(int N, int K, const float *logits, const int32_t *labels, int k0, int k1,
                     float correct[2])
{
    struct pactcl_op_call c = th_call(PACTCL_OP_TOPK_ACCURACY);
    c.params.topk.k[0] = k0;
    c.params.topk.k[1] = k1;
    c.args[0] = th_f32(TH_SHAPE(N, K), logits);
    c.args[1] = th_tensor(PACTCL_I32, TH_SHAPE(N), labels);
    c.args[2] = th_f32(TH_SHAPE(2), NULL);
    th_run(&c);
    th_read(c.args[2], correct);
}

/*
 * Ties: rank = the number of classes with a strictly greater logit, so a
 * class tied with the label never pushes it down.  By hand, k = {1, 2}:
 *   row 0  0.1 0.9 0.3 0.9 0.0  label 3: nothing greater than 0.9, rank 0 (tied
 *          with class 1) -> top-1 and top-2;
 *   row 1  all 0.5            label 4: rank 0 -> both;
 *   row 2  3 1 2 2 0          label 2: only 3 is greater, rank 1 -> top-2 only;
 *   row 3  3 2 2 1 0          label 3: 3, 2, 2 greater, rank 3 -> neither;
 *   row 4  -1 -2 -3 -4 -5     label 0: rank 0 -> both.
 * correct = {3, 4}.  With k = {1, 5} on 3 classes every row counts for top-5.
 */
TH_TEST(topk_by_hand)
{
    /* clang-format off */
    const float logits[25] = { 0.1f, 0.9f, 0.3f, 0.9f, 0.0f,
                               0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
                               3, 1, 2, 2, 0,
                               3, 2, 2, 1, 0,
                               -1, -2, -3, -4, -5 };
    /* clang-format on */
    const int32_t labels[5] = {3, 4, 2, 3, 0};
    float correct[2];
    th_label("topk_accuracy by hand");
    run_topk(5, 5, logits, labels, 1, 2, correct);
    const double want[2] = {3, 4};
    th_close("correct k={1,2}", correct, want, 2, 0, 0);

    const float small[6] = {0.2f, 0.1f, 0.7f, 5, 4, 3};
    const int32_t small_labels[2] = {1, 0};
    run_topk(2, 3, small, small_labels, 1, 5, correct);
    const double small_want[2] = {1, 2}; /* row 0 rank 2, row 1 rank 0 */
    th_close("correct k={1,5} on 3 classes", correct, small_want, 2, 0, 0);
}

TH_TEST(topk_accuracy)
{
    static const struct ce_case cases[] = {{37, 13}, {5, 1000}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const struct ce_case *cc = &cases[ci];
        const size_t n = (size_t)cc->N * cc->K;
        struct th_rng r;
        th_rng_seed(&r, 2700 + ci);
        float *logits = th_floats(n);
        int32_t *labels = th_alloc((size_t)cc->N * sizeof *labels);
        /* Multiples of 0.5 in [-2, 2]: many ties, exercising the rank rule. */
        for (size_t i = 0; i < n; i++)
            logits[i] = 0.5f * (float)((int)(th_rng_u32(&r) % 9) - 4);
        fill_labels(&r, labels, cc->N, cc->K);
        th_label("topk_accuracy N%d K%d", cc->N, cc->K);
        const int k[2] = {1, 5};
        float correct[2];
        run_topk(cc->N, cc->K, logits, labels, k[0], k[1], correct);
        double want[2];
        ref_topk_accuracy(cc->N, cc->K, logits, labels, k, want);
        th_close("correct", correct, want, 2, 0, 0);
    }
}

void ops_linear_register(TCase *tc, int dev)
{
    TH_ADD(tc, linear_fwd, dev);
    TH_ADD(tc, linear_bwd_data, dev);
    TH_ADD(tc, linear_bwd_weight, dev);
    TH_ADD(tc, linear_gradcheck, dev);
    TH_ADD(tc, softmax_ce_fwd, dev);
    TH_ADD(tc, softmax_ce_bwd, dev);
    TH_ADD(tc, softmax_ce_gradcheck, dev);
    TH_ADD(tc, softmax_ce_by_hand, dev);
    TH_ADD(tc, topk_by_hand, dev);
    TH_ADD(tc, topk_accuracy, dev);
}
