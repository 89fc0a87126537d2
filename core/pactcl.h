/*
 * pactcl.h: the public C API of libpactcl.
 *
 * Every function returns PACTCL_OK (0) or a negative pactcl_status; on failure
 * pactcl_last_error() holds a one-line message (per thread) naming the file,
 * flag, tensor or shape at fault.  The library never exits or aborts.
 *
 * Objects:
 *   pactcl_context  the loaded plugins and the devices they expose
 *   pactcl_device   one device (the CPU, an OpenCL device, ...) with its ops
 *   pactcl_tensor   a typed, shaped region of a device buffer
 */
#ifndef PACTCL_H
#define PACTCL_H

#include <stddef.h>
#include <stdint.h>

#include "pactcl-ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PACTCL_VERSION_STRING "0.1.0"

/* X(ID, value, message) */
#define PACTCL_STATUS_LIST(X)                                                  \
    X(OK, 0, "success")                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(ESHAPE, -3, "tensor shape or dtype mismatch")                            \
    X(EUNSUPPORTED, -4, "operation not supported by the device")               \
    X(EIO, -5, "input/output error")                                           \
    X(EFORMAT, -6, "malformed or unsupported file content")                    \
    X(EPLUGIN, -7, "plugin refused")                                           \
    X(EDEVICE, -8, "device error")                                             \
    X(ENOTFOUND, -9, "not found")                                              \
    X(EAMBIGUOUS, -10, "ambiguous name")                                       \
    X(EINTERNAL, -11, "internal error")                                        \
    X(EINTERRUPTED, -12, "interrupted")                                        \
    X(ENUMERIC, -13, "non-finite value (NaN or infinity)")

enum pactcl_status {
#define PACTCL_STATUS_ENUM_(id, value, msg) PACTCL_##id = value,
    PACTCL_STATUS_LIST(PACTCL_STATUS_ENUM_)
#undef PACTCL_STATUS_ENUM_
};

/* A static description of a status code ("invalid argument"). */
const char *pactcl_strerror(int status);
/* The message of the last failure on this thread ("" when none). */
const char *pactcl_last_error(void);

/* ---- logging ----------------------------------------------------------- */
enum pactcl_log_level {
    PACTCL_LOG_ERROR = 0,
    PACTCL_LOG_WARN = 1,
    PACTCL_LOG_INFO = 2,
    PACTCL_LOG_DEBUG = 3
};
/* Messages at or below the level are written to stderr.  The default comes from
 * PACTCL_LOG (error|warn|info|debug), else warn. */
void pactcl_log_set_level(enum pactcl_log_level level);
enum pactcl_log_level pactcl_log_get_level(void);

/* ---- context: plugins and devices --------------------------------------- */
typedef struct pactcl_context pactcl_context;
typedef struct pactcl_device pactcl_device;

struct pactcl_context_options {
    /* Plugin files to load after the directories (like --plugin FILE). */
    const char *const *plugin_files;
    int n_plugin_files;
    /* Skip the installed plugin directory (tests use only PACTCL_PLUGIN_PATH). */
    int skip_installed_dir;
    /* Skip the directories listed in PACTCL_PLUGIN_PATH. */
    int skip_env_path;
};

/* Loads plugins from, in order: the installed plugin dir, each dir of
 * PACTCL_PLUGIN_PATH (':'-separated), then opts->plugin_files.  A plugin that
 * cannot be loaded is recorded as refused (see below) and is not an error;
 * a plugin file named explicitly that is refused is not an error either, but is
 * listed.  opts may be NULL. */
int pactcl_context_create(const struct pactcl_context_options *opts, pactcl_context **out);
void pactcl_context_free(pactcl_context *ctx);

int pactcl_context_device_count(const pactcl_context *ctx);
pactcl_device *pactcl_context_device(const pactcl_context *ctx, int index);

/* Resolves a --device value: "cpu", "opencl:P:D", "gpu" (first GPU), or a
 * case-insensitive part of a device name or id.  An unknown or ambiguous name
 * fails with a message listing the choices. */
int pactcl_context_find_device(const pactcl_context *ctx, const char *spec, pactcl_device **out);

/* Plugins that were loaded, and what they report (e.g. "no OpenCL platform"). */
int pactcl_context_plugin_count(const pactcl_context *ctx);
const char *pactcl_context_plugin_name(const pactcl_context *ctx, int index);
const char *pactcl_context_plugin_path(const pactcl_context *ctx, int index);
const char *pactcl_context_plugin_status(const pactcl_context *ctx, int index);

