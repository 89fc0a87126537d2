/*
 * memory_plan.c: shared storage for the tensors of a training tape that live
 * only for a moment, run once by pactcl_graph_finish.
 *
 * Activation gradients.  A value's gradient is live only during part of the
 * backward pass: from the backward of its last reader (which writes it first)
 * to the backward of the node that produced it (which consumes it).  On a
 * chain like MobileNetV3 a handful are live at once, so giving each its own
 * buffer would hold as much memory again as all the activations.  Here every
 * gradient becomes a view into one of a few slot buffers, assigned by a
 * linear scan over the backward order: the gradients born at a step are
 * placed before those that die at it are released, so an op's input and
 * output gradients never share a slot.
 *
 * Layer-local scratch.  A quantized layer's PACT output is read only by its
 * own input fake quant, right after it is written (backward needs the layer's
 * input and alpha, not the clipped copy), and an int8 layer's quantized input
 * only by its own int8 kernel: each kind shares one buffer over all layers.
 * So does the PACT output of the int8 layers whose clip is active.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "model/graph.h"

#define TRY_OK(x)                  \
    do {                           \
        int rc_ = (x);             \
        if (rc_ != PACTCL_OK)      \
            return rc_;            \
    } while (0)

struct slot {
    int64_t per_sample; /* elements per batch item, the largest assigned */
    int busy;
};

static int root_of(const struct pactcl_graph *g, int v)
{
    while (g->values[v].alias_of >= 0)
        v = g->values[v].alias_of;
    return v;
}

static int64_t per_sample(const struct pactcl_graph *g, int v)
{
    const struct pactcl_tensor *t = g->values[v].t;
    int64_t n = 1;
    for (int d = 1; d < t->ndim; d++)
        n *= t->dims[d];
    return n;
}

/* The free slot that fits `need` most tightly, else the largest free one
 * (grown), else a new one. */
static int take_slot(struct slot **slots, int *n_slots, int64_t need, int share)
{
    int best = -1, largest = -1;
    for (int s = 0; share && s < *n_slots; s++) {
        struct slot *sl = &(*slots)[s];
        if (sl->busy)
            continue;
        if (sl->per_sample >= need && (best < 0 || sl->per_sample < (*slots)[best].per_sample))
            best = s;
        if (largest < 0 || sl->per_sample > (*slots)[largest].per_sample)
            largest = s;
    }
    if (best < 0)
        best = largest;
    if (best < 0) {
        struct slot *grown = realloc(*slots, (size_t)(*n_slots + 1) * sizeof **slots);
        if (!grown)
            return -1;
        *slots = grown;
        best = (*n_slots)++;
        grown[best].per_sample = 0;
    }
    struct slot *sl = &(*slots)[best];
    if (sl->per_sample < need)
        sl->per_sample = need;
    sl->busy = 1;
    return best;
}

/* A [max_batch, dims...] view of value v's shape at the start of `base`. */
static int shaped_view(struct pactcl_graph *g, int v, struct pactcl_tensor *base,
                     struct pactcl_tensor **out)
{
    const struct pactcl_tensor *t = g->values[v].t;
    int64_t full[PACTCL_MAX_DIMS];
    memcpy(full, t->dims, (size_t)t->ndim * sizeof *full);
    full[0] = g->max_batch;
    return pactcl_tensor_slice(base, 0, t->ndim, full, out);
}

