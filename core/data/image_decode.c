/*
 * image_decode.c: reads an image file into memory and hands it to the decoder
 * its magic bytes name.  The whole file is read first: ImageNet files are
 * ~110 KB, and a buffer with a known size lets the decoders detect truncation
 * instead of blocking or reading past the end.
 */
#include "internal.h"

#include "codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pactcl__image_check_size(const char *name, uint64_t width, uint64_t height, uint64_t max_pixels)
{
    if (width == 0 || height == 0)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: image has no pixels (%llux%llu)", name,
                                 (unsigned long long)width, (unsigned long long)height);
    /* Below 2^31 each, the product cannot overflow 64 bits. */
    if (width > INT32_MAX || height > INT32_MAX || width * height > max_pixels)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: %llux%llu image exceeds the limit of %llu pixels "
                                 "(possible decompression bomb)",
                                 name, (unsigned long long)width, (unsigned long long)height,
                                 (unsigned long long)max_pixels);
    return PACTCL_OK;
}

void pactcl_image_free(struct pactcl_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

/* Names formats we recognise but do not decode, for a clearer refusal. */
static const char *unsupported_format(const uint8_t *b, size_t n)
{
    if (n >= 2 && b[0] == 'B' && b[1] == 'M')
        return "BMP";
    if (n >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7')
        return "PNM (PPM/PGM)";
    if (n >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) ||
                   (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42)))
        return "TIFF";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "WebP";
    if (n >= 4 && memcmp(b, "GIF8", 4) == 0)
        return "GIF";
    return NULL;
}

int pactcl_image_decode(const void *bytes, size_t size, const char *name, uint64_t max_pixels,
                        struct pactcl_image *out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_image_decode: no output image");
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    if (!bytes && size)
        return pactcl__set_error(PACTCL_EINVAL, "%s: no input bytes", name);
    if (max_pixels == 0)
        max_pixels = PACTCL_IMAGE_DEFAULT_MAX_PIXELS;

    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *b = bytes;
    if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return pactcl__jpeg_decode(b, size, name, max_pixels, out);
    if (size >= 8 && memcmp(b, png_magic, 8) == 0)
        return pactcl__png_decode(b, size, name, max_pixels, out);
    if (size == 0)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: empty file", name);
    const char *other = unsupported_format(b, size);
    if (other)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: format not supported (%s; pactcl reads JPEG and PNG)", name,
                                 other);
    return pactcl__set_error(PACTCL_EFORMAT, "%s: not a JPEG or PNG file", name);
}

/* Reads a regular file whole.  O_NONBLOCK keeps a FIFO in the dataset from
 * blocking the open; fstat then refuses anything that is not a regular file. */
static int read_file(const char *path, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pactcl__set_error(PACTCL_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int status = PACTCL_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0) {
        status = pactcl__set_error(PACTCL_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        status = pactcl__set_error(PACTCL_EIO, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)st.st_size > PACTCL_IMAGE_MAX_FILE_BYTES) {
        status = pactcl__set_error(PACTCL_EFORMAT, "%s: file of %lld bytes is too large", path,
                                   (long long)st.st_size);
        goto done;
    }
    size_t want = (size_t)st.st_size;
    buf = malloc(want ? want : 1);
    if (!buf) {
        status = pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory for %zu bytes", path, want);
        goto done;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = pactcl__set_error(PACTCL_EIO, "%s: read error: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break; /* shrank while we read: decode what is there */
        got += (size_t)r;
    }
    *bytes = buf;
    *size = got;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return status;
}

int pactcl_image_load(const char *path, uint64_t max_pixels, struct pactcl_image *out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_image_load: no output image");
    memset(out, 0, sizeof *out);
    if (!path)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_image_load: no path");
    uint8_t *bytes;
    size_t size;
    int status = read_file(path, &bytes, &size);
    if (status != PACTCL_OK)
        return status;
    status = pactcl_image_decode(bytes, size, path, max_pixels, out);
    free(bytes);
    return status;
}
