/* synth_data.c: the synthetic training set of synth_data.h. */
#include <stdlib.h>
#include <string.h>

#include "synth_data.h"

static float synth_pixel(int index, int label, int c, int y, int x)
{
    /* A class is a bright quadrant; noise from an integer hash of the position. */
    int quadrant = (y >= SIZE / 2) * 2 + (x >= SIZE / 2);
    uint32_t h = pactcl_hash32((uint32_t)(((index * 3 + c) * SIZE + y) * SIZE + x));
    float noise = (float)(h >> 8) / 16777216.0f - 0.5f;
    return (quadrant == label ? 1.5f : -0.5f) + noise;
}

static int synth_begin(void *ctx, int epoch, int first_batch)
{
    struct synth *s = ctx;
    s->pos = first_batch * s->batch < s->n ? first_batch * s->batch : s->n;
    s->epoch = epoch;
    for (int i = 0; i < s->n; i++)
        s->order[i] = i;
    /* A per-epoch shuffle that depends on the epoch only, as the reference's sampler. */
    for (int i = s->n - 1; i > 0; i--) {
        int j = (int)(pactcl_hash32((uint32_t)(epoch * 7919 + i)) % (uint32_t)(i + 1));
        int t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
    return (s->n + s->batch - 1) / s->batch;
}

static int synth_next(void *ctx, const float **images, const int32_t **labels, int *n)
{
    struct synth *s = ctx;
    if (s->pos >= s->n)
        return 0;
    int count = s->n - s->pos < s->batch ? s->n - s->pos : s->batch;
    for (int b = 0; b < count; b++) {
        int idx = s->order[s->pos + b], label = idx % CLASSES;
        s->labels[b] = label;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < SIZE; y++)
                for (int x = 0; x < SIZE; x++)
                    s->images[((b * 3 + c) * SIZE + y) * SIZE + x] = synth_pixel(idx, label, c, y, x);
    }
    s->pos += count;
    *images = s->images;
    *labels = s->labels;
    *n = count;
    return 1;
}

void synth_init(struct synth *s, int n, int batch)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->batch = batch;
    s->order = malloc((size_t)n * sizeof *s->order);
    s->images = malloc((size_t)batch * 3 * SIZE * SIZE * sizeof *s->images);
    s->labels = malloc((size_t)batch * sizeof *s->labels);
    s->src = (struct pactcl_batch_source){ .ctx = s, .begin_epoch = synth_begin, .next = synth_next };
}

void synth_free(struct synth *s)
{
    free(s->order);
    free(s->images);
    free(s->labels);
}

