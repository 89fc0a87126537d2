/*
 * ocl_internal.h: what the files of the OpenCL backend share: the plugin and
 * device structs, buffer pool, program cache, kernel launch helpers and the op
 * entry points that the dispatch table of ocl_plugin.c points to.
 *
 * All device-side indices are 32-bit (uint in the kernels): GPUs index faster
 * that way, and ocl_plugin.c refuses a call whose tensors exceed 2^32 elements
 * before any kernel sees it.
 */
#ifndef PACTCL_OCL_INTERNAL_H
#define PACTCL_OCL_INTERNAL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <stddef.h>
#include <stdint.h>

#include "pactcl-plugin.h"

#if defined(__GNUC__)
#define PACTCL_OCL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PACTCL_OCL_PRINTF(f, a)
#endif

/* Services of the core, set by init (the same table for every context). */
extern const struct pactcl_host *pactcl_ocl_host;

/* ---- devices, buffers ---------------------------------------------------- */

/* A kernel of a built program, with the work-group size it may use. */
struct pactcl_ocl_kernel {
    char *name;
    cl_kernel kernel;
    /* Largest power of two <= CL_KERNEL_WORK_GROUP_SIZE, the device's first
     * work-item dimension and 256: the tree reductions need a power of two. */
    size_t wg;
};

/* One program per (file, -D options) per device, built once per process. */
struct pactcl_ocl_program {
    char *file;    /* "pact", no extension */
    char *defines; /* "-DKSIZE=3 -DSTRIDE=1" or "" */
    cl_program program;
    struct pactcl_ocl_kernel **kernels; /* pointers stay valid while the list grows */
    int n_kernels;
};

/* A free device allocation, kept for reuse by a later alloc of its size class. */
struct pactcl_ocl_pooled {
    cl_mem mem;
    size_t cap;
};

struct pactcl_ocl_device {
    struct pactcl_plugin_device pub; /* first: the core hands us &pub */
    cl_platform_id platform;
    cl_device_id id;
    char *id_str, *name, *vendor, *driver, *platform_name, *platform_version;
    cl_ulong global_mem, max_alloc;
    size_t max_wg, max_item0;
    int correct_div_sqrt; /* CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT reported */
    int opencl_c_12;      /* OpenCL C 1.2 or later */
    int driver_caches;    /* PoCL and NVIDIA keep their own binary caches */

    /* Opened on first use; a device that fails keeps its message and does not
     * disturb the others. */
    int state; /* 0 not tried, 1 open, -1 failed */
    int open_status;
    char *open_error;
    cl_context ctx;
    cl_command_queue queue;

    struct pactcl_ocl_program **programs;
    int n_programs;

    struct pactcl_ocl_pooled *pool;
    int n_pool, cap_pool;
    size_t pooled_bytes, live_bytes;

    /* One int on the device that kernels validating labels set to the op id + 1;
     * sync() and buffer_read() read it when such an op ran since the last check. */
    cl_mem error_flag;
    int flag_pending;

    /* clEnqueueReadBuffer calls made by this device (get_native("host_reads")):
     * ops add none, so a test can prove a sequence of ops stays on the device. */
    uint64_t host_reads;

    /* The op or entry point running, for error messages. */
    const char *what;
};

struct pactcl_ocl_buffer {
    struct pactcl_buffer pub; /* first */
    size_t cap;               /* bytes of the cl_mem, a size class >= pub.size */
};

static inline struct pactcl_ocl_device *pactcl_ocl_dev(struct pactcl_plugin_device *d)
{
    return (struct pactcl_ocl_device *)d;
}

/* ocl_errors.c */
const char *pactcl_ocl_error_name(cl_int err);
/* Waits for the queue, ignoring errors: done before any failure is reported. */
void pactcl_ocl_drain(const struct pactcl_ocl_device *d);
/* Turns a failed CL call into PACTCL_ENOMEM (allocation failures, with the
 * size when known and a hint to use a smaller batch) or PACTCL_EDEVICE,
 * naming the op running on `d`, the call and the CL error. */
int pactcl_ocl_fail(const struct pactcl_ocl_device *d, const char *call, cl_int err);
/* An allocation of `bytes` failed with `err`; CL_SUCCESS: refused before
 * asking the driver because it would exceed the device's memory. */
int pactcl_ocl_fail_alloc(const struct pactcl_ocl_device *d, size_t bytes, cl_int err);
int pactcl_ocl_error(int status, const char *fmt, ...) PACTCL_OCL_PRINTF(2, 3);

