/*
 * ocl_program.c: kernel sources, program builds and their caches.
 *
 * Sources are embedded at build time (ocl_kernel_sources.c, generated from
 * the .cl files of kernels/); PACTCL_KERNEL_DIR=<dir> makes the plugin read
 * <dir>/<name>.cl instead, for kernel development.  Every program is kernels/common.cl
 * followed by its own file, built with "-cl-std=CL1.2" plus -D options, once
 * per device per process.
 *
 * On-disk binary cache: PoCL and NVIDIA keep their own (and PoCL even gets
 * slower when asked for binaries, pyopencl #731), so it is used only for the
 * other drivers.  An entry is <hash>.clbin under $XDG_CACHE_HOME/pactcl or
 * ~/.cache/pactcl and holds its whole key (sources, options, device name,
 * driver and platform versions): a hash collision or a stale entry is a miss,
 * never a wrong binary.  Entries are written to a temporary name and renamed,
 * so concurrent processes never see half a file.  PACTCL_KERNEL_CACHE=0 turns
 * it off, PACTCL_KERNEL_CACHE=force on for every driver (to test it on PoCL).
 */
#include "ocl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when the way programs are built changes (options, source layout). */
#define CACHE_FORMAT 1u
static const char cache_magic[8] = {'P', 'A', 'C', 'T', 'C', 'L', 'B', 'C'};

/* ---- sources --------------------------------------------------------------- */

struct source {
    char *text; /* owned when read from PACTCL_KERNEL_DIR */
    const char *ptr;
    size_t len;
};

static int source_get(const struct pactcl_ocl_device *d, const char *name, struct source *s)
{
    s->text = NULL;
    const char *dir = getenv("PACTCL_KERNEL_DIR");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.cl", dir, name);
        FILE *f = fopen(path, "rb");
        if (!f)
            return pactcl_ocl_error(PACTCL_EIO, "%s on %s: PACTCL_KERNEL_DIR: cannot open %s: %s",
                                    d->what, d->id_str, path, strerror(errno));
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        while (buf) {
            n += fread(buf + n, 1, cap - n, f);
            if (n < cap)
                break;
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        int bad = ferror(f);
        fclose(f);
        if (!buf || bad) {
            free(buf);
            return pactcl_ocl_error(PACTCL_EIO, "%s on %s: cannot read %s", d->what, d->id_str,
                                    path);
        }
        s->text = buf;
        s->ptr = buf;
        s->len = n;
        return PACTCL_OK;
    }
    for (const struct pactcl_ocl_source *e = pactcl_ocl_sources; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            s->ptr = (const char *)e->text;
            s->len = e->len;
            return PACTCL_OK;
        }
    }
    return pactcl_ocl_error(PACTCL_EINTERNAL, "%s on %s: no kernel file %s.cl is embedded", d->what,
                            d->id_str, name);
}

/* ---- on-disk binary cache ----------------------------------------------------- */

static int cache_enabled(const struct pactcl_ocl_device *d)
{
    const char *v = getenv("PACTCL_KERNEL_CACHE");
    if (v && strcmp(v, "0") == 0)
        return 0;
    if (v && strcmp(v, "force") == 0)
        return 1;
    return !d->driver_caches;
}

/* Creates each missing component of a directory path. */
static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int cache_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, len, "%s/pactcl", xdg);
    else if (home && *home)
        snprintf(out, len, "%s/.cache/pactcl", home);
    else
        return -1;
    return mkdirs(out);
}

/* The key: every input that can change the binary, NUL-separated. */
struct key {
    char *bytes;
    size_t len;
};

static int key_make(const struct pactcl_ocl_device *d, const struct source *common,
                    const struct source *src, const char *options, struct key *k)
{
    const char *parts[] = {options, d->name, d->driver, d->platform_version};
    size_t len = common->len + 1 + src->len + 1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        len += strlen(parts[i]) + 1;
    k->bytes = malloc(len);
    if (!k->bytes)
        return -1;
    char *p = k->bytes;
    memcpy(p, common->ptr, common->len);
    p += common->len;
    *p++ = '\0';
    memcpy(p, src->ptr, src->len);
    p += src->len;
    *p++ = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]) + 1;
        memcpy(p, parts[i], n);
        p += n;
    }
    k->len = len;
    return 0;
}

/* FNV-1a, twice with different seeds: a 128-bit file name.  A collision is
 * harmless (the entry holds the full key) but would thrash one entry. */
static void key_name(const struct key *k, char *out, size_t len)
{
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    for (size_t i = 0; i < k->len; i++) {
        h1 = (h1 ^ (unsigned char)k->bytes[i]) * 0x100000001b3ULL;
        h2 = (h2 ^ (unsigned char)k->bytes[i]) * 0x100000001b3ULL;
        h2 ^= h2 >> 29;
    }
    snprintf(out, len, "%016llx%016llx.clbin", (unsigned long long)h1, (unsigned long long)h2);
}

