/*
 * registry.c: finds plugin files, dlopen()s them, checks their ABI and builds
 * the context's device list and per-device override tables.
 *
 * Search order: the installed plugin dir, each dir of PACTCL_PLUGIN_PATH, then
 * files named explicitly.  In a directory only files named pactcl-*.so are
 * considered, in sorted order.  The first plugin of a given name wins; a later
 * one of the same name is refused, so a development build on
 * PACTCL_PLUGIN_PATH never runs beside an installed copy by accident.
 */
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef PACTCL_PLUGIN_DIR
#error "PACTCL_PLUGIN_DIR must be defined by the build"
#endif

const char *pactcl_installed_plugin_dir(void)
{
    return PACTCL_PLUGIN_DIR;
}

static int refuse(pactcl_context *ctx, const char *path, const char *fmt, ...) PACTCL_PRINTF(3, 4);
static int refuse(pactcl_context *ctx, const char *path, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    struct pactcl_refused_plugin *r =
        realloc(ctx->refused, (size_t)(ctx->n_refused + 1) * sizeof *ctx->refused);
    if (!r)
        return PACTCL_ENOMEM;
    ctx->refused = r;
    r[ctx->n_refused].path = pactcl__strdup(path);
    r[ctx->n_refused].reason = pactcl__strdup(reason);
    if (!r[ctx->n_refused].path || !r[ctx->n_refused].reason) {
        free(r[ctx->n_refused].path);
        free(r[ctx->n_refused].reason);
        return PACTCL_ENOMEM;
    }
    ctx->n_refused++;
    pactcl__log(PACTCL_LOG_INFO, "plugin %s refused: %s", path, reason);
    return PACTCL_OK;
}

static const char *iface_missing_slot(const struct pactcl_device_iface *i)
{
    if (!i)
        return "iface";
    if (!i->buffer_alloc)
        return "buffer_alloc";
    if (!i->buffer_free)
        return "buffer_free";
    if (!i->buffer_write)
        return "buffer_write";
    if (!i->buffer_read)
        return "buffer_read";
    if (!i->buffer_copy)
        return "buffer_copy";
    if (!i->buffer_zero)
        return "buffer_zero";
    if (!i->supports)
        return "supports";
    if (!i->run)
        return "run";
    if (!i->sync)
        return "sync";
    return NULL;
}

/* Checks what a plugin exposes after init; returns a reason or NULL. */
static const char *validate_plugin_objects(const struct pactcl_plugin *p, void *pctx, char *buf,
                                           size_t buflen)
{
    int n = p->device_count ? p->device_count(pctx) : 0;
    if (n < 0)
        return "device_count returned a negative number";
    for (int i = 0; i < n; i++) {
        struct pactcl_plugin_device *d = p->device_get(pctx, i);
        if (!d) {
            snprintf(buf, buflen, "device_get(%d) returned NULL", i);
            return buf;
        }
        if (!d->info.id || !d->info.name || !*d->info.id) {
            snprintf(buf, buflen, "device %d has no id or name", i);
            return buf;
        }
        const char *slot = iface_missing_slot(d->iface);
        if (slot) {
            snprintf(buf, buflen, "device '%s' lacks the required slot %s", d->info.id, slot);
            return buf;
        }
    }
    int m = p->override_count ? p->override_count(pctx) : 0;
    if (m < 0)
        return "override_count returned a negative number";
    for (int i = 0; i < m; i++) {
        const struct pactcl_override *o = p->override_get(pctx, i);
        if (!o || !o->name || !o->claims_device || !o->supports || !o->run) {
            snprintf(buf, buflen, "override %d lacks a name or a required slot", i);
            return buf;
        }
    }
    return NULL;
}

