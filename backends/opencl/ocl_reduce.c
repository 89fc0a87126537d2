/*
 * ocl_reduce.c: host side of kernels/reduce.cl: per-channel sums (bias
 * gradients, batch-norm means), channel bias broadcast, and the sum of
 * per-image weight gradients.  Used by conv, linear and batch norm.
 */
#include "ocl_internal.h"

int pactcl_ocl_channel_sum(struct pactcl_ocl_device *d, cl_mem x, cl_uint xo, cl_uint outer,
                           cl_uint C, cl_uint inner, float divisor, cl_mem out, cl_uint oo)
{
    const struct pactcl_ocl_kernel *kp, *kf;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "reduce", "", "chan_partial_sum", &kp));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "reduce", "", "chan_finalize_sum", &kf));
    size_t m = (size_t)outer * inner;
    size_t L = pactcl_ocl_wg_for(kp, m);
    cl_uint G, chunk;
    pactcl_ocl_split(m, L, &G, &chunk);
    size_t pbytes = (size_t)G * C * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));

    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(x),     PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(outer), PACTCL_OCL_ARG(C),
        PACTCL_OCL_ARG(inner), PACTCL_OCL_ARG(chunk),
        PACTCL_OCL_ARG(part),  PACTCL_OCL_LOCAL(L * sizeof(float)),
    };
    const size_t g1 = (size_t)C * G * L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        size_t L2 = pactcl_ocl_wg_for(kf, G);
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part), PACTCL_OCL_ARG(G),  PACTCL_OCL_ARG(divisor),
            PACTCL_OCL_ARG(out),  PACTCL_OCL_ARG(oo), PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        const size_t g2 = (size_t)C * L2;
        rc = pactcl_ocl_enqueue(d, kf, g2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}

int pactcl_ocl_bias_add(struct pactcl_ocl_device *d, cl_mem y, cl_uint yo, cl_mem b, cl_uint bo,
                        cl_uint C, cl_uint inner, cl_uint n)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "reduce", "", "chan_bias_add", &k));
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(y), PACTCL_OCL_ARG(yo),    PACTCL_OCL_ARG(b), PACTCL_OCL_ARG(bo),
        PACTCL_OCL_ARG(C), PACTCL_OCL_ARG(inner), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}

int pactcl_ocl_batch_sum(struct pactcl_ocl_device *d, cl_mem part, cl_uint len, cl_uint nb,
                         int accumulate, cl_mem out, cl_uint oo)
{
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "reduce", "", "batch_sum", &k));
    const cl_uint acc = accumulate ? 1u : 0u;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(part), PACTCL_OCL_ARG(len), PACTCL_OCL_ARG(nb),
        PACTCL_OCL_ARG(acc),  PACTCL_OCL_ARG(out), PACTCL_OCL_ARG(oo),
    };
    return pactcl_ocl_enqueue_1d(d, k, len, a, PACTCL_OCL_NARGS(a));
}
