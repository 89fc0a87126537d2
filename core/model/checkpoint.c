/* checkpoint.c: model and optimizer state <-> PaddlePaddle state dicts. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"

static int tensor_to_dict(struct pactcl_state_dict *sd, const char *key,
                          const struct pactcl_tensor *t)
{
    size_t bytes = pactcl_tensor_bytes(t);
    float *host = malloc(bytes);
    if (!host)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory saving %s", key);
    int rc = pactcl_tensor_read(t, host, bytes);
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_f32(sd, key, t->ndim, t->dims, host);
    free(host);
    return rc;
}

int pactcl_checkpoint_params_to_dict(const struct pactcl_graph *g, struct pactcl_state_dict **out)
{
    struct pactcl_state_dict *sd = NULL, *names = NULL;
    int rc = pactcl_state_dict_create(&sd);
    for (int i = 0; rc == PACTCL_OK && i < g->n_params; i++)
        rc = tensor_to_dict(sd, g->params[i].key, g->params[i].value);
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_dict(sd, PACTCL_SD_NAME_TABLE_KEY, &names);
    for (int i = 0; rc == PACTCL_OK && i < g->n_params; i++)
        rc = pactcl_state_dict_set_str(names, g->params[i].key, g->params[i].paddle_name);
    if (rc != PACTCL_OK) {
        pactcl_state_dict_free(sd);
        return rc;
    }
    *out = sd;
    return PACTCL_OK;
}

static void velocity_key(const struct pactcl_param *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s_velocity_0", p->paddle_name);
}

int pactcl_checkpoint_opt_to_dict(const struct pactcl_graph *g, int last_epoch, double last_lr,
                                  double best_top1, int next_iter, struct pactcl_state_dict **out)
{
    struct pactcl_state_dict *sd = NULL, *sched = NULL;
    int rc = pactcl_state_dict_create(&sd);
    for (int i = 0; rc == PACTCL_OK && i < g->n_params; i++) {
        const struct pactcl_param *p = &g->params[i];
        if (!p->trainable || !p->velocity)
            continue;
        char key[PACTCL_KEY_MAX + 16];
        velocity_key(p, key, sizeof key);
        rc = tensor_to_dict(sd, key, p->velocity);
    }
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_dict(sd, "LR_Scheduler", &sched);
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_int(sched, "last_epoch", last_epoch);
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_float(sched, "last_lr", last_lr);
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_set_float(sd, "pactcl_best_top1", best_top1);
    if (rc == PACTCL_OK && next_iter >= 0)
        rc = pactcl_state_dict_set_int(sd, "pactcl_next_iter", next_iter);
    if (rc != PACTCL_OK) {
        pactcl_state_dict_free(sd);
        return rc;
    }
    *out = sd;
    return PACTCL_OK;
}

/* Copies a float32 (or float64) array into tensor t; the shape was checked. */
static int array_to_tensor(const struct pactcl_sd_array *a, struct pactcl_tensor *t, const char *file,
                           const char *key)
{
    int64_t n = pactcl_sd_array_numel(a);
    if (a->dtype == PACTCL_SD_F4)
        return pactcl_tensor_write(t, a->data, (size_t)n * sizeof(float));
    if (a->dtype != PACTCL_SD_F8)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: %s has dtype %s, expected float32", file, key,
                                 pactcl_sd_dtype_name(a->dtype));
    float *host = malloc((size_t)n * sizeof *host);
    if (!host)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory loading %s", key);
    for (int64_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, (const char *)a->data + i * 8, 8);
        host[i] = (float)v;
    }
    int rc = pactcl_tensor_write(t, host, (size_t)n * sizeof *host);
    free(host);
    return rc;
}

static int same_shape(const struct pactcl_sd_array *a, const struct pactcl_tensor *t)
{
    /* Paddle stores [1]-shaped state as [1]; a 0-d array also fits one element. */
    if (a->ndim == 0)
        return pactcl_tensor_numel(t) == 1;
    if (a->ndim != t->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != t->dims[i])
            return 0;
    return 1;
}

static void shape_text(int ndim, const int64_t *dims, char *buf, size_t len)
{
    size_t u = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (u < len)
        snprintf(buf + u, len - u, "]");
}

/* The last Linear layer, whose size follows the number of classes. */
static int is_classifier_output(const struct pactcl_graph *g, const char *key)
{
    (void)g;
    return strncmp(key, "classifier.3.", 13) == 0;
}

/* The reference loads --pretrained into the FP32 model and quantizes it
 * afterwards, so an FP32 file fills a QAT model: "P._layer.weight" takes
 * "P.weight". */
static const struct pactcl_sd_entry *fp32_entry_for(const struct pactcl_state_dict *sd, const char *key)
{
    const char *l = strstr(key, "._layer.");
    if (!l || strstr(l + 8, "_fake_quant") || strstr(l + 8, "_act_preprocess"))
        return NULL;
    char plain[PACTCL_KEY_MAX];
    snprintf(plain, sizeof plain, "%.*s.%s", (int)(l - key), key, l + 8);
    return pactcl_state_dict_find(sd, plain);
}

