/*
 * ocl_batchnorm.c: batch norm, training and evaluation forward and backward
 * (kernels/batchnorm.cl; the channel means come from reduce.cl).  The running
 * statistics are updated on the device: nothing is read back.
 */
#include "ocl_internal.h"

struct bn {
    cl_uint N, C, HW, n;
    float count; /* elements per channel, N*H*W */
};

static struct bn bn_of(const struct pactcl_tensor *x)
{
    struct bn b = {(cl_uint)x->dims[0], (cl_uint)x->dims[1], (cl_uint)(x->dims[2] * x->dims[3]),
                   pactcl_ocl_numel(x), 0.0f};
    b.count = (float)((double)b.N * b.HW);
    return b;
}

/* The partial-sum launch geometry of a per-channel reduction. */
struct split {
    size_t L;
    cl_uint G, chunk;
};

static struct split split_of(const struct pactcl_ocl_kernel *k, const struct bn *b)
{
    struct split s;
    size_t m = (size_t)b->N * b->HW;
    s.L = pactcl_ocl_wg_for(k, m);
    pactcl_ocl_split(m, s.L, &s.G, &s.chunk);
    return s;
}

PACTCL_OCL_OP(pactcl_ocl_bn_fwd_train)
{
    const struct pactcl_tensor *x = call->args[0], *gamma = call->args[1], *beta = call->args[2],
                               *rmean = call->args[3], *rvar = call->args[4], *y = call->args[5],
                               *smean = call->args[6], *sinv = call->args[7];
    const struct bn b = bn_of(x);
    cl_mem xm = pactcl_ocl_mem(x), sm = pactcl_ocl_mem(smean);
    cl_uint xo = pactcl_ocl_off(x), so = pactcl_ocl_off(smean);
    PACTCL_OCL_TRY(pactcl_ocl_channel_sum(d, xm, xo, b.N, b.C, b.HW, b.count, sm, so));

    const struct pactcl_ocl_kernel *kp, *kf, *kn;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_partial_sqdev", &kp));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_finalize_var", &kf));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_normalize", &kn));
    const struct split s = split_of(kp, &b);
    const size_t pbytes = (size_t)s.G * b.C * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));

    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),   PACTCL_OCL_ARG(xo),
        PACTCL_OCL_ARG(b.N),  PACTCL_OCL_ARG(b.C),
        PACTCL_OCL_ARG(b.HW), PACTCL_OCL_ARG(s.chunk),
        PACTCL_OCL_ARG(sm),   PACTCL_OCL_ARG(so),
        PACTCL_OCL_ARG(part), PACTCL_OCL_LOCAL(s.L * sizeof(float)),
    };
    const size_t g1 = (size_t)b.C * s.G * s.L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, s.L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        cl_mem im = pactcl_ocl_mem(sinv), rmm = pactcl_ocl_mem(rmean), rvm = pactcl_ocl_mem(rvar);
        cl_uint io = pactcl_ocl_off(sinv), rmo = pactcl_ocl_off(rmean), rvo = pactcl_ocl_off(rvar);
        float momentum = call->params.bn.momentum, eps = call->params.bn.epsilon;
        const size_t L2 = pactcl_ocl_wg_for(kf, s.G), g2 = b.C * L2;
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part),    PACTCL_OCL_ARG(s.G),
            PACTCL_OCL_ARG(b.count), PACTCL_OCL_ARG(sm),
            PACTCL_OCL_ARG(so),      PACTCL_OCL_ARG(im),
            PACTCL_OCL_ARG(io),      PACTCL_OCL_ARG(rmm),
            PACTCL_OCL_ARG(rmo),     PACTCL_OCL_ARG(rvm),
            PACTCL_OCL_ARG(rvo),     PACTCL_OCL_ARG(momentum),
            PACTCL_OCL_ARG(eps),     PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, kf, g2, L2, a2, PACTCL_OCL_NARGS(a2));
        if (rc == PACTCL_OK) {
            cl_mem gm = pactcl_ocl_mem(gamma), bm = pactcl_ocl_mem(beta), ym = pactcl_ocl_mem(y);
            cl_uint go = pactcl_ocl_off(gamma), bo = pactcl_ocl_off(beta), yo = pactcl_ocl_off(y);
            const struct pactcl_ocl_arg a3[] = {
                PACTCL_OCL_ARG(xm),  PACTCL_OCL_ARG(xo),   PACTCL_OCL_ARG(gm),  PACTCL_OCL_ARG(go),
                PACTCL_OCL_ARG(bm),  PACTCL_OCL_ARG(bo),   PACTCL_OCL_ARG(sm),  PACTCL_OCL_ARG(so),
                PACTCL_OCL_ARG(im),  PACTCL_OCL_ARG(io),   PACTCL_OCL_ARG(ym),  PACTCL_OCL_ARG(yo),
                PACTCL_OCL_ARG(b.C), PACTCL_OCL_ARG(b.HW), PACTCL_OCL_ARG(b.n),
            };
            rc = pactcl_ocl_enqueue_1d(d, kn, b.n, a3, PACTCL_OCL_NARGS(a3));
        }
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}