struct header {
    char magic[8];
    uint32_t format;
    uint32_t reserved;
    uint64_t key_len;
    uint64_t bin_len;
};

/* Returns a program built from a cached binary, or NULL (a silent miss). */
static cl_program cache_load(struct pactcl_ocl_device *d, const char *path, const struct key *k,
                             const char *options)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct header h;
    cl_program prog = NULL;
    char *keybuf = NULL;
    unsigned char *bin = NULL;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, cache_magic, sizeof cache_magic) != 0 ||
        h.format != CACHE_FORMAT || h.key_len != k->len || h.bin_len == 0 || h.bin_len > (1u << 30))
        goto out;
    keybuf = malloc(k->len);
    bin = malloc(h.bin_len);
    if (!keybuf || !bin || fread(keybuf, 1, k->len, f) != k->len ||
        memcmp(keybuf, k->bytes, k->len) != 0 || fread(bin, 1, h.bin_len, f) != h.bin_len)
        goto out;
    size_t blen = (size_t)h.bin_len;
    const unsigned char *bp = bin;
    cl_int status, err;
    prog = clCreateProgramWithBinary(d->ctx, 1, &d->id, &blen, &bp, &status, &err);
    if (prog && (err != CL_SUCCESS || status != CL_SUCCESS ||
                 clBuildProgram(prog, 1, &d->id, options, NULL, NULL) != CL_SUCCESS)) {
        clReleaseProgram(prog);
        prog = NULL;
    }
out:
    fclose(f);
    free(keybuf);
    free(bin);
    return prog;
}

static void cache_save(struct pactcl_ocl_device *d, const char *dir, const char *path,
                       const struct key *k, cl_program prog)
{
    size_t blen = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof blen, &blen, NULL) != CL_SUCCESS ||
        blen == 0)
        return;
    unsigned char *bin = malloc(blen);
    if (!bin)
        return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
        free(bin);
        return;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp.%ld.%p", dir, (long)getpid(), (void *)prog);
    FILE *f = fopen(tmp, "wb");
    if (f) {
        struct header h = {.format = CACHE_FORMAT, .key_len = k->len, .bin_len = blen};
        memcpy(h.magic, cache_magic, sizeof cache_magic);
        int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(k->bytes, 1, k->len, f) == k->len &&
                 fwrite(bin, 1, blen, f) == blen;
        ok = (fclose(f) == 0) && ok;
        if (ok && rename(tmp, path) == 0)
            pactcl_ocl_host->log(PACTCL_LOG_DEBUG, "opencl %s: kernel cache SAVE %s", d->id_str,
                                 path);
        else
            remove(tmp);
    }
    free(bin);
}

/* ---- building ------------------------------------------------------------------ */

static int build_failed(struct pactcl_ocl_device *d, cl_program prog, const char *file,
                        const char *options, cl_int err)
{
    size_t n = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) == CL_SUCCESS && n) {
        log = malloc(n + 1);
        if (log &&
            clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS)
            n = 0;
        if (log)
            log[n] = '\0';
    }
    /* The error message is one bounded line; the whole log goes to the log. */
    if (log && *log)
        pactcl_ocl_host->log(PACTCL_LOG_ERROR, "opencl %s: build log of kernels/%s.cl:\n%s",
                             d->id_str, file, log);
    int rc = pactcl_ocl_error(
        PACTCL_EDEVICE, "%s on %s: kernel file %s.cl failed to build (%s, options \"%s\"): %s",
        d->what, d->id_str, file, pactcl_ocl_error_name(err), options,
        log && *log ? log : "(the driver gave no build log)");
    free(log);
    return rc;
}

