/*
 * graph.h: a training tape.  A model is a list of nodes over values
 * (activations) and parameters; forward runs the nodes in order, backward in
 * reverse, each through ops of the chosen device.  The structure is built once
 * (mobilenetv3.c); the tape only knows op-level building blocks.
 *
 * Not installed; exported from libpactcl for the pactcl command and tests.
 */
#ifndef PACTCL_GRAPH_H
#define PACTCL_GRAPH_H

#include "pactcl.h"

#define PACTCL_KEY_MAX 96

enum pactcl_act {
    PACTCL_ACT_NONE = 0,
    PACTCL_ACT_RELU,
    PACTCL_ACT_HARDSWISH,
    PACTCL_ACT_HARDSIGMOID
};

/* A named tensor of the state dict: trainable (weights, alpha) or state
 * (BN running stats, quantization scales). */
struct pactcl_param {
    char key[PACTCL_KEY_MAX];        /* structured name, e.g. "features.0.0.weight" */
    char paddle_name[PACTCL_KEY_MAX]; /* Paddle's internal name, e.g. "conv2d_0.w_0" */
    struct pactcl_tensor *value;
    struct pactcl_tensor *grad;     /* trainable only */
    struct pactcl_tensor *velocity; /* trainable only (momentum) */
    int trainable;
    float lr_mult;
    /* Initialisation: 0 constant, 1 normal(0, init_a), 2 uniform(-init_a, init_a). */
    int init_kind;
    float init_a;
};

struct pactcl_value {
    struct pactcl_tensor *t;
    struct pactcl_tensor *grad;    /* train mode only: a view into a grad slot (memory_plan.c) */
    int needs_grad;
    struct pactcl_tensor *scratch; /* for accumulating a second gradient contribution */
    int grad_ready;                /* grad written during the current backward pass */
    int alias_of;                  /* >= 0: t and grad are views of that value's */
};

enum pactcl_node_kind {
    PACTCL_NODE_CONV,     /* conv2d or depthwise, optional bias, optional QAT wrapper */
    PACTCL_NODE_BN,
    PACTCL_NODE_ACT,
    PACTCL_NODE_AVGPOOL,
    PACTCL_NODE_SE_SCALE, /* out = in * in2 (in2 is [N,C,1,1]) */
    PACTCL_NODE_ADD,      /* out = in + in2 */
    PACTCL_NODE_FLATTEN,  /* out is a view of in */
    PACTCL_NODE_LINEAR,   /* optional QAT wrapper */
    PACTCL_NODE_DROPOUT
};

/* Per quantized layer (conv or linear): PACT, input fake quant, weight fake quant. */
struct pactcl_quant_wrap {
    int alpha;                         /* param index: PACT alpha [1] */
    int in_scale, in_state, in_accum;  /* params: moving-average state [1] */
    int w_scale;                       /* param: per-channel weight scale */
    struct pactcl_tensor *clipped;     /* PACT output (a view of shared scratch) */
    struct pactcl_tensor *quantized;   /* fake-quantized input (what the conv sees) */
    struct pactcl_tensor *wq;          /* fake-quantized weight */
};

struct pactcl_node {
    enum pactcl_node_kind kind;
    int in, in2, out; /* value indices (in2 = -1 when unused) */
    int depthwise;
    enum pactcl_act act;
    struct pactcl_conv_params conv;
    /* Param indices: conv/linear weight, bias (-1 if none); BN gamma, beta, mean, var. */
    int p[4];
    int quantized;
    struct pactcl_quant_wrap q;
    /* Output observer (QAT): param indices of scale, state, accum; -1 when none. */
    int obs[3];
    /* Int8 inference (exported model): the conv or linear runs int8 x int8
     * with BN and the activation `act` folded in; param indices of its input
     * scale [1] and per-channel output multiplier; p[0] is the int8 weight
     * and p[1] the folded bias; q.quantized holds the int8 input.  q.alpha
     * is the layer's PACT alpha, applied before quantizing (into q.clipped)
     * when pact_active: wherever it is not a no-op (memory_plan.c). */
    int int8;
    int in_scale, mult;
    int pact_active;
    /* Saved for backward: BN mean/invstd; dropout mask. */
    struct pactcl_tensor *saved[2];
};

