/* cli_parse.c: strict parsing of option values, with errors naming the flag. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli.h"

int cli_parse_int(const char *flag, const char *text, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        cli_error("%s %s: expected an integer in %ld..%ld", flag, text, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') {
        cli_error("%s %s: expected a non-negative integer", flag, text);
        return -1;
    }
    *out = v;
    return 0;
}

uint64_t cli_max_pixels(void)
{
    const char *v = getenv("PACTCL_MAX_PIXELS");
    uint64_t n = 0;
    if (v && *v && cli_parse_u64("PACTCL_MAX_PIXELS", v, &n) != 0)
        return 0;
    return n;
}

int cli_parse_float(const char *flag, const char *text, double min, double max, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        cli_error("%s %s: expected a number in [%g, %g]", flag, text, min, max);
        return -1;
    }
    *out = (float)v;
    return 0;
}
