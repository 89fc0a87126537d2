/*
 * test_augment.c: Pillow-exact bilinear resampling, the train and eval
 * transforms, the float32 normalisations and numpy's shuffle order, against
 * fixtures from Pillow and numpy (tests/fixtures/images/make_fixtures.py).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pactcl.h"
#include "data/resize.h"
#include "data/sampler.h"
#include "data/transforms.h"

static const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", IMAGE_FIXTURES, name);
    return path;
}

static void *read_fixture(const char *name, size_t *size)
{
    FILE *f = fopen(fixture(name), "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s", fixture(name));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* make_fixtures.py's pattern(): hashed noise, regenerated bit for bit. */
static uint8_t *pattern(int w, int h, uint32_t seed)
{
    uint8_t *img = malloc((size_t)w * h * 3);
    ck_assert_ptr_nonnull(img);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                uint32_t v = (uint32_t)x * 0x9E3779B1u + (uint32_t)y * 0x85EBCA77u +
                             (uint32_t)c * 0xC2B2AE3Du + seed * 0x27D4EB2Fu;
                v ^= v >> 15;
                v *= 0x2C1B3C6Du;
                v ^= v >> 12;
                v *= 0x297A2D39u;
                v ^= v >> 15;
                img[((size_t)y * w + x) * 3 + c] = (uint8_t)v;
            }
        }
    }
    return img;
}

static void assert_same_pixels(const uint8_t *got, const uint8_t *want, size_t n, const char *what)
{
    size_t diffs = 0, first = 0;
    int maxdiff = 0;
    for (size_t i = n; i-- > 0;) {
        int d = abs((int)got[i] - (int)want[i]);
        if (d) {
            diffs++;
            first = i;
            maxdiff = d > maxdiff ? d : maxdiff;
        }
    }
    ck_assert_msg(diffs == 0, "%s: %zu of %zu bytes differ from Pillow (max %d), first at %zu",
                  what, diffs, n, maxdiff, first);
}

/* ---- resampling -------------------------------------------------------------- */
static const struct {
    int sw, sh, seed, dw, dh;
} resize_cases[] = {
    {37, 23, 1, 16, 16}, {100, 60, 2, 24, 24}, {9, 9, 3, 20, 20},  {37, 23, 1, 50, 11},
    {37, 23, 1, 37, 11}, {37, 23, 1, 16, 23},  {100, 60, 2, 3, 2}, {1, 1, 4, 5, 3},
};

START_TEST(resize_like_pillow)
{
    int sw = resize_cases[_i].sw, sh = resize_cases[_i].sh;
    int dw = resize_cases[_i].dw, dh = resize_cases[_i].dh;
    char name[128];
    snprintf(name, sizeof name, "resize_%dx%d_s%d_to_%dx%d.rgb", sw, sh, resize_cases[_i].seed, dw,
             dh);
    uint8_t *src = pattern(sw, sh, (uint32_t)resize_cases[_i].seed);
    size_t n;
    uint8_t *want = read_fixture(name, &n);
    ck_assert_uint_eq(n, (size_t)dw * dh * 3);
    uint8_t *got = malloc(n);
    ck_assert_int_eq(pactcl_resize_bilinear(src, sw, sh, (size_t)sw * 3, dw, dh, NULL, got),
                     PACTCL_OK);
    assert_same_pixels(got, want, n, name);
    free(got);
    free(want);
    free(src);
}
END_TEST

/* RandomResizedCrop's PIL crop + resize: a crop passed as a strided view. */
static const struct {
    int sw, sh, seed, left, top, cw, ch, d;
} crop_cases[] = {
    {100, 60, 2, 17, 9, 61, 43, 24},
    {37, 23, 1, 5, 3, 7, 19, 16},
};