static int load_plugin_file_quiet(pactcl_context *ctx, const char *path)
{    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *e = dlerror();
        return refuse(ctx, path, "cannot be loaded: %s", e ? e : "unknown dlopen error");
    }
    const struct pactcl_plugin *p = dlsym(handle, PACTCL_PLUGIN_SYMBOL);
    if (!p) {
        dlclose(handle);
        return refuse(ctx, path, "missing entry point '%s' (not a pactcl plugin?)",
                      PACTCL_PLUGIN_SYMBOL);
    }
    if (p->abi_version != PACTCL_PLUGIN_ABI_VERSION) {
        unsigned v = p->abi_version;
        dlclose(handle);
        return refuse(ctx, path, "plugin ABI version %u, but this pactcl needs version %u", v,
                      PACTCL_PLUGIN_ABI_VERSION);
    }
    if (!p->name || !*p->name || !p->init || (p->device_count && !p->device_get) ||
        (p->override_count && !p->override_get)) {
        dlclose(handle);
        return refuse(ctx, path, "incomplete plugin descriptor (name, init, or a get slot missing)");
    }
    for (int i = 0; i < ctx->n_plugins; i++) {
        if (strcmp(ctx->plugins[i].plugin->name, p->name) == 0) {
            char *other = pactcl__strdup(ctx->plugins[i].path);
            char *name = pactcl__strdup(p->name);
            dlclose(handle);
            int rc = refuse(ctx, path, "a plugin named '%s' is already loaded from %s",
                            name ? name : "?", other ? other : "?");
            free(other);
            free(name);
            return rc;
        }
    }
    void *pctx = NULL;
    pactcl__set_error(PACTCL_OK, "%s", "");
    int rc = p->init(&pactcl__host, &pctx);
    if (rc != 0) {
        int r = refuse(ctx, path, "init failed: %s",
                       *pactcl_last_error() ? pactcl_last_error() : pactcl_strerror(rc));
        dlclose(handle);
        return r;
    }
    char why[256];
    const char *bad = validate_plugin_objects(p, pctx, why, sizeof why);
    if (bad) {
        char *reason = pactcl__strdup(bad);
        if (p->shutdown)
            p->shutdown(pctx);
        dlclose(handle);
        int r = refuse(ctx, path, "%s", reason ? reason : "invalid plugin objects");
        free(reason);
        return r;
    }
    struct pactcl_loaded_plugin *np =
        realloc(ctx->plugins, (size_t)(ctx->n_plugins + 1) * sizeof *ctx->plugins);
    char *pathcopy = pactcl__strdup(path);
    if (!np || !pathcopy) {
        if (np)
            ctx->plugins = np;
        free(pathcopy);
        if (p->shutdown)
            p->shutdown(pctx);
        dlclose(handle);
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory loading plugin %s", path);
    }
    ctx->plugins = np;
    np[ctx->n_plugins] = (struct pactcl_loaded_plugin){ pathcopy, handle, p, pctx };
    ctx->n_plugins++;
    pactcl__log(PACTCL_LOG_INFO, "loaded plugin '%s' from %s", p->name, path);
    return PACTCL_OK;
}

static int load_plugin_file(pactcl_context *ctx, const char *path, int explicit_file)
{
    int before = ctx->n_refused;
    int rc = load_plugin_file_quiet(ctx, path);
    /* A file the user named gets a visible warning; directory scans stay quiet. */
    if (explicit_file && ctx->n_refused > before)
        pactcl__log(PACTCL_LOG_WARN, "plugin %s refused: %s", path, ctx->refused[before].reason);
    return rc;
}

static int is_plugin_file_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "pactcl-", 7) == 0 && n > 10 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_plugin_dir(pactcl_context *ctx, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        pactcl__log(PACTCL_LOG_DEBUG, "plugin dir %s not readable, skipped", dir);
        return PACTCL_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = PACTCL_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_plugin_file_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) {
                rc = PACTCL_ENOMEM;
                break;
            }
            names = nn;
        }
        names[n] = pactcl__strdupf("%s/%s", dir, e->d_name);
        if (!names[n]) {
            rc = PACTCL_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == PACTCL_OK && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == PACTCL_OK)
            rc = load_plugin_file(ctx, names[i], 0);
        free(names[i]);
    }
    free(names);
    if (rc == PACTCL_ENOMEM)
        return pactcl__set_error(rc, "out of memory scanning plugin dir %s", dir);
    return rc;
}

