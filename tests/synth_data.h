/*
 * synth_data.h: a small synthetic image-classification set for training
 * tests: class k is a bright quadrant k of a 32x32 image plus hashed noise,
 * served as a trainer batch source with a per-epoch shuffle.
 */
#ifndef PACTCL_TESTS_SYNTH_DATA_H
#define PACTCL_TESTS_SYNTH_DATA_H

#include <stdint.h>

#include "train/trainer.h"

#define CLASSES 4
#define SIZE 32

struct synth {
    struct pactcl_batch_source src;
    int n, batch, pos, epoch;
    int *order;
    float *images;
    int32_t *labels;
};

/* n samples (sample i has label i % CLASSES), batches of `batch`. */
void synth_init(struct synth *s, int n, int batch);
void synth_free(struct synth *s);

#endif
