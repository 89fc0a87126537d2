/*
 * test_ops.c: the op test suite.  Every test runs on every device of a context
 * built from the build tree's plugins only (PACTCL_PLUGIN_PATH), one Check
 * TCase per device named by the device id, so a failure line says which
 * device.  A missing CPU device is a hard error (99): that backend is always built.
 *
 * This file holds main() and the argument validation tests; the ops
 * themselves are in test_ops_*.c, the references in naive_ref.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"

/* ---- validation: bad calls fail with a status and a message, never crash ---------- */

static struct pactcl_op_call conv_call(struct pactcl_tensor *x, struct pactcl_tensor *w,
                                       struct pactcl_tensor *b, struct pactcl_tensor *y)
{
    struct pactcl_op_call c = th_call(PACTCL_OP_CONV2D_FWD);
    c.params.conv.stride_h = c.params.conv.stride_w = 1;
    c.params.conv.pad_h = c.params.conv.pad_w = 0;
    c.args[0] = x;
    c.args[1] = w;
    c.args[2] = b;
    c.args[3] = y;
    return c;
}

TH_TEST(validation_conv)
{
    struct pactcl_tensor *x = th_f32(TH_SHAPE(1, 3, 7, 7), NULL);
    struct pactcl_tensor *w = th_f32(TH_SHAPE(4, 3, 3, 3), NULL);
    struct pactcl_tensor *b = th_f32(TH_SHAPE(4), NULL);
    struct pactcl_tensor *y = th_f32(TH_SHAPE(1, 4, 5, 5), NULL);
    th_label("validation");

    /* The well-formed call must pass, so the rejections below are about the
     * one thing each of them breaks. */
    struct pactcl_op_call c = conv_call(x, w, b, y);
    th_run(&c);

    c = conv_call(NULL, w, b, y);
    th_expect_reject(&c, "conv2d_fwd with x NULL");
    c = conv_call(x, w, b, NULL);
    th_expect_reject(&c, "conv2d_fwd with y NULL");
    c = conv_call(x, th_f32(TH_SHAPE(4, 5, 3, 3), NULL), b, y);
    th_expect_reject(&c, "conv2d_fwd with weight [4,5,3,3] on 3 input channels");
    c = conv_call(x, w, b, th_f32(TH_SHAPE(1, 4, 7, 7), NULL));
    th_expect_reject(&c, "conv2d_fwd with y [1,4,7,7] (should be [1,4,5,5])");
    c = conv_call(x, w, th_f32(TH_SHAPE(5), NULL), y);
    th_expect_reject(&c, "conv2d_fwd with bias [5] for 4 output channels");
    c = conv_call(x, th_f32(TH_SHAPE(4, 3, 9, 9), NULL), b, y);
    th_expect_reject(&c, "conv2d_fwd with a kernel larger than the input");
    c = conv_call(x, w, b, y);
    c.params.conv.stride_h = 0;
    th_expect_reject(&c, "conv2d_fwd with stride 0");
    c = conv_call(th_tensor(PACTCL_I32, TH_SHAPE(1, 3, 7, 7), NULL), w, b, y);
    th_expect_reject(&c, "conv2d_fwd with an I32 input");
    c = conv_call(x, w, b, y);
    c.nargs = 3;
    th_expect_reject(&c, "conv2d_fwd with nargs 3");

    struct pactcl_op_call d = th_call(PACTCL_OP_DWCONV_FWD);
    d.params.conv.stride_h = d.params.conv.stride_w = 1;
    d.args[0] = x;
    d.args[1] = th_f32(TH_SHAPE(3, 2, 3, 3), NULL);
    d.args[3] = th_f32(TH_SHAPE(1, 3, 5, 5), NULL);
    th_expect_reject(&d, "dwconv_fwd with weight [3,2,3,3]");
}

