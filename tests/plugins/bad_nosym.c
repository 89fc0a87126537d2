/*
 * bad_nosym.c: a shared object without the pactcl_plugin symbol
 * (pactcl-bad-nosym.so), as when the entry point is misspelt.
 */
#include "pactcl-plugin.h"

static int bad_nosym_init(const struct pactcl_host *host, void **plugin_ctx)
{
    *plugin_ctx = NULL;
    return PACTCL_OK;
}

/* A complete, valid descriptor under the wrong name: only the lookup fails. */
const struct pactcl_plugin pactcl_plugin_v1 = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "bad-nosym",
    .description = "test plugin: exports pactcl_plugin_v1 instead of pactcl_plugin",
    .init = bad_nosym_init,
};
