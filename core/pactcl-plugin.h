/*
 * pactcl-plugin.h: the ABI between libpactcl and its plugins.
 *
 * A plugin is a shared object (libtool -module -avoid-version) that exports
 * one data symbol:
 *
 *     const struct pactcl_plugin pactcl_plugin = { PACTCL_PLUGIN_ABI_VERSION, ... };
 *
 * The loader reads `abi_version` from that symbol before it calls any function
 * of the plugin, and refuses the file (naming both versions) when it differs.
 * It then calls init(); a plugin that fails init is refused with the message
 * it set through host->set_error.
 *
 * A plugin can play two roles, either or both:
 *  - a backend: it exposes devices (device_count/device_get), each of which
 *    allocates buffers and runs the whole op set;
 *  - an override provider: it offers faster implementations of some ops for
 *    devices it recognises (override_count/override_get).  For each call the
 *    core picks the highest-priority override whose `supports` accepts it, and
 *    otherwise the device's own backend.  PACTCL_DISABLE_OVERRIDES=op1,op2 (or
 *    "all") switches overrides off per op; PACTCL_LOG=debug shows each choice.
 *
 * Memory: every buffer belongs to one device and is created by that device's
 * backend.  `native` is the backend's handle: for devices whose
 * `host_addressable` is 1 (the CPU backend) it is a host pointer to the
 * buffer's first byte; for the OpenCL backend it is a cl_mem.  An override
 * must only touch buffers of devices it claimed.
 *
 * Threading: the core calls a device from one thread at a time.
 */
#ifndef PACTCL_PLUGIN_H
#define PACTCL_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "pactcl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below changes layout or meaning. */
#define PACTCL_PLUGIN_ABI_VERSION 1u

/* Name of the exported `const struct pactcl_plugin`. */
#define PACTCL_PLUGIN_SYMBOL "pactcl_plugin"

struct pactcl_buffer {
    struct pactcl_plugin_device *device; /* owner */
    size_t size;                         /* bytes */
    void *native;                        /* host pointer or backend handle, see above */
    void *context;                       /* backend-private */
};

/* Host pointer to a tensor's first element; valid only on host_addressable devices. */
#define PACTCL_TENSOR_HOST(t) ((void *)((char *)(t)->buffer->native + (t)->offset))

/* Number of elements of a tensor (plugins need not link libpactcl). */
static inline int64_t pactcl_plugin_numel(const struct pactcl_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    return n;
}

/* Services the core offers plugins. */
struct pactcl_host {
    uint32_t abi_version;
    /* Records a failure message for the current thread and returns `status`
     * (a negative pactcl_status) so that a plugin can `return host->set_error(...)`. */
    int (*set_error)(int status, const char *fmt, ...);
    /* Writes a log line when `level` is enabled. */
    void (*log)(enum pactcl_log_level level, const char *fmt, ...);
    /* Whether `level` is enabled, to skip building expensive messages. */
    int (*log_enabled)(enum pactcl_log_level level);
};

struct pactcl_device_info {
    const char *id;          /* unique selector: "cpu", "opencl:0:1" (required) */
    const char *name;        /* human name from the driver (required) */
    const char *vendor;      /* may be "" */
    const char *driver;      /* driver version, may be "" */
    enum pactcl_device_kind kind;
    uint64_t memory_bytes;   /* 0 if unknown */
    uint64_t max_alloc_bytes; /* largest single buffer, 0 if unlimited */
    int host_addressable;    /* 1 if buffer->native is a host pointer */
};

/* Every slot is required unless marked optional. */
struct pactcl_device_iface {
    /* Allocates `size` (> 0) bytes of zeroed device memory into *out.
     * Returns PACTCL_ENOMEM (naming the size) when it cannot. */
    int (*buffer_alloc)(struct pactcl_plugin_device *dev, size_t size, struct pactcl_buffer **out);
    void (*buffer_free)(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf);
    /* Copies between host memory and [offset, offset+size) of a buffer; the
     * core has checked the range.  Reads complete before they return. */
    int (*buffer_write)(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                        const void *src, size_t size);
    int (*buffer_read)(struct pactcl_plugin_device *dev, const struct pactcl_buffer *buf,
                       size_t offset, void *dst, size_t size);
    /* Device-side copy between two buffers of this device. */
    int (*buffer_copy)(struct pactcl_plugin_device *dev, struct pactcl_buffer *dst, size_t dst_offset,
                       const struct pactcl_buffer *src, size_t src_offset, size_t size);
    /* Sets [offset, offset+size) to zero bytes. */
    int (*buffer_zero)(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                       size_t size);
    /* Returns 1 if the device runs this (already validated) call, else 0.
     * A backend device must support every op of pactcl-ops.h. */
    int (*supports)(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call);
    /* Runs (or queues) a validated call. */
    int (*run)(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call);
    /* Waits for all queued work. */
    int (*sync)(struct pactcl_plugin_device *dev);
    /* Optional: backend-specific handles for override providers, by name
     * (OpenCL: "cl_context", "cl_command_queue", "cl_device_id").  NULL if unknown. */
    void *(*get_native)(struct pactcl_plugin_device *dev, const char *what);
};

struct pactcl_plugin_device {
    const struct pactcl_device_iface *iface;
    struct pactcl_device_info info;
    const char *backend; /* the owning plugin's name, filled by the plugin */
    void *context;       /* backend-private */
};

/* A set of op implementations offered for devices the provider recognises. */
struct pactcl_override {
    const char *name; /* shown in debug logs and pactcl_device_op_provider */
    int priority;     /* higher wins; the device's own backend counts as 0 */
    /* Returns 1 if this override may serve `dev` at all (vendor, name, backend). */
    int (*claims_device)(void *plugin_ctx, const struct pactcl_plugin_device *dev);
    /* Returns 1 if it runs this call on `dev` (only asked for claimed devices). */
    int (*supports)(void *plugin_ctx, const struct pactcl_plugin_device *dev,
                    const struct pactcl_op_call *call);
    int (*run)(void *plugin_ctx, struct pactcl_plugin_device *dev, const struct pactcl_op_call *call);
};

/* The descriptor every plugin defines (declared here so the compiler checks it). */
struct pactcl_plugin;
extern const struct pactcl_plugin pactcl_plugin;

struct pactcl_plugin {
    uint32_t abi_version; /* PACTCL_PLUGIN_ABI_VERSION; read before anything runs */
    const char *name;     /* short, unique: "cpu", "opencl", "example" */
    const char *description;
    /* Starts the plugin; *plugin_ctx is passed back to every other slot.
     * Non-zero return refuses the plugin (its message via host->set_error). */
    int (*init)(const struct pactcl_host *host, void **plugin_ctx);
    /* Optional: releases everything init and the devices allocated. */
    void (*shutdown)(void *plugin_ctx);
    /* Optional (backends): the devices this plugin exposes. */
    int (*device_count)(void *plugin_ctx);
    struct pactcl_plugin_device *(*device_get)(void *plugin_ctx, int index);
    /* Optional: a line saying why there are no devices, or other status ("" if none). */
    const char *(*status)(void *plugin_ctx);
    /* Optional (override providers). */
    int (*override_count)(void *plugin_ctx);
    const struct pactcl_override *(*override_get)(void *plugin_ctx, int index);
};

#ifdef __cplusplus
}
#endif

#endif /* PACTCL_PLUGIN_H */
