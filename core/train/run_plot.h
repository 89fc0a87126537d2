/*
 * run_plot.h: the per-epoch history of a training run, and an SVG chart of
 * it (loss, top-1 and top-5 of the training and validation sets).
 *
 *   struct pactcl_run_history h;
 *   pactcl_run_history_init(&h, "mobilenet_v3_small", "cpu", 1);
 *   opts.on_epoch = pactcl_run_history_on_epoch; opts.user = &h;   (trainer.h)
 *   ... pactcl_train(...) ...
 *   pactcl_run_plot_write("out/run.svg", &h);
 *   pactcl_run_history_free(&h);
 *
 * The SVG is self-contained (no script, font file or other external
 * resource) and opens in any browser.  Internal to libpactcl; exported for
 * the CLI and the tests.
 */
#ifndef PACTCL_TRAIN_RUN_PLOT_H
#define PACTCL_TRAIN_RUN_PLOT_H

#include <stddef.h>

/* One epoch, as the trainer's on_epoch callback reports it: mean loss and
 * top-1/top-5 accuracy (fractions 0..1) over the epoch's training batches,
 * the same on the validation set, and the training throughput (images/s). */
struct pactcl_run_epoch {
    int epoch;
    double train_loss, train_top1, train_top5;
    double val_loss, val_top1, val_top5;
    double train_ips;
};

struct pactcl_run_history {
    char *model;  /* for the title: "mobilenet_v3_small" */
    char *device; /* for the title: "cpu", "opencl:0:0", or a device name */
    int qat;      /* 1: PACT quantization-aware training, 0: FP32 */
    struct pactcl_run_epoch *epochs;
    size_t n, cap;
};

/* model and device are copied; NULL reads as "". */
int pactcl_run_history_init(struct pactcl_run_history *h, const char *model, const char *device,
                            int qat);
void pactcl_run_history_free(struct pactcl_run_history *h);

/* Appends one epoch (values are stored as given, NaN and inf included). */
int pactcl_run_history_add(struct pactcl_run_history *h, int epoch, double train_loss,
                           double train_top1, double train_top5, double val_loss, double val_top1,
                           double val_top5, double train_ips);

/* pactcl_run_history_add with the on_epoch callback's signature (user is the
 * history); running out of memory loses the epoch with a warning, since the
 * callback cannot fail the training. */
void pactcl_run_history_on_epoch(void *user, int epoch, double train_loss, double train_top1,
                                 double train_top5, double val_loss, double val_top1,
                                 double val_top5, double train_ips);

/* Writes the chart to `path` atomically (io/atomic_file.h): a title naming
 * the model, the device and QAT or FP32; a loss panel (train and val) and an
 * accuracy panel (top-1 and top-5, train and val), in percent when every
 * accuracy is at most 1; epochs on the x axis.  A single epoch is drawn as
 * markers.  Values that are not finite, or whose magnitude exceeds 1e30, are
 * left out, and the chart says how many of which series were.  Fails with
 * PACTCL_EIO when the file cannot be written, leaving an earlier file at
 * `path` as it was and no temporary file beside it; PACTCL_EINVAL for an
 * empty history. */
int pactcl_run_plot_write(const char *path, const struct pactcl_run_history *h);

#endif /* PACTCL_TRAIN_RUN_PLOT_H */
