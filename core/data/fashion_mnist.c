/*
 * fashion_mnist.c: Fashion-MNIST IDX files -> ImageFolder of gray PNGs,
 * staged and published as fashion_mnist.h describes.
 */
#define _GNU_SOURCE /* syncfs; nftw's FTW_DEPTH and FTW_PHYS */
#include "internal.h"

#include "fashion_mnist.h"
#include "idx.h"
#include "io/atomic_file.h"
#include "png_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Labels 0..9 as in Zalando's README; the digit prefix makes the sorted
 * folder order the label order. */
static const char *const class_folders[PACTCL_FASHION_MNIST_CLASSES] = {
    "0_tshirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
    "5_sandal",     "6_shirt",   "7_sneaker",  "8_bag",   "9_ankle_boot",
};

#define MARKER_NAME ".complete"
#define PARTIAL_PREFIX ".partial-"

/* How many images between two progress calls: often enough for a smooth
 * progress line, rare enough to cost nothing. */
#define PROGRESS_EVERY 256

const char *pactcl_fashion_mnist_class_folder(int label)
{
    return label >= 0 && label < PACTCL_FASHION_MNIST_CLASSES ? class_folders[label] : NULL;
}

struct split {
    const char *name;   /* the ImageFolder split: train, val */
    const char *prefix; /* the IDX file prefix: train, t10k */
    size_t limit;
    char *images_path, *labels_path;
    struct pactcl_idx images, labels;
    size_t n; /* images converted: the file's count, or the limit */
};

static void split_free(struct split *s)
{
    free(s->images_path);
    free(s->labels_path);
    pactcl_idx_free(&s->images);
    pactcl_idx_free(&s->labels);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    /* Keep going on failure: remove as much as possible. */
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p; *created tells whether the last component was made here. */
static int make_dirs(const char *path, int *created)
{
    *created = 0;
    char *p = pactcl__strdup(path);
    if (!p)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory creating %s", path);
    int rc = PACTCL_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        int last = saved == '\0' || s[1] == '\0';
        *s = '\0';
        if (mkdir(p, 0777) == 0) {
            *created = last;
        } else {
            int err = errno;
            if (err != EEXIST || !is_dir(p)) {
                rc = pactcl__set_error(PACTCL_EIO, "cannot create %s: %s", p,
                                       err == EEXIST ? "not a directory" : strerror(err));
                break;
            }
        }
        *s = saved;
        if (last)
            break;
    }
    free(p);
    return rc;
}

/* Staging directories of conversions whose process is gone: a crash or a
 * kill left them, and only their owner could still be writing them. */
static void remove_stale_partials(const char *out)
{
    DIR *d = opendir(out);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) != 0)
            continue;
        char *end;
        long pid = strtol(name + strlen(PARTIAL_PREFIX), &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() ||
            !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
            continue;
        char *path = pactcl__strdupf("%s/%s", out, name);
        if (path) {
            pactcl__log(PACTCL_LOG_INFO, "removing %s, left by an interrupted conversion", path);
            remove_tree(path);
        }
        free(path);
    }
    closedir(d);
}

static void format_limits(const struct pactcl_fashion_mnist_options *o, char *buf, size_t len)
{
    char t[32] = "all", v[32] = "all";
    if (o->limit_train)
        snprintf(t, sizeof t, "%zu", o->limit_train);
    if (o->limit_val)
        snprintf(v, sizeof v, "%zu", o->limit_val);
    snprintf(buf, len, "limit-train %s\nlimit-val %s\n", t, v);
}

