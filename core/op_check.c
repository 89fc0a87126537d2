/*
 * op_check.c: the op table (names, argument counts) and the validation of
 * every call before dispatch, so that no backend ever sees a malformed call.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
#define PACTCL_OP_NAME_(id, name, nargs) name,
    PACTCL_OP_LIST(PACTCL_OP_NAME_)
#undef PACTCL_OP_NAME_
};

static const int op_nargs[] = {
#define PACTCL_OP_NARGS_(id, name, nargs) nargs,
    PACTCL_OP_LIST(PACTCL_OP_NARGS_)
#undef PACTCL_OP_NARGS_
};

_Static_assert(sizeof op_names / sizeof op_names[0] == PACTCL_OP_COUNT, "op name table");
_Static_assert(sizeof op_nargs / sizeof op_nargs[0] == PACTCL_OP_COUNT, "op nargs table");

const char *pactcl_op_name(enum pactcl_op op)
{
    return (unsigned)op < PACTCL_OP_COUNT ? op_names[op] : "unknown";
}

int pactcl_op_nargs(enum pactcl_op op)
{
    return (unsigned)op < PACTCL_OP_COUNT ? op_nargs[op] : -1;
}

int pactcl_op_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < PACTCL_OP_COUNT; i++)
        if (strcmp(op_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- small checks, each sets the error message ------------------------- */

static void shape_str(const struct pactcl_tensor *t, char *buf, size_t len)
{
    size_t u = 0;
    u += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < t->ndim && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (u < len)
        snprintf(buf + u, len - u, "]");
}

struct checker {
    const struct pactcl_op_call *call;
    const char *op;
};

static int bad_shape(const struct checker *c, int arg, const char *what)
{
    char s[96];
    shape_str(c->call->args[arg], s, sizeof s);
    return pactcl__set_error(PACTCL_ESHAPE, "%s: argument %d has shape %s: %s", c->op, arg, s, what);
}

static int need(const struct checker *c, int arg, enum pactcl_dtype dt)
{
    const struct pactcl_tensor *t = c->call->args[arg];
    if (!t)
        return pactcl__set_error(PACTCL_EINVAL, "%s: argument %d is NULL", c->op, arg);
    if (t->dtype != dt)
        return pactcl__set_error(PACTCL_ESHAPE, "%s: argument %d has dtype %s, expected %s", c->op,
                                 arg, pactcl_dtype_name(t->dtype), pactcl_dtype_name(dt));
    return PACTCL_OK;
}

static int opt(const struct checker *c, int arg, enum pactcl_dtype dt)
{
    return c->call->args[arg] ? need(c, arg, dt) : PACTCL_OK;
}

static int rank(const struct checker *c, int arg, int nd)
{
    if (c->call->args[arg]->ndim != nd) {
        char what[48];
        snprintf(what, sizeof what, "expected %d dimensions", nd);
        return bad_shape(c, arg, what);
    }
    return PACTCL_OK;
}

/* Shape must equal dims[0..nd). */
static int dims_eq(const struct checker *c, int arg, int nd, const int64_t *dims)
{
    const struct pactcl_tensor *t = c->call->args[arg];
    int ok = t->ndim == nd;
    for (int i = 0; ok && i < nd; i++)
        ok = t->dims[i] == dims[i];
    if (!ok) {
        char want[96];
        struct pactcl_tensor tmp = { .ndim = nd };
        memcpy(tmp.dims, dims, (size_t)nd * sizeof *dims);
        shape_str(&tmp, want, sizeof want);
        char what[128];
        snprintf(what, sizeof what, "expected %s", want);
        return bad_shape(c, arg, what);
    }
    return PACTCL_OK;
}

static int same_shape(const struct checker *c, int arg, int ref)
{
    const struct pactcl_tensor *r = c->call->args[ref];
    return dims_eq(c, arg, r->ndim, r->dims);
}

static int vec(const struct checker *c, int arg, int64_t n)
{
    const int64_t d[1] = { n };
    return dims_eq(c, arg, 1, d);
}

