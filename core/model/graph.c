/*
 * graph.c: building and running a training tape (see graph.h).
 *
 * Gradients: every value with a gradient has a grad tensor, a view into
 * storage shared by gradients whose lifetimes do not overlap (memory_plan.c,
 * run by pactcl_graph_finish).  During backward
 * the first contribution to a value's gradient is written straight into it;
 * a later one (a value read by two nodes: residual inputs, SE inputs) goes to
 * a scratch tensor and is added, so no op ever has to accumulate.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/graph.h"

#define RUN(g, id, params, ...)                                                             \
    run_op((g), (id), (params), (struct pactcl_tensor *[]){ __VA_ARGS__ },                 \
           (int)(sizeof((struct pactcl_tensor *[]){ __VA_ARGS__ }) / sizeof(struct pactcl_tensor *)))

static int run_op(struct pactcl_graph *g, enum pactcl_op id, const union pactcl_op_params *params,
                  struct pactcl_tensor **args, int nargs)
{
    struct pactcl_op_call call = { .op = id, .nargs = nargs };
    if (params)
        call.params = *params;
    for (int i = 0; i < nargs; i++)
        call.args[i] = args[i];
    return pactcl_op_run(g->dev, &call);
}

#define TRY(x)                \
    do {                      \
        int rc_ = (x);        \
        if (rc_ < 0)          \
            return rc_;       \
    } while (0)

static int grow(void **arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return PACTCL_OK;
    int nc = *cap ? 2 * *cap : 32;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory building the model");
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return PACTCL_OK;
}

int pactcl__graph_track_batch_tensor(struct pactcl_graph *g, struct pactcl_tensor *t)
{
    TRY(grow((void **)&g->batch_tensors, &g->cap_batch_tensors, g->n_batch_tensors,
             sizeof *g->batch_tensors));
    g->batch_tensors[g->n_batch_tensors++] = t;
    return PACTCL_OK;
}

/* A tensor of [max_batch, dims...] on the graph's device, tracked for set_batch. */
static int new_batch_tensor(struct pactcl_graph *g, enum pactcl_dtype dt, int ndim,
                            const int64_t *dims, struct pactcl_tensor **out)
{
    int64_t full[PACTCL_MAX_DIMS];
    full[0] = g->max_batch;
    if (ndim > 0)
        memcpy(full + 1, dims, (size_t)ndim * sizeof *dims);
    int rc = pactcl_tensor_create(g->dev, dt, ndim + 1, full, out);
    if (rc == PACTCL_ENOMEM) {
        /* Name what did not fit, and the way out. */
        char why[512];
        snprintf(why, sizeof why, "%s", pactcl_last_error());
        return pactcl__set_error(rc, "model: an activation of %lld x %lld x %lld x %lld for batch %d "
                                 "does not fit on %s (%s)%s",
                                 (long long)full[0], (long long)(ndim > 0 ? full[1] : 1),
                                 (long long)(ndim > 1 ? full[2] : 1), (long long)(ndim > 2 ? full[3] : 1),
                                 g->max_batch, pactcl_device_id(g->dev), why,
                                 strstr(why, "smaller") ? "" : "; try a smaller --batch-size");
    }
    TRY(rc);
    return pactcl__graph_track_batch_tensor(g, *out);
}

/* A tensor with a shape and no storage: an inference graph's activation
 * until memory_plan.c gives it a slot.  Freed by pactcl_tensor_free. */
static int shape_only_tensor(struct pactcl_graph *g, int ndim, const int64_t *dims,
                             struct pactcl_tensor **out)
{
    struct pactcl_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory building the model");
    t->dtype = PACTCL_F32;
    t->ndim = ndim + 1;
    t->dims[0] = g->max_batch;
    memcpy(t->dims + 1, dims, (size_t)ndim * sizeof *dims);
    t->device = g->dev;
    *out = t;
    return pactcl__graph_track_batch_tensor(g, t);
}