TH_TEST(validation_ops)
{
    const struct th_shape s = TH_SHAPE(2, 3);
    struct pactcl_tensor *a = th_f32(s, NULL), *b = th_f32(s, NULL);
    th_label("validation");

    struct pactcl_op_call c = th_call(PACTCL_OP_RELU_FWD);
    c.args[0] = a;
    c.args[1] = b;
    th_run(&c);
    c.nargs = 3;
    c.args[2] = a;
    th_expect_reject(&c, "relu_fwd with nargs 3");
    c.nargs = 0;
    th_expect_reject(&c, "relu_fwd with nargs 0");

    c = th_call(PACTCL_OP_RELU_FWD);
    c.args[0] = th_tensor(PACTCL_I32, s, NULL);
    c.args[1] = b;
    th_expect_reject(&c, "relu_fwd with an I32 input");
    c.args[0] = a;
    c.args[1] = th_f32(TH_SHAPE(3, 2), NULL);
    th_expect_reject(&c, "relu_fwd with output [3,2] for input [2,3]");

    c = th_call(PACTCL_OP_RELU_FWD);
    c.op = PACTCL_OP_COUNT;
    c.nargs = 2;
    c.args[0] = a;
    c.args[1] = b;
    th_expect_reject(&c, "unknown op id PACTCL_OP_COUNT");
    c.op = (enum pactcl_op) - 1;
    th_expect_reject(&c, "unknown op id -1");

    /* Linear weight in PyTorch's [out,in] layout instead of Paddle's [in,out]. */
    c = th_call(PACTCL_OP_LINEAR_FWD);
    c.args[0] = th_f32(TH_SHAPE(2, 5), NULL);
    c.args[1] = th_f32(TH_SHAPE(3, 5), NULL);
    c.args[3] = th_f32(TH_SHAPE(2, 3), NULL);
    th_expect_reject(&c, "linear_fwd with weight [out,in]");

    c = th_call(PACTCL_OP_BN_FWD_EVAL);
    c.params.bn.epsilon = 1e-3f;
    c.params.bn.momentum = 0.01f;
    c.args[0] = th_f32(TH_SHAPE(1, 3, 2, 2), NULL);
    for (int i = 1; i <= 4; i++)
        c.args[i] = th_f32(TH_SHAPE(i == 2 ? 4 : 3), NULL);
    c.args[5] = th_f32(TH_SHAPE(1, 3, 2, 2), NULL);
    th_expect_reject(&c, "bn_fwd_eval with beta [4] on 3 channels");

    c = th_call(PACTCL_OP_SOFTMAX_CE_FWD);
    c.args[0] = a;
    c.args[1] = th_f32(TH_SHAPE(2), NULL);
    c.args[2] = th_f32(TH_SHAPE(1), NULL);
    c.args[3] = b;
    th_expect_reject(&c, "softmax_ce_fwd with F32 labels");

    c = th_call(PACTCL_OP_TOPK_ACCURACY);
    c.params.topk.k[0] = 0;
    c.params.topk.k[1] = 5;
    c.args[0] = a;
    c.args[1] = th_tensor(PACTCL_I32, TH_SHAPE(2), NULL);
    c.args[2] = th_f32(TH_SHAPE(2), NULL);
    th_expect_reject(&c, "topk_accuracy with k 0");
}