#define TRY(x)                 \
    do {                       \
        int rc_ = (x);         \
        if (rc_ != PACTCL_OK)  \
            return rc_;        \
    } while (0)

/* ---- per-family checks --------------------------------------------------- */

static int check_conv(const struct checker *c, int depthwise)
{
    const struct pactcl_conv_params *p = &c->call->params.conv;
    const enum pactcl_op op = c->call->op;
    if (p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0)
        return pactcl__set_error(PACTCL_EINVAL, "%s: stride must be >= 1 and padding >= 0 (got %dx%d, %dx%d)",
                                 c->op, p->stride_h, p->stride_w, p->pad_h, p->pad_w);
    /* x and w are found in every form; dy/y/dx placement depends on the op. */
    int ix, iw, iy;
    if (op == PACTCL_OP_CONV2D_FWD || op == PACTCL_OP_DWCONV_FWD) {
        ix = 0, iw = 1, iy = 3;
        TRY(need(c, 0, PACTCL_F32));
        TRY(need(c, 1, PACTCL_F32));
        TRY(opt(c, 2, PACTCL_F32));
        TRY(need(c, 3, PACTCL_F32));
    } else if (op == PACTCL_OP_CONV2D_BWD_DATA || op == PACTCL_OP_DWCONV_BWD_DATA) {
        ix = 2, iw = 1, iy = 0;
        TRY(need(c, 0, PACTCL_F32));
        TRY(need(c, 1, PACTCL_F32));
        TRY(need(c, 2, PACTCL_F32));
    } else {
        ix = 0, iw = 2, iy = 1;
        TRY(need(c, 0, PACTCL_F32));
        TRY(need(c, 1, PACTCL_F32));
        TRY(need(c, 2, PACTCL_F32));
        TRY(opt(c, 3, PACTCL_F32));
    }
    TRY(rank(c, ix, 4));
    TRY(rank(c, iw, 4));
    TRY(rank(c, iy, 4));
    const int64_t *x = c->call->args[ix]->dims, *w = c->call->args[iw]->dims;
    int64_t K = w[0], R = w[2], S = w[3];
    if (depthwise) {
        if (w[1] != 1 || w[0] != x[1])
            return bad_shape(c, iw, "depthwise weights must be [C,1,R,S] with C the input channels");
    } else if (w[1] != x[1]) {
        return bad_shape(c, iw, "weight dim 1 must equal the input channels");
    }
    int64_t P = (x[2] + 2 * p->pad_h - R), Q = (x[3] + 2 * p->pad_w - S);
    if (P < 0 || Q < 0)
        return bad_shape(c, iw, "kernel larger than the padded input");
    P = P / p->stride_h + 1;
    Q = Q / p->stride_w + 1;
    const int64_t ydims[4] = { x[0], K, P, Q };
    TRY(dims_eq(c, iy, 4, ydims));
    int ib = (op == PACTCL_OP_CONV2D_FWD || op == PACTCL_OP_DWCONV_FWD) ? 2
             : (op == PACTCL_OP_CONV2D_BWD_FILTER || op == PACTCL_OP_DWCONV_BWD_FILTER) ? 3
                                                                                         : -1;
    if (ib >= 0 && c->call->args[ib])
        TRY(vec(c, ib, K));
    return PACTCL_OK;
}

