/*
 * test_api.c: the public entry points given bad arguments.
 *
 * Each must return a negative status with a message in pactcl_last_error(),
 * and never crash: the library is driven by a CLI whose flags come from users.
 * Devices come from the fake test backend (tests/plugins/fake_backend.c, two
 * host-memory devices), so these tests need no real backend.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pactcl.h"

#define FAKE_PLUGIN PACTCL_TEST_PLUGIN_DIR "/pactcl-fake.so"

/* Expects `expr` to fail with `status` and a message containing `needle`.
 * The message is cleared first, so a stale one from an earlier call cannot pass. */
#define EXPECT_FAIL(expr, status, needle)                                                        \
    do {                                                                                         \
        clear_last_error();                                                                      \
        int rc_ = (expr);                                                                        \
        ck_assert_msg(rc_ == (status), "%s returned %d (%s), expected %d", #expr, rc_,           \
                      pactcl_last_error(), (status));                                            \
        ck_assert_msg(*pactcl_last_error(), "%s left no message", #expr);                        \
        ck_assert_msg(strstr(pactcl_last_error(), (needle)), "%s: message '%s' lacks '%s'",      \
                      #expr, pactcl_last_error(), (needle));                                     \
    } while (0)

/* The fake backend alone, whatever PACTCL_PLUGIN_PATH says. */
static int open_fake(pactcl_context **out)
{
    static const char *const files[] = { FAKE_PLUGIN };
    const struct pactcl_context_options opts = {
        .plugin_files = files, .n_plugin_files = 1, .skip_installed_dir = 1, .skip_env_path = 1
    };
    return pactcl_context_create(&opts, out);
}

/* The API has no call to clear the message, but loading a plugin clears it
 * before the plugin's init, and the fake plugin's init succeeds.  Checked, so
 * that a core that stops doing this fails here rather than weakening
 * EXPECT_FAIL. */
static void clear_last_error(void)
{
    pactcl_context *c = NULL;
    ck_assert_int_eq(open_fake(&c), PACTCL_OK);
    pactcl_context_free(c);
    ck_assert_msg(*pactcl_last_error() == '\0', "message not cleared: %s", pactcl_last_error());
}

static pactcl_context *ctx;
static pactcl_device *dev0, *dev1;

static void setup(void)
{
    int rc = open_fake(&ctx);
    ck_assert_msg(rc == PACTCL_OK, "pactcl_context_create: %s", pactcl_last_error());
    ck_assert_msg(pactcl_context_device_count(ctx) == 2, "%s gave %d devices (refused: %s)",
                  FAKE_PLUGIN, pactcl_context_device_count(ctx),
                  pactcl_context_refused_count(ctx) ? pactcl_context_refused_reason(ctx, 0)
                                                    : "none");
    dev0 = pactcl_context_device(ctx, 0);
    dev1 = pactcl_context_device(ctx, 1);
}

static void teardown(void)
{
    pactcl_context_free(ctx);
    ctx = NULL;
}

static struct pactcl_tensor *vec(pactcl_device *dev, enum pactcl_dtype dtype, int64_t n)
{
    struct pactcl_tensor *t = NULL;
    int rc = pactcl_tensor_create(dev, dtype, 1, &n, &t);
    ck_assert_msg(rc == PACTCL_OK, "pactcl_tensor_create: %s", pactcl_last_error());
    return t;
}

/* ---- contexts and devices ------------------------------------------------ */

START_TEST(test_context_create_bad_arguments)
{
    EXPECT_FAIL(pactcl_context_create(NULL, NULL), PACTCL_EINVAL, "out");

    pactcl_context *c = (pactcl_context *)&c;
    const struct pactcl_context_options no_list = { .n_plugin_files = 1, .skip_installed_dir = 1 };
    EXPECT_FAIL(pactcl_context_create(&no_list, &c), PACTCL_EINVAL, "plugin_files");
    ck_assert_ptr_null(c);

    const char *const null_file[] = { NULL };
    const struct pactcl_context_options null_entry = {
        .plugin_files = null_file, .n_plugin_files = 1, .skip_installed_dir = 1, .skip_env_path = 1
    };
    EXPECT_FAIL(pactcl_context_create(&null_entry, &c), PACTCL_EINVAL, "plugin file 0");
    ck_assert_ptr_null(c);
}
END_TEST

/* An unreadable plugin file is listed as refused, not an error. */
START_TEST(test_context_missing_plugin_file)
{
    const char *const files[] = { PACTCL_TEST_PLUGIN_DIR "/does-not-exist.so" };
    const struct pactcl_context_options opts = {
        .plugin_files = files, .n_plugin_files = 1, .skip_installed_dir = 1, .skip_env_path = 1
    };
    pactcl_context *c = NULL;
    ck_assert_int_eq(pactcl_context_create(&opts, &c), PACTCL_OK);
    ck_assert_int_eq(pactcl_context_device_count(c), 0);
    ck_assert_int_eq(pactcl_context_refused_count(c), 1);
    ck_assert_str_eq(pactcl_context_refused_path(c, 0), files[0]);
    ck_assert_ptr_nonnull(strstr(pactcl_context_refused_reason(c, 0), "cannot be loaded"));
    pactcl_device *d = NULL;
    EXPECT_FAIL(pactcl_context_find_device(c, "cpu", &d), PACTCL_ENOTFOUND, "no device");
    pactcl_context_free(c);
}
END_TEST

START_TEST(test_context_queries_out_of_range)
{
    pactcl_context_free(NULL);
    ck_assert_int_eq(pactcl_context_device_count(NULL), 0);
    ck_assert_ptr_null(pactcl_context_device(NULL, 0));
    ck_assert_ptr_null(pactcl_context_device(ctx, -1));
    ck_assert_ptr_null(pactcl_context_device(ctx, 2));
    ck_assert_int_eq(pactcl_context_plugin_count(NULL), 0);
    ck_assert_ptr_null(pactcl_context_plugin_name(ctx, 1));
    ck_assert_ptr_null(pactcl_context_plugin_path(ctx, -1));
    ck_assert_ptr_null(pactcl_context_plugin_status(ctx, 1));
    ck_assert_int_eq(pactcl_context_refused_count(NULL), 0);
    ck_assert_ptr_null(pactcl_context_refused_path(ctx, 0));
    ck_assert_ptr_null(pactcl_context_refused_reason(NULL, 0));
    ck_assert_ptr_nonnull(pactcl_installed_plugin_dir());
}
END_TEST

START_TEST(test_find_device_bad_arguments)
{
    pactcl_device *d = dev0;
    EXPECT_FAIL(pactcl_context_find_device(ctx, NULL, &d), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_context_find_device(NULL, "fake:0", &d), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_context_find_device(ctx, "fake:0", NULL), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_context_find_device(ctx, "no-such-device", &d), PACTCL_ENOTFOUND, "fake:0");
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_device_queries_null)
{
    ck_assert_ptr_null(pactcl_device_id(NULL));
    ck_assert_ptr_null(pactcl_device_name(NULL));
    ck_assert_ptr_null(pactcl_device_backend(NULL));
    ck_assert_int_eq(pactcl_device_kind(NULL), PACTCL_DEVICE_OTHER);
    ck_assert_uint_eq(pactcl_device_memory(NULL), 0);
    EXPECT_FAIL(pactcl_device_sync(NULL), PACTCL_EINVAL, "NULL");
    ck_assert_ptr_null(pactcl_device_op_provider(NULL, NULL));
    ck_assert_ptr_null(pactcl_device_op_provider(dev0, NULL));
    const struct pactcl_op_call unknown = { .op = PACTCL_OP_COUNT };
    ck_assert_ptr_null(pactcl_device_op_provider(dev0, &unknown));
    ck_assert_str_eq(pactcl_device_kind_name(PACTCL_DEVICE_CPU), "cpu");
    ck_assert_str_eq(pactcl_device_kind_name(PACTCL_DEVICE_GPU), "gpu");
    ck_assert_str_eq(pactcl_device_kind_name(PACTCL_DEVICE_ACCELERATOR), "accelerator");
    ck_assert_str_eq(pactcl_device_kind_name(PACTCL_DEVICE_OTHER), "other");
    ck_assert_str_eq(pactcl_device_kind_name((enum pactcl_device_kind)99), "other");
}
END_TEST

/* ---- tensors ------------------------------------------------------------ */

START_TEST(test_tensor_create_bad_arguments)
{
    const int64_t dims[5] = { 2, 3, 4, 5, 6 };
    struct pactcl_tensor *t = NULL;
    EXPECT_FAIL(pactcl_tensor_create(NULL, PACTCL_F32, 1, dims, &t), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 1, dims, NULL), PACTCL_EINVAL, "NULL");
    /* Past the NULL checks, a failure leaves *out NULL. */
    t = (struct pactcl_tensor *)&t;
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_DTYPE_COUNT, 1, dims, &t), PACTCL_EINVAL,
                "dtype");
    EXPECT_FAIL(pactcl_tensor_create(dev0, (enum pactcl_dtype)-1, 1, dims, &t), PACTCL_EINVAL,
                "dtype");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 0, dims, &t), PACTCL_ESHAPE, "rank 0");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 5, dims, &t), PACTCL_ESHAPE, "rank 5");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, -1, dims, &t), PACTCL_ESHAPE, "rank");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 2, NULL, &t), PACTCL_ESHAPE, "rank");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_tensor_create_bad_dims)
{
    struct pactcl_tensor *t = NULL;
    const int64_t zero[2] = { 3, 0 }, negative[3] = { 2, -4, 1 };
    const int64_t overflow[4] = { INT64_C(1) << 30, INT64_C(1) << 30, INT64_C(1) << 30, 2 };
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 2, zero, &t), PACTCL_ESHAPE, "dimension 1");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_U8, 3, negative, &t), PACTCL_ESHAPE,
                "dimension 1 = -4");
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_I8, 4, overflow, &t), PACTCL_ESHAPE,
                "dimension");
    ck_assert_ptr_null(t);
}
END_TEST

