/*
 * png_write.h: writing 8-bit grayscale PNG files through libpng, for the
 * datasets pactcl converts into ImageFolder layout (image_folder.h).
 *
 * The file is written in place, not atomically: the converters write into a
 * staging directory that is renamed into place only when complete, and an
 * fsync per image would cost more than the conversion itself.  On failure the
 * partial file is removed and the message names it.  Internal to libpactcl;
 * exported for the tests.
 */
#ifndef PACTCL_DATA_PNG_WRITE_H
#define PACTCL_DATA_PNG_WRITE_H

#include <stdint.h>

/* Writes width x height gray pixels (row-major, rows packed) to `path`,
 * replacing any file there.  PACTCL_EINVAL for sizes libpng cannot store,
 * PACTCL_EIO when the file cannot be created or written. */
int pactcl_png_write_gray8(const char *path, const uint8_t *pixels, int width, int height);

#endif /* PACTCL_DATA_PNG_WRITE_H */