START_TEST(crop_resize_like_pillow)
{
    int sw = crop_cases[_i].sw, d = crop_cases[_i].d;
    char name[128];
    snprintf(name, sizeof name, "crop_%dx%d_s%d_%d_%d_%dx%d_to_%d.rgb", sw, crop_cases[_i].sh,
             crop_cases[_i].seed, crop_cases[_i].left, crop_cases[_i].top, crop_cases[_i].cw,
             crop_cases[_i].ch, d);
    uint8_t *src = pattern(sw, crop_cases[_i].sh, (uint32_t)crop_cases[_i].seed);
    size_t n;
    uint8_t *want = read_fixture(name, &n);
    uint8_t *got = malloc(n);
    const uint8_t *origin = src + ((size_t)crop_cases[_i].top * sw + crop_cases[_i].left) * 3;
    ck_assert_int_eq(pactcl_resize_bilinear(origin, crop_cases[_i].cw, crop_cases[_i].ch,
                                            (size_t)sw * 3, d, d, NULL, got),
                     PACTCL_OK);
    assert_same_pixels(got, want, n, name);
    free(got);
    free(want);
    free(src);
}
END_TEST

/* A window of the output equals the same part of the whole output, whether
 * both passes run or only one. */
START_TEST(resize_window)
{
    static const struct {
        int sw, sh, ow, oh;
    } sizes[] = {{100, 60, 53, 32}, {37, 23, 37, 11}, {37, 23, 16, 23}, {9, 9, 20, 20}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int sw = sizes[s].sw, sh = sizes[s].sh, ow = sizes[s].ow, oh = sizes[s].oh;
        uint8_t *src = pattern(sw, sh, 2);
        uint8_t *full = malloc((size_t)ow * oh * 3);
        ck_assert_int_eq(pactcl_resize_bilinear(src, sw, sh, (size_t)sw * 3, ow, oh, NULL, full),
                         PACTCL_OK);
        const struct pactcl_rect wins[] = {{ow / 4, oh / 5, ow / 2, oh / 2},
                                           {0, 0, 1, 1},
                                           {ow - 1, oh - 1, 1, 1},
                                           {5, 0, ow - 5, oh},
                                           {0, 7, ow, 3}};
        for (size_t k = 0; k < sizeof wins / sizeof wins[0]; k++) {
            const struct pactcl_rect *r = &wins[k];
            uint8_t *part = malloc((size_t)r->width * r->height * 3);
            ck_assert_int_eq(pactcl_resize_bilinear(src, sw, sh, (size_t)sw * 3, ow, oh, r, part),
                             PACTCL_OK);
            for (int y = 0; y < r->height; y++)
                ck_assert_mem_eq(part + (size_t)y * r->width * 3,
                                 full + ((size_t)(r->y + y) * ow + r->x) * 3, (size_t)r->width * 3);
            free(part);
        }
        free(full);
        free(src);
    }
    /* Same size: a plain copy of the window, as Pillow returns a copy. */
    uint8_t *src = pattern(100, 60, 2);
    uint8_t part[4 * 3 * 3];
    struct pactcl_rect r = {10, 20, 4, 3};
    ck_assert_int_eq(pactcl_resize_bilinear(src, 100, 60, 300, 100, 60, &r, part), PACTCL_OK);
    for (int y = 0; y < 3; y++)
        ck_assert_mem_eq(part + y * 12, src + ((size_t)(20 + y) * 100 + 10) * 3, 12);
    free(src);
}
END_TEST

START_TEST(resize_rejects_bad_arguments)
{
    uint8_t px[12] = {0}, out[12];
    struct pactcl_rect outside = {1, 0, 2, 1};
    ck_assert_int_eq(pactcl_resize_bilinear(px, 0, 1, 3, 2, 2, NULL, out), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_resize_bilinear(px, 2, 2, 3, 2, 2, NULL, out), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_resize_bilinear(px, 2, 2, 6, 0, 2, NULL, out), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_resize_bilinear(px, 2, 2, 6, 2, 2, &outside, out), PACTCL_EINVAL);
}
END_TEST

