/*
 * mobilenetv3.c: builds MobileNetV3 (small/large) as a training tape, with
 * the reference's state-dict key names (SEED-SPEC §1.4), Paddle's internal
 * parameter names, and, with PACT, PaddleSlim's QAT wrapping (SEED-SPEC §3.2):
 * every Conv2D and Linear except the SE convs gets PACT + moving-average input
 * fake quant + per-channel weight fake quant; every leaf layer's output gets
 * a moving-average observer.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/mobilenetv3.h"

struct block_conf {
    int in, k, exp, out, se, hs, stride;
};

/* SEED-SPEC §1.2 and §1.3: (in, kernel, expanded, out, SE, hardswish, stride). */
static const struct block_conf small_blocks[] = {
    { 16, 3, 16, 16, 1, 0, 2 },  { 16, 3, 72, 24, 0, 0, 2 },   { 24, 3, 88, 24, 0, 0, 1 },
    { 24, 5, 96, 40, 1, 1, 2 },  { 40, 5, 240, 40, 1, 1, 1 },  { 40, 5, 240, 40, 1, 1, 1 },
    { 40, 5, 120, 48, 1, 1, 1 }, { 48, 5, 144, 48, 1, 1, 1 },  { 48, 5, 288, 96, 1, 1, 2 },
    { 96, 5, 576, 96, 1, 1, 1 }, { 96, 5, 576, 96, 1, 1, 1 },
};

static const struct block_conf large_blocks[] = {
    { 16, 3, 16, 16, 0, 0, 1 },     { 16, 3, 64, 24, 0, 0, 2 },     { 24, 3, 72, 24, 0, 0, 1 },
    { 24, 5, 72, 40, 1, 0, 2 },     { 40, 5, 120, 40, 1, 0, 1 },    { 40, 5, 120, 40, 1, 0, 1 },
    { 40, 3, 240, 80, 0, 1, 2 },    { 80, 3, 200, 80, 0, 1, 1 },    { 80, 3, 184, 80, 0, 1, 1 },
    { 80, 3, 184, 80, 0, 1, 1 },    { 80, 3, 480, 112, 1, 1, 1 },   { 112, 3, 672, 112, 1, 1, 1 },
    { 112, 5, 672, 160, 1, 1, 2 },  { 160, 5, 960, 160, 1, 1, 1 },  { 160, 5, 960, 160, 1, 1, 1 },
};

int pactcl_mnv3_arch_from_name(const char *name, enum pactcl_mnv3_arch *out)
{
    if (name && strcmp(name, "mobilenet_v3_small") == 0)
        *out = PACTCL_MNV3_SMALL;
    else if (name && strcmp(name, "mobilenet_v3_large") == 0)
        *out = PACTCL_MNV3_LARGE;
    else
        return pactcl__set_error(PACTCL_EINVAL,
                                 "--model %s: expected mobilenet_v3_small or mobilenet_v3_large",
                                 name ? name : "(null)");
    return PACTCL_OK;
}

const char *pactcl_mnv3_arch_name(enum pactcl_mnv3_arch arch)
{
    return arch == PACTCL_MNV3_LARGE ? "mobilenet_v3_large" : "mobilenet_v3_small";
}

/* _make_divisible(v, 8) of the reference. */
static int make_divisible(double v)
{
    int d = 8;
    int nv = (int)(v + d / 2.0) / d * d;
    if (nv < d)
        nv = d;
    if (nv < 0.9 * v)
        nv += d;
    return nv;
}

/* Formats a state-dict key; names are short, so a cut would be a bug shown in the key. */
static void key_printf(char *dst, const char *fmt, ...) PACTCL_PRINTF(2, 3);
static void key_printf(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, PACTCL_KEY_MAX, fmt, ap);
    va_end(ap);
}

struct builder {
    struct pactcl_graph *g;
    const struct pactcl_mnv3_config *cfg;
    int n_conv, n_bn, n_linear, n_pact, n_fq, n_obs;
    int n_quantized;
};