static int check_bn(const struct checker *c)
{
    const enum pactcl_op op = c->call->op;
    for (int i = 0; i < c->call->nargs; i++)
        TRY(need(c, i, PACTCL_F32));
    TRY(rank(c, 0, 4));
    int64_t C = c->call->args[0]->dims[1];
    if (op != PACTCL_OP_BN_BWD) {
        const struct pactcl_bn_params *p = &c->call->params.bn;
        if (!(p->epsilon > 0.0f) || !(p->momentum >= 0.0f && p->momentum <= 1.0f))
            return pactcl__set_error(PACTCL_EINVAL, "%s: epsilon must be > 0 and momentum in [0,1]",
                                     c->op);
    }
    if (op == PACTCL_OP_BN_FWD_TRAIN) {
        for (int i = 1; i <= 4; i++)
            TRY(vec(c, i, C));
        TRY(same_shape(c, 5, 0));
        TRY(vec(c, 6, C));
        TRY(vec(c, 7, C));
    } else if (op == PACTCL_OP_BN_FWD_EVAL) {
        for (int i = 1; i <= 4; i++)
            TRY(vec(c, i, C));
        TRY(same_shape(c, 5, 0));
    } else {
        TRY(same_shape(c, 1, 0));
        for (int i = 2; i <= 4; i++)
            TRY(vec(c, i, C));
        TRY(same_shape(c, 5, 0));
        TRY(vec(c, 6, C));
        TRY(vec(c, 7, C));
    }
    return PACTCL_OK;
}

/* Elementwise: every argument f32 with the shape of argument 0. */
static int check_elementwise(const struct checker *c)
{
    for (int i = 0; i < c->call->nargs; i++) {
        TRY(need(c, i, PACTCL_F32));
        TRY(same_shape(c, i, 0));
    }
    return PACTCL_OK;
}

static int check_pool_se(const struct checker *c)
{
    const enum pactcl_op op = c->call->op;
    for (int i = 0; i < c->call->nargs; i++)
        TRY(need(c, i, PACTCL_F32));
    int big = op == PACTCL_OP_AVGPOOL_BWD ? 1 : 0;
    TRY(rank(c, big, 4));
    const int64_t *x = c->call->args[big]->dims;
    const int64_t small[4] = { x[0], x[1], 1, 1 };
    switch (op) {
    case PACTCL_OP_AVGPOOL_FWD:
        return dims_eq(c, 1, 4, small);
    case PACTCL_OP_AVGPOOL_BWD:
        return dims_eq(c, 0, 4, small);
    case PACTCL_OP_SE_SCALE_FWD:
        TRY(dims_eq(c, 1, 4, small));
        return same_shape(c, 2, 0);
    default: /* SE_SCALE_BWD: x s dy -> dx ds */
        TRY(dims_eq(c, 1, 4, small));
        TRY(same_shape(c, 2, 0));
        TRY(same_shape(c, 3, 0));
        return dims_eq(c, 4, 4, small);
    }
}

static int check_linear(const struct checker *c)
{
    const enum pactcl_op op = c->call->op;
    int ix, iw, iy;
    if (op == PACTCL_OP_LINEAR_FWD) {
        ix = 0, iw = 1, iy = 3;
        TRY(need(c, 0, PACTCL_F32));
        TRY(need(c, 1, PACTCL_F32));
        TRY(opt(c, 2, PACTCL_F32));
        TRY(need(c, 3, PACTCL_F32));
    } else if (op == PACTCL_OP_LINEAR_BWD_DATA) {
        ix = 2, iw = 1, iy = 0;
        for (int i = 0; i < 3; i++)
            TRY(need(c, i, PACTCL_F32));
    } else {
        ix = 0, iw = 2, iy = 1;
        for (int i = 0; i < 3; i++)
            TRY(need(c, i, PACTCL_F32));
        TRY(opt(c, 3, PACTCL_F32));
    }
    TRY(rank(c, ix, 2));
    TRY(rank(c, iw, 2));
    const int64_t *x = c->call->args[ix]->dims, *w = c->call->args[iw]->dims;
    if (w[0] != x[1])
        return bad_shape(c, iw, "weight must be [in,out] with in = the input features");
    const int64_t y[2] = { x[0], w[1] };
    TRY(dims_eq(c, iy, 2, y));
    int ib = op == PACTCL_OP_LINEAR_FWD ? 2 : op == PACTCL_OP_LINEAR_BWD_WEIGHT ? 3 : -1;
    if (ib >= 0 && c->call->args[ib])
        TRY(vec(c, ib, w[1]));
    return PACTCL_OK;
}

