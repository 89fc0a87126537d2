/*
 * fuzz_checkpoint.c: libFuzzer target for the checkpoint reader
 * (core/model/checkpoint.c): a .pdparams/.pdopt pickle, as `pactcl train
 * --resume/--pretrained`, `predict` and `eval` read it, applied to real
 * MobileNetV3-small graphs.
 *
 * The input is loaded with pactcl_state_dict_load_memory; a dict that loads
 * is then given to
 *   pactcl_checkpoint_load_params  on an FP32 graph and on a PACT QAT graph
 *                                  (the FP32 -> QAT key mapping, shape and
 *                                  dtype checks, the classifier exception),
 *   pactcl_checkpoint_load_opt     on the QAT graph (velocities, the
 *                                  LR_Scheduler dict, pactcl_best_top1).
 * Each must succeed or fail with a status and a message, whatever the dict
 * holds.  The graphs live on the fake backend (fuzz_util.h): tensor writes
 * are plain memcpy into buffers of the tensor's exact size, so ASan sees any
 * write past a tensor.
 *
 * Seeds: fuzz/corpus/fuzz_checkpoint, written by this program:
 *   PACTCL_FUZZ_WRITE_SEEDS=DIR fuzz/fuzz_checkpoint
 * writes small dicts with real keys and shapes (every BatchNorm and QAT state
 * tensor and the classifier bias; the big weights are left out so the seeds
 * stay small), a complete .pdopt for the QAT graph (whose big weights the
 * harness freezes, see LLVMFuzzerInitialize), and an FP32 dict.
 */
#include "config.h"

#include "fuzz_util.h"

#include "io/state_dict.h"
#include "model/checkpoint.h"
#include "model/mobilenetv3.h"

#define FUZZ_CLASSES 10
#define FUZZ_IMAGE 32
/* Seeds keep tensors up to this many elements (the BN vectors and QAT
 * scales of the narrow layers, the classifier bias), so they stay a few tens
 * of KiB and libFuzzer mutates them quickly. */
#define SEED_MAX_NUMEL 96

static pactcl_context *ctx;
static struct pactcl_graph g_fp32, g_qat;

static void build(struct pactcl_graph *g, pactcl_device *dev, int qat)
{
    struct pactcl_mnv3_config c = { .arch = PACTCL_MNV3_SMALL, .num_classes = FUZZ_CLASSES,
                                    .image_size = FUZZ_IMAGE, .pact_quant = qat,
                                    .weight_bits = 8, .act_bits = 8 };
    if (pactcl_graph_init(g, dev, 1, 1) != PACTCL_OK || pactcl_mnv3_build(g, &c) != PACTCL_OK ||
        pactcl_model_init_params(g, 1) != PACTCL_OK) {
        fprintf(stderr, "fuzz_checkpoint: cannot build the model: %s\n", pactcl_last_error());
        exit(1);
    }
}

/* A copy of entries [from, to) of `full` keeping only small arrays (and every
 * non-array entry, the name table reduced to the names kept). */
static struct pactcl_state_dict *small_part(const struct pactcl_state_dict *full, size_t from,
                                            size_t to)
{
    struct pactcl_state_dict *sd = NULL;
    FUZZ_CHECK(pactcl_state_dict_create(&sd) == PACTCL_OK);
    for (size_t i = 0; i < full->count; i++) {
        const struct pactcl_sd_entry *e = &full->entries[i];
        const struct pactcl_sd_value *v = &e->value;
        int rc = PACTCL_OK;
        if (v->type == PACTCL_SD_ARRAY) {
            if (i >= from && i < to && pactcl_sd_array_numel(&v->u.array) <= SEED_MAX_NUMEL)
                rc = pactcl_state_dict_set_array(sd, e->name, v->u.array.dtype, v->u.array.ndim,
                                                 v->u.array.dims, v->u.array.data);
        } else if (v->type == PACTCL_SD_DICT) {
            struct pactcl_state_dict *child = NULL;
            rc = pactcl_state_dict_set_dict(sd, e->name, &child);
            for (size_t k = 0; rc == PACTCL_OK && k < v->u.dict->count; k++) {
                const struct pactcl_sd_entry *c = &v->u.dict->entries[k];
                if (c->value.type == PACTCL_SD_STR && pactcl_state_dict_find(sd, c->name))
                    rc = pactcl_state_dict_set_str(child, c->name, c->value.u.str);
                else if (c->value.type == PACTCL_SD_INT)
                    rc = pactcl_state_dict_set_int(child, c->name, c->value.u.i);
                else if (c->value.type == PACTCL_SD_FLOAT)
                    rc = pactcl_state_dict_set_float(child, c->name, c->value.u.f);
            }
        } else if (v->type == PACTCL_SD_FLOAT) {
            rc = pactcl_state_dict_set_float(sd, e->name, v->u.f);
        }
        FUZZ_CHECK(rc == PACTCL_OK);
    }
    return sd;
}

