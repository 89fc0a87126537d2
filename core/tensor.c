/* tensor.c: typed, shaped views of device buffers. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

size_t pactcl_dtype_size(enum pactcl_dtype dtype)
{
    switch (dtype) {
    case PACTCL_F32:
    case PACTCL_I32:
        return 4;
    case PACTCL_U8:
    case PACTCL_I8:
        return 1;
    case PACTCL_DTYPE_COUNT:
        break;
    }
    return 0;
}

const char *pactcl_dtype_name(enum pactcl_dtype dtype)
{
    static const char *const names[] = { "f32", "i32", "u8", "i8" };
    return (unsigned)dtype < PACTCL_DTYPE_COUNT ? names[dtype] : "unknown";
}

int64_t pactcl_tensor_numel(const struct pactcl_tensor *t)
{
    return t ? pactcl_plugin_numel(t) : 0;
}

size_t pactcl_tensor_bytes(const struct pactcl_tensor *t)
{
    return t ? (size_t)pactcl_tensor_numel(t) * pactcl_dtype_size(t->dtype) : 0;
}

/* Validates a shape and returns its element count, or -1 with the error set. */
static int64_t shape_numel(int ndim, const int64_t *dims)
{
    if (ndim < 1 || ndim > PACTCL_MAX_DIMS || !dims) {
        pactcl__set_error(PACTCL_ESHAPE, "tensor rank %d must be 1..%d", ndim, PACTCL_MAX_DIMS);
        return -1;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0 || dims[i] > ((int64_t)1 << 40) / n) {
            pactcl__set_error(PACTCL_ESHAPE, "tensor dimension %d = %lld is out of range", i,
                              (long long)dims[i]);
            return -1;
        }
        n *= dims[i];
    }
    return n;
}

int pactcl_tensor_create(pactcl_device *dev, enum pactcl_dtype dtype, int ndim, const int64_t *dims,
                         struct pactcl_tensor **out)
{
    if (out)
        *out = NULL;
    if (!dev || !out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_create: NULL argument");
    if ((unsigned)dtype >= PACTCL_DTYPE_COUNT)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_create: unknown dtype %d", (int)dtype);
    int64_t n = shape_numel(ndim, dims);
    if (n < 0)
        return PACTCL_ESHAPE;
    size_t bytes = (size_t)n * pactcl_dtype_size(dtype);
    const struct pactcl_device_info *info = &dev->impl->info;
    if (info->max_alloc_bytes && bytes > info->max_alloc_bytes)
        return pactcl__set_error(PACTCL_ENOMEM,
                                 "a tensor of %zu bytes exceeds the largest allocation of device %s "
                                 "(%llu bytes); try a smaller --batch-size",
                                 bytes, info->id, (unsigned long long)info->max_alloc_bytes);
    struct pactcl_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory allocating a tensor header");
    int rc = dev->impl->iface->buffer_alloc(dev->impl, bytes, &t->buffer);
    if (rc != PACTCL_OK) {
        free(t);
        return rc;
    }
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    t->device = dev;
    t->owns_buffer = 1;
    *out = t;
    return PACTCL_OK;
}

int pactcl_tensor_slice(struct pactcl_tensor *base, int64_t offset, int ndim, const int64_t *dims,
                        struct pactcl_tensor **out)
{
    if (!base || !out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_slice: NULL argument");
    *out = NULL;
    int64_t n = shape_numel(ndim, dims);
    if (n < 0)
        return PACTCL_ESHAPE;
    int64_t have = pactcl_tensor_numel(base);
    if (offset < 0 || offset > have || n > have - offset)
        return pactcl__set_error(PACTCL_ESHAPE,
                                 "pactcl_tensor_slice: elements [%lld, %lld) outside a tensor of %lld",
                                 (long long)offset, (long long)(offset + n), (long long)have);
    struct pactcl_tensor *t = malloc(sizeof *t);
    if (!t)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory allocating a tensor view");
    *t = *base;
    t->offset = base->offset + (size_t)offset * pactcl_dtype_size(base->dtype);
    t->ndim = ndim;
    memset(t->dims, 0, sizeof t->dims);
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    t->owns_buffer = 0;
    *out = t;
    return PACTCL_OK;
}

int pactcl_tensor_view(struct pactcl_tensor *base, int ndim, const int64_t *dims,
                       struct pactcl_tensor **out)
{
    if (!base || !out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_view: NULL argument");
    *out = NULL;
    int64_t n = shape_numel(ndim, dims);
    if (n < 0)
        return PACTCL_ESHAPE;
    if (n != pactcl_tensor_numel(base))
        return pactcl__set_error(PACTCL_ESHAPE, "pactcl_tensor_view: %lld elements cannot view %lld",
                                 (long long)n, (long long)pactcl_tensor_numel(base));
    return pactcl_tensor_slice(base, 0, ndim, dims, out);
}

void pactcl_tensor_free(struct pactcl_tensor *t)
{
    if (!t)
        return;
    if (t->owns_buffer && t->buffer)
        t->device->impl->iface->buffer_free(t->device->impl, t->buffer);
    free(t);
}

static int check_io(const struct pactcl_tensor *t, const void *host, size_t bytes, const char *fn)
{
    if (!t || !host)
        return pactcl__set_error(PACTCL_EINVAL, "%s: NULL argument", fn);
    if (bytes != pactcl_tensor_bytes(t))
        return pactcl__set_error(PACTCL_ESHAPE, "%s: %zu bytes given, the tensor holds %zu", fn, bytes,
                                 pactcl_tensor_bytes(t));
    return PACTCL_OK;
}

int pactcl_tensor_write(struct pactcl_tensor *t, const void *src, size_t bytes)
{
    int rc = check_io(t, src, bytes, "pactcl_tensor_write");
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl_plugin_device *d = t->device->impl;
    return d->iface->buffer_write(d, t->buffer, t->offset, src, bytes);
}

int pactcl_tensor_read(const struct pactcl_tensor *t, void *dst, size_t bytes)
{
    int rc = check_io(t, dst, bytes, "pactcl_tensor_read");
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl_plugin_device *d = t->device->impl;
    return d->iface->buffer_read(d, t->buffer, t->offset, dst, bytes);
}

int pactcl_tensor_zero(struct pactcl_tensor *t)
{
    if (!t)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_zero: tensor is NULL");
    struct pactcl_plugin_device *d = t->device->impl;
    return d->iface->buffer_zero(d, t->buffer, t->offset, pactcl_tensor_bytes(t));
}

int pactcl_tensor_copy(struct pactcl_tensor *dst, const struct pactcl_tensor *src)
{
    if (!dst || !src)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_copy: NULL argument");
    if (dst->device != src->device)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_tensor_copy: tensors live on different devices");
    if (dst->dtype != src->dtype || pactcl_tensor_numel(dst) != pactcl_tensor_numel(src))
        return pactcl__set_error(PACTCL_ESHAPE, "pactcl_tensor_copy: dtype or size mismatch");
    struct pactcl_plugin_device *d = dst->device->impl;
    return d->iface->buffer_copy(d, dst->buffer, dst->offset, src->buffer, src->offset,
                                 pactcl_tensor_bytes(dst));
}
