/*
 * test_pdparams.c: the .pdparams / .pdopt reader and writer (core/io).
 *
 * Fixtures come from tests/fixtures/pdparams/make_fixtures.py (numpy's own
 * pickling); expected values are recomputed here from the same closed-form
 * generator, not read from the files.  Hostile inputs are built by hand.
 *
 *   test_pdparams                     run the Check suite
 *   test_pdparams write-samples DIR   write model.pdparams, opt.pdopt,
 *                                     misc.pdparams, big.pdparams for
 *                                     tests/pdparams_python_roundtrip.sh
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pactcl.h"
#include "state_dict.h"

#ifndef PDPARAMS_FIXTURES
#error "PDPARAMS_FIXTURES must name tests/fixtures/pdparams"
#endif

#define NAME_TABLE PACTCL_SD_NAME_TABLE_KEY

/* ---- the closed-form generator (make_fixtures.py's `values`) ------------- */

struct spec {
    const char *name;
    enum pactcl_sd_dtype dtype;
    int ndim;
    int64_t dims[PACTCL_SD_MAX_DIMS];
    int fortran;
    int seed;
};

static const struct spec model_spec[] = {
    { "conv.weight", PACTCL_SD_F4, 4, { 4, 3, 3, 3 }, 0, 1 },
    { "bn.weight", PACTCL_SD_F4, 1, { 4 }, 0, 2 },
    { "bn.bias", PACTCL_SD_F4, 1, { 4 }, 0, 3 },
    { "bn._mean", PACTCL_SD_F4, 1, { 4 }, 0, 4 },
    { "bn._variance", PACTCL_SD_F4, 1, { 4 }, 0, 5 },
    { "fc.weight", PACTCL_SD_F4, 2, { 3, 5 }, 1, 6 },
    { "fc.bias", PACTCL_SD_F4, 1, { 5 }, 0, 7 },
    { "step", PACTCL_SD_I8, 1, { 3 }, 0, 8 },
    { "scale", PACTCL_SD_F4, 0, { 0 }, 0, 9 },
    { "f64", PACTCL_SD_F8, 2, { 2, 2 }, 0, 10 },
    { "i32", PACTCL_SD_I4, 3, { 2, 3, 4 }, 1, 11 },
    { "u8", PACTCL_SD_U1, 1, { 5 }, 0, 12 },
    { "i8", PACTCL_SD_I1, 1, { 4 }, 0, 13 },
    { "mask", PACTCL_SD_B1, 1, { 3 }, 0, 14 },
    { "empty", PACTCL_SD_F4, 2, { 0, 3 }, 0, 15 },
    { "rank6", PACTCL_SD_F4, 6, { 1, 2, 1, 2, 1, 2 }, 0, 16 },
};
#define N_MODEL (sizeof model_spec / sizeof model_spec[0])

static const char *const name_table[][2] = {
    { "conv.weight", "conv2d_0.w_0" },      { "bn.weight", "batch_norm2d_0.w_0" },
    { "bn.bias", "batch_norm2d_0.b_0" },    { "bn._mean", "batch_norm2d_0.w_1" },
    { "bn._variance", "batch_norm2d_0.w_2" }, { "fc.weight", "linear_0.w_0" },
    { "fc.bias", "linear_0.b_0" },
};
#define N_NAMES (sizeof name_table / sizeof name_table[0])

static const struct spec opt_spec[] = {
    { "conv2d_0.w_0_velocity_0", PACTCL_SD_F4, 4, { 4, 3, 3, 3 }, 0, 21 },
    { "batch_norm2d_0.w_0_velocity_0", PACTCL_SD_F4, 1, { 4 }, 0, 22 },
    { "batch_norm2d_0.b_0_velocity_0", PACTCL_SD_F4, 1, { 4 }, 0, 23 },
    { "linear_0.w_0_velocity_0", PACTCL_SD_F4, 2, { 3, 5 }, 0, 24 },
    { "linear_0.b_0_velocity_0", PACTCL_SD_F4, 1, { 5 }, 0, 25 },
};
#define N_OPT (sizeof opt_spec / sizeof opt_spec[0])

static const struct spec big_spec[] = {
    { "big.u8", PACTCL_SD_U1, 1, { 70000 }, 0, 31 },
    { "after", PACTCL_SD_F4, 1, { 3 }, 0, 32 },
};

/* The builders below also serve `write-samples`, outside any test, where
 * Check's passing asserts cannot report: they only abort on failure. */
static void must(int rc)
{
    if (rc != PACTCL_OK)
        ck_abort_msg("%s", pactcl_last_error());
}

/* Element i (in memory order) of an array with `seed`. */
static void gen(enum pactcl_sd_dtype dt, int64_t i, int seed, void *out)
{
    double f = (double)((i * 37 + seed * 11) % 101 - 50) / 16.0;
    switch (dt) {
    case PACTCL_SD_F4: {
        float v = (float)f;
        memcpy(out, &v, 4);
        break;
    }
    case PACTCL_SD_F8:
        memcpy(out, &f, 8);
        break;
    case PACTCL_SD_I4: {
        int32_t v = (int32_t)((i * 7919 + seed) % 20011 - 10000);
        memcpy(out, &v, 4);
        break;
    }
    case PACTCL_SD_I8: {
        int64_t v = (i + seed) * INT64_C(8589934597) - 12345;
        memcpy(out, &v, 8);
        break;
    }
    case PACTCL_SD_U1:
        *(uint8_t *)out = (uint8_t)((i * 7 + seed) % 256);
        break;
    case PACTCL_SD_I1:
        *(int8_t *)out = (int8_t)((i * 7 + seed) % 256 - 128);
        break;
    case PACTCL_SD_B1:
        *(uint8_t *)out = (uint8_t)((i * 3 + seed) % 2);
        break;
    default:
        ck_abort_msg("bad dtype");
    }
}

static int64_t spec_numel(const struct spec *s)
{
    int64_t n = 1;
    for (int k = 0; k < s->ndim; k++)
        n *= s->dims[k];
    return n;
}

/* The array's elements in C order.  For a "fortran" spec, memory order is
 * Fortran order, so element (i0..in-1) is gen(i0 + d0*(i1 + d1*(...))). */
