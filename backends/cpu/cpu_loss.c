/*
 * cpu_loss.c: softmax cross-entropy (mean over the batch, hard labels) and
 * top-k accuracy counts.
 *
 * Labels come from the data set and are checked before anything is written:
 * a label outside [0, K) is an error naming the row, never an out-of-bounds read.
 */
#include "config.h"

#include <math.h>

#include "cpu_ops.h"

static int check_labels(struct pactcl_cpu_ctx *ctx, const struct pactcl_op_call *call,
                        const char *op)
{
    const int32_t *labels = pactcl_cpu_i32(call, 1);
    const int64_t N = call->args[0]->dims[0], K = call->args[0]->dims[1];
    for (int64_t i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= K)
            return ctx->host->set_error(PACTCL_EINVAL,
                                        "%s: label %d of row %lld is outside [0,%lld)", op,
                                        (int)labels[i], (long long)i, (long long)K);
    return PACTCL_OK;
}

/* logits[N,K] labels[N] -> loss[1] prob[N,K]
 * lse = m + log(sum exp(x - m)), prob = exp(x - lse), loss = mean(lse - x[label]). */
PACTCL_CPU_OP(pactcl_cpu_softmax_ce_fwd)
{
    int rc = check_labels(ctx, call, "softmax_ce_fwd");
    if (rc != PACTCL_OK)
        return rc;
    const float *logits = pactcl_cpu_f32(call, 0);
    const int32_t *labels = pactcl_cpu_i32(call, 1);
    float *loss = pactcl_cpu_f32(call, 2), *prob = pactcl_cpu_f32(call, 3);
    const int64_t N = call->args[0]->dims[0], K = call->args[0]->dims[1];
    double *row_loss;
    rc = pactcl_cpu_scratch(ctx, (size_t)N * sizeof *row_loss, (void **)&row_loss);
    if (rc != PACTCL_OK)
        return rc;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * K >= PACTCL_CPU_PAR_MIN))
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits + i * K;
        float *pr = prob + i * K;
        float m = x[0];
        for (int64_t j = 1; j < K; j++)
            m = x[j] > m ? x[j] : m;
        double sum = 0.0;
        for (int64_t j = 0; j < K; j++)
            sum += expf(x[j] - m);
        const double lse = (double)m + log(sum);
        const float lse_f = (float)lse;
        for (int64_t j = 0; j < K; j++)
            pr[j] = expf(x[j] - lse_f);
        row_loss[i] = lse - (double)x[labels[i]];
    }
    /* The mean in row order, independent of the thread count. */
    double total = 0.0;
    for (int64_t i = 0; i < N; i++)
        total += row_loss[i];
    loss[0] = (float)(total / (double)N);
    return PACTCL_OK;
}

/* prob[N,K] labels[N] -> dlogits = (prob - onehot)/N */
PACTCL_CPU_OP(pactcl_cpu_softmax_ce_bwd)
{
    int rc = check_labels(ctx, call, "softmax_ce_bwd");
    if (rc != PACTCL_OK)
        return rc;
    const float *prob = pactcl_cpu_f32(call, 0);
    const int32_t *labels = pactcl_cpu_i32(call, 1);
    float *dlogits = pactcl_cpu_f32(call, 2);
    const int64_t N = call->args[0]->dims[0], K = call->args[0]->dims[1];
    const float inv_n = 1.0f / (float)N;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) if (N * K >= PACTCL_CPU_PAR_MIN))
    for (int64_t i = 0; i < N; i++) {
        const float *pr = prob + i * K;
        float *d = dlogits + i * K;
        const int64_t label = labels[i];
        PACTCL_CPU_PRAGMA(omp simd)
        for (int64_t j = 0; j < K; j++)
            d[j] = (pr[j] - (j == label ? 1.0f : 0.0f)) * inv_n;
    }
    return PACTCL_OK;
}

/* logits[N,K] labels[N] -> correct[2]: rows whose label ranks below k[j],
 * rank = number of classes with a strictly greater logit. */
PACTCL_CPU_OP(pactcl_cpu_topk_accuracy)
{
    int rc = check_labels(ctx, call, "topk_accuracy");
    if (rc != PACTCL_OK)
        return rc;
    const float *logits = pactcl_cpu_f32(call, 0);
    const int32_t *labels = pactcl_cpu_i32(call, 1);
    float *correct = pactcl_cpu_f32(call, 2);
    const int64_t N = call->args[0]->dims[0], K = call->args[0]->dims[1];
    const int k0 = call->params.topk.k[0], k1 = call->params.topk.k[1];
    int64_t hits0 = 0, hits1 = 0;
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) reduction(+ : hits0, hits1) if (N * K >= PACTCL_CPU_PAR_MIN))
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits + i * K;
        const float target = x[labels[i]];
        int64_t rank = 0;
        PACTCL_CPU_PRAGMA(omp simd reduction(+ : rank))
        for (int64_t j = 0; j < K; j++)
            rank += x[j] > target;
        hits0 += rank < k0;
        hits1 += rank < k1;
    }
    correct[0] = (float)hits0;
    correct[1] = (float)hits1;
    return PACTCL_OK;
}