static int check_dropout(const struct checker *c)
{
    float p = c->call->params.dropout.p;
    if (!(p >= 0.0f && p < 1.0f))
        return pactcl__set_error(PACTCL_EINVAL, "%s: drop probability %g must be in [0,1)", c->op, (double)p);
    /* FWD: x -> y mask; BWD: dy mask -> dx */
    int imask = c->call->op == PACTCL_OP_DROPOUT_FWD ? 2 : 1;
    for (int i = 0; i < 3; i++) {
        TRY(need(c, i, i == imask ? PACTCL_U8 : PACTCL_F32));
        TRY(same_shape(c, i, 0));
    }
    if (pactcl_tensor_numel(c->call->args[0]) > (int64_t)UINT32_MAX)
        return bad_shape(c, 0, "dropout supports at most 2^32 elements");
    return PACTCL_OK;
}

static int check_softmax_topk(const struct checker *c)
{
    const enum pactcl_op op = c->call->op;
    TRY(need(c, 0, PACTCL_F32));
    TRY(need(c, 1, PACTCL_I32));
    TRY(rank(c, 0, 2));
    int64_t N = c->call->args[0]->dims[0];
    TRY(vec(c, 1, N));
    if (op == PACTCL_OP_SOFTMAX_CE_FWD) {
        TRY(need(c, 2, PACTCL_F32));
        TRY(vec(c, 2, 1));
        TRY(need(c, 3, PACTCL_F32));
        return same_shape(c, 3, 0);
    }
    if (op == PACTCL_OP_SOFTMAX_CE_BWD) {
        TRY(need(c, 2, PACTCL_F32));
        return same_shape(c, 2, 0);
    }
    const struct pactcl_topk_params *p = &c->call->params.topk;
    if (p->k[0] < 1 || p->k[1] < 1)
        return pactcl__set_error(PACTCL_EINVAL, "%s: k must be >= 1 (got %d, %d)", c->op, p->k[0], p->k[1]);
    TRY(need(c, 2, PACTCL_F32));
    return vec(c, 2, 2);
}

static int check_quant_bits(const struct checker *c)
{
    int bits = c->call->params.fake_quant.bits;
    if (bits < 2 || bits > 8)
        return pactcl__set_error(PACTCL_EINVAL, "%s: bits must be in 2..8 (got %d)", c->op, bits);
    return PACTCL_OK;
}

static int check_rate(const struct checker *c)
{
    float r = c->call->params.fake_quant.moving_rate;
    if (!(r >= 0.0f && r < 1.0f))
        return pactcl__set_error(PACTCL_EINVAL, "%s: moving_rate %g must be in [0,1)", c->op, (double)r);
    return PACTCL_OK;
}

static int check_quant(const struct checker *c)
{
    const enum pactcl_op op = c->call->op;
    for (int i = 0; i < c->call->nargs; i++)
        TRY(need(c, i, PACTCL_F32));
    switch (op) {
    case PACTCL_OP_PACT_FWD:
        TRY(vec(c, 1, 1));
        return same_shape(c, 2, 0);
    case PACTCL_OP_PACT_BWD:
        TRY(vec(c, 1, 1));
        TRY(same_shape(c, 2, 0));
        TRY(same_shape(c, 3, 0));
        return vec(c, 4, 1);
    case PACTCL_OP_FQ_CHANNEL_FWD: {
        TRY(check_quant_bits(c));
        int axis = c->call->params.fake_quant.axis;
        const struct pactcl_tensor *w = c->call->args[0];
        if (axis < 0 || axis > 1 || axis >= w->ndim)
            return pactcl__set_error(PACTCL_EINVAL, "%s: quant axis %d must be 0 or 1 and < rank %d",
                                     c->op, axis, w->ndim);
        TRY(same_shape(c, 1, 0));
        return vec(c, 2, w->dims[axis]);
    }
    case PACTCL_OP_FQ_MOVING_AVG_FWD:
        TRY(check_quant_bits(c));
        TRY(check_rate(c));
        for (int i = 1; i <= 3; i++)
            TRY(vec(c, i, 1));
        return same_shape(c, 4, 0);
    default: /* MA_OBSERVE */
        TRY(check_rate(c));
        for (int i = 1; i <= 3; i++)
            TRY(vec(c, i, 1));
        return PACTCL_OK;
    }
}

