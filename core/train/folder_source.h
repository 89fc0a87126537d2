/*
 * folder_source.h: an image folder split (<root>/train or <root>/val) as a
 * batch source for the trainer: the threaded loader with the reference's
 * train or eval transforms.
 */
#ifndef PACTCL_FOLDER_SOURCE_H
#define PACTCL_FOLDER_SOURCE_H

#include <stdint.h>

#include "train/trainer.h"

struct pactcl_folder_source_options {
    const char *root;  /* --data-path */
    const char *split; /* "train" or "val" */
    int train;         /* shuffled order and random transforms */
    int batch_size, workers, crop_size, resize_size;
    double crop_scale_min; /* RandomResizedCrop's smallest area fraction; 0: the reference's 0.08 */
    uint64_t max_pixels;   /* larger images are refused before decoding; 0: 64 Mpixel */
    uint64_t seed;
};

struct pactcl_folder_source;

int pactcl_folder_source_open(const struct pactcl_folder_source_options *o,
                              struct pactcl_folder_source **out);
void pactcl_folder_source_close(struct pactcl_folder_source *s);
int pactcl_folder_source_classes(const struct pactcl_folder_source *s);
const char *pactcl_folder_source_class_name(const struct pactcl_folder_source *s, int label);
size_t pactcl_folder_source_samples(const struct pactcl_folder_source *s);
struct pactcl_batch_source *pactcl_folder_source_batches(struct pactcl_folder_source *s);

#endif /* PACTCL_FOLDER_SOURCE_H */