PACTCL_OCL_OP(pactcl_ocl_bn_fwd_eval)
{
    const struct pactcl_tensor *x = call->args[0], *gamma = call->args[1], *beta = call->args[2],
                               *mean = call->args[3], *var = call->args[4], *y = call->args[5];
    const struct bn b = bn_of(x);
    const struct pactcl_ocl_kernel *k;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_eval", &k));
    cl_mem xm = pactcl_ocl_mem(x), gm = pactcl_ocl_mem(gamma), bm = pactcl_ocl_mem(beta);
    cl_mem mm = pactcl_ocl_mem(mean), vm = pactcl_ocl_mem(var), ym = pactcl_ocl_mem(y);
    cl_uint xo = pactcl_ocl_off(x), go = pactcl_ocl_off(gamma), bo = pactcl_ocl_off(beta);
    cl_uint mo = pactcl_ocl_off(mean), vo = pactcl_ocl_off(var), yo = pactcl_ocl_off(y);
    float eps = call->params.bn.epsilon;
    const struct pactcl_ocl_arg a[] = {
        PACTCL_OCL_ARG(xm), PACTCL_OCL_ARG(xo),  PACTCL_OCL_ARG(gm),   PACTCL_OCL_ARG(go),
        PACTCL_OCL_ARG(bm), PACTCL_OCL_ARG(bo),  PACTCL_OCL_ARG(mm),   PACTCL_OCL_ARG(mo),
        PACTCL_OCL_ARG(vm), PACTCL_OCL_ARG(vo),  PACTCL_OCL_ARG(eps),  PACTCL_OCL_ARG(ym),
        PACTCL_OCL_ARG(yo), PACTCL_OCL_ARG(b.C), PACTCL_OCL_ARG(b.HW), PACTCL_OCL_ARG(b.n),
    };
    return pactcl_ocl_enqueue_1d(d, k, b.n, a, PACTCL_OCL_NARGS(a));
}