static void *expected_data(const struct spec *s, size_t *nbytes)
{
    size_t isz = pactcl_sd_dtype_size(s->dtype);
    int64_t n = spec_numel(s);
    *nbytes = (size_t)n * isz;
    unsigned char *d = malloc(*nbytes ? *nbytes : 1);
    if (!d)
        ck_abort_msg("out of memory");
    for (int64_t c = 0; c < n; c++) {
        int64_t mem = c;
        if (s->fortran) {
            int64_t rest = c, f = 0, stride = 1, idx[PACTCL_SD_MAX_DIMS];
            for (int k = s->ndim - 1; k >= 0; k--) {
                idx[k] = rest % s->dims[k];
                rest /= s->dims[k];
            }
            for (int k = 0; k < s->ndim; k++) {
                f += idx[k] * stride;
                stride *= s->dims[k];
            }
            mem = f;
        }
        gen(s->dtype, mem, s->seed, d + (size_t)c * isz);
    }
    return d;
}

/* ---- building and checking state dicts ------------------------------------ */

static void set_spec(struct pactcl_state_dict *sd, const struct spec *s)
{
    size_t nbytes;
    void *data = expected_data(s, &nbytes);
    must(pactcl_state_dict_set_array(sd, s->name, s->dtype, s->ndim, s->dims, data));
    free(data);
}

static void set_name_table(struct pactcl_state_dict *sd)
{
    struct pactcl_state_dict *t;
    must(pactcl_state_dict_set_dict(sd, NAME_TABLE, &t));
    for (size_t i = 0; i < N_NAMES; i++)
        must(pactcl_state_dict_set_str(t, name_table[i][0], name_table[i][1]));
}

/* An optimizer's accumulators are saved under their own variable names. */
static void set_opt_name_table(struct pactcl_state_dict *sd)
{
    struct pactcl_state_dict *t;
    must(pactcl_state_dict_set_dict(sd, NAME_TABLE, &t));
    for (size_t i = 0; i < N_OPT; i++)
        must(pactcl_state_dict_set_str(t, opt_spec[i].name, opt_spec[i].name));
}

static struct pactcl_state_dict *build_model(void)
{
    struct pactcl_state_dict *sd;
    must(pactcl_state_dict_create(&sd));
    for (size_t i = 0; i < N_MODEL; i++)
        set_spec(sd, &model_spec[i]);
    set_name_table(sd);
    return sd;
}

static struct pactcl_state_dict *build_opt(void)
{
    struct pactcl_state_dict *sd, *lr;
    must(pactcl_state_dict_create(&sd));
    for (size_t i = 0; i < N_OPT; i++)
        set_spec(sd, &opt_spec[i]);
    must(pactcl_state_dict_set_dict(sd, "LR_Scheduler", &lr));
    must(pactcl_state_dict_set_int(lr, "last_epoch", 3));
    must(pactcl_state_dict_set_float(lr, "last_lr", 0.001));
    set_opt_name_table(sd);
    return sd;
}

/* make_fixtures.py's MISC. */
static struct pactcl_state_dict *build_misc(void)
{
    struct pactcl_state_dict *sd, *nested, *a;
    must(pactcl_state_dict_create(&sd));
    must(pactcl_state_dict_set_str(sd, "text", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93"));
    must(pactcl_state_dict_set_bool(sd, "flag", 1));
    must(pactcl_state_dict_set_bool(sd, "off", 0));
    must(pactcl_state_dict_set_none(sd, "nothing"));
    must(pactcl_state_dict_set_int(sd, "neg", -5));
    must(pactcl_state_dict_set_int(sd, "u16", 40000));
    must(pactcl_state_dict_set_int(sd, "i32", -70000));
    must(pactcl_state_dict_set_int(sd, "big", INT64_C(1) << 40));
    must(pactcl_state_dict_set_int(sd, "min64", INT64_MIN));
    must(pactcl_state_dict_set_int(sd, "max64", INT64_MAX));
    must(pactcl_state_dict_set_float(sd, "pi", 3.25));
    must(pactcl_state_dict_set_float(sd, "tiny", 1e-300));
    must(pactcl_state_dict_set_dict(sd, "nested", &nested));
    must(pactcl_state_dict_set_dict(nested, "a", &a));
    must(pactcl_state_dict_set_int(a, "b", 1));
    must(pactcl_state_dict_set_str(nested, "c", "d"));
    return sd;
}

static struct pactcl_state_dict *build_big(void)
{
    struct pactcl_state_dict *sd;
    must(pactcl_state_dict_create(&sd));
    set_spec(sd, &big_spec[0]);
    set_spec(sd, &big_spec[1]);
    return sd;
}

static void check_array(const struct pactcl_state_dict *sd, size_t at, const struct spec *s)
{
    ck_assert_uint_gt(sd->count, at);
    const struct pactcl_sd_entry *e = &sd->entries[at];
    ck_assert_str_eq(e->name, s->name);
    ck_assert_int_eq(e->value.type, PACTCL_SD_ARRAY);
    const struct pactcl_sd_array *a = &e->value.u.array;
    ck_assert_msg(a->dtype == s->dtype, "%s: dtype %s, expected %s", s->name,
                  pactcl_sd_dtype_name(a->dtype), pactcl_sd_dtype_name(s->dtype));
    ck_assert_int_eq(a->ndim, s->ndim);
    for (int k = 0; k < s->ndim; k++)
        ck_assert_int_eq(a->dims[k], s->dims[k]);
    size_t nbytes;
    void *want = expected_data(s, &nbytes);
    ck_assert_uint_eq(a->nbytes, nbytes);
    if (nbytes)
        ck_assert_msg(memcmp(a->data, want, nbytes) == 0, "%s: values differ", s->name);
    free(want);
}

/* The name table at entries[at]: n pairs, pair(i, 0) -> pair(i, 1). */
static void check_name_table(const struct pactcl_state_dict *sd, size_t at, size_t n,
                             const char *(*pair)(size_t i, int k))
{
    ck_assert_uint_gt(sd->count, at);
    const struct pactcl_sd_entry *e = &sd->entries[at];
    ck_assert_str_eq(e->name, NAME_TABLE);
    ck_assert_int_eq(e->value.type, PACTCL_SD_DICT);
    const struct pactcl_state_dict *t = e->value.u.dict;
    ck_assert_uint_eq(t->count, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(t->entries[i].name, pair(i, 0));
        ck_assert_int_eq(t->entries[i].value.type, PACTCL_SD_STR);
        ck_assert_str_eq(t->entries[i].value.u.str, pair(i, 1));
    }
}

static const char *model_pair(size_t i, int k)
{
    return name_table[i][k];
}

static const char *opt_pair(size_t i, int k)
{
    (void)k;
    return opt_spec[i].name;
}

static void check_model(const struct pactcl_state_dict *sd, int with_names)
{
    ck_assert_uint_eq(sd->count, N_MODEL + (with_names ? 1 : 0));
    for (size_t i = 0; i < N_MODEL; i++)
        check_array(sd, i, &model_spec[i]);
    if (with_names)
        check_name_table(sd, N_MODEL, N_NAMES, model_pair);
}

static void check_opt(const struct pactcl_state_dict *sd)
{
    ck_assert_uint_eq(sd->count, N_OPT + 2);
    for (size_t i = 0; i < N_OPT; i++)
        check_array(sd, i, &opt_spec[i]);
    const struct pactcl_sd_entry *e = &sd->entries[N_OPT];
    ck_assert_str_eq(e->name, "LR_Scheduler");
    ck_assert_int_eq(e->value.type, PACTCL_SD_DICT);
    const struct pactcl_state_dict *lr = e->value.u.dict;
    ck_assert_uint_eq(lr->count, 2);
    ck_assert_str_eq(lr->entries[0].name, "last_epoch");
    ck_assert_int_eq(lr->entries[0].value.type, PACTCL_SD_INT);
    ck_assert_int_eq(lr->entries[0].value.u.i, 3);
    ck_assert_str_eq(lr->entries[1].name, "last_lr");
    ck_assert_int_eq(lr->entries[1].value.type, PACTCL_SD_FLOAT);
    ck_assert(lr->entries[1].value.u.f == 0.001);
    check_name_table(sd, N_OPT + 1, N_OPT, opt_pair);
}

static void check_big(const struct pactcl_state_dict *sd)
{
    ck_assert_uint_eq(sd->count, 2);
    check_array(sd, 0, &big_spec[0]);
    check_array(sd, 1, &big_spec[1]);
}

/* Same names in the same order, same types, same values and array bytes. */
static void check_same(const struct pactcl_state_dict *a, const struct pactcl_state_dict *b)
{
    ck_assert_uint_eq(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const struct pactcl_sd_entry *x = &a->entries[i], *y = &b->entries[i];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_int_eq(x->value.type, y->value.type);
        switch (x->value.type) {
        case PACTCL_SD_ARRAY: {
            const struct pactcl_sd_array *p = &x->value.u.array, *q = &y->value.u.array;
            ck_assert_int_eq(p->dtype, q->dtype);
            ck_assert_int_eq(p->ndim, q->ndim);
            for (int k = 0; k < p->ndim; k++)
                ck_assert_int_eq(p->dims[k], q->dims[k]);
            ck_assert_uint_eq(p->nbytes, q->nbytes);
            if (p->nbytes)
                ck_assert_mem_eq(p->data, q->data, p->nbytes);
            break;
        }
        case PACTCL_SD_DICT:
            check_same(x->value.u.dict, y->value.u.dict);
            break;
        case PACTCL_SD_INT:
            ck_assert_int_eq(x->value.u.i, y->value.u.i);
            break;
        case PACTCL_SD_FLOAT:
            ck_assert_mem_eq(&x->value.u.f, &y->value.u.f, sizeof(double));
            break;
        case PACTCL_SD_STR:
            ck_assert_str_eq(x->value.u.str, y->value.u.str);
            break;
        case PACTCL_SD_BOOL:
            ck_assert_int_eq(x->value.u.b, y->value.u.b);
            break;
        case PACTCL_SD_NONE:
            break;
        }
    }
}

/* ---- files ------------------------------------------------------------------ */

static char tmpdir[512];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pactcl-pdparams-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_tree(sub);
            }
        }
        if (d)
            closedir(d);
    }
    remove(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        rm_tree(tmpdir);
    tmpdir[0] = '\0';
}

