/*
 * bad_slot.c: a backend whose device lacks a required iface slot
 * (pactcl-bad-slot.so).  Every slot is filled except sync, the last one the
 * loader checks, so a loader that stops checking early lets it through.
 * The loader must refuse the plugin after init, naming the device and slot.
 */
#include <stddef.h>

#include "pactcl-plugin.h"

/* The slots below are never called: the loader refuses the device first. */

static int slot_alloc(struct pactcl_plugin_device *dev, size_t size, struct pactcl_buffer **out)
{
    return PACTCL_EINTERNAL;
}

static void slot_free(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf)
{
}

static int slot_write(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                      const void *src, size_t size)
{
    return PACTCL_EINTERNAL;
}

static int slot_read(struct pactcl_plugin_device *dev, const struct pactcl_buffer *buf,
                     size_t offset, void *dst, size_t size)
{
    return PACTCL_EINTERNAL;
}

static int slot_copy(struct pactcl_plugin_device *dev, struct pactcl_buffer *dst, size_t dst_offset,
                     const struct pactcl_buffer *src, size_t src_offset, size_t size)
{
    return PACTCL_EINTERNAL;
}

static int slot_zero(struct pactcl_plugin_device *dev, struct pactcl_buffer *buf, size_t offset,
                     size_t size)
{
    return PACTCL_EINTERNAL;
}

static int slot_supports(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    return 0;
}

static int slot_run(struct pactcl_plugin_device *dev, const struct pactcl_op_call *call)
{
    return PACTCL_EINTERNAL;
}

static const struct pactcl_device_iface bad_slot_iface = {
    .buffer_alloc = slot_alloc,
    .buffer_free = slot_free,
    .buffer_write = slot_write,
    .buffer_read = slot_read,
    .buffer_copy = slot_copy,
    .buffer_zero = slot_zero,
    .supports = slot_supports,
    .run = slot_run,
    /* .sync forgotten */
};

static struct pactcl_plugin_device bad_slot_device = {
    .iface = &bad_slot_iface,
    .info = { .id = "bad-slot:0", .name = "Bad Slot Device", .vendor = "", .driver = "",
              .kind = PACTCL_DEVICE_OTHER, .host_addressable = 1 },
    .backend = "bad-slot",
};

static int bad_slot_init(const struct pactcl_host *host, void **plugin_ctx)
{
    *plugin_ctx = NULL;
    return PACTCL_OK;
}

static int bad_slot_device_count(void *plugin_ctx)
{
    return 1;
}

static struct pactcl_plugin_device *bad_slot_device_get(void *plugin_ctx, int index)
{
    return index == 0 ? &bad_slot_device : NULL;
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "bad-slot",
    .description = "test plugin: a device without the sync slot",
    .init = bad_slot_init,
    .device_count = bad_slot_device_count,
    .device_get = bad_slot_device_get,
};