/* ocl_device.c */
int pactcl_ocl_device_open(struct pactcl_ocl_device *d);
void pactcl_ocl_device_close(struct pactcl_ocl_device *d);
extern const struct pactcl_device_iface pactcl_ocl_iface;
/* Device memory for one op's temporaries, from the pool and not zeroed.
 * Giving it back right after the kernels are queued is safe: the queue is in
 * order, so a later user's commands run after them. */
int pactcl_ocl_scratch(struct pactcl_ocl_device *d, size_t bytes, cl_mem *out);
void pactcl_ocl_scratch_release(struct pactcl_ocl_device *d, cl_mem mem, size_t bytes);

/* ocl_ops.c: the iface's supports and run (the op table). */
int pactcl_ocl_supports(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call);
int pactcl_ocl_run(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call);
const char *pactcl_ocl_op_name(enum pactcl_op op);

/* ocl_program.c */
/* The kernel `kname` of kernels/<file>.cl built with `defines`, building the
 * program on first use (error message with the build log on failure). */
int pactcl_ocl_kernel_get(struct pactcl_ocl_device *d, const char *file, const char *defines,
                          const char *kname, const struct pactcl_ocl_kernel **out);
void pactcl_ocl_programs_release(struct pactcl_ocl_device *d);

/* Embedded kernel sources (ocl_kernel_sources.c, generated from kernels/). */
struct pactcl_ocl_source {
    const char *name; /* "pact" for kernels/pact.cl */
    const unsigned char *text;
    size_t len;
};
extern const struct pactcl_ocl_source pactcl_ocl_sources[];

/* ocl_launch.c */
struct pactcl_ocl_arg {
    size_t size;
    const void *value; /* NULL: __local memory of `size` bytes */
};
/* clang-format off */
#define PACTCL_OCL_ARG(v) { sizeof(v), &(v) }
#define PACTCL_OCL_LOCAL(bytes) { (bytes), NULL }
/* clang-format on */
#define PACTCL_OCL_NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Sets the arguments and queues a 1-D range of `global` work-items (rounded
 * up to a multiple of `local`; the kernels check bounds). */
int pactcl_ocl_enqueue(struct pactcl_ocl_device *d, const struct pactcl_ocl_kernel *k,
                       size_t global, size_t local, const struct pactcl_ocl_arg *args, int nargs);
/* One work-item per element of [0, n). */
int pactcl_ocl_enqueue_1d(struct pactcl_ocl_device *d, const struct pactcl_ocl_kernel *k, size_t n,
                          const struct pactcl_ocl_arg *args, int nargs);
/* Smallest power of two >= n, at most k->wg: a work-group for rows of n. */
size_t pactcl_ocl_wg_for(const struct pactcl_ocl_kernel *k, size_t n);
/* Splits a reduction of `m` elements per row into chunks for work-groups of
 * `wg` items; the count depends only on (m, wg), so results are reproducible. */
void pactcl_ocl_split(size_t m, size_t wg, cl_uint *groups, cl_uint *chunk);

/* Tensor arguments: the cl_mem and the element offset of the first element. */
static inline cl_mem pactcl_ocl_mem(const struct pactcl_tensor *t)
{
    return (cl_mem)t->buffer->native;
}

static inline cl_uint pactcl_ocl_off(const struct pactcl_tensor *t)
{
    size_t esize = (t->dtype == PACTCL_U8 || t->dtype == PACTCL_I8) ? 1 : 4;
    return (cl_uint)(t->offset / esize);
}

static inline cl_uint pactcl_ocl_numel(const struct pactcl_tensor *t)
{
    return (cl_uint)pactcl_plugin_numel(t);
}

/* ocl_reduce.c: per-channel sums over x laid out [outer][C][inner]. */
int pactcl_ocl_channel_sum(struct pactcl_ocl_device *d, cl_mem x, cl_uint xo, cl_uint outer,
                           cl_uint C, cl_uint inner, float divisor, cl_mem out, cl_uint oo);
/* y[o][c][i] += b[c] */
int pactcl_ocl_bias_add(struct pactcl_ocl_device *d, cl_mem y, cl_uint yo, cl_mem b, cl_uint bo,
                        cl_uint C, cl_uint inner, cl_uint n);
/* out[i] = (accumulate ? out[i] : 0) + sum_b part[b*len + i], b < nb */
int pactcl_ocl_batch_sum(struct pactcl_ocl_device *d, cl_mem part, cl_uint len, cl_uint nb,
                         int accumulate, cl_mem out, cl_uint oo);

