/*
 * image_folder.c: the ImageFolder scan.  The walk records (directory suffix,
 * file name) pairs in one growing string arena (1.28 M ImageNet names would
 * otherwise be 1.28 M mallocs), then sorts them the way Python's
 * sorted(os.walk(...)) + sorted(files) orders them, and lays out the final
 * paths in a second arena.
 */
#include "internal.h"

#include "image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct pactcl_image_folder {
    char *dir;
    int n_classes;
    char **classes;
    size_t n_samples;
    char *paths; /* NUL-terminated paths, back to back */
    size_t *path_off;
    int32_t *labels;
};

struct arena {
    char *data;
    size_t len;
    size_t cap;
};

/* Appends a..b (b may be NULL) and a NUL; *off receives the start. */
static int arena_add2(struct arena *a, const char *s1, const char *s2, size_t *off)
{
    size_t n1 = strlen(s1), n2 = s2 ? strlen(s2) : 0, need = a->len + n1 + n2 + 1;
    if (need > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *data = realloc(a->data, cap);
        if (!data)
            return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory for names");
        a->data = data;
        a->cap = cap;
    }
    *off = a->len;
    memcpy(a->data + a->len, s1, n1);
    if (n2)
        memcpy(a->data + a->len + n1, s2, n2);
    a->data[a->len + n1 + n2] = '\0';
    a->len = need;
    return PACTCL_OK;
}

/* One image found by the walk: offsets into the scan arena. */
struct found {
    size_t rel; /* directory below the class dir: "" or "/sub/dir" */
    size_t name;
    int32_t label;
};

struct scan {
    struct arena names;
    struct found *found;
    size_t n_found;
    size_t cap_found;
};

/* The chain of directories being walked, to notice a link back up. */
struct ancestor {
    dev_t dev;
    ino_t ino;
    const struct ancestor *up;
};