static int param(struct builder *b, const char *prefix, const char *wrapped, const char *name,
                 const char *paddle, int ndim, const int64_t *dims, int trainable, float lr_mult,
                 int init_kind, float init_a)
{
    char key[PACTCL_KEY_MAX];
    /* With QAT every leaf layer is wrapped: its own params move under "_layer". */
    key_printf(key, "%s%s%s.%s", prefix, b->cfg->pact_quant ? "." : "",
             b->cfg->pact_quant ? wrapped : "", name);
    return pactcl_graph_add_param(b->g, key, paddle, ndim, dims, trainable, lr_mult, init_kind,
                                  init_a);
}

static int add_observer(struct builder *b, const char *prefix, struct pactcl_node *n)
{
    n->obs[0] = n->obs[1] = n->obs[2] = -1;
    if (!b->cfg->pact_quant)
        return PACTCL_OK;
    static const char *const names[3] = { "_scale", "_state", "_accum" };
    const int64_t one[1] = { 1 };
    int id = b->n_obs++;
    for (int i = 0; i < 3; i++) {
        char key[PACTCL_KEY_MAX], paddle[PACTCL_KEY_MAX];
        key_printf(key, "%s._ma_output_scale.%s", prefix, names[i]);
        key_printf(paddle, "moving_average_abs_max_scale_%d.%s", id, names[i] + 1);
        int p = pactcl_graph_add_param(b->g, key, paddle, 1, one, 0, 1.0f, 0, 0.0f);
        if (p < 0)
            return p;
        n->obs[i] = p;
    }
    return PACTCL_OK;
}

/* The QAT state of a quantized layer, in the reference's key order. */
static int add_quant_params(struct builder *b, const char *prefix, struct pactcl_node *n,
                            int64_t n_channels)
{
    const int64_t one[1] = { 1 }, ch[1] = { n_channels };
    char paddle[PACTCL_KEY_MAX];
    int fq = b->n_fq++;
    key_printf(paddle, "fake_quant_channel_wise_%d.scale", fq);
    n->q.w_scale = param(b, prefix, "_layer", "_fake_quant_weight._scale", paddle, 1, ch, 0, 1.0f, 0, 0.0f);
    key_printf(paddle, "fake_quant_moving_average_%d.scale", fq);
    n->q.in_scale = param(b, prefix, "_layer", "_fake_quant_input._scale", paddle, 1, one, 0, 1.0f, 0, 0.001f);
    key_printf(paddle, "fake_quant_moving_average_%d.state", fq);
    n->q.in_state = param(b, prefix, "_layer", "_fake_quant_input._state", paddle, 1, one, 0, 1.0f, 0, 1.0f);
    key_printf(paddle, "fake_quant_moving_average_%d.accum", fq);
    n->q.in_accum = param(b, prefix, "_layer", "_fake_quant_input._accum", paddle, 1, one, 0, 1.0f, 0, 1.0f);
    /* PACT alpha: Constant(100), ParamAttr(learning_rate=1000), no own regularizer. */
    key_printf(paddle, "pact_%d.pact", b->n_pact++);
    n->q.alpha = param(b, prefix, "_layer", "_act_preprocess.alpha", paddle, 1, one, 1, 1000.0f, 0, 100.0f);
    if (n->q.w_scale < 0 || n->q.in_scale < 0 || n->q.in_state < 0 || n->q.in_accum < 0 || n->q.alpha < 0)
        return PACTCL_ENOMEM;
    n->quantized = 1;
    b->n_quantized++;
    return PACTCL_OK;
}

static int value_channels(const struct pactcl_graph *g, int v)
{
    return (int)g->values[v].t->dims[1];
}

static int value_hw(const struct pactcl_graph *g, int v)
{
    return (int)g->values[v].t->dims[2];
}

