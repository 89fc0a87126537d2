/*
 * int8_model.c: reading the int8 model (docs/FORMATS.md §2) into an
 * inference graph built by mobilenetv3.c in its int8 form.  Every check
 * (format, version, sizes, checksums, every tensor's shape) fails with a
 * message naming the file; nothing is trusted before it is checked.
 */
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/state_dict.h"
#include "quant/int8_model.h"

#define MANIFEST_MAX (1 << 20)

static uint32_t crc_of(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Reads a whole regular file of at most `max` bytes. */
static int slurp(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    /* O_NONBLOCK: a FIFO must not block the open; fstat refuses it below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return pactcl__set_error(PACTCL_EIO, "%s: %s", path, strerror(err));
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        fclose(f);
        return pactcl__set_error(PACTCL_EFORMAT, "%s: not a regular file of at most %zu bytes", path, max);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        free(buf);
        return pactcl__set_error(PACTCL_EIO, "%s: short read", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return PACTCL_OK;
}

/* Value of "key value" line in the manifest text, or NULL. */
static const char *field(const char *text, const char *key, char *val, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            const char *v = p + kl + 1, *e = strchr(v, '\n');
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= len)
                return NULL;
            memcpy(val, v, n);
            val[n] = 0;
            return val;
        }
    }
    return NULL;
}

static int int_field(const char *text, const char *path, const char *key, long lo, long hi, long *out)
{
    char v[64], *end;
    if (!field(text, key, v, sizeof v))
        return pactcl__set_error(PACTCL_EFORMAT, "%s: missing '%s'", path, key);
    long x = strtol(v, &end, 10);
    if (*end || end == v || x < lo || x > hi)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: '%s %s' is out of range", path, key, v);
    *out = x;
    return PACTCL_OK;
}

int pactcl_int8_manifest_read(const char *model_path, const char *params_override,
                              struct pactcl_mnv3_config *cfg, char *params_path, size_t params_len)
{
    char *text = NULL;
    size_t len = 0;
    int rc = slurp(model_path, MANIFEST_MAX, &text, &len);
    if (rc != PACTCL_OK)
        return rc;
    char v[512];
    /* The checksum covers every byte before its own line. */
    const char *crc_line = strstr(text, "manifest_crc32 ");
    unsigned long want = 0;
    if (!crc_line || (crc_line != text && crc_line[-1] != '\n') ||
        sscanf(crc_line, "manifest_crc32 %8lx", &want) != 1) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: not a pactcl int8 model (no manifest_crc32)", model_path);
        goto done;
    }
    /* ... and must be the last line (docs/FORMATS.md): anything after it,
     * or a first line that covers nothing, would go unchecked. */
    const char *crc_end = strchr(crc_line, '\n');
    if (crc_line == text || !crc_end || (size_t)(crc_end + 1 - text) != len ||
        crc_of(text, (size_t)(crc_line - text)) != (uint32_t)want) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: manifest checksum mismatch (corrupt or edited)", model_path);
        goto done;
    }
    if (!field(text, "format", v, sizeof v) || strncmp(v, "pactcl-int8 ", 12) != 0) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: not a pactcl int8 model", model_path);
        goto done;
    }
    if (atoi(v + 12) != PACTCL_INT8_FORMAT_VERSION) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: format version %s, this pactcl reads version %d",
                               model_path, v + 12, PACTCL_INT8_FORMAT_VERSION);
        goto done;
    }
    memset(cfg, 0, sizeof *cfg);
    long classes, size, wb, ab, nbytes;
    if (!field(text, "arch", v, sizeof v) || pactcl_mnv3_arch_from_name(v, &cfg->arch) != PACTCL_OK) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: unknown or missing arch", model_path);
        goto done;
    }
    if ((rc = int_field(text, model_path, "num_classes", 1, 1 << 20, &classes)) != PACTCL_OK ||
        (rc = int_field(text, model_path, "image_size", 16, 4096, &size)) != PACTCL_OK ||
        (rc = int_field(text, model_path, "weight_bits", 2, 8, &wb)) != PACTCL_OK ||
        (rc = int_field(text, model_path, "activation_bits", 2, 8, &ab)) != PACTCL_OK ||
        (rc = int_field(text, model_path, "params_bytes", 1, 1L << 40, &nbytes)) != PACTCL_OK)
        goto done;
    cfg->num_classes = (int)classes;
    cfg->image_size = (int)size;
    cfg->weight_bits = (int)wb;
    cfg->act_bits = (int)ab;
    cfg->int8 = 1;
    if (params_override && *params_override) {
        snprintf(params_path, params_len, "%s", params_override);
    } else {
        if (!field(text, "params", v, sizeof v) || strchr(v, '/')) {
            rc = pactcl__set_error(PACTCL_EFORMAT, "%s: missing or invalid 'params' file name", model_path);
            goto done;
        }
        const char *slash = strrchr(model_path, '/');
        int dl = slash ? (int)(slash - model_path) : 0;
        snprintf(params_path, params_len, "%.*s%s%s", dl, model_path, slash ? "/" : "", v);
    }
    unsigned long pcrc = 0;
    if (!field(text, "params_crc32", v, sizeof v) || sscanf(v, "%8lx", &pcrc) != 1) {
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: missing params_crc32", model_path);
        goto done;
    }
    char *pbuf = NULL;
    size_t plen = 0;
    if ((rc = slurp(params_path, (size_t)nbytes, &pbuf, &plen)) != PACTCL_OK)
        goto done;
    if (plen != (size_t)nbytes || crc_of(pbuf, plen) != (uint32_t)pcrc)
        rc = pactcl__set_error(PACTCL_EFORMAT, "%s: size or checksum does not match %s (truncated or corrupt)",
                               params_path, model_path);
    free(pbuf);
