/*
 * ocl_device.c: a device's context and in-order queue (opened on first use),
 * its memory pool, the buffer slots of the device iface, sync and the
 * on-device error flag.
 *
 * Memory is pooled because a training step allocates and frees the same
 * shapes every iteration: buffer_free keeps the cl_mem in a free list by size
 * class and buffer_alloc takes it back, zeroing it with clEnqueueFillBuffer.
 * The queue is in order, so a cl_mem freed while kernels still use it is
 * only touched again by commands queued after them.  Pooled memory is
 * released at shutdown, or when an allocation fails (then retried once).
 */
#include "ocl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports asynchronous driver errors (e.g. a lost device) in the log. */
static void CL_CALLBACK context_notify(const char *errinfo, const void *private_info, size_t cb,
                                       void *user_data)
{
    const struct pactcl_ocl_device *d = user_data;
    pactcl_ocl_host->log(PACTCL_LOG_WARN, "opencl %s: driver reports: %s", d->id_str, errinfo);
}

/* Remembers why the device cannot be used, for this and every later call. */
static int open_failed(struct pactcl_ocl_device *d, int status, const char *msg)
{
    free(d->open_error);
    d->open_error = strdup(msg);
    d->open_status = status;
    d->state = -1;
    return pactcl_ocl_error(status, "%s", msg);
}

static int open_failed_cl(struct pactcl_ocl_device *d, const char *step, cl_int err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s (%s): cannot %s: %s (%d)", d->id_str, d->name, step,
             pactcl_ocl_error_name(err), (int)err);
    return open_failed(d, PACTCL_EDEVICE, msg);
}

int pactcl_ocl_device_open(struct pactcl_ocl_device *d)
{
    if (d->state == 1)
        return PACTCL_OK;
    if (d->state < 0)
        return pactcl_ocl_error(d->open_status, "%s",
                                d->open_error ? d->open_error : "device failed to open");
    if (!d->opencl_c_12) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s (%s) supports only OpenCL C 1.1; pactcl needs OpenCL C 1.2",
                 d->id_str, d->name);
        return open_failed(d, PACTCL_EUNSUPPORTED, msg);
    }
    cl_int err;
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform,
                                           0};
    d->ctx = clCreateContext(props, 1, &d->id, context_notify, d, &err);
    if (!d->ctx)
        return open_failed_cl(d, "create a context", err);
    /* In order: every op sees the results of the ops queued before it, and the
     * pool may reuse memory without events. */
    d->queue = clCreateCommandQueue(d->ctx, d->id, 0, &err);
    if (!d->queue) {
        clReleaseContext(d->ctx);
        d->ctx = NULL;
        return open_failed_cl(d, "create a command queue", err);
    }
    d->error_flag = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, sizeof(cl_int), NULL, &err);
    if (d->error_flag) {
        const cl_int zero = 0;
        err = clEnqueueFillBuffer(d->queue, d->error_flag, &zero, sizeof zero, 0, sizeof zero, 0,
                                  NULL, NULL);
    }
    if (err != CL_SUCCESS) {
        pactcl_ocl_device_close(d);
        return open_failed_cl(d, "create the error flag", err);
    }
    d->state = 1;
    pactcl_ocl_host->log(PACTCL_LOG_INFO, "opencl %s: opened %s (%s, driver %s)", d->id_str,
                         d->name, d->platform_version, d->driver);
    return PACTCL_OK;
}

static void pool_trim(struct pactcl_ocl_device *d)
{
    for (int i = 0; i < d->n_pool; i++)
        clReleaseMemObject(d->pool[i].mem);
    d->n_pool = 0;
    d->pooled_bytes = 0;
}

void pactcl_ocl_device_close(struct pactcl_ocl_device *d)
{
    if (d->queue)
        clFinish(d->queue);
    pool_trim(d);
    free(d->pool);
    d->pool = NULL;
    d->cap_pool = 0;
    pactcl_ocl_programs_release(d);
    if (d->error_flag)
        clReleaseMemObject(d->error_flag);
    if (d->queue)
        clReleaseCommandQueue(d->queue);
    if (d->ctx)
        clReleaseContext(d->ctx);
    d->error_flag = NULL;
    d->queue = NULL;
    d->ctx = NULL;
    d->state = 0;
}

