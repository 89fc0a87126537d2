/*
 * loader.h: batches of float32 NCHW images + int32 labels from an image
 * folder, decoded and transformed ahead of the consumer by worker threads.
 *
 * Determinism: sample i of epoch e is a pure function of (file, seed, e, i)
 * (transforms.h), and batches are assembled in the sampler's order by the
 * caller's thread, so the batches are identical for any number of workers.
 *
 * Memory is bounded: workers run at most `prefetch` samples ahead of the
 * consumer, each held as crop_size^2 RGB bytes (150 KB at 224); the float
 * batch is written straight into the caller's buffer.
 *
 * Unreadable images: a sample whose file cannot be read or decoded is skipped
 * and the batch is filled from the following samples, so every batch but the
 * epoch's last has batch_size samples (the last has what is left, possibly
 * fewer than without the skip).  The first time a file fails, on_skip is
 * called once with its path and the error (by default a pactcl warning);
 * later epochs count it again without repeating the warning.  The epoch's
 * skips are listed by pactcl_loader_skipped().
 */
#ifndef PACTCL_DATA_LOADER_H
#define PACTCL_DATA_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "image_folder.h"
#include "transforms.h"

typedef struct pactcl_loader pactcl_loader;

enum pactcl_loader_mode {
    PACTCL_LOADER_TRAIN, /* shuffled order, RandomResizedCrop + flip */
    PACTCL_LOADER_EVAL   /* sequential order, Resize + CenterCrop */
};

/* Called in the consumer's thread (inside pactcl_loader_next). */
typedef void (*pactcl_loader_skip_fn)(void *user, const char *path, const char *message);

struct pactcl_loader_config {
    const pactcl_image_folder *folder; /* borrowed: must outlive the loader */
    enum pactcl_loader_mode mode;
    int batch_size;      /* > 0 */
    int workers;         /* decoding threads; 0 decodes in the caller's thread */
    int prefetch;        /* samples decoded ahead (at least `workers`); 0: 2 * batch_size */
    uint64_t seed;       /* for the random transforms */
    uint64_t max_pixels; /* per image, 0: PACTCL_IMAGE_DEFAULT_MAX_PIXELS */
    struct pactcl_transform_config transform;
    pactcl_loader_skip_fn on_skip; /* NULL: a pactcl warning */
    void *user;
};

/* Defaults: train, batch 64, 4 workers, seed 0, the reference's transforms;
 * `folder` is left NULL for the caller to set. */
void pactcl_loader_config_default(struct pactcl_loader_config *cfg);

/* Starts the worker threads, which wait for pactcl_loader_start_epoch. */
int pactcl_loader_create(const struct pactcl_loader_config *cfg, pactcl_loader **out);
/* Stops the workers, even in the middle of an epoch, and frees everything. */
void pactcl_loader_free(pactcl_loader *l);

/* Begins epoch `epoch` (the train order is RandomState(epoch)'s shuffle).
 * An unfinished previous epoch is abandoned. */
int pactcl_loader_start_epoch(pactcl_loader *l, uint32_t epoch);
/* The same, starting at position `first` of the epoch's order (resuming an
 * interrupted epoch: the samples before it are not decoded). */
int pactcl_loader_start_epoch_at(pactcl_loader *l, uint32_t epoch, size_t first);

/* Caller-owned batch storage, filled by pactcl_loader_next. */
struct pactcl_batch {
    float *images;   /* batch_size * 3 * crop_size * crop_size floats, NCHW */
    int32_t *labels; /* batch_size */
    size_t *indices; /* optional (NULL): the dataset index of each sample */
    int count;       /* out: samples delivered, 0 once the epoch is over */
};

/* Fills the next batch of the epoch, waiting for the workers as needed. */
int pactcl_loader_next(pactcl_loader *l, struct pactcl_batch *batch);

/* Side of the square images (crop_size) and floats per sample (3 * side^2). */
int pactcl_loader_image_size(const pactcl_loader *l);
size_t pactcl_loader_sample_floats(const pactcl_loader *l);

struct pactcl_loader_stats {
    uint32_t epoch;
    size_t samples;   /* in the dataset */
    size_t delivered; /* so far this epoch */
    size_t skipped;   /* so far this epoch */
    size_t batches;   /* so far this epoch */
};

void pactcl_loader_stats(const pactcl_loader *l, struct pactcl_loader_stats *stats);
/* The dataset indices skipped so far this epoch, in order; *n gets their count. */
const size_t *pactcl_loader_skipped(const pactcl_loader *l, size_t *n);

#endif /* PACTCL_DATA_LOADER_H */
