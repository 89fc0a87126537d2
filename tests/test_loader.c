/*
 * test_loader.c: the ImageFolder scan and the threaded loader, over small
 * datasets built in a temporary directory from the image fixtures (with a
 * corrupt file inside).  Nothing is written outside that directory.
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS, mkdtemp */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pactcl.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "data/sampler.h"

static char tmp_root[4096];

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static void make_dir(const char *rel)
{
    char *p = join(tmp_root, rel);
    ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s", p);
    free(p);
}

static void write_file(const char *rel, const void *data, size_t n)
{
    char *p = join(tmp_root, rel);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", p);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    free(p);
}

static void copy_fixture(const char *fixture, const char *rel)
{
    char *src = join(IMAGE_FIXTURES, fixture);
    FILE *f = fopen(src, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", src);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(rel, buf, n);
    free(src);
}

static void make_link(const char *target, const char *rel)
{
    char *p = join(tmp_root, rel);
    ck_assert_msg(symlink(target, p) == 0, "symlink %s", p);
    free(p);
}

/*
 * data/train: a_cls (5 images, one corrupt, one in a subdirectory, plus a
 *             text file), b_cls (4 images, upper-case extensions),
 *             c_empty (no image), d_link -> a_cls, and a plain file.
 * order/val:  one class whose files test Python's walk order.
 * loop/val:   a class containing a link to itself.
 * none/val:   files but no class directory.
 */
static void setup_datasets(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/pactcl-test-loader-XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));

    make_dir("data");
    make_dir("data/train");
    make_dir("data/train/a_cls");
    make_dir("data/train/a_cls/sub");
    make_dir("data/train/b_cls");
    make_dir("data/train/c_empty");
    copy_fixture("png_rgb.png", "data/train/a_cls/img0.png");
    copy_fixture("jpeg_rgb.jpg", "data/train/a_cls/img1.JPG");
    copy_fixture("bad_truncated.jpg", "data/train/a_cls/bad.jpg");
    copy_fixture("png_palette.png", "data/train/a_cls/sub/img2.png");
    copy_fixture("png_gray16.png", "data/train/a_cls/img3.jpeg");
    write_file("data/train/a_cls/notes.txt", "not an image", 12);
    copy_fixture("jpeg_gray.jpg", "data/train/b_cls/x.jpeg");
    copy_fixture("png_rgba16.png", "data/train/b_cls/y.PNG");
    copy_fixture("png_interlaced.png", "data/train/b_cls/z.png");
    copy_fixture("jpeg_cmyk.jpg", "data/train/b_cls/w.JpG");
    write_file("data/train/c_empty/readme.md", "empty", 5);
    write_file("data/train/README", "x", 1);
    make_link("a_cls", "data/train/d_link");

    make_dir("order");
    make_dir("order/val");
    make_dir("order/val/cls");
    make_dir("order/val/cls/a");
    make_dir("order/val/cls/a-b");
    copy_fixture("png_rgb.png", "order/val/cls/a.png");
    copy_fixture("png_rgb.png", "order/val/cls/z.png");
    copy_fixture("png_rgb.png", "order/val/cls/a/x.png");
    copy_fixture("png_rgb.png", "order/val/cls/a-b/y.png");

    make_dir("loop");
    make_dir("loop/val");
    make_dir("loop/val/cls");
    copy_fixture("png_rgb.png", "loop/val/cls/one.png");
    make_link(".", "loop/val/cls/again");

    make_dir("none");
    make_dir("none/val");
    copy_fixture("png_rgb.png", "none/val/stray.png");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void teardown_datasets(void)
{
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static pactcl_image_folder *scan(const char *dataset, const char *split)
{
    char *root = join(tmp_root, dataset);
    pactcl_image_folder *f = NULL;
    int status = pactcl_image_folder_scan(root, split, &f);
    ck_assert_msg(status == PACTCL_OK, "%s", pactcl_last_error());
    free(root);
    return f;
}

/* The path below tmp_root/<dataset>/<split>/ of sample i. */
static const char *rel_path(const pactcl_image_folder *f, size_t i)
{
    return pactcl_image_folder_path(f, i) + strlen(pactcl_image_folder_dir(f)) + 1;
}

/* ---- scan ---------------------------------------------------------------------- */
START_TEST(scan_classes_and_files)
{
    pactcl_image_folder *f = scan("data", "train");
    ck_assert_int_eq(pactcl_image_folder_class_count(f), 4);
    ck_assert_str_eq(pactcl_image_folder_class_name(f, 0), "a_cls");
    ck_assert_str_eq(pactcl_image_folder_class_name(f, 1), "b_cls");
    ck_assert_str_eq(pactcl_image_folder_class_name(f, 2), "c_empty");
    ck_assert_str_eq(pactcl_image_folder_class_name(f, 3), "d_link");
    ck_assert_ptr_null(pactcl_image_folder_class_name(f, 4));
    static const char *const want[] = {
        "a_cls/bad.jpg",      "a_cls/img0.png",      "a_cls/img1.JPG",  "a_cls/img3.jpeg",
        "a_cls/sub/img2.png", "b_cls/w.JpG",         "b_cls/x.jpeg",    "b_cls/y.PNG",
        "b_cls/z.png",        "d_link/bad.jpg",      "d_link/img0.png", "d_link/img1.JPG",
        "d_link/img3.jpeg",   "d_link/sub/img2.png",
    };
    static const int labels[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3};
    ck_assert_uint_eq(pactcl_image_folder_count(f), 14);
    for (size_t i = 0; i < 14; i++) {
        ck_assert_str_eq(rel_path(f, i), want[i]);
        ck_assert_int_eq(pactcl_image_folder_label(f, i), labels[i]);
    }
    ck_assert_ptr_null(pactcl_image_folder_path(f, 14));
    pactcl_image_folder_free(f);
}
END_TEST

/* sorted(os.walk()) orders by directory path, then by file name: a full-path
 * sort would put "a-b/y.png" first. */
START_TEST(scan_walk_order)
{
    pactcl_image_folder *f = scan("order", "val");
    static const char *const want[] = {"cls/a.png", "cls/z.png", "cls/a/x.png", "cls/a-b/y.png"};
    ck_assert_uint_eq(pactcl_image_folder_count(f), 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(rel_path(f, i), want[i]);
    pactcl_image_folder_free(f);
}
END_TEST

START_TEST(scan_link_cycle)
{
    pactcl_log_set_level(PACTCL_LOG_ERROR); /* the skipped loop warns */
    pactcl_image_folder *f = scan("loop", "val");
    ck_assert_uint_eq(pactcl_image_folder_count(f), 1);
    ck_assert_str_eq(rel_path(f, 0), "cls/one.png");
    pactcl_image_folder_free(f);
}
END_TEST

START_TEST(scan_errors_name_the_directory)
{
    pactcl_image_folder *f = (pactcl_image_folder *)&f;
    char *root = join(tmp_root, "data");
    ck_assert_int_eq(pactcl_image_folder_scan(root, "missing", &f), PACTCL_ENOTFOUND);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "data/missing"));
    free(root);

    root = join(tmp_root, "none");
    ck_assert_int_eq(pactcl_image_folder_scan(root, "val", &f), PACTCL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "none/val"));
    ck_assert_ptr_nonnull(strstr(pactcl_last_error(), "no class folders"));
    free(root);

    root = join(tmp_root, "data/train");
    ck_assert_int_eq(pactcl_image_folder_scan(root, "c_empty", &f), PACTCL_ENOTFOUND);
    free(root);
    root = join(tmp_root, "data/train/a_cls");
    /* a_cls has one subdirectory ("sub") whose only image makes a dataset. */
    ck_assert_int_eq(pactcl_image_folder_scan(root, NULL, &f), PACTCL_OK);
    ck_assert_uint_eq(pactcl_image_folder_count(f), 1);
    pactcl_image_folder_free(f);
    free(root);
}
END_TEST

