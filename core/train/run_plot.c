/*
 * run_plot.c: the run history and its SVG chart.
 *
 * The chart is written by hand rather than through a plotting library: two
 * panels of polylines with "nice" ticks (1, 2 or 5 times a power of ten) are
 * a few hundred lines, and the output has no dependency a browser could
 * miss.  Numbers are printed under the "C" numeric locale whatever the host
 * program set, since a decimal comma would corrupt the SVG.
 */
#include "internal.h"

#include "run_plot.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values beyond this magnitude are left out with the non-finite ones: they
 * cannot come from a healthy run, and they would flatten every other point
 * into one line (or overflow the axis arithmetic). */
#define PLOT_MAX_MAGNITUDE 1e30

/* Above this many epochs the lines alone are drawn: markers would merge. */
#define MARKERS_UP_TO 60

/* Layout, in SVG user units (pixels at 100 %). */
#define SVG_W 960
#define SVG_H 780
#define PLOT_X0 80.0
#define PLOT_X1 720.0
#define LEGEND_X 745.0
#define PANEL_H 270.0

static const double panel_top[2] = { 110.0, 460.0 };

struct series {
    const char *name;
    size_t offset; /* of the double in struct pactcl_run_epoch */
    const char *color;
    int dashed;
    int panel; /* 0: loss, 1: accuracy */
};

#define TRAIN_COLOR "#1f77b4"
#define VAL_COLOR "#d62728"

static const struct series all_series[] = {
    { "train loss", offsetof(struct pactcl_run_epoch, train_loss), TRAIN_COLOR, 0, 0 },
    { "val loss", offsetof(struct pactcl_run_epoch, val_loss), VAL_COLOR, 0, 0 },
    { "train top-1", offsetof(struct pactcl_run_epoch, train_top1), TRAIN_COLOR, 0, 1 },
    { "val top-1", offsetof(struct pactcl_run_epoch, val_top1), VAL_COLOR, 0, 1 },
    { "train top-5", offsetof(struct pactcl_run_epoch, train_top5), TRAIN_COLOR, 1, 1 },
    { "val top-5", offsetof(struct pactcl_run_epoch, val_top5), VAL_COLOR, 1, 1 },
};
#define N_SERIES ((int)(sizeof all_series / sizeof all_series[0]))

/* ---- history ------------------------------------------------------------ */

int pactcl_run_history_init(struct pactcl_run_history *h, const char *model, const char *device,
                            int qat)
{
    memset(h, 0, sizeof *h);
    h->model = pactcl__strdup(model ? model : "");
    h->device = pactcl__strdup(device ? device : "");
    h->qat = qat;
    if (!h->model || !h->device) {
        pactcl_run_history_free(h);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory for the run history");
    }
    return PACTCL_OK;
}

void pactcl_run_history_free(struct pactcl_run_history *h)
{
    if (!h)
        return;
    free(h->model);
    free(h->device);
    free(h->epochs);
    memset(h, 0, sizeof *h);
}

int pactcl_run_history_add(struct pactcl_run_history *h, int epoch, double train_loss,
                           double train_top1, double train_top5, double val_loss, double val_top1,
                           double val_top5, double train_ips)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        struct pactcl_run_epoch *e = realloc(h->epochs, cap * sizeof *e);
        if (!e)
            return pactcl__set_error(PACTCL_ENOMEM, "out of memory for the run history");
        h->epochs = e;
        h->cap = cap;
    }
    h->epochs[h->n++] = (struct pactcl_run_epoch){
        .epoch = epoch, .train_loss = train_loss, .train_top1 = train_top1,
        .train_top5 = train_top5, .val_loss = val_loss, .val_top1 = val_top1,
        .val_top5 = val_top5, .train_ips = train_ips,
    };
    return PACTCL_OK;
}

void pactcl_run_history_on_epoch(void *user, int epoch, double train_loss, double train_top1,
                                 double train_top5, double val_loss, double val_top1,
                                 double val_top5, double train_ips)
{
    if (pactcl_run_history_add(user, epoch, train_loss, train_top1, train_top5, val_loss,
                               val_top1, val_top5, train_ips) != PACTCL_OK)
        pactcl__log(PACTCL_LOG_WARN, "epoch %d left out of the run chart: %s", epoch,
                    pactcl_last_error());
}

