/*
 * trainer.c: the reference's training program over a model graph.
 *
 * Host <-> device traffic during training is the batch upload and, at print
 * time only, the read-back of the metrics: per-batch top-k counts go to slots
 * of a device table and the loss is summed on the device.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "train/train_log.h"
#include "train/trainer.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double pactcl_step_decay(double lr, double gamma, int step_size, int epoch)
{
    return lr * pow(gamma, (double)(epoch / (step_size > 0 ? step_size : 1)));
}

static int upload_batch(struct pactcl_graph *g, const float *images, const int32_t *labels, int n)
{
    int rc = pactcl_graph_set_batch(g, n);
    if (rc == PACTCL_OK) {
        struct pactcl_tensor *x = g->values[g->input].t;
        rc = pactcl_tensor_write(x, images, pactcl_tensor_bytes(x));
    }
    if (rc == PACTCL_OK)
        rc = pactcl_tensor_write(g->labels, labels, (size_t)n * sizeof *labels);
    return rc;
}

static int topk_into(struct pactcl_graph *g, struct pactcl_tensor *correct)
{
    struct pactcl_op_call call = { .op = PACTCL_OP_TOPK_ACCURACY, .nargs = 3 };
    call.params.topk.k[0] = 1;
    call.params.topk.k[1] = 5;
    call.args[0] = g->values[g->logits].t;
    call.args[1] = g->labels;
    call.args[2] = correct;
    return pactcl_op_run(g->dev, &call);
}

static uint64_t step_seed(uint64_t seed, int epoch, int iter)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (((uint64_t)(uint32_t)epoch << 32) | (uint32_t)iter);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    return z ^ (z >> 27);
}

/* Device-side metrics of the batches since the last print. */
struct train_metrics {
    struct pactcl_tensor *table; /* [slots, 2] top-1/top-5 counts */
    struct pactcl_tensor **slot; /* views of one row each */
    int n_slots;
    struct pactcl_tensor *loss_sum; /* [1] sum of batch losses this epoch */
    struct pactcl_tensor *losses;   /* [slots] each batch's loss, to find a NaN's iteration */
    struct pactcl_tensor **loss_slot;
};

static void metrics_free(struct train_metrics *m)
{
    for (int i = 0; i < m->n_slots; i++) {
        pactcl_tensor_free(m->slot[i]);
        pactcl_tensor_free(m->loss_slot[i]);
    }
    free(m->slot);
    free(m->loss_slot);
    pactcl_tensor_free(m->losses);
    pactcl_tensor_free(m->table);
    pactcl_tensor_free(m->loss_sum);
    memset(m, 0, sizeof *m);
}

static int metrics_init(struct train_metrics *m, pactcl_device *dev, int slots)
{
    memset(m, 0, sizeof *m);
    const int64_t td[2] = { slots, 2 }, two[1] = { 2 }, one[1] = { 1 }, ld[1] = { slots };
    m->slot = calloc((size_t)slots, sizeof *m->slot);
    m->loss_slot = calloc((size_t)slots, sizeof *m->loss_slot);
    if (!m->slot || !m->loss_slot) {
        free(m->slot);
        free(m->loss_slot);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory for training metrics");
    }
    int rc = pactcl_tensor_create(dev, PACTCL_F32, 2, td, &m->table);
    if (rc == PACTCL_OK)
        rc = pactcl_tensor_create(dev, PACTCL_F32, 1, ld, &m->losses);
    for (int i = 0; rc == PACTCL_OK && i < slots; i++, m->n_slots++) {
        rc = pactcl_tensor_slice(m->table, 2 * (int64_t)i, 1, two, &m->slot[i]);
        if (rc == PACTCL_OK)
            rc = pactcl_tensor_slice(m->losses, i, 1, one, &m->loss_slot[i]);
    }
    if (rc == PACTCL_OK)
        rc = pactcl_tensor_create(dev, PACTCL_F32, 1, one, &m->loss_sum);
    if (rc != PACTCL_OK)
        metrics_free(m);
    return rc;
}