/* Conv2D `prefix` (no bias unless `bias`), quantized when asked; returns the output value. */
static int add_conv(struct builder *b, const char *prefix, int in, int cout, int k, int stride,
                    int depthwise, int bias, int quantize)
{
    struct pactcl_graph *g = b->g;
    struct pactcl_node n;
    memset(&n, 0, sizeof n);
    n.kind = PACTCL_NODE_CONV;
    n.in = in;
    n.in2 = -1;
    n.depthwise = depthwise;
    n.conv = (struct pactcl_conv_params){ stride, stride, (k - 1) / 2, (k - 1) / 2 };
    int cin = value_channels(g, in), hw = value_hw(g, in);
    int id = b->n_conv++;
    char paddle[PACTCL_KEY_MAX];
    const int64_t wd[4] = { cout, depthwise ? 1 : cin, k, k }, bd[1] = { cout };
    /* Paddle's default: Normal(0, sqrt(2 / (k*k*in_channels))), full in_channels even for depthwise. */
    float std = sqrtf(2.0f / (float)(k * k * cin));
    key_printf(paddle, "conv2d_%d.w_0", id);
    n.p[0] = param(b, prefix, "_layer", "weight", paddle, 4, wd, 1, 1.0f, 1, std);
    n.p[1] = -1;
    if (bias) {
        key_printf(paddle, "conv2d_%d.b_0", id);
        n.p[1] = param(b, prefix, "_layer", "bias", paddle, 1, bd, 1, 1.0f, 0, 0.0f);
    }
    if (n.p[0] < 0 || (bias && n.p[1] < 0))
        return PACTCL_ENOMEM;
    if (quantize && b->cfg->pact_quant) {
        int rc = add_quant_params(b, prefix, &n, cout);
        if (rc < 0)
            return rc;
    }
    int rc = add_observer(b, prefix, &n);
    if (rc < 0)
        return rc;
    int ohw = (hw + 2 * n.conv.pad_h - k) / stride + 1;
    const int64_t od[3] = { cout, ohw, ohw };
    n.out = pactcl_graph_add_value(g, 3, od, 1);
    if (n.out < 0)
        return n.out;
    rc = pactcl_graph_add_node(g, &n);
    return rc < 0 ? rc : n.out;
}

/* An exported int8 conv or linear (`kind`), BN and `act` folded in; keys
 * "<prefix>.weight" (int8), ".input_scale", ".mult", ".out_bias". */
static int add_int8_layer(struct builder *b, const char *prefix, enum pactcl_node_kind kind, int in,
                          int cout, int k, int stride, int depthwise, enum pactcl_act act)
{
    struct pactcl_graph *g = b->g;
    struct pactcl_node n;
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.int8 = 1;
    n.act = act;
    n.in = in;
    n.in2 = -1;
    n.depthwise = depthwise;
    n.p[2] = n.p[3] = -1;
    n.obs[0] = n.obs[1] = n.obs[2] = -1;
    n.conv = (struct pactcl_conv_params){ stride, stride, (k - 1) / 2, (k - 1) / 2 };
    const struct pactcl_tensor *x = g->values[in].t;
    int cin = (int)x->dims[1];
    char key[PACTCL_KEY_MAX];
    const int64_t one[1] = { 1 }, kd[1] = { cout };
    int64_t wd[4] = { cout, depthwise ? 1 : cin, k, k };
    if (kind == PACTCL_NODE_LINEAR) {
        wd[0] = cin;
        wd[1] = cout;
    }
    key_printf(key, "%s.weight", prefix);
    n.p[0] = pactcl_graph_add_param_i8(g, key, kind == PACTCL_NODE_LINEAR ? 2 : 4, wd);
    key_printf(key, "%s.input_scale", prefix);
    n.in_scale = pactcl_graph_add_param(g, key, key, 1, one, 0, 1.0f, 0, 0.0f);
    key_printf(key, "%s.mult", prefix);
    n.mult = pactcl_graph_add_param(g, key, key, 1, kd, 0, 1.0f, 0, 0.0f);
    key_printf(key, "%s.out_bias", prefix);
    n.p[1] = pactcl_graph_add_param(g, key, key, 1, kd, 0, 1.0f, 0, 0.0f);
    key_printf(key, "%s.pact_alpha", prefix);
    n.q.alpha = pactcl_graph_add_param(g, key, key, 1, one, 0, 1.0f, 0, 0.0f);
    if (n.p[0] < 0 || n.in_scale < 0 || n.mult < 0 || n.p[1] < 0 || n.q.alpha < 0)
        return PACTCL_ENOMEM;
    b->n_quantized++;
    if (kind == PACTCL_NODE_LINEAR) {
        const int64_t od[1] = { cout };
        n.out = pactcl_graph_add_value(g, 1, od, 0);
    } else {
        int hw = (int)x->dims[2];
        int ohw = (hw + 2 * n.conv.pad_h - k) / stride + 1;
        const int64_t od[3] = { cout, ohw, ohw };
        n.out = pactcl_graph_add_value(g, 3, od, 0);
    }
    if (n.out < 0)
        return n.out;
    int rc = pactcl_graph_add_node(g, &n);
    return rc < 0 ? rc : n.out;
}

