/*
 * loader.c: worker threads decode + transform samples into a ring of slots;
 * the caller's thread takes the slots in epoch order and writes the floats.
 *
 * Position p of the epoch lives in slot p % n_slots.  A worker may claim p
 * only while p < next_take + n_slots, so a slot is never reused before the
 * consumer has taken it; a claimed slot belongs to its worker until it is
 * marked ready.  One mutex guards the positions and slot states; decoding
 * and normalising run outside it.
 */
#include "internal.h"

#include "loader.h"
#include "sampler.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 256

enum slot_state { SLOT_EMPTY, SLOT_BUSY, SLOT_READY };

struct slot {
    enum slot_state state;
    int status;      /* of the decode + transform */
    char *message;   /* the error, when status != PACTCL_OK */
    uint8_t *pixels; /* side * side * 3 */
};

struct pactcl_loader {
    struct pactcl_loader_config cfg;
    int side;
    size_t n; /* samples in the folder */
    size_t *order;
    struct pactcl_normalizer norm;
    struct slot *slots;
    int n_slots;
    pthread_t *threads;
    int n_threads;

    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* workers: a position became claimable, or stop */
    pthread_cond_t done_cv; /* consumer: a slot became ready, or a worker went idle */
    int stop;
    int active; /* workers may claim positions of the current epoch */
    int busy;   /* workers between claim and ready */
    uint32_t epoch;
    size_t next_claim;
    size_t next_take;

    /* Consumer side, touched only by the caller's thread. */
    int started;
    size_t delivered;
    size_t batches;
    size_t *skipped;
    size_t n_skipped;
    size_t cap_skipped;
    uint8_t *warned; /* one bit per sample: warned about already */
};

void pactcl_loader_config_default(struct pactcl_loader_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = PACTCL_LOADER_TRAIN;
    cfg->batch_size = 64;
    cfg->workers = 4;
    pactcl_transform_config_default(&cfg->transform);
}

/* Decode + transform position `pos`; runs without the lock. */
static void process(pactcl_loader *l, size_t pos, uint32_t epoch, struct slot *s)
{
    size_t index = l->order[pos];
    struct pactcl_image img;
    int status =
        pactcl_image_load(pactcl_image_folder_path(l->cfg.folder, index), l->cfg.max_pixels, &img);
    if (status == PACTCL_OK) {
        if (l->cfg.mode == PACTCL_LOADER_TRAIN)
            status = pactcl_transform_train(&img, &l->cfg.transform, l->cfg.seed, epoch, index,
                                            s->pixels);
        else
            status = pactcl_transform_eval(&img, &l->cfg.transform, s->pixels);
        pactcl_image_free(&img);
    }
    free(s->message);
    s->message = NULL;
    s->status = status;
    if (status != PACTCL_OK)
        s->message = pactcl__strdup(pactcl_last_error());
}

static int claimable(const pactcl_loader *l)
{
    return l->active && l->next_claim < l->n && l->next_claim < l->next_take + (size_t)l->n_slots;
}

static void *worker_main(void *arg)
{
    pactcl_loader *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->stop && !claimable(l))
            pthread_cond_wait(&l->work_cv, &l->lock);
        if (l->stop)
            break;
        size_t pos = l->next_claim++;
        struct slot *s = &l->slots[pos % (size_t)l->n_slots];
        uint32_t epoch = l->epoch;
        s->state = SLOT_BUSY;
        l->busy++;
        pthread_mutex_unlock(&l->lock);

        process(l, pos, epoch, s);

        pthread_mutex_lock(&l->lock);
        s->state = SLOT_READY;
        l->busy--;
        pthread_cond_broadcast(&l->done_cv);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static void stop_workers(pactcl_loader *l)
{
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < l->n_threads; i++)
        pthread_join(l->threads[i], NULL);
    l->n_threads = 0;
}

void pactcl_loader_free(pactcl_loader *l)
{
    if (!l)
        return;
    stop_workers(l);
    pthread_cond_destroy(&l->done_cv);
    pthread_cond_destroy(&l->work_cv);
    pthread_mutex_destroy(&l->lock);
    for (int i = 0; i < l->n_slots && l->slots; i++) {
        free(l->slots[i].pixels);
        free(l->slots[i].message);
    }
    free(l->slots);
    free(l->threads);
    free(l->order);
    free(l->skipped);
    free(l->warned);
    free(l);
}

