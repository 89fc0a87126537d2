/*
 * transforms.c: RandomResizedCrop + RandomHorizontalFlip, Resize +
 * CenterCrop, and the float32 normalisations, as the reference's presets
 * (paddlevision/transforms/transforms.py, SEED-SPEC 2.2) compute them.
 */
#include "internal.h"

#include "transforms.h"

#include <math.h>
#include <string.h>

#define GOLDEN 0x9E3779B97F4A7C15ull

void pactcl_transform_config_default(struct pactcl_transform_config *cfg)
{
    static const struct pactcl_transform_config defaults = {
        .crop_size = 224,
        .resize_size = 256,
        .scale = {0.08, 1.0},
        .ratio = {3.0 / 4.0, 4.0 / 3.0},
        .hflip_prob = 0.5,
        .mean = {0.485, 0.456, 0.406},
        .std = {0.229, 0.224, 0.225},
    };
    *cfg = defaults;
}

int pactcl_transform_config_check(const struct pactcl_transform_config *cfg)
{
    if (!cfg)
        return pactcl__set_error(PACTCL_EINVAL, "transform: no configuration");
    if (cfg->crop_size < 1 || cfg->crop_size > 65536)
        return pactcl__set_error(PACTCL_EINVAL, "transform: crop size %d is out of range",
                                 cfg->crop_size);
    /* The reference would zero-pad the centre crop; no preset asks for it. */
    if (cfg->resize_size < cfg->crop_size || cfg->resize_size > 65536)
        return pactcl__set_error(PACTCL_EINVAL,
                                 "transform: resize size %d must be in crop size (%d)..65536",
                                 cfg->resize_size, cfg->crop_size);
    if (!(cfg->scale[0] > 0 && cfg->scale[0] <= cfg->scale[1]))
        return pactcl__set_error(PACTCL_EINVAL,
                                 "transform: scale range (%g, %g) is not 0 < min <= max",
                                 cfg->scale[0], cfg->scale[1]);
    if (!(cfg->ratio[0] > 0 && cfg->ratio[0] <= cfg->ratio[1] && isfinite(cfg->ratio[1])))
        return pactcl__set_error(PACTCL_EINVAL,
                                 "transform: ratio range (%g, %g) is not 0 < min <= max",
                                 cfg->ratio[0], cfg->ratio[1]);
    if (!(cfg->hflip_prob >= 0 && cfg->hflip_prob <= 1))
        return pactcl__set_error(PACTCL_EINVAL, "transform: flip probability %g is not in [0, 1]",
                                 cfg->hflip_prob);
    for (int c = 0; c < 3; c++)
        if (!(cfg->std[c] > 0) || !isfinite(cfg->mean[c]))
            return pactcl__set_error(PACTCL_EINVAL, "transform: channel %d: mean %g, std %g", c,
                                     cfg->mean[c], cfg->std[c]);
    return PACTCL_OK;
}

/* ---- random numbers -------------------------------------------------------- */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void pactcl_rng_init(struct pactcl_rng *rng, uint64_t seed, uint64_t epoch, uint64_t index,
                     enum pactcl_rng_stream stream)
{
    uint64_t k = mix64(seed + GOLDEN);
    k = mix64(k ^ (epoch + 2 * GOLDEN));
    k = mix64(k ^ (index + 3 * GOLDEN));
    k = mix64(k ^ ((uint64_t)stream + 4 * GOLDEN));
    rng->key = k;
    rng->counter = 0;
}

uint64_t pactcl_rng_next(struct pactcl_rng *rng)
{
    rng->counter++;
    return mix64(rng->key + rng->counter * GOLDEN);
}