/* Writes `full` as seeds of at most SEED_ENTRIES arrays each (the QAT
 * model's many small state tensors would make one seed of 130 KiB). */
#define SEED_ENTRIES 150
static void write_seed(const char *dir, const char *name, const struct pactcl_state_dict *full)
{
    for (size_t from = 0, part = 0; from < full->count; from += SEED_ENTRIES, part++) {
        struct pactcl_state_dict *sd = small_part(full, from, from + SEED_ENTRIES);
        char path[4096];
        snprintf(path, sizeof path, "%s/%zu_%s", dir, part, name);
        FUZZ_CHECK(pactcl_state_dict_save(path, sd) == PACTCL_OK);
        pactcl_state_dict_free(sd);
    }
}

static void write_seeds(const char *dir)
{
    struct pactcl_state_dict *p = NULL, *o = NULL, *f = NULL;
    FUZZ_CHECK(pactcl_checkpoint_params_to_dict(&g_qat, &p) == PACTCL_OK);
    FUZZ_CHECK(pactcl_checkpoint_opt_to_dict(&g_qat, 4, 0.025, 61.5, -1, &o) == PACTCL_OK);
    FUZZ_CHECK(pactcl_checkpoint_params_to_dict(&g_fp32, &f) == PACTCL_OK);
    write_seed(dir, "qat_small.pdparams", p);
    write_seed(dir, "qat_small.pdopt", o);
    write_seed(dir, "fp32_small.pdparams", f);
    pactcl_state_dict_free(p);
    pactcl_state_dict_free(o);
    pactcl_state_dict_free(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    pactcl_device *dev = fuzz_fake_device(&ctx);
    build(&g_fp32, dev, 0);
    build(&g_qat, dev, 1);
    /* load_opt wants a velocity for every trainable parameter and stops at
     * the first one missing: freezing the big weights keeps a complete
     * .pdopt seed small, so that the scheduler and best_top1 code after the
     * velocities is reached too. */
    for (int i = 0; i < g_qat.n_params; i++)
        if (pactcl_tensor_numel(g_qat.params[i].value) > SEED_MAX_NUMEL)
            g_qat.params[i].trainable = 0;
    const char *seeds = getenv("PACTCL_FUZZ_WRITE_SEEDS");
    if (seeds && *seeds) {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}

static void check_status(int rc)
{
    fuzz_explain(rc);
    if (rc != PACTCL_OK) {
        FUZZ_CHECK(rc == PACTCL_EFORMAT || rc == PACTCL_ESHAPE || rc == PACTCL_ENOMEM);
        FUZZ_CHECK(pactcl_last_error()[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pactcl_state_dict *sd = NULL;
    int rc = pactcl_state_dict_load_memory(data, size, "fuzz.pdparams", &sd);
    fuzz_explain(rc);
    if (rc != PACTCL_OK)
        return 0;
    struct pactcl_load_report r;
    /* The last byte picks the fine-tuning flag, so both paths get inputs. */
    int allow = size && (data[size - 1] & 1);
    check_status(pactcl_checkpoint_load_params(&g_fp32, sd, "fuzz.pdparams", allow, &r));
    check_status(pactcl_checkpoint_load_params(&g_qat, sd, "fuzz.pdparams", allow, &r));
    int last_epoch = -1;
    double last_lr = 0, best = 0;
    check_status(pactcl_checkpoint_load_opt(&g_qat, sd, "fuzz.pdopt", &last_epoch, &last_lr, &best, NULL));
    pactcl_state_dict_free(sd);
    return 0;
}