/* Whether a tensor holds a NaN or an infinity (read back: only on failure). */
static int has_non_finite(const struct pactcl_tensor *t)
{
    if (!t || t->dtype != PACTCL_F32)
        return 0;
    size_t n = (size_t)pactcl_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    int bad = 0;
    if (h && pactcl_tensor_read(t, h, n * sizeof *h) == PACTCL_OK)
        for (size_t i = 0; i < n && !bad; i++)
            bad = !isfinite(h[i]);
    free(h);
    return bad;
}

/* The error for a non-finite loss: where it appeared, and the first layer
 * (in the model's order) whose weights or gradients hold one. */
static int non_finite_error(const struct pactcl_graph *g, int epoch, int iter, float loss)
{
    const char *where = "no parameter or gradient (the input or the loss itself)";
    const char *what = "";
    for (int i = 0; i < g->n_params; i++) {
        if (has_non_finite(g->params[i].grad)) {
            where = g->params[i].key;
            what = " (its gradient)";
            break;
        }
        if (has_non_finite(g->params[i].value)) {
            where = g->params[i].key;
            what = "";
            break;
        }
    }
    return pactcl__set_error(PACTCL_ENUMERIC,
                             "loss is %s at epoch %d, iteration %d; the first non-finite values are "
                             "in %s%s. Training stopped; the last saved checkpoint is kept (try a "
                             "lower --lr)",
                             isnan(loss) ? "NaN" : "infinite", epoch, iter, where, what);
}