done:
    free(text);
    return rc;
}

static int fill(struct pactcl_graph *g, const struct pactcl_state_dict *sd, const char *file,
                const char *key, int pidx, enum pactcl_sd_dtype dtype, const void **data)
{
    const struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, key);
    const struct pactcl_tensor *t = g->params[pidx].value;
    if (!e || e->value.type != PACTCL_SD_ARRAY || e->value.u.array.dtype != dtype)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: %s is missing or has the wrong dtype", file, key);
    const struct pactcl_sd_array *a = &e->value.u.array;
    int same = a->ndim == t->ndim;
    for (int i = 0; same && i < a->ndim; i++)
        same = a->dims[i] == t->dims[i];
    if (!same)
        return pactcl__set_error(PACTCL_ESHAPE, "%s: %s has the wrong shape for %s", file, key,
                                 pactcl_mnv3_arch_name(PACTCL_MNV3_SMALL));
    if (data)
        *data = a->data;
    return pactcl_tensor_write(g->params[pidx].value, a->data, a->nbytes);
}

static int load_layer(struct pactcl_graph *g, struct pactcl_node *n, const struct pactcl_state_dict *sd,
                      const char *file)
{
    char key[PACTCL_KEY_MAX], name[PACTCL_KEY_MAX + 32];
    snprintf(key, sizeof key, "%s", g->params[n->p[0]].key);
    char *dot = strstr(key, ".weight");
    if (dot)
        *dot = 0;
    int rc;
    snprintf(name, sizeof name, "%s.weight", key);
    if ((rc = fill(g, sd, file, name, n->p[0], PACTCL_SD_I1, NULL)) != PACTCL_OK)
        return rc;
    snprintf(name, sizeof name, "%s.input_scale", key);
    const void *in_scale;
    if ((rc = fill(g, sd, file, name, n->in_scale, PACTCL_SD_F4, &in_scale)) != PACTCL_OK)
        return rc;
    snprintf(name, sizeof name, "%s.out_bias", key);
    if ((rc = fill(g, sd, file, name, n->p[1], PACTCL_SD_F4, NULL)) != PACTCL_OK)
        return rc;
    /* mult = s_x * s_w * out_scale / (bin_a * bin_w), per output channel. */
    int64_t K = pactcl_tensor_numel(g->params[n->mult].value);
    const struct pactcl_sd_entry *ws, *os;
    snprintf(name, sizeof name, "%s.weight_scale", key);
    ws = pactcl_state_dict_find(sd, name);
    snprintf(name, sizeof name, "%s.out_scale", key);
    os = pactcl_state_dict_find(sd, name);
    if (!ws || !os || ws->value.type != PACTCL_SD_ARRAY || os->value.type != PACTCL_SD_ARRAY ||
        ws->value.u.array.dtype != PACTCL_SD_F4 || os->value.u.array.dtype != PACTCL_SD_F4 ||
        pactcl_sd_array_numel(&ws->value.u.array) != K || pactcl_sd_array_numel(&os->value.u.array) != K)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: %s scales are missing or the wrong size", file, key);
    float sx;
    memcpy(&sx, in_scale, sizeof sx);
    /* PACT alpha (absent in files written before it was kept: no clip).
     * Clipping at alpha then at the scale s equals clipping at s when
     * 0 < s <= alpha; otherwise (alpha below s, or negative: PACT then
     * also flips the sign) the clip runs before quantizing, as in QAT. */
    float alpha = FLT_MAX;
    snprintf(name, sizeof name, "%s.pact_alpha", key);
    if (pactcl_state_dict_find(sd, name)) {
        const void *a;
        if ((rc = fill(g, sd, file, name, n->q.alpha, PACTCL_SD_F4, &a)) != PACTCL_OK)
            return rc;
        memcpy(&alpha, a, sizeof alpha);
    } else if ((rc = pactcl_tensor_write(g->params[n->q.alpha].value, &alpha, sizeof alpha)) != PACTCL_OK) {
        return rc;
    }
    n->pact_active = !(sx > 0.0f && sx <= alpha);
    float bin_a = (float)((1 << (g->act_bits - 1)) - 1), bin_w = (float)((1 << (g->weight_bits - 1)) - 1);
    float *mult = malloc((size_t)K * sizeof *mult);
    if (!mult)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory loading %s", key);
    const float *w = ws->value.u.array.data, *o = os->value.u.array.data;
    for (int64_t k = 0; k < K; k++)
        mult[k] = sx * w[k] * o[k] / (bin_a * bin_w);
    rc = pactcl_tensor_write(g->params[n->mult].value, mult, (size_t)K * sizeof *mult);
    free(mult);
    return rc;
}

