/*
 * ocl_errors.c: OpenCL error names, and the translation of a failed CL call
 * into a pactcl status with a message naming the device, the op and the call.
 * Allocation failures become PACTCL_ENOMEM with a hint, everything else
 * PACTCL_EDEVICE: a user can act on the first, a developer needs the second.
 */
#include "ocl_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *pactcl_ocl_error_name(cl_int err)
{
    switch (err) {
#define E_(x)                                                                                      \
    case x:                                                                                        \
        return #x;
        E_(CL_SUCCESS)
        E_(CL_DEVICE_NOT_FOUND)
        E_(CL_DEVICE_NOT_AVAILABLE)
        E_(CL_COMPILER_NOT_AVAILABLE)
        E_(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        E_(CL_OUT_OF_RESOURCES)
        E_(CL_OUT_OF_HOST_MEMORY)
        E_(CL_PROFILING_INFO_NOT_AVAILABLE)
        E_(CL_MEM_COPY_OVERLAP)
        E_(CL_IMAGE_FORMAT_MISMATCH)
        E_(CL_IMAGE_FORMAT_NOT_SUPPORTED)
        E_(CL_BUILD_PROGRAM_FAILURE)
        E_(CL_MAP_FAILURE)
        E_(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        E_(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        E_(CL_COMPILE_PROGRAM_FAILURE)
        E_(CL_LINKER_NOT_AVAILABLE)
        E_(CL_LINK_PROGRAM_FAILURE)
        E_(CL_DEVICE_PARTITION_FAILED)
        E_(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
        E_(CL_INVALID_VALUE)
        E_(CL_INVALID_DEVICE_TYPE)
        E_(CL_INVALID_PLATFORM)
        E_(CL_INVALID_DEVICE)
        E_(CL_INVALID_CONTEXT)
        E_(CL_INVALID_QUEUE_PROPERTIES)
        E_(CL_INVALID_COMMAND_QUEUE)
        E_(CL_INVALID_HOST_PTR)
        E_(CL_INVALID_MEM_OBJECT)
        E_(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
        E_(CL_INVALID_IMAGE_SIZE)
        E_(CL_INVALID_SAMPLER)
        E_(CL_INVALID_BINARY)
        E_(CL_INVALID_BUILD_OPTIONS)
        E_(CL_INVALID_PROGRAM)
        E_(CL_INVALID_PROGRAM_EXECUTABLE)
        E_(CL_INVALID_KERNEL_NAME)
        E_(CL_INVALID_KERNEL_DEFINITION)
        E_(CL_INVALID_KERNEL)
        E_(CL_INVALID_ARG_INDEX)
        E_(CL_INVALID_ARG_VALUE)
        E_(CL_INVALID_ARG_SIZE)
        E_(CL_INVALID_KERNEL_ARGS)
        E_(CL_INVALID_WORK_DIMENSION)
        E_(CL_INVALID_WORK_GROUP_SIZE)
        E_(CL_INVALID_WORK_ITEM_SIZE)
        E_(CL_INVALID_GLOBAL_OFFSET)
        E_(CL_INVALID_EVENT_WAIT_LIST)
        E_(CL_INVALID_EVENT)
        E_(CL_INVALID_OPERATION)
        E_(CL_INVALID_GL_OBJECT)
        E_(CL_INVALID_BUFFER_SIZE)
        E_(CL_INVALID_MIP_LEVEL)
        E_(CL_INVALID_GLOBAL_WORK_SIZE)
        E_(CL_INVALID_PROPERTY)
        E_(CL_INVALID_IMAGE_DESCRIPTOR)
        E_(CL_INVALID_COMPILER_OPTIONS)
        E_(CL_INVALID_LINKER_OPTIONS)
        E_(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E_
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "unknown OpenCL error";
}

int pactcl_ocl_error(int status, const char *fmt, ...)
{
    /* host->set_error takes no va_list: format here, hand over the text. */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pactcl_ocl_host->set_error(status, "%s", msg);
}

static int is_alloc_failure(cl_int err)
{
    return err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
           err == CL_OUT_OF_HOST_MEMORY;
}

void pactcl_ocl_drain(const struct pactcl_ocl_device *d)
{
    if (d->queue)
        (void)clFinish(d->queue); /* a lost device fails it at once: nothing to do then */
}

int pactcl_ocl_fail(const struct pactcl_ocl_device *d, const char *call, cl_int err)
{
    const char *what = d->what ? d->what : "opencl";
    /* Commands queued before the failure still run and may write host memory
     * (a pending non-blocking read) or buffers the caller frees as soon as it
     * sees the error: let them finish first. */
    pactcl_ocl_drain(d);
    /* NVIDIA and AMD drivers also return CL_OUT_OF_RESOURCES for a kernel
     * that faulted and for a lost device: say so rather than only blame memory. */
    if (err == CL_OUT_OF_RESOURCES)
        return pactcl_ocl_error(PACTCL_ENOMEM,
                                "%s on %s: %s failed: %s (%d): the device ran out of resources, "
                                "or a kernel faulted or the device was lost (drivers report all "
                                "three this way); if it persists, try a smaller batch",
                                what, d->id_str, call, pactcl_ocl_error_name(err), (int)err);
    if (is_alloc_failure(err))
        return pactcl_ocl_error(PACTCL_ENOMEM,
                                "%s on %s: %s failed: %s (%d): the device ran out of memory or "
                                "resources; try a smaller batch",
                                what, d->id_str, call, pactcl_ocl_error_name(err), (int)err);
    return pactcl_ocl_error(PACTCL_EDEVICE, "%s on %s: %s failed: %s (%d)", what, d->id_str, call,
                            pactcl_ocl_error_name(err), (int)err);
}

int pactcl_ocl_fail_alloc(const struct pactcl_ocl_device *d, size_t bytes, cl_int err)
{
    const char *what = d->what ? d->what : "opencl";
    if (err == CL_SUCCESS || is_alloc_failure(err) || err == CL_INVALID_BUFFER_SIZE)
        return pactcl_ocl_error(PACTCL_ENOMEM,
                                "%s on %s: cannot allocate %zu bytes of device memory (%s%s%llu of "
                                "%llu bytes in use); try a smaller batch",
                                what, d->id_str, bytes,
                                err == CL_SUCCESS ? "" : pactcl_ocl_error_name(err),
                                err == CL_SUCCESS ? "" : ", ", (unsigned long long)d->live_bytes,
                                (unsigned long long)d->global_mem);
    return pactcl_ocl_fail(d, "clCreateBuffer", err);
}
