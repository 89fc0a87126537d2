/*
 * image_folder.h: the reference's ImageFolder scan (SEED-SPEC 2.2,
 * paddlevision/datasets/folder.py): <root>/<split>/<class>/..., recursively.
 *
 *   - classes are the sorted names of the subdirectories of <root>/<split>
 *     (symbolic links to directories count), label = index in that list;
 *   - each class directory is walked recursively, following symbolic links
 *     (os.walk(followlinks=True)); files are ordered by their directory's
 *     path, then by name (Python's sorted(os.walk(...)) then sorted(files));
 *   - a file is kept when its name ends, case-insensitively, with .jpg .jpeg
 *     .png .ppm .bmp .pgm .tif .tiff or .webp.
 * Names compare byte-wise, which is Python's order for UTF-8 names.
 * Deviations: a directory that is its own ancestor through a link is skipped
 * with a warning (Python would loop until the path is too long), and a
 * subdirectory that cannot be listed is skipped with a warning (Python skips
 * it silently).
 */
#ifndef PACTCL_DATA_IMAGE_FOLDER_H
#define PACTCL_DATA_IMAGE_FOLDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct pactcl_image_folder pactcl_image_folder;

/* Scans <root>/<split> (split NULL or "": root itself).  Fails, naming the
 * directory, when it does not exist, has no class subdirectory, or holds no
 * image file at all (PACTCL_ENOTFOUND), or on PACTCL_EIO / PACTCL_ENOMEM. */
int pactcl_image_folder_scan(const char *root, const char *split, pactcl_image_folder **out);
void pactcl_image_folder_free(pactcl_image_folder *f);

/* The directory scanned (<root>/<split>). */
const char *pactcl_image_folder_dir(const pactcl_image_folder *f);
int pactcl_image_folder_class_count(const pactcl_image_folder *f);
const char *pactcl_image_folder_class_name(const pactcl_image_folder *f, int label);
size_t pactcl_image_folder_count(const pactcl_image_folder *f);
/* Sample i (0 <= i < count): "<dir>/<class>/.../<file>" and its label. */
const char *pactcl_image_folder_path(const pactcl_image_folder *f, size_t i);
int32_t pactcl_image_folder_label(const pactcl_image_folder *f, size_t i);

/* Whether `name` ends with one of the extensions above, in any case. */
int pactcl_image_folder_has_image_extension(const char *name);

#endif /* PACTCL_DATA_IMAGE_FOLDER_H */