/* The fake devices refuse single allocations over 64 MiB. */
START_TEST(test_tensor_create_over_device_limit)
{
    struct pactcl_tensor *t = NULL;
    const int64_t dims[2] = { 1 << 14, (1 << 10) + 1 }; /* just over 64 MiB of f32 */
    EXPECT_FAIL(pactcl_tensor_create(dev0, PACTCL_F32, 2, dims, &t), PACTCL_ENOMEM, "fake:0");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_tensor_io_bad_arguments)
{
    struct pactcl_tensor *t = vec(dev0, PACTCL_F32, 6);
    float buf[7] = { 0 };
    EXPECT_FAIL(pactcl_tensor_read(t, buf, sizeof buf), PACTCL_ESHAPE, "28 bytes");
    EXPECT_FAIL(pactcl_tensor_read(t, buf, 6), PACTCL_ESHAPE, "24");
    EXPECT_FAIL(pactcl_tensor_write(t, buf, 0), PACTCL_ESHAPE, "pactcl_tensor_write");
    EXPECT_FAIL(pactcl_tensor_read(t, NULL, 24), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_write(NULL, buf, 24), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_read(NULL, buf, 24), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_zero(NULL), PACTCL_EINVAL, "NULL");
    /* The failed calls touched nothing. */
    ck_assert_int_eq(pactcl_tensor_read(t, buf, 24), PACTCL_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(buf[i], 0.0f);
    pactcl_tensor_free(t);
    pactcl_tensor_free(NULL);
    ck_assert_int_eq(pactcl_tensor_numel(NULL), 0);
    ck_assert_uint_eq(pactcl_tensor_bytes(NULL), 0);
}
END_TEST

START_TEST(test_tensor_view_bad_arguments)
{
    struct pactcl_tensor *t = vec(dev0, PACTCL_F32, 12), *v = NULL;
    const int64_t wrong[2] = { 5, 2 }, five[5] = { 1, 1, 3, 2, 2 }, right[2] = { 3, 4 };
    EXPECT_FAIL(pactcl_tensor_view(t, 2, wrong, &v), PACTCL_ESHAPE, "10 elements");
    EXPECT_FAIL(pactcl_tensor_view(t, 5, five, &v), PACTCL_ESHAPE, "rank 5");
    EXPECT_FAIL(pactcl_tensor_view(NULL, 2, right, &v), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_view(t, 2, right, NULL), PACTCL_EINVAL, "NULL");
    /* A right one shares the memory of its base. */
    ck_assert_int_eq(pactcl_tensor_view(t, 2, right, &v), PACTCL_OK);
    const float ones[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    float back[12];
    ck_assert_int_eq(pactcl_tensor_write(v, ones, sizeof ones), PACTCL_OK);
    ck_assert_int_eq(pactcl_tensor_read(t, back, sizeof back), PACTCL_OK);
    ck_assert_mem_eq(back, ones, sizeof ones);
    pactcl_tensor_free(v);
    pactcl_tensor_free(t);
}
END_TEST

START_TEST(test_tensor_copy_bad_arguments)
{
    struct pactcl_tensor *f = vec(dev0, PACTCL_F32, 4), *i = vec(dev0, PACTCL_I32, 4);
    struct pactcl_tensor *small = vec(dev0, PACTCL_F32, 3), *other = vec(dev1, PACTCL_F32, 4);
    EXPECT_FAIL(pactcl_tensor_copy(f, i), PACTCL_ESHAPE, "dtype");
    EXPECT_FAIL(pactcl_tensor_copy(f, small), PACTCL_ESHAPE, "size");
    EXPECT_FAIL(pactcl_tensor_copy(f, other), PACTCL_EINVAL, "different devices");
    EXPECT_FAIL(pactcl_tensor_copy(NULL, f), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_tensor_copy(f, NULL), PACTCL_EINVAL, "NULL");
    pactcl_tensor_free(f);
    pactcl_tensor_free(i);
    pactcl_tensor_free(small);
    pactcl_tensor_free(other);
}
END_TEST

/* ---- ops ---------------------------------------------------------------- */

START_TEST(test_op_run_bad_calls)
{
    struct pactcl_tensor *a = vec(dev0, PACTCL_F32, 5), *b = vec(dev0, PACTCL_F32, 5);
    struct pactcl_tensor *y = vec(dev0, PACTCL_F32, 5), *i = vec(dev0, PACTCL_I32, 5);
    struct pactcl_tensor *shorter = vec(dev0, PACTCL_F32, 4);
    struct pactcl_op_call call = { .op = PACTCL_OP_ADD, .nargs = 3, .args = { a, b, y } };

    EXPECT_FAIL(pactcl_op_run(dev0, NULL), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_op_run(NULL, &call), PACTCL_EINVAL, "NULL");
    EXPECT_FAIL(pactcl_op_check(NULL), PACTCL_EINVAL, "NULL");

    call.op = PACTCL_OP_COUNT;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "unknown op");
    call.op = (enum pactcl_op)-1;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "unknown op");
    call.op = PACTCL_OP_ADD;

    call.nargs = 2;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "takes 3");
    call.nargs = PACTCL_MAX_OP_ARGS + 1;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "takes 3");
    call.nargs = -1;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "takes 3");
    call.nargs = 3;

    call.args[1] = NULL;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "argument 1 is NULL");
    call.args[1] = i;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_ESHAPE, "dtype i32");
    call.args[1] = shorter;
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_ESHAPE, "argument 1 has shape [4]");
    call.args[1] = b;

    /* Everything checked and nothing run: y still holds zeros. */
    float out[5];
    ck_assert_int_eq(pactcl_tensor_read(y, out, sizeof out), PACTCL_OK);
    for (int k = 0; k < 5; k++)
        ck_assert_float_eq(out[k], 0.0f);
    ck_assert_int_eq(pactcl_op_run(dev0, &call), PACTCL_OK);

    pactcl_tensor_free(a);
    pactcl_tensor_free(b);
    pactcl_tensor_free(y);
    pactcl_tensor_free(i);
    pactcl_tensor_free(shorter);
}
END_TEST