static int add_simple(struct builder *b, const char *prefix, enum pactcl_node_kind kind,
                      enum pactcl_act act, int in, int observe)
{
    struct pactcl_graph *g = b->g;
    struct pactcl_node n;
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.act = act;
    n.in = in;
    n.in2 = -1;
    n.p[0] = n.p[1] = n.p[2] = n.p[3] = -1;
    int64_t d[PACTCL_MAX_DIMS];
    const struct pactcl_tensor *t = g->values[in].t;
    int nd = t->ndim - 1;
    memcpy(d, t->dims + 1, (size_t)nd * sizeof *d);
    if (kind == PACTCL_NODE_AVGPOOL)
        d[1] = d[2] = 1;
    if (kind == PACTCL_NODE_BN) {
        int id = b->n_bn++;
        const int64_t c[1] = { d[0] };
        static const char *const names[4] = { "weight", "bias", "_mean", "_variance" };
        static const char *const suffix[4] = { "w_0", "b_0", "w_1", "w_2" };
        static const float init[4] = { 1.0f, 0.0f, 0.0f, 1.0f };
        for (int i = 0; i < 4; i++) {
            char paddle[PACTCL_KEY_MAX];
            key_printf(paddle, "batch_norm2d_%d.%s", id, suffix[i]);
            n.p[i] = param(b, prefix, "_layer", names[i], paddle, 1, c, i < 2, 1.0f, 0, init[i]);
            if (n.p[i] < 0)
                return n.p[i];
        }
    }
    int rc = observe ? add_observer(b, prefix, &n) : (n.obs[0] = n.obs[1] = n.obs[2] = -1, 0);
    if (rc < 0)
        return rc;
    n.out = pactcl_graph_add_value(g, nd, d, 1);
    if (n.out < 0)
        return n.out;
    rc = pactcl_graph_add_node(g, &n);
    return rc < 0 ? rc : n.out;
}

static int add_binary(struct builder *b, enum pactcl_node_kind kind, int in, int in2)
{
    struct pactcl_graph *g = b->g;
    struct pactcl_node n;
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.in = in;
    n.in2 = in2;
    n.p[0] = n.p[1] = n.p[2] = n.p[3] = -1;
    n.obs[0] = n.obs[1] = n.obs[2] = -1;
    const struct pactcl_tensor *t = g->values[in].t;
    n.out = pactcl_graph_add_value(g, t->ndim - 1, t->dims + 1, 1);
    if (n.out < 0)
        return n.out;
    int rc = pactcl_graph_add_node(g, &n);
    return rc < 0 ? rc : n.out;
}

/* ConvNormActivation: `prefix`.0 conv, .1 BN, .2 activation. */
static int add_cna(struct builder *b, const char *prefix, int in, int cout, int k, int stride,
                   int depthwise, enum pactcl_act act)
{
    char p[PACTCL_KEY_MAX];
    key_printf(p, "%s.0", prefix);
    if (b->cfg->int8)
        return add_int8_layer(b, p, PACTCL_NODE_CONV, in, cout, k, stride, depthwise, act);
    int v = add_conv(b, p, in, cout, k, stride, depthwise, 0, 1);
    if (v < 0)
        return v;
    key_printf(p, "%s.1", prefix);
    v = add_simple(b, p, PACTCL_NODE_BN, PACTCL_ACT_NONE, v, 1);
    if (v < 0 || act == PACTCL_ACT_NONE)
        return v;
    key_printf(p, "%s.2", prefix);
    return add_simple(b, p, PACTCL_NODE_ACT, act, v, 1);
}