struct pactcl_graph {
    pactcl_device *dev;
    int training_capable; /* grads allocated */
    struct pactcl_param *params;
    int n_params, cap_params;
    struct pactcl_value *values;
    int n_values, cap_values;
    struct pactcl_node *nodes;
    int n_nodes, cap_nodes;
    int input, logits;    /* value indices */
    int max_batch;
    int batch;            /* current batch (<= max_batch) */
    /* Settings used by nodes. */
    float bn_epsilon, bn_momentum;
    float dropout_p;
    int weight_bits, act_bits;
    float moving_rate;
    /* Loss. */
    struct pactcl_tensor *labels, *loss, *prob;
    /* Tensors whose dims[0] is the batch (patched by pactcl_graph_set_batch). */
    struct pactcl_tensor **batch_tensors;
    int n_batch_tensors, cap_batch_tensors;
    /* Buffers shared by transient tensors (memory_plan.c): the PACT outputs,
     * the int8 layers' quantized inputs, and the activation gradients. */
    struct pactcl_tensor *scratch_f32, *scratch_i8;
    struct pactcl_tensor **grad_slots;
    int n_grad_slots;
    struct pactcl_tensor **value_slots; /* inference-only graphs: the activations */
    int n_value_slots;
    /* 0 (set before building): a gradient slot per value, for tests to compare. */
    int share_grad_storage;
};

/* ---- building (mobilenetv3.c uses these) -------------------------------- */
int pactcl_graph_init(struct pactcl_graph *g, pactcl_device *dev, int max_batch, int with_grads);
void pactcl_graph_release(struct pactcl_graph *g);
/* A new value of shape [max_batch, dims...] (with a gradient when need_grad
 * and the graph trains); returns its index or a negative status.  Gradients,
 * and an inference graph's activations, get storage at pactcl_graph_finish. */
int pactcl_graph_add_value(struct pactcl_graph *g, int ndim, const int64_t *dims_without_batch,
                           int need_grad);
/* A value whose tensors are views, of another shape, of value `of`'s. */
int pactcl_graph_add_alias(struct pactcl_graph *g, int of, int ndim, const int64_t *dims_without_batch);
/* A new parameter; returns its index or a negative status. */
int pactcl_graph_add_param(struct pactcl_graph *g, const char *key, const char *paddle_name,
                           int ndim, const int64_t *dims, int trainable, float lr_mult,
                           int init_kind, float init_a);
/* A new int8 parameter (weights of the exported model). */
int pactcl_graph_add_param_i8(struct pactcl_graph *g, const char *key, int ndim, const int64_t *dims);
/* Appends a node (copied) after allocating what it needs; returns its index. */
int pactcl_graph_add_node(struct pactcl_graph *g, const struct pactcl_node *node);
/* Internal to the tape: memory_plan.c gives the activation gradients and the
 * layer-local scratch their views into shared buffers. */
int pactcl__graph_plan_memory(struct pactcl_graph *g);
/* The float scratch for int8 layers whose PACT clip is active (set by the
 * int8 model loader once it knows which are). */
int pactcl__graph_int8_pact_scratch(struct pactcl_graph *g);
int pactcl__graph_track_batch_tensor(struct pactcl_graph *g, struct pactcl_tensor *t);
/* Adds the loss tensors for `classes` outputs of value `logits`. */
int pactcl_graph_finish(struct pactcl_graph *g, int logits);

/* ---- running ------------------------------------------------------------ */
/* Sets the batch of every activation (1..max_batch). */
int pactcl_graph_set_batch(struct pactcl_graph *g, int batch);
/* Forward pass; `training` selects BN batch stats, dropout, quant-state updates
 * and observers.  `dropout_seed` seeds this step's dropout masks. */
int pactcl_graph_forward(struct pactcl_graph *g, int training, uint64_t dropout_seed);
/* Mean softmax cross-entropy of the logits against g->labels into g->loss. */
int pactcl_graph_loss(struct pactcl_graph *g);
/* Backward from the loss: every trainable param's grad is overwritten. */
int pactcl_graph_backward(struct pactcl_graph *g);
/* One momentum-SGD step over every trainable param. */
int pactcl_graph_sgd_step(struct pactcl_graph *g, float lr, float momentum, float l2_decay);

int pactcl_graph_find_param(const struct pactcl_graph *g, const char *key);
/* Number of trainable elements. */
int64_t pactcl_graph_trainable_count(const struct pactcl_graph *g);

#endif /* PACTCL_GRAPH_H */