TH_TEST(validation_quant)
{
    const struct th_shape s = TH_SHAPE(4, 3);
    struct pactcl_tensor *w = th_f32(s, NULL), *wq = th_f32(s, NULL);
    th_label("validation");

    struct pactcl_op_call c = th_call(PACTCL_OP_FQ_CHANNEL_FWD);
    c.params.fake_quant.bits = 8;
    c.params.fake_quant.axis = 1;
    c.args[0] = w;
    c.args[1] = wq;
    c.args[2] = th_f32(TH_SHAPE(3), NULL);
    th_run(&c);
    c.params.fake_quant.bits = 9;
    th_expect_reject(&c, "fq_channel_fwd with bits 9");
    c.params.fake_quant.bits = 1;
    th_expect_reject(&c, "fq_channel_fwd with bits 1");
    c.params.fake_quant.bits = 8;
    c.params.fake_quant.axis = 2;
    th_expect_reject(&c, "fq_channel_fwd with axis 2");
    c.params.fake_quant.axis = 0;
    th_expect_reject(&c, "fq_channel_fwd axis 0 with scale [3] for 4 channels");

    struct pactcl_op_call m = th_call(PACTCL_OP_FQ_MOVING_AVG_FWD);
    m.params.fake_quant.bits = 8;
    m.params.fake_quant.moving_rate = 1.0f;
    m.args[0] = w;
    m.args[1] = th_f32(TH_SHAPE(1), NULL);
    m.args[2] = th_f32(TH_SHAPE(1), NULL);
    m.args[3] = th_f32(TH_SHAPE(1), NULL);
    m.args[4] = wq;
    th_expect_reject(&m, "fq_moving_avg_fwd with moving_rate 1");
    m.params.fake_quant.moving_rate = 0.9f;
    m.args[1] = th_f32(TH_SHAPE(2), NULL);
    th_expect_reject(&m, "fq_moving_avg_fwd with scale [2]");

    struct pactcl_op_call p = th_call(PACTCL_OP_PACT_FWD);
    p.args[0] = w;
    p.args[1] = NULL;
    p.args[2] = wq;
    th_expect_reject(&p, "pact_fwd with alpha NULL");

    struct pactcl_op_call d = th_call(PACTCL_OP_DROPOUT_FWD);
    d.params.dropout.p = 1.0f;
    d.params.dropout.seed = 1;
    d.args[0] = w;
    d.args[1] = wq;
    d.args[2] = th_tensor(PACTCL_U8, s, NULL);
    th_expect_reject(&d, "dropout_fwd with p 1.0");
    d.params.dropout.p = 0.2f;
    d.args[2] = th_f32(s, NULL);
    th_expect_reject(&d, "dropout_fwd with an F32 mask");

    struct pactcl_op_call g = th_call(PACTCL_OP_SGD_MOMENTUM);
    g.params.sgd.lr = 0.1f;
    g.params.sgd.lr_mult = 1.0f;
    g.params.sgd.momentum = 0.9f;
    g.args[0] = w;
    g.args[1] = th_f32(TH_SHAPE(3, 4), NULL);
    g.args[2] = wq;
    th_expect_reject(&g, "sgd_momentum with grad [3,4] for param [4,3]");
}

void ops_validation_register(TCase *tc, int dev)
{
    TH_ADD(tc, validation_conv, dev);
    TH_ADD(tc, validation_ops, dev);
    TH_ADD(tc, validation_quant, dev);
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(void)
{
    static char ids[TH_MAX_DEVICES][TH_ID_LEN];
    int ndev = th_list_devices(ids, TH_MAX_DEVICES);
    if (ndev < 0)
        return 99; /* automake: hard error */
    /* The CPU backend is always built: a run without it means the plugin
     * failed to load, which must fail, not skip. */
    int have_cpu = 0;
    for (int d = 0; d < ndev; d++)
        have_cpu |= strcmp(ids[d], "cpu") == 0;
    if (!have_cpu) {
        const char *path = getenv("PACTCL_PLUGIN_PATH");
        printf("test_ops: the cpu device was not found (PACTCL_PLUGIN_PATH=%s); "
               "run 'pactcl devices' to see why\n",
               path ? path : "(unset)");
        return 99;
    }

    Suite *suite = suite_create("ops");
    for (int d = 0; d < ndev; d++) {
        TCase *tc = tcase_create(ids[d]);
        /* Cold OpenCL kernel builds are slow; `make check` sets
         * CK_DEFAULT_TIMEOUT, a direct run gets a generous default. */
        if (!getenv("CK_DEFAULT_TIMEOUT"))
            tcase_set_timeout(tc, 600);
        ops_conv_register(tc, d);
        ops_norm_register(tc, d);
        ops_elementwise_register(tc, d);
        ops_linear_register(tc, d);
        ops_quant_register(tc, d);
        ops_validation_register(tc, d);
        ops_int8_register(tc, d);
        suite_add_tcase(suite, tc);
    }
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