/* ---- memory pool ----------------------------------------------------------- */

/* Size classes four per power of two (<= 25% slack), at least 256 bytes,
 * which also keeps every buffer's start aligned for vector loads. */
static size_t size_class(const struct pactcl_ocl_device *d, size_t size)
{
    size_t step = 256;
    while (step * 8 <= size)
        step *= 2;
    size_t cap = (size + step - 1) / step * step;
    if (d->max_alloc && cap > d->max_alloc)
        cap = size > d->max_alloc ? size : (size_t)d->max_alloc;
    return cap;
}

static cl_mem pool_take(struct pactcl_ocl_device *d, size_t cap)
{
    /* Most recently freed first: its pages are the likeliest to be warm. */
    for (int i = d->n_pool - 1; i >= 0; i--) {
        if (d->pool[i].cap == cap) {
            cl_mem m = d->pool[i].mem;
            d->pool[i] = d->pool[--d->n_pool];
            d->pooled_bytes -= cap;
            return m;
        }
    }
    return NULL;
}

static void pool_put(struct pactcl_ocl_device *d, cl_mem m, size_t cap)
{
    if (d->n_pool == d->cap_pool) {
        int n = d->cap_pool ? 2 * d->cap_pool : 64;
        struct pactcl_ocl_pooled *np = realloc(d->pool, (size_t)n * sizeof *np);
        if (!np) {
            clReleaseMemObject(m);
            return;
        }
        d->pool = np;
        d->cap_pool = n;
    }
    d->pool[d->n_pool++] = (struct pactcl_ocl_pooled){m, cap};
    d->pooled_bytes += cap;
}

/* A cl_mem of `cap` bytes, pooled or new, its first `zero_bytes` zeroed.
 * Lazy drivers report a failed allocation only when the memory is first
 * used, so the zeroing (the first use of a new buffer) is part of the attempt
 * that is retried after releasing the pool. */
static int mem_get(struct pactcl_ocl_device *d, size_t cap, size_t zero_bytes, cl_mem *out)
{
    cl_mem m = pool_take(d, cap);
    if (!m && d->live_bytes + d->pooled_bytes + cap > d->global_mem)
        pool_trim(d);
    /* Beyond the device's memory some drivers do not fail but overcommit
     * (PoCL takes host memory until the OOM killer ends the process). */
    if (!m && d->global_mem && d->live_bytes + cap > d->global_mem)
        return pactcl_ocl_fail_alloc(d, cap, CL_SUCCESS);
    cl_int err = CL_SUCCESS;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!m)
            m = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, cap, NULL, &err);
        if (m && zero_bytes) {
            const cl_uint zero = 0;
            size_t pat = zero_bytes % 4 == 0 ? 4 : 1;
            err = clEnqueueFillBuffer(d->queue, m, &zero, pat, 0, zero_bytes, 0, NULL, NULL);
        }
        if (m && err == CL_SUCCESS) {
            d->live_bytes += cap;
            *out = m;
            return PACTCL_OK;
        }
        if (m)
            clReleaseMemObject(m);
        m = NULL;
        if (d->n_pool == 0)
            break;
        pool_trim(d);
    }
    return pactcl_ocl_fail_alloc(d, cap, err);
}

static void mem_put(struct pactcl_ocl_device *d, cl_mem m, size_t cap)
{
    d->live_bytes -= cap;
    pool_put(d, m, cap);
}

int pactcl_ocl_scratch(struct pactcl_ocl_device *d, size_t bytes, cl_mem *out)
{
    return mem_get(d, size_class(d, bytes ? bytes : 1), 0, out);
}

void pactcl_ocl_scratch_release(struct pactcl_ocl_device *d, cl_mem mem, size_t bytes)
{
    if (mem)
        mem_put(d, mem, size_class(d, bytes ? bytes : 1));
}

