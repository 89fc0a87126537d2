/*
 * ocl_blas.c: the CLBlast glue.  Every GEMM of the backend (convolutions per
 * image, linear layers) goes through CLBlastSgemmStridedBatched, also for a
 * single matrix: CLBlast compiles one program per routine, and a cold compile
 * costs seconds (about 12 s on PoCL), so one routine means one compile.  The
 * call only queues work on the device's queue: no event is requested and
 * nothing waits.
 */
#include "ocl_internal.h"

#include <clblast_c.h>

static const char *clblast_name(CLBlastStatusCode s)
{
    switch (s) {
    case CLBlastNotImplemented:
        return "CLBlastNotImplemented";
    case CLBlastInvalidDimension:
        return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA:
        return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB:
        return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC:
        return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA:
        return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB:
        return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC:
        return "CLBlastInsufficientMemoryC";
    case CLBlastInvalidBatchCount:
        return "CLBlastInvalidBatchCount";
    case CLBlastInvalidLocalMemUsage:
        return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError:
        return "CLBlastDatabaseError";
    case CLBlastUnknownError:
        return "CLBlastUnknownError";
    case CLBlastUnexpectedError:
        return "CLBlastUnexpectedError";
    default:
        /* The codes above -64 are OpenCL's own. */
        return (int)s > -64 ? pactcl_ocl_error_name((cl_int)s) : "CLBlast error";
    }
}

int pactcl_ocl_gemm(struct pactcl_ocl_device *d, size_t m, size_t n, size_t k, float alpha,
                    struct pactcl_ocl_mat a, struct pactcl_ocl_mat b, float beta,
                    struct pactcl_ocl_mat c, size_t batch)
{
    /* CLBlast refuses a zero C stride (CLBlastInvalidDimension) even for a
     * single matrix, where it is never used: give it the matrix size. */
    if (c.stride == 0)
        c.stride = m * c.ld;
    CLBlastStatusCode s = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, a.trans ? CLBlastTransposeYes : CLBlastTransposeNo,
        b.trans ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.off, a.ld,
        a.stride, b.mem, b.off, b.ld, b.stride, beta, c.mem, c.off, c.ld, c.stride, batch,
        &d->queue, NULL);
    if (s == CLBlastSuccess)
        return PACTCL_OK;
    pactcl_ocl_drain(d); /* as pactcl_ocl_fail does */
    const char *what = d->what ? d->what : "gemm";
    if (s == CLBlastTempBufferAllocFailure || s == CLBlastOpenCLOutOfResources ||
        s == CLBlastOpenCLOutOfHostMemory)
        return pactcl_ocl_error(
            PACTCL_ENOMEM,
            "%s on %s: CLBlastSgemmStridedBatched (%zux%zux%zu, batch %zu) ran out "
            "of device memory: CLBlastStatusCode %d (%s); try a smaller batch",
            what, d->id_str, m, n, k, batch, (int)s, clblast_name(s));
    return pactcl_ocl_error(PACTCL_EDEVICE,
                            "%s on %s: CLBlastSgemmStridedBatched (%zux%zux%zu, batch %zu) failed: "
                            "CLBlastStatusCode %d (%s)",
                            what, d->id_str, m, n, k, batch, (int)s, clblast_name(s));
}
