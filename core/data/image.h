/*
 * image.h: decoding image files into 8-bit RGB, as the reference's
 * PIL.Image.open(path).convert('RGB') does (Pillow of its era, 8/9; the
 * fixtures come from Pillow 9.5.0, and every case below is tested).
 *
 * Internal to libpactcl (not installed); the functions are exported for the
 * CLI and the tests.  Errors: PACTCL_EIO (cannot read), PACTCL_EFORMAT
 * (corrupt, truncated, too large or unsupported), PACTCL_ENOMEM, PACTCL_EINVAL;
 * the message (pactcl_last_error) names the file.  A bad file never crashes
 * and never leaks.
 *
 * Formats are recognised by their magic bytes, never by the file name:
 *   JPEG (libjpeg-turbo): grayscale is replicated to RGB; CMYK and YCCK are
 *     read with Adobe's inverted polarity and converted with Pillow's
 *     cmyk2rgb; 12-bit and 2-component files are refused, as Pillow does.
 *     A file that ends before its EOI marker is refused, as Pillow does
 *     ("image file is truncated"); libjpeg's other warnings (extraneous
 *     bytes, ...) are ignored, as Pillow does.
 *   PNG (libpng), every colour type and bit depth, interlaced or not, exactly
 *     as Pillow's convert('RGB'): alpha and tRNS are dropped (not composited);
 *     16-bit RGB, RGBA and gray+alpha keep the high byte; 16-bit gray is
 *     clipped to 255 (Pillow's I;16 -> RGB); 1/2/4-bit gray is scaled to
 *     0..255; a palette index i past the PLTE entries gives (i, i, i)
 *     (Pillow 13 gives black).  A file missing its IEND is accepted, as by
 *     Pillow; a bad CRC is refused, even on image data, which Pillow does
 *     not check.
 * The reference's other extensions (.ppm .pgm .bmp .tif .tiff .webp) are
 * refused with "format not supported" (PACTCL_EFORMAT): ImageNet is JPEG.
 */
#ifndef PACTCL_DATA_IMAGE_H
#define PACTCL_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Pixel-count ceiling when the caller passes 0: refuses decompression bombs
 * before any pixel memory is allocated.  Pillow errors only at 2 x 89.5 Mpixel;
 * 64 Mpixel (192 MiB of RGB per decoding thread) is far above any ImageNet
 * image (the largest is about 10 Mpixel). */
#define PACTCL_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)64 << 20)

/* Files larger than this are refused without being read. */
#define PACTCL_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* 8-bit RGB, row-major, 3 bytes per pixel, rows packed (stride 3*width). */
struct pactcl_image {
    int width;
    int height;
    uint8_t *data;
};

/* Decodes the file at `path` into *out (which the caller frees with
 * pactcl_image_free).  max_pixels: the largest width*height accepted, 0 for
 * PACTCL_IMAGE_DEFAULT_MAX_PIXELS.  Only regular files are read (a FIFO or a
 * directory is refused, never waited on).  On failure *out is zeroed. */
int pactcl_image_load(const char *path, uint64_t max_pixels, struct pactcl_image *out);

/* The same from memory; `name` is used in error messages. */
int pactcl_image_decode(const void *bytes, size_t size, const char *name, uint64_t max_pixels,
                        struct pactcl_image *out);

void pactcl_image_free(struct pactcl_image *img);

#endif /* PACTCL_DATA_IMAGE_H */
