/*
 * checkpoint.h: a model's parameters and optimizer state as PaddlePaddle state
 * dicts (.pdparams / .pdopt), so that Paddle users can paddle.load what pactcl
 * writes and pactcl can start from Paddle's files.
 */
#ifndef PACTCL_CHECKPOINT_H
#define PACTCL_CHECKPOINT_H

#include "io/state_dict.h"
#include "model/graph.h"

/* Every parameter and state tensor under its structured key, in the
 * reference's order, followed by the name table paddle.save adds. */
int pactcl_checkpoint_params_to_dict(const struct pactcl_graph *g, struct pactcl_state_dict **out);

/* The optimizer's state: "<paddle name>_velocity_0" per trainable parameter,
 * "LR_Scheduler" {last_epoch, last_lr}, and keys Paddle ignores (it reads
 * only those it knows): "pactcl_best_top1", so that a resumed run keeps
 * choosing `best` as an uninterrupted one would, and, for a run interrupted
 * inside epoch last_epoch, "pactcl_next_iter" (next_iter >= 0). */
int pactcl_checkpoint_opt_to_dict(const struct pactcl_graph *g, int last_epoch, double last_lr,
                                  double best_top1, int next_iter, struct pactcl_state_dict **out);

struct pactcl_load_report {
    int loaded, missing, unexpected, skipped_shape;
};

/* Copies matching entries of `sd` into the parameters, as Paddle's
 * set_state_dict does: a key the dict lacks is skipped with the reference's
 * warning ("Skip loading for K. K is not found in the provided dict.") and
 * extra keys are ignored.  A shape mismatch is an error, except for the
 * classifier's last layer when `allow_classifier_mismatch` (fine-tuning to
 * another number of classes), which is skipped with a warning.  Arrays must be
 * float32 (float64 is converted). */
int pactcl_checkpoint_load_params(struct pactcl_graph *g, const struct pactcl_state_dict *sd,
                                  const char *file, int allow_classifier_mismatch,
                                  struct pactcl_load_report *report);

/* Restores velocities and scheduler state from a .pdopt dict; missing
 * velocities are an error naming the key.  Outputs may be NULL. */
int pactcl_checkpoint_load_opt(struct pactcl_graph *g, const struct pactcl_state_dict *sd,
                               const char *file, int *last_epoch, double *last_lr,
                               double *best_top1, int *next_iter);

#endif /* PACTCL_CHECKPOINT_H */
