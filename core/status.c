/* status.c: status codes and the per-thread error message. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *pactcl_strerror(int status)
{
    switch (status) {
#define PACTCL_STATUS_CASE_(id, value, msg) \
    case value:                             \
        return msg;
        PACTCL_STATUS_LIST(PACTCL_STATUS_CASE_)
#undef PACTCL_STATUS_CASE_
    }
    return "unknown status";
}

const char *pactcl_last_error(void)
{
    return last_error;
}

int pactcl__set_errorv(int status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return status;
}

int pactcl__set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pactcl__set_errorv(status, fmt, ap);
    va_end(ap);
    return status;
}

char *pactcl__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *pactcl__strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = malloc((size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