static char *tmp_path(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* The names in tmpdir, space-separated and sorted. */
static char *list_tmpdir(void)
{
    static char out[2048];
    struct dirent **names;
    int n = scandir(tmpdir, &names, NULL, alphasort);
    ck_assert_int_ge(n, 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            if (out[0])
                strncat(out, " ", sizeof out - strlen(out) - 1);
            strncat(out, names[i]->d_name, sizeof out - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
    return out;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", PDPARAMS_FIXTURES, name);
    return path;
}

static struct pactcl_state_dict *load_fixture(const char *name)
{
    struct pactcl_state_dict *sd = NULL;
    int rc = pactcl_state_dict_load(fixture(name), &sd);
    ck_assert_msg(rc == PACTCL_OK, "%s: %s", name, pactcl_last_error());
    return sd;
}

static void assert_refused(int rc, const char *needle)
{
    ck_assert_msg(rc == PACTCL_EFORMAT, "status %d (%s), expected EFORMAT", rc,
                  pactcl_last_error());
    ck_assert_msg(strstr(pactcl_last_error(), needle), "message '%s' lacks '%s'",
                  pactcl_last_error(), needle);
}

static int load_bytes(const void *buf, size_t len, struct pactcl_state_dict **out)
{
    return pactcl_state_dict_load_memory(buf, len, "crafted.pdparams", out);
}

/* ---- a tiny pickle assembler for hostile inputs --------------------------- */

struct pk {
    unsigned char *b;
    size_t n, cap;
};

static void pk_raw(struct pk *p, const void *d, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
        ck_assert_ptr_nonnull(p->b);
    }
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void pk_op(struct pk *p, int op)
{
    unsigned char c = (unsigned char)op;
    pk_raw(p, &c, 1);
}

static void pk_le(struct pk *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        pk_op(p, (int)(v >> (8 * i)) & 0xff);
}

/* Appends a string literal, embedded NULs included. */
#define PK_LIT(p, lit) pk_raw((p), (lit), sizeof(lit) - 1)
#define LOAD_LIT(lit, out) load_bytes((lit), sizeof(lit) - 1, (out))

static void pk_str(struct pk *p, const char *s)
{
    pk_op(p, 0x8c);
    pk_le(p, strlen(s), 1);
    pk_raw(p, s, strlen(s));
}

static void pk_global(struct pk *p, const char *mod, const char *name)
{
    pk_str(p, mod);
    pk_str(p, name);
    pk_op(p, 0x93);
}

/* _reconstruct(ndarray, (0,), b'b') on the stack. */
static void pk_new_array(struct pk *p)
{
    pk_global(p, "numpy.core.multiarray", "_reconstruct");
    pk_global(p, "numpy", "ndarray");
    PK_LIT(p, "K\x00\x85" "C\x01" "b\x87R");
}

/* A built numpy.dtype(code) with byte order `order` on the stack. */
static void pk_dtype(struct pk *p, const char *code, const char *order)
{
    pk_global(p, "numpy", "dtype");
    pk_str(p, code);
    PK_LIT(p, "\x89\x88\x87R(K\x03");
    pk_str(p, order);
    PK_LIT(p, "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb");
}

/* The start of every crafted pickle: PROTO 4, EMPTY_DICT, MARK. */
static struct pk pk_begin(void)
{
    struct pk p = { 0 };
    PK_LIT(&p, "\x80\x04}(");
    return p;
}

/* ---- tests: loading ---------------------------------------------------------- */

static const struct {
    const char *file;
    int with_names;
} model_fixtures[] = {
    { "model_p2.pdparams", 0 },       { "model_p4.pdparams", 0 },
    { "model_p4_names.pdparams", 1 }, { "model_np1_p2.pdparams", 1 },
    { "model_np1_p4.pdparams", 1 },   { "model_py2.pdparams", 1 },
};
#define N_MODEL_FIXTURES ((int)(sizeof model_fixtures / sizeof model_fixtures[0]))

START_TEST(test_load_model)
{
    struct pactcl_state_dict *sd = load_fixture(model_fixtures[_i].file);
    check_model(sd, model_fixtures[_i].with_names);
    pactcl_state_dict_free(sd);
}
END_TEST

START_TEST(test_load_opt)
{
    const char *files[] = { "opt_p2.pdopt", "opt_p4.pdopt" };
    for (int i = 0; i < 2; i++) {
        struct pactcl_state_dict *sd = load_fixture(files[i]);
        check_opt(sd);
        pactcl_state_dict_free(sd);
    }
}
END_TEST

START_TEST(test_load_misc)
{
    struct pactcl_state_dict *want = build_misc();
    const char *files[] = { "misc_p2.pdparams", "misc_p4.pdparams" };
    for (int i = 0; i < 2; i++) {
        struct pactcl_state_dict *sd = load_fixture(files[i]);
        check_same(sd, want);
        pactcl_state_dict_free(sd);
    }
    pactcl_state_dict_free(want);
}
END_TEST

START_TEST(test_load_big)
{
    struct pactcl_state_dict *sd = load_fixture("big_p4.pdparams");
    check_big(sd);
    pactcl_state_dict_free(sd);
}
END_TEST

START_TEST(test_name_table_remove)
{
    struct pactcl_state_dict *sd = load_fixture("model_p4_names.pdparams");
    ck_assert_ptr_nonnull(pactcl_state_dict_find(sd, NAME_TABLE));
    ck_assert_int_eq(pactcl_state_dict_remove(sd, NAME_TABLE), PACTCL_OK);
    ck_assert_ptr_null(pactcl_state_dict_find(sd, NAME_TABLE));
    ck_assert_int_eq(pactcl_state_dict_remove(sd, NAME_TABLE), PACTCL_ENOTFOUND);
    check_model(sd, 0); /* what paddle.load returns */
    pactcl_state_dict_free(sd);
}
END_TEST

START_TEST(test_load_errors_name_the_file)
{
    struct pactcl_state_dict *sd = (struct pactcl_state_dict *)1;
    ck_assert_int_eq(pactcl_state_dict_load(fixture("no-such-file.pdparams"), &sd), PACTCL_EIO);
    ck_assert_ptr_null(sd);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "no-such-file.pdparams"));
    ck_assert_int_eq(pactcl_state_dict_load(PDPARAMS_FIXTURES, &sd), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "not a regular file"));
    assert_refused(LOAD_LIT("", &sd), "empty");
    /* A FIFO with no writer: refused at once instead of blocking the open. */
    char fifo[] = "/tmp/pactcl-fifo-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(fifo));
    char path[64];
    snprintf(path, sizeof path, "%s/x.pdparams", fifo);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(pactcl_state_dict_load(path, &sd), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "not a regular file"));
    unlink(path);
    rmdir(fifo);
}
END_TEST