START_TEST(extension_matching)
{
    ck_assert(pactcl_image_folder_has_image_extension("x.JPEG"));
    ck_assert(pactcl_image_folder_has_image_extension("x.TiFf"));
    ck_assert(pactcl_image_folder_has_image_extension(".webp"));
    ck_assert(!pactcl_image_folder_has_image_extension("x.jpg.txt"));
    ck_assert(!pactcl_image_folder_has_image_extension("jpg"));
    ck_assert(!pactcl_image_folder_has_image_extension("x.gif"));
}
END_TEST

/* ---- loader -------------------------------------------------------------------- */
#define SIDE 16
#define BATCH 3
#define EPOCHS 2

struct skips {
    int calls;
    char paths[8][4096];
};

static void on_skip(void *user, const char *path, const char *message)
{
    struct skips *s = user;
    ck_assert_ptr_nonnull(strstr(message, path));
    if (s->calls < 8)
        snprintf(s->paths[s->calls], sizeof s->paths[0], "%s", path);
    s->calls++;
}

/* Everything a loader produced over EPOCHS epochs. */
struct run {
    size_t n;
    float *images;
    int32_t *labels;
    size_t *indices;
    int batch_sizes[EPOCHS][16];
    int n_batches[EPOCHS];
    size_t skipped[EPOCHS][4];
    size_t n_skipped[EPOCHS];
    struct skips skips;
};

