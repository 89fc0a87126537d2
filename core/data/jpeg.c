/*
 * jpeg.c: JPEG -> 8-bit RGB through libjpeg-turbo, matching Pillow's
 * JpegDecode.c + convert('RGB') (same library, same defaults: islow IDCT,
 * fancy upsampling).
 *
 * libjpeg reports errors through error_exit, which must not return: ours
 * longjmps back into pactcl__jpeg_decode, which destroys the decompressor,
 * frees what it allocated and returns PACTCL_EFORMAT with libjpeg's message.
 */
#include "internal.h"

#include "codec.h"

#include <setjmp.h>
#include <stdio.h> /* jpeglib.h uses FILE without including stdio.h */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* A progressive file can hold any number of scans, each a full pass over the
 * coefficients: cap them, as libjpeg-turbo's TJFLAG_LIMITSCANS does, so a
 * crafted file cannot stall a worker. */
#define MAX_SCANS 500

struct jpeg_guard {
    struct jpeg_error_mgr pub; /* first: libjpeg hands us &pub */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int status;
    char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo)
{
    struct jpeg_guard *g = (struct jpeg_guard *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, g->message);
    g->status = cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? PACTCL_ENOMEM : PACTCL_EFORMAT;
    longjmp(g->jump, 1);
}

/* Pillow ignores libjpeg's warnings (corrupt-data notes), except running out
 * of input, where libjpeg would invent an EOI and pad the image with grey:
 * Pillow refuses such a file as truncated, and so do we. */
static void on_message(j_common_ptr cinfo, int level)
{
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        struct jpeg_guard *g = (struct jpeg_guard *)cinfo->err;
        snprintf(g->message, sizeof g->message, "file is truncated");
        g->status = PACTCL_EFORMAT;
        longjmp(g->jump, 1);
    }
}

static void on_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor)
        return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > MAX_SCANS) {
        struct jpeg_guard *g = (struct jpeg_guard *)cinfo->err;
        snprintf(g->message, sizeof g->message, "more than %d progressive scans", MAX_SCANS);
        g->status = PACTCL_EFORMAT;
        longjmp(g->jump, 1);
    }
}

/* Pillow's MULDIV255 from ImagingUtils.h: a*b/255 rounded, without a divide. */
static inline int muldiv255(int a, int b)
{
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static inline uint8_t clip8(int v)
{
    return v <= 0 ? 0 : v < 256 ? (uint8_t)v : 255;
}

/* Pillow reads 4-component JPEGs as "CMYK;I" (Adobe's inverted polarity, which
 * it assumes for every CMYK file), then converts with cmyk2rgb. */
static void cmyk_row_to_rgb(const uint8_t *in, uint8_t *out, unsigned width)
{
    for (unsigned x = 0; x < width; x++, in += 4, out += 3) {
        int nk = in[3]; /* Pillow's 255 - K, where K = 255 - raw k */
        for (int c = 0; c < 3; c++)
            out[c] = clip8(nk - muldiv255(255 - in[c], nk));
    }
}

int pactcl__jpeg_decode(const uint8_t *bytes, size_t size, const char *name, uint64_t max_pixels,
                        struct pactcl_image *out)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_guard guard;
    /* Assigned after setjmp and read after a longjmp: must be volatile. */
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;

    memset(&guard, 0, sizeof guard);
    cinfo.err = jpeg_std_error(&guard.pub);
    guard.pub.error_exit = on_error;
    guard.pub.emit_message = on_message;
    guard.progress.progress_monitor = on_progress;
    if (setjmp(guard.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        if (guard.status == PACTCL_ENOMEM)
            return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory decoding JPEG: %s", name,
                                     guard.message);
        return pactcl__set_error(PACTCL_EFORMAT, "%s: corrupt JPEG: %s", name, guard.message);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &guard.progress;
    jpeg_mem_src(&cinfo, bytes, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    int status = PACTCL_OK;
    int comps = cinfo.num_components;
    if (cinfo.data_precision != 8) {
        status = pactcl__set_error(PACTCL_EFORMAT, "%s: cannot handle %d-bit JPEG", name,
                                   cinfo.data_precision);
    } else if (comps != 1 && comps != 3 && comps != 4) {
        status =
            pactcl__set_error(PACTCL_EFORMAT, "%s: cannot handle %d-component JPEG", name, comps);
    } else {
        status = pactcl__image_check_size(name, cinfo.image_width, cinfo.image_height, max_pixels);
    }
    if (status != PACTCL_OK) {
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    /* libjpeg converts YCbCr -> RGB and YCCK -> CMYK itself, as for Pillow. */
    cinfo.out_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_start_decompress(&cinfo);

    unsigned w = cinfo.output_width, h = cinfo.output_height;
    pixels = malloc((size_t)w * h * 3);
    if (comps != 3)
        row = malloc((size_t)w * (unsigned)comps);
    if (!pixels || (comps != 3 && !row)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory for a %ux%u image", name, w, h);
    }
    uint8_t *rgb = pixels, *tmp = row; /* non-volatile copies for the loop */
    while (cinfo.output_scanline < h) {
        uint8_t *dst = rgb + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW target = comps == 3 ? dst : tmp;
        /* A memory source never suspends: no row means the decoder gave up. */
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {
            unsigned y = cinfo.output_scanline;
            jpeg_destroy_decompress(&cinfo);
            free(rgb);
            free(tmp);
            return pactcl__set_error(PACTCL_EFORMAT, "%s: corrupt JPEG: no data for row %u", name,
                                     y);
        }
        if (comps == 1) {
            for (unsigned x = 0; x < w; x++)
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = tmp[x];
        } else if (comps == 4) {
            cmyk_row_to_rgb(tmp, dst, w);
        }
    }
    /* Reads up to EOI, so a file cut just before it is refused like Pillow. */
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(tmp);
    out->width = (int)w;
    out->height = (int)h;
    out->data = rgb;
    return PACTCL_OK;
}
