/*
 * cl_fault_inject.c: an LD_PRELOAD library that makes the real OpenCL driver
 * fail on cue, so tests/ocl_faults.sh can provoke the faults a GPU produces in
 * the field (a kernel launch refused, a device lost mid-run, device memory
 * exhausted) on any OpenCL device, PoCL included, without touching pactcl.
 *
 * It sits between pactcl (and CLBlast) and the ICD loader: each wrapped call
 * counts, and once the configured count is reached it returns the configured
 * error instead of calling the driver.  PACTCL_CLFAULT selects the fault:
 *
 *   launch:N[:ERR]  the N-th clEnqueueNDRangeKernel (1-based) returns ERR
 *                   (default CL_INVALID_WORK_GROUP_SIZE); later calls succeed
 *   lost:N[:ERR]    from the N-th launch on, every launch, transfer, flush,
 *                   finish and wait returns ERR (default CL_OUT_OF_RESOURCES,
 *                   what NVIDIA and AMD drivers report for a lost device)
 *   oom:N           the N-th clCreateBuffer (1-based) and all later ones fail
 *                   with CL_MEM_OBJECT_ALLOCATION_FAILURE
 *
 * PACTCL_CLFAULT_COUNT=FILE writes "launches buffers" at exit, so a test can
 * place a fault inside a given epoch of a run it measured first.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fault_mode { FAULT_NONE, FAULT_LAUNCH, FAULT_LOST, FAULT_OOM };

static enum fault_mode mode = FAULT_NONE;
static unsigned long fault_at;
static cl_int fault_err;
static unsigned long launches, buffers;
static int lost;

__attribute__((constructor)) static void read_config(void)
{
    const char *s = getenv("PACTCL_CLFAULT");
    if (!s || !*s)
        return;
    char name[16] = "";
    long err = 0;
    int n = sscanf(s, "%15[a-z]:%lu:%ld", name, &fault_at, &err);
    if (n < 2) {
        fprintf(stderr, "cl_fault_inject: bad PACTCL_CLFAULT '%s'\n", s);
        return;
    }
    if (strcmp(name, "launch") == 0) {
        mode = FAULT_LAUNCH;
        fault_err = n == 3 ? (cl_int)err : CL_INVALID_WORK_GROUP_SIZE;
    } else if (strcmp(name, "lost") == 0) {
        mode = FAULT_LOST;
        fault_err = n == 3 ? (cl_int)err : CL_OUT_OF_RESOURCES;
    } else if (strcmp(name, "oom") == 0) {
        mode = FAULT_OOM;
        fault_err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    } else {
        fprintf(stderr, "cl_fault_inject: unknown fault '%s'\n", name);
    }
}

__attribute__((destructor)) static void write_counts(void)
{
    /* Only the process that used OpenCL: forked helpers exit too. */
    const char *path = getenv("PACTCL_CLFAULT_COUNT");
    if (!path || !*path || (launches == 0 && buffers == 0))
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%lu %lu\n", launches, buffers);
        fclose(f);
    }
}

/* The ICD loader's entry point.  The backend plugin is dlopen()ed with
 * RTLD_LOCAL, so the loader it pulled in is not in the global scope that
 * RTLD_NEXT searches: look it up by name, already loaded, instead. */
static void *real_call(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f)
        return f;
    void *h = dlopen("libOpenCL.so.1", RTLD_LAZY | RTLD_NOLOAD);
    return h ? dlsym(h, name) : NULL;
}

#define NEXT(fn)                                                                                   \
    static __typeof__(fn) *next_;                                                                  \
    if (!next_)                                                                                    \
        next_ = (__typeof__(fn) *)real_call(#fn);                                                  \
    if (!next_)                                                                                    \
        return CL_INVALID_OPERATION

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *offset,
                              const size_t *global, const size_t *local, cl_uint nwait,
                              const cl_event *wait, cl_event *ev)
{
    NEXT(clEnqueueNDRangeKernel);
    launches++;
    if (mode == FAULT_LAUNCH && launches == fault_at)
        return fault_err;
    if (mode == FAULT_LOST && launches >= fault_at)
        lost = 1;
    if (lost)
        return fault_err;
    return next_(q, k, dim, offset, global, local, nwait, wait, ev);
}

cl_mem clCreateBuffer(cl_context ctx, cl_mem_flags flags, size_t size, void *host, cl_int *err)
{
    static __typeof__(clCreateBuffer) *next_;
    if (!next_)
        next_ = (__typeof__(clCreateBuffer) *)real_call("clCreateBuffer");
    buffers++;
    if (!next_ || (mode == FAULT_OOM && buffers >= fault_at)) {
        if (err)
            *err = next_ ? fault_err : CL_INVALID_OPERATION;
        return NULL;
    }
    return next_(ctx, flags, size, host, err);
}

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t off, size_t n,
                           void *p, cl_uint nwait, const cl_event *wait, cl_event *ev)
{
    NEXT(clEnqueueReadBuffer);
    return lost ? fault_err : next_(q, b, blocking, off, n, p, nwait, wait, ev);
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t off, size_t n,
                            const void *p, cl_uint nwait, const cl_event *wait, cl_event *ev)
{
    NEXT(clEnqueueWriteBuffer);
    return lost ? fault_err : next_(q, b, blocking, off, n, p, nwait, wait, ev);
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so, size_t doff,
                           size_t n, cl_uint nwait, const cl_event *wait, cl_event *ev)
{
    NEXT(clEnqueueCopyBuffer);
    return lost ? fault_err : next_(q, src, dst, so, doff, n, nwait, wait, ev);
}

cl_int clEnqueueFillBuffer(cl_command_queue q, cl_mem b, const void *pat, size_t psize, size_t off,
                           size_t n, cl_uint nwait, const cl_event *wait, cl_event *ev)
{
    NEXT(clEnqueueFillBuffer);
    return lost ? fault_err : next_(q, b, pat, psize, off, n, nwait, wait, ev);
}

cl_int clFlush(cl_command_queue q)
{
    NEXT(clFlush);
    return lost ? fault_err : next_(q);
}

cl_int clFinish(cl_command_queue q)
{
    NEXT(clFinish);
    return lost ? fault_err : next_(q);
}

cl_int clWaitForEvents(cl_uint n, const cl_event *evs)
{
    NEXT(clWaitForEvents);
    return lost ? fault_err : next_(n, evs);
}
