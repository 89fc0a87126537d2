/*
 * png.c: PNG -> 8-bit RGB through libpng, matching Pillow's PngImagePlugin +
 * convert('RGB').
 *
 * libpng only unpacks the samples (png_set_packing, interlace handling); the
 * conversion to RGB is ours, because Pillow's differs from libpng's own
 * transforms: 16-bit gray is clipped to 255 where png_set_strip_16 would keep
 * the high byte, and a palette index past the PLTE entries reads Pillow's
 * default palette entry, the grey (i, i, i).  Alpha and tRNS are dropped,
 * never composited, as in Pillow's RGBA -> RGB.
 *
 * libpng errors longjmp back into pactcl__png_decode (png_jmpbuf), which
 * frees everything and returns PACTCL_EFORMAT with libpng's message.
 */
#include "internal.h"

#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

struct png_source {
    const uint8_t *bytes;
    size_t size;
    size_t pos;
    char message[256];
};

static void read_bytes(png_structp png, png_bytep dst, size_t n)
{
    struct png_source *src = png_get_io_ptr(png);
    if (n > src->size - src->pos)
        png_error(png, "file is truncated");
    memcpy(dst, src->bytes + src->pos, n);
    src->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_source *src = png_get_error_ptr(png);
    snprintf(src->message, sizeof src->message, "%s", msg);
    png_longjmp(png, 1);
}

/* Benign problems (bad ancillary CRC, extra data): Pillow reads on, so do we. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* One unpacked row (1 byte per sample below 16 bits, 2 big-endian bytes at
 * 16) to RGB, the way Pillow's unpackers and converters do it. */
static void convert_row(const uint8_t *in, uint8_t *out, unsigned w, int color_type, int depth,
                        const png_color *palette, int n_palette)
{
    const int wide = depth == 16;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        for (unsigned x = 0; x < w; x++, out += 3) {
            unsigned v;
            if (wide) {
                v = (unsigned)in[2 * x] << 8 | in[2 * x + 1];
                v = v > 255 ? 255 : v; /* Pillow I;16 -> RGB clips */
            } else {
                /* 1/2/4-bit gray scaled to 0..255 (Pillow's L;2, L;4; "1" -> 255) */
                v = in[x] * (255u / ((1u << depth) - 1));
            }
            out[0] = out[1] = out[2] = (uint8_t)v;
        }
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        /* Pillow reads 16-bit LA as RGBA from the high bytes ("LA;16B"). */
        for (unsigned x = 0; x < w; x++, out += 3)
            out[0] = out[1] = out[2] = in[x * (wide ? 4 : 2)];
        break;
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
        const unsigned step = (color_type == PNG_COLOR_TYPE_RGB ? 3u : 4u) << wide;
        for (unsigned x = 0; x < w; x++, out += 3, in += step)
            for (int c = 0; c < 3; c++)
                out[c] = in[c << wide]; /* the high byte at 16 bits */
        break;
    }
    case PNG_COLOR_TYPE_PALETTE:
        for (unsigned x = 0; x < w; x++, out += 3) {
            if (in[x] < n_palette) {
                out[0] = palette[in[x]].red;
                out[1] = palette[in[x]].green;
                out[2] = palette[in[x]].blue;
            } else {
                out[0] = out[1] = out[2] = in[x]; /* Pillow <= 12's grey ramp */
            }
        }
        break;
    }
}

int pactcl__png_decode(const uint8_t *bytes, size_t size, const char *name, uint64_t max_pixels,
                       struct pactcl_image *out)
{
    struct png_source src = {.bytes = bytes, .size = size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory for the PNG decoder", name);
    }
    /* Assigned after setjmp and read after a longjmp: must be volatile. */
    uint8_t *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    uint8_t *volatile pixels = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        free(pixels);
        return pactcl__set_error(PACTCL_EFORMAT, "%s: corrupt PNG: %s", name, src.message);
    }
    png_set_read_fn(png, &src, read_bytes);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, color_type, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
    int status = pactcl__image_check_size(name, w, h, max_pixels);
    if (status != PACTCL_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return status;
    }
    png_colorp palette = NULL;
    int n_palette = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_get_PLTE(png, info, &palette, &n_palette);
    if (depth < 8)
        png_set_packing(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    /* Interlaced images need every row in memory, so all are read at once. */
    size_t rowbytes = png_get_rowbytes(png, info);
    raw = malloc(rowbytes * h);
    rows = malloc(sizeof(png_bytep) * h);
    pixels = malloc((size_t)w * h * 3);
    if (!raw || !rows || !pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        free(pixels);
        return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory for a %ux%u image", name,
                                 (unsigned)w, (unsigned)h);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = raw + y * rowbytes;
    png_read_image(png, rows);
    /* No png_read_end: like Pillow, accept a file whose IEND is missing. */

    uint8_t *rgb = pixels;
    for (png_uint_32 y = 0; y < h; y++)
        convert_row(rows[y], rgb + (size_t)y * w * 3, w, color_type, depth, palette, n_palette);
    png_destroy_read_struct(&png, &info, NULL);
    free(raw);
    free(rows);
    out->width = (int)w;
    out->height = (int)h;
    out->data = rgb;
    return PACTCL_OK;
}