static int check_config(const struct pactcl_loader_config *cfg)
{
    if (!cfg || !cfg->folder)
        return pactcl__set_error(PACTCL_EINVAL, "loader: no image folder");
    if (cfg->mode != PACTCL_LOADER_TRAIN && cfg->mode != PACTCL_LOADER_EVAL)
        return pactcl__set_error(PACTCL_EINVAL, "loader: unknown mode %d", (int)cfg->mode);
    if (cfg->batch_size < 1)
        return pactcl__set_error(PACTCL_EINVAL, "loader: batch size %d must be positive",
                                 cfg->batch_size);
    if (cfg->workers < 0 || cfg->workers > MAX_WORKERS)
        return pactcl__set_error(PACTCL_EINVAL, "loader: %d workers is not in 0..%d", cfg->workers,
                                 MAX_WORKERS);
    if (cfg->prefetch < 0)
        return pactcl__set_error(PACTCL_EINVAL, "loader: prefetch %d is negative", cfg->prefetch);
    return pactcl_transform_config_check(&cfg->transform);
}

int pactcl_loader_create(const struct pactcl_loader_config *cfg, pactcl_loader **out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "loader: no output");
    *out = NULL;
    int status = check_config(cfg);
    if (status != PACTCL_OK)
        return status;
    size_t n = pactcl_image_folder_count(cfg->folder);
    if ((uint64_t)n > UINT32_MAX)
        return pactcl__set_error(PACTCL_EINVAL, "loader: %zu samples is more than 2^32 - 1", n);

    pactcl_loader *l = calloc(1, sizeof *l);
    if (!l)
        return pactcl__set_error(PACTCL_ENOMEM, "loader: out of memory");
    l->cfg = *cfg;
    l->side = cfg->transform.crop_size;
    l->n = n;
    pactcl_normalizer_init(&l->norm,
                           cfg->mode == PACTCL_LOADER_TRAIN ? PACTCL_NORM_TRAIN : PACTCL_NORM_EVAL,
                           cfg->transform.mean, cfg->transform.std);
    /* Workers need a batch and more in flight to keep up while the caller
     * trains; without workers one slot is enough. */
    int n_slots = cfg->prefetch ? cfg->prefetch : 2 * cfg->batch_size;
    if (n_slots < cfg->workers)
        n_slots = cfg->workers;
    l->n_slots = cfg->workers ? n_slots : 1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);

    l->order = malloc(sizeof *l->order * (n ? n : 1));
    l->warned = calloc(n / 8 + 1, 1);
    l->slots = calloc((size_t)l->n_slots, sizeof *l->slots);
    l->threads = calloc((size_t)(cfg->workers ? cfg->workers : 1), sizeof *l->threads);
    int ok = l->order && l->warned && l->slots && l->threads;
    for (int i = 0; ok && i < l->n_slots; i++)
        ok = (l->slots[i].pixels = malloc((size_t)l->side * (size_t)l->side * 3)) != NULL;
    if (!ok) {
        pactcl_loader_free(l);
        return pactcl__set_error(PACTCL_ENOMEM, "loader: out of memory for %d slots of %dx%d",
                                 n_slots, l->side, l->side);
    }
    for (int i = 0; i < cfg->workers; i++) {
        if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0) {
            pactcl_loader_free(l);
            return pactcl__set_error(PACTCL_EINTERNAL, "loader: cannot start worker thread %d", i);
        }
        l->n_threads++;
    }
    *out = l;
    return PACTCL_OK;
}

int pactcl_loader_start_epoch(pactcl_loader *l, uint32_t epoch)
{
    return pactcl_loader_start_epoch_at(l, epoch, 0);
}

int pactcl_loader_start_epoch_at(pactcl_loader *l, uint32_t epoch, size_t first)
{
    if (!l)
        return pactcl__set_error(PACTCL_EINVAL, "loader: no loader");
    if (first > l->n)
        first = l->n;
    pthread_mutex_lock(&l->lock);
    /* Let in-flight samples of an abandoned epoch land before reusing slots. */
    l->active = 0;
    while (l->busy > 0)
        pthread_cond_wait(&l->done_cv, &l->lock);
    for (int i = 0; i < l->n_slots; i++)
        l->slots[i].state = SLOT_EMPTY;
    l->next_claim = l->next_take = first;
    l->epoch = epoch;
    int status = pactcl_sampler_order(l->n, l->cfg.mode == PACTCL_LOADER_TRAIN, epoch, l->order);
    if (status == PACTCL_OK) {
        l->active = 1;
        pthread_cond_broadcast(&l->work_cv);
    }
    pthread_mutex_unlock(&l->lock);
    l->started = status == PACTCL_OK;
    l->delivered = l->batches = l->n_skipped = 0;
    return status;
}