int pactcl_graph_init(struct pactcl_graph *g, pactcl_device *dev, int max_batch, int with_grads)
{
    memset(g, 0, sizeof *g);
    if (!dev || max_batch < 1)
        return pactcl__set_error(PACTCL_EINVAL, "model: a device and a batch size >= 1 are needed");
    g->dev = dev;
    g->max_batch = max_batch;
    g->batch = max_batch;
    g->training_capable = with_grads;
    g->share_grad_storage = 1;
    g->input = g->logits = -1;
    g->bn_epsilon = 1e-3f;
    g->bn_momentum = 0.01f;
    g->dropout_p = 0.2f;
    g->weight_bits = g->act_bits = 8;
    g->moving_rate = 0.9f;
    return PACTCL_OK;
}

void pactcl_graph_release(struct pactcl_graph *g)
{
    if (!g)
        return;
    /* Views first: aliases and slices point into other values' buffers. */
    for (int i = 0; i < g->n_values; i++) {
        if (g->values[i].alias_of >= 0) {
            pactcl_tensor_free(g->values[i].t);
            pactcl_tensor_free(g->values[i].grad);
        }
    }
    for (int i = 0; i < g->n_values; i++) {
        if (g->values[i].alias_of < 0) {
            pactcl_tensor_free(g->values[i].t);
            pactcl_tensor_free(g->values[i].grad);
        }
        pactcl_tensor_free(g->values[i].scratch);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        struct pactcl_node *n = &g->nodes[i];
        pactcl_tensor_free(n->saved[0]);
        pactcl_tensor_free(n->saved[1]);
        pactcl_tensor_free(n->q.clipped);
        pactcl_tensor_free(n->q.quantized);
        pactcl_tensor_free(n->q.wq);
    }
    for (int i = 0; i < g->n_params; i++) {
        pactcl_tensor_free(g->params[i].value);
        pactcl_tensor_free(g->params[i].grad);
        pactcl_tensor_free(g->params[i].velocity);
    }
    for (int i = 0; i < g->n_grad_slots; i++)
        pactcl_tensor_free(g->grad_slots[i]);
    free(g->grad_slots);
    for (int i = 0; i < g->n_value_slots; i++)
        pactcl_tensor_free(g->value_slots[i]);
    free(g->value_slots);
    pactcl_tensor_free(g->scratch_f32);
    pactcl_tensor_free(g->scratch_i8);
    pactcl_tensor_free(g->labels);
    pactcl_tensor_free(g->loss);
    pactcl_tensor_free(g->prob);
    free(g->values);
    free(g->nodes);
    free(g->params);
    free(g->batch_tensors);
    memset(g, 0, sizeof *g);
}

int pactcl_graph_add_value(struct pactcl_graph *g, int ndim, const int64_t *dims, int need_grad)
{
    if (ndim < 1 || ndim >= PACTCL_MAX_DIMS)
        return pactcl__set_error(PACTCL_EINVAL, "model: value rank %d out of range", ndim);
    TRY(grow((void **)&g->values, &g->cap_values, g->n_values, sizeof *g->values));
    struct pactcl_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->alias_of = -1;
    if (g->training_capable) {
        TRY(new_batch_tensor(g, PACTCL_F32, ndim, dims, &v->t));
    } else {
        /* Storage comes at pactcl_graph_finish, shared by lifetime. */
        TRY(shape_only_tensor(g, ndim, dims, &v->t));
    }
    v->needs_grad = need_grad && g->training_capable;
    return g->n_values++;
}

int pactcl_graph_add_alias(struct pactcl_graph *g, int of, int ndim, const int64_t *dims)
{
    TRY(grow((void **)&g->values, &g->cap_values, g->n_values, sizeof *g->values));
    struct pactcl_value *base = &g->values[of];
    struct pactcl_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->alias_of = of;
    int64_t full[PACTCL_MAX_DIMS];
    full[0] = g->max_batch;
    memcpy(full + 1, dims, (size_t)ndim * sizeof *dims);
    int64_t saved0 = base->t->dims[0];
    base->t->dims[0] = g->max_batch;
    int rc = pactcl_tensor_view(base->t, ndim + 1, full, &v->t);
    base->t->dims[0] = saved0;
    TRY(rc);
    TRY(pactcl__graph_track_batch_tensor(g, v->t));
    v->needs_grad = base->needs_grad; /* its gradient views the base's (memory_plan.c) */
    return g->n_values++;
}

