/* train_log.c: the reference's log formats (see train_log.h). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train_log.h"

void pactcl_fmt_pyfloat(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v < 0 ? "-inf" : "inf");
        return;
    }
    /* Shortest round-trip digits, as repr() chooses them. */
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, len, "%.*g", prec, v);
    /* repr switches to exponent notation outside [1e-4, 1e16); %g outside
     * [1e-4, 10^prec).  Rewrite in the positional form Python uses. */
    double a = fabs(v);
    if (strchr(buf, 'e') && a >= 1e-4 && a < 1e16) {
        char digits[64];
        snprintf(digits, sizeof digits, "%.0f", v);
        snprintf(buf, len, "%s", digits);
    }
    /* Python writes 1e-05 and 1e+16 with two exponent digits, as C does; an
     * integral value in positional form gets ".0". */
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        size_t u = strlen(buf);
        if (u + 2 < len)
            memcpy(buf + u, ".0", 3);
    }
}

void pactcl_fmt_timedelta(double seconds, char *buf, size_t len)
{
    long long s = (long long)seconds;
    if (s < 0)
        s = 0;
    long long days = s / 86400;
    s %= 86400;
    if (days)
        snprintf(buf, len, "%lld day%s, %lld:%02lld:%02lld", days, days == 1 ? "" : "s", s / 3600,
                 s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

void pactcl_smoothed_update(struct pactcl_smoothed *s, double value, double weight)
{
    int cap = (int)(sizeof s->window / sizeof s->window[0]);
    s->window[s->head] = value;
    s->head = (s->head + 1) % cap;
    if (s->n < cap)
        s->n++;
    s->total += value * weight;
    s->count += weight;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pactcl_smoothed_median(const struct pactcl_smoothed *s)
{
    if (!s->n)
        return 0.0;
    double v[20];
    memcpy(v, s->window, sizeof v);
    qsort(v, (size_t)s->n, sizeof v[0], cmp_double);
    return s->n % 2 ? v[s->n / 2] : 0.5 * (v[s->n / 2 - 1] + v[s->n / 2]);
}

double pactcl_smoothed_avg(const struct pactcl_smoothed *s)
{
    /* The reference averages the window as float32. */
    float sum = 0.0f;
    for (int i = 0; i < s->n; i++)
        sum += (float)s->window[i];
    return s->n ? (double)(sum / (float)s->n) : 0.0;
}

double pactcl_smoothed_global_avg(const struct pactcl_smoothed *s)
{
    return s->count > 0 ? s->total / s->count : 0.0;
}

void pactcl_fmt_train_line(char *buf, size_t len, int epoch, int iter, double top1, double top5,
                           double lr, double loss, double reader_cost, double batch_cost,
                           double avg_samples, double ips)
{
    char samples[40];
    pactcl_fmt_pyfloat(avg_samples, samples, sizeof samples);
    snprintf(buf, len,
             "[Epoch %d, iter: %d] top1: %.5f, top5: %.5f, lr: %.5f, loss: %.5f, avg_reader_cost: "
             "%.5f sec, avg_batch_cost: %.5f sec, avg_samples: %s, avg_ips: %.5f images/sec.",
             epoch, iter, top1, top5, lr, loss, reader_cost, batch_cost, samples, ips);
}

void pactcl_fmt_test_line(char *buf, size_t len, int i, int n, double eta_seconds,
                          const struct pactcl_smoothed *loss, const struct pactcl_smoothed *acc1,
                          const struct pactcl_smoothed *acc5, const struct pactcl_smoothed *time,
                          const struct pactcl_smoothed *data)
{
    char eta[48];
    pactcl_fmt_timedelta(eta_seconds, eta, sizeof eta);
    int width = snprintf(NULL, 0, "%d", n);
    snprintf(buf, len,
             "Test:  [%*d/%d]  eta: %s  loss: %.4f (%.4f)  acc1: %.4f (%.4f)  acc5: %.4f (%.4f)  "
             "time: %.4f  data: %.4f",
             width, i, n, eta, pactcl_smoothed_median(loss), pactcl_smoothed_global_avg(loss),
             pactcl_smoothed_median(acc1), pactcl_smoothed_global_avg(acc1),
             pactcl_smoothed_median(acc5), pactcl_smoothed_global_avg(acc5),
             pactcl_smoothed_avg(time), pactcl_smoothed_avg(data));
}
