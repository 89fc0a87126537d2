/*
 * atomic_file.h: replace a file all at once (DESIGN.md 6).
 *
 * The new content goes to "<path>.tmp.<pid>", is flushed and fsynced, renamed
 * over `path`, and the directory is fsynced: a crash or a full disk leaves
 * either the old file or the new one, never a torn one.
 *
 *   struct pactcl__atomic_file af;
 *   rc = pactcl__atomic_open(&af, path);       then write to af.fp
 *   rc = pactcl__atomic_commit(&af, write_errno); or pactcl__atomic_abort(&af)
 *
 * Both commit and abort release everything; on any failure the temp file is
 * removed and the message names `path` and the system's reason.
 */
#ifndef PACTCL_ATOMIC_FILE_H
#define PACTCL_ATOMIC_FILE_H

#include <stdio.h>

struct pactcl__atomic_file {
    char *path;
    char *tmp_path;
    FILE *fp;
};

int pactcl__atomic_open(struct pactcl__atomic_file *af, const char *path);
/* `write_errno` is the errno of a write that already failed, or 0. */
int pactcl__atomic_commit(struct pactcl__atomic_file *af, int write_errno);
void pactcl__atomic_abort(struct pactcl__atomic_file *af);

#endif /* PACTCL_ATOMIC_FILE_H */