static void configure(struct pactcl_loader_config *cfg, const pactcl_image_folder *f,
                      enum pactcl_loader_mode mode, int workers)
{
    pactcl_loader_config_default(cfg);
    cfg->folder = f;
    cfg->mode = mode;
    cfg->batch_size = BATCH;
    cfg->workers = workers;
    cfg->seed = 1234;
    cfg->transform.crop_size = SIDE;
    cfg->transform.resize_size = 20;
    cfg->on_skip = on_skip;
}

static void collect(const pactcl_image_folder *f, enum pactcl_loader_mode mode, int workers,
                    int prefetch, struct run *r)
{
    memset(r, 0, sizeof *r);
    struct pactcl_loader_config cfg;
    configure(&cfg, f, mode, workers);
    cfg.prefetch = prefetch;
    cfg.user = &r->skips;
    pactcl_loader *l;
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_OK);
    const size_t floats = pactcl_loader_sample_floats(l);
    ck_assert_uint_eq(floats, 3 * SIDE * SIDE);
    const size_t cap = pactcl_image_folder_count(f) * EPOCHS;
    r->images = malloc(sizeof(float) * floats * cap);
    r->labels = malloc(sizeof(int32_t) * cap);
    r->indices = malloc(sizeof(size_t) * cap);
    for (int e = 0; e < EPOCHS; e++) {
        ck_assert_int_eq(pactcl_loader_start_epoch(l, (uint32_t)e), PACTCL_OK);
        for (;;) {
            struct pactcl_batch b = {r->images + r->n * floats, r->labels + r->n, r->indices + r->n,
                                     -1};
            ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
            if (b.count == 0)
                break;
            ck_assert_int_lt(r->n_batches[e], 16);
            r->batch_sizes[e][r->n_batches[e]++] = b.count;
            r->n += (size_t)b.count;
        }
        struct pactcl_loader_stats st;
        pactcl_loader_stats(l, &st);
        ck_assert_uint_eq(st.epoch, (unsigned)e);
        ck_assert_uint_eq(st.batches, (size_t)r->n_batches[e]);
        const size_t *sk = pactcl_loader_skipped(l, &r->n_skipped[e]);
        ck_assert_uint_eq(st.skipped, r->n_skipped[e]);
        ck_assert_uint_le(r->n_skipped[e], 4);
        memcpy(r->skipped[e], sk, r->n_skipped[e] * sizeof *sk);
    }
    pactcl_loader_free(l);
}

static void free_run(struct run *r)
{
    free(r->images);
    free(r->labels);
    free(r->indices);
}

/* What the loader must deliver: the sampler's order minus the corrupt files,
 * in full batches but the last, each sample as the transforms compute it. */