/* SqueezeExcitation with Hardsigmoid (misc.py; SE convs are never quantized). */
static int add_se(struct builder *b, const char *prefix, int in, int exp)
{
    char p[PACTCL_KEY_MAX];
    int sq = make_divisible(exp / 4);
    key_printf(p, "%s.avgpool", prefix);
    int s = add_simple(b, p, PACTCL_NODE_AVGPOOL, PACTCL_ACT_NONE, in, 1);
    if (s < 0)
        return s;
    key_printf(p, "%s.fc1", prefix);
    s = add_conv(b, p, s, sq, 1, 1, 0, 1, 0);
    if (s < 0)
        return s;
    key_printf(p, "%s.activation", prefix);
    s = add_simple(b, p, PACTCL_NODE_ACT, PACTCL_ACT_RELU, s, 1);
    if (s < 0)
        return s;
    key_printf(p, "%s.fc2", prefix);
    s = add_conv(b, p, s, exp, 1, 1, 0, 1, 0);
    if (s < 0)
        return s;
    key_printf(p, "%s.scale_activation", prefix);
    s = add_simple(b, p, PACTCL_NODE_ACT, PACTCL_ACT_HARDSIGMOID, s, 1);
    if (s < 0)
        return s;
    return add_binary(b, PACTCL_NODE_SE_SCALE, in, s);
}

static int add_block(struct builder *b, int index, const struct block_conf *c, int in)
{
    char p[PACTCL_KEY_MAX];
    enum pactcl_act act = c->hs ? PACTCL_ACT_HARDSWISH : PACTCL_ACT_RELU;
    int j = 0, v = in;
    if (c->exp != c->in) {
        key_printf(p, "features.%d.block.%d", index, j++);
        if ((v = add_cna(b, p, v, c->exp, 1, 1, 0, act)) < 0)
            return v;
    }
    key_printf(p, "features.%d.block.%d", index, j++);
    if ((v = add_cna(b, p, v, c->exp, c->k, c->stride, 1, act)) < 0)
        return v;
    if (c->se) {
        key_printf(p, "features.%d.block.%d", index, j++);
        if ((v = add_se(b, p, v, c->exp)) < 0)
            return v;
    }
    key_printf(p, "features.%d.block.%d", index, j++);
    if ((v = add_cna(b, p, v, c->out, 1, 1, 0, PACTCL_ACT_NONE)) < 0)
        return v;
    if (c->stride == 1 && c->in == c->out)
        v = add_binary(b, PACTCL_NODE_ADD, v, in);
    return v;
}

static int add_linear(struct builder *b, const char *prefix, int in, int out_features)
{
    struct pactcl_graph *g = b->g;
    struct pactcl_node n;
    memset(&n, 0, sizeof n);
    n.kind = PACTCL_NODE_LINEAR;
    n.in = in;
    n.in2 = -1;
    int64_t in_features = g->values[in].t->dims[1];
    int id = b->n_linear++;
    char paddle[PACTCL_KEY_MAX];
    const int64_t wd[2] = { in_features, out_features }, bd[1] = { out_features };
    /* Xavier-uniform with fan_in = in, fan_out = out. */
    float limit = sqrtf(6.0f / (float)(in_features + out_features));
    key_printf(paddle, "linear_%d.w_0", id);
    n.p[0] = param(b, prefix, "_layer", "weight", paddle, 2, wd, 1, 1.0f, 2, limit);
    key_printf(paddle, "linear_%d.b_0", id);
    n.p[1] = param(b, prefix, "_layer", "bias", paddle, 1, bd, 1, 1.0f, 0, 0.0f);
    n.p[2] = n.p[3] = -1;
    if (n.p[0] < 0 || n.p[1] < 0)
        return PACTCL_ENOMEM;
    int rc;
    if (b->cfg->pact_quant && (rc = add_quant_params(b, prefix, &n, out_features)) < 0)
        return rc;
    if ((rc = add_observer(b, prefix, &n)) < 0)
        return rc;
    const int64_t od[1] = { out_features };
    n.out = pactcl_graph_add_value(g, 1, od, 1);
    if (n.out < 0)
        return n.out;
    rc = pactcl_graph_add_node(g, &n);
    return rc < 0 ? rc : n.out;
}