START_TEST(test_op_run_across_devices)
{
    struct pactcl_tensor *a = vec(dev0, PACTCL_F32, 5), *b = vec(dev1, PACTCL_F32, 5);
    struct pactcl_tensor *y = vec(dev0, PACTCL_F32, 5), *c = vec(dev1, PACTCL_F32, 5);
    struct pactcl_op_call call = { .op = PACTCL_OP_ADD, .nargs = 3, .args = { a, b, y } };
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "argument 1 lives on another device");
    /* All on fake:1, but run on fake:0. */
    call = (struct pactcl_op_call){ .op = PACTCL_OP_ADD, .nargs = 3, .args = { b, c, c } };
    EXPECT_FAIL(pactcl_op_run(dev0, &call), PACTCL_EINVAL, "lives on device fake:1, not fake:0");
    ck_assert_int_eq(pactcl_op_run(dev1, &call), PACTCL_OK);
    pactcl_tensor_free(a);
    pactcl_tensor_free(b);
    pactcl_tensor_free(y);
    pactcl_tensor_free(c);
}
END_TEST

/* ---- tables ------------------------------------------------------------- */

START_TEST(test_strerror_covers_every_status)
{
    static const struct {
        int status;
        const char *msg;
    } table[] = {
#define STATUS_ROW_(id, value, msg) { PACTCL_##id, msg },
        PACTCL_STATUS_LIST(STATUS_ROW_)
#undef STATUS_ROW_
    };
    const size_t n = sizeof table / sizeof table[0];
    for (size_t k = 0; k < n; k++) {
        const char *s = pactcl_strerror(table[k].status);
        ck_assert_msg(s && *s, "status %d has no text", table[k].status);
        ck_assert_str_eq(s, table[k].msg);
        ck_assert_msg(k == 0 || table[k].status < 0, "status %d is not negative", table[k].status);
        for (size_t j = 0; j < k; j++) {
            ck_assert_int_ne(table[j].status, table[k].status);
            ck_assert_str_ne(pactcl_strerror(table[j].status), s);
        }
    }
    ck_assert_int_eq(table[0].status, PACTCL_OK);
    ck_assert_str_eq(pactcl_strerror(1), "unknown status");
    ck_assert_str_eq(pactcl_strerror(-(int)n - 1), "unknown status");
    ck_assert_str_eq(pactcl_strerror(INT_MIN), "unknown status");
}
END_TEST

