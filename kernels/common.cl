/*
 * common.cl: put in front of every program: the evaluation rule all kernels
 * follow and the work-group reductions they share.  OpenCL C 1.2.
 */

/* The formulas of pactcl-ops.h are evaluated as written, like the CPU backend:
 * no a*b+c contracted into a fused multiply-add, which rounds differently and
 * would move PACT clipping and fake-quant rounding steps. */
#pragma OPENCL FP_CONTRACT OFF

/*
 * Work-group reductions in a fixed tree order, so a result depends only on
 * the inputs and the local size (which the host derives from the device and
 * the shape), never on scheduling.  The local size must be a power of two;
 * every work-item of the group must call them (they hold barriers).  The last
 * barrier lets the caller reuse `scratch` right away.
 */
float pactcl_wg_sum(float v, __local float *scratch)
{
    const uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

float pactcl_wg_max(float v, __local float *scratch)
{
    const uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

uint pactcl_wg_sum_uint(uint v, __local uint *scratch)
{
    const uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const uint r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* Kahan-compensated accumulation: *comp keeps the low-order bits that a
 * float addition to *sum drops.  The long per-work-item loops of the
 * reductions use it: plain float sums there drift by ~1e-5 relative on a
 * million elements (measured), 100x the error of the tree that follows. */
void pactcl_kadd(float *sum, float *comp, float v)
{
    const float y = v - *comp;
    const float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/* Element (o, c, i) of a tensor laid out [outer][C][inner], walked as the
 * flat index m = o*inner + i of channel c. */
uint pactcl_chan_index(uint m, uint c, uint C, uint inner)
{
    const uint o = m / inner;
    return (o * C + c) * inner + (m - o * inner);
}