int pactcl_mnv3_build(struct pactcl_graph *g, const struct pactcl_mnv3_config *cfg)
{
    if (!cfg || cfg->num_classes < 1 || cfg->image_size < 16 || cfg->weight_bits < 2 ||
        cfg->weight_bits > 8 || cfg->act_bits < 2 || cfg->act_bits > 8)
        return pactcl__set_error(PACTCL_EINVAL,
                                 "model: need classes >= 1, image size >= 16 and bits in 2..8");
    if (cfg->int8 && (cfg->pact_quant || g->training_capable))
        return pactcl__set_error(PACTCL_EINVAL, "model: the int8 form is for inference only");
    struct builder b = { .g = g, .cfg = cfg };
    g->weight_bits = cfg->weight_bits;
    g->act_bits = cfg->act_bits;
    const struct block_conf *blocks = cfg->arch == PACTCL_MNV3_LARGE ? large_blocks : small_blocks;
    int n_blocks = cfg->arch == PACTCL_MNV3_LARGE ? 15 : 11;
    int last_channel = cfg->arch == PACTCL_MNV3_LARGE ? 1280 : 1024;

    const int64_t img[3] = { 3, cfg->image_size, cfg->image_size };
    g->input = pactcl_graph_add_value(g, 3, img, 0);
    if (g->input < 0)
        return g->input;
    int v = add_cna(&b, "features.0", g->input, 16, 3, 2, 0, PACTCL_ACT_HARDSWISH);
    for (int i = 0; i < n_blocks && v >= 0; i++)
        v = add_block(&b, i + 1, &blocks[i], v);
    if (v < 0)
        return v;
    int in_last = blocks[n_blocks - 1].out;
    char p[PACTCL_KEY_MAX];
    key_printf(p, "features.%d", n_blocks + 1);
    if ((v = add_cna(&b, p, v, 6 * in_last, 1, 1, 0, PACTCL_ACT_HARDSWISH)) < 0)
        return v;
    if ((v = add_simple(&b, "avgpool", PACTCL_NODE_AVGPOOL, PACTCL_ACT_NONE, v, 1)) < 0)
        return v;
    const int64_t flat[1] = { 6 * in_last };
    int f = pactcl_graph_add_alias(g, v, 1, flat);
    if (f < 0)
        return f;
    struct pactcl_node fl = { .kind = PACTCL_NODE_FLATTEN, .in = v, .in2 = -1, .out = f,
                              .p = { -1, -1, -1, -1 }, .obs = { -1, -1, -1 } };
    int rc = pactcl_graph_add_node(g, &fl);
    if (rc < 0)
        return rc;
    if (cfg->int8) {
        /* Hardswish folded in; dropout is the identity at inference. */
        if ((v = add_int8_layer(&b, "classifier.0", PACTCL_NODE_LINEAR, f, last_channel, 1, 1, 0,
                                PACTCL_ACT_HARDSWISH)) < 0 ||
            (v = add_int8_layer(&b, "classifier.3", PACTCL_NODE_LINEAR, v, cfg->num_classes, 1, 1, 0,
                                PACTCL_ACT_NONE)) < 0)
            return v;
        return pactcl_graph_finish(g, v);
    }
    if ((v = add_linear(&b, "classifier.0", f, last_channel)) < 0)
        return v;
    if ((v = add_simple(&b, "classifier.1", PACTCL_NODE_ACT, PACTCL_ACT_HARDSWISH, v, 1)) < 0)
        return v;
    if ((v = add_simple(&b, "classifier.2", PACTCL_NODE_DROPOUT, PACTCL_ACT_NONE, v, 1)) < 0)
        return v;
    if ((v = add_linear(&b, "classifier.3", v, cfg->num_classes)) < 0)
        return v;
    return pactcl_graph_finish(g, v);
}

int pactcl_mnv3_quantized_layers(const struct pactcl_graph *g)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += g->nodes[i].quantized || g->nodes[i].int8;
    return n;
}