/* ---- normalisation ------------------------------------------------------------- */
static void check_lut(enum pactcl_norm_kind kind, const char *name)
{
    struct pactcl_transform_config cfg;
    pactcl_transform_config_default(&cfg);
    struct pactcl_normalizer norm;
    pactcl_normalizer_init(&norm, kind, cfg.mean, cfg.std);
    /* A 256 x 1 image holding every byte value, normalised as CHW. */
    uint8_t ramp[256 * 3];
    for (int v = 0; v < 256; v++)
        ramp[3 * v] = ramp[3 * v + 1] = ramp[3 * v + 2] = (uint8_t)v;
    float got[3 * 256];
    pactcl_normalize(&norm, ramp, 256, 1, got);
    size_t n;
    float *want = read_fixture(name, &n);
    ck_assert_uint_eq(n, sizeof got);
    for (int i = 0; i < 3 * 256; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                      "%s: channel %d value %d: %.9g, reference %.9g", name, i / 256, i % 256,
                      got[i], want[i]);
    free(want);
}

START_TEST(normalize_train_bits)
{
    check_lut(PACTCL_NORM_TRAIN, "normalize_train.f32");
}
END_TEST

START_TEST(normalize_eval_bits)
{
    check_lut(PACTCL_NORM_EVAL, "normalize_eval.f32");
}
END_TEST

/* ---- eval transform ------------------------------------------------------------ */
START_TEST(eval_geometry_by_hand)
{
    static const struct {
        int w, h, rw, rh, x, y;
    } cases[] = {
        {300, 200, 384, 256, 80, 16}, /* 256 * 300 / 200 = 384; (384-224)/2 = 80 */
        {200, 300, 256, 384, 16, 80},
        {256, 256, 256, 256, 16, 16},
        {500, 375, 341, 256, 58, 16}, /* 341.33 truncated; (341-224)/2 = 58.5 -> 58 */
        {375, 500, 256, 341, 16, 58},
        {257, 256, 257, 256, 16, 16}, /* short side is 256: untouched; 16.5 -> 16 */
        {259, 256, 259, 256, 18, 16}, /* 17.5 -> 18 */
        {299, 301, 256, 257, 16, 16}, /* int(256 * 301 / 299) = 257 */
        {1000, 10, 25600, 256, 12688, 16},
        {224, 224, 256, 256, 16, 16},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct pactcl_eval_geometry g;
        ck_assert_int_eq(pactcl_eval_geometry(cases[k].w, cases[k].h, 256, 224, &g), PACTCL_OK);
        ck_assert_msg(g.resized_width == cases[k].rw && g.resized_height == cases[k].rh &&
                          g.crop.x == cases[k].x && g.crop.y == cases[k].y && g.crop.width == 224 &&
                          g.crop.height == 224,
                      "%dx%d: got %dx%d crop at (%d,%d)", cases[k].w, cases[k].h, g.resized_width,
                      g.resized_height, g.crop.x, g.crop.y);
    }
    struct pactcl_eval_geometry g;
    ck_assert_int_eq(pactcl_eval_geometry(300, 200, 200, 224, &g), PACTCL_EINVAL);
    ck_assert_int_eq(pactcl_eval_geometry(0, 200, 256, 224, &g), PACTCL_EINVAL);
}
END_TEST

/* Resize(32) + CenterCrop(28) + Normalize on a 50x30 image, against the
 * reference pipeline run with Pillow and numpy. */
START_TEST(eval_pipeline_bits)
{
    struct pactcl_transform_config cfg;
    pactcl_transform_config_default(&cfg);
    cfg.resize_size = 32;
    cfg.crop_size = 28;
    struct pactcl_image img = {50, 30, pattern(50, 30, 6)};
    uint8_t crop[28 * 28 * 3];
    ck_assert_int_eq(pactcl_transform_eval(&img, &cfg, crop), PACTCL_OK);
    struct pactcl_normalizer norm;
    pactcl_normalizer_init(&norm, PACTCL_NORM_EVAL, cfg.mean, cfg.std);
    float got[3 * 28 * 28];
    pactcl_normalize(&norm, crop, 28, 28, got);
    size_t n;
    float *want = read_fixture("eval_50x30_s6_r32_c28.f32", &n);
    ck_assert_uint_eq(n, sizeof got);
    ck_assert_mem_eq(got, want, n);
    free(want);
    free(img.data);
}
END_TEST

