/* log.c: levelled logging to stderr, level from PACTCL_LOG. */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

static enum pactcl_log_level level = PACTCL_LOG_WARN;
static pthread_once_t level_once = PTHREAD_ONCE_INIT;

static void level_from_env(void)
{
    const char *v = getenv("PACTCL_LOG");
    if (!v || !*v)
        return;
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, names[i]) == 0) {
            level = (enum pactcl_log_level)i;
            return;
        }
    }
    fprintf(stderr, "pactcl: warning: PACTCL_LOG=%s is not one of error|warn|info|debug\n", v);
}

void pactcl_log_set_level(enum pactcl_log_level l)
{
    pthread_once(&level_once, level_from_env);
    level = l;
}

enum pactcl_log_level pactcl_log_get_level(void)
{
    pthread_once(&level_once, level_from_env);
    return level;
}

int pactcl__log_enabled(enum pactcl_log_level l)
{
    return l <= pactcl_log_get_level();
}

void pactcl__log(enum pactcl_log_level l, const char *fmt, ...)
{
    static const char *const tags[] = { "error", "warning", "info", "debug" };
    if (!pactcl__log_enabled(l))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "pactcl: %s: %s\n", tags[l], line);
}

static int host_set_error(int status, const char *fmt, ...) PACTCL_PRINTF(2, 3);
static int host_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pactcl__set_errorv(status, fmt, ap);
    va_end(ap);
    return status;
}

static void host_log(enum pactcl_log_level l, const char *fmt, ...) PACTCL_PRINTF(2, 3);
static void host_log(enum pactcl_log_level l, const char *fmt, ...)
{
    if (!pactcl__log_enabled(l))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pactcl__log(l, "%s", line);
}

const struct pactcl_host pactcl__host = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .set_error = host_set_error,
    .log = host_log,
    .log_enabled = pactcl__log_enabled,
};
