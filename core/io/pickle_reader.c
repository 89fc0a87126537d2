/*
 * pickle_reader.c: loads state dicts from .pdparams / .pdopt pickles.
 *
 * A pickle is a program for a stack machine, and Python's unpickler will call
 * any importable function it names.  This is a closed machine instead: it knows
 * only the opcodes that numpy arrays in a dict need (protocols 2 to 4, as
 * CPython and numpy 1.x/2.x write them) and only the five callables numpy's
 * pickles name, and it interprets those callables itself; nothing is executed.
 *
 * The input is untrusted: every length is checked against the bytes left, the
 * stack, marks, memo and nesting are bounded, and all allocation comes out of a
 * budget proportional to the file size, so a small file cannot make the reader
 * take much memory (for instance by referencing one large bytes object from
 * many arrays through the memo).
 */
#include "internal.h"

#include "pickle_ops.h"
#include "state_dict_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* MARKs open nested tuples and item batches; numpy's pickles use three. */
#define MAX_MARKS 64
/* Memory the machine may use beyond BUDGET_PER_BYTE per input byte: arrays
 * take one byte per file byte, the bookkeeping of a file full of tiny arrays
 * about ten. */
#define BUDGET_PER_BYTE 8
#define BUDGET_BASE ((size_t)64 << 20)
/* What a state dict entry costs at most: the entry (the array doubles), index
 * slots, the name's allocation. */
#define ENTRY_COST (2 * sizeof(struct pactcl_sd_entry) + 4 * sizeof(size_t) + 32)

enum kind {
    K_UNSET = 0, /* an empty memo slot */
    K_NONE,
    K_BOOL,
    K_INT,
    K_FLOAT,
    K_GLOBAL,
    K_STR,
    K_BYTES,
    K_TUPLE,
    K_DICT,
    K_DTYPE,
    K_ARRAY
};

static const char *const kind_names[] = {
    "unset", "None", "bool", "int", "float", "global",
    "str", "bytes", "tuple", "dict", "numpy.dtype", "numpy.ndarray",
};

/* The only callables a state dict pickle may name. */
enum global_id {
    G_RECONSTRUCT, /* numpy's ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b') */
    G_NDARRAY,     /* only as _reconstruct's first argument */
    G_DTYPE,       /* numpy.dtype('f4', False, True), then BUILD with the byte order */
    G_ENCODE,      /* protocol 2 writes bytes as _codecs.encode(str, 'latin1') */
    G_BYTES        /* ... and b'' as bytes() */
};

static const struct {
    const char *module;
    const char *name;
    enum global_id id;
} allowed_globals[] = {
    { "numpy.core.multiarray", "_reconstruct", G_RECONSTRUCT },
    { "numpy._core.multiarray", "_reconstruct", G_RECONSTRUCT },
    { "numpy", "ndarray", G_NDARRAY },
    { "numpy", "dtype", G_DTYPE },
    { "_codecs", "encode", G_ENCODE },
    { "__builtin__", "bytes", G_BYTES },
    { "builtins", "bytes", G_BYTES },
};

struct obj;

struct val {
    enum kind kind;
    union {
        int64_t i; /* K_INT, K_BOOL */
        double f;
        enum global_id g;
        struct obj *o; /* K_STR and after */
    } u;
};

struct obj {
    enum kind kind;
    struct obj *next; /* every object, for freeing */
    union {
        /* K_STR: UTF-8, or Latin-1 for protocol-2 BINSTRINGs (latin1 set);
         * K_BYTES.  `p` points into the input or at `owned`. */
        struct {
            const unsigned char *p;
            size_t n;
            unsigned char *owned;
            int latin1;
        } s;
        struct {
            size_t n;
            struct val *items;
        } t;
        struct {
            size_t n, cap; /* key/value pairs */
            struct val *kv;
            int converting; /* set while being converted: catches a dict inside itself */
        } d;
        struct {
            enum pactcl_sd_dtype dtype;
            int built;
        } dt;
        struct {
            int built;
            int taken; /* data moved into the result; copy for a second use */
            struct pactcl_sd_array a;
        } arr;
    } u;
};

struct vm {
    const unsigned char *buf;
    size_t len;
    size_t pos;
    size_t op_pos; /* offset of the opcode being run, for messages */
    unsigned op;
    const char *name;
    struct val *stack;
    size_t sp, stack_cap;
    size_t marks[MAX_MARKS];
    int nmarks;
    struct val *memo;
    size_t memo_cap, memo_count;
    struct obj *objects;
    size_t budget; /* bytes the machine may still allocate */
};

/* ---- errors and memory --------------------------------------------------- */

static int fail(struct vm *vm, const char *fmt, ...) PACTCL_PRINTF(2, 3);
static int fail(struct vm *vm, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pactcl__set_error(PACTCL_EFORMAT, "file %s: %s (pickle opcode 0x%02x at offset %zu)",
                             vm->name, what, vm->op, vm->op_pos);
}

