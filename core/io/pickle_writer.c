/*
 * pickle_writer.c: saves state dicts as paddle.save does.
 *
 * The output is what CPython's pickle (protocol 4) writes for a dict of numpy
 * arrays: PROTO 4, 64 KiB FRAMEs with large array data written outside them,
 * EMPTY_DICT, items in SETITEMS batches of at most 1000, each array as
 * numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b') + BUILD
 * (1, shape, dtype, False, bytes), each dtype as numpy.dtype('f4', False, True)
 * + BUILD (3, '<', None, None, None, -1, -1, 0), and every object memoized the
 * way the pickler does, so the shared ones (globals, dtypes, b'b') are written
 * once and then fetched with BINGET.  "numpy.core" rather than numpy 2's
 * "numpy._core": numpy 1.x (Paddle 2.2's) can only read the former, and
 * numpy 2.x reads both.
 */
#include "internal.h"

#include "atomic_file.h"
#include "pickle_ops.h"
#include "state_dict_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* CPython's Framer: a frame is written out once it holds this much. */
#define FRAME_TARGET (64 * 1024)
/* Frames shorter than this are written without the FRAME header. */
#define FRAME_MIN 4
/* pickle._BATCHSIZE */
#define BATCH 1000
#define NO_MEMO UINT32_MAX

struct writer {
    FILE *fp;
    int err;  /* errno of the first failed write */
    int oom;  /* the frame buffer could not grow */
    unsigned char *frame;
    size_t frame_len, frame_cap;
    uint32_t memo_n; /* next memo index */
    /* Objects written once and fetched from the memo afterwards. */
    uint32_t m_reconstruct, m_numpy, m_ndarray, m_bb, m_dtype, m_lt, m_bar;
    uint32_t m_dtypes[PACTCL_SD_DTYPE_COUNT];
};

/* ---- output -------------------------------------------------------------- */

static void out_raw(struct writer *w, const void *p, size_t n)
{
    if (!w->err && n && fwrite(p, 1, n, w->fp) != n)
        w->err = errno ? errno : EIO;
}

static void put(struct writer *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (w->frame_len + n > w->frame_cap) {
        size_t cap = w->frame_cap ? w->frame_cap : 2 * FRAME_TARGET;
        while (cap < w->frame_len + n)
            cap *= 2;
        unsigned char *f = realloc(w->frame, cap);
        if (!f) {
            w->oom = 1;
            return;
        }
        w->frame = f;
        w->frame_cap = cap;
    }
    memcpy(w->frame + w->frame_len, p, n);
    w->frame_len += n;
}

static void put_op(struct writer *w, unsigned op)
{
    unsigned char c = (unsigned char)op;
    put(w, &c, 1);
}

static void put_le(struct writer *w, uint64_t v, int n)
{
    unsigned char b[8];
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)n);
}

static void commit_frame(struct writer *w)
{
    if (w->frame_len >= FRAME_MIN) {
        unsigned char h[9] = { PK_FRAME };
        for (int i = 0; i < 8; i++)
            h[1 + i] = (unsigned char)((uint64_t)w->frame_len >> (8 * i));
        out_raw(w, h, sizeof h);
    }
    out_raw(w, w->frame, w->frame_len);
    w->frame_len = 0;
}

/* Called between objects, as the pickler's opcode boundary. */
static void boundary(struct writer *w)
{
    if (w->frame_len >= FRAME_TARGET)
        commit_frame(w);
}

/* ---- objects ------------------------------------------------------------- */

static uint32_t memoize(struct writer *w)
{
    put_op(w, PK_MEMOIZE);
    return w->memo_n++;
}

static void get(struct writer *w, uint32_t idx)
{
    if (idx < 256) {
        put_op(w, PK_BINGET);
        put_le(w, idx, 1);
    } else {
        put_op(w, PK_LONG_BINGET);
        put_le(w, idx, 4);
    }
}