/* Plugin files that were refused, with the reason. */
int pactcl_context_refused_count(const pactcl_context *ctx);
const char *pactcl_context_refused_path(const pactcl_context *ctx, int index);
const char *pactcl_context_refused_reason(const pactcl_context *ctx, int index);

/* The directory searched first (compiled in). */
const char *pactcl_installed_plugin_dir(void);

/* ---- devices ------------------------------------------------------------ */
enum pactcl_device_kind {
    PACTCL_DEVICE_CPU = 0,
    PACTCL_DEVICE_GPU = 1,
    PACTCL_DEVICE_ACCELERATOR = 2,
    PACTCL_DEVICE_OTHER = 3
};

const char *pactcl_device_id(const pactcl_device *dev);      /* "cpu", "opencl:0:1" */
const char *pactcl_device_name(const pactcl_device *dev);    /* the driver's name */
const char *pactcl_device_backend(const pactcl_device *dev); /* plugin name */
enum pactcl_device_kind pactcl_device_kind(const pactcl_device *dev);
const char *pactcl_device_kind_name(enum pactcl_device_kind kind);
uint64_t pactcl_device_memory(const pactcl_device *dev); /* bytes, 0 if unknown */
/* Waits until every op queued on the device has finished. */
int pactcl_device_sync(pactcl_device *dev);
/* A backend-specific handle by name (OpenCL: "cl_context",
 * "cl_command_queue", "cl_device_id", "host_reads" — a uint64_t count of
 * device-to-host reads); NULL when the backend has none. */
void *pactcl_device_native(pactcl_device *dev, const char *what);

/* Name of the provider that runs `op` on `dev` for a call like `call`
 * (the device's own backend, or a vendor plugin's override). */
const char *pactcl_device_op_provider(pactcl_device *dev, const struct pactcl_op_call *call);

/* ---- tensors ------------------------------------------------------------ */
struct pactcl_buffer; /* device memory, defined in pactcl-plugin.h */

struct pactcl_tensor {
    struct pactcl_buffer *buffer;
    size_t offset; /* bytes into buffer */
    enum pactcl_dtype dtype;
    int ndim;
    int64_t dims[PACTCL_MAX_DIMS];
    pactcl_device *device;
    int owns_buffer; /* 0 for views */
};

size_t pactcl_dtype_size(enum pactcl_dtype dtype);
const char *pactcl_dtype_name(enum pactcl_dtype dtype);
int64_t pactcl_tensor_numel(const struct pactcl_tensor *t);
size_t pactcl_tensor_bytes(const struct pactcl_tensor *t);

/* A new zero-filled tensor on `dev`. ndim 1..PACTCL_MAX_DIMS, every dim > 0. */
int pactcl_tensor_create(pactcl_device *dev, enum pactcl_dtype dtype, int ndim,
                         const int64_t *dims, struct pactcl_tensor **out);
/* A view of `base` with another shape and the same number of elements.
 * Free views before their base. */
int pactcl_tensor_view(struct pactcl_tensor *base, int ndim, const int64_t *dims,
                       struct pactcl_tensor **out);
/* A view of `numel(dims)` elements of `base` starting at element `offset`
 * (e.g. one row of a metrics table).  Free views before their base. */
int pactcl_tensor_slice(struct pactcl_tensor *base, int64_t offset, int ndim, const int64_t *dims,
                        struct pactcl_tensor **out);
void pactcl_tensor_free(struct pactcl_tensor *t);

/* Host <-> device copies of the whole tensor; `bytes` must equal its size. */
int pactcl_tensor_write(struct pactcl_tensor *t, const void *src, size_t bytes);
int pactcl_tensor_read(const struct pactcl_tensor *t, void *dst, size_t bytes);
int pactcl_tensor_zero(struct pactcl_tensor *t);
int pactcl_tensor_copy(struct pactcl_tensor *dst, const struct pactcl_tensor *src);

/* ---- ops ---------------------------------------------------------------- */
const char *pactcl_op_name(enum pactcl_op op);
int pactcl_op_nargs(enum pactcl_op op);
/* Looks an op up by its name ("hardswish_fwd"); -1 when unknown. */
int pactcl_op_from_name(const char *name);

/* Validates `call` (count, dtypes, shapes, devices) and runs it on `dev`
 * through the chosen provider.  Ops are queued: results are visible to later
 * ops at once, and to the host after pactcl_tensor_read/pactcl_device_sync. */
int pactcl_op_run(pactcl_device *dev, const struct pactcl_op_call *call);

/* Only the validation step of pactcl_op_run. */
int pactcl_op_check(const struct pactcl_op_call *call);

#ifdef __cplusplus
}
#endif

#endif /* PACTCL_H */