/* Takes n bytes out of the budget. */
static int charge(struct vm *vm, size_t n)
{
    if (n > vm->budget)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "file %s: the pickle asks for more memory than a file of %zu "
                                 "bytes can need (pickle opcode 0x%02x at offset %zu)",
                                 vm->name, vm->len, vm->op, vm->op_pos);
    vm->budget -= n;
    return PACTCL_OK;
}

static int vm_realloc(struct vm *vm, void **p, size_t n)
{
    int rc = charge(vm, n);
    if (rc != PACTCL_OK)
        return rc;
    void *q = realloc(*p, n ? n : 1);
    if (!q)
        return pactcl__set_error(PACTCL_ENOMEM, "file %s: out of memory (%zu bytes)", vm->name, n);
    *p = q;
    return PACTCL_OK;
}

/* Grows *p (an array of `size`-byte items holding *cap) to hold `need`. */
static int vm_reserve(struct vm *vm, void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return PACTCL_OK;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n = n > SIZE_MAX / 4 / size ? need : 2 * n;
    if (n > SIZE_MAX / size)
        return fail(vm, "a table of %zu items is too large", need);
    int rc = vm_realloc(vm, p, n * size);
    if (rc == PACTCL_OK)
        *cap = n;
    return rc;
}

static int new_obj(struct vm *vm, enum kind kind, struct obj **out)
{
    int rc = charge(vm, sizeof(struct obj));
    if (rc != PACTCL_OK)
        return rc;
    struct obj *o = calloc(1, sizeof *o);
    if (!o)
        return pactcl__set_error(PACTCL_ENOMEM, "file %s: out of memory", vm->name);
    o->kind = kind;
    o->next = vm->objects;
    vm->objects = o;
    *out = o;
    return PACTCL_OK;
}

static void free_objects(struct vm *vm)
{
    struct obj *o = vm->objects;
    while (o) {
        struct obj *next = o->next;
        switch (o->kind) {
        case K_STR:
        case K_BYTES:
            free(o->u.s.owned);
            break;
        case K_TUPLE:
            free(o->u.t.items);
            break;
        case K_DICT:
            free(o->u.d.kv);
            break;
        case K_ARRAY:
            if (!o->u.arr.taken)
                free(o->u.arr.a.data);
            break;
        default:
            break;
        }
        free(o);
        o = next;
    }
    vm->objects = NULL;
}

/* ---- input --------------------------------------------------------------- */