int pactcl_graph_add_param(struct pactcl_graph *g, const char *key, const char *paddle_name,
                           int ndim, const int64_t *dims, int trainable, float lr_mult,
                           int init_kind, float init_a)
{
    TRY(grow((void **)&g->params, &g->cap_params, g->n_params, sizeof *g->params));
    struct pactcl_param *p = &g->params[g->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->key, sizeof p->key, "%s", key);
    snprintf(p->paddle_name, sizeof p->paddle_name, "%s", paddle_name ? paddle_name : key);
    p->trainable = trainable;
    p->lr_mult = lr_mult;
    p->init_kind = init_kind;
    p->init_a = init_a;
    TRY(pactcl_tensor_create(g->dev, PACTCL_F32, ndim, dims, &p->value));
    if (trainable && g->training_capable) {
        TRY(pactcl_tensor_create(g->dev, PACTCL_F32, ndim, dims, &p->grad));
        TRY(pactcl_tensor_create(g->dev, PACTCL_F32, ndim, dims, &p->velocity));
    }
    return g->n_params++;
}

int pactcl_graph_add_param_i8(struct pactcl_graph *g, const char *key, int ndim, const int64_t *dims)
{
    TRY(grow((void **)&g->params, &g->cap_params, g->n_params, sizeof *g->params));
    struct pactcl_param *p = &g->params[g->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->key, sizeof p->key, "%s", key);
    snprintf(p->paddle_name, sizeof p->paddle_name, "%s", key);
    TRY(pactcl_tensor_create(g->dev, PACTCL_I8, ndim, dims, &p->value));
    return g->n_params++;
}

int pactcl_graph_find_param(const struct pactcl_graph *g, const char *key)
{
    for (int i = 0; i < g->n_params; i++)
        if (strcmp(g->params[i].key, key) == 0)
            return i;
    return -1;
}

int64_t pactcl_graph_trainable_count(const struct pactcl_graph *g)
{
    int64_t n = 0;
    for (int i = 0; i < g->n_params; i++)
        if (g->params[i].trainable)
            n += pactcl_tensor_numel(g->params[i].value);
    return n;
}

/* Shape of a value without its batch dimension. */
static int value_shape(const struct pactcl_graph *g, int v, int64_t *dims)
{
    const struct pactcl_tensor *t = g->values[v].t;
    memcpy(dims, t->dims + 1, (size_t)(t->ndim - 1) * sizeof *dims);
    return t->ndim - 1;
}

int pactcl_graph_add_node(struct pactcl_graph *g, const struct pactcl_node *node)
{
    TRY(grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes, sizeof *g->nodes));
    struct pactcl_node *n = &g->nodes[g->n_nodes];
    *n = *node;
    n->saved[0] = n->saved[1] = NULL;
    n->q.clipped = n->q.quantized = n->q.wq = NULL;
    int64_t d[PACTCL_MAX_DIMS];
    int nd = value_shape(g, n->in, d);
    if (n->kind == PACTCL_NODE_BN) {
        const int64_t c[1] = { d[0] };
        TRY(pactcl_tensor_create(g->dev, PACTCL_F32, 1, c, &n->saved[0]));
        TRY(pactcl_tensor_create(g->dev, PACTCL_F32, 1, c, &n->saved[1]));
    } else if (n->kind == PACTCL_NODE_DROPOUT) {
        TRY(new_batch_tensor(g, PACTCL_U8, nd, d, &n->saved[0]));
    }
    /* int8 layers' quantized inputs and PACT outputs: shared (memory_plan.c). */
    if (n->quantized) {
        TRY(new_batch_tensor(g, PACTCL_F32, nd, d, &n->q.quantized));
        const struct pactcl_tensor *w = g->params[n->p[0]].value;
        TRY(pactcl_tensor_create(g->dev, PACTCL_F32, w->ndim, w->dims, &n->q.wq));
    }
    return g->n_nodes++;
}

int pactcl_graph_finish(struct pactcl_graph *g, int logits)
{
    const struct pactcl_tensor *t = g->values[logits].t;
    if (t->ndim != 2)
        return pactcl__set_error(PACTCL_EINTERNAL, "model: logits must be [N, classes]");
    g->logits = logits;
    const int64_t one[1] = { 1 };
    TRY(new_batch_tensor(g, PACTCL_I32, 0, NULL, &g->labels));
    TRY(pactcl_tensor_create(g->dev, PACTCL_F32, 1, one, &g->loss));
    TRY(new_batch_tensor(g, PACTCL_F32, 1, t->dims + 1, &g->prob));
    return pactcl__graph_plan_memory(g);
}