/* Quantization state the FP32 model does not have. */
static int is_qat_state(const char *key)
{
    return strstr(key, "._ma_output_scale.") || strstr(key, "._fake_quant_") ||
           strstr(key, "._act_preprocess.");
}

int pactcl_checkpoint_load_params(struct pactcl_graph *g, const struct pactcl_state_dict *sd,
                                  const char *file, int allow_classifier_mismatch,
                                  struct pactcl_load_report *report)
{
    struct pactcl_load_report r = { 0 };
    for (int i = 0; i < g->n_params; i++) {
        struct pactcl_param *p = &g->params[i];
        const struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, p->key);
        if (!e)
            e = fp32_entry_for(sd, p->key);
        if (!e && is_qat_state(p->key))
            continue; /* QAT state absent from an FP32 file starts at its initial value */
        if (!e) {
            pactcl__log(PACTCL_LOG_WARN, "Skip loading for %s. %s is not found in the provided dict.",
                        p->key, p->key);
            r.missing++;
            continue;
        }
        if (e->value.type != PACTCL_SD_ARRAY)
            return pactcl__set_error(PACTCL_EFORMAT, "%s: %s is not an array", file, p->key);
        const struct pactcl_sd_array *a = &e->value.u.array;
        if (!same_shape(a, p->value)) {
            char got[96], want[96];
            shape_text(a->ndim, a->dims, got, sizeof got);
            shape_text(p->value->ndim, p->value->dims, want, sizeof want);
            if (allow_classifier_mismatch && is_classifier_output(g, p->key)) {
                pactcl__log(PACTCL_LOG_WARN,
                            "Skip loading for %s. %s receives a shape %s, but the expected shape is "
                            "%s (fine-tuning to another number of classes).",
                            p->key, p->key, got, want);
                r.skipped_shape++;
                continue;
            }
            return pactcl__set_error(PACTCL_ESHAPE,
                                     "%s: %s receives a shape %s, but the expected shape is %s", file,
                                     p->key, got, want);
        }
        int rc = array_to_tensor(a, p->value, file, p->key);
        if (rc != PACTCL_OK)
            return rc;
        r.loaded++;
    }
    for (size_t i = 0; i < sd->count; i++) {
        const char *name = sd->entries[i].name;
        if (strcmp(name, PACTCL_SD_NAME_TABLE_KEY) != 0 && pactcl_graph_find_param(g, name) < 0)
            r.unexpected++;
    }
    if (r.unexpected)
        pactcl__log(PACTCL_LOG_INFO, "%s: %d entries match no parameter of this model and were ignored",
                    file, r.unexpected);
    if (report)
        *report = r;
    return PACTCL_OK;
}

int pactcl_checkpoint_load_opt(struct pactcl_graph *g, const struct pactcl_state_dict *sd,
                               const char *file, int *last_epoch, double *last_lr,
                               double *best_top1, int *next_iter)
{
    for (int i = 0; i < g->n_params; i++) {
        struct pactcl_param *p = &g->params[i];
        if (!p->trainable || !p->velocity)
            continue;
        char key[PACTCL_KEY_MAX + 16];
        velocity_key(p, key, sizeof key);
        const struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, key);
        if (!e || e->value.type != PACTCL_SD_ARRAY)
            return pactcl__set_error(PACTCL_EFORMAT, "%s: optimizer state %s is missing", file, key);
        if (!same_shape(&e->value.u.array, p->velocity))
            return pactcl__set_error(PACTCL_ESHAPE, "%s: optimizer state %s has the wrong shape",
                                     file, key);
        int rc = array_to_tensor(&e->value.u.array, p->velocity, file, key);
        if (rc != PACTCL_OK)
            return rc;
    }
    const struct pactcl_sd_entry *s = pactcl_state_dict_find(sd, "LR_Scheduler");
    if (s && s->value.type == PACTCL_SD_DICT) {
        const struct pactcl_sd_entry *le = pactcl_state_dict_find(s->value.u.dict, "last_epoch");
        const struct pactcl_sd_entry *lr = pactcl_state_dict_find(s->value.u.dict, "last_lr");
        if (last_epoch && le && le->value.type == PACTCL_SD_INT)
            *last_epoch = (int)le->value.u.i;
        if (last_lr && lr && lr->value.type == PACTCL_SD_FLOAT)
            *last_lr = lr->value.u.f;
    }
    const struct pactcl_sd_entry *b = pactcl_state_dict_find(sd, "pactcl_best_top1");
    if (best_top1 && b && b->value.type == PACTCL_SD_FLOAT)
        *best_top1 = b->value.u.f;
    const struct pactcl_sd_entry *it = pactcl_state_dict_find(sd, "pactcl_next_iter");
    if (next_iter)
        *next_iter = it && it->value.type == PACTCL_SD_INT && it->value.u.i >= 0 ? (int)it->value.u.i : 0;
    return PACTCL_OK;
}
