/*
 * fuzz_int8_model.c: libFuzzer targets for the int8 model reader
 * (core/quant/int8_model.c, docs/FORMATS.md §2).  One source, two programs:
 *
 *   fuzz_int8_model   the input is the manifest (.pcmodel text): written to
 *                     a scratch directory and read with
 *                     pactcl_int8_manifest_read, with and without a params
 *                     override.  The directory holds a small params file,
 *                     "p.pcparams", so a manifest that names it with the
 *                     right size and CRC passes every check.
 *   fuzz_int8_params  the input is the params file (.pcparams pickle): the
 *                     harness writes it with a manifest whose size and CRC
 *                     match, so the checksums pass and the pickle, dtype and
 *                     shape checks of pactcl_int8_model_load are what the
 *                     input reaches, on a MobileNetV3-small graph built on
 *                     the fake backend (fuzz_util.h).
 *
 * Either must succeed or fail with a status and a message, never crash.
 *
 * Seeds: fuzz/corpus/fuzz_int8_model and fuzz/corpus/fuzz_int8_params,
 * written by the programs themselves from a real export:
 *   PACTCL_FUZZ_WRITE_SEEDS=DIR fuzz/fuzz_int8_model    (manifests)
 *   PACTCL_FUZZ_WRITE_SEEDS=DIR fuzz/fuzz_int8_params   (params files)
 * A whole params file is about 1.5 MB, too large for a seed that libFuzzer
 * mutates quickly, so the params seeds are well-formed pickles holding the
 * leading layers (the loader checks them, then stops at the first missing
 * entry) and one holding every small tensor; the complete file is covered by
 * tests/test_int8_model.
 */
#include "config.h"

#include <zlib.h>

#include "fuzz_util.h"

#include "io/state_dict.h"
#include "model/mobilenetv3.h"
#include "quant/int8_model.h"

#define FUZZ_CLASSES 10
#define FUZZ_IMAGE 32

static char dir[600];
static char model_path[700], params_path[700];