/* ---- tests: the state dict API ---------------------------------------------- */

START_TEST(test_api)
{
    struct pactcl_state_dict *sd;
    ck_assert_int_eq(pactcl_state_dict_create(&sd), PACTCL_OK);
    float w[6] = { 1, 2, 3, 4, 5, 6 };
    int64_t dims[2] = { 2, 3 };
    ck_assert_int_eq(pactcl_state_dict_set_f32(sd, "a", 2, dims, w), PACTCL_OK);
    ck_assert_int_eq(pactcl_state_dict_set_int(sd, "b", 7), PACTCL_OK);
    ck_assert_int_eq(pactcl_state_dict_set_float(sd, "c", 0.5), PACTCL_OK);
    w[0] = 42; /* the dict holds a copy */
    const struct pactcl_sd_entry *a = pactcl_state_dict_find(sd, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert(((const float *)a->value.u.array.data)[0] == 1);
    ck_assert_uint_eq(a->value.u.array.nbytes, 24);
    ck_assert_int_eq(pactcl_sd_array_numel(&a->value.u.array), 6);
    /* Setting an existing name keeps its place, like a Python dict. */
    ck_assert_int_eq(pactcl_state_dict_set_str(sd, "a", "x"), PACTCL_OK);
    ck_assert_uint_eq(sd->count, 3);
    ck_assert_str_eq(sd->entries[0].name, "a");
    ck_assert_int_eq(sd->entries[0].value.type, PACTCL_SD_STR);
    ck_assert_int_eq(pactcl_state_dict_remove(sd, "a"), PACTCL_OK);
    ck_assert_str_eq(sd->entries[0].name, "b");
    ck_assert_ptr_eq(pactcl_state_dict_find(sd, "c"), &sd->entries[1]);
    ck_assert_ptr_null(pactcl_state_dict_find(sd, "a"));
    /* Many names: the index grows and stays right. */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "p%d", i);
        ck_assert_int_eq(pactcl_state_dict_set_int(sd, name, i), PACTCL_OK);
    }
    ck_assert_int_eq(pactcl_state_dict_remove(sd, "p17"), PACTCL_OK);
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "p%d", i);
        const struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, name);
        if (i == 17) {
            ck_assert_ptr_null(e);
        } else {
            ck_assert_ptr_nonnull(e);
            ck_assert_int_eq(e->value.u.i, i);
        }
    }
    /* Bad arrays are refused and leave the dict as it was. */
    int64_t bad[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    size_t before = sd->count;
    ck_assert_int_eq(pactcl_state_dict_set_f32(sd, "r9", 9, bad, w), PACTCL_EINVAL);
    bad[0] = -1;
    ck_assert_int_eq(pactcl_state_dict_set_f32(sd, "neg", 1, bad, w), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_state_dict_set_f32(sd, "nodata", 2, dims, NULL), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_state_dict_set_array(sd, "dt", PACTCL_SD_DTYPE_COUNT, 2, dims, w),
                     PACTCL_EINVAL);
    ck_assert_uint_eq(sd->count, before);
    ck_assert_int_eq(pactcl_state_dict_set_f32(sd, "scalar", 0, NULL, w), PACTCL_OK);
    ck_assert_int_eq(pactcl_sd_array_numel(&pactcl_state_dict_find(sd, "scalar")->value.u.array),
                     1);
    pactcl_state_dict_free(sd);
    pactcl_state_dict_free(NULL);

    ck_assert_str_eq(pactcl_sd_dtype_name(PACTCL_SD_B1), "b1");
    ck_assert_uint_eq(pactcl_sd_dtype_size(PACTCL_SD_F8), 8);
    ck_assert_uint_eq(pactcl_sd_dtype_size(PACTCL_SD_DTYPE_COUNT), 0);
}
END_TEST

