/*
 * dispatch.c: runs a validated op on a device through the chosen provider:
 * the highest-priority vendor override that accepts the call, else the
 * device's own backend.
 */
#include "internal.h"

static const struct pactcl_override_ref *choose_override(pactcl_device *dev,
                                                         const struct pactcl_op_call *call)
{
    if (dev->override_disabled[call->op])
        return NULL;
    for (int i = 0; i < dev->n_overrides; i++) {
        const struct pactcl_override_ref *r = &dev->overrides[i];
        if (r->ov->supports(r->owner->ctx, dev->impl, call))
            return r;
    }
    return NULL;
}

const char *pactcl_device_op_provider(pactcl_device *dev, const struct pactcl_op_call *call)
{
    if (!dev || pactcl_op_check(call) != PACTCL_OK)
        return NULL;
    const struct pactcl_override_ref *r = choose_override(dev, call);
    if (r)
        return r->ov->name;
    return dev->impl->iface->supports(dev->impl, call) ? dev->backend : NULL;
}

int pactcl_op_run(pactcl_device *dev, const struct pactcl_op_call *call)
{
    if (!dev)
        return pactcl__set_error(PACTCL_EINVAL, "pactcl_op_run: device is NULL");
    int rc = pactcl_op_check(call);
    if (rc != PACTCL_OK)
        return rc;
    for (int i = 0; i < call->nargs; i++) {
        if (call->args[i] && call->args[i]->device != dev)
            return pactcl__set_error(PACTCL_EINVAL, "%s: argument %d lives on device %s, not %s",
                                     pactcl_op_name(call->op), i,
                                     pactcl_device_id(call->args[i]->device), pactcl_device_id(dev));
    }
    const struct pactcl_override_ref *r = choose_override(dev, call);
    if (pactcl__log_enabled(PACTCL_LOG_DEBUG) && !dev->choice_logged[call->op]) {
        dev->choice_logged[call->op] = 1;
        pactcl__log(PACTCL_LOG_DEBUG, "op %s on %s: %s%s%s", pactcl_op_name(call->op),
                    dev->impl->info.id, r ? "override " : "backend ",
                    r ? r->ov->name : dev->backend,
                    dev->override_disabled[call->op] && dev->n_overrides ? " (overrides disabled)"
                                                                         : "");
    }
    if (r)
        return r->ov->run(r->owner->ctx, dev->impl, call);
    if (!dev->impl->iface->supports(dev->impl, call))
        return pactcl__set_error(PACTCL_EUNSUPPORTED, "%s: not supported on device %s (%s)",
                                 pactcl_op_name(call->op), dev->impl->info.id, dev->backend);
    return dev->impl->iface->run(dev->impl, call);
}