static void check_run(const pactcl_image_folder *f, enum pactcl_loader_mode mode,
                      const struct run *r)
{
    const size_t n = pactcl_image_folder_count(f);
    size_t *order = malloc(sizeof *order * n);
    size_t at = 0;
    struct pactcl_transform_config tc;
    pactcl_transform_config_default(&tc);
    tc.crop_size = SIDE;
    tc.resize_size = 20;
    struct pactcl_normalizer norm;
    pactcl_normalizer_init(
        &norm, mode == PACTCL_LOADER_TRAIN ? PACTCL_NORM_TRAIN : PACTCL_NORM_EVAL, tc.mean, tc.std);
    for (int e = 0; e < EPOCHS; e++) {
        ck_assert_int_eq(pactcl_sampler_order(n, mode == PACTCL_LOADER_TRAIN, (uint32_t)e, order),
                         PACTCL_OK);
        size_t skipped = 0;
        for (size_t p = 0; p < n; p++) {
            const char *path = pactcl_image_folder_path(f, order[p]);
            if (strstr(path, "bad.jpg")) {
                ck_assert_uint_lt(skipped, r->n_skipped[e]);
                ck_assert_uint_eq(r->skipped[e][skipped], order[p]);
                skipped++;
                continue;
            }
            ck_assert_uint_eq(r->indices[at], order[p]);
            ck_assert_int_eq(r->labels[at], pactcl_image_folder_label(f, order[p]));
            struct pactcl_image img;
            uint8_t px[SIDE * SIDE * 3];
            float want[3 * SIDE * SIDE];
            ck_assert_int_eq(pactcl_image_load(path, 0, &img), PACTCL_OK);
            if (mode == PACTCL_LOADER_TRAIN)
                ck_assert_int_eq(pactcl_transform_train(&img, &tc, 1234, (uint64_t)e, order[p], px),
                                 PACTCL_OK);
            else
                ck_assert_int_eq(pactcl_transform_eval(&img, &tc, px), PACTCL_OK);
            pactcl_image_free(&img);
            pactcl_normalize(&norm, px, SIDE, SIDE, want);
            ck_assert_mem_eq(r->images + at * 3 * SIDE * SIDE, want, sizeof want);
            at++;
        }
        ck_assert_uint_eq(skipped, 2); /* a_cls/bad.jpg and d_link/bad.jpg */
        ck_assert_uint_eq(r->n_skipped[e], 2);
        /* 12 good samples in batches of 3. */
        ck_assert_int_eq(r->n_batches[e], 4);
        for (int b = 0; b < r->n_batches[e]; b++)
            ck_assert_int_eq(r->batch_sizes[e][b], BATCH);
    }
    ck_assert_uint_eq(at, r->n);
    /* One warning per bad file over both epochs. */
    ck_assert_int_eq(r->skips.calls, 2);
    ck_assert_ptr_nonnull(strstr(r->skips.paths[0], "bad.jpg"));
    ck_assert_ptr_nonnull(strstr(r->skips.paths[1], "bad.jpg"));
    ck_assert_str_ne(r->skips.paths[0], r->skips.paths[1]);
    free(order);
}

static void check_same(const struct run *a, const struct run *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_mem_eq(a->indices, b->indices, a->n * sizeof *a->indices);
    ck_assert_mem_eq(a->labels, b->labels, a->n * sizeof *a->labels);
    ck_assert_mem_eq(a->images, b->images, a->n * 3 * SIDE * SIDE * sizeof(float));
}

static void loader_modes(enum pactcl_loader_mode mode)
{
    pactcl_image_folder *f = scan("data", "train");
    struct run r0, r1, r3, r3p;
    collect(f, mode, 0, 0, &r0);
    check_run(f, mode, &r0);
    collect(f, mode, 1, 0, &r1);
    check_same(&r0, &r1);
    collect(f, mode, 3, 0, &r3);
    check_same(&r0, &r3);
    /* A ring smaller than the batch still delivers everything in order. */
    collect(f, mode, 3, 1, &r3p);
    check_same(&r0, &r3p);
    check_run(f, mode, &r3p);
    free_run(&r0);
    free_run(&r1);
    free_run(&r3);
    free_run(&r3p);
    pactcl_image_folder_free(f);
}

START_TEST(loader_train_any_workers)
{
    loader_modes(PACTCL_LOADER_TRAIN);
}
END_TEST

START_TEST(loader_eval_any_workers)
{
    loader_modes(PACTCL_LOADER_EVAL);
}
END_TEST

/* Without a callback the skip is a pactcl warning, not a failure. */
START_TEST(loader_default_warning)
{
    pactcl_log_set_level(PACTCL_LOG_ERROR);
    pactcl_image_folder *f = scan("data", "train");
    struct pactcl_loader_config cfg;
    configure(&cfg, f, PACTCL_LOADER_EVAL, 2);
    cfg.on_skip = NULL;
    cfg.batch_size = 100;
    pactcl_loader *l;
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_OK);
    float *images = malloc(sizeof(float) * 100 * pactcl_loader_sample_floats(l));
    int32_t labels[100];
    struct pactcl_batch b = {images, labels, NULL, 0};
    ck_assert_int_eq(pactcl_loader_start_epoch(l, 0), PACTCL_OK);
    ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
    ck_assert_int_eq(b.count, 12);
    ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
    ck_assert_int_eq(b.count, 0);
    ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
    ck_assert_int_eq(b.count, 0);
    free(images);
    pactcl_loader_free(l);
    pactcl_image_folder_free(f);
}
END_TEST