static uint32_t put_str(struct writer *w, const char *s, size_t n)
{
    if (n < 256) {
        put_op(w, PK_SHORT_BINUNICODE);
        put_le(w, n, 1);
    } else if (n <= UINT32_MAX) {
        put_op(w, PK_BINUNICODE);
        put_le(w, n, 4);
    } else {
        put_op(w, PK_BINUNICODE8);
        put_le(w, n, 8);
    }
    put(w, s, n);
    return memoize(w);
}

/* A string the pickler would share (an interned one): written once. */
static void put_shared_str(struct writer *w, const char *s, uint32_t *memo)
{
    if (*memo != NO_MEMO)
        get(w, *memo);
    else
        *memo = put_str(w, s, strlen(s));
}

static void put_global(struct writer *w, const char *module, const char *name, uint32_t *memo)
{
    if (*memo != NO_MEMO) {
        get(w, *memo);
        return;
    }
    if (strcmp(module, "numpy") == 0)
        put_shared_str(w, module, &w->m_numpy);
    else
        put_str(w, module, strlen(module));
    put_str(w, name, strlen(name));
    put_op(w, PK_STACK_GLOBAL);
    *memo = memoize(w);
}

/* pickle's save_long for a 64-bit value. */
static void put_int(struct writer *w, int64_t v)
{
    if (v >= 0 && v <= 0xff) {
        put_op(w, PK_BININT1);
        put_le(w, (uint64_t)v, 1);
    } else if (v >= 0 && v <= 0xffff) {
        put_op(w, PK_BININT2);
        put_le(w, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        put_op(w, PK_BININT);
        put_le(w, (uint64_t)v, 4);
    } else {
        /* LONG1: the shortest little-endian two's complement. */
        int n = 1;
        while (n < 8 && !(v >= -((int64_t)1 << (8 * n - 1)) && v < ((int64_t)1 << (8 * n - 1))))
            n++;
        put_op(w, PK_LONG1);
        put_le(w, (uint64_t)n, 1);
        put_le(w, (uint64_t)v, n);
    }
}

static void put_float(struct writer *w, double f)
{
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    unsigned char b[9] = { PK_BINFLOAT };
    for (int i = 0; i < 8; i++) /* big-endian */
        b[1 + i] = (unsigned char)(bits >> (56 - 8 * i));
    put(w, b, sizeof b);
}

/* Array data: small blobs go in the frame; from 64 KiB on, the pickler ends
 * the frame and writes header and payload straight to the file. */
static void put_data(struct writer *w, const void *p, size_t n)
{
    if (n < 256) {
        put_op(w, PK_SHORT_BINBYTES);
        put_le(w, n, 1);
        put(w, p, n);
    } else if (n < FRAME_TARGET) {
        put_op(w, PK_BINBYTES);
        put_le(w, n, 4);
        put(w, p, n);
    } else {
        unsigned char h[9];
        size_t hn;
        uint64_t len = n;
        h[0] = n <= UINT32_MAX ? PK_BINBYTES : PK_BINBYTES8;
        hn = n <= UINT32_MAX ? 5 : 9;
        for (size_t i = 1; i < hn; i++)
            h[i] = (unsigned char)(len >> (8 * (i - 1)));
        commit_frame(w);
        out_raw(w, h, hn);
        out_raw(w, p, n);
    }
    memoize(w);
}

static void put_dtype(struct writer *w, enum pactcl_sd_dtype dt)
{
    if (w->m_dtypes[dt] != NO_MEMO) {
        get(w, w->m_dtypes[dt]);
        return;
    }
    put_global(w, "numpy", "dtype", &w->m_dtype);
    const char *code = pactcl_sd_dtype_name(dt);
    put_str(w, code, strlen(code));
    put_op(w, PK_NEWFALSE);
    put_op(w, PK_NEWTRUE);
    put_op(w, PK_TUPLE3);
    memoize(w);
    put_op(w, PK_REDUCE);
    w->m_dtypes[dt] = memoize(w);
    /* The state: byte order '|' for one-byte types, as numpy writes it. */
    put_op(w, PK_MARK);
    put_int(w, 3);
    if (pactcl_sd_dtype_size(dt) == 1)
        put_shared_str(w, "|", &w->m_bar);
    else
        put_shared_str(w, "<", &w->m_lt);
    put_op(w, PK_NONE);
    put_op(w, PK_NONE);
    put_op(w, PK_NONE);
    put_int(w, -1);
    put_int(w, -1);
    put_int(w, 0);
    put_op(w, PK_TUPLE);
    memoize(w);
    put_op(w, PK_BUILD);
}

static void put_array(struct writer *w, const struct pactcl_sd_array *a)
{
    put_global(w, "numpy.core.multiarray", "_reconstruct", &w->m_reconstruct);
    put_global(w, "numpy", "ndarray", &w->m_ndarray);
    put_int(w, 0);
    put_op(w, PK_TUPLE1);
    memoize(w);
    if (w->m_bb != NO_MEMO) {
        get(w, w->m_bb);
    } else {
        put_op(w, PK_SHORT_BINBYTES);
        put(w, "\001b", 2);
        w->m_bb = memoize(w);
    }
    put_op(w, PK_TUPLE3);
    memoize(w);
    put_op(w, PK_REDUCE);
    memoize(w);

    put_op(w, PK_MARK);
    put_int(w, 1);
    if (a->ndim == 0) {
        put_op(w, PK_EMPTY_TUPLE);
    } else {
        if (a->ndim > 3)
            put_op(w, PK_MARK);
        for (int k = 0; k < a->ndim; k++)
            put_int(w, a->dims[k]);
        put_op(w, a->ndim > 3 ? PK_TUPLE : (unsigned)(PK_TUPLE1 + a->ndim - 1));
        memoize(w);
    }
    put_dtype(w, a->dtype);
    put_op(w, PK_NEWFALSE); /* C order */
    put_data(w, a->data, a->nbytes);
    put_op(w, PK_TUPLE);
    memoize(w);
    put_op(w, PK_BUILD);
}

/* Refuses what Python could not read back, before anything is written. */
static int check_dict(const struct pactcl_state_dict *sd, int depth)
{
    if (depth > PACTCL_SD_MAX_NESTING)
        return pactcl__set_error(PACTCL_EINVAL, "state dict: dicts nest deeper than %d levels",
                                 PACTCL_SD_MAX_NESTING);
    for (size_t i = 0; i < sd->count; i++) {
        const struct pactcl_sd_entry *e = &sd->entries[i];
        if (!pactcl__sd_valid_utf8((const unsigned char *)e->name, strlen(e->name)))
            return pactcl__set_error(PACTCL_EINVAL, "state dict: entry %zu: name is not UTF-8", i);
        const struct pactcl_sd_value *v = &e->value;
        size_t nbytes;
        const char *problem;
        switch (v->type) {
        case PACTCL_SD_ARRAY:
            problem = pactcl__sd_shape_problem(v->u.array.dtype, v->u.array.ndim,
                                               v->u.array.dims, &nbytes);
            if (!problem && nbytes != v->u.array.nbytes)
                problem = "nbytes does not match the shape";
            if (!problem && nbytes && !v->u.array.data)
                problem = "no data";
            if (problem)
                return pactcl__set_error(PACTCL_EINVAL, "state dict entry '%s': %s", e->name,
                                         problem);
            break;
        case PACTCL_SD_DICT: {
            int rc = check_dict(v->u.dict, depth + 1);
            if (rc != PACTCL_OK)
                return rc;
            break;
        }
        case PACTCL_SD_STR:
            if (!pactcl__sd_valid_utf8((const unsigned char *)v->u.str, strlen(v->u.str)))
                return pactcl__set_error(PACTCL_EINVAL, "state dict entry '%s': not UTF-8",
                                         e->name);
            break;
        case PACTCL_SD_INT:
        case PACTCL_SD_FLOAT:
        case PACTCL_SD_BOOL:
        case PACTCL_SD_NONE:
            break;
        default:
            return pactcl__set_error(PACTCL_EINVAL, "state dict entry '%s': unknown type %d",
                                     e->name, (int)v->type);
        }
    }
    return PACTCL_OK;
}

static void put_dict(struct writer *w, const struct pactcl_state_dict *sd);

static void put_value(struct writer *w, const struct pactcl_sd_value *v)
{
    switch (v->type) {
    case PACTCL_SD_ARRAY:
        put_array(w, &v->u.array);
        break;
    case PACTCL_SD_DICT:
        put_dict(w, v->u.dict);
        break;
    case PACTCL_SD_INT:
        put_int(w, v->u.i);
        break;
    case PACTCL_SD_FLOAT:
        put_float(w, v->u.f);
        break;
    case PACTCL_SD_STR:
        put_str(w, v->u.str, strlen(v->u.str));
        break;
    case PACTCL_SD_BOOL:
        put_op(w, v->u.b ? PK_NEWTRUE : PK_NEWFALSE);
        break;
    case PACTCL_SD_NONE:
        put_op(w, PK_NONE);
        break;
    }
    boundary(w);
}

/* pickle's save_dict and _batch_setitems. */
static void put_dict(struct writer *w, const struct pactcl_state_dict *sd)
{
    put_op(w, PK_EMPTY_DICT);
    memoize(w);
    for (size_t start = 0; start < sd->count; start += BATCH) {
        size_t n = sd->count - start < BATCH ? sd->count - start : BATCH;
        if (n > 1)
            put_op(w, PK_MARK);
        for (size_t i = start; i < start + n; i++) {
            const struct pactcl_sd_entry *e = &sd->entries[i];
            put_str(w, e->name, strlen(e->name));
            boundary(w);
            put_value(w, &e->value);
        }
        put_op(w, n > 1 ? PK_SETITEMS : PK_SETITEM);
    }
}

/* Pickles `sd` to `fp`; returns the errno of a failed write (0 if none), or
 * -1 when memory ran out. */
static int write_pickle(FILE *fp, const struct pactcl_state_dict *sd)
{
    struct writer w = { .fp = fp };
    w.m_reconstruct = w.m_numpy = w.m_ndarray = w.m_bb = w.m_dtype = w.m_lt = w.m_bar = NO_MEMO;
    for (int i = 0; i < PACTCL_SD_DTYPE_COUNT; i++)
        w.m_dtypes[i] = NO_MEMO;
    errno = 0;
    out_raw(&w, "\x80\x04", 2); /* PROTO 4, before the first frame */
    put_dict(&w, sd);
    put_op(&w, PK_STOP);
    commit_frame(&w);
    free(w.frame);
    return w.oom ? -1 : w.err;
}

int pactcl_state_dict_save(const char *path, const struct pactcl_state_dict *sd)
{
    if (!path || !sd)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_save: NULL argument");
    int rc = check_dict(sd, 0);
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl__atomic_file af;
    rc = pactcl__atomic_open(&af, path);
    if (rc != PACTCL_OK)
        return rc;
    int err = write_pickle(af.fp, sd);
    if (err < 0) {
        pactcl__atomic_abort(&af);
        return pactcl__set_error(PACTCL_ENOMEM, "cannot save %s: out of memory", path);
    }
    return pactcl__atomic_commit(&af, err);
}

int pactcl_state_dict_save_memory(const struct pactcl_state_dict *sd, void **buf, size_t *len)
{
    if (!sd || !buf || !len)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_save_memory: NULL argument");
    *buf = NULL;
    *len = 0;
    int rc = check_dict(sd, 0);
    if (rc != PACTCL_OK)
        return rc;
    char *mem = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&mem, &n);
    if (!fp)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory pickling a state dict");
    int err = write_pickle(fp, sd);
    if (fclose(fp) != 0 && !err)
        err = -1;
    if (err) {
        free(mem);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory pickling a state dict");
    }
    *buf = mem;
    *len = n;
    return PACTCL_OK;
}
