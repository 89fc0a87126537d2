/*
 * state_dict.c: the in-memory state dict: an ordered name -> value list with a
 * hash index, so that loading a file with many (or repeated) keys stays linear.
 */
#include "internal.h"

#include "state_dict_internal.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtype_info[PACTCL_SD_DTYPE_COUNT] = {
    [PACTCL_SD_F4] = { "f4", 4 }, [PACTCL_SD_F8] = { "f8", 8 }, [PACTCL_SD_I4] = { "i4", 4 },
    [PACTCL_SD_I8] = { "i8", 8 }, [PACTCL_SD_U1] = { "u1", 1 }, [PACTCL_SD_I1] = { "i1", 1 },
    [PACTCL_SD_B1] = { "b1", 1 },
};

size_t pactcl_sd_dtype_size(enum pactcl_sd_dtype dtype)
{
    return (unsigned)dtype < PACTCL_SD_DTYPE_COUNT ? dtype_info[dtype].size : 0;
}

const char *pactcl_sd_dtype_name(enum pactcl_sd_dtype dtype)
{
    return (unsigned)dtype < PACTCL_SD_DTYPE_COUNT ? dtype_info[dtype].name : "unknown";
}

int64_t pactcl_sd_array_numel(const struct pactcl_sd_array *a)
{
    /* A zero dimension leaves the others unbounded, as in numpy (a file may
     * hold shape (0, 2**62, 2**62)): test for it first, so that the product,
     * otherwise bounded by nbytes, cannot overflow. */
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] == 0)
            return 0;
    int64_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        n *= a->dims[i];
    return n;
}

const char *pactcl__sd_shape_problem(enum pactcl_sd_dtype dtype, int ndim, const int64_t *dims,
                                     size_t *nbytes)
{
    if ((unsigned)dtype >= PACTCL_SD_DTYPE_COUNT)
        return "the dtype is unknown";
    if (ndim < 0 || ndim > PACTCL_SD_MAX_DIMS)
        return "the rank is not 0..8";
    if (ndim > 0 && !dims)
        return "the dims are missing";
    int empty = 0;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return "a dimension is negative";
        if (dims[i] == 0)
            empty = 1;
    }
    /* A zero anywhere makes any other dimension legal, as in numpy. */
    size_t n = empty ? 0 : dtype_info[dtype].size;
    for (int i = 0; i < ndim && n; i++) {
        if ((uint64_t)dims[i] > (SIZE_MAX >> 1) / n)
            return "the byte size overflows";
        n *= (size_t)dims[i];
    }
    *nbytes = n;
    return NULL;
}

int pactcl__sd_valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t more;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0;
        }
        if (n - i - 1 < more)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += more + 1;
    }
    return 1;
}

void pactcl__sd_value_clear(struct pactcl_sd_value *v)
{
    switch (v->type) {
    case PACTCL_SD_ARRAY:
        free(v->u.array.data);
        break;
    case PACTCL_SD_DICT:
        pactcl_state_dict_free(v->u.dict);
        break;
    case PACTCL_SD_STR:
        free(v->u.str);
        break;
    case PACTCL_SD_INT:
    case PACTCL_SD_FLOAT:
    case PACTCL_SD_BOOL:
    case PACTCL_SD_NONE:
        break;
    }
    v->type = PACTCL_SD_NONE;
}

int pactcl_state_dict_create(struct pactcl_state_dict **out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_create: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory creating a state dict");
    return PACTCL_OK;
}

void pactcl_state_dict_free(struct pactcl_state_dict *sd)
{
    if (!sd)
        return;
    for (size_t i = 0; i < sd->count; i++) {
        free(sd->entries[i].name);
        pactcl__sd_value_clear(&sd->entries[i].value);
    }
    free(sd->entries);
    free(sd->slots);
    free(sd);
}

/* ---- the name index ----------------------------------------------------- */

/* FNV-1a: names are short and the index only has to spread them. */
static size_t hash_name(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211u;
    }
    return (size_t)h;
}