PACTCL_OCL_OP(pactcl_ocl_bn_bwd)
{
    const struct pactcl_tensor *x = call->args[0], *dy = call->args[1], *gamma = call->args[2],
                               *smean = call->args[3], *sinv = call->args[4], *dx = call->args[5],
                               *dgamma = call->args[6], *dbeta = call->args[7];
    const struct bn b = bn_of(x);
    const struct pactcl_ocl_kernel *kp, *kf, *kd;
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_bwd_partial", &kp));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_bwd_finalize", &kf));
    PACTCL_OCL_TRY(pactcl_ocl_kernel_get(d, "batchnorm", "", "bn_bwd_dx", &kd));
    const struct split s = split_of(kp, &b);
    const size_t pbytes = 2 * (size_t)s.G * b.C * sizeof(float);
    cl_mem part;
    PACTCL_OCL_TRY(pactcl_ocl_scratch(d, pbytes, &part));

    cl_mem xm = pactcl_ocl_mem(x), gym = pactcl_ocl_mem(dy), mm = pactcl_ocl_mem(smean);
    cl_mem im = pactcl_ocl_mem(sinv), dgm = pactcl_ocl_mem(dgamma), dbm = pactcl_ocl_mem(dbeta);
    cl_uint xo = pactcl_ocl_off(x), gyo = pactcl_ocl_off(dy), mo = pactcl_ocl_off(smean);
    cl_uint io = pactcl_ocl_off(sinv), dgo = pactcl_ocl_off(dgamma), dbo = pactcl_ocl_off(dbeta);
    const struct pactcl_ocl_arg a1[] = {
        PACTCL_OCL_ARG(xm),      PACTCL_OCL_ARG(xo),   PACTCL_OCL_ARG(gym),
        PACTCL_OCL_ARG(gyo),     PACTCL_OCL_ARG(mm),   PACTCL_OCL_ARG(mo),
        PACTCL_OCL_ARG(b.N),     PACTCL_OCL_ARG(b.C),  PACTCL_OCL_ARG(b.HW),
        PACTCL_OCL_ARG(s.chunk), PACTCL_OCL_ARG(part), PACTCL_OCL_LOCAL(s.L * sizeof(float)),
    };
    const size_t g1 = (size_t)b.C * s.G * s.L;
    int rc = pactcl_ocl_enqueue(d, kp, g1, s.L, a1, PACTCL_OCL_NARGS(a1));
    if (rc == PACTCL_OK) {
        const size_t L2 = pactcl_ocl_wg_for(kf, s.G), g2 = b.C * L2;
        const struct pactcl_ocl_arg a2[] = {
            PACTCL_OCL_ARG(part), PACTCL_OCL_ARG(s.G),
            PACTCL_OCL_ARG(b.C),  PACTCL_OCL_ARG(im),
            PACTCL_OCL_ARG(io),   PACTCL_OCL_ARG(dgm),
            PACTCL_OCL_ARG(dgo),  PACTCL_OCL_ARG(dbm),
            PACTCL_OCL_ARG(dbo),  PACTCL_OCL_LOCAL(L2 * sizeof(float)),
        };
        rc = pactcl_ocl_enqueue(d, kf, g2, L2, a2, PACTCL_OCL_NARGS(a2));
    }
    if (rc == PACTCL_OK) {
        cl_mem gm = pactcl_ocl_mem(gamma), dxm = pactcl_ocl_mem(dx);
        cl_uint go = pactcl_ocl_off(gamma), dxo = pactcl_ocl_off(dx);
        const struct pactcl_ocl_arg a3[] = {
            PACTCL_OCL_ARG(xm),  PACTCL_OCL_ARG(xo),  PACTCL_OCL_ARG(gym),     PACTCL_OCL_ARG(gyo),
            PACTCL_OCL_ARG(gm),  PACTCL_OCL_ARG(go),  PACTCL_OCL_ARG(mm),      PACTCL_OCL_ARG(mo),
            PACTCL_OCL_ARG(im),  PACTCL_OCL_ARG(io),  PACTCL_OCL_ARG(dgm),     PACTCL_OCL_ARG(dgo),
            PACTCL_OCL_ARG(dbm), PACTCL_OCL_ARG(dbo), PACTCL_OCL_ARG(b.count), PACTCL_OCL_ARG(dxm),
            PACTCL_OCL_ARG(dxo), PACTCL_OCL_ARG(b.C), PACTCL_OCL_ARG(b.HW),    PACTCL_OCL_ARG(b.n),
        };
        rc = pactcl_ocl_enqueue_1d(d, kd, b.n, a3, PACTCL_OCL_NARGS(a3));
    }
    pactcl_ocl_scratch_release(d, part, pbytes);
    return rc;
}