static int need(struct vm *vm, size_t n)
{
    if (vm->len - vm->pos < n)
        return fail(vm, "truncated: %zu more bytes needed, %zu left", n, vm->len - vm->pos);
    return PACTCL_OK;
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads an n-byte little-endian length and checks that many bytes follow. */
static int read_len(struct vm *vm, int n, size_t *out)
{
    int rc = need(vm, (size_t)n);
    if (rc != PACTCL_OK)
        return rc;
    uint64_t v = get_le(vm->buf + vm->pos, n);
    vm->pos += (size_t)n;
    if (v > vm->len - vm->pos)
        return fail(vm, "truncated: a length of %llu bytes is claimed, %zu left",
                    (unsigned long long)v, vm->len - vm->pos);
    *out = (size_t)v;
    return PACTCL_OK;
}

/* ---- the stack and the memo ---------------------------------------------- */

static size_t above_mark(const struct vm *vm)
{
    return vm->sp - (vm->nmarks ? vm->marks[vm->nmarks - 1] : 0);
}

static int push(struct vm *vm, struct val v)
{
    int rc = vm_reserve(vm, (void **)&vm->stack, &vm->stack_cap, vm->sp + 1, sizeof *vm->stack);
    if (rc != PACTCL_OK)
        return rc;
    vm->stack[vm->sp++] = v;
    return PACTCL_OK;
}

static int push_obj(struct vm *vm, struct obj *o)
{
    return push(vm, (struct val){ .kind = o->kind, .u.o = o });
}

/* Checks that n values sit above the last MARK, as Python's unpickler (whose
 * MARK starts a fresh stack) requires. */
static int need_stack(struct vm *vm, size_t n)
{
    if (above_mark(vm) < n)
        return fail(vm, "stack underflow");
    return PACTCL_OK;
}

static int memo_put(struct vm *vm, uint64_t idx)
{
    int rc = need_stack(vm, 1);
    if (rc != PACTCL_OK)
        return rc;
    /* Python numbers memo entries 0, 1, 2, ...: each takes at least a byte. */
    if (idx >= vm->len)
        return fail(vm, "memo index %llu is beyond what a file of %zu bytes can fill",
                    (unsigned long long)idx, vm->len);
    size_t old_cap = vm->memo_cap;
    rc = vm_reserve(vm, (void **)&vm->memo, &vm->memo_cap, (size_t)idx + 1, sizeof *vm->memo);
    if (rc != PACTCL_OK)
        return rc;
    memset(vm->memo + old_cap, 0, (vm->memo_cap - old_cap) * sizeof *vm->memo);
    if (vm->memo[idx].kind == K_UNSET)
        vm->memo_count++;
    vm->memo[idx] = vm->stack[vm->sp - 1];
    return PACTCL_OK;
}

static int memo_get(struct vm *vm, uint64_t idx)
{
    if (idx >= vm->memo_cap || vm->memo[idx].kind == K_UNSET)
        return fail(vm, "memo entry %llu was never stored", (unsigned long long)idx);
    return push(vm, vm->memo[idx]);
}

/* ---- values -------------------------------------------------------------- */

static int is_str(struct val v, const char *lit)
{
    size_t n = strlen(lit);
    return v.kind == K_STR && v.u.o->u.s.n == n && memcmp(v.u.o->u.s.p, lit, n) == 0;
}

static int is_int(struct val v)
{
    return v.kind == K_INT || v.kind == K_BOOL;
}

static int push_text(struct vm *vm, enum kind kind, size_t n, int latin1)
{
    if (kind == K_STR && !latin1 && !pactcl__sd_valid_utf8(vm->buf + vm->pos, n))
        return fail(vm, "a string is not valid UTF-8");
    struct obj *o;
    int rc = new_obj(vm, kind, &o);
    if (rc != PACTCL_OK)
        return rc;
    o->u.s.p = vm->buf + vm->pos;
    o->u.s.n = n;
    o->u.s.latin1 = latin1;
    vm->pos += n;
    return push_obj(vm, o);
}

static int make_tuple(struct vm *vm, size_t n)
{
    int rc = need_stack(vm, n);
    if (rc != PACTCL_OK)
        return rc;
    struct obj *o;
    rc = new_obj(vm, K_TUPLE, &o);
    if (rc == PACTCL_OK && n)
        rc = vm_realloc(vm, (void **)&o->u.t.items, n * sizeof *o->u.t.items);
    if (rc != PACTCL_OK)
        return rc;
    vm->sp -= n;
    if (n)
        memcpy(o->u.t.items, vm->stack + vm->sp, n * sizeof *o->u.t.items);
    o->u.t.n = n;
    return push_obj(vm, o);
}

/* Adds the pairs stack[from..sp) to the dict at stack[from - 1]. */
static int set_items(struct vm *vm, size_t from)
{
    if (from == 0 || vm->stack[from - 1].kind != K_DICT)
        return fail(vm, "SETITEM needs a dict below its items");
    size_t n = vm->sp - from;
    if (n % 2)
        return fail(vm, "SETITEMS has an odd number of items");
    for (size_t i = from; i < vm->sp; i += 2)
        if (vm->stack[i].kind != K_STR)
            return fail(vm, "a dict key of type %s is not supported",
                        kind_names[vm->stack[i].kind]);
    struct obj *d = vm->stack[from - 1].u.o;
    if (n == 0)
        return PACTCL_OK;
    int rc = vm_reserve(vm, (void **)&d->u.d.kv, &d->u.d.cap, 2 * d->u.d.n + n, sizeof *d->u.d.kv);
    if (rc != PACTCL_OK)
        return rc;
    memcpy(d->u.d.kv + 2 * d->u.d.n, vm->stack + from, n * sizeof *d->u.d.kv);
    d->u.d.n += n / 2;
    vm->sp = from;
    return PACTCL_OK;
}

static int push_global(struct vm *vm, const unsigned char *mod, size_t mod_n,
                       const unsigned char *name, size_t name_n)
{
    for (size_t i = 0; i < sizeof allowed_globals / sizeof allowed_globals[0]; i++) {
        if (strlen(allowed_globals[i].module) == mod_n &&
            memcmp(allowed_globals[i].module, mod, mod_n) == 0 &&
            strlen(allowed_globals[i].name) == name_n &&
            memcmp(allowed_globals[i].name, name, name_n) == 0)
            return push(vm, (struct val){ .kind = K_GLOBAL, .u.g = allowed_globals[i].id });
    }
    /* Show the name, but only as printable ASCII: it comes from the file. */
    char shown[2][80];
    const unsigned char *src[2] = { mod, name };
    size_t len[2] = { mod_n, name_n };
    for (int k = 0; k < 2; k++) {
        size_t j = 0;
        for (size_t i = 0; i < len[k] && j < sizeof shown[k] - 1; i++)
            shown[k][j++] = src[k][i] >= 0x20 && src[k][i] < 0x7f ? (char)src[k][i] : '?';
        shown[k][j] = '\0';
    }
    return fail(vm, "global %s.%s is not allowed", shown[0], shown[1]);
}

/* GLOBAL's operands: two newline-terminated lines. */
static int read_line(struct vm *vm, const unsigned char **s, size_t *n)
{
    const unsigned char *nl = memchr(vm->buf + vm->pos, '\n', vm->len - vm->pos);
    if (!nl)
        return fail(vm, "truncated: GLOBAL has no end of line");
    *s = vm->buf + vm->pos;
    *n = (size_t)(nl - *s);
    vm->pos += *n + 1;
    return PACTCL_OK;
}

/* The bytes a Latin-1 text stands for (protocol 2's _codecs.encode(s, 'latin1'),
 * numpy's setstate on a str), as a new K_BYTES object. */
static int latin1_bytes(struct vm *vm, struct obj *str, struct obj **out)
{
    int rc = new_obj(vm, K_BYTES, out);
    if (rc != PACTCL_OK)
        return rc;
    struct obj *b = *out;
    if (str->u.s.latin1 || str->u.s.n == 0) {
        b->u.s.p = str->u.s.p;
        b->u.s.n = str->u.s.n;
        return PACTCL_OK;
    }
    rc = vm_realloc(vm, (void **)&b->u.s.owned, str->u.s.n);
    if (rc != PACTCL_OK)
        return rc;
    const unsigned char *s = str->u.s.p;
    size_t n = 0;
    for (size_t i = 0; i < str->u.s.n; i++) {
        if (s[i] < 0x80) {
            b->u.s.owned[n++] = s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < str->u.s.n) {
            b->u.s.owned[n++] = (unsigned char)((s[i] & 0x03) << 6 | (s[i + 1] & 0x3f));
            i++;
        } else {
            return fail(vm, "a string to encode as Latin-1 has a character above U+00FF");
        }
    }
    b->u.s.p = b->u.s.owned;
    b->u.s.n = n;
    return PACTCL_OK;
}

static int parse_dtype(struct vm *vm, struct val code, enum pactcl_sd_dtype *out)
{
    if (code.kind == K_STR) {
        for (int d = 0; d < PACTCL_SD_DTYPE_COUNT; d++) {
            if (is_str(code, pactcl_sd_dtype_name((enum pactcl_sd_dtype)d))) {
                *out = (enum pactcl_sd_dtype)d;
                return PACTCL_OK;
            }
        }
        const struct obj *s = code.u.o;
        if (s->u.s.n <= 16 && pactcl__sd_valid_utf8(s->u.s.p, s->u.s.n))
            return fail(vm, "numpy dtype '%.*s' is not supported (only f4 f8 i4 i8 u1 i1 b1)",
                        (int)s->u.s.n, (const char *)s->u.s.p);
    }
    return fail(vm, "numpy dtype argument is not one of f4 f8 i4 i8 u1 i1 b1");
}

/* REDUCE: calls one of the allowed globals, by interpreting it here. */
static int reduce(struct vm *vm)
{
    int rc = need_stack(vm, 2);
    if (rc != PACTCL_OK)
        return rc;
    struct val fn = vm->stack[vm->sp - 2], argv = vm->stack[vm->sp - 1];
    if (fn.kind != K_GLOBAL || argv.kind != K_TUPLE)
        return fail(vm, "REDUCE needs a global and a tuple, not %s and %s", kind_names[fn.kind],
                    kind_names[argv.kind]);
    const struct obj *args = argv.u.o;
    const struct val *a = args->u.t.items;
    size_t n = args->u.t.n;
    struct obj *o = NULL;
    switch (fn.u.g) {
    case G_RECONSTRUCT:
        if (n != 3 || a[0].kind != K_GLOBAL || a[0].u.g != G_NDARRAY || a[1].kind != K_TUPLE ||
            (a[2].kind != K_BYTES && a[2].kind != K_STR))
            return fail(vm, "_reconstruct must be called as numpy's ndarray pickling does");
        rc = new_obj(vm, K_ARRAY, &o);
        break;
    case G_DTYPE: {
        enum pactcl_sd_dtype dt = PACTCL_SD_F4;
        if (n != 3 || !is_int(a[1]) || !is_int(a[2]))
            return fail(vm, "numpy.dtype must be called as numpy's dtype pickling does");
        rc = parse_dtype(vm, a[0], &dt);
        if (rc == PACTCL_OK)
            rc = new_obj(vm, K_DTYPE, &o);
        if (rc == PACTCL_OK)
            o->u.dt.dtype = dt;
        break;
    }
    case G_ENCODE:
        if (n != 2 || a[0].kind != K_STR || !is_str(a[1], "latin1"))
            return fail(vm, "_codecs.encode is only allowed as encode(str, 'latin1')");
        rc = latin1_bytes(vm, a[0].u.o, &o);
        break;
    case G_BYTES:
        if (n != 0)
            return fail(vm, "bytes is only allowed as bytes()");
        rc = new_obj(vm, K_BYTES, &o);
        break;
    case G_NDARRAY:
        return fail(vm, "numpy.ndarray may not be called");
    }
    if (rc != PACTCL_OK)
        return rc;
    vm->sp -= 2;
    return push_obj(vm, o);
}

/* dtype state: (3, byteorder, subarray, names, fields, elsize, alignment, flags)
 * and, in version 4, metadata. */
static int build_dtype(struct vm *vm, struct obj *dt, struct val state)
{
    const char *name = pactcl_sd_dtype_name(dt->u.dt.dtype);
    if (dt->u.dt.built)
        return fail(vm, "a numpy dtype is set up twice");
    if (state.kind != K_TUPLE)
        return fail(vm, "numpy dtype %s: the state is not a tuple", name);
    const struct val *s = state.u.o->u.t.items;
    size_t n = state.u.o->u.t.n;
    if (!((n == 8 && is_int(s[0]) && s[0].u.i == 3) || (n == 9 && is_int(s[0]) && s[0].u.i == 4)))
        return fail(vm, "numpy dtype %s: state version is not 3 or 4", name);
    if (s[2].kind != K_NONE || s[3].kind != K_NONE || s[4].kind != K_NONE)
        return fail(vm, "numpy dtype %s: structured and sub-array dtypes are not supported", name);
    if (is_str(s[1], ">"))
        return fail(vm, "big-endian numpy dtype >%s is not supported (save it little-endian)",
                    name);
    if (!is_str(s[1], "<") && !is_str(s[1], "|") && !is_str(s[1], "="))
        return fail(vm, "numpy dtype %s: unknown byte order", name);
    dt->u.dt.built = 1;
    return PACTCL_OK;
}

/* Numpy stores a Fortran-ordered array's bytes with the first index fastest;
 * walk the destination in C order and keep the source offset in step. */
static void fortran_to_c(unsigned char *dst, const unsigned char *src,
                         const struct pactcl_sd_array *a)
{
    size_t isz = pactcl_sd_dtype_size(a->dtype);
    size_t fstride[PACTCL_SD_MAX_DIMS];
    int64_t idx[PACTCL_SD_MAX_DIMS] = { 0 };
    size_t numel = a->nbytes / isz;
    for (int k = 0; k < a->ndim; k++)
        fstride[k] = k ? fstride[k - 1] * (size_t)a->dims[k - 1] : isz;
    size_t off = 0;
    for (size_t e = 0; e < numel; e++) {
        memcpy(dst + e * isz, src + off, isz);
        for (int k = a->ndim - 1; k >= 0; k--) {
            off += fstride[k];
            if (++idx[k] < a->dims[k])
                break;
            off -= fstride[k] * (size_t)a->dims[k];
            idx[k] = 0;
        }
    }
}

/* ndarray state: (1, shape, dtype, is_fortran, raw bytes). */
static int build_array(struct vm *vm, struct obj *arr, struct val state)
{
    if (arr->u.arr.built)
        return fail(vm, "a numpy array is filled twice");
    if (state.kind != K_TUPLE || state.u.o->u.t.n != 5)
        return fail(vm, "numpy array state is not a 5-tuple");
    const struct val *s = state.u.o->u.t.items;
    if (!is_int(s[0]) || s[0].u.i != 1 || s[1].kind != K_TUPLE || s[2].kind != K_DTYPE ||
        !is_int(s[3]) || (s[4].kind != K_BYTES && s[4].kind != K_STR))
        return fail(vm, "numpy array state is not (1, shape, dtype, fortran, bytes)");
    struct pactcl_sd_array *a = &arr->u.arr.a;
    const struct obj *shape = s[1].u.o;
    if (shape->u.t.n > PACTCL_SD_MAX_DIMS)
        return fail(vm, "numpy array of rank %zu: at most %d dimensions are supported",
                    shape->u.t.n, PACTCL_SD_MAX_DIMS);
    a->dtype = s[2].u.o->u.dt.dtype;
    a->ndim = (int)shape->u.t.n;
    for (int k = 0; k < a->ndim; k++) {
        if (shape->u.t.items[k].kind != K_INT)
            return fail(vm, "numpy array shape holds a %s", kind_names[shape->u.t.items[k].kind]);
        a->dims[k] = shape->u.t.items[k].u.i;
    }
    const char *problem = pactcl__sd_shape_problem(a->dtype, a->ndim, a->dims, &a->nbytes);
    if (problem)
        return fail(vm, "numpy array shape: %s", problem);
    struct obj *data = s[4].u.o;
    if (s[4].kind == K_STR) {
        int rc = latin1_bytes(vm, data, &data);
        if (rc != PACTCL_OK)
            return rc;
    }
    if (data->u.s.n != a->nbytes)
        return fail(vm, "numpy array has %zu data bytes, but a %s array of %lld elements needs %zu",
                    data->u.s.n, pactcl_sd_dtype_name(a->dtype),
                    (long long)pactcl_sd_array_numel(a), a->nbytes);
    if (a->nbytes) {
        int rc = vm_realloc(vm, &a->data, a->nbytes);
        if (rc != PACTCL_OK)
            return rc;
        if (s[3].u.i && a->ndim > 1)
            fortran_to_c(a->data, data->u.s.p, a);
        else
            memcpy(a->data, data->u.s.p, a->nbytes);
    }
    arr->u.arr.built = 1;
    return PACTCL_OK;
}

static int build(struct vm *vm)
{
    int rc = need_stack(vm, 2);
    if (rc != PACTCL_OK)
        return rc;
    struct val target = vm->stack[vm->sp - 2], state = vm->stack[vm->sp - 1];
    if (target.kind == K_DTYPE)
        rc = build_dtype(vm, target.u.o, state);
    else if (target.kind == K_ARRAY)
        rc = build_array(vm, target.u.o, state);
    else
        rc = fail(vm, "BUILD on a %s is not supported", kind_names[target.kind]);
    if (rc == PACTCL_OK)
        vm->sp--;
    return rc;
}

/* ---- the machine --------------------------------------------------------- */

static int push_int(struct vm *vm, int64_t i)
{
    return push(vm, (struct val){ .kind = K_INT, .u.i = i });
}

/* Runs one opcode; sets *done at STOP. */
static int step(struct vm *vm, int *done)
{
    const unsigned char *p;
    size_t n = 0;
    int rc;
    vm->op_pos = vm->pos;
    vm->op = vm->buf[vm->pos++];
    switch (vm->op) {
    case PK_PROTO:
        if ((rc = need(vm, 1)) != PACTCL_OK)
            return rc;
        if (vm->buf[vm->pos] > 5)
            return fail(vm, "pickle protocol %u is not supported", vm->buf[vm->pos]);
        vm->pos++;
        return PACTCL_OK;
    case PK_FRAME:
        /* Frames only group opcodes for buffering; check the length and go on. */
        return read_len(vm, 8, &n);
    case PK_STOP:
        if ((rc = need_stack(vm, 1)) != PACTCL_OK)
            return rc;
        *done = 1;
        return PACTCL_OK;
    case PK_MARK:
        if (vm->nmarks == MAX_MARKS)
            return fail(vm, "more than %d nested MARKs", MAX_MARKS);
        vm->marks[vm->nmarks++] = vm->sp;
        return PACTCL_OK;
    case PK_NONE:
        return push(vm, (struct val){ .kind = K_NONE });
    case PK_NEWTRUE:
    case PK_NEWFALSE:
        return push(vm, (struct val){ .kind = K_BOOL, .u.i = vm->op == PK_NEWTRUE });
    case PK_BININT1:
    case PK_BININT2:
        n = vm->op == PK_BININT1 ? 1 : 2;
        if ((rc = need(vm, n)) != PACTCL_OK)
            return rc;
        vm->pos += n;
        return push_int(vm, (int64_t)get_le(vm->buf + vm->pos - n, (int)n));
    case PK_BININT:
        if ((rc = need(vm, 4)) != PACTCL_OK)
            return rc;
        vm->pos += 4;
        return push_int(vm, (int32_t)(uint32_t)get_le(vm->buf + vm->pos - 4, 4));
    case PK_LONG1:
        if ((rc = read_len(vm, 1, &n)) != PACTCL_OK)
            return rc;
        if (n > 8)
            return fail(vm, "an integer of %zu bytes does not fit in 64 bits", n);
        p = vm->buf + vm->pos;
        vm->pos += n;
        {
            uint64_t v = get_le(p, (int)n);
            if (n && n < 8 && (p[n - 1] & 0x80)) /* two's complement: extend the sign */
                v |= ~(uint64_t)0 << (8 * n);
            return push_int(vm, (int64_t)v);
        }
    case PK_BINFLOAT:
        if ((rc = need(vm, 8)) != PACTCL_OK)
            return rc;
        {
            uint64_t bits = 0;
            for (int i = 0; i < 8; i++) /* big-endian, unlike everything else */
                bits = bits << 8 | vm->buf[vm->pos + (size_t)i];
            vm->pos += 8;
            struct val v = { .kind = K_FLOAT };
            memcpy(&v.u.f, &bits, sizeof bits);
            return push(vm, v);
        }
    case PK_SHORT_BINUNICODE:
    case PK_BINUNICODE:
    case PK_BINUNICODE8:
        rc = read_len(vm, vm->op == PK_SHORT_BINUNICODE ? 1 : vm->op == PK_BINUNICODE ? 4 : 8, &n);
        return rc != PACTCL_OK ? rc : push_text(vm, K_STR, n, 0);
    case PK_SHORT_BINBYTES:
    case PK_BINBYTES:
    case PK_BINBYTES8:
        rc = read_len(vm, vm->op == PK_SHORT_BINBYTES ? 1 : vm->op == PK_BINBYTES ? 4 : 8, &n);
        return rc != PACTCL_OK ? rc : push_text(vm, K_BYTES, n, 0);
    case PK_SHORT_BINSTRING:
        /* Python 2's str, read the way numpy says: encoding='latin1'. */
        rc = read_len(vm, 1, &n);
        return rc != PACTCL_OK ? rc : push_text(vm, K_STR, n, 1);
    case PK_BINSTRING:
        if ((rc = need(vm, 4)) != PACTCL_OK)
            return rc;
        if (vm->buf[vm->pos + 3] & 0x80)
            return fail(vm, "BINSTRING has a negative length");
        rc = read_len(vm, 4, &n);
        return rc != PACTCL_OK ? rc : push_text(vm, K_STR, n, 1);
    case PK_EMPTY_TUPLE:
        return make_tuple(vm, 0);
    case PK_TUPLE1:
    case PK_TUPLE2:
    case PK_TUPLE3:
        return make_tuple(vm, (size_t)(vm->op - PK_TUPLE1 + 1));
    case PK_TUPLE:
        if (!vm->nmarks)
            return fail(vm, "TUPLE without a MARK");
        /* The tuple takes the place of its items and of the MARK. */
        rc = make_tuple(vm, above_mark(vm));
        if (rc == PACTCL_OK)
            vm->nmarks--;
        return rc;
    case PK_EMPTY_DICT: {
        struct obj *o;
        rc = new_obj(vm, K_DICT, &o);
        return rc != PACTCL_OK ? rc : push_obj(vm, o);
    }
    case PK_SETITEM:
        if ((rc = need_stack(vm, 3)) != PACTCL_OK)
            return rc;
        return set_items(vm, vm->sp - 2);
    case PK_SETITEMS:
        if (!vm->nmarks)
            return fail(vm, "SETITEMS without a MARK");
        n = vm->marks[--vm->nmarks];
        if (above_mark(vm) < vm->sp - n + 1)
            return fail(vm, "SETITEMS needs a dict below its MARK");
        return set_items(vm, n);
    case PK_BINPUT:
    case PK_LONG_BINPUT:
        n = vm->op == PK_BINPUT ? 1 : 4;
        if ((rc = need(vm, n)) != PACTCL_OK)
            return rc;
        vm->pos += n;
        return memo_put(vm, get_le(vm->buf + vm->pos - n, (int)n));
    case PK_MEMOIZE:
        return memo_put(vm, vm->memo_count);
    case PK_BINGET:
    case PK_LONG_BINGET:
        n = vm->op == PK_BINGET ? 1 : 4;
        if ((rc = need(vm, n)) != PACTCL_OK)
            return rc;
        vm->pos += n;
        return memo_get(vm, get_le(vm->buf + vm->pos - n, (int)n));
    case PK_GLOBAL: {
        const unsigned char *mod;
        size_t mod_n;
        if ((rc = read_line(vm, &mod, &mod_n)) != PACTCL_OK ||
            (rc = read_line(vm, &p, &n)) != PACTCL_OK)
            return rc;
        return push_global(vm, mod, mod_n, p, n);
    }
    case PK_STACK_GLOBAL: {
        if ((rc = need_stack(vm, 2)) != PACTCL_OK)
            return rc;
        struct val mod = vm->stack[vm->sp - 2], name = vm->stack[vm->sp - 1];
        if (mod.kind != K_STR || name.kind != K_STR)
            return fail(vm, "STACK_GLOBAL needs two strings");
        vm->sp -= 2;
        return push_global(vm, mod.u.o->u.s.p, mod.u.o->u.s.n, name.u.o->u.s.p,
                           name.u.o->u.s.n);
    }
    case PK_REDUCE:
        return reduce(vm);
    case PK_BUILD:
        return build(vm);
    default:
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "file %s: pickle opcode 0x%02x at offset %zu is not supported "
                                 "(a state dict holds only numpy arrays, dicts and scalars)",
                                 vm->name, vm->op, vm->op_pos);
    }
}