static int plan_grads(struct pactcl_graph *g)
{
    const int nv = g->n_values, nn = g->n_nodes;
    /* first[v]: the backward step that writes v's gradient first (its last
     * reader; nn stands for the loss); last[v]: the step that consumes it
     * (its producer).  Only group roots (non-aliases) are planned. */
    int *first = malloc((size_t)nv * sizeof *first), *last = malloc((size_t)nv * sizeof *last);
    int *slot_of = malloc((size_t)nv * sizeof *slot_of);
    struct slot *slots = NULL;
    int n_slots = 0, rc = PACTCL_OK;
    if (!first || !last || !slot_of) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning gradients");
        goto done;
    }
    for (int v = 0; v < nv; v++)
        first[v] = last[v] = slot_of[v] = -1;
    for (int k = 0; k < nn; k++) {
        const struct pactcl_node *n = &g->nodes[k];
        const int ins[2] = { n->in, n->in2 };
        for (int i = 0; i < 2; i++)
            if (ins[i] >= 0 && first[root_of(g, ins[i])] < k)
                first[root_of(g, ins[i])] = k;
        if (g->values[n->out].alias_of < 0)
            last[n->out] = k;
    }
    first[root_of(g, g->logits)] = nn;
    for (int v = 0; v < nv; v++) {
        if (first[v] < 0)
            first[v] = last[v]; /* never read: born and gone at its producer */
    }
    for (int k = nn; k >= 0; k--) {
        for (int v = 0; v < nv; v++) {
            if (g->values[v].needs_grad && g->values[v].alias_of < 0 && first[v] == k) {
                slot_of[v] = take_slot(&slots, &n_slots, per_sample(g, v), g->share_grad_storage);
                if (slot_of[v] < 0) {
                    rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning gradients");
                    goto done;
                }
            }
        }
        for (int v = 0; v < nv; v++)
            if (slot_of[v] >= 0 && last[v] == k)
                slots[slot_of[v]].busy = 0;
    }
    g->grad_slots = calloc((size_t)(n_slots ? n_slots : 1), sizeof *g->grad_slots);
    if (!g->grad_slots) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning gradients");
        goto done;
    }
    g->n_grad_slots = n_slots;
    for (int s = 0; s < n_slots && rc == PACTCL_OK; s++) {
        const int64_t n = slots[s].per_sample * g->max_batch;
        rc = pactcl_tensor_create(g->dev, PACTCL_F32, 1, &n, &g->grad_slots[s]);
    }
    /* Roots first, then aliases, which view their root's slot. */
    for (int pass = 0; pass < 2 && rc == PACTCL_OK; pass++) {
        for (int v = 0; v < nv && rc == PACTCL_OK; v++) {
            struct pactcl_value *val = &g->values[v];
            int r = root_of(g, v);
            if (!g->values[r].needs_grad || (pass == 0) != (val->alias_of < 0) || slot_of[r] < 0)
                continue;
            rc = shaped_view(g, v, g->grad_slots[slot_of[r]], &val->grad);
            if (rc == PACTCL_OK)
                rc = pactcl__graph_track_batch_tensor(g, val->grad);
        }
    }
done:
    free(first);
    free(last);
    free(slot_of);
    free(slots);
    return rc;
}

/* The PACT outputs of all quantized layers share one float buffer, the int8
 * layers' quantized inputs one int8 buffer, each sized for the largest input. */
static int share_layer_scratch(struct pactcl_graph *g)
{
    int64_t f32 = 0, i8 = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const struct pactcl_node *n = &g->nodes[k];
        const int64_t need = per_sample(g, n->in);
        if (n->quantized && need > f32)
            f32 = need;
        if (n->int8 && need > i8)
            i8 = need;
    }
    const int64_t nf = f32 * g->max_batch, ni = i8 * g->max_batch;
    if (f32)
        TRY_OK(pactcl_tensor_create(g->dev, PACTCL_F32, 1, &nf, &g->scratch_f32));
    if (i8)
        TRY_OK(pactcl_tensor_create(g->dev, PACTCL_I8, 1, &ni, &g->scratch_i8));
    for (int k = 0; k < g->n_nodes; k++) {
        struct pactcl_node *n = &g->nodes[k];
        struct pactcl_tensor **view = n->quantized ? &n->q.clipped : n->int8 ? &n->q.quantized : NULL;
        if (!view)
            continue;
        TRY_OK(shaped_view(g, n->in, n->quantized ? g->scratch_f32 : g->scratch_i8, view));
        TRY_OK(pactcl__graph_track_batch_tensor(g, *view));
    }
    return PACTCL_OK;
}

int pactcl__graph_int8_pact_scratch(struct pactcl_graph *g)
{
    int64_t f32 = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const struct pactcl_node *n = &g->nodes[k];
        if (n->int8 && n->pact_active && per_sample(g, n->in) > f32)
            f32 = per_sample(g, n->in);
    }
    if (f32 == 0 || g->scratch_f32)
        return f32 == 0 ? PACTCL_OK
                        : pactcl__set_error(PACTCL_EINTERNAL, "model: int8 PACT scratch made twice");
    const int64_t nf = f32 * g->max_batch;
    TRY_OK(pactcl_tensor_create(g->dev, PACTCL_F32, 1, &nf, &g->scratch_f32));
    for (int k = 0; k < g->n_nodes; k++) {
        struct pactcl_node *n = &g->nodes[k];
        if (!n->int8 || !n->pact_active)
            continue;
        TRY_OK(shaped_view(g, n->in, g->scratch_f32, &n->q.clipped));
        TRY_OK(pactcl__graph_track_batch_tensor(g, n->q.clipped));
    }
    return PACTCL_OK;
}

int pactcl__graph_plan_memory(struct pactcl_graph *g)
{
    TRY_OK(share_layer_scratch(g));
    return g->training_capable ? plan_grads(g) : PACTCL_OK;
}