static int build_program(struct pactcl_ocl_device *d, const char *file, const char *defines,
                         cl_program *out)
{
    struct source common, src;
    int rc = source_get(d, "common", &common);
    if (rc != PACTCL_OK)
        return rc;
    rc = source_get(d, file, &src);
    if (rc != PACTCL_OK) {
        free(common.text);
        return rc;
    }
    /* Exact formulas (PACT, fake quant, dropout scaling) need IEEE division and
     * sqrt; the option is only legal where the device reports them. */
    char options[512];
    snprintf(options, sizeof options, "-cl-std=CL1.2%s%s%s",
             d->correct_div_sqrt ? " -cl-fp32-correctly-rounded-divide-sqrt" : "",
             *defines ? " " : "", defines);

    int use_cache = cache_enabled(d);
    char dir[4096], path[4200];
    struct key key = {NULL, 0};
    cl_program prog = NULL;
    if (use_cache && cache_dir(dir, sizeof dir) == 0 &&
        key_make(d, &common, &src, options, &key) == 0) {
        char name[64];
        key_name(&key, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        prog = cache_load(d, path, &key, options);
        pactcl_ocl_host->log(PACTCL_LOG_DEBUG, "opencl %s: kernel cache %s %s.cl (%s)", d->id_str,
                             prog ? "HIT" : "MISS", file, path);
    } else {
        use_cache = 0;
    }

    cl_int err = CL_SUCCESS;
    if (!prog) {
        char line_common[64], line_src[128];
        snprintf(line_common, sizeof line_common, "#line 1 \"common.cl\"\n");
        snprintf(line_src, sizeof line_src, "\n#line 1 \"%s.cl\"\n", file);
        const char *strings[4] = {line_common, common.ptr, line_src, src.ptr};
        const size_t lens[4] = {strlen(line_common), common.len, strlen(line_src), src.len};
        prog = clCreateProgramWithSource(d->ctx, 4, strings, lens, &err);
        if (!prog) {
            rc = pactcl_ocl_fail(d, "clCreateProgramWithSource", err);
        } else {
            err = clBuildProgram(prog, 1, &d->id, options, NULL, NULL);
            if (err != CL_SUCCESS) {
                rc = build_failed(d, prog, file, options, err);
                clReleaseProgram(prog);
                prog = NULL;
            } else if (use_cache) {
                cache_save(d, dir, path, &key, prog);
            }
        }
    }
    free(key.bytes);
    free(common.text);
    free(src.text);
    *out = prog;
    return rc;
}

static struct pactcl_ocl_program *program_get(struct pactcl_ocl_device *d, const char *file,
                                              const char *defines, int *rc)
{
    for (int i = 0; i < d->n_programs; i++) {
        struct pactcl_ocl_program *p = d->programs[i];
        if (strcmp(p->file, file) == 0 && strcmp(p->defines, defines) == 0)
            return p;
    }
    cl_program prog;
    *rc = build_program(d, file, defines, &prog);
    if (*rc != PACTCL_OK)
        return NULL;
    struct pactcl_ocl_program **np = realloc(d->programs, (size_t)(d->n_programs + 1) * sizeof *np);
    if (np)
        d->programs = np;
    struct pactcl_ocl_program *p = calloc(1, sizeof *p);
    char *f = strdup(file), *df = strdup(defines);
    if (!np || !p || !f || !df) {
        free(p);
        free(f);
        free(df);
        clReleaseProgram(prog);
        *rc = pactcl_ocl_error(PACTCL_ENOMEM, "%s on %s: out of host memory", d->what, d->id_str);
        return NULL;
    }
    *p = (struct pactcl_ocl_program){f, df, prog, NULL, 0};
    np[d->n_programs++] = p;
    return p;
}

int pactcl_ocl_kernel_get(struct pactcl_ocl_device *d, const char *file, const char *defines,
                          const char *kname, const struct pactcl_ocl_kernel **out)
{
    int rc = PACTCL_OK;
    struct pactcl_ocl_program *p = program_get(d, file, defines, &rc);
    if (!p)
        return rc;
    for (int i = 0; i < p->n_kernels; i++) {
        if (strcmp(p->kernels[i]->name, kname) == 0) {
            *out = p->kernels[i];
            return PACTCL_OK;
        }
    }
    cl_int err;
    cl_kernel k = clCreateKernel(p->program, kname, &err);
    if (!k) {
        char call[128];
        snprintf(call, sizeof call, "clCreateKernel(%s.cl: %s)", file, kname);
        return pactcl_ocl_fail(d, call, err);
    }
    size_t kwg = 0;
    if (clGetKernelWorkGroupInfo(k, d->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL) !=
            CL_SUCCESS ||
        kwg == 0)
        kwg = d->max_wg;
    size_t limit = kwg < d->max_item0 ? kwg : d->max_item0;
    if (limit > 256)
        limit = 256;
    size_t wg = 1;
    while (wg * 2 <= limit)
        wg *= 2;
    struct pactcl_ocl_kernel **nk = realloc(p->kernels, (size_t)(p->n_kernels + 1) * sizeof *nk);
    if (nk)
        p->kernels = nk;
    struct pactcl_ocl_kernel *e = malloc(sizeof *e);
    char *name = strdup(kname);
    if (!nk || !e || !name) {
        free(e);
        free(name);
        clReleaseKernel(k);
        return pactcl_ocl_error(PACTCL_ENOMEM, "%s on %s: out of host memory", d->what, d->id_str);
    }
    *e = (struct pactcl_ocl_kernel){name, k, wg};
    nk[p->n_kernels++] = e;
    *out = e;
    return PACTCL_OK;
}

void pactcl_ocl_programs_release(struct pactcl_ocl_device *d)
{
    for (int i = 0; i < d->n_programs; i++) {
        struct pactcl_ocl_program *p = d->programs[i];
        for (int j = 0; j < p->n_kernels; j++) {
            clReleaseKernel(p->kernels[j]->kernel);
            free(p->kernels[j]->name);
            free(p->kernels[j]);
        }
        free(p->kernels);
        clReleaseProgram(p->program);
        free(p->file);
        free(p->defines);
        free(p);
    }
    free(d->programs);
    d->programs = NULL;
    d->n_programs = 0;
}