int pactcl_graph_set_batch(struct pactcl_graph *g, int batch)
{
    if (batch < 1 || batch > g->max_batch)
        return pactcl__set_error(PACTCL_EINVAL, "model: batch %d outside 1..%d", batch, g->max_batch);
    for (int i = 0; i < g->n_batch_tensors; i++)
        g->batch_tensors[i]->dims[0] = batch;
    g->batch = batch;
    return PACTCL_OK;
}

/* ---- forward ----------------------------------------------------------- */

static struct pactcl_tensor *P(struct pactcl_graph *g, int idx)
{
    return idx >= 0 ? g->params[idx].value : NULL;
}

/* PACT, input fake quant and weight fake quant of a quantized layer; returns
 * the input and weight the conv or linear op must use. */
static int quant_inputs(struct pactcl_graph *g, struct pactcl_node *n, int training, int axis,
                        struct pactcl_tensor **xin, struct pactcl_tensor **win)
{
    struct pactcl_quant_wrap *q = &n->q;
    union pactcl_op_params fq = { .fake_quant = { .bits = g->act_bits,
                                                  .moving_rate = g->moving_rate,
                                                  .is_test = !training } };
    TRY(RUN(g, PACTCL_OP_PACT_FWD, NULL, g->values[n->in].t, P(g, q->alpha), q->clipped));
    TRY(RUN(g, PACTCL_OP_FQ_MOVING_AVG_FWD, &fq, q->clipped, P(g, q->in_scale), P(g, q->in_state),
            P(g, q->in_accum), q->quantized));
    union pactcl_op_params fw = { .fake_quant = { .bits = g->weight_bits, .axis = axis } };
    TRY(RUN(g, PACTCL_OP_FQ_CHANNEL_FWD, &fw, P(g, n->p[0]), q->wq, P(g, q->w_scale)));
    *xin = q->quantized;
    *win = q->wq;
    return PACTCL_OK;
}

/* An exported int8 layer: quantize the input with its scale, then the int8
 * kernel with folded BN and activation. */
static int forward_int8(struct pactcl_graph *g, struct pactcl_node *n)
{
    union pactcl_op_params prm;
    memset(&prm, 0, sizeof prm);
    prm.int8.bits = g->act_bits;
    struct pactcl_tensor *x = g->values[n->in].t;
    if (n->pact_active) {
        TRY(RUN(g, PACTCL_OP_PACT_FWD, NULL, x, P(g, n->q.alpha), n->q.clipped));
        x = n->q.clipped;
    }
    TRY(RUN(g, PACTCL_OP_QUANTIZE_I8, &prm, x, P(g, n->in_scale), n->q.quantized));
    prm.int8.conv = n->conv;
    prm.int8.act = n->act == PACTCL_ACT_RELU ? PACTCL_INT8_ACT_RELU
                   : n->act == PACTCL_ACT_HARDSWISH ? PACTCL_INT8_ACT_HARDSWISH
                                                    : PACTCL_INT8_ACT_NONE;
    enum pactcl_op op = n->kind == PACTCL_NODE_LINEAR ? PACTCL_OP_LINEAR_I8
                        : n->depthwise                 ? PACTCL_OP_DWCONV_I8
                                                       : PACTCL_OP_CONV2D_I8;
    return RUN(g, op, &prm, n->q.quantized, P(g, n->p[0]), P(g, n->mult), P(g, n->p[1]),
               g->values[n->out].t);
}

