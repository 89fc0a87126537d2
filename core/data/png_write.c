/*
 * png_write.c: 8-bit grayscale PNG output through libpng.
 *
 * libpng reports errors by longjmp'ing out of png_error; on_error keeps the
 * message (and the errno of a failed write, which libpng's "Write Error"
 * does not say) so that the caller's message explains the failure.
 */
#include "internal.h"

#include "png_write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

struct png_sink {
    char message[256];
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_sink *sink = png_get_error_ptr(png);
    int err = errno;
    if (err)
        snprintf(sink->message, sizeof sink->message, "%s (%s)", msg, strerror(err));
    else
        snprintf(sink->message, sizeof sink->message, "%s", msg);
    png_longjmp(png, 1);
}

/* Writing raises no warning that matters for a plain 8-bit gray image. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int pactcl_png_write_gray8(const char *path, const uint8_t *pixels, int width, int height)
{
    if (!path || !pixels || width < 1 || height < 1 || width > PNG_USER_WIDTH_MAX ||
        height > PNG_USER_HEIGHT_MAX)
        return pactcl__set_error(PACTCL_EINVAL, "cannot write PNG %s: invalid size %dx%d",
                                 path ? path : "(null)", width, height);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return pactcl__set_error(PACTCL_EIO, "cannot create %s: %s", path, strerror(errno));
    struct png_sink sink = { { 0 } };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        fclose(fp);
        unlink(path);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory writing %s", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        unlink(path);
        return pactcl__set_error(PACTCL_EIO, "cannot write %s: %s", path, sink.message);
    }
    errno = 0;
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * (size_t)width);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) {
        int err = errno;
        unlink(path);
        return pactcl__set_error(PACTCL_EIO, "cannot write %s: %s", path, strerror(err));
    }
    return PACTCL_OK;
}
