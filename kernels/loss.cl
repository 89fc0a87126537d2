/*
 * loss.cl: softmax cross-entropy (mean over the batch, via log-sum-exp) and
 * top-k accuracy, one work-group per row of logits[N][K].
 *
 * Labels are checked here rather than on the host, so a training step never
 * reads back: a label outside [0, K) stores `code` (the op id + 1) into the
 * device's error flag, and that row's loss is NaN (its accuracy 0).  The host
 * reads the flag at the next sync or read-back and reports the error.
 */

/* Row kernel: prob = softmax(row), rowloss[row] = log(sum exp(x - max)) - (x[label] - max). */
__kernel void softmax_ce_rows(__global const float *logits, uint lo, __global const int *labels,
                              uint lbo, uint K, __global float *prob, uint po,
                              __global float *rowloss, __global int *flag, int code,
                              __local float *scratch)
{
    const uint row = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    __global const float *x = logits + lo + row * K;
    __global float *pr = prob + po + row * K;
    float m = -INFINITY;
    for (uint k = lid; k < K; k += L)
        m = fmax(m, x[k]);
    m = pactcl_wg_max(m, scratch);
    float s = 0.0f;
    for (uint k = lid; k < K; k += L)
        s += exp(x[k] - m);
    s = pactcl_wg_sum(s, scratch);
    for (uint k = lid; k < K; k += L)
        pr[k] = exp(x[k] - m) / s;
    if (lid != 0)
        return;
    const int l = labels[lbo + row];
    if (l < 0 || l >= (int)K) {
        *flag = code;
        rowloss[row] = NAN;
    } else {
        rowloss[row] = log(s) - (x[l] - m);
    }
}

/* One work-group: loss = sum(rowloss) / N. */
__kernel void softmax_ce_mean(__global const float *rowloss, uint N, __global float *loss, uint lo,
                              __local float *scratch)
{
    const uint lid = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    for (uint r = lid; r < N; r += L)
        acc += rowloss[r];
    const float s = pactcl_wg_sum(acc, scratch);
    if (lid == 0)
        loss[lo] = s / (float)N;
}

/* dlogits = (prob - onehot(label)) / N */
__kernel void softmax_ce_bwd(__global const float *prob, uint po, __global const int *labels,
                             uint lbo, uint N, uint K, __global float *dlogits, uint dlo,
                             __global int *flag, int code)
{
    const uint i = get_global_id(0);
    if (i >= N * K)
        return;
    const uint row = i / K, k = i - row * K;
    const int l = labels[lbo + row];
    if ((l < 0 || l >= (int)K) && k == 0)
        *flag = code;
    const float onehot = (int)k == l ? 1.0f : 0.0f;
    dlogits[dlo + i] = (prob[po + i] - onehot) / (float)N;
}

/* Row kernel: rank = number of classes with a strictly greater logit than
 * the label's; hits[2*row + j] = rank < k_j. */
__kernel void topk_rows(__global const float *logits, uint lo, __global const int *labels, uint lbo,
                        uint K, uint k0, uint k1, __global uint *hits, __global int *flag,
                        int code, __local uint *scratch)
{
    const uint row = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    __global const float *x = logits + lo + row * K;
    const int l = labels[lbo + row];
    const int valid = l >= 0 && l < (int)K;
    const float v = valid ? x[l] : 0.0f;
    uint cnt = 0;
    for (uint k = lid; k < K; k += L)
        cnt += x[k] > v ? 1u : 0u;
    const uint rank = pactcl_wg_sum_uint(cnt, scratch);
    if (lid != 0)
        return;
    if (!valid)
        *flag = code;
    hits[2 * row] = valid && rank < k0;
    hits[2 * row + 1] = valid && rank < k1;
}

/* One work-group: correct[j] = sum over rows of hits[2*row + j]. */
__kernel void topk_sum(__global const uint *hits, uint N, __global float *correct, uint co,
                       __local uint *scratch)
{
    const uint lid = get_local_id(0), L = get_local_size(0);
    uint a = 0, b = 0;
    for (uint r = lid; r < N; r += L) {
        a += hits[2 * r];
        b += hits[2 * r + 1];
    }
    const uint sa = pactcl_wg_sum_uint(a, scratch);
    const uint sb = pactcl_wg_sum_uint(b, scratch);
    if (lid == 0) {
        correct[co] = (float)sa;
        correct[co + 1] = (float)sb;
    }
}