int pactcl_train_one_epoch(struct pactcl_graph *g, struct pactcl_batch_source *src, int epoch,
                           int first_batch, const struct pactcl_train_options *o, double lr,
                           double *loss_out, double *top1_out, double *top5_out, double *ips_out,
                           int *stopped_at)
{
    if (stopped_at)
        *stopped_at = -1;
    int n_batches = src->begin_epoch(src->ctx, epoch, first_batch);
    if (n_batches < 0)
        return n_batches;
    int print_freq = o->print_freq > 0 ? o->print_freq : 1;
    int slots = print_freq < n_batches ? print_freq : (n_batches > 0 ? n_batches : 1);
    struct train_metrics m;
    int rc = metrics_init(&m, g->dev, slots);
    if (rc != PACTCL_OK)
        return rc;
    int *sizes = calloc((size_t)slots, sizeof *sizes);
    float *counts = malloc((size_t)slots * 2 * sizeof *counts);
    float *losses = malloc((size_t)slots * sizeof *losses);
    if (!sizes || !counts || !losses) {
        rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory for training metrics");
        goto done;
    }
    double reader_cost = 0, run_cost = 0, acc1 = 0, acc5 = 0;
    double epoch_acc1 = 0, epoch_acc5 = 0, epoch_time = 0;
    long samples = 0, epoch_samples = 0;
    int batch_past = 0, batch_idx = first_batch, filled = 0; /* filled: slots since the last read-back */
    double reader_start = now();
    for (;; batch_idx++) {
        const float *images;
        const int32_t *labels;
        int n;
        rc = src->next(src->ctx, &images, &labels, &n);
        if (rc <= 0)
            break;
        double train_start = now();
        reader_cost += train_start - reader_start;
        epoch_time += train_start - reader_start;
        if ((rc = upload_batch(g, images, labels, n)) != PACTCL_OK ||
            (rc = pactcl_graph_forward(g, 1, step_seed(o->seed, epoch, batch_idx))) != PACTCL_OK ||
            (rc = pactcl_graph_loss(g)) != PACTCL_OK ||
            (rc = pactcl_graph_backward(g)) != PACTCL_OK ||
            (rc = pactcl_graph_sgd_step(g, (float)lr, o->momentum, o->weight_decay)) != PACTCL_OK)
            break;
        double run = now() - train_start;
        run_cost += run;
        epoch_time += run;
        /* Outside the timers, as the reference computes accuracy. */
        struct pactcl_op_call add = { .op = PACTCL_OP_ADD, .nargs = 3,
                                      .args = { m.loss_sum, g->loss, m.loss_sum } };
        if ((rc = topk_into(g, m.slot[filled])) != PACTCL_OK ||
            (rc = pactcl_op_run(g->dev, &add)) != PACTCL_OK ||
            (rc = pactcl_tensor_copy(m.loss_slot[filled], g->loss)) != PACTCL_OK)
            break;
        sizes[filled++] = n;
        samples += n;
        epoch_samples += n;
        batch_past++;
        int stopping = o->stop && *o->stop;
        if (batch_idx % print_freq == 0 || filled == slots || stopping) {
            /* The read-back: the losses and the accuracy table. */
            if ((rc = pactcl_tensor_read(m.losses, losses, (size_t)slots * sizeof *losses)) != PACTCL_OK ||
                (rc = pactcl_tensor_read(m.table, counts, (size_t)slots * 2 * sizeof *counts)) !=
                    PACTCL_OK)
                break;
            for (int i = 0; i < filled; i++)
                if (!isfinite(losses[i])) {
                    rc = non_finite_error(g, epoch, batch_idx - filled + 1 + i, losses[i]);
                    break;
                }
            if (rc != PACTCL_OK)
                break;
            float loss = losses[filled - 1];
            double f1 = 0, f5 = 0;
            for (int i = 0; i < filled; i++) {
                f1 += counts[2 * i] / sizes[i];
                f5 += counts[2 * i + 1] / sizes[i];
            }
            acc1 += f1;
            acc5 += f5;
            epoch_acc1 += f1;
            epoch_acc5 += f5;
            if (batch_idx % print_freq == 0) {
                char line[512];
                pactcl_fmt_train_line(line, sizeof line, epoch, batch_idx, acc1 / batch_past,
                                      acc5 / batch_past, lr, loss, reader_cost / batch_past,
                                      (reader_cost + run_cost) / batch_past,
                                      (double)samples / batch_past,
                                      samples / (reader_cost + run_cost));
                fprintf(o->log, "%s\n", line);
                fflush(o->log);
                reader_cost = run_cost = 0;
                samples = 0;
                acc1 = acc5 = 0;
                batch_past = 0;
            }
            filled = 0;
        }
        if (stopping) {
            if (stopped_at)
                *stopped_at = batch_idx + 1;
            rc = pactcl__set_error(PACTCL_EINTERRUPTED, "interrupted at epoch %d, iteration %d",
                                   epoch, batch_idx);
            goto done;
        }
        reader_start = now();
    }
    if (rc < 0)
        goto done;
    /* Batches after the last read-back. */
    if (filled) {
        if ((rc = pactcl_tensor_read(m.table, counts, (size_t)slots * 2 * sizeof *counts)) != PACTCL_OK ||
            (rc = pactcl_tensor_read(m.losses, losses, (size_t)slots * sizeof *losses)) != PACTCL_OK)
            goto done;
        for (int i = 0; i < filled; i++)
            if (!isfinite(losses[i])) {
                rc = non_finite_error(g, epoch, batch_idx - filled + i, losses[i]);
                goto done;
            }
        for (int i = 0; i < filled; i++) {
            epoch_acc1 += counts[2 * i] / sizes[i];
            epoch_acc5 += counts[2 * i + 1] / sizes[i];
        }
    }
    float loss_sum = 0;
    if ((rc = pactcl_tensor_read(m.loss_sum, &loss_sum, sizeof loss_sum)) != PACTCL_OK)
        goto done;
    int ran = batch_idx - first_batch;
    if (loss_out)
        *loss_out = ran ? loss_sum / ran : 0;
    if (top1_out)
        *top1_out = ran ? epoch_acc1 / ran : 0;
    if (top5_out)
        *top5_out = ran ? epoch_acc5 / ran : 0;
    if (ips_out)
        *ips_out = epoch_time > 0 ? epoch_samples / epoch_time : 0;
    rc = PACTCL_OK;
done:
    free(sizes);
    free(counts);
    free(losses);
    metrics_free(&m);
    return rc;
}

