/*
 * train_log.h: the reference's log lines, character for character
 * (SEED-SPEC §2.4, §2.5; PaddlePaddle models Step6 train.py and utils.py),
 * and the Python formatting rules they depend on.
 */
#ifndef PACTCL_TRAIN_LOG_H
#define PACTCL_TRAIN_LOG_H

#include <stddef.h>

/* Python's repr() of a float: the shortest text that reads back exactly,
 * with ".0" for integral values ("64.0", "21.333333333333332"). */
void pactcl_fmt_pyfloat(double v, char *buf, size_t len);

/* str(datetime.timedelta(seconds=int(seconds))): "0:01:05", "1 day, 2:03:04". */
void pactcl_fmt_timedelta(double seconds, char *buf, size_t len);

/* utils.SmoothedValue with a window of 20. */
struct pactcl_smoothed {
    double window[20];
    int n, head;
    double total;
    double count;
};

void pactcl_smoothed_update(struct pactcl_smoothed *s, double value, double weight);
/* paddle.median over the window: the mean of the two middle values when even. */
double pactcl_smoothed_median(const struct pactcl_smoothed *s);
double pactcl_smoothed_avg(const struct pactcl_smoothed *s);
double pactcl_smoothed_global_avg(const struct pactcl_smoothed *s);

/* One training log line (without newline), as train_one_epoch prints it. */
void pactcl_fmt_train_line(char *buf, size_t len, int epoch, int iter, double top1, double top5,
                           double lr, double loss, double reader_cost, double batch_cost,
                           double avg_samples, double ips);

/* One evaluation progress line, as MetricLogger.log_every prints it with
 * header "Test:" and delimiter two spaces. */
void pactcl_fmt_test_line(char *buf, size_t len, int i, int n, double eta_seconds,
                          const struct pactcl_smoothed *loss, const struct pactcl_smoothed *acc1,
                          const struct pactcl_smoothed *acc5, const struct pactcl_smoothed *time,
                          const struct pactcl_smoothed *data);

#endif /* PACTCL_TRAIN_LOG_H */
