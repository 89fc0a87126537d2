/*
 * test_image.c: JPEG and PNG decoding against the pixels Pillow's
 * Image.open(f).convert('RGB') gives (tests/fixtures/images/make_fixtures.py),
 * and the refusal of broken, oversized and unsupported files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pactcl.h"
#include "data/image.h"

static const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", IMAGE_FIXTURES, name);
    return path;
}

static uint8_t *read_fixture(const char *name, size_t *size)
{
    FILE *f = fopen(fixture(name), "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s", fixture(name));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* ---- good files ------------------------------------------------------------ */
static const struct {
    const char *file;
    const char *expected;
    int width;
    int height;
} good[] = {
    {"jpeg_rgb.jpg", "jpeg_rgb.rgb", 37, 23},
    {"jpeg_progressive.jpg", "jpeg_progressive.rgb", 37, 23},
    {"jpeg_gray.jpg", "jpeg_gray.rgb", 37, 23},
    {"jpeg_cmyk.jpg", "jpeg_cmyk.rgb", 37, 23},
    {"png_rgb.png", "png_rgb.rgb", 13, 7},
    {"png_rgba.png", "png_rgba.rgb", 13, 7},
    {"png_rgb16.png", "png_rgb16.rgb", 13, 7},
    {"png_rgba16.png", "png_rgba16.rgb", 13, 7},
    {"png_gray.png", "png_gray.rgb", 13, 7},
    {"png_gray1.png", "png_gray1.rgb", 13, 7},
    {"png_gray2.png", "png_gray2.rgb", 13, 7},
    {"png_gray4_trns.png", "png_gray4_trns.rgb", 13, 7},
    {"png_gray16.png", "png_gray16.rgb", 13, 7},
    {"png_graya.png", "png_graya.rgb", 13, 7},
    {"png_graya16.png", "png_graya16.rgb", 13, 7},
    {"png_palette.png", "png_palette.rgb", 13, 7},
    {"png_palette4_trns.png", "png_palette4_trns.rgb", 13, 7},
    {"png_palette1.png", "png_palette1.rgb", 13, 7},
    {"png_rgb_trns.png", "png_rgb_trns.rgb", 13, 7},
    {"png_interlaced.png", "png_interlaced.rgb", 13, 7},
};
#define N_GOOD ((int)(sizeof good / sizeof good[0]))

/* Exact equality with Pillow, for JPEG too: Pillow's bundled libjpeg-turbo and
 * the system one use the same islow IDCT and fancy upsampling. */
START_TEST(decodes_like_pillow)
{
    struct pactcl_image img;
    int status = pactcl_image_load(fixture(good[_i].file), 0, &img);
    ck_assert_msg(status == PACTCL_OK, "%s: %s", good[_i].file, pactcl_last_error());
    ck_assert_int_eq(img.width, good[_i].width);
    ck_assert_int_eq(img.height, good[_i].height);
    size_t n;
    uint8_t *want = read_fixture(good[_i].expected, &n);
    ck_assert_uint_eq(n, (size_t)img.width * img.height * 3);
    size_t diffs = 0, first = 0;
    for (size_t i = n; i-- > 0;) {
        if (img.data[i] != want[i]) {
            diffs++;
            first = i;
        }
    }
    ck_assert_msg(diffs == 0, "%s: %zu of %zu bytes differ from Pillow, first at %zu (%u vs %u)",
                  good[_i].file, diffs, n, first, diffs ? img.data[first] : 0,
                  diffs ? want[first] : 0);
    free(want);
    pactcl_image_free(&img);
    ck_assert_ptr_null(img.data);
}
END_TEST

/* The magic bytes decide, not the name. */
START_TEST(format_from_magic_bytes)
{
    size_t n;
    uint8_t *png = read_fixture("png_rgb.png", &n);
    struct pactcl_image img;
    ck_assert_int_eq(pactcl_image_decode(png, n, "looks_like.jpg", 0, &img), PACTCL_OK);
    ck_assert_int_eq(img.width, 13);
    pactcl_image_free(&img);
    free(png);
    uint8_t *jpg = read_fixture("jpeg_rgb.jpg", &n);
    ck_assert_int_eq(pactcl_image_decode(jpg, n, "looks_like.png", 0, &img), PACTCL_OK);
    ck_assert_int_eq(img.width, 37);
    pactcl_image_free(&img);
    free(jpg);
}
END_TEST

/* Pillow reads a PNG whose IEND chunk is missing; so do we. */
START_TEST(png_without_iend)
{
    size_t n, m;
    uint8_t *png = read_fixture("png_rgb.png", &n);
    uint8_t *want = read_fixture("png_rgb.rgb", &m);
    struct pactcl_image img;
    ck_assert_int_eq(pactcl_image_decode(png, n - 12, "no_iend.png", 0, &img), PACTCL_OK);
    ck_assert_mem_eq(img.data, want, m);
    pactcl_image_free(&img);
    free(png);
    free(want);
}
END_TEST

