/*
 * fuzz_pickle.c: libFuzzer target for the .pdparams/.pdopt pickle reader
 * (core/io/pickle_reader.c) and writer (pickle_writer.c).
 *
 * Any bytes must load or be refused with PACTCL_EFORMAT (or ENOMEM) and
 * *out == NULL.  What loads must be well formed (array sizes agree with
 * their shapes, strings are NUL-terminated UTF-8 without embedded NULs), and
 * must survive a round trip: save_memory succeeds, loading that gives an
 * equal dict, and saving the reloaded dict gives the same bytes (the writer
 * is deterministic and the reader loses nothing the writer writes).
 *
 * Seeds: fuzz/corpus/fuzz_pickle (tests/fixtures/pdparams: protocols 2 and
 * 4, numpy 1.x and 2.x names, Python 2 strings, .pdopt nesting, the "evil"
 * and broken files).
 */
#include "config.h"

#include "fuzz_util.h"

#include "io/state_dict.h"
#include "io/state_dict_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

/* Names and strings come out NUL-terminated and valid UTF-8 (protocol 2's
 * Latin-1 strings are converted on load).  The fuzz targets link the
 * library's objects, so its internal checker is at hand. */
static int valid_utf8_cstr(const char *s)
{
    return s != NULL && pactcl__sd_valid_utf8((const unsigned char *)s, strlen(s));
}

static void check_dict(const struct pactcl_state_dict *sd, int depth)
{
    FUZZ_CHECK(sd != NULL && depth <= 64);
    for (size_t i = 0; i < sd->count; i++) {
        const struct pactcl_sd_entry *e = &sd->entries[i];
        FUZZ_CHECK(valid_utf8_cstr(e->name));
        /* The index finds each name at its own entry (names are unique). */
        FUZZ_CHECK(pactcl_state_dict_find(sd, e->name) == e);
        const struct pactcl_sd_value *v = &e->value;
        switch (v->type) {
        case PACTCL_SD_ARRAY: {
            const struct pactcl_sd_array *a = &v->u.array;
            size_t isz = pactcl_sd_dtype_size(a->dtype);
            FUZZ_CHECK(isz != 0);
            FUZZ_CHECK(a->ndim >= 0 && a->ndim <= PACTCL_SD_MAX_DIMS);
            int empty = 0;
            for (int k = 0; k < a->ndim; k++) {
                FUZZ_CHECK(a->dims[k] >= 0);
                empty |= a->dims[k] == 0;
            }
            /* numel is what the checkpoint and int8 readers compare shapes
             * with: it must not overflow on (0, 2**62, 2**62). */
            int64_t numel = pactcl_sd_array_numel(a);
            if (empty) {
                FUZZ_CHECK(a->nbytes == 0 && numel == 0);
            } else {
                FUZZ_CHECK((uint64_t)numel * isz == a->nbytes);
            }
            FUZZ_CHECK(a->nbytes == 0 || a->data != NULL);
            if (a->nbytes) {
                volatile uint8_t sink =
                    (uint8_t)(((const uint8_t *)a->data)[0] ^ ((const uint8_t *)a->data)[a->nbytes - 1]);
                (void)sink;
            }
            break;
        }
        case PACTCL_SD_DICT:
            check_dict(v->u.dict, depth + 1);
            break;
        case PACTCL_SD_STR:
            FUZZ_CHECK(valid_utf8_cstr(v->u.str));
            break;
        case PACTCL_SD_BOOL:
            FUZZ_CHECK(v->u.b == 0 || v->u.b == 1);
            break;
        case PACTCL_SD_INT:
        case PACTCL_SD_FLOAT:
        case PACTCL_SD_NONE:
            break;
        default:
            FUZZ_CHECK(!"unknown value type");
        }
    }
}

/* Equal as values: floats bit for bit (NaN payloads included). */
static int same_dict(const struct pactcl_state_dict *a, const struct pactcl_state_dict *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const struct pactcl_sd_entry *x = &a->entries[i], *y = &b->entries[i];
        if (strcmp(x->name, y->name) != 0 || x->value.type != y->value.type)
            return 0;
        const struct pactcl_sd_value *u = &x->value, *w = &y->value;
        switch (u->type) {
        case PACTCL_SD_ARRAY:
            if (u->u.array.dtype != w->u.array.dtype || u->u.array.ndim != w->u.array.ndim ||
                u->u.array.nbytes != w->u.array.nbytes ||
                memcmp(u->u.array.dims, w->u.array.dims,
                       (size_t)u->u.array.ndim * sizeof u->u.array.dims[0]) != 0 ||
                (u->u.array.nbytes &&
                 memcmp(u->u.array.data, w->u.array.data, u->u.array.nbytes) != 0))
                return 0;
            break;
        case PACTCL_SD_DICT:
            if (!same_dict(u->u.dict, w->u.dict))
                return 0;
            break;
        case PACTCL_SD_INT:
            if (u->u.i != w->u.i)
                return 0;
            break;
        case PACTCL_SD_FLOAT:
            if (memcmp(&u->u.f, &w->u.f, sizeof u->u.f) != 0)
                return 0;
            break;
        case PACTCL_SD_STR:
            if (strcmp(u->u.str, w->u.str) != 0)
                return 0;
            break;
        case PACTCL_SD_BOOL:
            if (u->u.b != w->u.b)
                return 0;
            break;
        case PACTCL_SD_NONE:
            break;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pactcl_state_dict *sd = (struct pactcl_state_dict *)1;
    int rc = pactcl_state_dict_load_memory(data, size, "fuzz-input", &sd);
    fuzz_explain(rc);
    if (rc != PACTCL_OK) {
        FUZZ_CHECK(rc == PACTCL_EFORMAT || rc == PACTCL_ENOMEM);
        FUZZ_CHECK(sd == NULL);
        FUZZ_CHECK(pactcl_last_error()[0] != '\0');
        return 0;
    }
    check_dict(sd, 0);

    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    FUZZ_CHECK(pactcl_state_dict_save_memory(sd, &buf, &len) == PACTCL_OK);
    struct pactcl_state_dict *back = NULL;
    FUZZ_CHECK(pactcl_state_dict_load_memory(buf, len, "round-trip", &back) == PACTCL_OK);
    FUZZ_CHECK(same_dict(sd, back));
    FUZZ_CHECK(pactcl_state_dict_save_memory(back, &buf2, &len2) == PACTCL_OK);
    FUZZ_CHECK(len == len2 && memcmp(buf, buf2, len) == 0);

    free(buf);
    free(buf2);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(sd);
    return 0;
}