/* ---- train transform ----------------------------------------------------------- */
START_TEST(crop_box_bounds)
{
    const double scale[2] = {0.08, 1.0}, ratio[2] = {3.0 / 4.0, 4.0 / 3.0};
    const int W = 500, H = 375;
    double min_frac = 1, max_frac = 0, min_aspect = 10, max_aspect = 0;
    int fallbacks = 0;
    for (uint64_t i = 0; i < 5000; i++) {
        struct pactcl_rng rng;
        struct pactcl_crop_box b;
        pactcl_rng_init(&rng, 7, 3, i, PACTCL_RNG_CROP);
        fallbacks += pactcl_random_resized_crop_box(W, H, scale, ratio, &rng, &b);
        ck_assert(b.width > 0 && b.height > 0 && b.left >= 0 && b.top >= 0);
        ck_assert(b.left + b.width <= W && b.top + b.height <= H);
        double frac = (double)b.width * b.height / (W * H), aspect = (double)b.width / b.height;
        min_frac = fmin(min_frac, frac);
        max_frac = fmax(max_frac, frac);
        min_aspect = fmin(min_aspect, aspect);
        max_aspect = fmax(max_aspect, aspect);
    }
    /* w and h are rounded, so the bounds hold to about 1 / side. */
    ck_assert_msg(min_frac > 0.08 * 0.98 && min_frac < 0.09, "area fraction min %g", min_frac);
    ck_assert_msg(max_frac <= 1.0 && max_frac > 0.95, "area fraction max %g", max_frac);
    ck_assert_msg(min_aspect > 0.75 * 0.98 && min_aspect < 0.77, "aspect min %g", min_aspect);
    ck_assert_msg(max_aspect < 4.0 / 3.0 * 1.02 && max_aspect > 1.3, "aspect max %g", max_aspect);
    /* A 4:3 image takes the fallback only when 10 large-area tries all miss. */
    ck_assert_int_lt(fallbacks, 50);
}
END_TEST

START_TEST(crop_box_fallback)
{
    const double scale[2] = {0.08, 1.0}, ratio[2] = {3.0 / 4.0, 4.0 / 3.0};
    struct pactcl_rng rng;
    struct pactcl_crop_box b;
    /* Too wide for any try: h = 10, w = round(10 * 4/3) = 13, centred (floor). */
    pactcl_rng_init(&rng, 1, 0, 0, PACTCL_RNG_CROP);
    ck_assert_int_eq(pactcl_random_resized_crop_box(1000, 10, scale, ratio, &rng, &b), 1);
    ck_assert(b.width == 13 && b.height == 10 && b.left == 493 && b.top == 0);
    /* Too tall: w = 10, h = round(10 / 0.75) = 13. */
    ck_assert_int_eq(pactcl_random_resized_crop_box(10, 1000, scale, ratio, &rng, &b), 1);
    ck_assert(b.width == 10 && b.height == 13 && b.left == 0 && b.top == 493);
    /* Within the ratio range but every area too large: the whole image. */
    const double big[2] = {1.5, 2.0};
    ck_assert_int_eq(pactcl_random_resized_crop_box(40, 30, big, ratio, &rng, &b), 1);
    ck_assert(b.width == 40 && b.height == 30 && b.left == 0 && b.top == 0);
}
END_TEST

/* The train transform is the crop box, Pillow's resize of it, and the flip,
 * each keyed by (seed, epoch, index) only. */
