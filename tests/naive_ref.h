/*
 * naive_ref.h: plain reference implementations of every op in pactcl-ops.h,
 * for the op tests.
 *
 * They are written from the formulas in the header, not from any backend:
 * straight nested loops, inputs in float (what the device sees), results and
 * every accumulation in double so that the reference is far more accurate than
 * the fp32 code under test.  Nothing here is fast or clever on purpose.
 *
 * The fake-quant helpers are the exception: rounding to an integer level is a
 * discontinuous step, so they follow the header's float32 evaluation order
 * exactly and report the elements that sit so close to a .5 boundary that a
 * legal reordering could flip them.
 */
#ifndef PACTCL_TESTS_NAIVE_REF_H
#define PACTCL_TESTS_NAIVE_REF_H

#include <stddef.h>
#include <stdint.h>

/* A convolution's geometry.  Depthwise: K == C, weight [C,1,R,S], groups = C. */
struct ref_conv {
    int N, C, H, W; /* input */
    int K, R, S;    /* output channels, kernel height and width */
    int stride_h, stride_w, pad_h, pad_w;
    int P, Q; /* output height and width (ref_conv_init fills them) */
    int depthwise;
};

void ref_conv_init(struct ref_conv *g);
size_t ref_conv_x_size(const struct ref_conv *g);
size_t ref_conv_w_size(const struct ref_conv *g);
size_t ref_conv_y_size(const struct ref_conv *g);

/* b and db may be NULL. */
void ref_conv_fwd(const struct ref_conv *g, const float *x, const float *w, const float *b,
                  double *y);
void ref_conv_bwd_data(const struct ref_conv *g, const float *dy, const float *w, double *dx);
void ref_conv_bwd_filter(const struct ref_conv *g, const float *x, const float *dy, double *dw,
                         double *db);

/* Batch norm over x[N,C,HW].  The running stats are read from mean_in/var_in
 * and the updated values written to mean_out/var_out. */
void ref_bn_fwd_train(int N, int C, int HW, const float *x, const float *gamma, const float *beta,
                      const float *mean_in, const float *var_in, float epsilon, float momentum,
                      double *y, double *saved_mean, double *saved_invstd, double *mean_out,
                      double *var_out);
void ref_bn_fwd_eval(int N, int C, int HW, const float *x, const float *gamma, const float *beta,
                     const float *mean, const float *var, float epsilon, double *y);
void ref_bn_bwd(int N, int C, int HW, const float *x, const float *dy, const float *gamma,
                const float *saved_mean, const float *saved_invstd, double *dx, double *dgamma,
                double *dbeta);

void ref_relu_fwd(size_t n, const float *x, double *y);
void ref_relu_bwd(size_t n, const float *y, const float *dy, double *dx);
void ref_hardswish_fwd(size_t n, const float *x, double *y);
void ref_hardswish_bwd(size_t n, const float *x, const float *dy, double *dx);
void ref_hardsigmoid_fwd(size_t n, const float *x, float slope, float offset, double *y);
void ref_hardsigmoid_bwd(size_t n, const float *y, const float *dy, float slope, double *dx);

/* Global average pool and SE channel scale over x[N,C,HW], s[N,C]. */
void ref_avgpool_fwd(int N, int C, int HW, const float *x, double *y);
void ref_avgpool_bwd(int N, int C, int HW, const float *dy, double *dx);
void ref_se_scale_fwd(int N, int C, int HW, const float *x, const float *s, double *y);
void ref_se_scale_bwd(int N, int C, int HW, const float *x, const float *s, const float *dy,
                      double *dx, double *ds);
void ref_add(size_t n, const float *a, const float *b, double *y);

/* Linear with Paddle's weight layout w[I,O]; b and db may be NULL. */
void ref_linear_fwd(int N, int I, int O, const float *x, const float *w, const float *b, double *y);
void ref_linear_bwd_data(int N, int I, int O, const float *dy, const float *w, double *dx);
void ref_linear_bwd_weight(int N, int I, int O, const float *x, const float *dy, double *dw,
                           double *db);

/* keep[i] = 1 where the element is kept. */
void ref_dropout_fwd(size_t n, const float *x, float p, uint64_t seed, double *y, uint8_t *keep);
void ref_dropout_bwd(size_t n, const float *dy, const uint8_t *mask, float p, double *dx);

void ref_softmax_ce_fwd(int N, int K, const float *logits, const int32_t *labels, double *loss,
                        double *prob);
void ref_softmax_ce_bwd(int N, int K, const float *prob, const int32_t *labels, double *dlogits);
void ref_topk_accuracy(int N, int K, const float *logits, const int32_t *labels, const int k[2],
                       double correct[2]);

void ref_pact_fwd(size_t n, const float *x, float alpha, double *y);
void ref_pact_bwd(size_t n, const float *x, float alpha, const float *dy, double *dx,
                  double *dalpha);

/* Quant-dequant of one value with scale s and bin = 2^(bits-1)-1, in the
 * header's float32 order.  *near_tie is set when the pre-rounding value is
 * within 1e-4 of a .5 boundary (NULL allowed). */
float ref_qdq(float x, float s, int bin, int *near_tie);
int ref_bin(int bits);
/* w has `ndim` dims; the scale runs along `axis`.  tie[i] as in ref_qdq
 * (may be NULL). */
void ref_fq_channel_fwd(const float *w, int ndim, const int64_t *dims, int axis, int bits,
                        double *wq, double *scale, uint8_t *tie);
/* The moving-average state update of FQ_MOVING_AVG_FWD (training) and
 * MA_OBSERVE, in double. */
void ref_ma_update(size_t n, const float *x, float rate, double *scale, double *state,
                   double *accum);

/* One step of Paddle's momentum op with L2 decay, in place. */
void ref_sgd_momentum(size_t n, double *param, const float *grad, double *velocity, float lr,
                      float lr_mult, float momentum, float l2_decay);

#endif /* PACTCL_TESTS_NAIVE_REF_H */