/* The slot that holds `name`, or the empty slot where it would go. */
static size_t find_slot(const struct pactcl_state_dict *sd, const char *name, size_t len)
{
    size_t mask = sd->nslots - 1;
    size_t i = hash_name(name, len) & mask;
    while (sd->slots[i]) {
        const char *other = sd->entries[sd->slots[i] - 1].name;
        if (strncmp(other, name, len) == 0 && other[len] == '\0')
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

/* Fills empty slots from the entries. */
static void reindex(struct pactcl_state_dict *sd)
{
    for (size_t e = 0; e < sd->count; e++) {
        const char *name = sd->entries[e].name;
        sd->slots[find_slot(sd, name, strlen(name))] = e + 1;
    }
}

static int grow_index(struct pactcl_state_dict *sd, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory indexing a state dict");
    free(sd->slots);
    sd->slots = slots;
    sd->nslots = nslots;
    reindex(sd);
    return PACTCL_OK;
}

static struct pactcl_sd_entry *lookup(const struct pactcl_state_dict *sd, const char *name,
                                      size_t len)
{
    if (!sd->nslots)
        return NULL;
    size_t slot = sd->slots[find_slot(sd, name, len)];
    return slot ? &sd->entries[slot - 1] : NULL;
}

struct pactcl_sd_entry *pactcl_state_dict_find(const struct pactcl_state_dict *sd,
                                               const char *name)
{
    return sd && name ? lookup(sd, name, strlen(name)) : NULL;
}

/* ---- setting and removing ------------------------------------------------ */

int pactcl__sd_set_value(struct pactcl_state_dict *sd, const char *name, size_t name_len,
                         struct pactcl_sd_value *value)
{
    struct pactcl_sd_entry *old = lookup(sd, name, name_len);
    if (old) {
        pactcl__sd_value_clear(&old->value);
        old->value = *value;
        return PACTCL_OK;
    }
    int rc = PACTCL_ENOMEM;
    char *copy = malloc(name_len + 1);
    if (!copy)
        goto fail;
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    if (sd->count == sd->cap) {
        size_t cap = sd->cap ? 2 * sd->cap : 16;
        struct pactcl_sd_entry *e = realloc(sd->entries, cap * sizeof *e);
        if (!e)
            goto fail;
        sd->entries = e;
        sd->cap = cap;
    }
    /* Keep the index at most half full so probes stay short. */
    if (2 * (sd->count + 1) > sd->nslots) {
        rc = grow_index(sd, sd->nslots ? 2 * sd->nslots : 32);
        if (rc != PACTCL_OK)
            goto fail;
    }
    sd->entries[sd->count].name = copy;
    sd->entries[sd->count].value = *value;
    sd->slots[find_slot(sd, copy, name_len)] = sd->count + 1;
    sd->count++;
    return PACTCL_OK;
fail:
    free(copy);
    pactcl__sd_value_clear(value);
    if (rc == PACTCL_ENOMEM)
        pactcl__set_error(rc, "out of memory adding state dict entry '%.*s'", (int)name_len, name);
    return rc;
}

static int check_args(const struct pactcl_state_dict *sd, const char *name, const char *fn)
{
    if (!sd || !name)
        return pactcl__set_error(PACTCL_EINVAL, "%s: NULL argument", fn);
    return PACTCL_OK;
}

int pactcl_state_dict_set_array(struct pactcl_state_dict *sd, const char *name,
                                enum pactcl_sd_dtype dtype, int ndim, const int64_t *dims,
                                const void *data)
{
    int rc = check_args(sd, name, "pactcl_state_dict_set_array");
    if (rc != PACTCL_OK)
        return rc;
    size_t nbytes;
    const char *problem = pactcl__sd_shape_problem(dtype, ndim, dims, &nbytes);
    if (problem)
        return pactcl__set_error(PACTCL_EINVAL, "state dict entry '%s': %s", name, problem);
    if (nbytes && !data)
        return pactcl__set_error(PACTCL_EINVAL, "state dict entry '%s': no data", name);
    struct pactcl_sd_value v = { .type = PACTCL_SD_ARRAY };
    v.u.array.dtype = dtype;
    v.u.array.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        v.u.array.dims[i] = dims[i];
    v.u.array.nbytes = nbytes;
    if (nbytes) {
        v.u.array.data = malloc(nbytes);
        if (!v.u.array.data)
            return pactcl__set_error(PACTCL_ENOMEM, "out of memory copying array '%s' (%zu bytes)",
                                     name, nbytes);
        memcpy(v.u.array.data, data, nbytes);
    }
    return pactcl__sd_set_value(sd, name, strlen(name), &v);
}

int pactcl_state_dict_set_f32(struct pactcl_state_dict *sd, const char *name, int ndim,
                              const int64_t *dims, const float *data)
{
    return pactcl_state_dict_set_array(sd, name, PACTCL_SD_F4, ndim, dims, data);
}

static int set_scalar(struct pactcl_state_dict *sd, const char *name, struct pactcl_sd_value *v,
                      const char *fn)
{
    int rc = check_args(sd, name, fn);
    if (rc != PACTCL_OK)
        return rc;
    return pactcl__sd_set_value(sd, name, strlen(name), v);
}

int pactcl_state_dict_set_int(struct pactcl_state_dict *sd, const char *name, int64_t value)
{
    struct pactcl_sd_value v = { .type = PACTCL_SD_INT, .u.i = value };
    return set_scalar(sd, name, &v, "pactcl_state_dict_set_int");
}

int pactcl_state_dict_set_float(struct pactcl_state_dict *sd, const char *name, double value)
{
    struct pactcl_sd_value v = { .type = PACTCL_SD_FLOAT, .u.f = value };
    return set_scalar(sd, name, &v, "pactcl_state_dict_set_float");
}

int pactcl_state_dict_set_bool(struct pactcl_state_dict *sd, const char *name, int value)
{
    struct pactcl_sd_value v = { .type = PACTCL_SD_BOOL, .u.b = value != 0 };
    return set_scalar(sd, name, &v, "pactcl_state_dict_set_bool");
}

int pactcl_state_dict_set_none(struct pactcl_state_dict *sd, const char *name)
{
    struct pactcl_sd_value v = { .type = PACTCL_SD_NONE };
    return set_scalar(sd, name, &v, "pactcl_state_dict_set_none");
}

int pactcl_state_dict_set_str(struct pactcl_state_dict *sd, const char *name, const char *value)
{
    int rc = check_args(sd, name, "pactcl_state_dict_set_str");
    if (rc != PACTCL_OK)
        return rc;
    if (!value)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_set_str: NULL value");
    struct pactcl_sd_value v = { .type = PACTCL_SD_STR, .u.str = pactcl__strdup(value) };
    if (!v.u.str)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory copying string '%s'", name);
    return pactcl__sd_set_value(sd, name, strlen(name), &v);
}

int pactcl_state_dict_set_dict(struct pactcl_state_dict *sd, const char *name,
                               struct pactcl_state_dict **child)
{
    int rc = check_args(sd, name, "pactcl_state_dict_set_dict");
    if (rc == PACTCL_OK && !child)
        rc = pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_set_dict: NULL argument");
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl_sd_value v = { .type = PACTCL_SD_DICT };
    rc = pactcl_state_dict_create(&v.u.dict);
    if (rc != PACTCL_OK)
        return rc;
    *child = v.u.dict;
    rc = pactcl__sd_set_value(sd, name, strlen(name), &v);
    if (rc != PACTCL_OK)
        *child = NULL;
    return rc;
}

int pactcl_state_dict_remove(struct pactcl_state_dict *sd, const char *name)
{
    int rc = check_args(sd, name, "pactcl_state_dict_remove");
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, name);
    if (!e)
        return pactcl__set_error(PACTCL_ENOTFOUND, "state dict has no entry '%s'", name);
    size_t at = (size_t)(e - sd->entries);
    free(e->name);
    pactcl__sd_value_clear(&e->value);
    memmove(e, e + 1, (sd->count - at - 1) * sizeof *e);
    sd->count--;
    /* Entry numbers after `at` moved; removal is rare, so re-index in place. */
    memset(sd->slots, 0, sd->nslots * sizeof *sd->slots);
    reindex(sd);
    return PACTCL_OK;
}