/* Freeing mid-epoch stops the workers; an abandoned epoch restarts cleanly. */
START_TEST(loader_shutdown_and_restart)
{
    pactcl_image_folder *f = scan("data", "train");
    struct skips skips = {0};
    struct pactcl_loader_config cfg;
    configure(&cfg, f, PACTCL_LOADER_TRAIN, 3);
    cfg.user = &skips;
    cfg.batch_size = 2;
    pactcl_loader *l;

    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_OK);
    pactcl_loader_free(l); /* never started */

    float *images = malloc(sizeof(float) * 2 * 3 * SIDE * SIDE);
    int32_t labels[2];
    size_t indices[2];
    struct pactcl_batch b = {images, labels, indices, 0};
    for (int round = 0; round < 20; round++) {
        ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_OK);
        ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_EINVAL); /* no epoch yet */
        ck_assert_int_eq(pactcl_loader_start_epoch(l, 0), PACTCL_OK);
        if (round % 2)
            ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
        pactcl_loader_free(l); /* workers may be decoding right now */
    }

    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_OK);
    ck_assert_int_eq(pactcl_loader_start_epoch(l, 1), PACTCL_OK);
    ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
    ck_assert_int_eq(pactcl_loader_start_epoch(l, 1), PACTCL_OK); /* abandon, restart */
    size_t seen[16] = {0}, total = 0;
    for (;;) {
        ck_assert_int_eq(pactcl_loader_next(l, &b), PACTCL_OK);
        if (b.count == 0)
            break;
        for (int i = 0; i < b.count; i++)
            seen[indices[i]]++;
        total += (size_t)b.count;
    }
    ck_assert_uint_eq(total, 12);
    for (size_t i = 0; i < pactcl_image_folder_count(f); i++)
        ck_assert_uint_eq(seen[i], strstr(pactcl_image_folder_path(f, i), "bad.jpg") ? 0 : 1);
    struct pactcl_loader_stats st;
    pactcl_loader_stats(l, &st);
    ck_assert_uint_eq(st.delivered, 12);
    ck_assert_uint_eq(st.skipped, 2);
    ck_assert_uint_eq(st.samples, 14);
    pactcl_loader_free(l);
    free(images);
    pactcl_image_folder_free(f);
}
END_TEST

START_TEST(loader_rejects_bad_config)
{
    pactcl_image_folder *f = scan("data", "train");
    struct pactcl_loader_config cfg;
    pactcl_loader *l = (pactcl_loader *)&l;
    configure(&cfg, f, PACTCL_LOADER_TRAIN, 1);
    cfg.batch_size = 0;
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_EINVAL);
    ck_assert_ptr_null(l);
    configure(&cfg, f, PACTCL_LOADER_TRAIN, -1);
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_EINVAL);
    configure(&cfg, NULL, PACTCL_LOADER_TRAIN, 1);
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_EINVAL);
    configure(&cfg, f, PACTCL_LOADER_TRAIN, 1);
    cfg.transform.resize_size = 8;
    ck_assert_int_eq(pactcl_loader_create(&cfg, &l), PACTCL_EINVAL);
    pactcl_image_folder_free(f);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("scan");
    tcase_add_unchecked_fixture(tc, setup_datasets, teardown_datasets);
    tcase_add_test(tc, scan_classes_and_files);
    tcase_add_test(tc, scan_walk_order);
    tcase_add_test(tc, scan_link_cycle);
    tcase_add_test(tc, scan_errors_name_the_directory);
    tcase_add_test(tc, extension_matching);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, setup_datasets, teardown_datasets);
    tcase_add_test(tc, loader_train_any_workers);
    tcase_add_test(tc, loader_eval_any_workers);
    tcase_add_test(tc, loader_default_warning);
    tcase_add_test(tc, loader_shutdown_and_restart);
    tcase_add_test(tc, loader_rejects_bad_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
