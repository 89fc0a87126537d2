/*
 * bad_abi.c: a plugin built for another ABI version (pactcl-bad-abi.so).
 *
 * The loader must refuse it from abi_version alone, naming both versions,
 * before it calls anything: the rest of the struct may have another layout.
 */
#include "pactcl-plugin.h"

/* Fails loudly, so that a loader calling init before the version check would
 * report this message instead of the version mismatch the test expects. */
static int bad_abi_init(const struct pactcl_host *host, void **plugin_ctx)
{
    return host->set_error(PACTCL_EINTERNAL, "bad-abi: init must never run");
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION + 1,
    .name = "bad-abi",
    .description = "test plugin: another ABI version",
    .init = bad_abi_init,
};
