/*
 * bench_util.h: what op_bench and model_bench share: "--flag value" and
 * "--flag=value" matching with bounded integers (a bad value is exit status
 * 2 with a message naming the flag), and the clock and sorting the timings use.
 */
#ifndef PACTCL_BENCH_UTIL_H
#define PACTCL_BENCH_UTIL_H

/* The program name that prefixes every message. */
extern const char *bench_prog;

/* Prints "<prog>: FLAG: 'VALUE' is not WANT" and returns 2. */
int bench_bad_value(const char *flag, const char *value, const char *want);

/* A decimal integer in lo..hi into *out: 0, else bench_bad_value's 2. */
int bench_parse_long(const char *flag, const char *s, long lo, long hi, long *out);

/* Matches argv[*i] against flags[0..n-1] as "--flag value" (advancing *i)
 * or "--flag=value": the flag's index with *val set, -1 when none matches,
 * -2 when the value is missing (after a message). */
int bench_match_flag(const char *const *flags, int n, int argc, char **argv, int *i,
                     const char **val);

/* CLOCK_MONOTONIC in milliseconds. */
double bench_now_ms(void);

/* qsort comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

#endif