static int forward_node(struct pactcl_graph *g, struct pactcl_node *n, int training, uint64_t seed)
{
    if (n->int8)
        return forward_int8(g, n);
    struct pactcl_tensor *x = g->values[n->in].t, *y = g->values[n->out].t;
    union pactcl_op_params prm;
    memset(&prm, 0, sizeof prm);
    switch (n->kind) {
    case PACTCL_NODE_CONV: {
        struct pactcl_tensor *xin = x, *win = P(g, n->p[0]);
        if (n->quantized)
            TRY(quant_inputs(g, n, training, 0, &xin, &win));
        prm.conv = n->conv;
        TRY(RUN(g, n->depthwise ? PACTCL_OP_DWCONV_FWD : PACTCL_OP_CONV2D_FWD, &prm, xin, win,
                P(g, n->p[1]), y));
        break;
    }
    case PACTCL_NODE_LINEAR: {
        struct pactcl_tensor *xin = x, *win = P(g, n->p[0]);
        if (n->quantized)
            TRY(quant_inputs(g, n, training, 1, &xin, &win));
        TRY(RUN(g, PACTCL_OP_LINEAR_FWD, NULL, xin, win, P(g, n->p[1]), y));
        break;
    }
    case PACTCL_NODE_BN:
        prm.bn.epsilon = g->bn_epsilon;
        prm.bn.momentum = g->bn_momentum;
        if (training)
            TRY(RUN(g, PACTCL_OP_BN_FWD_TRAIN, &prm, x, P(g, n->p[0]), P(g, n->p[1]), P(g, n->p[2]),
                    P(g, n->p[3]), y, n->saved[0], n->saved[1]));
        else
            TRY(RUN(g, PACTCL_OP_BN_FWD_EVAL, &prm, x, P(g, n->p[0]), P(g, n->p[1]), P(g, n->p[2]),
                    P(g, n->p[3]), y));
        break;
    case PACTCL_NODE_ACT:
        if (n->act == PACTCL_ACT_RELU)
            TRY(RUN(g, PACTCL_OP_RELU_FWD, NULL, x, y));
        else if (n->act == PACTCL_ACT_HARDSWISH)
            TRY(RUN(g, PACTCL_OP_HARDSWISH_FWD, NULL, x, y));
        else {
            prm.hardsigmoid.slope = 0.1666667f;
            prm.hardsigmoid.offset = 0.5f;
            TRY(RUN(g, PACTCL_OP_HARDSIGMOID_FWD, &prm, x, y));
        }
        break;
    case PACTCL_NODE_AVGPOOL:
        TRY(RUN(g, PACTCL_OP_AVGPOOL_FWD, NULL, x, y));
        break;
    case PACTCL_NODE_SE_SCALE:
        TRY(RUN(g, PACTCL_OP_SE_SCALE_FWD, NULL, x, g->values[n->in2].t, y));
        break;
    case PACTCL_NODE_ADD:
        TRY(RUN(g, PACTCL_OP_ADD, NULL, x, g->values[n->in2].t, y));
        break;
    case PACTCL_NODE_FLATTEN:
        break;
    case PACTCL_NODE_DROPOUT:
        if (training) {
            prm.dropout.p = g->dropout_p;
            prm.dropout.seed = seed;
            TRY(RUN(g, PACTCL_OP_DROPOUT_FWD, &prm, x, y, n->saved[0]));
        } else {
            TRY(pactcl_tensor_copy(y, x));
        }
        break;
    }
    if (training && n->obs[0] >= 0) {
        prm.fake_quant.moving_rate = g->moving_rate;
        TRY(RUN(g, PACTCL_OP_MA_OBSERVE, &prm, y, P(g, n->obs[0]), P(g, n->obs[1]), P(g, n->obs[2])));
    }
    return PACTCL_OK;
}

int pactcl_graph_forward(struct pactcl_graph *g, int training, uint64_t dropout_seed)
{
    if (training && !g->training_capable)
        return pactcl__set_error(PACTCL_EINVAL, "model: built for inference only");
    for (int i = 0; i < g->n_nodes; i++) {
        /* Each dropout layer draws its own stream. */
        uint64_t seed = dropout_seed ^ ((uint64_t)pactcl_hash32((uint32_t)i + 1u) << 32);
        TRY(forward_node(g, &g->nodes[i], training, seed));
    }
    return PACTCL_OK;
}

int pactcl_graph_loss(struct pactcl_graph *g)
{
    return RUN(g, PACTCL_OP_SOFTMAX_CE_FWD, NULL, g->values[g->logits].t, g->labels, g->loss,
               g->prob);
}

/* ---- backward ---------------------------------------------------------- */