static void parse_disabled_overrides(unsigned char *disabled)
{
    const char *v = getenv("PACTCL_DISABLE_OVERRIDES");
    if (!v || !*v)
        return;
    char *copy = pactcl__strdup(v);
    if (!copy)
        return;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (strcasecmp(tok, "all") == 0) {
            memset(disabled, 1, PACTCL_OP_COUNT);
            continue;
        }
        int op = -1;
        for (int i = 0; i < PACTCL_OP_COUNT && op < 0; i++)
            if (strcasecmp(tok, pactcl_op_name((enum pactcl_op)i)) == 0)
                op = i;
        if (op < 0)
            pactcl__log(PACTCL_LOG_WARN, "PACTCL_DISABLE_OVERRIDES: unknown op '%s' ignored", tok);
        else
            disabled[op] = 1;
    }
    free(copy);
}

static int cmp_override_priority(const void *a, const void *b)
{
    const struct pactcl_override_ref *x = a, *y = b;
    return (y->ov->priority > x->ov->priority) - (y->ov->priority < x->ov->priority);
}

static int build_devices(pactcl_context *ctx)
{
    unsigned char disabled[PACTCL_OP_COUNT] = { 0 };
    parse_disabled_overrides(disabled);
    for (int pi = 0; pi < ctx->n_plugins; pi++) {
        struct pactcl_loaded_plugin *lp = &ctx->plugins[pi];
        int n = lp->plugin->device_count ? lp->plugin->device_count(lp->ctx) : 0;
        for (int i = 0; i < n; i++) {
            struct pactcl_device *dev = calloc(1, sizeof *dev);
            struct pactcl_device **nd =
                realloc(ctx->devices, (size_t)(ctx->n_devices + 1) * sizeof *ctx->devices);
            if (!dev || !nd) {
                free(dev);
                if (nd)
                    ctx->devices = nd;
                return pactcl__set_error(PACTCL_ENOMEM, "out of memory listing devices");
            }
            ctx->devices = nd;
            dev->impl = lp->plugin->device_get(lp->ctx, i);
            dev->backend = dev->impl->backend ? dev->impl->backend : lp->plugin->name;
            dev->owner = lp;
            int duplicate = 0;
            for (int k = 0; k < ctx->n_devices; k++)
                duplicate |= strcmp(ctx->devices[k]->impl->info.id, dev->impl->info.id) == 0;
            if (duplicate) {
                pactcl__log(PACTCL_LOG_WARN, "device id '%s' from %s is already taken; device skipped",
                            dev->impl->info.id, lp->path);
                free(dev);
                continue;
            }
            memcpy(dev->override_disabled, disabled, sizeof disabled);
            nd[ctx->n_devices++] = dev;
        }
    }
    /* Attach every override to the devices it claims. */
    for (int di = 0; di < ctx->n_devices; di++) {
        struct pactcl_device *dev = ctx->devices[di];
        for (int pi = 0; pi < ctx->n_plugins; pi++) {
            struct pactcl_loaded_plugin *lp = &ctx->plugins[pi];
            int m = lp->plugin->override_count ? lp->plugin->override_count(lp->ctx) : 0;
            for (int k = 0; k < m; k++) {
                const struct pactcl_override *ov = lp->plugin->override_get(lp->ctx, k);
                if (!ov->claims_device(lp->ctx, dev->impl))
                    continue;
                struct pactcl_override_ref *no =
                    realloc(dev->overrides, (size_t)(dev->n_overrides + 1) * sizeof *no);
                if (!no)
                    return pactcl__set_error(PACTCL_ENOMEM, "out of memory attaching overrides");
                dev->overrides = no;
                no[dev->n_overrides++] = (struct pactcl_override_ref){ ov, lp };
                pactcl__log(PACTCL_LOG_DEBUG, "override '%s' (priority %d) from %s claims device %s",
                            ov->name, ov->priority, lp->path, dev->impl->info.id);
            }
        }
        if (dev->n_overrides > 1)
            qsort(dev->overrides, (size_t)dev->n_overrides, sizeof *dev->overrides,
                  cmp_override_priority);
    }
    return PACTCL_OK;
}