/* ocl_blas.c: row-major C[b] = alpha*op(A[b])*op(B[b]) + beta*C[b] for
 * b < batch, offsets and strides in elements (CLBlast). */
struct pactcl_ocl_mat {
    cl_mem mem;
    size_t off, ld, stride;
    int trans;
};
int pactcl_ocl_gemm(struct pactcl_ocl_device *d, size_t m, size_t n, size_t k, float alpha,
                    struct pactcl_ocl_mat a, struct pactcl_ocl_mat b, float beta,
                    struct pactcl_ocl_mat c, size_t batch);

/* Bytes of scratch an op may take for a chunk of images (im2col columns,
 * per-image weight gradients): enough for large batches, bounded so that
 * the temporaries never dominate device memory. */
size_t pactcl_ocl_chunk_budget(const struct pactcl_ocl_device *d);

/* ---- ops (one entry per op id) -------------------------------------------- */
#define PACTCL_OCL_OP(fn) int fn(struct pactcl_ocl_device *d, const struct pactcl_op_call *call)

PACTCL_OCL_OP(pactcl_ocl_conv2d_fwd);
PACTCL_OCL_OP(pactcl_ocl_conv2d_bwd_data);
PACTCL_OCL_OP(pactcl_ocl_conv2d_bwd_filter);
PACTCL_OCL_OP(pactcl_ocl_dwconv_fwd);
PACTCL_OCL_OP(pactcl_ocl_dwconv_bwd_data);
PACTCL_OCL_OP(pactcl_ocl_dwconv_bwd_filter);
PACTCL_OCL_OP(pactcl_ocl_bn_fwd_train);
PACTCL_OCL_OP(pactcl_ocl_bn_fwd_eval);
PACTCL_OCL_OP(pactcl_ocl_bn_bwd);
PACTCL_OCL_OP(pactcl_ocl_relu_fwd);
PACTCL_OCL_OP(pactcl_ocl_relu_bwd);
PACTCL_OCL_OP(pactcl_ocl_hardswish_fwd);
PACTCL_OCL_OP(pactcl_ocl_hardswish_bwd);
PACTCL_OCL_OP(pactcl_ocl_hardsigmoid_fwd);
PACTCL_OCL_OP(pactcl_ocl_hardsigmoid_bwd);
PACTCL_OCL_OP(pactcl_ocl_avgpool_fwd);
PACTCL_OCL_OP(pactcl_ocl_avgpool_bwd);
PACTCL_OCL_OP(pactcl_ocl_se_scale_fwd);
PACTCL_OCL_OP(pactcl_ocl_se_scale_bwd);
PACTCL_OCL_OP(pactcl_ocl_add);
PACTCL_OCL_OP(pactcl_ocl_linear_fwd);
PACTCL_OCL_OP(pactcl_ocl_linear_bwd_data);
PACTCL_OCL_OP(pactcl_ocl_linear_bwd_weight);
PACTCL_OCL_OP(pactcl_ocl_dropout_fwd);
PACTCL_OCL_OP(pactcl_ocl_dropout_bwd);
PACTCL_OCL_OP(pactcl_ocl_softmax_ce_fwd);
PACTCL_OCL_OP(pactcl_ocl_softmax_ce_bwd);
PACTCL_OCL_OP(pactcl_ocl_topk_accuracy);
PACTCL_OCL_OP(pactcl_ocl_pact_fwd);
PACTCL_OCL_OP(pactcl_ocl_pact_bwd);
PACTCL_OCL_OP(pactcl_ocl_fq_channel_fwd);
PACTCL_OCL_OP(pactcl_ocl_fq_moving_avg_fwd);
PACTCL_OCL_OP(pactcl_ocl_ma_observe);
PACTCL_OCL_OP(pactcl_ocl_sgd_momentum);
PACTCL_OCL_OP(pactcl_ocl_quantize_i8);
PACTCL_OCL_OP(pactcl_ocl_conv2d_i8);
PACTCL_OCL_OP(pactcl_ocl_dwconv_i8);
PACTCL_OCL_OP(pactcl_ocl_linear_i8);

/* Shorthand for the op files: queue a kernel or return its error. */
#define PACTCL_OCL_TRY(x)                                                                          \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != PACTCL_OK)                                                                      \
            return rc_;                                                                            \
    } while (0)

#endif /* PACTCL_OCL_INTERNAL_H */