START_TEST(train_transform_composition)
{
    struct pactcl_transform_config cfg;
    pactcl_transform_config_default(&cfg);
    cfg.crop_size = 24;
    const int W = 100, H = 60;
    struct pactcl_image img = {W, H, pattern(W, H, 2)};
    uint8_t a[24 * 24 * 3], b[24 * 24 * 3], want[24 * 24 * 3];
    int flips = 0;
    for (uint64_t index = 0; index < 40; index++) {
        struct pactcl_rng rng;
        struct pactcl_crop_box box;
        pactcl_rng_init(&rng, 99, 5, index, PACTCL_RNG_CROP);
        pactcl_random_resized_crop_box(W, H, cfg.scale, cfg.ratio, &rng, &box);
        const uint8_t *origin = img.data + ((size_t)box.top * W + box.left) * 3;
        ck_assert_int_eq(pactcl_resize_bilinear(origin, box.width, box.height, (size_t)W * 3, 24,
                                                24, NULL, want),
                         PACTCL_OK);
        cfg.hflip_prob = 0.0;
        ck_assert_int_eq(pactcl_transform_train(&img, &cfg, 99, 5, index, a), PACTCL_OK);
        ck_assert_mem_eq(a, want, sizeof a);
        cfg.hflip_prob = 1.0;
        ck_assert_int_eq(pactcl_transform_train(&img, &cfg, 99, 5, index, b), PACTCL_OK);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                ck_assert_mem_eq(&b[(y * 24 + x) * 3], &a[(y * 24 + 23 - x) * 3], 3);
        cfg.hflip_prob = 0.5;
        ck_assert_int_eq(pactcl_transform_train(&img, &cfg, 99, 5, index, b), PACTCL_OK);
        flips += memcmp(a, b, sizeof a) != 0;
        /* Same key, same result. */
        ck_assert_int_eq(pactcl_transform_train(&img, &cfg, 99, 5, index, a), PACTCL_OK);
        ck_assert_mem_eq(a, b, sizeof a);
    }
    ck_assert_msg(flips > 8 && flips < 32, "%d of 40 flipped at p = 0.5", flips);
    free(img.data);
}
END_TEST

START_TEST(transform_config_checks)
{
    struct pactcl_transform_config cfg;
    pactcl_transform_config_default(&cfg);
    ck_assert_int_eq(pactcl_transform_config_check(&cfg), PACTCL_OK);
    ck_assert_int_eq(cfg.crop_size, 224);
    ck_assert_int_eq(cfg.resize_size, 256);
    cfg.resize_size = 200;
    ck_assert_int_eq(pactcl_transform_config_check(&cfg), PACTCL_EINVAL);
    pactcl_transform_config_default(&cfg);
    cfg.ratio[0] = 0;
    ck_assert_int_eq(pactcl_transform_config_check(&cfg), PACTCL_EINVAL);
    pactcl_transform_config_default(&cfg);
    cfg.hflip_prob = 1.5;
    ck_assert_int_eq(pactcl_transform_config_check(&cfg), PACTCL_EINVAL);
    pactcl_transform_config_default(&cfg);
    cfg.std[2] = 0;
    ck_assert_int_eq(pactcl_transform_config_check(&cfg), PACTCL_EINVAL);
}
END_TEST

/* ---- random numbers ------------------------------------------------------------ */
START_TEST(rng_is_keyed)
{
    struct pactcl_rng a, b;
    pactcl_rng_init(&a, 1, 2, 3, PACTCL_RNG_CROP);
    pactcl_rng_init(&b, 1, 2, 3, PACTCL_RNG_CROP);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(pactcl_rng_next(&a), pactcl_rng_next(&b));
    /* Any field of the key changes the stream. */
    const uint64_t keys[][4] = {{0, 2, 3, 0}, {1, 0, 3, 0}, {1, 2, 0, 0}, {1, 2, 3, 1}};
    pactcl_rng_init(&a, 1, 2, 3, PACTCL_RNG_CROP);
    uint64_t first = pactcl_rng_next(&a);
    for (int k = 0; k < 4; k++) {
        pactcl_rng_init(&b, keys[k][0], keys[k][1], keys[k][2], (enum pactcl_rng_stream)keys[k][3]);
        ck_assert_uint_ne(pactcl_rng_next(&b), first);
    }
    /* Ranges and a rough uniformity check of the integers. */
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) {
        double u = pactcl_rng_uniform(&a, -2.0, 3.0);
        ck_assert(u >= -2.0 && u < 3.0);
        int64_t v = pactcl_rng_int(&a, 10, 17);
        ck_assert(v >= 10 && v < 17);
        hist[v - 10]++;
    }
    for (int k = 0; k < 7; k++)
        ck_assert_msg(hist[k] > 9500 && hist[k] < 10500, "bucket %d: %d", k, hist[k]);
    ck_assert_int_eq(pactcl_rng_int(&a, 5, 6), 5);
}
END_TEST