/* The count on the marker's line "<key> N", or 0. */
static size_t marker_count(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return (size_t)strtoull(line + klen + 1, NULL, 10);
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

/* 1: <out> is already converted with these limits; 0: convert; else an
 * error status (something is in the way). */
static int check_existing(const char *out, const char *limits,
                          struct pactcl_fashion_mnist_result *result)
{
    char *marker = pactcl__strdupf("%s/" MARKER_NAME, out);
    char *train = pactcl__strdupf("%s/train", out);
    char *val = pactcl__strdupf("%s/val", out);
    int rc = 0;
    if (!marker || !train || !val) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory");
        goto done;
    }
    FILE *f = fopen(marker, "rb");
    if (!f) {
        if (errno != ENOENT)
            rc = pactcl__set_error(PACTCL_EIO, "cannot read %s: %s", marker, strerror(errno));
        else if (is_dir(train) || is_dir(val))
            rc = pactcl__set_error(PACTCL_EINVAL,
                                   "%s already holds train/ or val/ but no " MARKER_NAME
                                   " marker (an interrupted conversion, or other data): "
                                   "remove them or choose another output directory",
                                   out);
        goto done;
    }
    char text[1024], needle[128];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The leading newline anchors the match at the start of a line. */
    snprintf(needle, sizeof needle, "\n%s", limits);
    if (!strstr(text, needle)) {
        rc = pactcl__set_error(PACTCL_EINVAL,
                               "%s holds a conversion made with other limit-train/limit-val "
                               "values (see %s): remove it or choose another output directory",
                               out, marker);
    } else if (!is_dir(train) || !is_dir(val)) {
        rc = pactcl__set_error(PACTCL_EINVAL,
                               "%s has a " MARKER_NAME " marker but lacks train/ or val/: "
                               "remove it or choose another output directory",
                               out);
    } else {
        result->n_train = marker_count(text, "train");
        result->n_val = marker_count(text, "val");
        result->already_complete = 1;
        rc = 1;
    }
done:
    free(marker);
    free(train);
    free(val);
    return rc;
}

static int load_split(struct split *s)
{
    int rc;
    if ((rc = pactcl_idx_load(s->images_path, 3, &s->images)) != PACTCL_OK ||
        (rc = pactcl_idx_load(s->labels_path, 1, &s->labels)) != PACTCL_OK)
        return rc;
    uint32_t count = s->images.dims[0], rows = s->images.dims[1], cols = s->images.dims[2];
    if (count == 0)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: holds no image", s->images_path);
    /* PNG_USER_WIDTH_MAX is 10^6; MNIST-like images are tiny. */
    if (rows == 0 || cols == 0 || rows > 65535 || cols > 65535)
        return pactcl__set_error(PACTCL_EFORMAT, "%s: unusable image size %ux%u",
                                 s->images_path, cols, rows);
    if (s->labels.dims[0] != count)
        return pactcl__set_error(PACTCL_EFORMAT, "%s holds %u images but %s holds %u labels",
                                 s->images_path, count, s->labels_path, s->labels.dims[0]);
    for (size_t i = 0; i < s->labels.size; i++)
        if (s->labels.data[i] >= PACTCL_FASHION_MNIST_CLASSES)
            return pactcl__set_error(PACTCL_EFORMAT,
                                     "%s: label %u at index %zu is outside 0..%d",
                                     s->labels_path, s->labels.data[i], i,
                                     PACTCL_FASHION_MNIST_CLASSES - 1);
    s->n = s->limit && s->limit < count ? s->limit : count;
    return PACTCL_OK;
}

/* The four files are checked up front so that a missing package is reported
 * at once, with the way to install it. */
static int check_sources(const struct split *splits, int n_splits)
{
    for (int i = 0; i < n_splits; i++) {
        const char *paths[2] = { splits[i].images_path, splits[i].labels_path };
        for (int j = 0; j < 2; j++) {
            if (access(paths[j], F_OK) == 0)
                continue;
            if (errno == ENOENT)
                return pactcl__set_error(
                    PACTCL_ENOTFOUND,
                    "%s not found: Debian's dataset-fashion-mnist package installs the four "
                    "Fashion-MNIST files in " PACTCL_FASHION_MNIST_DEFAULT_SRC
                    " (apt-get install dataset-fashion-mnist)",
                    paths[j]);
            return pactcl__set_error(PACTCL_EIO, "cannot access %s: %s", paths[j],
                                     strerror(errno));
        }
    }
    return PACTCL_OK;
}

