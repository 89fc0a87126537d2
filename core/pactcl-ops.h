/*
 * pactcl-ops.h: the operator set every backend implements.
 *
 * An op is called with a `struct pactcl_op_call`: the op id, its parameters and
 * a fixed, ordered list of tensor arguments (inputs first, then outputs).  The
 * core validates every call (argument count, dtypes, shapes, optional slots)
 * before a backend sees it, so backends may trust the shapes they are given.
 *
 * Conventions shared by all ops:
 *  - Layout is NCHW for images, [N, F] for features, row-major and contiguous.
 *  - Backward ops overwrite their gradient outputs (they never accumulate).
 *  - An argument marked "optional" may be NULL.
 *  - An argument marked "in/out" is read and then updated in place.
 *  - Op ids are stable: new ops are appended, never renumbered, so a plugin
 *    built against an older list keeps working (it simply does not claim them).
 *
 * Semantics follow PaddlePaddle 2.2 / PaddleSlim 2.2.1 as described in
 * shared/reference/SEED-SPEC.md; each entry below states the formula.
 */
#ifndef PACTCL_OPS_H
#define PACTCL_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PACTCL_MAX_DIMS 4
#define PACTCL_MAX_OP_ARGS 8

enum pactcl_dtype {
    PACTCL_F32 = 0,
    PACTCL_I32 = 1,
    PACTCL_U8 = 2,
    PACTCL_I8 = 3,
    PACTCL_DTYPE_COUNT
};

/*
 * X(ID, name, number of tensor arguments)
 *
 * Argument lists (shapes; "->" separates inputs from outputs):
 *
 * CONV2D_FWD         x[N,C,H,W] w[K,C,R,S] b?[K]        -> y[N,K,P,Q]
 *                    P = (H + 2*pad_h - R) / stride_h + 1, likewise Q.
 * CONV2D_BWD_DATA    dy[N,K,P,Q] w[K,C,R,S]             -> dx[N,C,H,W]
 * CONV2D_BWD_FILTER  x[N,C,H,W] dy[N,K,P,Q]             -> dw[K,C,R,S] db?[K]
 * DWCONV_FWD         x[N,C,H,W] w[C,1,R,S] b?[C]        -> y[N,C,P,Q]   (groups = C)
 * DWCONV_BWD_DATA    dy[N,C,P,Q] w[C,1,R,S]             -> dx[N,C,H,W]
 * DWCONV_BWD_FILTER  x[N,C,H,W] dy[N,C,P,Q]             -> dw[C,1,R,S] db?[C]
 *
 * BN_FWD_TRAIN       x[N,C,H,W] gamma[C] beta[C] mean[C](in/out) var[C](in/out)
 *                                                       -> y saved_mean[C] saved_invstd[C]
 *                    mu, sigma2 = batch mean and biased variance over N*H*W;
 *                    y = gamma*(x-mu)*invstd + beta, invstd = 1/sqrt(sigma2+eps);
 *                    mean = mean*momentum + mu*(1-momentum), likewise var with
 *                    sigma2 (Paddle's convention: momentum weights the old value).
 * BN_FWD_EVAL        x gamma beta mean var              -> y
 *                    y = gamma*(x-mean)/sqrt(var+eps) + beta.
 * BN_BWD             x dy gamma saved_mean saved_invstd -> dx dgamma[C] dbeta[C]
 *
 * RELU_FWD           x                                  -> y
 * RELU_BWD           y dy                               -> dx    dx = dy*[y>0]
 * HARDSWISH_FWD      x                                  -> y     y = min(max(x+3,0),6)*x/6
 * HARDSWISH_BWD      x dy                               -> dx    dx = dy*([x+3>0][x+3<6](2x+3)/6 + [x+3>=6])
 * HARDSIGMOID_FWD    x                                  -> y     y = clip(slope*x+offset, 0, 1)
 * HARDSIGMOID_BWD    y dy                               -> dx    dx = dy*slope*[0<y<1]
 *
 * AVGPOOL_FWD        x[N,C,H,W]                         -> y[N,C,1,1]  (global average)
 * AVGPOOL_BWD        dy[N,C,1,1]                        -> dx[N,C,H,W]
 * SE_SCALE_FWD       x[N,C,H,W] s[N,C,1,1]              -> y[N,C,H,W]  y = x*s (broadcast)
 * SE_SCALE_BWD       x s dy                             -> dx ds[N,C,1,1]
 * ADD                a b (same shape)                   -> y      y may alias a or b
 *
 * LINEAR_FWD         x[N,I] w[I,O] b?[O]                -> y[N,O]  y = x*w + b (Paddle layout)
 * LINEAR_BWD_DATA    dy[N,O] w[I,O]                     -> dx[N,I]
 * LINEAR_BWD_WEIGHT  x[N,I] dy[N,O]                     -> dw[I,O] db?[O]
 *
 * DROPOUT_FWD        x                                  -> y mask(U8, same shape)
 *                    keep_i = pactcl_dropout_uniform(seed, i) >= p;
 *                    y = keep ? x/(1-p) : 0  (Paddle "upscale_in_train").
 * DROPOUT_BWD        dy mask                            -> dx    dx = mask ? dy/(1-p) : 0
 *
 * SOFTMAX_CE_FWD     logits[N,K] labels[N](I32)         -> loss[1] prob[N,K]
 *                    loss = mean_i(-log softmax(logits_i)[label_i]) via log-sum-exp.
 * SOFTMAX_CE_BWD     prob[N,K] labels[N](I32)           -> dlogits[N,K] = (prob - onehot)/N
 * TOPK_ACCURACY      logits[N,K] labels[N](I32)         -> correct[2]
 *                    correct[j] = number of rows whose label ranks < k[j], where
 *                    rank = count of classes with a strictly greater logit.
 *
 * PACT_FWD           x alpha[1]                         -> y     y = (x - relu(x-a)) + relu(-a-x)
 * PACT_BWD           x alpha[1] dy                      -> dx dalpha[1]
 *                    dx = dy*(1-[x>a]-[x<-a]); dalpha = sum dy*([x>a]-[x<-a])
 * FQ_CHANNEL_FWD     w                                  -> wq (same shape) scale[C]
 *                    C = w.dims[axis]; s_c = max|w| over the slice c of axis;
 *                    per element: q = round((bin*inv(s_c))*clip(w,-s_c,s_c)),
 *                    wq = q*s_c/bin, bin = 2^(bits-1)-1, round half away from
 *                    zero, inv(s) = s <= 1e-30 ? 1/(s+1e-6) : 1/s.
 * FQ_MOVING_AVG_FWD  x scale[1](in/out) state[1](in/out) accum[1](in/out) -> y
 *                    train: cur = max|x|; state = rate*state + 1;
 *                    accum = rate*accum + cur; scale = accum/state; then
 *                    quant-dequantize x with the new scale (formula above).
 *                    is_test: quant-dequantize with the stored scale, no update.
 * MA_OBSERVE         x scale[1](in/out) state[1](in/out) accum[1](in/out)
 *                    the same state update as FQ_MOVING_AVG_FWD in training,
 *                    without touching x (output observer).
 * SGD_MOMENTUM       param(in/out) grad velocity(in/out), all the same shape
 *                    g = grad + l2_decay*param; v = momentum*v + g;
 *                    param -= (lr*lr_mult)*v  (Paddle's momentum op, l2_decay).
 *
 * Int8 inference (the exported model, docs/FORMATS.md):
 * QUANTIZE_I8        x scale[1]                         -> q (I8, same shape)
 *                    q = round((bin*inv(s))*clip(x,-s,s)), the fake-quant formula
 *                    above without the dequantization; bin = 2^(bits-1)-1.
 * CONV2D_I8          q[N,C,H,W](I8) w[K,C,R,S](I8) mult[K] bias[K] -> y[N,K,P,Q]
 *                    acc = sum q*w in int32 (zero padding);
 *                    y = act(acc*mult[k] + bias[k]) in float.
 * DWCONV_I8          q[N,C,H,W](I8) w[C,1,R,S](I8) mult[C] bias[C] -> y[N,C,P,Q]
 * LINEAR_I8          q[N,I](I8) w[I,O](I8) mult[O] bias[O] -> y[N,O]
 *                    act: none, relu, or hardswish (formulas as above).
 */