/* ---- output helpers ----------------------------------------------------- */

struct svg {
    FILE *fp;
    int err; /* errno of the first failed write */
};

static void out(struct svg *s, const char *fmt, ...) PACTCL_PRINTF(2, 3);

static void out(struct svg *s, const char *fmt, ...)
{
    if (s->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    if (vfprintf(s->fp, fmt, ap) < 0)
        s->err = errno ? errno : EIO;
    va_end(ap);
}

/* Text content and attribute values: the five XML specials escaped. */
static void out_text(struct svg *s, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': out(s, "&amp;"); break;
        case '<': out(s, "&lt;"); break;
        case '>': out(s, "&gt;"); break;
        case '"': out(s, "&quot;"); break;
        case '\'': out(s, "&apos;"); break;
        default: out(s, "%c", *p);
        }
    }
}

static double value(const struct pactcl_run_epoch *e, const struct series *sr)
{
    return *(const double *)((const char *)e + sr->offset);
}

static int usable(double v)
{
    return isfinite(v) && fabs(v) <= PLOT_MAX_MAGNITUDE;
}

/* ---- axes ------------------------------------------------------------- */

struct axis {
    double lo, hi, step;
};

/* 1, 2 or 5 times a power of ten, near range / target. */
static double nice_step(double range, int target)
{
    double raw = range / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

/* An axis over [lo, hi]: a value axis gets a 5 % margin, so that no point
 * sits on the frame, then widens to whole steps; the integer (epoch) axis
 * keeps its ends, or half an epoch around a single one. */
static struct axis make_axis(double lo, double hi, int target, int integer)
{
    struct axis a;
    if (lo > hi) { /* no value at all */
        lo = 0.0;
        hi = 1.0;
    }
    if (integer && hi == lo) {
        a.lo = lo - 0.5;
        a.hi = hi + 0.5;
        a.step = 1.0;
        return a;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + 1.0)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 0.5;
        lo -= pad;
        hi += pad;
    }
    if (!integer) {
        double margin = (hi - lo) * 0.05;
        lo -= margin;
        hi += margin;
    }
    a.step = nice_step(hi - lo, target);
    if (integer && a.step < 1.0)
        a.step = 1.0;
    a.lo = floor(lo / a.step) * a.step;
    a.hi = ceil(hi / a.step) * a.step;
    return a;
}

/* The first tick: the smallest multiple of the step at or above lo. */
static double first_tick(const struct axis *a)
{
    return ceil(a->lo / a->step - 1e-9) * a->step;
}

static int step_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d;
}

/* ---- chart ------------------------------------------------------------- */

struct chart {
    const struct pactcl_run_history *h;
    struct axis x;
    struct axis y[2];
    double y_scale[2]; /* 100 for accuracy fractions shown in percent */
    int skipped[N_SERIES];
};

static double px(const struct chart *c, double epoch)
{
    return PLOT_X0 + (epoch - c->x.lo) / (c->x.hi - c->x.lo) * (PLOT_X1 - PLOT_X0);
}

static double py(const struct chart *c, int panel, double v)
{
    const struct axis *a = &c->y[panel];
    return panel_top[panel] + PANEL_H - (v * c->y_scale[panel] - a->lo) / (a->hi - a->lo) * PANEL_H;
}

static void plan(struct chart *c, const struct pactcl_run_history *h)
{
    memset(c, 0, sizeof *c);
    c->h = h;
    double xlo = h->epochs[0].epoch, xhi = xlo;
    double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
    for (size_t i = 0; i < h->n; i++) {
        const struct pactcl_run_epoch *e = &h->epochs[i];
        xlo = fmin(xlo, e->epoch);
        xhi = fmax(xhi, e->epoch);
        for (int k = 0; k < N_SERIES; k++) {
            double v = value(e, &all_series[k]);
            int p = all_series[k].panel;
            if (!usable(v)) {
                c->skipped[k]++;
                continue;
            }
            lo[p] = fmin(lo[p], v);
            hi[p] = fmax(hi[p], v);
        }
    }
    c->x = make_axis(xlo, xhi, 10, 1);
    c->y_scale[0] = 1.0;
    /* The trainer reports fractions; percent reads better.  A caller that
     * passes percent already (values above 1) gets them as they are. */
    c->y_scale[1] = hi[1] <= 1.0 ? 100.0 : 1.0;
    for (int p = 0; p < 2; p++) {
        double l = lo[p] * c->y_scale[p], u = hi[p] * c->y_scale[p];
        c->y[p] = make_axis(l, u, 5, 0);
        if (p == 1 && c->y_scale[1] == 100.0) {
            c->y[p].lo = fmax(c->y[p].lo, 0.0);
            c->y[p].hi = fmin(c->y[p].hi, 100.0);
        }
    }
}

