/* folder_source.c: the data loader behind the trainer's batch source. */
#include "internal.h"

#include <stdlib.h>

#include "data/loader.h"
#include "train/folder_source.h"

struct pactcl_folder_source {
    pactcl_image_folder *folder;
    pactcl_loader *loader;
    struct pactcl_batch batch;
    struct pactcl_batch_source source;
    int batch_size;
    uint32_t epoch;
    int epoch_open;
};

static int begin_epoch(void *ctx, int epoch, int first_batch)
{
    struct pactcl_folder_source *s = ctx;
    int rc = pactcl_loader_start_epoch_at(s->loader, (uint32_t)epoch,
                                          (size_t)first_batch * (size_t)s->batch_size);
    if (rc != PACTCL_OK)
        return rc;
    s->epoch = (uint32_t)epoch;
    s->epoch_open = 1;
    size_t n = pactcl_image_folder_count(s->folder);
    return (int)((n + (size_t)s->batch_size - 1) / (size_t)s->batch_size);
}

static int next(void *ctx, const float **images, const int32_t **labels, int *n)
{
    struct pactcl_folder_source *s = ctx;
    int rc = pactcl_loader_next(s->loader, &s->batch);
    if (rc != PACTCL_OK)
        return rc;
    if (s->batch.count == 0) {
        if (s->epoch_open) {
            /* The end-of-epoch summary of unreadable files (each was named once). */
            size_t skipped = 0;
            pactcl_loader_skipped(s->loader, &skipped);
            if (skipped)
                pactcl__log(PACTCL_LOG_WARN, "%s: %zu unreadable image%s skipped in epoch %u",
                            pactcl_image_folder_dir(s->folder), skipped, skipped == 1 ? "" : "s",
                            s->epoch);
            s->epoch_open = 0;
        }
        return 0;
    }
    *images = s->batch.images;
    *labels = s->batch.labels;
    *n = s->batch.count;
    return 1;
}

int pactcl_folder_source_open(const struct pactcl_folder_source_options *o,
                              struct pactcl_folder_source **out)
{
    *out = NULL;
    struct pactcl_folder_source *s = calloc(1, sizeof *s);
    if (!s)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory opening %s", o->root);
    int rc = pactcl_image_folder_scan(o->root, o->split, &s->folder);
    if (rc == PACTCL_OK) {
        struct pactcl_loader_config cfg;
        pactcl_loader_config_default(&cfg);
        cfg.folder = s->folder;
        cfg.mode = o->train ? PACTCL_LOADER_TRAIN : PACTCL_LOADER_EVAL;
        cfg.batch_size = o->batch_size;
        cfg.workers = o->workers;
        cfg.seed = o->seed;
        cfg.max_pixels = o->max_pixels;
        cfg.transform.crop_size = o->crop_size;
        cfg.transform.resize_size = o->resize_size;
        if (o->crop_scale_min > 0)
            cfg.transform.scale[0] = o->crop_scale_min;
        rc = pactcl_loader_create(&cfg, &s->loader);
    }
    if (rc == PACTCL_OK) {
        size_t floats = pactcl_loader_sample_floats(s->loader) * (size_t)o->batch_size;
        s->batch.images = malloc(floats * sizeof(float));
        s->batch.labels = malloc((size_t)o->batch_size * sizeof(int32_t));
        if (!s->batch.images || !s->batch.labels)
            rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory for a batch of %d images",
                                   o->batch_size);
    }
    if (rc != PACTCL_OK) {
        pactcl_folder_source_close(s);
        return rc;
    }
    s->batch_size = o->batch_size;
    s->source = (struct pactcl_batch_source){ .ctx = s, .begin_epoch = begin_epoch, .next = next };
    *out = s;
    return PACTCL_OK;
}

void pactcl_folder_source_close(struct pactcl_folder_source *s)
{
    if (!s)
        return;
    pactcl_loader_free(s->loader);
    pactcl_image_folder_free(s->folder);
    free(s->batch.images);
    free(s->batch.labels);
    free(s);
}

int pactcl_folder_source_classes(const struct pactcl_folder_source *s)
{
    return pactcl_image_folder_class_count(s->folder);
}

const char *pactcl_folder_source_class_name(const struct pactcl_folder_source *s, int label)
{
    return pactcl_image_folder_class_name(s->folder, label);
}

size_t pactcl_folder_source_samples(const struct pactcl_folder_source *s)
{
    return pactcl_image_folder_count(s->folder);
}

struct pactcl_batch_source *pactcl_folder_source_batches(struct pactcl_folder_source *s)
{
    return &s->source;
}
