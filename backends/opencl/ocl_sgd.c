/*
 * ocl_sgd.c: the momentum + L2 update of one parameter on the device
 * (kernels/sgd.cl); parameters and velocities never leave it.
 */
#include "ocl_internal.h"

PACTCL_OCL_OP(pactcl_ocl_sgd_momentum)
{
    const struct pactcl_tensor *param = call->args[0], *grad = call->args[1], *vel = call->args[2];
    const struct pactcl_sgd_params *p = &call->params.sgd;
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "sgd", "", "sgd_momentum", &k));
    cl_mem pm = pactcl_ocl_mem(param), gm = pactcl_ocl_mem(grad), vm = pactcl_ocl_mem(vel);
    cl_uint po = pactcl_ocl_off(param), go = pactcl_ocl_off(grad), vo = pactcl_ocl_off(vel);
    cl_uint n = pactcl_ocl_numel(param);
    float lr_eff = p->lr * p->lr_mult, momentum = p->momentum, l2 = p->l2_decay;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(pm), PACTCL_OCL_ARG(po), PACTCL_OCL_ARG(gm),     PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(vm), PACTCL_OCL_ARG(vo), PACTCL_OCL_ARG(lr_eff), PACTCL_OCL_ARG(momentum),
        PACTCL_OCL_ARG(l2), PACTCL_OCL_ARG(n),
    };
    return pactcl_ocl_enqueue_1d(d, k, n, a, PACTCL_OCL_NARGS(a));
}