int pactcl_context_create(const struct pactcl_context_options *opts, pactcl_context **out)
{
    if (!out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_context_create: out is NULL");
    *out = NULL;
    if (opts && opts->n_plugin_files > 0 && !opts->plugin_files)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_context_create: plugin_files is NULL");
    pactcl_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return pactcl__set_error(PACTCL_ENOMEM, "out of memory creating a context");
    int rc = PACTCL_OK;
    if (!opts || !opts->skip_installed_dir)
        rc = load_plugin_dir(ctx, PACTCL_PLUGIN_DIR);
    const char *env = getenv("PACTCL_PLUGIN_PATH");
    if (rc == PACTCL_OK && env && *env && !(opts && opts->skip_env_path)) {
        char *copy = pactcl__strdup(env);
        if (!copy)
            rc = pactcl__set_error(PACTCL_ENOMEM, "out of memory reading PACTCL_PLUGIN_PATH");
        char *save = NULL;
        for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && rc == PACTCL_OK;
             dir = strtok_r(NULL, ":", &save))
            rc = load_plugin_dir(ctx, dir);
        free(copy);
    }
    for (int i = 0; rc == PACTCL_OK && opts && i < opts->n_plugin_files; i++) {
        if (!opts->plugin_files[i])
            rc = pactcl__set_error(PACTCL_EINVAL, "pactcl_context_create: plugin file %d is NULL", i);
        else
            rc = load_plugin_file(ctx, opts->plugin_files[i], 1);
    }
    if (rc == PACTCL_OK)
        rc = build_devices(ctx);
    if (rc != PACTCL_OK) {
        pactcl_context_free(ctx);
        return rc;
    }
    /* Refusals are listed in the context, not left as this thread's error. */
    pactcl__set_error(PACTCL_OK, "%s", "");
    *out = ctx;
    return PACTCL_OK;
}

void pactcl_context_free(pactcl_context *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < ctx->n_devices; i++) {
        free(ctx->devices[i]->overrides);
        free(ctx->devices[i]);
    }
    free(ctx->devices);
    for (int i = ctx->n_plugins - 1; i >= 0; i--) {
        struct pactcl_loaded_plugin *lp = &ctx->plugins[i];
        if (lp->plugin->shutdown)
            lp->plugin->shutdown(lp->ctx);
        dlclose(lp->handle);
        free(lp->path);
    }
    free(ctx->plugins);
    for (int i = 0; i < ctx->n_refused; i++) {
        free(ctx->refused[i].path);
        free(ctx->refused[i].reason);
    }
    free(ctx->refused);
    free(ctx);
}

int pactcl_context_device_count(const pactcl_context *ctx)
{
    return ctx ? ctx->n_devices : 0;
}

pactcl_device *pactcl_context_device(const pactcl_context *ctx, int index)
{
    if (!ctx || index < 0 || index >= ctx->n_devices)
        return NULL;
    return ctx->devices[index];
}

int pactcl_context_plugin_count(const pactcl_context *ctx)
{
    return ctx ? ctx->n_plugins : 0;
}

const char *pactcl_context_plugin_name(const pactcl_context *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->n_plugins ? ctx->plugins[i].plugin->name : NULL;
}

const char *pactcl_context_plugin_path(const pactcl_context *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->n_plugins ? ctx->plugins[i].path : NULL;
}

const char *pactcl_context_plugin_status(const pactcl_context *ctx, int i)
{
    if (!ctx || i < 0 || i >= ctx->n_plugins)
        return NULL;
    const struct pactcl_loaded_plugin *lp = &ctx->plugins[i];
    const char *s = lp->plugin->status ? lp->plugin->status(lp->ctx) : NULL;
    return s ? s : "";
}

int pactcl_context_refused_count(const pactcl_context *ctx)
{
    return ctx ? ctx->n_refused : 0;
}

const char *pactcl_context_refused_path(const pactcl_context *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->n_refused ? ctx->refused[i].path : NULL;
}

const char *pactcl_context_refused_reason(const pactcl_context *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->n_refused ? ctx->refused[i].reason : NULL;
}