int pactcl_evaluate(struct pactcl_graph *g, struct pactcl_batch_source *src, FILE *log,
                    double *top1, double *top5, double *loss_out)
{
    const int print_freq = 100;
    int n_batches = src->begin_epoch(src->ctx, 0, 0);
    if (n_batches < 0)
        return n_batches;
    struct pactcl_tensor *correct = NULL;
    const int64_t two[1] = { 2 };
    int rc = pactcl_tensor_create(g->dev, PACTCL_F32, 1, two, &correct);
    if (rc != PACTCL_OK)
        return rc;
    struct pactcl_smoothed loss = { 0 }, acc1 = { 0 }, acc5 = { 0 }, iter_time = { 0 },
                           data_time = { 0 };
    double start = now(), end = start;
    for (int i = 0;; i++) {
        const float *images;
        const int32_t *labels;
        int n;
        rc = src->next(src->ctx, &images, &labels, &n);
        if (rc <= 0)
            break;
        pactcl_smoothed_update(&data_time, now() - end, 1);
        float l, c[2];
        if ((rc = upload_batch(g, images, labels, n)) != PACTCL_OK ||
            (rc = pactcl_graph_forward(g, 0, 0)) != PACTCL_OK || (rc = pactcl_graph_loss(g)) != PACTCL_OK ||
            (rc = topk_into(g, correct)) != PACTCL_OK ||
            (rc = pactcl_tensor_read(g->loss, &l, sizeof l)) != PACTCL_OK ||
            (rc = pactcl_tensor_read(correct, c, sizeof c)) != PACTCL_OK)
            break;
        pactcl_smoothed_update(&loss, l, 1);
        pactcl_smoothed_update(&acc1, c[0] / n, n);
        pactcl_smoothed_update(&acc5, c[1] / n, n);
        pactcl_smoothed_update(&iter_time, now() - end, 1);
        if (i % print_freq == 0) {
            char line[512];
            pactcl_fmt_test_line(line, sizeof line, i, n_batches,
                                 pactcl_smoothed_global_avg(&iter_time) * (n_batches - i), &loss,
                                 &acc1, &acc5, &iter_time, &data_time);
            fprintf(log, "%s\n", line);
            fflush(log);
        }
        end = now();
    }
    pactcl_tensor_free(correct);
    if (rc < 0)
        return rc;
    char total[48];
    pactcl_fmt_timedelta(now() - start, total, sizeof total);
    fprintf(log, "Test: Total time: %s\n", total);
    fprintf(log, " * Acc@1 %.3f Acc@5 %.3f\n", pactcl_smoothed_global_avg(&acc1),
            pactcl_smoothed_global_avg(&acc5));
    fflush(log);
    if (top1)
        *top1 = pactcl_smoothed_global_avg(&acc1);
    if (top5)
        *top5 = pactcl_smoothed_global_avg(&acc5);
    if (loss_out)
        *loss_out = pactcl_smoothed_global_avg(&loss);
    return PACTCL_OK;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int pactcl_trainer_resume(struct pactcl_graph *g, const char *prefix, int *last_epoch,
                          double *best_top1, int *next_iter)
{
    char params[4096], opt[4096];
    snprintf(params, sizeof params, "%s.pdparams", prefix);
    snprintf(opt, sizeof opt, "%s.pdopt", prefix);
    if (!file_exists(params)) {
        /* The reference's os.path.join(resume, '.pdparams'). */
        char alt[4096];
        snprintf(alt, sizeof alt, "%s/.pdparams", prefix);
        if (!file_exists(alt))
            return pactcl__set_error(PACTCL_EIO, "--resume %s: neither %s nor %s exists", prefix,
                                     params, alt);
        snprintf(params, sizeof params, "%s", alt);
        snprintf(opt, sizeof opt, "%s/.pdopt", prefix);
    }
    struct pactcl_state_dict *sd = NULL;
    int rc = pactcl_state_dict_load(params, &sd);
    if (rc == PACTCL_OK)
        rc = pactcl_checkpoint_load_params(g, sd, params, 0, NULL);
    pactcl_state_dict_free(sd);
    sd = NULL;
    if (rc == PACTCL_OK)
        rc = pactcl_state_dict_load(opt, &sd);
    if (rc == PACTCL_OK)
        rc = pactcl_checkpoint_load_opt(g, sd, opt, last_epoch, NULL, best_top1, next_iter);
    pactcl_state_dict_free(sd);
    return rc;
}

static int save_pair(const char *dir, const char *name, const struct pactcl_state_dict *params,
                     const struct pactcl_state_dict *opt)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pdparams", dir, name);
    int rc = pactcl_state_dict_save(path, params);
    if (rc == PACTCL_OK) {
        snprintf(path, sizeof path, "%s/%s.pdopt", dir, name);
        rc = pactcl_state_dict_save(path, opt);
    }
    return rc;
}