/* Records a failed sample; warns the first time this file fails. */
static int skip_sample(pactcl_loader *l, size_t index, const struct slot *s)
{
    if (l->n_skipped == l->cap_skipped) {
        size_t cap = l->cap_skipped ? l->cap_skipped * 2 : 64;
        size_t *grown = realloc(l->skipped, cap * sizeof *grown);
        if (!grown)
            return pactcl__set_error(PACTCL_ENOMEM, "loader: out of memory for the skip list");
        l->skipped = grown;
        l->cap_skipped = cap;
    }
    l->skipped[l->n_skipped++] = index;
    uint8_t bit = (uint8_t)(1u << (index % 8));
    if (l->warned[index / 8] & bit)
        return PACTCL_OK;
    l->warned[index / 8] |= bit;
    const char *path = pactcl_image_folder_path(l->cfg.folder, index);
    const char *message = s->message ? s->message : pactcl_strerror(s->status);
    if (l->cfg.on_skip)
        l->cfg.on_skip(l->cfg.user, path, message);
    else
        pactcl__log(PACTCL_LOG_WARN, "skipping unreadable image: %s", message);
    return PACTCL_OK;
}

int pactcl_loader_next(pactcl_loader *l, struct pactcl_batch *b)
{
    if (!l || !b || !b->images || !b->labels)
        return pactcl__set_error(PACTCL_EINVAL, "loader: no batch storage");
    b->count = 0;
    if (!l->started)
        return pactcl__set_error(PACTCL_EINVAL, "loader: no epoch started");
    const size_t floats = pactcl_loader_sample_floats(l);
    int status = PACTCL_OK;
    while (status == PACTCL_OK && b->count < l->cfg.batch_size) {
        struct slot *s;
        if (l->n_threads == 0) {
            if (l->next_take >= l->n)
                break;
            s = &l->slots[0];
            process(l, l->next_take, l->epoch, s);
        } else {
            pthread_mutex_lock(&l->lock);
            s = &l->slots[l->next_take % (size_t)l->n_slots];
            while (l->next_take < l->n && s->state != SLOT_READY)
                pthread_cond_wait(&l->done_cv, &l->lock);
            pthread_mutex_unlock(&l->lock);
            if (l->next_take >= l->n)
                break;
        }
        /* The slot stays ready, hence ours, until next_take moves past it. */
        size_t index = l->order[l->next_take];
        if (s->status == PACTCL_OK) {
            pactcl_normalize(&l->norm, s->pixels, l->side, l->side,
                             b->images + (size_t)b->count * floats);
            b->labels[b->count] = pactcl_image_folder_label(l->cfg.folder, index);
            if (b->indices)
                b->indices[b->count] = index;
            b->count++;
            l->delivered++;
        } else if ((status = skip_sample(l, index, s)) != PACTCL_OK) {
            break; /* the sample stays untaken: a retry resumes here */
        }
        if (l->n_threads == 0) {
            l->next_take++;
        } else {
            pthread_mutex_lock(&l->lock);
            s->state = SLOT_EMPTY;
            l->next_take++;
            pthread_cond_signal(&l->work_cv);
            pthread_mutex_unlock(&l->lock);
        }
    }
    if (b->count > 0)
        l->batches++;
    return status;
}

int pactcl_loader_image_size(const pactcl_loader *l)
{
    return l->side;
}

size_t pactcl_loader_sample_floats(const pactcl_loader *l)
{
    return (size_t)3 * (size_t)l->side * (size_t)l->side;
}

void pactcl_loader_stats(const pactcl_loader *l, struct pactcl_loader_stats *stats)
{
    stats->epoch = l->epoch;
    stats->samples = l->n;
    stats->delivered = l->delivered;
    stats->skipped = l->n_skipped;
    stats->batches = l->batches;
}

const size_t *pactcl_loader_skipped(const pactcl_loader *l, size_t *n)
{
    *n = l->n_skipped;
    return l->skipped;
}
