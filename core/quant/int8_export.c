/*
 * int8_export.c: a trained PACT QAT graph -> the int8 model files
 * (docs/FORMATS.md §2), after the reference's save_quantized_model: each
 * layer keeps its moving-average input scale, weights become int8 with their
 * channel-wise abs-max scale, and BatchNorm is folded into the per-channel
 * output scale and bias.  Unlike the reference, the PACT alpha is kept, so
 * that int8 inference clips as QAT did (docs/DEVIATIONS.md).
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io/atomic_file.h"
#include "io/state_dict.h"
#include "quant/int8_model.h"

static float *read_param(const struct pactcl_graph *g, int idx)
{
    const struct pactcl_tensor *t = g->params[idx].value;
    float *h = malloc(pactcl_tensor_bytes(t));
    if (!h) {
        pactcl__set_error(PACTCL_ENOMEM, "out of memory exporting %s", g->params[idx].key);
        return NULL;
    }
    if (pactcl_tensor_read(t, h, pactcl_tensor_bytes(t)) != PACTCL_OK) {
        free(h);
        return NULL;
    }
    return h;
}

/* The layer key: "features.0.0._layer.weight" -> "features.0.0". */
static void layer_key(const char *weight_key, char *out, size_t len)
{
    snprintf(out, len, "%s", weight_key);
    char *p = strstr(out, "._layer.weight");
    if (!p)
        p = strstr(out, ".weight");
    if (p)
        *p = 0;
}

/* The node reading value v (the next layer), or NULL. */
static const struct pactcl_node *consumer(const struct pactcl_graph *g, int v, enum pactcl_node_kind kind)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].in == v && g->nodes[i].kind == kind)
            return &g->nodes[i];
    return NULL;
}

static const char *act_name(enum pactcl_act a)
{
    return a == PACTCL_ACT_RELU ? "relu" : a == PACTCL_ACT_HARDSWISH ? "hardswish" : "none";
}

/* Channel-wise quantization exactly as the fake quant computes it
 * (SEED-SPEC §3.5), so that the int8 weights are the ones QAT trained with. */
static void quantize_weights(const float *w, int64_t n, int64_t channels, int axis1, int64_t cols,
                             int bits, int8_t *q, float *scale)
{
    float bin = (float)((1 << (bits - 1)) - 1);
    for (int64_t c = 0; c < channels; c++)
        scale[c] = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = axis1 ? i % cols : i / (n / channels);
        scale[c] = fmaxf(scale[c], fabsf(w[i]));
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = axis1 ? i % cols : i / (n / channels);
        float s = scale[c];
        float inv = s <= 1e-30f ? 1.0f / (s + 1e-6f) : 1.0f / s;
        float xc = fminf(fmaxf(w[i], -s), s);
        q[i] = (int8_t)roundf((bin * inv) * xc);
    }
}

struct exporter {
    const struct pactcl_graph *g;
    struct pactcl_state_dict *sd;
    char *layers;   /* manifest "layer" lines */
    size_t layers_len, layers_cap;
    int n_layers;
    int wbits;
    float eps;
};

static int append_layer_line(struct exporter *e, const char *line)
{
    size_t n = strlen(line);
    if (e->layers_len + n + 1 > e->layers_cap) {
        size_t cap = e->layers_cap ? 2 * e->layers_cap + n : 4096 + n;
        char *p = realloc(e->layers, cap);
        if (!p)
            return pactcl__set_error(PACTCL_ENOMEM, "out of memory exporting");
        e->layers = p;
        e->layers_cap = cap;
    }
    memcpy(e->layers + e->layers_len, line, n + 1);
    e->layers_len += n;
    return PACTCL_OK;
}