int pactcl_image_folder_has_image_extension(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png",  ".ppm", ".bmp",
                                       ".pgm", ".tif",  ".tiff", ".webp"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n >= e && strcasecmp(name + n - e, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* os.scandir's entry.is_dir(): follows links; a broken link is not a dir. */
static int entry_is_dir(const char *parent, const struct dirent *e)
{
    if (e->d_type == DT_DIR)
        return 1;
    if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
        return 0;
    char *p = pactcl__strdupf("%s/%s", parent, e->d_name);
    struct stat st;
    int dir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return dir;
}

static int is_dot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int push_name(char ***names, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        char **grown = realloc(*names, c * sizeof *grown);
        if (!grown)
            return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
        *names = grown;
        *cap = c;
    }
    if (!((*names)[*n] = pactcl__strdup(name)))
        return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
    (*n)++;
    return PACTCL_OK;
}

static int add_found(struct scan *s, size_t rel, const char *name, int32_t label)
{
    if (s->n_found == s->cap_found) {
        size_t c = s->cap_found ? s->cap_found * 2 : 1024;
        struct found *grown = realloc(s->found, c * sizeof *grown);
        if (!grown)
            return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
        s->found = grown;
        s->cap_found = c;
    }
    struct found *f = &s->found[s->n_found];
    int status = arena_add2(&s->names, name, NULL, &f->name);
    if (status != PACTCL_OK)
        return status;
    f->rel = rel;
    f->label = label;
    s->n_found++;
    return PACTCL_OK;
}

/* Lists `path` (whose suffix below the class directory is `rel`), records its
 * image files, then descends into its subdirectories. */
static int walk(struct scan *s, const char *path, const char *rel, int32_t label,
                const struct ancestor *up)
{
    DIR *d = opendir(path);
    if (!d) {
        pactcl__log(PACTCL_LOG_WARN, "%s: cannot list directory, skipped: %s", path,
                    strerror(errno));
        return PACTCL_OK;
    }
    struct stat st;
    struct ancestor me = {0, 0, up};
    if (fstat(dirfd(d), &st) == 0) {
        me.dev = st.st_dev;
        me.ino = st.st_ino;
        for (const struct ancestor *a = up; a; a = a->up) {
            if (a->dev == me.dev && a->ino == me.ino) {
                pactcl__log(PACTCL_LOG_WARN, "%s: links back to a parent directory, skipped", path);
                closedir(d);
                return PACTCL_OK;
            }
        }
    }
    size_t rel_off;
    int status = arena_add2(&s->names, rel, NULL, &rel_off);
    char **subdirs = NULL;
    size_t n_sub = 0, cap_sub = 0;
    struct dirent *e;
    while (status == PACTCL_OK && (e = readdir(d)) != NULL) {
        if (is_dot(e->d_name))
            continue;
        if (entry_is_dir(path, e))
            status = push_name(&subdirs, &n_sub, &cap_sub, e->d_name);
        else if (pactcl_image_folder_has_image_extension(e->d_name))
            status = add_found(s, rel_off, e->d_name, label);
    }
    closedir(d);
    for (size_t i = 0; status == PACTCL_OK && i < n_sub; i++) {
        char *child = pactcl__strdupf("%s/%s", path, subdirs[i]);
        char *child_rel = pactcl__strdupf("%s/%s", rel, subdirs[i]);
        if (!child || !child_rel)
            status = pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
        else
            status = walk(s, child, child_rel, label, &me);
        free(child);
        free(child_rel);
    }
    free_names(subdirs, n_sub);
    return status;
}

/* Sort keys resolved to pointers once the arena stops moving. */
struct sort_key {
    const char *rel;
    const char *name;
    int32_t label;
};

static int compare_keys(const void *pa, const void *pb)
{
    const struct sort_key *a = pa, *b = pb;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    int c = strcmp(a->rel, b->rel);
    return c ? c : strcmp(a->name, b->name);
}

static int compare_strings(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* Sorts what the walk found and writes "<dir>/<class><rel>/<name>" paths. */
static int build_paths(pactcl_image_folder *f, struct scan *s)
{
    struct sort_key *keys = malloc(sizeof *keys * (s->n_found ? s->n_found : 1));
    f->path_off = malloc(sizeof *f->path_off * s->n_found);
    f->labels = malloc(sizeof *f->labels * s->n_found);
    if (!keys || !f->path_off || !f->labels) {
        free(keys);
        return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory for %zu samples",
                                 s->n_found);
    }
    for (size_t i = 0; i < s->n_found; i++) {
        keys[i].rel = s->names.data + s->found[i].rel;
        keys[i].name = s->names.data + s->found[i].name;
        keys[i].label = s->found[i].label;
    }
    qsort(keys, s->n_found, sizeof *keys, compare_keys);

    struct arena paths = {0};
    int status = PACTCL_OK;
    for (size_t i = 0; status == PACTCL_OK && i < s->n_found; i++) {
        char *dir = pactcl__strdupf("%s/%s%s/", f->dir, f->classes[keys[i].label], keys[i].rel);
        if (!dir)
            status = pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
        else
            status = arena_add2(&paths, dir, keys[i].name, &f->path_off[i]);
        free(dir);
        f->labels[i] = keys[i].label;
    }
    free(keys);
    if (status != PACTCL_OK) {
        free(paths.data);
        return status;
    }
    f->paths = paths.data;
    f->n_samples = s->n_found;
    return PACTCL_OK;
}

/* The class directories of f->dir, sorted. */
static int list_classes(pactcl_image_folder *f)
{
    DIR *d = opendir(f->dir);
    if (!d) {
        int err = errno;
        return pactcl__set_error(err == ENOENT || err == ENOTDIR ? PACTCL_ENOTFOUND : PACTCL_EIO,
                                 "%s: cannot open the dataset directory: %s", f->dir,
                                 strerror(err));
    }
    size_t n = 0, cap = 0;
    int status = PACTCL_OK;
    struct dirent *e;
    while (status == PACTCL_OK && (e = readdir(d)) != NULL)
        if (!is_dot(e->d_name) && entry_is_dir(f->dir, e))
            status = push_name(&f->classes, &n, &cap, e->d_name);
    closedir(d);
    f->n_classes = (int)n;
    if (status != PACTCL_OK)
        return status;
    if (n == 0)
        return pactcl__set_error(PACTCL_ENOTFOUND,
                                 "%s: no class folders (expected <dir>/<class>/<images>)", f->dir);
    if (n > INT32_MAX)
        return pactcl__set_error(PACTCL_EINVAL, "%s: too many class folders", f->dir);
    qsort(f->classes, n, sizeof *f->classes, compare_strings);
    return PACTCL_OK;
}

int pactcl_image_folder_scan(const char *root, const char *split, pactcl_image_folder **out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "image folder: no output");
    *out = NULL;
    if (!root)
        return pactcl__set_error(PACTCL_EINVAL, "image folder: no directory");
    pactcl_image_folder *f = calloc(1, sizeof *f);
    if (!f)
        return pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
    f->dir = split && *split ? pactcl__strdupf("%s/%s", root, split) : pactcl__strdup(root);
    int status =
        f->dir ? list_classes(f) : pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");

    struct scan s = {0};
    for (int k = 0; status == PACTCL_OK && k < f->n_classes; k++) {
        char *path = pactcl__strdupf("%s/%s", f->dir, f->classes[k]);
        status = path ? walk(&s, path, "", k, NULL)
                      : pactcl__set_error(PACTCL_ENOMEM, "image folder: out of memory");
        free(path);
    }
    if (status == PACTCL_OK && s.n_found == 0)
        status = pactcl__set_error(PACTCL_ENOTFOUND,
                                   "%s: found no image files (.jpg .jpeg .png .ppm .bmp .pgm .tif "
                                   ".tiff .webp) in its %d class folders",
                                   f->dir, f->n_classes);
    if (status == PACTCL_OK)
        status = build_paths(f, &s);
    free(s.names.data);
    free(s.found);
    if (status != PACTCL_OK) {
        pactcl_image_folder_free(f);
        return status;
    }
    *out = f;
    return PACTCL_OK;
}

void pactcl_image_folder_free(pactcl_image_folder *f)
{
    if (!f)
        return;
    free_names(f->classes, (size_t)f->n_classes);
    free(f->dir);
    free(f->paths);
    free(f->path_off);
    free(f->labels);
    free(f);
}

const char *pactcl_image_folder_dir(const pactcl_image_folder *f)
{
    return f->dir;
}

int pactcl_image_folder_class_count(const pactcl_image_folder *f)
{
    return f->n_classes;
}

const char *pactcl_image_folder_class_name(const pactcl_image_folder *f, int label)
{
    return label >= 0 && label < f->n_classes ? f->classes[label] : NULL;
}

size_t pactcl_image_folder_count(const pactcl_image_folder *f)
{
    return f->n_samples;
}

const char *pactcl_image_folder_path(const pactcl_image_folder *f, size_t i)
{
    return i < f->n_samples ? f->paths + f->path_off[i] : NULL;
}

int32_t pactcl_image_folder_label(const pactcl_image_folder *f, size_t i)
{
    return i < f->n_samples ? f->labels[i] : -1;
}
