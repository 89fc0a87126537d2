/* device_select.c: device properties and resolving a --device value. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *pactcl_device_id(const pactcl_device *dev)
{
    return dev ? dev->impl->info.id : NULL;
}

const char *pactcl_device_name(const pactcl_device *dev)
{
    return dev ? dev->impl->info.name : NULL;
}

const char *pactcl_device_backend(const pactcl_device *dev)
{
    return dev ? dev->backend : NULL;
}

enum pactcl_device_kind pactcl_device_kind(const pactcl_device *dev)
{
    return dev ? dev->impl->info.kind : PACTCL_DEVICE_OTHER;
}

const char *pactcl_device_kind_name(enum pactcl_device_kind kind)
{
    switch (kind) {
    case PACTCL_DEVICE_CPU:
        return "cpu";
    case PACTCL_DEVICE_GPU:
        return "gpu";
    case PACTCL_DEVICE_ACCELERATOR:
        return "accelerator";
    case PACTCL_DEVICE_OTHER:
        break;
    }
    return "other";
}

uint64_t pactcl_device_memory(const pactcl_device *dev)
{
    return dev ? dev->impl->info.memory_bytes : 0;
}

int pactcl_device_sync(pactcl_device *dev)
{
    if (!dev)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_device_sync: device is NULL");
    return dev->impl->iface->sync(dev->impl);
}

void *pactcl_device_native(pactcl_device *dev, const char *what)
{
    if (!dev || !what || !dev->impl->iface->get_native)
        return NULL;
    return dev->impl->iface->get_native(dev->impl, what);
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

/* Appends "  id  (name)" for each listed device to buf. */
static void list_devices(const pactcl_context *ctx, const unsigned char *only, char *buf, size_t len)
{
    size_t used = strlen(buf);
    for (int i = 0; i < ctx->n_devices && used < len; i++) {
        if (only && !only[i])
            continue;
        int w = snprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "",
                         ctx->devices[i]->impl->info.id, ctx->devices[i]->impl->info.name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int pactcl_context_find_device(const pactcl_context *ctx, const char *spec, pactcl_device **out)
{
    if (out)
        *out = NULL;
    if (!ctx || !spec || !out)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_context_find_device: NULL argument");
    char choices[1024] = "";
    if (ctx->n_devices == 0)
        return pactcl__set_error(PACTCL_ENOTFOUND,
                                 "--device %s: no device is available (run 'pactcl devices' to see "
                                 "which plugins were found or refused)",
                                 spec);
    /* An exact id ("cpu", "opencl:0:1") wins over everything else. */
    for (int i = 0; i < ctx->n_devices; i++) {
        if (strcasecmp(ctx->devices[i]->impl->info.id, spec) == 0) {
            *out = ctx->devices[i];
            return PACTCL_OK;
        }
    }
    if (strcasecmp(spec, "gpu") == 0) {
        for (int i = 0; i < ctx->n_devices; i++) {
            if (ctx->devices[i]->impl->info.kind == PACTCL_DEVICE_GPU) {
                *out = ctx->devices[i];
                return PACTCL_OK;
            }
        }
        list_devices(ctx, NULL, choices, sizeof choices);
        return pactcl__set_error(PACTCL_ENOTFOUND, "--device gpu: no GPU found; available: %s",
                                 choices);
    }
    unsigned char match[256] = { 0 };
    int n_match = 0, last = -1;
    for (int i = 0; i < ctx->n_devices && i < 256; i++) {
        const struct pactcl_device_info *inf = &ctx->devices[i]->impl->info;
        if (*spec && (contains_ci(inf->name, spec) || contains_ci(inf->id, spec))) {
            match[i] = 1;
            n_match++;
            last = i;
        }
    }
    if (n_match == 1) {
        *out = ctx->devices[last];
        return PACTCL_OK;
    }
    if (n_match > 1) {
        list_devices(ctx, match, choices, sizeof choices);
        return pactcl__set_error(PACTCL_EAMBIGUOUS, "--device %s: ambiguous, matches %s", spec,
                                 choices);
    }
    list_devices(ctx, NULL, choices, sizeof choices);
    return pactcl__set_error(PACTCL_ENOTFOUND,
                             "--device %s: no such device; available: %s (or 'gpu' for the first GPU)",
                             spec, choices);
}