/* ---- bad files ------------------------------------------------------------- */
static const struct {
    const char *file;
    const char *message; /* a part of the error, besides the file name */
} bad[] = {
    {"bad_truncated.jpg", "truncated"},
    {"bad_no_eoi.jpg", "truncated"},
    {"bad_garbage.png", "corrupt PNG"},
    {"bad_truncated.png", "truncated"},
    {"bad_empty.jpg", "empty"},
    {"bad_bomb.png", "100000x100000"},
    {"unsupported.bmp", "format not supported (BMP"},
};
#define N_BAD ((int)(sizeof bad / sizeof bad[0]))

START_TEST(refuses_bad_file)
{
    struct pactcl_image img = {7, 7, (uint8_t *)&img};
    int status = pactcl_image_load(fixture(bad[_i].file), 0, &img);
    ck_assert_int_eq(status, PACTCL_EFORMAT);
    const char *msg = pactcl_last_error();
    ck_assert_msg(strstr(msg, bad[_i].file) != NULL, "message does not name the file: %s", msg);
    ck_assert_msg(strstr(msg, bad[_i].message) != NULL, "expected \"%s\" in: %s", bad[_i].message,
                  msg);
    ck_assert_ptr_null(img.data);
    ck_assert_int_eq(img.width, 0);
}
END_TEST

START_TEST(bomb_message)
{
    struct pactcl_image img;
    ck_assert_int_eq(pactcl_image_load(fixture("bad_bomb.png"), 0, &img), PACTCL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "decompression bomb"));
}
END_TEST

START_TEST(pixel_limit)
{
    struct pactcl_image img;
    /* 13 x 7 = 91 pixels; 37 x 23 = 851. */
    ck_assert_int_eq(pactcl_image_load(fixture("png_rgb.png"), 91, &img), PACTCL_OK);
    pactcl_image_free(&img);
    ck_assert_int_eq(pactcl_image_load(fixture("png_rgb.png"), 90, &img), PACTCL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "13x7"));
    ck_assert_int_eq(pactcl_image_load(fixture("jpeg_rgb.jpg"), 851, &img), PACTCL_OK);
    pactcl_image_free(&img);
    ck_assert_int_eq(pactcl_image_load(fixture("jpeg_rgb.jpg"), 850, &img), PACTCL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "37x23"));
}
END_TEST

START_TEST(unreadable_paths)
{
    struct pactcl_image img;
    ck_assert_int_eq(pactcl_image_load(fixture("no_such_file.jpg"), 0, &img), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "no_such_file.jpg"));
    ck_assert_int_eq(pactcl_image_load(IMAGE_FIXTURES, 0, &img), PACTCL_EIO);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "not a regular file"));
    ck_assert_int_eq(pactcl_image_load(NULL, 0, &img), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_image_decode("xyz", 3, "text.png", 0, &img), PACTCL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "not a JPEG or PNG"));
}
END_TEST

/* Every prefix and many single-byte corruptions of every good file either
 * decode or fail with PACTCL_EFORMAT: no crash, no other status (the test
 * runs under valgrind or ASan cleanly too). */
START_TEST(survives_damage)
{
    size_t n;
    uint8_t *orig = read_fixture(good[_i].file, &n);
    uint8_t *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    struct pactcl_image img;
    for (size_t len = 0; len < n; len++) {
        int status = pactcl_image_decode(orig, len, good[_i].file, 0, &img);
        ck_assert_msg(status == PACTCL_OK || status == PACTCL_EFORMAT, "%s cut at %zu: %d",
                      good[_i].file, len, status);
        pactcl_image_free(&img);
    }
    uint32_t state = 12345u + (uint32_t)_i;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(buf, orig, n);
        for (int k = 0; k < 1 + trial % 3; k++) {
            state = state * 1664525u + 1013904223u;
            size_t at = (state >> 8) % n;
            buf[at] ^= (uint8_t)(1u << (state >> 29));
        }
        int status = pactcl_image_decode(buf, n, good[_i].file, 0, &img);
        ck_assert_msg(status == PACTCL_OK || status == PACTCL_EFORMAT, "%s trial %d: %d",
                      good[_i].file, trial, status);
        pactcl_image_free(&img);
    }
    free(buf);
    free(orig);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("decode");
    tcase_add_loop_test(tc, decodes_like_pillow, 0, N_GOOD);
    tcase_add_test(tc, format_from_magic_bytes);
    tcase_add_test(tc, png_without_iend);
    suite_add_tcase(s, tc);
    tc = tcase_create("refuse");
    tcase_add_loop_test(tc, refuses_bad_file, 0, N_BAD);
    tcase_add_test(tc, bomb_message);
    tcase_add_test(tc, pixel_limit);
    tcase_add_test(tc, unreadable_paths);
    suite_add_tcase(s, tc);
    tc = tcase_create("damage");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, survives_damage, 0, N_GOOD);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(image_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