#define PACTCL_OP_LIST(X)                                  \
    X(CONV2D_FWD,        "conv2d_fwd",        4)           \
    X(CONV2D_BWD_DATA,   "conv2d_bwd_data",   3)           \
    X(CONV2D_BWD_FILTER, "conv2d_bwd_filter", 4)           \
    X(DWCONV_FWD,        "dwconv_fwd",        4)           \
    X(DWCONV_BWD_DATA,   "dwconv_bwd_data",   3)           \
    X(DWCONV_BWD_FILTER, "dwconv_bwd_filter", 4)           \
    X(BN_FWD_TRAIN,      "bn_fwd_train",      8)           \
    X(BN_FWD_EVAL,       "bn_fwd_eval",       6)           \
    X(BN_BWD,            "bn_bwd",            8)           \
    X(RELU_FWD,          "relu_fwd",          2)           \
    X(RELU_BWD,          "relu_bwd",          3)           \
    X(HARDSWISH_FWD,     "hardswish_fwd",     2)           \
    X(HARDSWISH_BWD,     "hardswish_bwd",     3)           \
    X(HARDSIGMOID_FWD,   "hardsigmoid_fwd",   2)           \
    X(HARDSIGMOID_BWD,   "hardsigmoid_bwd",   3)           \
    X(AVGPOOL_FWD,       "avgpool_fwd",       2)           \
    X(AVGPOOL_BWD,       "avgpool_bwd",       2)           \
    X(SE_SCALE_FWD,      "se_scale_fwd",      3)           \
    X(SE_SCALE_BWD,      "se_scale_bwd",      5)           \
    X(ADD,               "add",               3)           \
    X(LINEAR_FWD,        "linear_fwd",        4)           \
    X(LINEAR_BWD_DATA,   "linear_bwd_data",   3)           \
    X(LINEAR_BWD_WEIGHT, "linear_bwd_weight", 4)           \
    X(DROPOUT_FWD,       "dropout_fwd",       3)           \
    X(DROPOUT_BWD,       "dropout_bwd",       3)           \
    X(SOFTMAX_CE_FWD,    "softmax_ce_fwd",    4)           \
    X(SOFTMAX_CE_BWD,    "softmax_ce_bwd",    3)           \
    X(TOPK_ACCURACY,     "topk_accuracy",     3)           \
    X(PACT_FWD,          "pact_fwd",          3)           \
    X(PACT_BWD,          "pact_bwd",          5)           \
    X(FQ_CHANNEL_FWD,    "fq_channel_fwd",    3)           \
    X(FQ_MOVING_AVG_FWD, "fq_moving_avg_fwd", 5)           \
    X(MA_OBSERVE,        "ma_observe",        4)           \
    X(SGD_MOMENTUM,      "sgd_momentum",      3)           \
    X(QUANTIZE_I8,       "quantize_i8",       3)           \
    X(CONV2D_I8,         "conv2d_i8",         5)           \
    X(DWCONV_I8,         "dwconv_i8",         5)           \
    X(LINEAR_I8,         "linear_i8",         5)