/* Where the next gradient contribution to value v goes. */
static struct pactcl_tensor *grad_dst(struct pactcl_graph *g, int v, int *rc)
{
    struct pactcl_value *val = &g->values[v];
    *rc = PACTCL_OK;
    if (!val->grad_ready)
        return val->grad;
    if (!val->scratch) {
        int64_t d[PACTCL_MAX_DIMS];
        int nd = value_shape(g, v, d);
        *rc = new_batch_tensor(g, PACTCL_F32, nd, d, &val->scratch);
        if (*rc != PACTCL_OK)
            return NULL;
        val->scratch->dims[0] = g->batch;
    }
    return val->scratch;
}

/* Completes a contribution written to `dst` (from grad_dst). */
static int grad_done(struct pactcl_graph *g, int v, struct pactcl_tensor *dst)
{
    struct pactcl_value *val = &g->values[v];
    if (dst == val->scratch && val->grad_ready)
        TRY(RUN(g, PACTCL_OP_ADD, NULL, val->grad, val->scratch, val->grad));
    val->grad_ready = 1;
    return PACTCL_OK;
}

/* Passes dy to input v unchanged (residual add). */
static int grad_pass(struct pactcl_graph *g, int v, struct pactcl_tensor *dy)
{
    struct pactcl_value *val = &g->values[v];
    if (!val->grad)
        return PACTCL_OK;
    if (val->grad_ready)
        TRY(RUN(g, PACTCL_OP_ADD, NULL, val->grad, dy, val->grad));
    else
        TRY(pactcl_tensor_copy(val->grad, dy));
    val->grad_ready = 1;
    return PACTCL_OK;
}

static struct pactcl_tensor *G(struct pactcl_graph *g, int idx)
{
    return idx >= 0 ? g->params[idx].grad : NULL;
}

/* Input gradient of a conv or linear node, through the fake quant (straight
 * through) and PACT when quantized. */
static int backward_weighted(struct pactcl_graph *g, struct pactcl_node *n, struct pactcl_tensor *dy)
{
    int is_conv = n->kind == PACTCL_NODE_CONV;
    struct pactcl_tensor *xin = n->quantized ? n->q.quantized : g->values[n->in].t;
    struct pactcl_tensor *win = n->quantized ? n->q.wq : P(g, n->p[0]);
    union pactcl_op_params prm = { .conv = n->conv };
    if (is_conv)
        TRY(RUN(g, n->depthwise ? PACTCL_OP_DWCONV_BWD_FILTER : PACTCL_OP_CONV2D_BWD_FILTER, &prm,
                xin, dy, G(g, n->p[0]), G(g, n->p[1])));
    else
        TRY(RUN(g, PACTCL_OP_LINEAR_BWD_WEIGHT, NULL, xin, dy, G(g, n->p[0]), G(g, n->p[1])));
    /* The stem's input (the image) needs no gradient, but a quantized stem
     * still needs d(input) for PACT's alpha gradient: it then goes to the
     * PACT output buffer, which backward no longer needs. */
    int need_dx = g->values[n->in].grad != NULL;
    if (!need_dx && !n->quantized)
        return PACTCL_OK;
    int rc = PACTCL_OK;
    struct pactcl_tensor *dx = need_dx ? grad_dst(g, n->in, &rc) : n->q.clipped;
    TRY(rc);
    /* The quantized input is no longer needed either: it receives
     * d(quantized input), which the straight-through estimator passes to
     * PACT unchanged. */
    struct pactcl_tensor *dxin = n->quantized ? n->q.quantized : dx;
    if (is_conv)
        TRY(RUN(g, n->depthwise ? PACTCL_OP_DWCONV_BWD_DATA : PACTCL_OP_CONV2D_BWD_DATA, &prm, dy,
                win, dxin));
    else
        TRY(RUN(g, PACTCL_OP_LINEAR_BWD_DATA, NULL, dy, win, dxin));
    if (n->quantized)
        TRY(RUN(g, PACTCL_OP_PACT_BWD, NULL, g->values[n->in].t, P(g, n->q.alpha), dxin, dx,
                G(g, n->q.alpha)));
    return need_dx ? grad_done(g, n->in, dx) : PACTCL_OK;
}