static void draw_frame(struct svg *s, const struct chart *c, int panel, const char *name,
                       const char *ylabel)
{
    double top = panel_top[panel], bottom = top + PANEL_H;
    const struct axis *y = &c->y[panel], *x = &c->x;
    int yd = step_decimals(y->step);
    out(s, "<g class=\"panel\">\n");
    out(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
        PLOT_X0, top - 12, name);
    /* Horizontal grid and y tick labels; the count is bounded by the step. */
    for (int k = 0;; k++) {
        double v = first_tick(y) + k * y->step;
        if (v > y->hi + y->step * 1e-6 || k > 50)
            break;
        double yy = bottom - (v - y->lo) / (y->hi - y->lo) * PANEL_H;
        out(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
            PLOT_X0, yy, PLOT_X1, yy);
        out(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", PLOT_X0 - 6,
            yy + 4, yd, fabs(v) < y->step * 1e-6 ? 0.0 : v);
    }
    for (int k = 0;; k++) {
        double v = first_tick(x) + k * x->step;
        if (v > x->hi + x->step * 1e-6 || k > 50)
            break;
        double xx = px(c, v);
        out(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", xx,
            top, xx, bottom);
        out(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", xx,
            bottom + 16, v);
    }
    out(s,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
        "stroke=\"#333\"/>\n",
        PLOT_X0, top, PLOT_X1 - PLOT_X0, PANEL_H);
    out(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n",
        (PLOT_X0 + PLOT_X1) / 2, bottom + 34);
    out(s,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
        "transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
        PLOT_X0 - 52, top + PANEL_H / 2, PLOT_X0 - 52, top + PANEL_H / 2, ylabel);
    out(s, "</g>\n");
}

static void draw_series(struct svg *s, const struct chart *c, int k, int legend_row)
{
    const struct series *sr = &all_series[k];
    const struct pactcl_run_history *h = c->h;
    int p = sr->panel;
    const char *dash = sr->dashed ? " stroke-dasharray=\"6 4\"" : "";
    out(s, "<g class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s>\n", sr->color,
        dash);
    /* One polyline per run of consecutive usable values: a left-out value
     * breaks the line rather than being bridged. */
    size_t run = 0;
    for (size_t i = 0; i <= h->n; i++) {
        int ok = i < h->n && usable(value(&h->epochs[i], sr));
        if (ok) {
            run++;
            continue;
        }
        if (run >= 2) {
            out(s, "<polyline points=\"");
            for (size_t j = i - run; j < i; j++)
                out(s, "%s%.1f,%.1f", j > i - run ? " " : "", px(c, h->epochs[j].epoch),
                    py(c, p, value(&h->epochs[j], sr)));
            out(s, "\"/>\n");
        }
        run = 0;
    }
    /* Markers at every point of a short run, and always at a point with no
     * usable neighbour, which no line shows. */
    for (size_t i = 0; i < h->n; i++) {
        double v = value(&h->epochs[i], sr);
        if (!usable(v))
            continue;
        int isolated = (i == 0 || !usable(value(&h->epochs[i - 1], sr))) &&
                       (i + 1 == h->n || !usable(value(&h->epochs[i + 1], sr)));
        if (h->n <= MARKERS_UP_TO || isolated)
            out(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"none\"/>\n",
                px(c, h->epochs[i].epoch), py(c, p, v), sr->color);
    }
    out(s, "</g>\n");
    double ly = panel_top[p] + 14 + legend_row * 22;
    out(s,
        "<g class=\"legend\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"%s\" stroke-width=\"2\"%s/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
        "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
        LEGEND_X, ly, LEGEND_X + 28, ly, sr->color, dash, LEGEND_X + 14, ly, sr->color,
        LEGEND_X + 36, ly + 4);
    out_text(s, sr->name);
    if (c->skipped[k] == (int)h->n)
        out(s, " (no usable value)");
    out(s, "</text></g>\n");
}

