/*
 * idx.c: strict IDX (unsigned byte) reading through zlib's gz* interface,
 * which inflates gzip files and passes plain files through unchanged.
 *
 * The header is read first and the payload size it implies is checked
 * against PACTCL_IDX_MAX_BYTES before allocating; then exactly that many
 * bytes are read, and one more read must find the end of the stream.  That
 * last read is also what makes zlib check the gzip trailer (CRC and length),
 * so a file cut anywhere, even inside its 8-byte trailer, is refused.
 */
#include "internal.h"

#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

/* Reads up to n bytes into dst and their count into *got (fewer only at the
 * end of the data); fails when zlib reports a problem.  gzread returns 0,
 * not -1, for a truncated stream (Z_BUF_ERROR), so gzerror is asked after
 * every call. */
static int read_some(gzFile gz, const char *path, uint8_t *dst, size_t n, size_t *got_out)
{
    size_t got = 0;
    *got_out = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > (size_t)INT_MAX)
            want = (size_t)INT_MAX;
        int r = gzread(gz, dst + got, (unsigned)want);
        int zerr = Z_OK;
        const char *msg = gzerror(gz, &zerr);
        if (r < 0 || zerr != Z_OK) {
            if (zerr == Z_ERRNO)
                return pactcl__set_error(PACTCL_EIO, "cannot read %s: %s", path, strerror(errno));
            /* zlib prefixes its name for the descriptor ("<fd:3>: "); the
             * message names the file instead. */
            const char *colon = msg[0] == '<' ? strstr(msg, ">: ") : NULL;
            return pactcl__set_error(PACTCL_EFORMAT, "%s: corrupt or truncated gzip data (%s)",
                                     path, colon ? colon + 3 : msg);
        }
        if (r == 0)
            break;
        got += (size_t)r;
        *got_out = got;
    }
    return PACTCL_OK;
}

static void format_dims(const struct pactcl_idx *idx, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < idx->ndims && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "x" : "", idx->dims[i]);
}

static int read_idx(gzFile gz, const char *path, int ndims, struct pactcl_idx *out)
{
    uint8_t head[4 + 4 * PACTCL_IDX_MAX_DIMS];
    size_t head_size = 4 + 4 * (size_t)ndims;
    size_t got;
    int rc = read_some(gz, path, head, head_size, &got);
    if (rc != PACTCL_OK)
        return rc;
    uint32_t expected = 0x800u | (uint32_t)ndims;
    if (got >= 4) {
        uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
                         (uint32_t)head[2] << 8 | head[3];
        if (magic != expected)
            return pactcl__set_error(PACTCL_EFORMAT,
                                     "%s: not an IDX file of %d-dimensional unsigned bytes "
                                     "(magic 0x%08x, expected 0x%08x)",
                                     path, ndims, magic, expected);
    }
    if (got < head_size)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: truncated IDX header (%zu bytes, expected %zu for magic "
                                 "0x%08x)",
                                 path, got, head_size, expected);
    out->ndims = ndims;
    uint64_t size = 1;
    for (int i = 0; i < ndims; i++) {
        const uint8_t *d = head + 4 + 4 * i;
        out->dims[i] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        /* Each factor is below 2^32 and the running product stays at most
         * 2^30 here, so the product cannot overflow 64 bits. */
        size *= out->dims[i];
        if (size > PACTCL_IDX_MAX_BYTES)
            break;
    }
    char dims[96];
    format_dims(out, dims, sizeof dims);
    if (size > PACTCL_IDX_MAX_BYTES)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: dimensions %s describe more than %llu bytes", path, dims,
                                 (unsigned long long)PACTCL_IDX_MAX_BYTES);
    out->size = (size_t)size;
    /* malloc(0) may return NULL: keep one byte so that an empty file reads. */
    out->data = malloc(out->size ? out->size : 1);
    if (!out->data)
        return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory for %zu bytes", path,
                                 out->size);
    if ((rc = read_some(gz, path, out->data, out->size, &got)) != PACTCL_OK)
        return rc;
    if (got < out->size)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: holds %zu data bytes, but its dimensions %s need %zu", path,
                                 got, dims, out->size);
    uint8_t extra;
    if ((rc = read_some(gz, path, &extra, 1, &got)) != PACTCL_OK)
        return rc;
    if (got > 0)
        return pactcl__set_error(PACTCL_EFORMAT,
                                 "%s: has bytes past the %zu that its dimensions %s describe",
                                 path, out->size, dims);
    return PACTCL_OK;
}

int pactcl_idx_load(const char *path, int ndims, struct pactcl_idx *out)
{
    memset(out, 0, sizeof *out);
    if (!path || ndims < 1 || ndims > PACTCL_IDX_MAX_DIMS)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_idx_load: invalid argument");
    /* O_NONBLOCK: a FIFO at that name is refused below, never waited on. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pactcl__set_error(errno == ENOENT ? PACTCL_ENOTFOUND : PACTCL_EIO,
                                 "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pactcl__set_error(PACTCL_EIO, "%s: not a regular file", path);
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return pactcl__set_error(PACTCL_ENOMEM, "%s: out of memory opening it", path);
    }
    /* A larger buffer than zlib's 8 KiB default: fewer read() calls on the
     * 26 MB training images.  Failure only keeps the default. */
    gzbuffer(gz, 1 << 17);
    int rc = read_idx(gz, path, ndims, out);
    gzclose_r(gz); /* closes fd too */
    if (rc != PACTCL_OK)
        pactcl_idx_free(out);
    return rc;
}

void pactcl_idx_free(struct pactcl_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