/* ---- from machine objects to a state dict ---------------------------------- */

/* A dict key or str value as a NUL-terminated UTF-8 copy (*out malloc()ed). */
static int text_to_utf8(struct vm *vm, const struct obj *s, const char *what, char **out,
                        size_t *out_n)
{
    size_t n = s->u.s.n;
    if (memchr(s->u.s.p, '\0', n))
        return pactcl__set_error(PACTCL_EFORMAT, "file %s: a %s contains a NUL character",
                                 vm->name, what);
    size_t extra = 0;
    if (s->u.s.latin1)
        for (size_t i = 0; i < n; i++)
            extra += s->u.s.p[i] >= 0x80;
    char *d = NULL;
    int rc = vm_realloc(vm, (void **)&d, n + extra + 1);
    if (rc != PACTCL_OK)
        return rc;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s->u.s.p[i];
        if (s->u.s.latin1 && c >= 0x80) {
            d[j++] = (char)(0xc0 | c >> 6);
            d[j++] = (char)(0x80 | (c & 0x3f));
        } else {
            d[j++] = (char)c;
        }
    }
    d[j] = '\0';
    *out = d;
    *out_n = j;
    return PACTCL_OK;
}

static int convert_dict(struct vm *vm, struct obj *d, int depth, struct pactcl_state_dict **out);