enum pactcl_op {
#define PACTCL_OP_ENUM_(id, name, nargs) PACTCL_OP_##id,
    PACTCL_OP_LIST(PACTCL_OP_ENUM_)
#undef PACTCL_OP_ENUM_
    PACTCL_OP_COUNT
};

/* Parameters, one struct per op family. Unused families are ignored. */
struct pactcl_conv_params {
    int stride_h, stride_w;
    int pad_h, pad_w;
};

struct pactcl_bn_params {
    float epsilon;  /* 1e-3 in MobileNetV3 */
    float momentum; /* Paddle convention: weight of the old running value (0.01) */
};

struct pactcl_hardsigmoid_params {
    float slope;  /* 0.1666667f in MobileNetV3 (a float32 attribute, not 1/6) */
    float offset; /* 0.5f */
};

struct pactcl_dropout_params {
    float p;       /* drop probability, 0 <= p < 1 */
    uint64_t seed; /* mask i depends only on (seed, i): identical on every device */
};

struct pactcl_topk_params {
    int k[2]; /* e.g. {1, 5} */
};

struct pactcl_fake_quant_params {
    int bits;          /* 2..8: bin = 2^(bits-1) - 1 */
    int axis;          /* FQ_CHANNEL_FWD: 0 (conv [Cout,...]) or 1 (linear [in,out]) */
    float moving_rate; /* FQ_MOVING_AVG_FWD, MA_OBSERVE: 0.9 */
    int is_test;       /* FQ_MOVING_AVG_FWD: use the stored scale, no update */
};

struct pactcl_sgd_params {
    float lr;       /* the scheduler's global learning rate */
    float lr_mult;  /* ParamAttr.learning_rate (1000 for PACT alpha) */
    float momentum; /* 0.9 */
    float l2_decay; /* 1e-4 */
};

enum pactcl_int8_act {
    PACTCL_INT8_ACT_NONE = 0,
    PACTCL_INT8_ACT_RELU = 1,
    PACTCL_INT8_ACT_HARDSWISH = 2
};

struct pactcl_int8_params {
    struct pactcl_conv_params conv; /* CONV2D_I8, DWCONV_I8 */
    int act;                        /* enum pactcl_int8_act */
    int bits;                       /* QUANTIZE_I8: 2..8 */
};

union pactcl_op_params {
    struct pactcl_conv_params conv;
    struct pactcl_bn_params bn;
    struct pactcl_hardsigmoid_params hardsigmoid;
    struct pactcl_dropout_params dropout;
    struct pactcl_topk_params topk;
    struct pactcl_fake_quant_params fake_quant;
    struct pactcl_sgd_params sgd;
    struct pactcl_int8_params int8;
};

struct pactcl_tensor;

struct pactcl_op_call {
    enum pactcl_op op;
    union pactcl_op_params params;
    int nargs;                                     /* must equal the op's count */
    struct pactcl_tensor *args[PACTCL_MAX_OP_ARGS]; /* order as documented above */
};

/*
 * The dropout mask's random stream, shared by every backend so that CPU and
 * OpenCL training draw the same masks for the same seed.  A 32-bit integer hash
 * (Wellons' lowbias32) of the element index mixed with the seed, mapped to
 * [0,1) with 24 bits.  Only 32-bit integer arithmetic: portable to any OpenCL C.
 */
static inline uint32_t pactcl_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static inline float pactcl_dropout_uniform(uint64_t seed, uint32_t index)
{
    uint32_t h = pactcl_hash32(index ^ (uint32_t)seed);
    h = pactcl_hash32(h + (uint32_t)(seed >> 32) + 0x9e3779b9U);
    return (float)(h >> 8) * (1.0f / 16777216.0f);
}

#ifdef __cplusplus
}
#endif

#endif /* PACTCL_OPS_H */