size_t pactcl_ocl_chunk_budget(const struct pactcl_ocl_device *d)
{
    size_t budget = (size_t)128 << 20;
    if (d->max_alloc && budget > d->max_alloc / 2)
        budget = (size_t)(d->max_alloc / 2);
    return budget;
}

/* ---- the iface's buffer slots ---------------------------------------------- */

static int ocl_buffer_alloc(struct pactcl_plugin_device *dev, size_t size,
                            struct pactcl_buffer **out)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "buffer_alloc";
    *out = NULL;
    int rc = pactcl_ocl_device_open(d);
    if (rc != PACTCL_OK)
        return rc;
    if (d->max_alloc && size > d->max_alloc)
        return pactcl_ocl_error(PACTCL_ENOMEM,
                                "buffer_alloc on %s: %zu bytes exceed the device's largest "
                                "allocation (%llu bytes); try a smaller batch",
                                d->id_str, size, (unsigned long long)d->max_alloc);
    struct pactcl_ocl_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return pactcl_ocl_error(PACTCL_ENOMEM, "buffer_alloc on %s: out of host memory", d->id_str);
    size_t cap = size_class(d, size);
    cl_mem m;
    rc = mem_get(d, cap, cap, &m);
    if (rc != PACTCL_OK) {
        free(b);
        return rc;
    }
    b->pub.device = dev;
    b->pub.size = size;
    b->pub.native = m;
    b->pub.context = b;
    b->cap = cap;
    *out = &b->pub;
    return PACTCL_OK;
}

static void ocl_buffer_free(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf)
{
    if (!buf)
        return;
    struct pactcl_ocl_buffer *b = (struct pactcl_ocl_buffer *)buf;
    mem_put(pactcl_ocl_dev(dev), (cl_mem)buf->native, b->cap);
    free(b);
}

static int ocl_buffer_write(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf,
                            size_t offset, const void *src, size_t size)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "buffer_write";
    /* Blocking: the caller may reuse `src` as soon as we return. */
    cl_int err = clEnqueueWriteBuffer(d->queue, (cl_mem)buf->native, CL_TRUE, offset, size, src, 0,
                                      NULL, NULL);
    return err == CL_SUCCESS ? PACTCL_OK : pactcl_ocl_fail(d, "clEnqueueWriteBuffer", err);
}

/* Reads the error flag when an op that sets it ran since the last check.  The
 * read is queued without waiting: the caller's blocking read (or clFinish)
 * completes it, so the check costs no extra round trip. */
static int queue_flag_read(struct pactcl_ocl_device *d, cl_int *flag)
{
    *flag = 0;
    if (!d->flag_pending)
        return PACTCL_OK;
    d->host_reads++;
    cl_int err = clEnqueueReadBuffer(d->queue, d->error_flag, CL_FALSE, 0, sizeof *flag, flag, 0,
                                     NULL, NULL);
    if (err != CL_SUCCESS)
        return pactcl_ocl_fail(d, "clEnqueueReadBuffer(error flag)", err);
    return PACTCL_OK;
}

static int flag_result(struct pactcl_ocl_device *d, cl_int flag)
{
    if (!d->flag_pending)
        return PACTCL_OK;
    d->flag_pending = 0;
    if (flag == 0)
        return PACTCL_OK;
    const cl_int zero = 0;
    cl_int err = clEnqueueFillBuffer(d->queue, d->error_flag, &zero, sizeof zero, 0, sizeof zero, 0,
                                     NULL, NULL);
    if (err != CL_SUCCESS)
        return pactcl_ocl_fail(d, "clEnqueueFillBuffer(error flag)", err);
    return pactcl_ocl_error(PACTCL_EINVAL,
                            "%s on %s: a label is outside [0, number of classes) in a batch queued "
                            "since the last sync (labels are checked on the device)",
                            pactcl_ocl_op_name((enum pactcl_op)(flag - 1)), d->id_str);
}