static int convert_value(struct vm *vm, struct val v, const char *key, int depth,
                         struct pactcl_sd_value *out)
{
    size_t n;
    int rc;
    switch (v.kind) {
    case K_NONE:
        out->type = PACTCL_SD_NONE;
        return PACTCL_OK;
    case K_BOOL:
        out->type = PACTCL_SD_BOOL;
        out->u.b = (int)v.u.i;
        return PACTCL_OK;
    case K_INT:
        out->type = PACTCL_SD_INT;
        out->u.i = v.u.i;
        return PACTCL_OK;
    case K_FLOAT:
        out->type = PACTCL_SD_FLOAT;
        out->u.f = v.u.f;
        return PACTCL_OK;
    case K_STR:
        rc = text_to_utf8(vm, v.u.o, "string value", &out->u.str, &n);
        if (rc == PACTCL_OK)
            out->type = PACTCL_SD_STR;
        return rc;
    case K_DICT:
        rc = convert_dict(vm, v.u.o, depth + 1, &out->u.dict);
        if (rc == PACTCL_OK)
            out->type = PACTCL_SD_DICT;
        return rc;
    case K_ARRAY: {
        struct obj *o = v.u.o;
        if (!o->u.arr.built)
            return pactcl__set_error(PACTCL_EFORMAT, "file %s: entry '%.100s': array has no data",
                                     vm->name, key);
        out->type = PACTCL_SD_ARRAY;
        out->u.array = o->u.arr.a;
        if (!o->u.arr.taken) {
            o->u.arr.taken = 1;
            return PACTCL_OK;
        }
        /* The memo lets one array appear twice; each entry owns its data. */
        out->u.array.data = NULL;
        rc = o->u.arr.a.nbytes ? vm_realloc(vm, &out->u.array.data, o->u.arr.a.nbytes)
                                   : PACTCL_OK;
        if (rc != PACTCL_OK) {
            out->type = PACTCL_SD_NONE;
            return rc;
        }
        if (o->u.arr.a.nbytes)
            memcpy(out->u.array.data, o->u.arr.a.data, o->u.arr.a.nbytes);
        return PACTCL_OK;
    }
    default:
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "file %s: entry '%.100s': a %s value is not supported", vm->name,
                                 key, kind_names[v.kind]);
    }
}