START_TEST(test_op_names_round_trip)
{
    for (int op = 0; op < PACTCL_OP_COUNT; op++) {
        const char *name = pactcl_op_name((enum pactcl_op)op);
        ck_assert_msg(name && *name && strcmp(name, "unknown") != 0, "op %d has no name", op);
        ck_assert_int_eq(pactcl_op_from_name(name), op);
        int nargs = pactcl_op_nargs((enum pactcl_op)op);
        ck_assert_msg(nargs >= 1 && nargs <= PACTCL_MAX_OP_ARGS, "%s takes %d arguments", name,
                      nargs);
    }
    ck_assert_int_eq(pactcl_op_from_name("hardswish_fwd"), PACTCL_OP_HARDSWISH_FWD);
    ck_assert_int_eq(pactcl_op_from_name(NULL), -1);
    ck_assert_int_eq(pactcl_op_from_name(""), -1);
    ck_assert_int_eq(pactcl_op_from_name("no_such_op"), -1);
    ck_assert_int_eq(pactcl_op_from_name("hardswish_fwd "), -1);
    ck_assert_str_eq(pactcl_op_name(PACTCL_OP_COUNT), "unknown");
    ck_assert_str_eq(pactcl_op_name((enum pactcl_op)-1), "unknown");
    ck_assert_int_eq(pactcl_op_nargs(PACTCL_OP_COUNT), -1);
}
END_TEST

