/*
 * resize.c: Pillow's bilinear resampler (src/libImaging/Resample.c:
 * precompute_coeffs, normalize_coeffs_8bpc, the 8bpc horizontal and vertical
 * passes), restricted to the output window the caller wants.
 *
 * Every floating-point expression keeps Pillow's operand order, because the
 * coefficients are rounded to 22-bit integers and a last-bit difference in a
 * double could flip one of them.  The integer sums are exact, so their order
 * is free: the vertical pass accumulates whole rows, which reads memory
 * sequentially where Pillow walks down columns.
 */
#include "internal.h"

#include "resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

/* Coefficients for a run of output positions along one axis. */
struct taps {
    int ksize;     /* coefficients per position */
    int *start;    /* first input index used */
    int *count;    /* input indices used */
    int32_t *coef; /* ksize per position, fixed point */
};

static double bilinear_filter(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

static void taps_free(struct taps *t)
{
    free(t->start);
    free(t->count);
    free(t->coef);
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for output positions
 * [first, first + n) of an axis resized from in_size to out_size. */
static int taps_init(struct taps *t, int in_size, int out_size, int first, int n)
{
    memset(t, 0, sizeof *t);
    /* Pillow's box is float: in1 - in0 is (float)in_size. */
    double scale = (double)(float)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale; /* the bilinear filter's support is 1 */
    int ksize = (int)ceil(support) * 2 + 1;
    double inv_filterscale = 1.0 / filterscale;

    t->ksize = ksize;
    t->start = malloc(sizeof(int) * (size_t)n);
    t->count = malloc(sizeof(int) * (size_t)n);
    t->coef = malloc(sizeof(int32_t) * (size_t)n * (size_t)ksize);
    double *k = malloc(sizeof(double) * (size_t)ksize);
    if (!t->start || !t->count || !t->coef || !k) {
        free(k);
        taps_free(t);
        return pactcl__set_error(PACTCL_ENOMEM, "resize: out of memory for %d x %d coefficients", n,
                                 ksize);
    }
    for (int i = 0; i < n; i++) {
        int xx = first + i;
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            double w = bilinear_filter((x + xmin - center + 0.5) * inv_filterscale);
            k[x] = w;
            ww += w;
        }
        if (ww != 0.0) {
            for (int x = 0; x < xmax; x++)
                k[x] /= ww;
        }
        int32_t *kk = t->coef + (size_t)i * (size_t)ksize;
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? k[x] : 0.0;
            kk[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                          : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        t->start[i] = xmin;
        t->count[i] = xmax;
    }
    free(k);
    return PACTCL_OK;
}

static inline uint8_t clip8(int64_t ss)
{
    if (ss < 0)
        return 0;
    ss >>= PRECISION_BITS;
    return ss > 255 ? 255 : (uint8_t)ss;
}

/* One row through the horizontal taps: n output pixels. */
static void resample_row(const uint8_t *in, const struct taps *t, int n, uint8_t *out)
{
    for (int i = 0; i < n; i++) {
        const int32_t *k = t->coef + (size_t)i * (size_t)t->ksize;
        const uint8_t *p = in + (size_t)t->start[i] * 3;
        int64_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
        for (int x = 0; x < t->count[i]; x++, p += 3) {
            s0 += (int64_t)p[0] * k[x];
            s1 += (int64_t)p[1] * k[x];
            s2 += (int64_t)p[2] * k[x];
        }
        out[3 * i] = clip8(s0);
        out[3 * i + 1] = clip8(s1);
        out[3 * i + 2] = clip8(s2);
    }
}

int pactcl_resize_bilinear(const uint8_t *src, int src_w, int src_h, size_t src_stride, int out_w,
                           int out_h, const struct pactcl_rect *window, uint8_t *dst)
{
    struct pactcl_rect win = {0, 0, out_w, out_h};
    if (window)
        win = *window;
    if (!src || !dst || src_w < 1 || src_h < 1 || out_w < 1 || out_h < 1 ||
        src_stride < (size_t)src_w * 3)
        return pactcl__set_error(PACTCL_EINVAL, "resize: bad sizes %dx%d -> %dx%d", src_w, src_h,
                                 out_w, out_h);
    if (win.x < 0 || win.y < 0 || win.width < 1 || win.height < 1 || win.x > out_w - win.width ||
        win.y > out_h - win.height)
        return pactcl__set_error(PACTCL_EINVAL,
                                 "resize: window %dx%d at (%d,%d) is outside the %dx%d output",
                                 win.width, win.height, win.x, win.y, out_w, out_h);

    /* Pillow skips a pass whose size does not change (the box is the whole
     * image here); its taps would be the identity anyway. */
    const int need_h = out_w != src_w, need_v = out_h != src_h;
    struct taps th = {0}, tv = {0};
    uint8_t *mid = NULL;
    int64_t *acc = NULL;
    int status = PACTCL_OK;
    if (need_h && (status = taps_init(&th, src_w, out_w, win.x, win.width)) != PACTCL_OK)
        return status;
    if (need_v && (status = taps_init(&tv, src_h, out_h, win.y, win.height)) != PACTCL_OK)
        goto done;

    /* Source rows the vertical pass reads: [row0, row1). */
    int row0 = win.y, row1 = win.y + win.height;
    if (need_v) {
        row0 = tv.start[0];
        row1 = 0;
        for (int i = 0; i < win.height; i++)
            if (tv.start[i] + tv.count[i] > row1)
                row1 = tv.start[i] + tv.count[i];
    }
    const size_t row_bytes = (size_t)win.width * 3;

    /* Horizontal pass into `mid` (rows row0..row1), or a view of the source. */
    const uint8_t *mid_base;
    size_t mid_stride;
    if (need_h) {
        mid = malloc(row_bytes * (size_t)(row1 - row0));
        if (!mid) {
            status = pactcl__set_error(PACTCL_ENOMEM, "resize: out of memory");
            goto done;
        }
        for (int y = row0; y < row1; y++)
            resample_row(src + (size_t)y * src_stride, &th, win.width,
                         mid + (size_t)(y - row0) * row_bytes);
        mid_base = mid;
        mid_stride = row_bytes;
    } else {
        mid_base = src + (size_t)row0 * src_stride + (size_t)win.x * 3;
        mid_stride = src_stride;
    }

    if (!need_v) {
        for (int y = 0; y < win.height; y++)
            memcpy(dst + (size_t)y * row_bytes, mid_base + (size_t)y * mid_stride, row_bytes);
        goto done;
    }
    acc = malloc(sizeof(int64_t) * row_bytes);
    if (!acc) {
        status = pactcl__set_error(PACTCL_ENOMEM, "resize: out of memory");
        goto done;
    }
    for (int i = 0; i < win.height; i++) {
        const int32_t *k = tv.coef + (size_t)i * (size_t)tv.ksize;
        for (size_t x = 0; x < row_bytes; x++)
            acc[x] = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < tv.count[i]; y++) {
            const uint8_t *line = mid_base + (size_t)(tv.start[i] + y - row0) * mid_stride;
            const int64_t ky = k[y];
            for (size_t x = 0; x < row_bytes; x++)
                acc[x] += line[x] * ky;
        }
        uint8_t *o = dst + (size_t)i * row_bytes;
        for (size_t x = 0; x < row_bytes; x++)
            o[x] = clip8(acc[x]);
    }
done:
    free(acc);
    free(mid);
    taps_free(&th);
    taps_free(&tv);
    return status;
}