/* Writes latest (and model_<epoch> and best at an epoch's end).
 * next_iter >= 0: interrupted inside `epoch`, to continue at that batch. */
static int save_checkpoints(struct pactcl_graph *g, const struct pactcl_train_options *o, int epoch,
                            int next_iter, int is_best, double best_top1)
{
    struct pactcl_state_dict *params = NULL, *opt = NULL;
    int done_epochs = next_iter >= 0 ? epoch : epoch + 1;
    double lr = pactcl_step_decay(o->lr, o->lr_gamma, o->lr_step_size, done_epochs);
    int rc = pactcl_checkpoint_params_to_dict(g, &params);
    if (rc == PACTCL_OK)
        rc = pactcl_checkpoint_opt_to_dict(g, done_epochs, lr, best_top1, next_iter, &opt);
    char name[64];
    snprintf(name, sizeof name, "model_%d", epoch);
    if (rc == PACTCL_OK && next_iter < 0)
        rc = save_pair(o->output_dir, name, params, opt);
    if (rc == PACTCL_OK)
        rc = save_pair(o->output_dir, "latest", params, opt);
    if (rc == PACTCL_OK && is_best && next_iter < 0)
        rc = save_pair(o->output_dir, "best", params, opt);
    pactcl_state_dict_free(params);
    pactcl_state_dict_free(opt);
    return rc;
}

/* After an epoch whose losses were all finite: whether every parameter and
 * state tensor still is.  A loss can stay finite while weights are not: PACT
 * with a NaN alpha passes its input through and fake quantization clamps
 * NaNs to -scale, so a diverged QAT run otherwise trains on silently.  Runs
 * before the epoch's checkpoints are written, so the last good ones stay. */
static int params_finite(const struct pactcl_graph *g, int epoch)
{
    for (int i = 0; i < g->n_params; i++)
        if (has_non_finite(g->params[i].value))
            return pactcl__set_error(PACTCL_ENUMERIC,
                                     "after epoch %d, %s holds NaN or infinite values although "
                                     "every loss was finite (PACT and fake quantization clip them "
                                     "away). Training stopped; the last saved checkpoint is kept "
                                     "(try a lower --lr)",
                                     epoch, g->params[i].key);
    return PACTCL_OK;
}

/* A device fault (a failed launch, a lost device, exhausted device memory)
 * leaves the weights on the device in an unknown state, so nothing is saved
 * from them: the error says which checkpoint is the last good one instead.
 * Interrupts and non-finite losses carry their own advice. */
static int name_last_checkpoint(int rc, const char *dir, int saved_epoch)
{
    if (rc != PACTCL_EDEVICE && rc != PACTCL_ENOMEM)
        return rc;
    char cause[1024];
    snprintf(cause, sizeof cause, "%s", pactcl_last_error());
    if (saved_epoch < 0)
        return pactcl__set_error(rc, "%s. Training stopped before this run saved a checkpoint", cause);
    return pactcl__set_error(rc, "%s. Training stopped; the last good checkpoint (after epoch %d) is "
                             "%s/latest.pdparams: continue with --resume %s/latest", cause,
                             saved_epoch, dir, dir);
}

/* Fails early, with the reason, when checkpoints could not be written. */
static int probe_output_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return pactcl__set_error(PACTCL_EIO, "--output-dir %s: %s", dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/.pactcl-write-probe.%ld", dir, (long)getpid());
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite("probe", 1, 5, f) == 5 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    if (f)
        fclose(f);
    unlink(path);
    if (!ok)
        return pactcl__set_error(PACTCL_EIO, "--output-dir %s is not writable: %s", dir, strerror(err));
    return PACTCL_OK;
}