/* ---- tests: round trips -------------------------------------------------------- */

static struct pactcl_state_dict *(*const builders[])(void) = { build_model, build_opt, build_misc,
                                                              build_big };
#define N_BUILDERS ((int)(sizeof builders / sizeof builders[0]))

START_TEST(test_roundtrip_built)
{
    make_tmpdir();
    struct pactcl_state_dict *sd = builders[_i](), *back;
    const char *path = tmp_path("rt.pdparams");
    ck_assert_msg(pactcl_state_dict_save(path, sd) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_str_eq(list_tmpdir(), "rt.pdparams");
    ck_assert_msg(pactcl_state_dict_load(path, &back) == PACTCL_OK, "%s", pactcl_last_error());
    check_same(back, sd);
    if (_i == 0)
        check_model(back, 1);
    else if (_i == 1)
        check_opt(back);
    else if (_i == 3)
        check_big(back);
    /* save_memory writes the same bytes as save. */
    void *mem;
    size_t mem_len, file_len;
    ck_assert_int_eq(pactcl_state_dict_save_memory(sd, &mem, &mem_len), PACTCL_OK);
    unsigned char *file = read_file(path, &file_len);
    ck_assert_uint_eq(mem_len, file_len);
    ck_assert_mem_eq(mem, file, file_len);
    free(mem);
    free(file);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(sd);
    remove_tmpdir();
}
END_TEST

static const char *const good_fixtures[] = {
    "model_p2.pdparams", "model_p4.pdparams", "model_p4_names.pdparams",
    "model_np1_p2.pdparams", "model_np1_p4.pdparams", "model_py2.pdparams",
    "opt_p2.pdopt", "opt_p4.pdopt", "misc_p2.pdparams", "misc_p4.pdparams", "big_p4.pdparams",
};
#define N_GOOD ((int)(sizeof good_fixtures / sizeof good_fixtures[0]))

/* Python's file -> C load -> C save -> C load gives the same dict; for the
 * protocol-4 numpy 1.x fixture, C's bytes are Python's bytes exactly. */
START_TEST(test_roundtrip_fixtures)
{
    struct pactcl_state_dict *sd = load_fixture(good_fixtures[_i]), *back;
    void *mem;
    size_t len;
    ck_assert_int_eq(pactcl_state_dict_save_memory(sd, &mem, &len), PACTCL_OK);
    ck_assert_msg(load_bytes(mem, len, &back) == PACTCL_OK, "%s", pactcl_last_error());
    check_same(back, sd);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(sd);
    free(mem);
}
END_TEST

/* model_np1_p4 is numpy 1.x's own pickle of the model dict, byte for byte (see
 * make_fixtures.py).  The writer must reproduce it exactly up to the first
 * Fortran-ordered array, which pactcl stores in C order; after that the
 * layouts still agree except that Python also shares the name table's key
 * strings with the dict's keys. */
START_TEST(test_save_matches_numpy1_bytes)
{
    size_t py_len;
    unsigned char *py = read_file(fixture("model_np1_p4.pdparams"), &py_len);
    struct pactcl_state_dict *sd = build_model();
    void *mem;
    size_t len;
    ck_assert_int_eq(pactcl_state_dict_save_memory(sd, &mem, &len), PACTCL_OK);
    size_t prefix = 0;
    while (prefix + 9 <= py_len && memcmp(py + prefix, "fc.weight", 9) != 0)
        prefix++;
    ck_assert_uint_lt(prefix + 9, py_len);
    ck_assert_uint_gt(len, prefix);
    /* Skip the FRAME length (bytes 3..10), which counts the whole file. */
    ck_assert_mem_eq(mem, py, 3);
    ck_assert_mem_eq((unsigned char *)mem + 11, py + 11, prefix - 11);
    free(mem);
    free(py);
    pactcl_state_dict_free(sd);
}
END_TEST

START_TEST(test_roundtrip_many_entries)
{
    /* More than two SETITEMS batches of 1000, and more than 256 memo entries. */
    struct pactcl_state_dict *sd, *back;
    ck_assert_int_eq(pactcl_state_dict_create(&sd), PACTCL_OK);
    char name[32];
    for (int i = 0; i < 2501; i++) {
        float v[2] = { (float)i, (float)-i };
        int64_t dims[1] = { 2 };
        snprintf(name, sizeof name, "layer%d.weight", i);
        ck_assert_int_eq(pactcl_state_dict_set_f32(sd, name, 1, dims, v), PACTCL_OK);
    }
    void *mem;
    size_t len;
    ck_assert_int_eq(pactcl_state_dict_save_memory(sd, &mem, &len), PACTCL_OK);
    ck_assert_int_eq(load_bytes(mem, len, &back), PACTCL_OK);
    check_same(back, sd);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(sd);
    free(mem);
}
END_TEST

/* ---- tests: refusals ------------------------------------------------------------ */

START_TEST(test_refuse_code_execution)
{
    struct pactcl_state_dict *sd = (struct pactcl_state_dict *)1;
    assert_refused(pactcl_state_dict_load(fixture("evil_os_system.pdparams"), &sd),
                   "global os.system is not allowed");
    ck_assert_ptr_null(sd);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "evil_os_system.pdparams"));
    assert_refused(pactcl_state_dict_load(fixture("evil_eval.pdparams"), &sd),
                   "global builtins.eval is not allowed");
    /* Allowed callables used for anything but their numpy purpose. */
    struct pk p = pk_begin();
    pk_str(&p, "k");
    pk_global(&p, "_codecs", "encode");
    pk_str(&p, "x");
    pk_str(&p, "rot13");
    PK_LIT(&p, "\x86R");
    assert_refused(load_bytes(p.b, p.n, &sd), "_codecs.encode is only allowed");
    p.n = 4;
    pk_str(&p, "k");
    pk_global(&p, "numpy", "ndarray");
    PK_LIT(&p, ")R");
    assert_refused(load_bytes(p.b, p.n, &sd), "numpy.ndarray may not be called");
    p.n = 4;
    pk_str(&p, "k");
    PK_LIT(&p, "cposix\nsystem\n");
    assert_refused(load_bytes(p.b, p.n, &sd), "global posix.system is not allowed");
    free(p.b);
}
END_TEST

