/*
 * atomic_file.c: write a temp file, fsync, rename over the target, fsync the
 * directory; on failure remove the temp file and keep the old target.
 */
#include "internal.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(struct pactcl__atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    af->fp = NULL;
}

static int io_error(struct pactcl__atomic_file *af, const char *what, int err)
{
    int rc = pactcl__set_error(PACTCL_EIO, "cannot save %s: %s: %s", af->path, what,
                               strerror(err));
    unlink(af->tmp_path);
    release(af);
    return rc;
}

int pactcl__atomic_open(struct pactcl__atomic_file *af, const char *path)
{
    af->fp = NULL;
    af->path = pactcl__strdup(path);
    af->tmp_path = pactcl__strdupf("%s.tmp.%ld", path, (long)getpid());
    if (!af->path || !af->tmp_path) {
        release(af);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory saving %s", path);
    }
    /* O_EXCL|O_NOFOLLOW: never write through a link planted at the temp name.
     * A leftover from a crashed process that had our pid is ours to remove. */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(af->tmp_path, flags, 0666);
    if (fd < 0 && errno == EEXIST && unlink(af->tmp_path) == 0)
        fd = open(af->tmp_path, flags, 0666);
    if (fd < 0) {
        int err = errno;
        int rc = pactcl__set_error(PACTCL_EIO, "cannot save %s: cannot create %s: %s", path,
                                   af->tmp_path, strerror(err));
        release(af);
        return rc;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int err = errno;
        close(fd);
        return io_error(af, "fdopen", err);
    }
    return PACTCL_OK;
}

void pactcl__atomic_abort(struct pactcl__atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    unlink(af->tmp_path);
    release(af);
}

/* Makes the rename itself durable.  Some file systems cannot fsync a
 * directory (EINVAL); the rename is done by then, so only real I/O errors
 * count. */
static int sync_dir(struct pactcl__atomic_file *af)
{
    char *dir = pactcl__strdup(af->path);
    if (!dir)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory saving %s", af->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else
        slash[slash == dir] = '\0';
    int rc = PACTCL_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno == EIO)
            rc = pactcl__set_error(PACTCL_EIO, "saved %s, but syncing its directory %s failed: %s",
                                   af->path, dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

int pactcl__atomic_commit(struct pactcl__atomic_file *af, int write_errno)
{
    FILE *fp = af->fp;
    af->fp = NULL;
    if (write_errno) {
        fclose(fp);
        return io_error(af, "write failed", write_errno);
    }
    if (fflush(fp) != 0) {
        int err = errno;
        fclose(fp);
        return io_error(af, "write failed", err);
    }
    if (fsync(fileno(fp)) != 0) {
        int err = errno;
        fclose(fp);
        return io_error(af, "fsync failed", err);
    }
    if (fclose(fp) != 0)
        return io_error(af, "close failed", errno);
    if (rename(af->tmp_path, af->path) != 0)
        return io_error(af, "rename failed", errno);
    int rc = sync_dir(af);
    release(af);
    return rc;
}