static int convert_dict(struct vm *vm, struct obj *d, int depth, struct pactcl_state_dict **out)
{
    *out = NULL;
    if (d->u.d.converting)
        return pactcl__set_error(PACTCL_EFORMAT, "file %s: a dict contains itself", vm->name);
    if (depth > PACTCL_SD_MAX_NESTING)
        return pactcl__set_error(PACTCL_EFORMAT, "file %s: dicts nest deeper than %d levels",
                                 vm->name, PACTCL_SD_MAX_NESTING);
    struct pactcl_state_dict *sd;
    int rc = pactcl_state_dict_create(&sd);
    d->u.d.converting = 1;
    for (size_t i = 0; rc == PACTCL_OK && i < d->u.d.n; i++) {
        char *key;
        size_t key_n;
        /* The memo can share one dict many times over; charging each entry
         * bounds the work of expanding such a graph. */
        rc = charge(vm, ENTRY_COST);
        if (rc == PACTCL_OK)
            rc = text_to_utf8(vm, d->u.d.kv[2 * i].u.o, "dict key", &key, &key_n);
        if (rc != PACTCL_OK)
            break;
        struct pactcl_sd_value v = { .type = PACTCL_SD_NONE };
        rc = convert_value(vm, d->u.d.kv[2 * i + 1], key, depth, &v);
        if (rc == PACTCL_OK)
            rc = pactcl__sd_set_value(sd, key, key_n, &v);
        else
            pactcl__sd_value_clear(&v);
        free(key);
    }
    d->u.d.converting = 0;
    if (rc != PACTCL_OK) {
        pactcl_state_dict_free(sd);
        return rc;
    }
    *out = sd;
    return PACTCL_OK;
}

