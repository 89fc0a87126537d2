/*
 * transforms.h: the reference's train and eval image transforms
 * (SEED-SPEC 2.2: presets.ClassificationPresetTrain/Eval).
 *
 * Train: RandomResizedCrop(crop_size, scale, ratio) with Pillow bilinear, then
 *        RandomHorizontalFlip(hflip_prob), then ToTensor + Normalize:
 *        float32 (x/255 - mean) / std.
 * Eval:  Resize(resize_size) (short side; long = int(size * long / short);
 *        untouched when the short side already has that size), CenterCrop
 *        (offsets round-half-even((len - crop) / 2)), then paddle.vision
 *        Normalize(255 mean, 255 std): float32 (u8 - 255 mean) / (255 std).
 * Both produce the same float32 values as the reference, bit for bit, for the
 * same crop box and flip decision.
 *
 * Deviation from the reference: the random numbers.  Paddle draws them from
 * its global generator (paddle.uniform/randint) and Python's `random`, whose
 * streams depend on the process, the worker and the order in which workers
 * ran, and cannot be reproduced outside Paddle.  pactcl draws from a
 * counter-based generator keyed by (seed, epoch, sample index, stream), so a
 * given --seed gives the same crops and flips whatever the number of worker
 * threads or the batch size.  The distributions are the reference's:
 * area uniform in scale*area, log-aspect uniform, offsets uniform integers,
 * flip with probability hflip_prob.  (Paddle samples them in float32; we use
 * double, which only moves the rounding of w and h on exact .5 ties.)
 */
#ifndef PACTCL_DATA_TRANSFORMS_H
#define PACTCL_DATA_TRANSFORMS_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "resize.h"

struct pactcl_transform_config {
    int crop_size;     /* 224: train output side and eval centre crop */
    int resize_size;   /* 256: eval short side, >= crop_size */
    double scale[2];   /* RandomResizedCrop area fraction range: 0.08, 1.0 */
    double ratio[2];   /* aspect (w/h) range: 3/4, 4/3 */
    double hflip_prob; /* 0.5 */
    double mean[3];    /* 0.485, 0.456, 0.406 */
    double std[3];     /* 0.229, 0.224, 0.225 */
};

/* The reference's values (listed above). */
void pactcl_transform_config_default(struct pactcl_transform_config *cfg);
/* PACTCL_EINVAL with a message naming the bad field, else PACTCL_OK. */
int pactcl_transform_config_check(const struct pactcl_transform_config *cfg);

/* ---- random numbers ------------------------------------------------------ */
enum pactcl_rng_stream {
    PACTCL_RNG_CROP = 0, /* RandomResizedCrop: area, aspect, offsets */
    PACTCL_RNG_FLIP = 1  /* RandomHorizontalFlip */
};

/* SplitMix64 over a key hashed from (seed, epoch, index, stream): draw n of a
 * stream is a pure function of those five numbers. */
struct pactcl_rng {
    uint64_t key;
    uint64_t counter;
};

void pactcl_rng_init(struct pactcl_rng *rng, uint64_t seed, uint64_t epoch, uint64_t index,
                     enum pactcl_rng_stream stream);
uint64_t pactcl_rng_next(struct pactcl_rng *rng);
/* Uniform in [lo, hi). */
double pactcl_rng_uniform(struct pactcl_rng *rng, double lo, double hi);
/* Uniform integer in [lo, hi) (paddle.randint's range), unbiased; hi > lo. */
int64_t pactcl_rng_int(struct pactcl_rng *rng, int64_t lo, int64_t hi);

/* ---- train --------------------------------------------------------------- */
struct pactcl_crop_box {
    int top;
    int left;
    int height;
    int width;
};

/* RandomResizedCrop.get_params for a width x height image: up to 10 tries of
 * area = width*height*U(scale) and aspect = exp(U(log ratio)), with
 * w = round(sqrt(area*aspect)), h = round(sqrt(area/aspect)) (half to even)
 * accepted when 0 < w <= width and 0 < h <= height, then top ~ U{0..height-h}
 * and left ~ U{0..width-w}; otherwise the centre crop with the aspect clamped
 * to `ratio` (offsets floor((len - crop) / 2)).  Returns 1 when the fallback
 * was taken, 0 otherwise. */
int pactcl_random_resized_crop_box(int width, int height, const double scale[2],
                                   const double ratio[2], struct pactcl_rng *rng,
                                   struct pactcl_crop_box *box);

/* Crop box, Pillow bilinear resize to crop_size^2, and the flip, for sample
 * `index` of `epoch`: `out` receives crop_size*crop_size*3 bytes of RGB HWC. */
int pactcl_transform_train(const struct pactcl_image *img,
                           const struct pactcl_transform_config *cfg, uint64_t seed, uint64_t epoch,
                           uint64_t index, uint8_t *out);

/* ---- eval ---------------------------------------------------------------- */
struct pactcl_eval_geometry {
    int resized_width; /* after Resize(resize_size) */
    int resized_height;
    struct pactcl_rect crop; /* CenterCrop(crop_size) within the resized image */
};

int pactcl_eval_geometry(int width, int height, int resize_size, int crop_size,
                         struct pactcl_eval_geometry *g);

/* Resize + centre crop: crop_size*crop_size*3 bytes of RGB HWC. */
int pactcl_transform_eval(const struct pactcl_image *img, const struct pactcl_transform_config *cfg,
                          uint8_t *out);

/* ---- to float ------------------------------------------------------------ */
enum pactcl_norm_kind {
    PACTCL_NORM_TRAIN, /* ToTensor + Normalize(mean, std): (x/255 - mean) / std */
    PACTCL_NORM_EVAL   /* Normalize(255 mean, 255 std): (x - 255 mean) / (255 std) */
};

/* The result depends only on the channel and the byte value, so it is
 * tabulated once with the reference's float32 operations in its order. */
struct pactcl_normalizer {
    float lut[3][256];
};

void pactcl_normalizer_init(struct pactcl_normalizer *n, enum pactcl_norm_kind kind,
                            const double mean[3], const double std[3]);
/* RGB HWC bytes -> float32 CHW (3 planes of width*height). */
void pactcl_normalize(const struct pactcl_normalizer *n, const uint8_t *hwc, int width, int height,
                      float *chw);

#endif /* PACTCL_DATA_TRANSFORMS_H */