int pactcl_int8_model_load(struct pactcl_graph *g, const char *model_path, const char *params_override,
                           int image_size, struct pactcl_mnv3_config *cfg_out)
{
    struct pactcl_mnv3_config cfg;
    char params_path[4096];
    int rc = pactcl_int8_manifest_read(model_path, params_override, &cfg, params_path, sizeof params_path);
    if (rc != PACTCL_OK)
        return rc;
    if (image_size)
        cfg.image_size = image_size;
    if ((rc = pactcl_mnv3_build(g, &cfg)) != PACTCL_OK)
        return rc;
    struct pactcl_state_dict *sd = NULL;
    if ((rc = pactcl_state_dict_load(params_path, &sd)) != PACTCL_OK)
        return rc;
    for (int i = 0; rc == PACTCL_OK && i < g->n_nodes; i++) {
        struct pactcl_node *n = &g->nodes[i];
        if (n->int8) {
            rc = load_layer(g, n, sd, params_path);
        } else if (n->kind == PACTCL_NODE_CONV) {
            for (int k = 0; k < 2 && rc == PACTCL_OK; k++)
                rc = fill(g, sd, params_path, g->params[n->p[k]].key, n->p[k], PACTCL_SD_F4, NULL);
        }
    }
    pactcl_state_dict_free(sd);
    if (rc == PACTCL_OK)
        rc = pactcl__graph_int8_pact_scratch(g);
    if (rc == PACTCL_OK && cfg_out)
        *cfg_out = cfg;
    return rc;
}