/* ---- entry points ---------------------------------------------------------- */

int pactcl_state_dict_load_memory(const void *buf, size_t len, const char *name_for_errors,
                                  struct pactcl_state_dict **out)
{
    if (!out || (!buf && len))
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_load_memory: NULL argument");
    *out = NULL;
    struct vm vm = {
        .buf = buf,
        .len = len,
        .name = name_for_errors ? name_for_errors : "(memory)",
    };
    vm.budget = len > (SIZE_MAX - BUDGET_BASE) / BUDGET_PER_BYTE
                    ? SIZE_MAX
                    : BUDGET_PER_BYTE * len + BUDGET_BASE;
    int rc = PACTCL_OK, done = 0;
    while (rc == PACTCL_OK && !done) {
        if (vm.pos == vm.len) {
            rc = pactcl__set_error(PACTCL_EFORMAT,
                                   len ? "file %s: truncated: the pickle ends without STOP "
                                         "(offset %zu)"
                                       : "file %s: empty file (offset %zu)",
                                   vm.name, vm.pos);
            break;
        }
        rc = step(&vm, &done);
    }
    if (rc == PACTCL_OK) {
        struct val top = vm.stack[vm.sp - 1];
        if (top.kind != K_DICT)
            rc = pactcl__set_error(PACTCL_EFORMAT, "file %s: the pickle holds a %s, not a dict",
                                   vm.name, kind_names[top.kind]);
        else
            rc = convert_dict(&vm, top.u.o, 0, out);
    }
    free_objects(&vm);
    free(vm.stack);
    free(vm.memo);
    return rc;
}

int pactcl_state_dict_load(const char *path, struct pactcl_state_dict **out)
{
    if (!path || !out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_state_dict_load: NULL argument");
    *out = NULL;
    /* O_NONBLOCK: a FIFO must not block the open; fstat refuses it below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pactcl__set_error(PACTCL_EIO, "file %s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return pactcl__set_error(PACTCL_EIO, "file %s: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pactcl__set_error(PACTCL_EIO, "file %s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX / 2) {
        close(fd);
        return pactcl__set_error(PACTCL_ENOMEM, "file %s: too large to read", path);
    }
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return pactcl__set_error(PACTCL_ENOMEM, "file %s: out of memory reading %zu bytes", path,
                                 size);
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int err = r < 0 ? errno : 0;
            close(fd);
            free(buf);
            return pactcl__set_error(PACTCL_EIO, "file %s: read failed: %s", path,
                                     err ? strerror(err) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    int rc = pactcl_state_dict_load_memory(buf, size, path, out);
    free(buf);
    return rc;
}
