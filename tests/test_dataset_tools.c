/*
 * test_dataset_tools.c: the Fashion-MNIST converter over small IDX files made
 * here with zlib (good ones, and each kind of broken one), the IDX reader and
 * PNG writer underneath it, and the SVG chart of a training run.  Each test
 * works in its own temporary directory and removes it.
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS, mkdtemp */
#include <check.h>
#include <dirent.h>
#include <ctype.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "pactcl.h"
#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "data/png_write.h"
#include "train/run_plot.h"
#include "train/trainer.h"

#define SIDE 28
#define NAME_LEN 256 /* a file name and its NUL */
#define N_TRAIN 7
#define N_VAL 4

static const uint8_t train_labels[N_TRAIN] = { 3, 0, 9, 3, 1, 7, 0 };
static const uint8_t val_labels[N_VAL] = { 9, 0, 5, 9 };

static const char *const expected_classes[10] = {
    "0_tshirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
    "5_sandal",     "6_shirt",   "7_sneaker",  "8_bag",   "9_ankle_boot",
};

static char tmp_root[4096];

static char *path_of(const char *rel)
{
    size_t n = strlen(tmp_root) + strlen(rel) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", tmp_root, rel);
    return p;
}

static int exists(const char *rel)
{
    char *p = path_of(rel);
    struct stat st;
    int r = lstat(p, &st) == 0;
    free(p);
    return r;
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/pactcl-test-dataset-XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
    char *src = path_of("src");
    ck_assert_int_eq(mkdir(src, 0755), 0);
    free(src);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- making IDX files ---------------------------------------------------- */

/* Pixel (r, c) of image i: distinct across images, rows and columns. */
static uint8_t pixel(size_t i, int r, int c)
{
    return (uint8_t)(i * 37 + (size_t)r * 7 + (size_t)c * 3);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An IDX image file of `count` SIDE x SIDE images whose header declares
 * `declared` images with `magic`; *size gets the byte count. */
static uint8_t *images_idx(uint32_t magic, uint32_t declared, size_t count, size_t *size)
{
    *size = 16 + count * SIDE * SIDE;
    uint8_t *b = malloc(*size);
    ck_assert_ptr_nonnull(b);
    put_be32(b, magic);
    put_be32(b + 4, declared);
    put_be32(b + 8, SIDE);
    put_be32(b + 12, SIDE);
    for (size_t i = 0; i < count; i++)
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++)
                b[16 + (i * SIDE + (size_t)r) * SIDE + (size_t)c] = pixel(i, r, c);
    return b;
}

static uint8_t *labels_idx(const uint8_t *labels, size_t count, size_t *size)
{
    *size = 8 + count;
    uint8_t *b = malloc(*size);
    ck_assert_ptr_nonnull(b);
    put_be32(b, 0x801);
    put_be32(b + 4, (uint32_t)count);
    memcpy(b + 8, labels, count);
    return b;
}

/* Writes `data` gzip-compressed to <tmp>/src/<name>, keeping only the first
 * `keep` bytes of the compressed file (SIZE_MAX: all). */
static void write_gz(const char *name, const uint8_t *data, size_t n, size_t keep)
{
    char rel[256];
    snprintf(rel, sizeof rel, "src/%s", name);
    char *p = path_of(rel);
    gzFile gz = gzopen(p, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(gz), Z_OK);
    if (keep != SIZE_MAX)
        ck_assert_int_eq(truncate(p, (off_t)keep), 0);
    free(p);
}

static long file_size(const char *rel)
{
    char *p = path_of(rel);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    free(p);
    return (long)st.st_size;
}

/* The four good files: N_TRAIN training and N_VAL validation images. */
static void write_sources(void)
{
    size_t n;
    uint8_t *b = images_idx(0x803, N_TRAIN, N_TRAIN, &n);
    write_gz("train-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    b = labels_idx(train_labels, N_TRAIN, &n);
    write_gz("train-labels-idx1-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    b = images_idx(0x803, N_VAL, N_VAL, &n);
    write_gz("t10k-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    b = labels_idx(val_labels, N_VAL, &n);
    write_gz("t10k-labels-idx1-ubyte.gz", b, n, SIZE_MAX);
    free(b);
}

static int convert(const char *out_rel, size_t limit_train, size_t limit_val,
                   struct pactcl_fashion_mnist_result *r)
{
    char *src = path_of("src");
    char *out = path_of(out_rel);
    struct pactcl_fashion_mnist_options o = {
        .src_dir = src, .out_dir = out, .limit_train = limit_train, .limit_val = limit_val,
    };
    int rc = pactcl_fashion_mnist_convert(&o, r);
    free(src);
    free(out);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Sorted names in <tmp>/<rel>, "." and ".." left out; returns the count. */
static int list_dir(const char *rel, char names[][NAME_LEN], int max)
{
    char *p = path_of(rel);
    DIR *d = opendir(p);
    ck_assert_msg(d != NULL, "cannot list %s", p);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        ck_assert_int_lt(n, max);
        snprintf(names[n++], NAME_LEN, "%s", e->d_name);
    }
    closedir(d);
    free(p);
    qsort(names, (size_t)n, NAME_LEN, compare_names);
    return n;
}

/* <out> after a failed conversion: nothing that looks like a dataset. */
static void assert_nothing_left(const char *out_rel)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/train", out_rel);
    ck_assert_msg(!exists(rel), "%s left behind", rel);
    snprintf(rel, sizeof rel, "%s/val", out_rel);
    ck_assert_msg(!exists(rel), "%s left behind", rel);
    snprintf(rel, sizeof rel, "%s/.complete", out_rel);
    ck_assert_msg(!exists(rel), "%s left behind", rel);
    if (exists(out_rel)) {
        char names[16][NAME_LEN];
        int n = list_dir(out_rel, names, 16);
        for (int i = 0; i < n; i++)
            ck_assert_msg(strncmp(names[i], ".partial-", 9) != 0, "%s/%s left behind", out_rel,
                          names[i]);
    }
}

static void assert_error_mentions(const char *what)
{
    ck_assert_msg(strstr(pactcl_last_error(), what) != NULL, "error '%s' does not mention '%s'",
                  pactcl_last_error(), what);
}

/* ---- conversion -------------------------------------------------------- */

static void check_split(const char *split, const uint8_t *labels, size_t n)
{
    char rel[256], names[32][NAME_LEN];
    snprintf(rel, sizeof rel, "out/%s", split);
    ck_assert_int_eq(list_dir(rel, names, 32), 10);
    for (int c = 0; c < 10; c++)
        ck_assert_str_eq(names[c], expected_classes[c]);
    /* Every class folder holds exactly its images, named by IDX index. */
    for (int c = 0; c < 10; c++) {
        snprintf(rel, sizeof rel, "out/%s/%s", split, expected_classes[c]);
        int got = list_dir(rel, names, 32), k = 0;
        for (size_t i = 0; i < n; i++) {
            if (labels[i] != c)
                continue;
            char want[64];
            snprintf(want, sizeof want, "%05zu.png", i);
            ck_assert_int_lt(k, got);
            ck_assert_str_eq(names[k++], want);
        }
        ck_assert_int_eq(got, k);
    }
}

static void check_pixels(const char *rel, size_t index)
{
    char *p = path_of(rel);
    struct pactcl_image img;
    ck_assert_msg(pactcl_image_load(p, 0, &img) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_int_eq(img.width, SIDE);
    ck_assert_int_eq(img.height, SIDE);
    for (int r = 0; r < SIDE; r++)
        for (int c = 0; c < SIDE; c++)
            for (int ch = 0; ch < 3; ch++)
                ck_assert_uint_eq(img.data[3 * (r * SIDE + c) + ch], pixel(index, r, c));
    pactcl_image_free(&img);
    free(p);
}

START_TEST(convert_layout_pixels_and_scan)
{
    write_sources();
    struct pactcl_fashion_mnist_result r;
    ck_assert_msg(convert("out", 0, 0, &r) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_uint_eq(r.n_train, N_TRAIN);
    ck_assert_uint_eq(r.n_val, N_VAL);
    ck_assert_int_eq(r.already_complete, 0);

    char names[8][NAME_LEN];
    ck_assert_int_eq(list_dir("out", names, 8), 3);
    ck_assert_str_eq(names[0], ".complete");
    ck_assert_str_eq(names[1], "train");
    ck_assert_str_eq(names[2], "val");
    check_split("train", train_labels, N_TRAIN);
    check_split("val", val_labels, N_VAL);

    check_pixels("out/train/3_dress/00000.png", 0);
    check_pixels("out/train/0_tshirt_top/00006.png", 6);
    check_pixels("out/val/5_sandal/00002.png", 2);

    /* ImageFolder sees the Fashion-MNIST labels, files in class then index
     * order. */
    char *out = path_of("out");
    pactcl_image_folder *f = NULL;
    ck_assert_msg(pactcl_image_folder_scan(out, "train", &f) == PACTCL_OK, "%s",
                  pactcl_last_error());
    ck_assert_int_eq(pactcl_image_folder_class_count(f), 10);
    for (int c = 0; c < 10; c++)
        ck_assert_str_eq(pactcl_image_folder_class_name(f, c), expected_classes[c]);
    static const int32_t want_labels[N_TRAIN] = { 0, 0, 1, 3, 3, 7, 9 };
    static const char *const want_files[N_TRAIN] = { "00001", "00006", "00004", "00000",
                                                     "00003", "00005", "00002" };
    ck_assert_uint_eq(pactcl_image_folder_count(f), N_TRAIN);
    for (size_t i = 0; i < N_TRAIN; i++) {
        ck_assert_int_eq(pactcl_image_folder_label(f, i), want_labels[i]);
        ck_assert_ptr_nonnull(strstr(pactcl_image_folder_path(f, i), want_files[i]));
    }
    pactcl_image_folder_free(f);
    ck_assert_int_eq(pactcl_image_folder_scan(out, "val", &f), PACTCL_OK);
    ck_assert_uint_eq(pactcl_image_folder_count(f), N_VAL);
    ck_assert_int_eq(pactcl_image_folder_label(f, 0), 0);
    ck_assert_int_eq(pactcl_image_folder_label(f, 3), 9);
    pactcl_image_folder_free(f);
    free(out);
}
END_TEST

START_TEST(convert_again_is_a_no_op)
{
    write_sources();
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_OK);
    /* The sources are gone: a no-op must not read them. */
    char *src = path_of("src/train-images-idx3-ubyte.gz");
    ck_assert_int_eq(unlink(src), 0);
    free(src);
    ck_assert_msg(convert("out", 0, 0, &r) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_int_eq(r.already_complete, 1);
    ck_assert_uint_eq(r.n_train, N_TRAIN);
    ck_assert_uint_eq(r.n_val, N_VAL);
    /* Other limits: refused, the dataset left as it was. */
    ck_assert_int_eq(convert("out", 3, 0, &r), PACTCL_EINVAL);
    assert_error_mentions(".complete");
    ck_assert(exists("out/train/9_ankle_boot/00002.png"));
    ck_assert(exists("out/.complete"));
}
END_TEST

START_TEST(convert_limits_keep_all_classes)
{
    write_sources();
    struct pactcl_fashion_mnist_result r;
    ck_assert_msg(convert("deep/er/out", 3, 2, &r) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_uint_eq(r.n_train, 3);
    ck_assert_uint_eq(r.n_val, 2);
    char names[16][NAME_LEN];
    ck_assert_int_eq(list_dir("deep/er/out/train", names, 16), 10);
    ck_assert_int_eq(list_dir("deep/er/out/val", names, 16), 10);
    ck_assert(exists("deep/er/out/train/3_dress/00000.png"));
    ck_assert(exists("deep/er/out/train/9_ankle_boot/00002.png"));
    ck_assert(!exists("deep/er/out/train/3_dress/00003.png"));
    ck_assert(exists("deep/er/out/val/0_tshirt_top/00001.png"));
    ck_assert_int_eq(list_dir("deep/er/out/val/5_sandal", names, 16), 0);
    /* The same limits again: a no-op. */
    ck_assert_int_eq(convert("deep/er/out", 3, 2, &r), PACTCL_OK);
    ck_assert_int_eq(r.already_complete, 1);
    ck_assert_uint_eq(r.n_train, 3);
}
END_TEST

START_TEST(convert_removes_stale_staging)
{
    write_sources();
    /* A staging directory of a process that is gone. */
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
    char rel[64];
    char *out = path_of("out");
    ck_assert_int_eq(mkdir(out, 0755), 0);
    free(out);
    snprintf(rel, sizeof rel, "out/.partial-%ld", (long)child);
    char *stale = path_of(rel);
    ck_assert_int_eq(mkdir(stale, 0755), 0);
    free(stale);
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_OK);
    ck_assert(!exists(rel));
}
END_TEST

/* ---- refusals ------------------------------------------------------------ */

START_TEST(refuse_truncated_gzip)
{
    write_sources();
    size_t n;
    uint8_t *b = images_idx(0x803, N_TRAIN, N_TRAIN, &n);
    write_gz("train-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    long full = file_size("src/train-images-idx3-ubyte.gz");
    /* Cut inside the deflate data, then only inside the 8-byte trailer. */
    const size_t keeps[2] = { (size_t)full / 2, (size_t)full - 3 };
    for (int k = 0; k < 2; k++) {
        write_gz("train-images-idx3-ubyte.gz", b, n, keeps[k]);
        struct pactcl_fashion_mnist_result r;
        ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
        assert_error_mentions("train-images-idx3-ubyte.gz");
        assert_error_mentions("truncated");
        assert_nothing_left("out");
    }
    free(b);
}
END_TEST

START_TEST(refuse_wrong_magic)
{
    write_sources();
    size_t n;
    uint8_t *b = images_idx(0x804, N_VAL, N_VAL, &n);
    write_gz("t10k-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("t10k-images-idx3-ubyte.gz");
    assert_error_mentions("0x00000803");
    assert_nothing_left("out");
    /* A label file given where images are expected. */
    b = labels_idx(val_labels, N_VAL, &n);
    write_gz("t10k-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("magic 0x00000801");
    assert_nothing_left("out");
}
END_TEST

START_TEST(refuse_size_mismatch)
{
    write_sources();
    size_t n;
    struct pactcl_fashion_mnist_result r;
    /* The header promises 7 images; 6 follow. */
    uint8_t *b = images_idx(0x803, N_TRAIN, N_TRAIN - 1, &n);
    write_gz("train-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("train-images-idx3-ubyte.gz");
    assert_error_mentions("7x28x28");
    assert_nothing_left("out");
    /* The header promises 6; 7 follow. */
    b = images_idx(0x803, N_TRAIN - 1, N_TRAIN, &n);
    write_gz("train-images-idx3-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("bytes past");
    assert_nothing_left("out");
    /* A header cut short. */
    uint8_t head[6] = { 0, 0, 8, 3, 0, 0 };
    write_gz("train-images-idx3-ubyte.gz", head, sizeof head, SIZE_MAX);
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("truncated IDX header");
    assert_nothing_left("out");
}
END_TEST

START_TEST(refuse_count_mismatch)
{
    write_sources();
    size_t n;
    uint8_t *b = labels_idx(train_labels, N_TRAIN - 1, &n);
    write_gz("train-labels-idx1-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("7 images");
    assert_error_mentions("6 labels");
    assert_error_mentions("train-labels-idx1-ubyte.gz");
    assert_nothing_left("out");
}
END_TEST

START_TEST(refuse_label_out_of_range)
{
    write_sources();
    const uint8_t bad[N_VAL] = { 9, 0, 10, 9 };
    size_t n;
    uint8_t *b = labels_idx(bad, N_VAL, &n);
    write_gz("t10k-labels-idx1-ubyte.gz", b, n, SIZE_MAX);
    free(b);
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EFORMAT);
    assert_error_mentions("t10k-labels-idx1-ubyte.gz");
    assert_error_mentions("label 10 at index 2");
    assert_nothing_left("out");
}
END_TEST

START_TEST(refuse_missing_file)
{
    write_sources();
    char *p = path_of("src/t10k-labels-idx1-ubyte.gz");
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    struct pactcl_fashion_mnist_result r;
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_ENOTFOUND);
    assert_error_mentions("t10k-labels-idx1-ubyte.gz");
    assert_error_mentions("apt-get install dataset-fashion-mnist");
    assert_nothing_left("out");
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(refuse_foreign_output)
{
    write_sources();
    struct pactcl_fashion_mnist_result r;
    /* train/ without the marker: someone else's data, or a crash. */
    char *p = path_of("out");
    ck_assert_int_eq(mkdir(p, 0755), 0);
    free(p);
    p = path_of("out/train");
    ck_assert_int_eq(mkdir(p, 0755), 0);
    free(p);
    ck_assert_int_eq(convert("out", 0, 0, &r), PACTCL_EINVAL);
    assert_error_mentions(".complete");
    ck_assert(exists("out/train"));
    ck_assert(!exists("out/val"));
    /* An output path that is a file. */
    p = path_of("file");
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    free(p);
    ck_assert_int_eq(convert("file", 0, 0, &r), PACTCL_EIO);
    assert_error_mentions("file");
}
END_TEST

/* ---- IDX reader and PNG writer ------------------------------------------ */

START_TEST(idx_reads_plain_and_gzip)
{
    size_t n;
    uint8_t *b = labels_idx(train_labels, N_TRAIN, &n);
    char *plain = path_of("labels.idx");
    FILE *f = fopen(plain, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    write_gz("labels.gz", b, n, SIZE_MAX);
    char *gz = path_of("src/labels.gz");
    const char *paths[2] = { plain, gz };
    for (int i = 0; i < 2; i++) {
        struct pactcl_idx idx;
        ck_assert_msg(pactcl_idx_load(paths[i], 1, &idx) == PACTCL_OK, "%s", pactcl_last_error());
        ck_assert_int_eq(idx.ndims, 1);
        ck_assert_uint_eq(idx.dims[0], N_TRAIN);
        ck_assert_uint_eq(idx.size, N_TRAIN);
        ck_assert_mem_eq(idx.data, train_labels, N_TRAIN);
        pactcl_idx_free(&idx);
        /* Read as 3-dimensional: the magic is refused. */
        ck_assert_int_eq(pactcl_idx_load(paths[i], 3, &idx), PACTCL_EFORMAT);
        ck_assert_ptr_null(idx.data);
    }
    free(b);
    free(plain);
    free(gz);
    /* Dimensions describing more than PACTCL_IDX_MAX_BYTES: refused before
     * any allocation. */
    uint8_t huge[16];
    put_be32(huge, 0x803);
    put_be32(huge + 4, 0xffffffffu);
    put_be32(huge + 8, 0xffffffffu);
    put_be32(huge + 12, 0xffffffffu);
    write_gz("huge.gz", huge, sizeof huge, SIZE_MAX);
    char *hp = path_of("src/huge.gz");
    struct pactcl_idx idx;
    ck_assert_int_eq(pactcl_idx_load(hp, 3, &idx), PACTCL_EFORMAT);
    free(hp);
    /* A directory is not a file. */
    char *dir = path_of("src");
    ck_assert_int_eq(pactcl_idx_load(dir, 1, &idx), PACTCL_EIO);
    free(dir);
}
END_TEST

START_TEST(png_gray_round_trip)
{
    uint8_t px[3 * 5];
    for (int i = 0; i < 15; i++)
        px[i] = (uint8_t)(i * 17);
    char *p = path_of("g.png");
    ck_assert_int_eq(pactcl_png_write_gray8(p, px, 5, 3), PACTCL_OK);
    struct pactcl_image img;
    ck_assert_int_eq(pactcl_image_load(p, 0, &img), PACTCL_OK);
    ck_assert_int_eq(img.width, 5);
    ck_assert_int_eq(img.height, 3);
    for (int i = 0; i < 15; i++)
        for (int ch = 0; ch < 3; ch++)
            ck_assert_uint_eq(img.data[3 * i + ch], px[i]);
    pactcl_image_free(&img);
    ck_assert_int_eq(pactcl_png_write_gray8(p, px, 0, 3), PACTCL_EINVAL);
    free(p);
    p = path_of("no/such/dir/g.png");
    ck_assert_int_eq(pactcl_png_write_gray8(p, px, 5, 3), PACTCL_EIO);
    assert_error_mentions("no/such/dir/g.png");
    free(p);
}
END_TEST

/* ---- run chart ------------------------------------------------------------ */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int count_of(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Writes the chart and checks what any chart must hold; returns the text. */
static char *plot_and_check(const struct pactcl_run_history *h, const char *name)
{
    char *p = path_of(name);
    ck_assert_msg(pactcl_run_plot_write(p, h) == PACTCL_OK, "%s", pactcl_last_error());
    char *svg = read_all(p);
    free(p);
    size_t len = strlen(svg);
    while (len && isspace((unsigned char)svg[len - 1]))
        svg[--len] = '\0';
    ck_assert_int_eq(strncmp(svg, "<svg", 4), 0);
    ck_assert_int_ge(len, 6);
    ck_assert_str_eq(svg + len - 6, "</svg>");
    ck_assert_int_eq(count_of(svg, "<svg"), 1);
    ck_assert_int_eq(count_of(svg, "<g"), count_of(svg, "</g>"));
    ck_assert_int_eq(count_of(svg, "<text"), count_of(svg, "</text>"));
    ck_assert_ptr_nonnull(strstr(svg, h->model));
    const char *legend[] = { "train loss", "val loss", "train top-1", "val top-1",
                             "train top-5", "val top-5", h->qat ? "PACT QAT" : "FP32" };
    for (size_t i = 0; i < sizeof legend / sizeof legend[0]; i++)
        ck_assert_msg(strstr(svg, legend[i]), "no '%s' in the chart", legend[i]);
    /* No number went out as nan or inf, in any case. */
    char *lower = strdup(svg);
    ck_assert_ptr_nonnull(lower);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    ck_assert_ptr_null(strstr(lower, "nan"));
    ck_assert_ptr_null(strstr(lower, "inf"));
    free(lower);
    return svg;
}

START_TEST(plot_three_epochs)
{
    struct pactcl_run_history h;
    ck_assert_int_eq(pactcl_run_history_init(&h, "mobilenet_v3_small", "A&B <cpu>", 1),
                     PACTCL_OK);
    /* Called the way the trainer calls it, which also checks that the
     * signatures match. */
    struct pactcl_train_options o = { .on_epoch = pactcl_run_history_on_epoch, .user = &h };
    for (int e = 0; e < 3; e++)
        o.on_epoch(o.user, e, 2.3 - 0.5 * e, 0.1 + 0.2 * e, 0.5 + 0.1 * e, 2.2 - 0.4 * e,
                   0.15 + 0.2 * e, 0.55 + 0.1 * e, 812.5);
    ck_assert_uint_eq(h.n, 3);
    char *svg = plot_and_check(&h, "run.svg");
    ck_assert_ptr_nonnull(strstr(svg, "A&amp;B &lt;cpu&gt;"));
    ck_assert_ptr_nonnull(strstr(svg, "accuracy (%)"));
    ck_assert_ptr_nonnull(strstr(svg, "812.5 images/s"));
    ck_assert_int_eq(count_of(svg, "<polyline"), 6);
    ck_assert_ptr_null(strstr(svg, "Left out"));
    free(svg);
    /* The chart and the source directory, no temporary file. */
    char names[4][NAME_LEN];
    ck_assert_int_eq(list_dir(".", names, 4), 2);
    pactcl_run_history_free(&h);
}
END_TEST

START_TEST(plot_one_epoch_draws_markers)
{
    struct pactcl_run_history h;
    ck_assert_int_eq(pactcl_run_history_init(&h, "mobilenet_v3_large", "cpu", 0), PACTCL_OK);
    ck_assert_int_eq(pactcl_run_history_add(&h, 0, 1.5, 0.4, 0.8, 1.6, 0.35, 0.75, 100.0),
                     PACTCL_OK);
    char *svg = plot_and_check(&h, "run.svg");
    ck_assert_int_eq(count_of(svg, "<polyline"), 0);
    /* Six series markers plus six legend markers. */
    ck_assert_int_eq(count_of(svg, "<circle"), 12);
    ck_assert_ptr_nonnull(strstr(svg, "1 epoch"));
    free(svg);
    pactcl_run_history_free(&h);
}
END_TEST

START_TEST(plot_skips_non_finite_values)
{
    struct pactcl_run_history h;
    ck_assert_int_eq(pactcl_run_history_init(&h, "mobilenet_v3_small", "cpu", 1), PACTCL_OK);
    for (int e = 0; e < 5; e++) {
        double tl = e == 2 ? NAN : 2.0 - 0.3 * e;
        double vl = e == 4 ? INFINITY : 2.1 - 0.3 * e;
        pactcl_run_history_add(&h, e, tl, 0.2 + 0.1 * e, 0.6, vl, -INFINITY, 0.5, NAN);
    }
    char *svg = plot_and_check(&h, "run.svg");
    ck_assert_ptr_nonnull(strstr(svg, "Left out"));
    ck_assert_ptr_nonnull(strstr(svg, "train loss 1 of 5"));
    ck_assert_ptr_nonnull(strstr(svg, "val loss 1 of 5"));
    ck_assert_ptr_nonnull(strstr(svg, "val top-1 5 of 5"));
    ck_assert_ptr_nonnull(strstr(svg, "no usable value"));
    /* train loss splits into two lines around epoch 2. */
    ck_assert_int_eq(count_of(svg, "<polyline"), 2 + 1 + 1 + 1 + 1);
    free(svg);
    pactcl_run_history_free(&h);
}
END_TEST

START_TEST(plot_many_epochs)
{
    struct pactcl_run_history h;
    ck_assert_int_eq(pactcl_run_history_init(&h, "mobilenet_v3_small", "cpu", 0), PACTCL_OK);
    for (int e = 0; e < 500; e++)
        ck_assert_int_eq(pactcl_run_history_add(&h, e, 3.0 * exp(-e / 100.0), 1 - exp(-e / 80.0),
                                                1 - exp(-e / 40.0), 3.1 * exp(-e / 100.0),
                                                1 - exp(-e / 90.0), 1 - exp(-e / 45.0), 1e4),
                         PACTCL_OK);
    char *svg = plot_and_check(&h, "run.svg");
    ck_assert_int_eq(count_of(svg, "<polyline"), 6);
    ck_assert_int_eq(count_of(svg, "<circle"), 6); /* the legend's only */
    ck_assert_ptr_nonnull(strstr(svg, ">500<"));
    free(svg);
    pactcl_run_history_free(&h);
}
END_TEST

START_TEST(plot_unwritable_path_fails_cleanly)
{
    struct pactcl_run_history h;
    ck_assert_int_eq(pactcl_run_history_init(&h, "m", "d", 0), PACTCL_OK);
    char *p = path_of("run.svg");
    ck_assert_int_eq(pactcl_run_plot_write(p, &h), PACTCL_EINVAL); /* no epoch yet */
    free(p);
    pactcl_run_history_add(&h, 0, 1, 0.5, 0.9, 1, 0.5, 0.9, 10);
    /* In a missing directory, and over a directory (root may write
     * anywhere, so permissions cannot make a path unwritable). */
    p = path_of("missing/run.svg");
    ck_assert_int_eq(pactcl_run_plot_write(p, &h), PACTCL_EIO);
    assert_error_mentions("missing/run.svg");
    free(p);
    p = path_of("src");
    ck_assert_int_eq(pactcl_run_plot_write(p, &h), PACTCL_EIO);
    free(p);
    char names[4][NAME_LEN];
    ck_assert_int_eq(list_dir(".", names, 4), 1);
    ck_assert_str_eq(names[0], "src");
    ck_assert_int_eq(list_dir("src", names, 4), 0);
    pactcl_run_history_free(&h);
}
END_TEST

static Suite *dataset_tools_suite(void)
{
    Suite *s = suite_create("dataset_tools");
    TCase *tc = tcase_create("fashion_mnist");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, convert_layout_pixels_and_scan);
    tcase_add_test(tc, convert_again_is_a_no_op);
    tcase_add_test(tc, convert_limits_keep_all_classes);
    tcase_add_test(tc, convert_removes_stale_staging);
    tcase_add_test(tc, refuse_truncated_gzip);
    tcase_add_test(tc, refuse_wrong_magic);
    tcase_add_test(tc, refuse_size_mismatch);
    tcase_add_test(tc, refuse_count_mismatch);
    tcase_add_test(tc, refuse_label_out_of_range);
    tcase_add_test(tc, refuse_missing_file);
    tcase_add_test(tc, refuse_foreign_output);
    tcase_add_test(tc, idx_reads_plain_and_gzip);
    tcase_add_test(tc, png_gray_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("run_plot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plot_three_epochs);
    tcase_add_test(tc, plot_one_epoch_draws_markers);
    tcase_add_test(tc, plot_skips_non_finite_values);
    tcase_add_test(tc, plot_many_epochs);
    tcase_add_test(tc, plot_unwritable_path_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dataset_tools_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