/* ---- sampler ------------------------------------------------------------------- */
START_TEST(sampler_matches_numpy)
{
    size_t size;
    char *text = read_fixture("sampler_orders.txt", &size);
    int checked = 0, checked_big = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *p = line;
        int big = strncmp(p, "big ", 4) == 0;
        if (big)
            p += 4;
        size_t n = strtoull(p, &p, 10);
        uint32_t epoch = (uint32_t)strtoul(p, &p, 10);
        size_t *order = malloc(sizeof *order * n);
        ck_assert_int_eq(pactcl_sampler_order(n, 1, epoch, order), PACTCL_OK);
        if (!big) {
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(order[i] == strtoull(p, &p, 10), "N=%zu epoch %u: position %zu", n,
                              epoch, i);
            checked++;
        } else {
            for (size_t i = 0; i < 8; i++)
                ck_assert_uint_eq(order[i], strtoull(p, &p, 10));
            for (size_t i = n - 8; i < n; i++)
                ck_assert_uint_eq(order[i], strtoull(p, &p, 10));
            uint64_t sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += (uint64_t)(i + 1) * order[i];
            ck_assert_uint_eq(sum, strtoull(p, &p, 10));
            checked_big++;
        }
        free(order);
    }
    ck_assert_int_eq(checked, 8);
    ck_assert_int_eq(checked_big, 2);
    free(text);
}
END_TEST

START_TEST(sampler_sequential_and_batches)
{
    size_t order[5];
    ck_assert_int_eq(pactcl_sampler_order(5, 0, 3, order), PACTCL_OK);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(order[i], i);
    /* ImageNet at batch 64: 20019 iterations, the last of 15 images. */
    ck_assert_uint_eq(pactcl_sampler_batch_count(1281167, 64), 20019);
    ck_assert_uint_eq(1281167 - 20018 * 64, 15);
    ck_assert_uint_eq(pactcl_sampler_batch_count(50000, 64), 782);
    ck_assert_uint_eq(pactcl_sampler_batch_count(128, 64), 2);
    ck_assert_uint_eq(pactcl_sampler_batch_count(0, 64), 0);
}
END_TEST

static Suite *augment_suite(void)
{
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("resize");
    tcase_add_loop_test(tc, resize_like_pillow, 0,
                        (int)(sizeof resize_cases / sizeof resize_cases[0]));
    tcase_add_loop_test(tc, crop_resize_like_pillow, 0,
                        (int)(sizeof crop_cases / sizeof crop_cases[0]));
    tcase_add_test(tc, resize_window);
    tcase_add_test(tc, resize_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("transforms");
    tcase_add_test(tc, normalize_train_bits);
    tcase_add_test(tc, normalize_eval_bits);
    tcase_add_test(tc, eval_geometry_by_hand);
    tcase_add_test(tc, eval_pipeline_bits);
    tcase_add_test(tc, crop_box_bounds);
    tcase_add_test(tc, crop_box_fallback);
    tcase_add_test(tc, train_transform_composition);
    tcase_add_test(tc, transform_config_checks);
    tcase_add_test(tc, rng_is_keyed);
    suite_add_tcase(s, tc);
    tc = tcase_create("sampler");
    tcase_add_test(tc, sampler_matches_numpy);
    tcase_add_test(tc, sampler_sequential_and_batches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(augment_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
