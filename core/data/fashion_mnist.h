/*
 * fashion_mnist.h: converting Zalando's Fashion-MNIST, as Debian's
 * dataset-fashion-mnist package installs it, into the ImageFolder layout that
 * pactcl trains from (image_folder.h):
 *
 *   <src>/train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz -> <out>/train
 *   <src>/t10k-images-idx3-ubyte.gz  + t10k-labels-idx1-ubyte.gz  -> <out>/val
 *
 * Image i of a split becomes <out>/<split>/<class>/<i>.png, an 8-bit gray
 * PNG (the decoder replicates gray to RGB), with i zero-padded to at least
 * five digits so that sorted file names follow the IDX order.  The class
 * folders are "0_tshirt_top" ... "9_ankle_boot": sorted, they are in label
 * order, so ImageFolder's labels equal Fashion-MNIST's.  All ten folders
 * exist in both splits even when a limit leaves some empty.
 *
 * Never half-written: every source file is read and validated (idx.h, and
 * labels 0..9, equal image and label counts) before anything is written; the
 * images go into <out>/.partial-<pid>/, whose train/ and val/ are renamed
 * into <out> once all are written and synced, and <out>/.complete is written
 * last (atomically).  <out> counts as converted only with that marker: a
 * failed conversion removes its staging directory and leaves no train/ or
 * val/; a crashed one leaves only .partial-<pid>, removed by the next run
 * once that process is gone.  A run on an <out> whose .complete records the
 * same limits is a fast no-op that reads no source file.  A train/ or val/
 * without the marker (a crash in the instant between the two renames, or
 * someone else's data) or a marker with other limits is refused, never
 * deleted.
 */
#ifndef PACTCL_DATA_FASHION_MNIST_H
#define PACTCL_DATA_FASHION_MNIST_H

#include <stddef.h>

#define PACTCL_FASHION_MNIST_CLASSES 10

/* Where dataset-fashion-mnist installs the four files. */
#define PACTCL_FASHION_MNIST_DEFAULT_SRC "/usr/share/datasets/fashion-mnist"

struct pactcl_fashion_mnist_options {
    const char *src_dir; /* NULL or "": PACTCL_FASHION_MNIST_DEFAULT_SRC */
    const char *out_dir; /* created, with its parents, when missing */
    /* Convert only the first N images of a split (0: all of them). */
    size_t limit_train, limit_val;
    /* Called as images are written (every few hundred, and at the end), with
     * the count done and the total over both splits; optional. */
    void (*progress)(void *user, size_t done, size_t total);
    void *user;
};

struct pactcl_fashion_mnist_result {
    size_t n_train, n_val;
    int already_complete; /* 1: out_dir was converted before; nothing done */
};

int pactcl_fashion_mnist_convert(const struct pactcl_fashion_mnist_options *opts,
                                 struct pactcl_fashion_mnist_result *result);

/* "0_tshirt_top" ... "9_ankle_boot"; NULL outside 0..9. */
const char *pactcl_fashion_mnist_class_folder(int label);

#endif /* PACTCL_DATA_FASHION_MNIST_H */