static uint32_t crc_of(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* A manifest as int8_export.c writes it, for a params file of `len` bytes. */
static size_t make_manifest(char *out, size_t cap, const char *params_name, const void *params,
                            size_t len)
{
    int m = snprintf(out, cap,
                     "# pactcl int8 inference model (docs/FORMATS.md)\n"
                     "format pactcl-int8 %d\n"
                     "arch mobilenet_v3_small\nnum_classes %d\nimage_size %d\n"
                     "weight_bits 8\nactivation_bits 8\nquantized_layers 36\n"
                     "params %s\nparams_bytes %zu\nparams_crc32 %08x\n",
                     PACTCL_INT8_FORMAT_VERSION, FUZZ_CLASSES, FUZZ_IMAGE, params_name, len,
                     crc_of(params, len));
    FUZZ_CHECK(m > 0 && (size_t)m < cap);
    int t = snprintf(out + m, cap - (size_t)m, "manifest_crc32 %08x\n", crc_of(out, (size_t)m));
    FUZZ_CHECK(t > 0 && (size_t)(m + t) < cap);
    return (size_t)(m + t);
}

static void check_status(int rc)
{
    fuzz_explain(rc);
    if (rc != PACTCL_OK) {
        FUZZ_CHECK(rc == PACTCL_EFORMAT || rc == PACTCL_ESHAPE || rc == PACTCL_EIO ||
                   rc == PACTCL_ENOMEM);
        FUZZ_CHECK(pactcl_last_error()[0] != '\0');
    }
}

#ifndef FUZZ_INT8_PARAMS
/* ---- manifest mode --------------------------------------------------------- */

static const char fixed_params[] = "pactcl fuzz params\n";

static void write_seeds(const char *out)
{
    char text[4096], path[4096];
    size_t n = make_manifest(text, sizeof text, "p.pcparams", fixed_params, sizeof fixed_params - 1);
    snprintf(path, sizeof path, "%s/valid.pcmodel", out);
    fuzz_write_file(path, text, n);
    /* The same, naming a params file that is not there, as a real export's
     * manifest copied without its params file. */
    n = make_manifest(text, sizeof text, "qat_inference.pcparams", fixed_params,
                      sizeof fixed_params - 1);
    snprintf(path, sizeof path, "%s/missing_params.pcmodel", out);
    fuzz_write_file(path, text, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    snprintf(dir, sizeof dir, "%s", fuzz_scratch_dir());
    snprintf(model_path, sizeof model_path, "%s/m.pcmodel", dir);
    snprintf(params_path, sizeof params_path, "%s/p.pcparams", dir);
    fuzz_write_file(params_path, fixed_params, sizeof fixed_params - 1);
    const char *seeds = getenv("PACTCL_FUZZ_WRITE_SEEDS");
    if (seeds && *seeds) {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(model_path, data, size);
    for (int override = 0; override < 2; override++) {
        struct pactcl_mnv3_config cfg;
        char resolved[4096];
        int rc = pactcl_int8_manifest_read(model_path, override ? params_path : NULL, &cfg,
                                           resolved, sizeof resolved);
        check_status(rc);
        if (rc == PACTCL_OK) {
            FUZZ_CHECK(cfg.int8 == 1);
            FUZZ_CHECK(cfg.arch == PACTCL_MNV3_SMALL || cfg.arch == PACTCL_MNV3_LARGE);
            FUZZ_CHECK(cfg.num_classes >= 1 && cfg.image_size >= 1);
            FUZZ_CHECK(cfg.weight_bits >= 2 && cfg.weight_bits <= 8);
            FUZZ_CHECK(cfg.act_bits >= 2 && cfg.act_bits <= 8);
            /* Only the scratch directory's files can pass the checks. */
            FUZZ_CHECK(strncmp(resolved, dir, strlen(dir)) == 0);
            /* The checksum line is the last (docs/FORMATS.md) and covers
             * the lines before it, of which there is at least one. */
            FUZZ_CHECK(size > 1 && data[size - 1] == '\n');
            size_t last = size - 1;
            while (last > 0 && data[last - 1] != '\n')
                last--;
            FUZZ_CHECK(last > 0 && size - last > 15 && memcmp(data + last, "manifest_crc32 ", 15) == 0);
        }
    }
    return 0;
}

#else
/* ---- params mode ------------------------------------------------------------ */

static pactcl_context *ctx;
static pactcl_device *dev;
static char manifest[4096];

/* The first `layers` quantized layers' entries of a real params file (in the
 * file's order), or with layers < 0 every entry of at most 64 elements. */
static void write_part(const char *out, const char *name, const struct pactcl_state_dict *full,
                       int layers)
{
    struct pactcl_state_dict *sd = NULL;
    FUZZ_CHECK(pactcl_state_dict_create(&sd) == PACTCL_OK);
    int seen = 0;
    for (size_t i = 0; i < full->count; i++) {
        const struct pactcl_sd_entry *e = &full->entries[i];
        if (e->value.type != PACTCL_SD_ARRAY)
            continue;
        const struct pactcl_sd_array *a = &e->value.u.array;
        if (layers >= 0) {
            /* Each quantized layer starts with its int8 weight. */
            if (a->dtype == PACTCL_SD_I1 && ++seen > layers)
                break;
        } else if (pactcl_sd_array_numel(a) > 64) {
            continue;
        }
        FUZZ_CHECK(pactcl_state_dict_set_array(sd, e->name, a->dtype, a->ndim, a->dims, a->data) ==
                   PACTCL_OK);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out, name);
    FUZZ_CHECK(pactcl_state_dict_save(path, sd) == PACTCL_OK);
    pactcl_state_dict_free(sd);
}

static void write_seeds(const char *out)
{
    struct pactcl_mnv3_config c = { .arch = PACTCL_MNV3_SMALL, .num_classes = FUZZ_CLASSES,
                                    .image_size = FUZZ_IMAGE, .pact_quant = 1,
                                    .weight_bits = 8, .act_bits = 8 };
    struct pactcl_graph g;
    char mpath[4096], ppath[4096];
    FUZZ_CHECK(pactcl_graph_init(&g, dev, 1, 0) == PACTCL_OK);
    FUZZ_CHECK(pactcl_mnv3_build(&g, &c) == PACTCL_OK);
    FUZZ_CHECK(pactcl_model_init_params(&g, 7) == PACTCL_OK);
    FUZZ_CHECK(pactcl_int8_export(&g, &c, dir, "export", mpath, sizeof mpath) == PACTCL_OK);
    pactcl_graph_release(&g);
    snprintf(ppath, sizeof ppath, "%s/export.pcparams", dir);
    struct pactcl_state_dict *full = NULL;
    FUZZ_CHECK(pactcl_state_dict_load(ppath, &full) == PACTCL_OK);
    write_part(out, "layers1.pcparams", full, 1);
    write_part(out, "layers4.pcparams", full, 4);
    write_part(out, "small_tensors.pcparams", full, -1);
    pactcl_state_dict_free(full);
    unlink(mpath);
    unlink(ppath);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    dev = fuzz_fake_device(&ctx);
    snprintf(dir, sizeof dir, "%s", fuzz_scratch_dir());
    snprintf(model_path, sizeof model_path, "%s/x.pcmodel", dir);
    snprintf(params_path, sizeof params_path, "%s/x.pcparams", dir);
    const char *seeds = getenv("PACTCL_FUZZ_WRITE_SEEDS");
    if (seeds && *seeds) {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(params_path, data, size);
    size_t n = make_manifest(manifest, sizeof manifest, "x.pcparams", data, size);
    fuzz_write_file(model_path, manifest, n);
    struct pactcl_graph g;
    struct pactcl_mnv3_config cfg;
    FUZZ_CHECK(pactcl_graph_init(&g, dev, 1, 0) == PACTCL_OK);
    int rc = pactcl_int8_model_load(&g, model_path, NULL, 0, &cfg);
    check_status(rc);
    if (rc == PACTCL_OK)
        FUZZ_CHECK(cfg.int8 == 1 && cfg.num_classes == FUZZ_CLASSES);
    pactcl_graph_release(&g);
    return 0;
}
#endif