static void draw_header(struct svg *s, const struct chart *c)
{
    const struct pactcl_run_history *h = c->h;
    const char *mode = h->qat ? "PACT QAT" : "FP32";
    out(s, "<title>");
    out_text(s, *h->model ? h->model : "model");
    out(s, " on ");
    out_text(s, *h->device ? h->device : "unknown device");
    out(s, ", %s</title>\n", mode);
    out(s, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
    out(s, "<text x=\"%d\" y=\"32\" text-anchor=\"middle\" font-size=\"20\" "
           "font-weight=\"bold\">", SVG_W / 2);
    out_text(s, *h->model ? h->model : "model");
    out(s, " on ");
    out_text(s, *h->device ? h->device : "unknown device");
    out(s, ", %s</text>\n", mode);

    int lo = h->epochs[0].epoch, hi = lo;
    double ips_sum = 0;
    int ips_n = 0;
    for (size_t i = 0; i < h->n; i++) {
        lo = h->epochs[i].epoch < lo ? h->epochs[i].epoch : lo;
        hi = h->epochs[i].epoch > hi ? h->epochs[i].epoch : hi;
        if (usable(h->epochs[i].train_ips) && h->epochs[i].train_ips > 0) {
            ips_sum += h->epochs[i].train_ips;
            ips_n++;
        }
    }
    out(s, "<text x=\"%d\" y=\"56\" text-anchor=\"middle\" fill=\"#444\">", SVG_W / 2);
    if (h->n == 1)
        out(s, "1 epoch (epoch %d)", lo);
    else
        out(s, "%zu epochs (%d to %d)", h->n, lo, hi);
    if (ips_n)
        out(s, "; mean training throughput %.1f images/s", ips_sum / ips_n);
    out(s, "</text>\n");

    int any = 0;
    for (int k = 0; k < N_SERIES; k++)
        any |= c->skipped[k] != 0;
    if (!any)
        return;
    out(s, "<text x=\"%d\" y=\"78\" text-anchor=\"middle\" fill=\"#b00000\">"
           "Left out (not finite, or beyond 1e30):", SVG_W / 2);
    const char *sep = " ";
    for (int k = 0; k < N_SERIES; k++) {
        if (!c->skipped[k])
            continue;
        out(s, "%s%s %d of %zu", sep, all_series[k].name, c->skipped[k], h->n);
        sep = "; ";
    }
    out(s, "</text>\n");
}

static void draw(struct svg *s, const struct pactcl_run_history *h)
{
    struct chart c;
    plan(&c, h);
    out(s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
        SVG_W, SVG_H, SVG_W, SVG_H);
    draw_header(s, &c);
    draw_frame(s, &c, 0, "Loss", "loss");
    draw_frame(s, &c, 1, "Accuracy", c.y_scale[1] == 100.0 ? "accuracy (%)" : "accuracy");
    int row[2] = { 0, 0 };
    for (int k = 0; k < N_SERIES; k++)
        draw_series(s, &c, k, row[all_series[k].panel]++);
    out(s, "</svg>\n");
}

int pactcl_run_plot_write(const char *path, const struct pactcl_run_history *h)
{
    if (!path || !h || h->n == 0 || !h->model || !h->device)
        return pactcl__set_error(PACTCL_EINVAL, "cannot plot %s: no epoch recorded",
                                 path ? path : "(null)");
    struct pactcl__atomic_file af;
    int rc = pactcl__atomic_open(&af, path);
    if (rc != PACTCL_OK)
        return rc;
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) {
        pactcl__atomic_abort(&af);
        return pactcl__set_error(PACTCL_ENOMEM, "cannot plot %s: out of memory", path);
    }
    locale_t previous = uselocale(c_locale);
    struct svg s = { .fp = af.fp, .err = 0 };
    draw(&s, h);
    uselocale(previous);
    freelocale(c_locale);
    return pactcl__atomic_commit(&af, s.err);
}
