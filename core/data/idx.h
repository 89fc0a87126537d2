/*
 * idx.h: reading IDX files of unsigned bytes, the format of LeCun's MNIST and
 * Zalando's Fashion-MNIST (train-images-idx3-ubyte, ...), gzip-compressed or
 * not (zlib reads both).
 *
 * Layout: two zero bytes, the type code 0x08 (unsigned byte), the number of
 * dimensions, one big-endian uint32 per dimension, then the bytes in row-major
 * order.  So images are magic 0x00000803 (count, rows, cols) and labels
 * 0x00000801 (count).
 *
 * Reading is strict: the magic must announce the expected number of
 * dimensions, and the decompressed byte count must be exactly what the
 * dimensions describe (no missing byte, no trailing byte); a truncated or
 * corrupt gzip stream, a CRC mismatch included, is refused (bytes after the
 * last gzip member are ignored, as gzip itself does).  Errors name the
 * file: PACTCL_ENOTFOUND (no such file), PACTCL_EIO (cannot read, not a
 * regular file), PACTCL_EFORMAT (anything wrong with the content),
 * PACTCL_ENOMEM.  Internal to libpactcl; exported for the CLI and the tests.
 */
#ifndef PACTCL_DATA_IDX_H
#define PACTCL_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

/* The most dimensions an IDX file may declare (the format's byte allows 255;
 * the MNIST family uses 1 and 3). */
#define PACTCL_IDX_MAX_DIMS 4

/* Decompressed payloads larger than this are refused before any allocation,
 * so a corrupt header or a gzip bomb cannot exhaust memory.  Fashion-MNIST's
 * largest file holds 47 MB. */
#define PACTCL_IDX_MAX_BYTES ((uint64_t)1 << 30)

struct pactcl_idx {
    int ndims;
    uint32_t dims[PACTCL_IDX_MAX_DIMS];
    uint8_t *data; /* dims[0] * ... * dims[ndims-1] bytes */
    size_t size;
};

/* Reads the whole file at `path`, which must hold unsigned bytes in exactly
 * `ndims` (1..PACTCL_IDX_MAX_DIMS) dimensions.  On failure *out is zeroed. */
int pactcl_idx_load(const char *path, int ndims, struct pactcl_idx *out);

void pactcl_idx_free(struct pactcl_idx *idx);

#endif /* PACTCL_DATA_IDX_H */