START_TEST(test_dtype_tables)
{
    static const char *const names[PACTCL_DTYPE_COUNT] = { "f32", "i32", "u8", "i8" };
    static const size_t sizes[PACTCL_DTYPE_COUNT] = { 4, 4, 1, 1 };
    for (int d = 0; d < PACTCL_DTYPE_COUNT; d++) {
        ck_assert_str_eq(pactcl_dtype_name((enum pactcl_dtype)d), names[d]);
        ck_assert_uint_eq(pactcl_dtype_size((enum pactcl_dtype)d), sizes[d]);
    }
    ck_assert_str_eq(pactcl_dtype_name(PACTCL_DTYPE_COUNT), "unknown");
    ck_assert_uint_eq(pactcl_dtype_size(PACTCL_DTYPE_COUNT), 0);
}
END_TEST

/* ---- the error message is per thread ------------------------------------ */

static void *fail_in_thread(void *arg)
{
    int rc = pactcl_tensor_create(NULL, PACTCL_F32, 1, NULL, NULL);
    return rc == PACTCL_EINVAL && strstr(pactcl_last_error(), "pactcl_tensor_create") ? arg : NULL;
}

START_TEST(test_last_error_is_per_thread)
{
    EXPECT_FAIL(pactcl_op_check(NULL), PACTCL_EINVAL, "op call is NULL");
    pthread_t th;
    int token;
    void *result = NULL;
    ck_assert_int_eq(pthread_create(&th, NULL, fail_in_thread, &token), 0);
    ck_assert_int_eq(pthread_join(th, &result), 0);
    ck_assert_ptr_eq(result, &token);
    ck_assert_str_eq(pactcl_last_error(), "op call is NULL");
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");

    TCase *tc = tcase_create("context");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_context_create_bad_arguments);
    tcase_add_test(tc, test_context_missing_plugin_file);
    tcase_add_test(tc, test_context_queries_out_of_range);
    tcase_add_test(tc, test_find_device_bad_arguments);
    tcase_add_test(tc, test_device_queries_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensor");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tensor_create_bad_arguments);
    tcase_add_test(tc, test_tensor_create_bad_dims);
    tcase_add_test(tc, test_tensor_create_over_device_limit);
    tcase_add_test(tc, test_tensor_io_bad_arguments);
    tcase_add_test(tc, test_tensor_view_bad_arguments);
    tcase_add_test(tc, test_tensor_copy_bad_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("op");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_op_run_bad_calls);
    tcase_add_test(tc, test_op_run_across_devices);
    suite_add_tcase(s, tc);

    tc = tcase_create("tables");
    tcase_add_test(tc, test_strerror_covers_every_status);
    tcase_add_test(tc, test_op_names_round_trip);
    tcase_add_test(tc, test_dtype_tables);
    tcase_add_test(tc, test_last_error_is_per_thread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