static int ocl_buffer_read(struct pactcl_plugin_device *dev, const struct pactcl_buffer *buf,
                           size_t offset, void *dst, size_t size)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "buffer_read";
    cl_int flag;
    int rc = queue_flag_read(d, &flag);
    if (rc != PACTCL_OK)
        return rc;
    d->host_reads++;
    cl_int err = clEnqueueReadBuffer(d->queue, (cl_mem)buf->native, CL_TRUE, offset, size, dst, 0,
                                     NULL, NULL);
    if (err != CL_SUCCESS)
        return pactcl_ocl_fail(d, "clEnqueueReadBuffer", err);
    return flag_result(d, flag);
}

static int ocl_buffer_copy(struct pactcl_plugin_device *dev, struct pactcl_buffer *dst,
                           size_t dst_offset, const struct pactcl_buffer *src, size_t src_offset,
                           size_t size)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "buffer_copy";
    cl_mem dm = (cl_mem)dst->native, sm = (cl_mem)src->native;
    cl_int err;
    if (dm == sm && dst_offset < src_offset + size && src_offset < dst_offset + size) {
        /* OpenCL refuses overlapping copies (CL_MEM_COPY_OVERLAP): go through scratch. */
        cl_mem tmp;
        int rc = pactcl_ocl_scratch(d, size, &tmp);
        if (rc != PACTCL_OK)
            return rc;
        err = clEnqueueCopyBuffer(d->queue, sm, tmp, src_offset, 0, size, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueCopyBuffer(d->queue, tmp, dm, 0, dst_offset, size, 0, NULL, NULL);
        pactcl_ocl_scratch_release(d, tmp, size);
    } else {
        err = clEnqueueCopyBuffer(d->queue, sm, dm, src_offset, dst_offset, size, 0, NULL, NULL);
    }
    return err == CL_SUCCESS ? PACTCL_OK : pactcl_ocl_fail(d, "clEnqueueCopyBuffer", err);
}

static int ocl_buffer_zero(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf,
                           size_t offset, size_t size)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "buffer_zero";
    const cl_uint zero = 0;
    size_t pat = (offset % 4 == 0 && size % 4 == 0) ? 4 : 1;
    cl_int err =
        clEnqueueFillBuffer(d->queue, (cl_mem)buf->native, &zero, pat, offset, size, 0, NULL, NULL);
    return err == CL_SUCCESS ? PACTCL_OK : pactcl_ocl_fail(d, "clEnqueueFillBuffer", err);
}

static int ocl_sync(struct pactcl_plugin_device *dev)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    d->what = "sync";
    if (d->state != 1)
        return PACTCL_OK; /* nothing was ever queued */
    cl_int flag;
    int rc = queue_flag_read(d, &flag);
    if (rc != PACTCL_OK)
        return rc;
    cl_int err = clFinish(d->queue);
    if (err != CL_SUCCESS)
        return pactcl_ocl_fail(d, "clFinish", err);
    return flag_result(d, flag);
}

/* Handles for override providers: "cl_context", "cl_command_queue",
 * "cl_device_id", "cl_platform_id" (the handle itself), and "host_reads", a
 * pointer to this device's uint64_t count of device-to-host reads. */
static void *ocl_get_native(struct pactcl_plugin_device *dev, const char *what)
{
    struct pactcl_ocl_device *d = pactcl_ocl_dev(dev);
    if (!what)
        return NULL;
    if (strcmp(what, "host_reads") == 0)
        return &d->host_reads;
    if (strcmp(what, "cl_device_id") == 0)
        return d->id;
    if (strcmp(what, "cl_platform_id") == 0)
        return d->platform;
    d->what = "get_native";
    if (pactcl_ocl_device_open(d) != PACTCL_OK)
        return NULL;
    if (strcmp(what, "cl_context") == 0)
        return d->ctx;
    if (strcmp(what, "cl_command_queue") == 0)
        return d->queue;
    return NULL;
}

const struct pactcl_device_iface pactcl_ocl_iface = {
    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .buffer_write = ocl_buffer_write,
    .buffer_read = ocl_buffer_read,
    .buffer_copy = ocl_buffer_copy,
    .buffer_zero = ocl_buffer_zero,
    .supports = pactcl_ocl_supports,
    .run = pactcl_ocl_run,
    .sync = ocl_sync,
    .get_native = ocl_get_native,
};