/* Int8 inference ops: q(I8) w(I8) mult[K] bias[K] -> y, or QUANTIZE_I8. */
static int check_int8(const struct checker *c)
{
    const struct pactcl_op_call *call = c->call;
    const struct pactcl_int8_params *p = &call->params.int8;
    if (call->op == PACTCL_OP_QUANTIZE_I8) {
        if (p->bits < 2 || p->bits > 8)
            return pactcl__set_error(PACTCL_EINVAL, "%s: bits must be in 2..8 (got %d)", c->op, p->bits);
        TRY(need(c, 0, PACTCL_F32));
        TRY(need(c, 1, PACTCL_F32));
        TRY(vec(c, 1, 1));
        TRY(need(c, 2, PACTCL_I8));
        return same_shape(c, 2, 0);
    }
    if (p->act < PACTCL_INT8_ACT_NONE || p->act > PACTCL_INT8_ACT_HARDSWISH)
        return pactcl__set_error(PACTCL_EINVAL, "%s: unknown activation %d", c->op, p->act);
    TRY(need(c, 0, PACTCL_I8));
    TRY(need(c, 1, PACTCL_I8));
    TRY(need(c, 2, PACTCL_F32));
    TRY(need(c, 3, PACTCL_F32));
    TRY(need(c, 4, PACTCL_F32));
    const int64_t *x = call->args[0]->dims, *w = call->args[1]->dims;
    if (call->op == PACTCL_OP_LINEAR_I8) {
        TRY(rank(c, 0, 2));
        TRY(rank(c, 1, 2));
        if (w[0] != x[1])
            return bad_shape(c, 1, "weight must be [in,out] with in = the input features");
        const int64_t y[2] = { x[0], w[1] };
        TRY(vec(c, 2, w[1]));
        TRY(vec(c, 3, w[1]));
        return dims_eq(c, 4, 2, y);
    }
    const struct pactcl_conv_params *cp = &p->conv;
    if (cp->stride_h < 1 || cp->stride_w < 1 || cp->pad_h < 0 || cp->pad_w < 0)
        return pactcl__set_error(PACTCL_EINVAL, "%s: stride must be >= 1 and padding >= 0", c->op);
    TRY(rank(c, 0, 4));
    TRY(rank(c, 1, 4));
    if (call->op == PACTCL_OP_DWCONV_I8 ? (w[1] != 1 || w[0] != x[1]) : w[1] != x[1])
        return bad_shape(c, 1, "weight channels do not match the input");
    int64_t P = x[2] + 2 * cp->pad_h - w[2], Q = x[3] + 2 * cp->pad_w - w[3];
    if (P < 0 || Q < 0)
        return bad_shape(c, 1, "kernel larger than the padded input");
    const int64_t y[4] = { x[0], w[0], P / cp->stride_h + 1, Q / cp->stride_w + 1 };
    TRY(vec(c, 2, w[0]));
    TRY(vec(c, 3, w[0]));
    return dims_eq(c, 4, 4, y);
}

static int check_sgd(const struct checker *c)
{
    const struct pactcl_sgd_params *p = &c->call->params.sgd;
    if (!(p->lr >= 0.0f) || !(p->lr_mult >= 0.0f) || !(p->momentum >= 0.0f) || !(p->l2_decay >= 0.0f))
        return pactcl__set_error(PACTCL_EINVAL, "%s: lr, lr_mult, momentum and l2_decay must be >= 0",
                                 c->op);
    return check_elementwise(c);
}