/* Every proper prefix of a good file fails cleanly. */
START_TEST(test_refuse_truncated)
{
    const char *files[] = { "model_p4_names.pdparams", "model_p2.pdparams", "model_py2.pdparams",
                            "opt_p4.pdopt", "misc_p2.pdparams" };
    for (int f = 0; f < 5; f++) {
        size_t len;
        unsigned char *buf = read_file(fixture(files[f]), &len);
        for (size_t cut = 0; cut < len; cut++) {
            /* A fresh copy of exactly `cut` bytes, so a sanitizer sees overreads. */
            unsigned char *copy = malloc(cut ? cut : 1);
            memcpy(copy, buf, cut);
            struct pactcl_state_dict *sd = NULL;
            int rc = load_bytes(copy, cut, &sd);
            ck_assert_msg(rc == PACTCL_EFORMAT, "%s cut at %zu: status %d", files[f], cut, rc);
            ck_assert_ptr_null(sd);
            free(copy);
        }
        struct pactcl_state_dict *sd = NULL;
        ck_assert_int_eq(load_bytes(buf, len, &sd), PACTCL_OK);
        pactcl_state_dict_free(sd);
        free(buf);
    }
}
END_TEST

START_TEST(test_refuse_overlong_lengths)
{
    struct pactcl_state_dict *sd;
    struct pk p = pk_begin();
    pk_str(&p, "k");
    pk_op(&p, 'B'); /* BINBYTES claiming 2 GiB */
    pk_le(&p, 0x7fffffff, 4);
    PK_LIT(&p, "abcd");
    assert_refused(load_bytes(p.b, p.n, &sd), "truncated");
    p.n = 4;
    pk_op(&p, 0x8e); /* BINBYTES8 claiming 2^63 */
    pk_le(&p, UINT64_C(1) << 63, 8);
    assert_refused(load_bytes(p.b, p.n, &sd), "truncated");
    p.n = 4;
    pk_op(&p, 0x8d); /* BINUNICODE8 */
    pk_le(&p, UINT64_MAX, 8);
    assert_refused(load_bytes(p.b, p.n, &sd), "truncated");
    p.n = 0;
    PK_LIT(&p, "\x80\x04\x95"); /* a FRAME longer than the file */
    pk_le(&p, 1000, 8);
    PK_LIT(&p, "}.");
    assert_refused(load_bytes(p.b, p.n, &sd), "truncated");
    p.n = 0;
    PK_LIT(&p, "\x80\x04}(");
    pk_op(&p, 'T'); /* BINSTRING with a negative length */
    pk_le(&p, 0xfffffff0, 4);
    assert_refused(load_bytes(p.b, p.n, &sd), "negative length");
    free(p.b);
}
END_TEST

START_TEST(test_refuse_bad_arrays)
{
    struct pactcl_state_dict *sd;
    assert_refused(pactcl_state_dict_load(fixture("bad_size.pdparams"), &sd),
                   "has 12 data bytes, but a f4 array of 4 elements needs 16");
    assert_refused(pactcl_state_dict_load(fixture("big_endian.pdparams"), &sd),
                   "big-endian numpy dtype >f4 is not supported");

    /* A shape whose byte size overflows. */
    struct pk p = pk_begin();
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "(K\x01(");
    for (int k = 0; k < 4; k++) {
        pk_op(&p, 0x8a); /* LONG1 2^62 */
        pk_op(&p, 8);
        pk_le(&p, UINT64_C(1) << 62, 8);
    }
    pk_op(&p, 't');
    pk_dtype(&p, "f4", "<");
    PK_LIT(&p, "\x89" "C\x00" "tbu.");
    assert_refused(load_bytes(p.b, p.n, &sd), "overflows");

    /* A rank above 8, a negative dimension, an unsupported dtype. */
    p.n = 4;
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "(K\x01(");
    for (int k = 0; k < 9; k++)
        PK_LIT(&p, "K\x01");
    pk_op(&p, 't');
    pk_dtype(&p, "f4", "<");
    PK_LIT(&p, "\x89" "C\x04" "abcdtbu.");
    assert_refused(load_bytes(p.b, p.n, &sd), "rank 9");

    p.n = 4;
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "(K\x01J\xff\xff\xff\xff\x85");
    pk_dtype(&p, "f4", "<");
    PK_LIT(&p, "\x89" "C\x00" "tbu.");
    assert_refused(load_bytes(p.b, p.n, &sd), "negative");

    p.n = 4;
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "(K\x01K\x01\x85");
    pk_dtype(&p, "c16", "<");
    assert_refused(load_bytes(p.b, p.n, &sd), "dtype 'c16' is not supported");

    /* An array filled twice, and one never filled. */
    p.n = 4;
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "q\x00(K\x01)");
    pk_dtype(&p, "u1", "|");
    PK_LIT(&p, "\x89" "C\x01" "zt" "q\x01" "b" "h\x01" "bu.");
    assert_refused(load_bytes(p.b, p.n, &sd), "filled twice");
    p.n = 4;
    pk_str(&p, "w");
    pk_new_array(&p);
    PK_LIT(&p, "u.");
    assert_refused(load_bytes(p.b, p.n, &sd), "array has no data");
    free(p.b);
}
END_TEST