static int export_quantized(struct exporter *e, const struct pactcl_node *n)
{
    const struct pactcl_graph *g = e->g;
    const struct pactcl_tensor *wt = g->params[n->p[0]].value;
    int is_linear = n->kind == PACTCL_NODE_LINEAR;
    int64_t numel = pactcl_tensor_numel(wt);
    int64_t K = is_linear ? wt->dims[1] : wt->dims[0];
    char key[PACTCL_KEY_MAX], name[PACTCL_KEY_MAX + 32];
    layer_key(g->params[n->p[0]].key, key, sizeof key);
    float *w = read_param(g, n->p[0]), *in_scale = read_param(g, n->q.in_scale);
    int8_t *q = malloc((size_t)numel);
    float *ws = malloc((size_t)K * sizeof *ws), *os = malloc((size_t)K * sizeof *os),
          *ob = malloc((size_t)K * sizeof *ob);
    float *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL, *bias = NULL;
    int rc = (w && in_scale && q && ws && os && ob) ? PACTCL_OK
                                                    : pactcl__set_error(PACTCL_ENOMEM, "out of memory exporting %s", key);
    enum pactcl_act act = PACTCL_ACT_NONE;
    if (rc == PACTCL_OK) {
        quantize_weights(w, numel, K, is_linear, K, e->wbits, q, ws);
        const struct pactcl_node *bn = is_linear ? NULL : consumer(g, n->out, PACTCL_NODE_BN);
        if (bn) {
            gamma = read_param(g, bn->p[0]);
            beta = read_param(g, bn->p[1]);
            mean = read_param(g, bn->p[2]);
            var = read_param(g, bn->p[3]);
            if (!gamma || !beta || !mean || !var)
                rc = PACTCL_ENOMEM;
            for (int64_t k = 0; rc == PACTCL_OK && k < K; k++) {
                os[k] = gamma[k] / sqrtf(var[k] + e->eps);
                ob[k] = beta[k] - mean[k] * os[k];
            }
            const struct pactcl_node *a = consumer(g, bn->out, PACTCL_NODE_ACT);
            act = a ? a->act : PACTCL_ACT_NONE;
        } else {
            if (n->p[1] >= 0 && !(bias = read_param(g, n->p[1])))
                rc = PACTCL_ENOMEM;
            for (int64_t k = 0; rc == PACTCL_OK && k < K; k++) {
                os[k] = 1.0f;
                ob[k] = bias ? bias[k] : 0.0f;
            }
            const struct pactcl_node *a = consumer(g, n->out, PACTCL_NODE_ACT);
            act = a ? a->act : PACTCL_ACT_NONE;
        }
    }
    const int64_t kd[1] = { K }, one[1] = { 1 };
    if (rc == PACTCL_OK) {
        snprintf(name, sizeof name, "%s.weight", key);
        rc = pactcl_state_dict_set_array(e->sd, name, PACTCL_SD_I1, wt->ndim, wt->dims, q);
    }
    if (rc == PACTCL_OK) {
        snprintf(name, sizeof name, "%s.weight_scale", key);
        rc = pactcl_state_dict_set_f32(e->sd, name, 1, kd, ws);
    }
    if (rc == PACTCL_OK) {
        snprintf(name, sizeof name, "%s.input_scale", key);
        rc = pactcl_state_dict_set_f32(e->sd, name, 1, one, in_scale);
    }
    if (rc == PACTCL_OK) {
        /* Kept so that int8 inference clips as QAT did where alpha fell below
         * the scale or turned negative (the reference drops it). */
        float *alpha = read_param(g, n->q.alpha);
        snprintf(name, sizeof name, "%s.pact_alpha", key);
        rc = alpha ? pactcl_state_dict_set_f32(e->sd, name, 1, one, alpha) : PACTCL_ENOMEM;
        free(alpha);
    }
    if (rc == PACTCL_OK) {
        snprintf(name, sizeof name, "%s.out_scale", key);
        rc = pactcl_state_dict_set_f32(e->sd, name, 1, kd, os);
    }
    if (rc == PACTCL_OK) {
        snprintf(name, sizeof name, "%s.out_bias", key);
        rc = pactcl_state_dict_set_f32(e->sd, name, 1, kd, ob);
    }
    if (rc == PACTCL_OK) {
        char line[256];
        snprintf(line, sizeof line, "layer %s %s %lld %lld %lld %d %s\n", key,
                 is_linear ? "linear" : n->depthwise ? "dwconv" : "conv",
                 (long long)(is_linear ? wt->dims[0] : n->depthwise ? K : wt->dims[1]), (long long)K,
                 (long long)(is_linear ? 1 : wt->dims[2]), is_linear ? 1 : n->conv.stride_h,
                 act_name(act));
        rc = append_layer_line(e, line);
        e->n_layers++;
    }
    free(w);
    free(in_scale);
    free(q);
    free(ws);
    free(os);
    free(ob);
    free(gamma);
    free(beta);
    free(mean);
    free(var);
    free(bias);
    return rc;
}

