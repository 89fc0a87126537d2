/* bench_util.c: see bench_util.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

int bench_bad_value(const char *flag, const char *value, const char *want)
{
    fprintf(stderr, "%s: %s: '%s' is not %s\n", bench_prog, flag, value, want);
    return 2;
}

int bench_parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        char want[64];
        snprintf(want, sizeof want, "an integer in %ld..%ld", lo, hi);
        return bench_bad_value(flag, s, want);
    }
    *out = v;
    return 0;
}

int bench_match_flag(const char *const *flags, int n, int argc, char **argv, int *i,
                     const char **val)
{
    const char *a = argv[*i];
    for (int f = 0; f < n; f++) {
        size_t len = strlen(flags[f]);
        if (strncmp(a, flags[f], len) != 0)
            continue;
        if (a[len] == '=') {
            *val = a + len + 1;
            return f;
        }
        if (a[len] == '\0') {
            if (*i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", bench_prog, flags[f]);
                return -2;
            }
            *val = argv[++*i];
            return f;
        }
    }
    return -1;
}

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