START_TEST(test_refuse_bad_structure)
{
    struct pactcl_state_dict *sd;
    struct pk p = { 0 };
    /* Unknown or unsupported opcodes. */
    const char *ops[] = { "\x80\x04]", "\x80\x04}(\xff", "\x80\x04\x8f", "\x80\x02}(K\x01K\x02" "d",
                          "(lp0\n." };
    for (int i = 0; i < 5; i++)
        assert_refused(load_bytes(ops[i], strlen(ops[i]), &sd), "is not supported");
    assert_refused(LOAD_LIT("\x80\x04\x8f", &sd), "pickle opcode 0x8f at offset 2");
    assert_refused(LOAD_LIT("\x80\x09}.", &sd), "protocol 9");
    /* Not a dict, a non-string key, a tuple value. */
    assert_refused(LOAD_LIT("\x80\x04).", &sd), "holds a tuple, not a dict");
    assert_refused(LOAD_LIT("\x80\x04}K\x01K\x02s.", &sd), "dict key of type int");
    assert_refused(LOAD_LIT("\x80\x04}\x8c\x01k)s.", &sd), "a tuple value is not supported");
    /* Stack discipline: items below a MARK are out of reach. */
    assert_refused(LOAD_LIT("\x80\x04}(\x8c\x01kNs.", &sd), "stack underflow");
    assert_refused(LOAD_LIT("\x80\x04}(\x85.", &sd), "stack underflow");
    assert_refused(LOAD_LIT("\x80\x04}\x8c\x01kNu.", &sd), "without a MARK");
    assert_refused(LOAD_LIT("\x80\x04}(\x8c\x01ku.", &sd), "odd number");
    assert_refused(LOAD_LIT("\x80\x04}N.", &sd), "holds a None");
    /* Memo misuse. */
    assert_refused(LOAD_LIT("\x80\x04}h\x05.", &sd), "never stored");
    assert_refused(LOAD_LIT("\x80\x04}r\xff\xff\xff\xff.", &sd), "beyond what a file");
    assert_refused(LOAD_LIT("\x80\x04\x94.", &sd), "stack underflow");
    /* Text. */
    assert_refused(LOAD_LIT("\x80\x04}\x8c\x02\xc3(Ns.", &sd), "not valid UTF-8");
    assert_refused(LOAD_LIT("\x80\x04}\x8c\x02k\x00Ns.", &sd), "NUL");
    assert_refused(LOAD_LIT("\x80\x04}\x8c\x01k"
                            "\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09s.",
                            &sd),
                   "does not fit in 64 bits");
    /* Nesting: MARKs, and dicts inside dicts. */
    char marks[80];
    memset(marks, '(', sizeof marks);
    assert_refused(load_bytes(marks, sizeof marks, &sd), "nested MARKs");
    PK_LIT(&p, "\x80\x04}\x94"); /* d = {}; d['k'] = d */
    pk_str(&p, "k");
    PK_LIT(&p, "h\x00s.");
    assert_refused(load_bytes(p.b, p.n, &sd), "contains itself");
    p.n = 0;
    PK_LIT(&p, "\x80\x04");
    for (int i = 0; i < 20; i++) {
        pk_op(&p, '}');
        pk_str(&p, "k");
    }
    pk_op(&p, '}');
    for (int i = 0; i < 20; i++)
        pk_op(&p, 's');
    pk_op(&p, '.');
    assert_refused(load_bytes(p.b, p.n, &sd), "nest deeper");
    free(p.b);
}
END_TEST

/* Memory use is bounded by the file size: one 1 MiB bytes object fetched 200
 * times from the memo as array data would need 200 MiB. */
START_TEST(test_refuse_memory_amplification)
{
    struct pactcl_state_dict *sd;
    struct pk p = pk_begin();
    size_t big = 1 << 20;
    unsigned char *zeros = calloc(1, big);
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "w%d", i);
        pk_str(&p, key);
        pk_new_array(&p);
        PK_LIT(&p, "(K\x01J\x00\x00\x10\x00\x85"); /* shape (1048576,) */
        pk_dtype(&p, "u1", "|");
        pk_op(&p, 0x89);
        if (i == 0) {
            pk_op(&p, 'B');
            pk_le(&p, big, 4);
            pk_raw(&p, zeros, big);
            PK_LIT(&p, "q\x00");
        } else {
            PK_LIT(&p, "h\x00");
        }
        PK_LIT(&p, "tb");
    }
    PK_LIT(&p, "u.");
    assert_refused(load_bytes(p.b, p.n, &sd), "more memory than");
    free(zeros);

    /* Shared dicts: 10 references per level, 15 levels: 10^15 entries. */
    p.n = 0;
    PK_LIT(&p, "\x80\x04");
    for (int level = 0; level < 15; level++) {
        pk_op(&p, '}');
        if (level > 0) {
            pk_op(&p, '(');
            for (int k = 0; k < 10; k++) {
                char key[4] = { 'k', (char)('0' + k), 0 };
                pk_str(&p, key);
                pk_op(&p, 'h');
                pk_op(&p, level - 1);
            }
            pk_op(&p, 'u');
        }
        pk_op(&p, 0x94);
    }
    pk_op(&p, '.');
    assert_refused(load_bytes(p.b, p.n, &sd), "more memory than");
    free(p.b);
}
END_TEST

/* Random damage to good files never crashes the reader. */
START_TEST(test_mutations)
{
    const char *files[] = { "model_p4_names.pdparams", "model_p2.pdparams", "opt_p4.pdopt" };
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int f = 0; f < 3; f++) {
        size_t len;
        unsigned char *buf = read_file(fixture(files[f]), &len);
        unsigned char *copy = malloc(len);
        for (int round = 0; round < 1500; round++) {
            memcpy(copy, buf, len);
            int flips = 1 + round % 4;
            for (int k = 0; k < flips; k++) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                copy[(state >> 8) % len] = (unsigned char)state;
            }
            struct pactcl_state_dict *sd = NULL;
            int rc = load_bytes(copy, len, &sd);
            ck_assert_msg(rc == PACTCL_OK || rc == PACTCL_EFORMAT, "%s round %d: status %d",
                          files[f], round, rc);
            pactcl_state_dict_free(sd);
        }
        free(copy);
        free(buf);
    }
}
END_TEST

/* ---- tests: saving ---------------------------------------------------------------- */