int pactcl_train(struct pactcl_graph *g, struct pactcl_batch_source *train,
                 struct pactcl_batch_source *val, const struct pactcl_train_options *o)
{
    int start_epoch = o->start_epoch >= 0 ? o->start_epoch : 0, first_batch = 0;
    double best_top1 = 0.0;
    if (o->resume && *o->resume) {
        int last_epoch = 0, next_iter = 0;
        int rc = pactcl_trainer_resume(g, o->resume, &last_epoch, &best_top1, &next_iter);
        if (rc != PACTCL_OK)
            return rc;
        if (o->start_epoch < 0) {
            start_epoch = last_epoch;
            first_batch = next_iter;
        }
    }
    if (o->test_only)
        return pactcl_evaluate(g, val, o->log, NULL, NULL, NULL);
    int save = o->output_dir && *o->output_dir;
    if (save) {
        int rc = probe_output_dir(o->output_dir);
        if (rc != PACTCL_OK)
            return rc;
    }
    fprintf(o->log, "Start training\n");
    fflush(o->log);
    double start = now();
    int unsaved = 0;       /* epochs whose checkpoint could not be written yet */
    int saved_epoch = -1;  /* the last epoch this run saved */
    for (int epoch = start_epoch; epoch < o->epochs; epoch++) {
        double lr = pactcl_step_decay(o->lr, o->lr_gamma, o->lr_step_size, epoch);
        double tl, t1, t5, ips, vl, v1, v5;
        int stopped_at = -1;
        int rc = pactcl_train_one_epoch(g, train, epoch, epoch == start_epoch ? first_batch : 0, o,
                                        lr, &tl, &t1, &t5, &ips, &stopped_at);
        if (rc == PACTCL_EINTERRUPTED && save) {
            int src = save_checkpoints(g, o, epoch, stopped_at, 0, best_top1);
            if (src != PACTCL_OK)
                return src;
            return pactcl__set_error(PACTCL_EINTERRUPTED,
                                     "interrupted at epoch %d before iteration %d; a resumable "
                                     "checkpoint is in %s/latest.pdparams and .pdopt: continue with "
                                     "--resume %s/latest",
                                     epoch, stopped_at, o->output_dir, o->output_dir);
        }
        if (rc == PACTCL_OK)
            rc = params_finite(g, epoch);
        if (rc == PACTCL_OK)
            rc = pactcl_evaluate(g, val, o->log, &v1, &v5, &vl);
        if (rc != PACTCL_OK)
            return save ? name_last_checkpoint(rc, o->output_dir, saved_epoch) : rc;
        int is_best = v1 > best_top1;
        if (is_best)
            best_top1 = v1;
        if (save) {
            /* A failed save (disk full, say) leaves the previous files intact;
             * the state stays in memory and the next epoch's save retries. */
            rc = save_checkpoints(g, o, epoch, -1, is_best, best_top1);
            if (rc != PACTCL_OK) {
                pactcl__log(PACTCL_LOG_ERROR, "epoch %d: checkpoint not saved: %s; training goes on "
                            "and retries after the next epoch", epoch, pactcl_last_error());
                unsaved++;
            } else {
                unsaved = 0;
                saved_epoch = epoch;
            }
        }
        if (o->on_epoch)
            o->on_epoch(o->user, epoch, tl, t1, t5, vl, v1, v5, ips);
        if (o->stop && *o->stop && epoch + 1 < o->epochs) {
            if (unsaved)
                return pactcl__set_error(PACTCL_EIO, "interrupted after epoch %d, whose checkpoint "
                                         "could not be saved", epoch);
            return pactcl__set_error(PACTCL_EINTERRUPTED,
                                     "interrupted after epoch %d; continue with --resume %s/latest",
                                     epoch, save ? o->output_dir : ".");
        }
    }
    if (unsaved)
        return pactcl__set_error(PACTCL_EIO, "the last %d epoch(s) could not be saved to %s (see the "
                                 "errors above)", unsaved, o->output_dir);
    if (o->on_finish) {
        int rc = o->on_finish(o->user);
        if (rc != PACTCL_OK)
            return rc;
    }
    char total[48];
    pactcl_fmt_timedelta(now() - start, total, sizeof total);
    fprintf(o->log, "Training time %s\n", total);
    fflush(o->log);
    return PACTCL_OK;
}
