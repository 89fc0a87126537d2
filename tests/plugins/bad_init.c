/*
 * bad_init.c: a plugin whose init fails (pactcl-bad-init.so), as a backend
 * does when its driver or hardware is missing.  The loader must refuse it with
 * the message it set through host->set_error.
 */
#include "pactcl-plugin.h"

static int bad_init_init(const struct pactcl_host *host, void **plugin_ctx)
{
    return host->set_error(PACTCL_EDEVICE, "bad-init: no frobnicator found (code %d)", 42);
}

const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "bad-init",
    .description = "test plugin: init fails",
    .init = bad_init_init,
};