static int backward_node(struct pactcl_graph *g, struct pactcl_node *n)
{
    struct pactcl_value *out = &g->values[n->out];
    if (!out->grad_ready)
        return PACTCL_OK;
    struct pactcl_tensor *dy = out->grad, *x = g->values[n->in].t, *dx;
    union pactcl_op_params prm;
    memset(&prm, 0, sizeof prm);
    int rc;
    switch (n->kind) {
    case PACTCL_NODE_CONV:
    case PACTCL_NODE_LINEAR:
        return backward_weighted(g, n, dy);
    case PACTCL_NODE_FLATTEN:
        /* out's gradient is a view of in's. */
        g->values[n->in].grad_ready = 1;
        return PACTCL_OK;
    case PACTCL_NODE_ADD:
        TRY(grad_pass(g, n->in, dy));
        return grad_pass(g, n->in2, dy);
    case PACTCL_NODE_SE_SCALE: {
        struct pactcl_tensor *ds = grad_dst(g, n->in2, &rc);
        TRY(rc);
        dx = grad_dst(g, n->in, &rc);
        TRY(rc);
        TRY(RUN(g, PACTCL_OP_SE_SCALE_BWD, NULL, x, g->values[n->in2].t, dy, dx, ds));
        TRY(grad_done(g, n->in2, ds));
        return grad_done(g, n->in, dx);
    }
    default:
        break;
    }
    if (!g->values[n->in].grad)
        return PACTCL_OK;
    dx = grad_dst(g, n->in, &rc);
    TRY(rc);
    switch (n->kind) {
    case PACTCL_NODE_BN:
        TRY(RUN(g, PACTCL_OP_BN_BWD, NULL, x, dy, P(g, n->p[0]), n->saved[0], n->saved[1], dx,
                G(g, n->p[0]), G(g, n->p[1])));
        break;
    case PACTCL_NODE_ACT:
        if (n->act == PACTCL_ACT_RELU)
            TRY(RUN(g, PACTCL_OP_RELU_BWD, NULL, out->t, dy, dx));
        else if (n->act == PACTCL_ACT_HARDSWISH)
            TRY(RUN(g, PACTCL_OP_HARDSWISH_BWD, NULL, x, dy, dx));
        else {
            prm.hardsigmoid.slope = 0.1666667f;
            prm.hardsigmoid.offset = 0.5f;
            TRY(RUN(g, PACTCL_OP_HARDSIGMOID_BWD, &prm, out->t, dy, dx));
        }
        break;
    case PACTCL_NODE_AVGPOOL:
        TRY(RUN(g, PACTCL_OP_AVGPOOL_BWD, NULL, dy, dx));
        break;
    case PACTCL_NODE_DROPOUT:
        prm.dropout.p = g->dropout_p;
        TRY(RUN(g, PACTCL_OP_DROPOUT_BWD, &prm, dy, n->saved[0], dx));
        break;
    default:
        return pactcl__set_error(PACTCL_EINTERNAL, "model: node kind %d has no backward", n->kind);
    }
    return grad_done(g, n->in, dx);
}

int pactcl_graph_backward(struct pactcl_graph *g)
{
    if (!g->training_capable)
        return pactcl__set_error(PACTCL_EINVAL, "model: built for inference only");
    for (int i = 0; i < g->n_values; i++) {
        g->values[i].grad_ready = 0;
        if (g->values[i].scratch)
            g->values[i].scratch->dims[0] = g->batch;
    }
    struct pactcl_value *lv = &g->values[g->logits];
    TRY(RUN(g, PACTCL_OP_SOFTMAX_CE_BWD, NULL, g->prob, g->labels, lv->grad));
    lv->grad_ready = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--)
        TRY(backward_node(g, &g->nodes[i]));
    return PACTCL_OK;
}

int pactcl_graph_sgd_step(struct pactcl_graph *g, float lr, float momentum, float l2_decay)
{
    for (int i = 0; i < g->n_params; i++) {
        struct pactcl_param *p = &g->params[i];
        if (!p->trainable || !p->grad)
            continue;
        union pactcl_op_params prm = { .sgd = { .lr = lr, .lr_mult = p->lr_mult,
                                                .momentum = momentum, .l2_decay = l2_decay } };
        TRY(RUN(g, PACTCL_OP_SGD_MOMENTUM, &prm, p->value, p->grad, p->velocity));
    }
    return PACTCL_OK;
}