double pactcl_rng_uniform(struct pactcl_rng *rng, double lo, double hi)
{
    double u = (double)(pactcl_rng_next(rng) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

int64_t pactcl_rng_int(struct pactcl_rng *rng, int64_t lo, int64_t hi)
{
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    /* Rejecting the top partial block keeps every residue equally likely. */
    uint64_t threshold = -range % range;
    for (;;) {
        uint64_t r = pactcl_rng_next(rng);
        if (r >= threshold)
            return lo + (int64_t)(r % range);
    }
}

/* ---- train ----------------------------------------------------------------- */
/* Python's int(round(x)) for the non-negative values used here: rint rounds
 * half to even in the default rounding mode, as Python 3's round does. */
static int round_half_even(double x)
{
    return (int)rint(x);
}

int pactcl_random_resized_crop_box(int width, int height, const double scale[2],
                                   const double ratio[2], struct pactcl_rng *rng,
                                   struct pactcl_crop_box *box)
{
    double area = (double)height * width;
    double log_lo = log(ratio[0]), log_hi = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target_area = area * pactcl_rng_uniform(rng, scale[0], scale[1]);
        double aspect = exp(pactcl_rng_uniform(rng, log_lo, log_hi));
        double wd = rint(sqrt(target_area * aspect));
        double hd = rint(sqrt(target_area / aspect));
        if (wd > 0 && wd <= width && hd > 0 && hd <= height) {
            int w = (int)wd, h = (int)hd;
            box->top = (int)pactcl_rng_int(rng, 0, height - h + 1);
            box->left = (int)pactcl_rng_int(rng, 0, width - w + 1);
            box->height = h;
            box->width = w;
            return 0;
        }
    }
    double in_ratio = (double)width / (double)height;
    int w = width, h = height;
    if (in_ratio < ratio[0]) {
        h = round_half_even(w / ratio[0]);
    } else if (in_ratio > ratio[1]) {
        w = round_half_even(h * ratio[1]);
    }
    box->top = (height - h) / 2;
    box->left = (width - w) / 2;
    box->height = h;
    box->width = w;
    return 1;
}

static void flip_horizontal(uint8_t *rgb, int width, int height)
{
    for (int y = 0; y < height; y++) {
        uint8_t *l = rgb + (size_t)y * width * 3, *r = l + (size_t)(width - 1) * 3;
        for (; l < r; l += 3, r -= 3) {
            for (int c = 0; c < 3; c++) {
                uint8_t t = l[c];
                l[c] = r[c];
                r[c] = t;
            }
        }
    }
}

static int check_image(const struct pactcl_image *img)
{
    if (!img || !img->data || img->width < 1 || img->height < 1)
        return pactcl__set_error(PACTCL_EINVAL, "transform: empty image");
    return PACTCL_OK;
}

int pactcl_transform_train(const struct pactcl_image *img,
                           const struct pactcl_transform_config *cfg, uint64_t seed, uint64_t epoch,
                           uint64_t index, uint8_t *out)
{
    int status = check_image(img);
    if (status == PACTCL_OK)
        status = pactcl_transform_config_check(cfg);
    if (status != PACTCL_OK)
        return status;
    struct pactcl_rng rng;
    struct pactcl_crop_box box;
    pactcl_rng_init(&rng, seed, epoch, index, PACTCL_RNG_CROP);
    pactcl_random_resized_crop_box(img->width, img->height, cfg->scale, cfg->ratio, &rng, &box);

    /* PIL crop is a copy of the box; resizing the box in place reads the
     * same pixels, and Pillow's taps never reach outside the cropped image. */
    size_t stride = (size_t)img->width * 3;
    const uint8_t *origin = img->data + (size_t)box.top * stride + (size_t)box.left * 3;
    status = pactcl_resize_bilinear(origin, box.width, box.height, stride, cfg->crop_size,
                                    cfg->crop_size, NULL, out);
    if (status != PACTCL_OK)
        return status;

    pactcl_rng_init(&rng, seed, epoch, index, PACTCL_RNG_FLIP);
    if (pactcl_rng_uniform(&rng, 0.0, 1.0) < cfg->hflip_prob)
        flip_horizontal(out, cfg->crop_size, cfg->crop_size);
    return PACTCL_OK;
}

/* ---- eval ------------------------------------------------------------------ */
int pactcl_eval_geometry(int width, int height, int resize_size, int crop_size,
                         struct pactcl_eval_geometry *g)
{
    if (width < 1 || height < 1 || crop_size < 1 || resize_size < crop_size)
        return pactcl__set_error(PACTCL_EINVAL, "eval geometry: image %dx%d, resize %d, crop %d",
                                 width, height, resize_size, crop_size);
    int w = width, h = height;
    int short_side = w <= h ? w : h, long_side = w <= h ? h : w;
    if (short_side != resize_size) {
        /* Python's int(size * long / short): an exact product, one correctly
         * rounded division, truncation. */
        double scaled = (double)((int64_t)resize_size * long_side) / short_side;
        if (scaled >= INT32_MAX)
            return pactcl__set_error(PACTCL_EINVAL,
                                     "eval geometry: %dx%d resized to side %d is too large", width,
                                     height, resize_size);
        int new_long = (int)scaled;
        if (w <= h) {
            w = resize_size;
            h = new_long;
        } else {
            h = resize_size;
            w = new_long;
        }
    }
    g->resized_width = w;
    g->resized_height = h;
    g->crop.width = crop_size;
    g->crop.height = crop_size;
    g->crop.x = round_half_even((w - crop_size) / 2.0);
    g->crop.y = round_half_even((h - crop_size) / 2.0);
    return PACTCL_OK;
}

int pactcl_transform_eval(const struct pactcl_image *img, const struct pactcl_transform_config *cfg,
                          uint8_t *out)
{
    int status = check_image(img);
    if (status == PACTCL_OK)
        status = pactcl_transform_config_check(cfg);
    struct pactcl_eval_geometry g;
    if (status == PACTCL_OK)
        status =
            pactcl_eval_geometry(img->width, img->height, cfg->resize_size, cfg->crop_size, &g);
    if (status != PACTCL_OK)
        return status;
    return pactcl_resize_bilinear(img->data, img->width, img->height, (size_t)img->width * 3,
                                  g.resized_width, g.resized_height, &g.crop, out);
}

/* ---- to float -------------------------------------------------------------- */
void pactcl_normalizer_init(struct pactcl_normalizer *n, enum pactcl_norm_kind kind,
                            const double mean[3], const double std[3])
{
    /* Each step is stored to a float: C rounds assignments to the type, so
     * this matches numpy/Paddle float32 arithmetic even with excess precision. */
    for (int c = 0; c < 3; c++) {
        float m = (float)(kind == PACTCL_NORM_EVAL ? mean[c] * 255 : mean[c]);
        float s = (float)(kind == PACTCL_NORM_EVAL ? std[c] * 255 : std[c]);
        for (int v = 0; v < 256; v++) {
            float x = (float)v;
            if (kind == PACTCL_NORM_TRAIN)
                x = x / 255.0f;
            float d = x - m;
            n->lut[c][v] = d / s;
        }
    }
}

void pactcl_normalize(const struct pactcl_normalizer *n, const uint8_t *hwc, int width, int height,
                      float *chw)
{
    size_t plane = (size_t)width * height;
    for (int c = 0; c < 3; c++) {
        const float *lut = n->lut[c];
        float *dst = chw + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            dst[i] = lut[hwc[3 * i + (size_t)c]];
    }
}