static int write_split(const char *stage, const struct split *s, size_t *done, size_t total,
                       const struct pactcl_fashion_mnist_options *o)
{
    /* At least five digits, more for a split past 99999 images; the bound
     * (size_t has at most 20) lets the compiler see the names fit. */
    int digits = 5;
    for (size_t m = s->n - 1; m >= 100000 && digits < 20; m /= 10)
        digits++;
    size_t pixels = (size_t)s->images.dims[1] * s->images.dims[2];
    size_t cap = strlen(stage) + strlen(s->name) + 64;
    char *path = malloc(cap);
    if (!path)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory");
    int rc = PACTCL_OK;
    snprintf(path, cap, "%s/%s", stage, s->name);
    if (mkdir(path, 0777) != 0)
        rc = pactcl__set_error(PACTCL_EIO, "cannot create %s: %s", path, strerror(errno));
    for (int c = 0; rc == PACTCL_OK && c < PACTCL_FASHION_MNIST_CLASSES; c++) {
        snprintf(path, cap, "%s/%s/%s", stage, s->name, class_folders[c]);
        if (mkdir(path, 0777) != 0)
            rc = pactcl__set_error(PACTCL_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    for (size_t i = 0; rc == PACTCL_OK && i < s->n; i++) {
        snprintf(path, cap, "%s/%s/%s/%0*zu.png", stage, s->name,
                 class_folders[s->labels.data[i]], digits, i);
        rc = pactcl_png_write_gray8(path, s->images.data + i * pixels, (int)s->images.dims[2],
                                    (int)s->images.dims[1]);
        ++*done;
        if (o->progress && (*done % PROGRESS_EVERY == 0 || *done == total))
            o->progress(o->user, *done, total);
    }
    free(path);
    return rc;
}

/* Flushes every staged image to disk before the renames make them visible,
 * so that a power loss cannot leave empty PNGs under a complete marker. */
static int sync_stage(const char *stage)
{
    int fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pactcl__set_error(PACTCL_EIO, "cannot open %s: %s", stage, strerror(errno));
    int rc = PACTCL_OK;
    if (syncfs(fd) != 0)
        rc = pactcl__set_error(PACTCL_EIO, "cannot sync %s: %s", stage, strerror(errno));
    close(fd);
    return rc;
}

static int write_marker(const char *out, const char *src, const char *limits,
                        const struct split *splits)
{
    char *path = pactcl__strdupf("%s/" MARKER_NAME, out);
    if (!path)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory");
    struct pactcl__atomic_file af;
    int rc = pactcl__atomic_open(&af, path);
    if (rc == PACTCL_OK) {
        int err = 0;
        errno = 0;
        /* The source goes last: a long path must not push the lines that
         * check_existing reads out of its buffer. */
        if (fprintf(af.fp,
                    "pactcl fashion-mnist conversion (train/ and val/ are complete)\n"
                    "%strain %zu\nval %zu\nsource %s\n",
                    limits, splits[0].n, splits[1].n, src) < 0)
            err = errno ? errno : EIO;
        rc = pactcl__atomic_commit(&af, err);
    }
    free(path);
    return rc;
}

/* Moves <stage>/train and <stage>/val into <out>, then writes the marker;
 * on failure moves back what was moved, so that <out> never shows a split
 * without its marker. */
static int publish(const char *stage, const char *out, const char *src, const char *limits,
                   const struct split *splits, int n_splits)
{
    char *from[2] = { NULL, NULL }, *to[2] = { NULL, NULL };
    int rc = PACTCL_OK, moved = 0;
    for (int i = 0; i < n_splits; i++) {
        from[i] = pactcl__strdupf("%s/%s", stage, splits[i].name);
        to[i] = pactcl__strdupf("%s/%s", out, splits[i].name);
        if (!from[i] || !to[i])
            rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory");
    }
    for (; rc == PACTCL_OK && moved < n_splits; moved++)
        if (rename(from[moved], to[moved]) != 0)
            rc = pactcl__set_error(PACTCL_EIO, "cannot move %s to %s: %s", from[moved],
                                   to[moved], strerror(errno));
    if (rc == PACTCL_OK)
        rc = write_marker(out, src, limits, splits);
    if (rc != PACTCL_OK)
        while (moved-- > 0)
            if (rename(to[moved], from[moved]) != 0)
                pactcl__log(PACTCL_LOG_ERROR, "cannot move %s back to %s: %s", to[moved],
                            from[moved], strerror(errno));
    for (int i = 0; i < n_splits; i++) {
        free(from[i]);
        free(to[i]);
    }
    return rc;
}

int pactcl_fashion_mnist_convert(const struct pactcl_fashion_mnist_options *o,
                                 struct pactcl_fashion_mnist_result *result)
{
    if (!o || !result || !o->out_dir || !*o->out_dir)
        return pactcl__set_error(PACTCL_EINVAL, "fashion-mnist: no output directory");
    memset(result, 0, sizeof *result);
    const char *src = o->src_dir && *o->src_dir ? o->src_dir : PACTCL_FASHION_MNIST_DEFAULT_SRC;
    const char *out = o->out_dir;
    char limits[96];
    format_limits(o, limits, sizeof limits);
    int rc = check_existing(out, limits, result);
    if (rc != 0)
        return rc < 0 ? rc : PACTCL_OK;

    struct split splits[2] = {
        { .name = "train", .prefix = "train", .limit = o->limit_train },
        { .name = "val", .prefix = "t10k", .limit = o->limit_val },
    };
    char *stage = NULL;
    int created_out = 0, staged = 0;
    size_t done_count = 0, total;
    for (int i = 0; i < 2; i++) {
        const char *prefix = splits[i].prefix;
        splits[i].images_path = pactcl__strdupf("%s/%s-images-idx3-ubyte.gz", src, prefix);
        splits[i].labels_path = pactcl__strdupf("%s/%s-labels-idx1-ubyte.gz", src, prefix);
        if (!splits[i].images_path || !splits[i].labels_path) {
            rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((rc = check_sources(splits, 2)) != PACTCL_OK)
        goto done;
    for (int i = 0; i < 2; i++)
        if ((rc = load_split(&splits[i])) != PACTCL_OK)
            goto done;

    if ((rc = make_dirs(out, &created_out)) != PACTCL_OK)
        goto done;
    remove_stale_partials(out);
    stage = pactcl__strdupf("%s/" PARTIAL_PREFIX "%ld", out, (long)getpid());
    if (!stage) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory");
        goto done;
    }
    /* Not ours yet: a leftover of a crashed process that had our pid. */
    remove_tree(stage);
    if (mkdir(stage, 0777) != 0) {
        rc = pactcl__set_error(PACTCL_EIO, "cannot create %s: %s", stage, strerror(errno));
        goto done;
    }
    staged = 1;
    total = splits[0].n + splits[1].n;
    for (int i = 0; i < 2; i++)
        if ((rc = write_split(stage, &splits[i], &done_count, total, o)) != PACTCL_OK)
            goto done;
    if ((rc = sync_stage(stage)) != PACTCL_OK ||
        (rc = publish(stage, out, src, limits, splits, 2)) != PACTCL_OK)
        goto done;
    result->n_train = splits[0].n;
    result->n_val = splits[1].n;
done:
    /* After a successful publish only the empty staging directory is left. */
    if (staged)
        remove_tree(stage);
    if (rc != PACTCL_OK && created_out)
        rmdir(out);
    free(stage);
    for (int i = 0; i < 2; i++)
        split_free(&splits[i]);
    return rc;
}