int pactcl_op_check(const struct pactcl_op_call *call)
{
    if (!call)
        return pactcl__set_error(PACTCL_EINVAL, "op call is NULL");
    if ((unsigned)call->op >= PACTCL_OP_COUNT)
        return pactcl__set_error(PACTCL_EINVAL, "unknown op id %d", (int)call->op);
    struct checker c = { call, op_names[call->op] };
    if (call->nargs != op_nargs[call->op])
        return pactcl__set_error(PACTCL_EINVAL, "%s: takes %d tensor arguments, got %d", c.op,
                                 op_nargs[call->op], call->nargs);
    /* Every tensor must share one device. */
    const pactcl_device *dev = NULL;
    for (int i = 0; i < call->nargs; i++) {
        const struct pactcl_tensor *t = call->args[i];
        if (!t)
            continue;
        if (t->ndim < 1 || t->ndim > PACTCL_MAX_DIMS || !t->buffer)
            return pactcl__set_error(PACTCL_EINVAL, "%s: argument %d is not a valid tensor", c.op, i);
        if (dev && t->device != dev)
            return pactcl__set_error(PACTCL_EINVAL, "%s: argument %d lives on another device", c.op, i);
        dev = t->device;
    }
    switch (call->op) {
    case PACTCL_OP_CONV2D_FWD:
    case PACTCL_OP_CONV2D_BWD_DATA:
    case PACTCL_OP_CONV2D_BWD_FILTER:
        return check_conv(&c, 0);
    case PACTCL_OP_DWCONV_FWD:
    case PACTCL_OP_DWCONV_BWD_DATA:
    case PACTCL_OP_DWCONV_BWD_FILTER:
        return check_conv(&c, 1);
    case PACTCL_OP_BN_FWD_TRAIN:
    case PACTCL_OP_BN_FWD_EVAL:
    case PACTCL_OP_BN_BWD:
        return check_bn(&c);
    case PACTCL_OP_RELU_FWD:
    case PACTCL_OP_RELU_BWD:
    case PACTCL_OP_HARDSWISH_FWD:
    case PACTCL_OP_HARDSWISH_BWD:
    case PACTCL_OP_HARDSIGMOID_FWD:
    case PACTCL_OP_HARDSIGMOID_BWD:
    case PACTCL_OP_ADD:
        return check_elementwise(&c);
    case PACTCL_OP_AVGPOOL_FWD:
    case PACTCL_OP_AVGPOOL_BWD:
    case PACTCL_OP_SE_SCALE_FWD:
    case PACTCL_OP_SE_SCALE_BWD:
        return check_pool_se(&c);
    case PACTCL_OP_LINEAR_FWD:
    case PACTCL_OP_LINEAR_BWD_DATA:
    case PACTCL_OP_LINEAR_BWD_WEIGHT:
        return check_linear(&c);
    case PACTCL_OP_DROPOUT_FWD:
    case PACTCL_OP_DROPOUT_BWD:
        return check_dropout(&c);
    case PACTCL_OP_SOFTMAX_CE_FWD:
    case PACTCL_OP_SOFTMAX_CE_BWD:
    case PACTCL_OP_TOPK_ACCURACY:
        return check_softmax_topk(&c);
    case PACTCL_OP_PACT_FWD:
    case PACTCL_OP_PACT_BWD:
    case PACTCL_OP_FQ_CHANNEL_FWD:
    case PACTCL_OP_FQ_MOVING_AVG_FWD:
    case PACTCL_OP_MA_OBSERVE:
        return check_quant(&c);
    case PACTCL_OP_SGD_MOMENTUM:
        return check_sgd(&c);
    case PACTCL_OP_QUANTIZE_I8:
    case PACTCL_OP_CONV2D_I8:
    case PACTCL_OP_DWCONV_I8:
    case PACTCL_OP_LINEAR_I8:
        return check_int8(&c);
    case PACTCL_OP_COUNT:
        break;
    }
    return pactcl__set_error(PACTCL_EINTERNAL, "%s: no validation rule", c.op);
}