/* The float SE convs keep their weights and bias. */
static int export_float_conv(struct exporter *e, const struct pactcl_node *n)
{
    const struct pactcl_graph *g = e->g;
    char key[PACTCL_KEY_MAX], name[PACTCL_KEY_MAX + 16];
    layer_key(g->params[n->p[0]].key, key, sizeof key);
    int rc = PACTCL_OK;
    for (int i = 0; i < 2 && rc == PACTCL_OK; i++) {
        const struct pactcl_tensor *t = g->params[n->p[i]].value;
        float *v = read_param(g, n->p[i]);
        if (!v)
            return PACTCL_ENOMEM;
        snprintf(name, sizeof name, "%s.%s", key, i ? "bias" : "weight");
        rc = pactcl_state_dict_set_f32(e->sd, name, t->ndim, t->dims, v);
        free(v);
    }
    return rc;
}

static uint32_t crc_of(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

int pactcl_int8_export(const struct pactcl_graph *g, const struct pactcl_mnv3_config *cfg,
                       const char *dir, const char *base, char *model_path, size_t model_len)
{
    if (!cfg->pact_quant)
        return pactcl__set_error(PACTCL_EINVAL, "export: the model was not trained with --pact_quant");
    struct exporter e = { .g = g, .wbits = cfg->weight_bits, .eps = g->bn_epsilon };
    int rc = pactcl_state_dict_create(&e.sd);
    for (int i = 0; rc == PACTCL_OK && i < g->n_nodes; i++) {
        const struct pactcl_node *n = &g->nodes[i];
        if (n->quantized)
            rc = export_quantized(&e, n);
        else if (n->kind == PACTCL_NODE_CONV)
            rc = export_float_conv(&e, n);
    }
    void *buf = NULL;
    size_t len = 0;
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_save_memory(e.sd, &buf, &len);
    char params_path[4096], manifest_path[4096], params_name[512];
    snprintf(params_name, sizeof params_name, "%s.pcparams", base);
    snprintf(params_path, sizeof params_path, "%s/%s", dir, params_name);
    snprintf(manifest_path, sizeof manifest_path, "%s/%s.pcmodel", dir, base);
    struct pactcl__atomic_file af;
    if (rc == PACTCL_OK && (rc = pactcl__atomic_open(&af, params_path)) == PACTCL_OK) {
        int werr = fwrite(buf, 1, len, af.fp) == len ? 0 : errno;
        rc = pactcl__atomic_commit(&af, werr);
    }
    char *manifest = NULL;
    if (rc == PACTCL_OK) {
        size_t cap = e.layers_len + 4096;
        manifest = malloc(cap);
        if (!manifest)
            rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory exporting");
        else {
            int m = snprintf(manifest, cap,
                             "# pactcl int8 inference model (docs/FORMATS.md)\n"
                             "format pactcl-int8 %d\n"
                             "arch %s\nnum_classes %d\nimage_size %d\n"
                             "weight_bits %d\nactivation_bits %d\nquantized_layers %d\n"
                             "%s"
                             "params %s\nparams_bytes %zu\nparams_crc32 %08x\n",
                             PACTCL_INT8_FORMAT_VERSION, pactcl_mnv3_arch_name(cfg->arch),
                             cfg->num_classes, cfg->image_size, cfg->weight_bits, cfg->act_bits,
                             e.n_layers, e.layers ? e.layers : "", params_name, len,
                             crc_of(buf, len));
            snprintf(manifest + m, cap - (size_t)m, "manifest_crc32 %08x\n",
                     crc_of(manifest, (size_t)m));
        }
    }
    if (rc == PACTCL_OK && (rc = pactcl__atomic_open(&af, manifest_path)) == PACTCL_OK) {
        size_t ml = strlen(manifest);
        int werr = fwrite(manifest, 1, ml, af.fp) == ml ? 0 : errno;
        rc = pactcl__atomic_commit(&af, werr);
    }
    if (rc == PACTCL_OK && model_path)
        snprintf(model_path, model_len, "%s", manifest_path);
    free(manifest);
    free(buf);
    free(e.layers);
    pactcl_state_dict_free(e.sd);
    return rc;
}
