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
 *
 * Activations of inference-only graphs.  Without backward, a value is dead
 * after its last reader, so activations share slots by the same scan run
 * forward: a value is born at its producer and released after its last
 * reader; the input lives from the start, the logits to the end.  Until
 * then each value holds a shape-only tensor (graph.c, shape_only_tensor).
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

/* Places every root v with want[v] in a slot for the steps start[v]..end[v],
 * visiting the steps from `from` to `to` (either direction): at each step the
 * values starting there take a slot before those ending there give theirs
 * back, so one node's inputs and outputs never share.  Then allocates the
 * slot buffers into *buffers (n_buffers of them); slot_of[v] is -1 for the
 * roots not placed. */
static int assign_slots(struct pactcl_graph *g, const int *want, const int *start, const int *end,
                        int from, int to, int share, int *slot_of, struct pactcl_tensor ***buffers,
                        int *n_buffers)
{
    const int nv = g->n_values, dir = from <= to ? 1 : -1;
    struct slot *slots = NULL;
    int n_slots = 0, rc = PACTCL_OK;
    for (int v = 0; v < nv; v++)
        slot_of[v] = -1;
    for (int k = from; k != to + dir; k += dir) {
        for (int v = 0; v < nv; v++) {
            if (want[v] && g->values[v].alias_of < 0 && start[v] == k) {
                slot_of[v] = take_slot(&slots, &n_slots, per_sample(g, v), share);
                if (slot_of[v] < 0) {
                    free(slots);
                    return pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning buffers");
                }
            }
        }
        for (int v = 0; v < nv; v++)
            if (slot_of[v] >= 0 && end[v] == k)
                slots[slot_of[v]].busy = 0;
    }
    *buffers = calloc((size_t)(n_slots ? n_slots : 1), sizeof **buffers);
    if (!*buffers)
        rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning buffers");
    else
        *n_buffers = n_slots;
    for (int i = 0; i < n_slots && rc == PACTCL_OK; i++) {
        const int64_t n = slots[i].per_sample * g->max_batch;
        rc = pactcl_tensor_create(g->dev, PACTCL_F32, 1, &n, &(*buffers)[i]);
    }
    free(slots);
    return rc;
}

/* Per value: the last node reading it (aliases' readers count for their
 * root) in last_read, the node writing it in written (-1: none). */
static void reads_and_writes(const struct pactcl_graph *g, int *last_read, int *written)
{
    for (int v = 0; v < g->n_values; v++)
        last_read[v] = written[v] = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        const struct pactcl_node *n = &g->nodes[k];
        const int ins[2] = { n->in, n->in2 };
        for (int i = 0; i < 2; i++)
            if (ins[i] >= 0 && last_read[root_of(g, ins[i])] < k)
                last_read[root_of(g, ins[i])] = k;
        if (g->values[n->out].alias_of < 0)
            written[n->out] = k;
    }
}

/* Backward: a gradient starts at its value's last reader (the loss, step
 * n_nodes, for the logits) and ends at its value's producer. */
static int plan_grads(struct pactcl_graph *g)
{
    const int nv = g->n_values, nn = g->n_nodes;
    int *first = malloc((size_t)nv * sizeof *first), *last = malloc((size_t)nv * sizeof *last);
    int *slot_of = malloc((size_t)nv * sizeof *slot_of), *want = malloc((size_t)nv * sizeof *want);
    int rc = PACTCL_OK;
    if (!first || !last || !slot_of || !want) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning gradients");
        goto done;
    }
    reads_and_writes(g, first, last);
    first[root_of(g, g->logits)] = nn;
    for (int v = 0; v < nv; v++) {
        if (first[v] < 0)
            first[v] = last[v]; /* never read: born and gone at its producer */
        want[v] = g->values[v].needs_grad;
    }
    rc = assign_slots(g, want, first, last, nn, 0, g->share_grad_storage, slot_of, &g->grad_slots,
                      &g->n_grad_slots);
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
    free(want);
    return rc;
}

/* Replaces the tensor `old` by `new` in the list set_batch patches. */
static void retrack(struct pactcl_graph *g, const struct pactcl_tensor *old, struct pactcl_tensor *new)
{
    for (int i = 0; i < g->n_batch_tensors; i++)
        if (g->batch_tensors[i] == old)
            g->batch_tensors[i] = new;
}

/* Forward, inference only: a value starts at its producer (-1: the input)
 * and ends at its last reader (n_nodes: the logits, read afterwards). */
static int plan_values(struct pactcl_graph *g)
{
    const int nv = g->n_values, nn = g->n_nodes;
    int *born = malloc((size_t)nv * sizeof *born), *dies = malloc((size_t)nv * sizeof *dies);
    int *slot_of = malloc((size_t)nv * sizeof *slot_of), *want = malloc((size_t)nv * sizeof *want);
    int rc = PACTCL_OK;
    if (!born || !dies || !slot_of || !want) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "model: out of memory planning activations");
        goto done;
    }
    reads_and_writes(g, dies, born);
    dies[root_of(g, g->logits)] = nn;
    for (int v = 0; v < nv; v++) {
        if (dies[v] < born[v])
            dies[v] = born[v]; /* never read: gone after its producer */
        want[v] = 1;
    }
    rc = assign_slots(g, want, born, dies, -1, nn, 1, slot_of, &g->value_slots, &g->n_value_slots);
    /* Roots first, then aliases, which view their root's slot. */
    for (int pass = 0; pass < 2 && rc == PACTCL_OK; pass++) {
        for (int v = 0; v < nv && rc == PACTCL_OK; v++) {
            struct pactcl_value *val = &g->values[v];
            int r = root_of(g, v);
            if ((pass == 0) != (val->alias_of < 0) || slot_of[r] < 0)
                continue;
            struct pactcl_tensor *view = NULL;
            rc = shaped_view(g, v, g->value_slots[slot_of[r]], &view);
            if (rc == PACTCL_OK) {
                view->dims[0] = val->t->dims[0];
                retrack(g, val->t, view);
                pactcl_tensor_free(val->t);
                val->t = view;
            }
        }
    }
done:
    free(born);
    free(dies);
    free(slot_of);
    free(want);
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
    return g->training_capable ? plan_grads(g) : plan_values(g);
}
