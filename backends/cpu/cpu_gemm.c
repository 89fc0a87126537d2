/*
 * cpu_gemm.c: the one place the CPU backend calls CBLAS.
 *
 * One thread pool: every GEMM runs inside the backend's OpenMP team, one
 * sequential CBLAS call per thread (a panel of one GEMM, or whole GEMMs of
 * different images).  A pthreads OpenBLAS is switched to one thread for the
 * duration of the team, so the two pools never run side by side: OpenBLAS
 * workers spin for a long while after each call and libgomp's spin after each
 * region, and on a machine with few cores either pool's spinning threads
 * starve the other's.  An OpenMP OpenBLAS already runs sequentially inside an
 * OpenMP team and is left alone.
 */
#include "config.h"

#include <cblas.h>
#include <limits.h>

#include "cpu_ops.h"

int pactcl_cpu_blas_serial_begin(void)
{
#if defined(OPENBLAS_VERSION)
    if (openblas_get_parallel() == 1) {
        int threads = openblas_get_num_threads();
        if (threads != 1)
            openblas_set_num_threads(1);
        return threads;
    }
#endif
    return 0;
}

void pactcl_cpu_blas_serial_end(int saved)
{
#if defined(OPENBLAS_VERSION)
    if (saved > 1)
        openblas_set_num_threads(saved);
#else
    (void)saved;
#endif
}

const char *pactcl_cpu_blas_name(void)
{
#if defined(OPENBLAS_VERSION)
    return openblas_get_config();
#else
    return "CBLAS";
#endif
}

int pactcl_cpu_gemm_check(struct pactcl_cpu_ctx *ctx, int64_t m, int64_t n, int64_t k)
{
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
        return ctx->host->set_error(PACTCL_EINVAL,
                                    "cpu: GEMM of %lld x %lld x %lld exceeds the CBLAS int range",
                                    (long long)m, (long long)n, (long long)k);
    return PACTCL_OK;
}

void pactcl_cpu_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                             const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                             float *c, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
}

int pactcl_cpu_sgemm(struct pactcl_cpu_ctx *ctx, int trans_a, int trans_b, int64_t m, int64_t n,
                     int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, float *c, int64_t ldc)
{
    int rc = pactcl_cpu_gemm_check(ctx, m, n, k);
    if (rc != PACTCL_OK)
        return rc;
    const int64_t threads = m * n * k < PACTCL_CPU_PAR_MIN_MACS ? 1 : pactcl_cpu_max_threads();
    /* Split the longer side of C into one panel per thread; panels of
     * columns stay multiples of 16 so that each starts on a cache line. */
    const int by_rows = m >= n;
    const int64_t len = by_rows ? m : n, align = by_rows ? 1 : 16;
    int64_t panel = (len + threads - 1) / threads;
    panel = (panel + align - 1) / align * align;
    const int64_t panels = (len + panel - 1) / panel;
    const int saved = pactcl_cpu_blas_serial_begin();
    PACTCL_CPU_PRAGMA(omp parallel for schedule(static) num_threads((int)threads) if (panels > 1))
    for (int64_t t = 0; t < panels; t++) {
        const int64_t lo = t * panel, width = len - lo < panel ? len - lo : panel;
        if (by_rows) /* rows of C: rows of op(A) */
            pactcl_cpu_sgemm_serial(trans_a, trans_b, width, n, k, alpha,
                                    trans_a ? a + lo : a + lo * lda, lda, b, ldb, beta,
                                    c + lo * ldc, ldc);
        else /* columns of C: columns of op(B) */
            pactcl_cpu_sgemm_serial(trans_a, trans_b, m, width, k, alpha, a, lda,
                                    trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
    }
    pactcl_cpu_blas_serial_end(saved);
    return PACTCL_OK;
}
