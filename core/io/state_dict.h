/*
 * state_dict.h: PaddlePaddle state dicts (.pdparams, .pdopt) in memory and on disk.
 *
 * Not installed: the library, the CLI and the tests use it.  The functions are
 * named pactcl_state_dict_* / pactcl_sd_* so that the tests can link them from
 * the shared library.
 *
 * A state dict is what paddle.save pickles (SEED-SPEC 1.5): an ordered mapping
 * from names to numpy arrays, plus, in .pdopt files and name tables, nested
 * dicts and plain Python scalars.  Entries keep the file's order, and setting an
 * existing name replaces its value in place, as a Python dict does.
 *
 * Arrays are always held in C order with little-endian elements, exactly the
 * bytes numpy would write for a C-contiguous array; Fortran-ordered arrays are
 * reordered on load.
 *
 * Loading is safe on untrusted files: only the pickle opcodes and globals that
 * numpy arrays in a dict need are understood, nothing is ever executed, and
 * every length is checked against the bytes that remain.  Failures return
 * PACTCL_EFORMAT (bad content), PACTCL_EIO (the file system) or PACTCL_ENOMEM,
 * with pactcl_last_error() naming the file and, for content, the byte offset.
 */
#ifndef PACTCL_STATE_DICT_H
#define PACTCL_STATE_DICT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The key paddle.save adds last; paddle.load removes it (keep_name_table=False). */
#define PACTCL_SD_NAME_TABLE_KEY "StructuredToParameterName@@"

/* The most dimensions an array may have (numpy allows more; Paddle uses <= 6). */
#define PACTCL_SD_MAX_DIMS 8

/* Element types, by their numpy codes. */
enum pactcl_sd_dtype {
    PACTCL_SD_F4 = 0, /* float32 */
    PACTCL_SD_F8,     /* float64 */
    PACTCL_SD_I4,     /* int32 */
    PACTCL_SD_I8,     /* int64 */
    PACTCL_SD_U1,     /* uint8 */
    PACTCL_SD_I1,     /* int8 */
    PACTCL_SD_B1,     /* bool, one byte each, 0 or 1 */
    PACTCL_SD_DTYPE_COUNT
};

enum pactcl_sd_type {
    PACTCL_SD_ARRAY = 0,
    PACTCL_SD_DICT,
    PACTCL_SD_INT,
    PACTCL_SD_FLOAT,
    PACTCL_SD_STR,
    PACTCL_SD_BOOL,
    PACTCL_SD_NONE
};

struct pactcl_sd_array {
    enum pactcl_sd_dtype dtype;
    int ndim;                           /* 0 (a scalar array) .. PACTCL_SD_MAX_DIMS */
    int64_t dims[PACTCL_SD_MAX_DIMS];   /* each >= 0 */
    size_t nbytes;                      /* product(dims) * itemsize */
    void *data;                         /* C order, little-endian; NULL when nbytes == 0 */
};

struct pactcl_state_dict;

struct pactcl_sd_value {
    enum pactcl_sd_type type;
    union {
        struct pactcl_sd_array array;   /* PACTCL_SD_ARRAY */
        struct pactcl_state_dict *dict; /* PACTCL_SD_DICT, owned */
        int64_t i;                      /* PACTCL_SD_INT */
        double f;                       /* PACTCL_SD_FLOAT */
        char *str;                      /* PACTCL_SD_STR, UTF-8, owned */
        int b;                          /* PACTCL_SD_BOOL, 0 or 1 */
    } u;
};

struct pactcl_sd_entry {
    char *name; /* UTF-8, owned */
    struct pactcl_sd_value value;
};

/* Read entries[0..count) freely; change them only through the functions below
 * (the name index must stay in step).  Array data may be written in place. */
struct pactcl_state_dict {
    size_t count;
    struct pactcl_sd_entry *entries;
    /* private */
    size_t cap;
    size_t *slots; /* open-addressing name index: entry number + 1, 0 = empty */
    size_t nslots; /* a power of two, or 0 */
};

/* ---- dtypes ------------------------------------------------------------ */
size_t pactcl_sd_dtype_size(enum pactcl_sd_dtype dtype);   /* 0 if unknown */
const char *pactcl_sd_dtype_name(enum pactcl_sd_dtype dtype); /* "f4", "b1", ... */
/* Elements in an array (1 for a 0-d array). */
int64_t pactcl_sd_array_numel(const struct pactcl_sd_array *a);

/* ---- building and querying --------------------------------------------- */
int pactcl_state_dict_create(struct pactcl_state_dict **out);
void pactcl_state_dict_free(struct pactcl_state_dict *sd); /* NULL is fine */

/* The entry named `name`, or NULL. */
struct pactcl_sd_entry *pactcl_state_dict_find(const struct pactcl_state_dict *sd,
                                               const char *name);

/* Each set_* stores a copy: an existing entry of that name gets the new value in
 * its old position; otherwise the entry is appended.  On failure the dict is
 * unchanged. */
int pactcl_state_dict_set_array(struct pactcl_state_dict *sd, const char *name,
                                enum pactcl_sd_dtype dtype, int ndim, const int64_t *dims,
                                const void *data);
int pactcl_state_dict_set_f32(struct pactcl_state_dict *sd, const char *name, int ndim,
                              const int64_t *dims, const float *data);
int pactcl_state_dict_set_int(struct pactcl_state_dict *sd, const char *name, int64_t value);
int pactcl_state_dict_set_float(struct pactcl_state_dict *sd, const char *name, double value);
int pactcl_state_dict_set_str(struct pactcl_state_dict *sd, const char *name, const char *value);
int pactcl_state_dict_set_bool(struct pactcl_state_dict *sd, const char *name, int value);
int pactcl_state_dict_set_none(struct pactcl_state_dict *sd, const char *name);
/* A new empty nested dict (e.g. "LR_Scheduler"), owned by `sd`; *child is where
 * to put its entries. */
int pactcl_state_dict_set_dict(struct pactcl_state_dict *sd, const char *name,
                               struct pactcl_state_dict **child);

/* Removes and frees the entry; the others keep their order.  PACTCL_ENOTFOUND
 * if there is none. */
int pactcl_state_dict_remove(struct pactcl_state_dict *sd, const char *name);

/* ---- files --------------------------------------------------------------- */
/* Reads a .pdparams / .pdopt file (any pickle protocol 2..4 that numpy writes,
 * numpy 1.x or 2.x module names, C- or Fortran-ordered arrays).  The name table
 * is kept: remove PACTCL_SD_NAME_TABLE_KEY to get what paddle.load returns. */
int pactcl_state_dict_load(const char *path, struct pactcl_state_dict **out);
/* The same from memory; `name_for_errors` stands for the file in messages. */
int pactcl_state_dict_load_memory(const void *buf, size_t len, const char *name_for_errors,
                                  struct pactcl_state_dict **out);

/* Writes `sd` as paddle.save does (pickle protocol 4, numpy's array layout,
 * "numpy.core.multiarray" so that numpy 1.x and 2.x both read it).  The file is
 * replaced atomically: written to "<path>.tmp.<pid>", synced, renamed over
 * `path`, and the directory synced.  On failure the previous file is intact, the
 * temp file is gone, and the status is PACTCL_EIO (or EINVAL for a dict that
 * cannot be pickled, ENOMEM). */
int pactcl_state_dict_save(const char *path, const struct pactcl_state_dict *sd);
/* The same bytes into a malloc()ed buffer the caller frees. */
int pactcl_state_dict_save_memory(const struct pactcl_state_dict *sd, void **buf, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* PACTCL_STATE_DICT_H */
