/* internal.h: what the files of libpactcl share; not installed. */
#ifndef PACTCL_INTERNAL_H
#define PACTCL_INTERNAL_H

#include "config.h"

#include <stdarg.h>

#include "pactcl-plugin.h"

#define PACTCL_PRINTF(f, a) __attribute__((format(printf, f, a)))

int pactcl__set_error(int status, const char *fmt, ...) PACTCL_PRINTF(2, 3);
int pactcl__set_errorv(int status, const char *fmt, va_list ap);
void pactcl__log(enum pactcl_log_level level, const char *fmt, ...) PACTCL_PRINTF(2, 3);
int pactcl__log_enabled(enum pactcl_log_level level);

/* The services table handed to every plugin's init. */
extern const struct pactcl_host pactcl__host;

struct pactcl_loaded_plugin {
    char *path;
    void *handle; /* dlopen handle */
    const struct pactcl_plugin *plugin;
    void *ctx; /* the plugin's own, from init */
};

struct pactcl_refused_plugin {
    char *path;
    char *reason;
};

struct pactcl_override_ref {
    const struct pactcl_override *ov;
    struct pactcl_loaded_plugin *owner;
};

struct pactcl_device {
    struct pactcl_plugin_device *impl;
    struct pactcl_loaded_plugin *owner;
    const char *backend; /* impl->backend, or the owning plugin's name */
    /* Overrides that claim this device, highest priority first. */
    struct pactcl_override_ref *overrides;
    int n_overrides;
    /* Ops whose overrides PACTCL_DISABLE_OVERRIDES switched off. */
    unsigned char override_disabled[PACTCL_OP_COUNT];
    /* Whether the provider chosen for an op was logged yet (debug). */
    unsigned char choice_logged[PACTCL_OP_COUNT];
};

struct pactcl_context {
    struct pactcl_loaded_plugin *plugins;
    int n_plugins;
    struct pactcl_refused_plugin *refused;
    int n_refused;
    struct pactcl_device **devices;
    int n_devices;
};

char *pactcl__strdup(const char *s);
char *pactcl__strdupf(const char *fmt, ...) PACTCL_PRINTF(1, 2);

#endif /* PACTCL_INTERNAL_H */
