/*
 * op_harness.h: helpers shared by the op tests.
 *
 * Every test runs once per device (a Check loop test whose index is the device
 * index) and starts with TH_TEST, which opens the device in the current
 * process.  Check forks a child per test by default, and an OpenCL context
 * must not cross a fork(), so the context is created lazily in the process that
 * uses it; main() only learns the device list from a throw-away child.
 *
 * Comparisons do not abort the test: each mismatch is printed (device, op,
 * case, worst index, got vs want) and counted, and the test fails at its end,
 * so one run reports every failing case instead of only the first.
 */
#ifndef PACTCL_TESTS_OP_HARNESS_H
#define PACTCL_TESTS_OP_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "pactcl.h"

/* ---- devices ---------------------------------------------------------------- */

#define TH_MAX_DEVICES 16
#define TH_ID_LEN 64

/* Fills ids[] with the device ids the test context reports, creating the
 * context in a child process.  Returns the count, or -1 with a message on
 * stderr when the context cannot be created. */
int th_list_devices(char ids[][TH_ID_LEN], int max);

/* Opens device `index` in this process, frees what the previous test left
 * behind, and resets the failure count.  Aborts the test when it is missing. */
pactcl_device *th_begin(int index);
/* Frees this test's tensors and host buffers; fails the test if any check
 * failed. */
void th_end(void);

/* The device of the running test and its id (for messages). */
pactcl_device *th_dev(void);
const char *th_dev_id(void);

/* A test body that runs on device _i.  Use as: TH_TEST(name) { ... } */
#define TH_TEST(name)                                                                              \
    static void name##_body(void);                                                                 \
    START_TEST(name)                                                                               \
    {                                                                                              \
        th_begin(_i);                                                                              \
        name##_body();                                                                             \
        th_end();                                                                                  \
    }                                                                                              \
    END_TEST                                                                                       \
    static void name##_body(void)

/* ---- deterministic pseudo-random numbers ------------------------------------ */

/* A 64-bit LCG (Knuth's MMIX constants); the top bits are the output. */
struct th_rng {
    uint64_t s;
};

void th_rng_seed(struct th_rng *r, uint64_t seed);
uint32_t th_rng_u32(struct th_rng *r);
/* Uniform in [lo, hi). */
float th_rng_uniform(struct th_rng *r, float lo, float hi);
void th_fill(struct th_rng *r, float *a, size_t n, float lo, float hi);

/* ---- host memory owned by the running test ---------------------------------- */

/* Zeroed, freed by th_end(); aborts on failure. */
void *th_alloc(size_t bytes);
float *th_floats(size_t n);
double *th_doubles(size_t n);
/* A copy of src as float / as double. */
float *th_to_float(const double *src, size_t n);
double *th_to_double(const float *src, size_t n);

/* ---- tensors ------------------------------------------------------------------ */

struct th_shape {
    int ndim;
    int64_t d[PACTCL_MAX_DIMS];
};

/* TH_SHAPE(3, 5, 7, 7) */
#define TH_SHAPE(...)                                                                              \
    ((struct th_shape){(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}})

size_t th_numel(struct th_shape s);

/* A tensor on the test's device, filled from `host` (zeros when NULL).  Owned
 * by the test: freed by th_end(). */
struct pactcl_tensor *th_tensor(enum pactcl_dtype dtype, struct th_shape s, const void *host);
struct pactcl_tensor *th_f32(struct th_shape s, const float *host);

void th_write(struct pactcl_tensor *t, const void *host);
void th_read(const struct pactcl_tensor *t, void *host);
/* A new host copy of a f32 tensor (owned by the test). */
float *th_read_f32(const struct pactcl_tensor *t);

/* ---- running ops -------------------------------------------------------------- */

/* A call to `op` with nargs set from the op table and no arguments yet. */
struct pactcl_op_call th_call(enum pactcl_op op);
/* Runs `call` on the test's device; a non-zero status aborts the test with the
 * op name, device and pactcl_last_error(). */
void th_run(struct pactcl_op_call *call);
/* Runs `call` and expects a negative status with a non-empty message.
 * `why` names the case in the failure message. */
void th_expect_reject(struct pactcl_op_call *call, const char *why);

/* ---- comparisons ----------------------------------------------------------------- */

/* Sets the label printed before every mismatch ("conv2d_fwd N3 C5 7x7 ..."). */
void th_label(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* |got - want| <= atol + rtol*|want| for each element.  On failure prints the
 * number of bad elements and the worst one (index, got, want) and counts a
 * failure.  Returns 1 when all match. */
int th_close(const char *what, const float *got, const double *want, size_t n, double rtol,
             double atol);
/* The absolute tolerance for an fp32 sum of `nterms` terms of magnitude about
 * one: the rounding error of such a sum grows like sqrt(nterms) (a random
 * walk), so 1e-5 is kept up to 16 terms and scaled by sqrt(nterms/16) beyond,
 * which also leaves room for a backend's different summation order. */
double th_sum_atol(size_t nterms);
/* Like th_close for one scalar. */
int th_close1(const char *what, double got, double want, double rtol, double atol);
/* Exact equality of bytes (masks, integer results). */
int th_equal_u8(const char *what, const uint8_t *got, const uint8_t *want, size_t n);
/* Records a failure with a free-form message. */
void th_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fake-quant outputs: exact within rtol, except that an element whose
 * pre-rounding value lay within 1e-4 of a .5 boundary (tie[i] set) may be one
 * quantization step `step[i]` away (a legal evaluation-order difference). */
int th_close_quant(const char *what, const float *got, const double *want, const uint8_t *tie,
                   const double *step, size_t n, double rtol);

/* The failures recorded so far in this test. */
int th_failures(void);

/* ---- gradient checks by central differences --------------------------------- */

/* Evaluates the scalar loss of the device's forward at the current host
 * inputs (the callback writes them to the device, runs the forward op and
 * reduces the output in double). */
typedef double (*th_loss_fn)(void *ctx);

/*
 * Compares grad[i] (the device's backward) with (L(p+h e_i) - L(p-h e_i)) /
 * (2h) for up to max_samples coordinates i of `param` (all of them when
 * n <= max_samples; otherwise a deterministic spread that includes the first
 * and last).  param is perturbed in place and restored.  The divisor is the
 * float perturbation actually applied, not 2h.
 *
 * Accepts |num - ana| <= rtol*max(|num|,|ana|) + atol_frac*max_j|grad[j]|:
 * the relative term checks the gradient itself, and the second covers
 * coordinates whose true gradient is near zero, where the difference of two
 * fp32 forward results is mostly rounding noise.
 */
void th_gradcheck(const char *what, th_loss_fn loss, void *ctx, float *param, size_t n,
                  const float *grad, int max_samples, float h, double rtol, double atol_frac);

/* sum_i g[i]*y[i] in double. */
double th_dot(const float *g, const float *y, size_t n);

/* ---- test registration ----------------------------------------------------------- */

/* Each test file adds its tests to a device's TCase as loop tests [dev, dev+1). */
void ops_conv_register(TCase *tc, int dev);
void ops_norm_register(TCase *tc, int dev);
void ops_elementwise_register(TCase *tc, int dev);
void ops_linear_register(TCase *tc, int dev);
void ops_quant_register(TCase *tc, int dev);
void ops_validation_register(TCase *tc, int dev);
void ops_int8_register(TCase *tc, int dev);

#define TH_ADD(tc, test, dev) tcase_add_loop_test((tc), (test), (dev), (dev) + 1)

#endif /* PACTCL_TESTS_OP_HARNESS_H */
