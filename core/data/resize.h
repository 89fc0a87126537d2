/*
 * resize.h: Pillow's bilinear resampling (Image.resize(size, BILINEAR),
 * Pillow 7 to 12.1, which covers the reference's Pillow 8/9) for 8-bit RGB,
 * bit-exact.
 *
 * Pillow antialiases: when shrinking, the triangle filter's support grows with
 * the scale factor.  It resamples horizontally then vertically, with 22-bit
 * fixed-point coefficients and rounding + clipping to 8 bits between the two
 * passes; a pass whose size does not change is skipped.  All of that is
 * reproduced (core/data/resize.c), so results equal Pillow's byte for byte.
 * Pillow 12.2 and later run the vertical pass first for some shapes (13.0:
 * whenever the height shrinks and the width does not), which moves some
 * pixels of those resizes by 1; pactcl keeps the reference's order.
 */
#ifndef PACTCL_DATA_RESIZE_H
#define PACTCL_DATA_RESIZE_H

#include <stddef.h>
#include <stdint.h>

/* A rectangle of pixels: columns [x, x+width), rows [y, y+height). */
struct pactcl_rect {
    int x;
    int y;
    int width;
    int height;
};

/* Resizes the RGB image `src` (src_w x src_h, src_stride bytes per row, so a
 * crop of a larger image is passed as a pointer and the parent's stride) to
 * out_w x out_h, and writes the part `window` of the result (NULL: all of it)
 * to `dst`, rows packed (3 * window->width bytes each).  Computing only a
 * window gives the same pixels as resizing everything and cropping, for less
 * work: the eval transform resizes then centre-crops.
 * Returns PACTCL_OK, PACTCL_EINVAL (bad sizes or window) or PACTCL_ENOMEM. */
int pactcl_resize_bilinear(const uint8_t *src, int src_w, int src_h, size_t src_stride, int out_w,
                           int out_h, const struct pactcl_rect *window, uint8_t *dst);

#endif /* PACTCL_DATA_RESIZE_H */
