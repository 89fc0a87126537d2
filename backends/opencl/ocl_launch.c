/*
 * ocl_launch.c: setting kernel arguments and queueing ND-ranges.
 *
 * Local sizes come from each kernel's CL_KERNEL_WORK_GROUP_SIZE (see
 * ocl_program.c), never from a vendor table; global sizes are rounded up to a
 * multiple of them and every kernel checks its bounds.  Every range is 1-D:
 * some drivers cap dimensions 1 and 2 at 65535 work-groups (NVIDIA maps them
 * onto CUDA's grid), and a flat range has no such limit.  Nothing here waits.
 */
#include "ocl_internal.h"

#include <stdio.h>

int pactcl_ocl_enqueue(struct pactcl_ocl_device *d, const struct pactcl_ocl_kernel *k,
                       size_t global, size_t local, const struct pactcl_ocl_arg *args, int nargs)
{
    char call[96];
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k->kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            snprintf(call, sizeof call, "clSetKernelArg(%s, %d)", k->name, i);
            return pactcl_ocl_fail(d, call, err);
        }
    }
    const size_t g = (global + local - 1) / local * local;
    if (g == 0)
        return PACTCL_OK;
    cl_int err = clEnqueueNDRangeKernel(d->queue, k->kernel, 1, NULL, &g, &local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        snprintf(call, sizeof call, "clEnqueueNDRangeKernel(%s)", k->name);
        return pactcl_ocl_fail(d, call, err);
    }
    return PACTCL_OK;
}

int pactcl_ocl_enqueue_1d(struct pactcl_ocl_device *d, const struct pactcl_ocl_kernel *k, size_t n,
                          const struct pactcl_ocl_arg *args, int nargs)
{
    return pactcl_ocl_enqueue(d, k, n, k->wg, args, nargs);
}

size_t pactcl_ocl_wg_for(const struct pactcl_ocl_kernel *k, size_t n)
{
    size_t l = 1;
    while (l * 2 <= k->wg && l < n)
        l *= 2;
    return l;
}

void pactcl_ocl_split(size_t m, size_t wg, cl_uint *groups, cl_uint *chunk)
{
    /* About 16 elements per work-item keeps the partial sums few, and at most
     * 1024 groups per row bound the second pass. */
    size_t per_group = wg * 16;
    size_t g = (m + per_group - 1) / per_group;
    if (g < 1)
        g = 1;
    if (g > 1024)
        g = 1024;
    size_t c = (m + g - 1) / g;
    *groups = (cl_uint)g;
    *chunk = (cl_uint)(c ? c : 1);
}
