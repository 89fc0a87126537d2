/* codec.h: what image_decode.c shares with the per-format decoders. */
#ifndef PACTCL_DATA_CODEC_H
#define PACTCL_DATA_CODEC_H

#include "image.h"

/* Each decoder reads a whole file held in memory.  `name` is for messages and
 * max_pixels is already resolved (never 0).  On success out->data holds
 * width*height*3 bytes; on failure nothing stays allocated. */
int pactcl__jpeg_decode(const uint8_t *bytes, size_t size, const char *name, uint64_t max_pixels,
                        struct pactcl_image *out);
int pactcl__png_decode(const uint8_t *bytes, size_t size, const char *name, uint64_t max_pixels,
                       struct pactcl_image *out);

/* Refuses zero or over-limit dimensions before anything is allocated. */
int pactcl__image_check_size(const char *name, uint64_t width, uint64_t height,
                             uint64_t max_pixels);

#endif /* PACTCL_DATA_CODEC_H */
