/*
 * trainer.h: the reference's training program (Step6 train.py main(),
 * train_one_epoch(), evaluate()) over a model graph and two batch sources.
 */
#ifndef PACTCL_TRAINER_H
#define PACTCL_TRAINER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "model/graph.h"

/* Where batches come from (the image loader, or synthetic data). */
struct pactcl_batch_source {
    void *ctx;
    /* Starts an epoch at batch `first_batch` (0, or where an interrupted run
     * stopped); returns the number of batches in the whole epoch, or a
     * negative status. */
    int (*begin_epoch)(void *ctx, int epoch, int first_batch);
    /* The next batch: NCHW float32 images and int32 labels valid until the
     * next call; returns 1, 0 at the end of the epoch, or a negative status. */
    int (*next)(void *ctx, const float **images, const int32_t **labels, int *n);
};

struct pactcl_train_options {
    int epochs, start_epoch; /* start_epoch < 0: from the resumed .pdopt, else 0 */
    int print_freq;
    float lr, momentum, weight_decay, lr_gamma;
    int lr_step_size;
    uint64_t seed;
    const char *output_dir; /* checkpoints go here; NULL or "" writes none */
    const char *resume;     /* checkpoint prefix ("out/latest"), or NULL */
    int test_only;
    FILE *log;              /* where the reference's lines go (stdout) */
    /* When it becomes non-zero (a signal handler sets it), training stops
     * after the current step, writes a resumable `latest` checkpoint and
     * returns PACTCL_EINTERRUPTED.  May be NULL. */
    volatile sig_atomic_t *stop;
    /* Called after each epoch with its evaluation top-1 (optional). */
    void (*on_epoch)(void *user, int epoch, double train_loss, double train_top1,
                     double train_top5, double val_loss, double val_top1, double val_top5,
                     double train_ips);
    /* Called after the last epoch, before "Training time" (the QAT export). */
    int (*on_finish)(void *user);
    void *user;
};

/* StepDecay: lr * gamma^floor(epoch / step_size). */
double pactcl_step_decay(double lr, double gamma, int step_size, int epoch);

/* Resumes from `prefix`.pdparams/.pdopt.  The reference joins '.pdparams' as a
 * path component (prefix/.pdparams); that form is accepted too.  *next_iter
 * is the batch to continue at inside epoch *last_epoch (0 at an epoch end). */
int pactcl_trainer_resume(struct pactcl_graph *g, const char *prefix, int *last_epoch,
                          double *best_top1, int *next_iter);

/* One epoch of training with the reference's log lines, from batch
 * `first_batch`; returns the mean loss/top-1/top-5 over the epoch's batches
 * in the out arguments.  When o->stop is raised it returns
 * PACTCL_EINTERRUPTED with *stopped_at = the next batch to run.  A
 * non-finite loss returns PACTCL_ENUMERIC naming the epoch, the iteration
 * and the first parameter or gradient holding a NaN or infinity. */
int pactcl_train_one_epoch(struct pactcl_graph *g, struct pactcl_batch_source *src, int epoch,
                           int first_batch, const struct pactcl_train_options *o, double lr,
                           double *loss, double *top1, double *top5, double *ips, int *stopped_at);

/* The reference's evaluate(): prints Test: lines and " * Acc@1 ... Acc@5 ...". */
int pactcl_evaluate(struct pactcl_graph *g, struct pactcl_batch_source *src, FILE *log,
                    double *top1, double *top5, double *loss);

/* The whole program after the model is built and initialised. */
int pactcl_train(struct pactcl_graph *g, struct pactcl_batch_source *train,
                 struct pactcl_batch_source *val, const struct pactcl_train_options *o);

#endif /* PACTCL_TRAINER_H */