START_TEST(test_save_bad_paths)
{
    make_tmpdir();
    struct pactcl_state_dict *sd = build_misc();
    char path[1024];
    snprintf(path, sizeof path, "%s/no/such/dir/m.pdparams", tmpdir);
    ck_assert_int_eq(pactcl_state_dict_save(path, sd), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), path));
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), strerror(ENOENT)));
    /* A parent that is a file. */
    FILE *f = fopen(tmp_path("file"), "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/file/m.pdparams", tmpdir);
    ck_assert_int_eq(pactcl_state_dict_save(path, sd), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), strerror(ENOTDIR)));
    /* A directory without write permission (root ignores permissions). */
    if (geteuid() != 0) {
        ck_assert_int_eq(mkdir(tmp_path("ro"), 0500), 0);
        snprintf(path, sizeof path, "%s/ro/m.pdparams", tmpdir);
        ck_assert_int_eq(pactcl_state_dict_save(path, sd), PACTCL_EIO);
        ck_assert_ptr_nonnull(strstr(pactcl_last_error(), strerror(EACCES)));
        rmdir(tmp_path("ro"));
    }
    ck_assert_str_eq(list_tmpdir(), "file");
    /* A dict Python could not read is refused before any file is made. */
    struct pactcl_state_dict *bad;
    ck_assert_int_eq(pactcl_state_dict_create(&bad), PACTCL_OK);
    ck_assert_int_eq(pactcl_state_dict_set_int(bad, "bad\xff", 1), PACTCL_OK);
    ck_assert_int_eq(pactcl_state_dict_save(tmp_path("bad.pdparams"), bad), PACTCL_EINVAL);
    ck_assert_str_eq(list_tmpdir(), "file");
    pactcl_state_dict_free(bad);
    pactcl_state_dict_free(sd);
    remove_tmpdir();
}
END_TEST

/* A full disk (simulated with RLIMIT_FSIZE) keeps the old file whole. */
START_TEST(test_save_failure_keeps_old_file)
{
    make_tmpdir();
    const char *path = tmp_path("m.pdparams");
    struct pactcl_state_dict *old = build_misc(), *big = build_big(), *back;
    ck_assert_int_eq(pactcl_state_dict_save(path, old), PACTCL_OK);

    struct rlimit saved, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 16 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = pactcl_state_dict_save(path, big);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, prev);

    ck_assert_int_eq(rc, PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), path));
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), strerror(EFBIG)));
    ck_assert_str_eq(list_tmpdir(), "m.pdparams"); /* no temp file left */
    ck_assert_int_eq(pactcl_state_dict_load(path, &back), PACTCL_OK);
    check_same(back, old);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(old);
    pactcl_state_dict_free(big);
    remove_tmpdir();
}
END_TEST

/* The old file is replaced by rename, never rewritten in place: a reader that
 * opened it before still sees the old content. */
START_TEST(test_save_replaces_by_rename)
{
    make_tmpdir();
    const char *path = tmp_path("m.pdparams");
    struct pactcl_state_dict *old = build_misc(), *new = build_opt(), *back;
    ck_assert_int_eq(pactcl_state_dict_save(path, old), PACTCL_OK);
    size_t old_len;
    unsigned char *old_bytes = read_file(path, &old_len);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    /* A stale temp file of ours (a crash with our pid) is taken over. */
    char stale[1100];
    snprintf(stale, sizeof stale, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(stale, "w");
    ck_assert_ptr_nonnull(f);
    fputs("junk", f);
    fclose(f);

    ck_assert_int_eq(pactcl_state_dict_save(path, new), PACTCL_OK);
    ck_assert_str_eq(list_tmpdir(), "m.pdparams");
    unsigned char *seen = malloc(old_len + 1);
    ck_assert_int_eq(pread(fd, seen, old_len + 1, 0), (ssize_t)old_len);
    ck_assert_mem_eq(seen, old_bytes, old_len);
    close(fd);
    ck_assert_int_eq(pactcl_state_dict_load(path, &back), PACTCL_OK);
    check_opt(back);
    free(seen);
    free(old_bytes);
    pactcl_state_dict_free(back);
    pactcl_state_dict_free(old);
    pactcl_state_dict_free(new);
    remove_tmpdir();
}
END_TEST

/* ---- main ------------------------------------------------------------------------ */

static int write_samples(const char *dir)
{
    static const struct {
        const char *file;
        struct pactcl_state_dict *(*build)(void);
    } samples[] = {
        { "model.pdparams", build_model },
        { "opt.pdopt", build_opt },
        { "misc.pdparams", build_misc },
        { "big.pdparams", build_big },
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, samples[i].file);
        struct pactcl_state_dict *sd = samples[i].build();
        int rc = pactcl_state_dict_save(path, sd);
        pactcl_state_dict_free(sd);
        if (rc != PACTCL_OK) {
            fprintf(stderr, "test_pdparams: %s\n", pactcl_last_error());
            return 1;
        }
        printf("%s\n", path);
    }
    return 0;
}

static Suite *pdparams_suite(void)
{
    Suite *s = suite_create("pdparams");
    TCase *load = tcase_create("load");
    tcase_add_loop_test(load, test_load_model, 0, N_MODEL_FIXTURES);
    tcase_add_test(load, test_load_opt);
    tcase_add_test(load, test_load_misc);
    tcase_add_test(load, test_load_big);
    tcase_add_test(load, test_name_table_remove);
    tcase_add_test(load, test_load_errors_name_the_file);
    tcase_add_test(load, test_api);
    suite_add_tcase(s, load);

    TCase *rt = tcase_create("roundtrip");
    tcase_add_loop_test(rt, test_roundtrip_built, 0, N_BUILDERS);
    tcase_add_loop_test(rt, test_roundtrip_fixtures, 0, N_GOOD);
    tcase_add_test(rt, test_save_matches_numpy1_bytes);
    tcase_add_test(rt, test_roundtrip_many_entries);
    suite_add_tcase(s, rt);

    TCase *refuse = tcase_create("refuse");
    tcase_set_timeout(refuse, 60);
    tcase_add_test(refuse, test_refuse_code_execution);
    tcase_add_test(refuse, test_refuse_truncated);
    tcase_add_test(refuse, test_refuse_overlong_lengths);
    tcase_add_test(refuse, test_refuse_bad_arrays);
    tcase_add_test(refuse, test_refuse_bad_structure);
    tcase_add_test(refuse, test_refuse_memory_amplification);
    tcase_add_test(refuse, test_mutations);
    suite_add_tcase(s, refuse);

    TCase *save = tcase_create("save");
    tcase_add_test(save, test_save_bad_paths);
    tcase_add_test(save, test_save_failure_keeps_old_file);
    tcase_add_test(save, test_save_replaces_by_rename);
    suite_add_tcase(s, save);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "write-samples") == 0)
        return write_samples(argv[2]);
    SRunner *sr = srunner_create(pdparams_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
