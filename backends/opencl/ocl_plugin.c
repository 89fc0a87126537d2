/*
 * ocl_plugin.c: the plugin descriptor of the OpenCL backend: enumerates every
 * platform and device through the ICD loader at init and describes them.
 *
 * Nothing is created on a device here: contexts, queues and programs come on
 * first use (ocl_device.c), so listing devices is cheap and a device that
 * cannot get a context does not stop the others.  A machine without any
 * OpenCL platform or device is not an error: init succeeds with no devices and
 * status() says why.
 */
#include "ocl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct pactcl_host *pactcl_ocl_host;

struct ocl_plugin {
    struct pactcl_ocl_device **devices;
    int n_devices;
    char status[768];
};

/* Appends to the status line, keeping it one line. */
static void status_add(struct ocl_plugin *p, const char *fmt, ...) PACTCL_OCL_PRINTF(2, 3);
static void status_add(struct ocl_plugin *p, const char *fmt, ...)
{
    size_t u = strlen(p->status);
    if (u + 3 >= sizeof p->status)
        return;
    if (u) {
        memcpy(p->status + u, "; ", 3);
        u += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->status + u, sizeof p->status - u, fmt, ap);
    va_end(ap);
}

/* A string property, trimmed: several drivers pad names with spaces. */
static char *device_string(cl_device_id dev, cl_device_info what)
{
    size_t n = 0;
    if (clGetDeviceInfo(dev, what, 0, NULL, &n) != CL_SUCCESS || n == 0)
        return strdup("");
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (clGetDeviceInfo(dev, what, n, s, NULL) != CL_SUCCESS)
        n = 0;
    s[n] = '\0';
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t lead = strspn(s, " ");
    memmove(s, s + lead, strlen(s + lead) + 1);
    return s;
}

static char *platform_string(cl_platform_id plat, cl_platform_info what)
{
    size_t n = 0;
    if (clGetPlatformInfo(plat, what, 0, NULL, &n) != CL_SUCCESS || n == 0)
        return strdup("");
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (clGetPlatformInfo(plat, what, n, s, NULL) != CL_SUCCESS)
        n = 0;
    s[n] = '\0';
    return s;
}

static void device_free(struct pactcl_ocl_device *d)
{
    if (!d)
        return;
    pactcl_ocl_device_close(d);
    free(d->id_str);
    free(d->name);
    free(d->vendor);
    free(d->driver);
    free(d->platform_name);
    free(d->platform_version);
    free(d->open_error);
    free(d);
}

static enum pactcl_device_kind kind_of(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return PACTCL_DEVICE_GPU;
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return PACTCL_DEVICE_ACCELERATOR;
    if (t & CL_DEVICE_TYPE_CPU)
        return PACTCL_DEVICE_CPU;
    return PACTCL_DEVICE_OTHER;
}

/* "OpenCL C 1.2 ..." -> whether major.minor >= 1.2 */
static int at_least_c12(const char *v)
{
    int major = 0, minor = 0;
    if (sscanf(v, "OpenCL C %d.%d", &major, &minor) != 2)
        return 0;
    return major > 1 || (major == 1 && minor >= 2);
}

static struct pactcl_ocl_device *device_new(int pi, int di, cl_platform_id plat, cl_device_id id,
                                            const char *pname, const char *pvendor,
                                            const char *pversion)
{
    struct pactcl_ocl_device *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->platform = plat;
    d->id = id;
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "opencl:%d:%d", pi, di);
    d->id_str = strdup(idbuf);
    d->name = device_string(id, CL_DEVICE_NAME);
    d->vendor = device_string(id, CL_DEVICE_VENDOR);
    d->driver = device_string(id, CL_DRIVER_VERSION);
    d->platform_name = strdup(pname);
    d->platform_version = strdup(pversion);
    char *cver = device_string(id, CL_DEVICE_OPENCL_C_VERSION);
    if (!d->id_str || !d->name || !d->vendor || !d->driver || !d->platform_name ||
        !d->platform_version || !cver) {
        free(cver);
        device_free(d);
        return NULL;
    }
    d->opencl_c_12 = at_least_c12(cver);
    free(cver);

    cl_device_type type = 0;
    cl_ulong fpconf = 0;
    size_t items[3] = {0, 0, 0};
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof d->global_mem, &d->global_mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc, &d->max_alloc, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_wg, &d->max_wg, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items, items, NULL);
    clGetDeviceInfo(id, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fpconf, &fpconf, NULL);
    d->max_item0 = items[0] ? items[0] : 1;
    if (!d->max_wg)
        d->max_wg = 1;
    d->correct_div_sqrt = (fpconf & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    /* PoCL keeps ~/.cache/pocl/kcache and NVIDIA ~/.nv/ComputeCache; asking
     * PoCL for program binaries even makes it compile more (pyopencl #731). */
    d->driver_caches = strstr(pname, "Portable Computing Language") || strstr(pvendor, "pocl") ||
                       strstr(pname, "NVIDIA") || strstr(pvendor, "NVIDIA");

    d->pub.iface = &pactcl_ocl_iface;
    d->pub.backend = "opencl";
    d->pub.context = d;
    d->pub.info.id = d->id_str;
    d->pub.info.name = d->name;
    d->pub.info.vendor = d->vendor;
    d->pub.info.driver = d->driver;
    d->pub.info.kind = kind_of(type);
    d->pub.info.memory_bytes = d->global_mem;
    d->pub.info.max_alloc_bytes = d->max_alloc;
    d->pub.info.host_addressable = 0;
    return d;
}

static int add_device(struct ocl_plugin *p, struct pactcl_ocl_device *d)
{
    struct pactcl_ocl_device **nd = realloc(p->devices, (size_t)(p->n_devices + 1) * sizeof *nd);
    if (!nd)
        return -1;
    p->devices = nd;
    nd[p->n_devices++] = d;
    return 0;
}

static void ocl_shutdown(void *plugin_ctx)
{
    struct ocl_plugin *p = plugin_ctx;
    if (!p)
        return;
    for (int i = 0; i < p->n_devices; i++)
        device_free(p->devices[i]);
    free(p->devices);
    free(p);
}

static int enumerate_platform(struct ocl_plugin *p, int pi, cl_platform_id plat)
{
    char *pname = platform_string(plat, CL_PLATFORM_NAME);
    char *pvendor = platform_string(plat, CL_PLATFORM_VENDOR);
    char *pversion = platform_string(plat, CL_PLATFORM_VERSION);
    int rc = PACTCL_OK;
    if (!pname || !pvendor || !pversion) {
        rc = PACTCL_ENOMEM;
        goto out;
    }
    cl_uint n = 0;
    cl_int err = clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && n == 0)) {
        /* PoCL reports no device at all when its kernel cache dir is not writable. */
        status_add(p, "platform %d (%s) has no devices%s", pi, pname,
                   strstr(pname, "Portable Computing Language")
                       ? " (PoCL needs a writable POCL_CACHE_DIR)"
                       : "");
        goto out;
    }
    if (err != CL_SUCCESS) {
        status_add(p, "platform %d (%s): clGetDeviceIDs: %s (%d)", pi, pname,
                   pactcl_ocl_error_name(err), (int)err);
        goto out;
    }
    cl_device_id *ids = malloc(n * sizeof *ids);
    if (!ids) {
        rc = PACTCL_ENOMEM;
        goto out;
    }
    err = clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, n, ids, NULL);
    for (cl_uint di = 0; err == CL_SUCCESS && di < n; di++) {
        struct pactcl_ocl_device *d =
            device_new(pi, (int)di, plat, ids[di], pname, pvendor, pversion);
        if (!d || add_device(p, d) != 0) {
            device_free(d);
            rc = PACTCL_ENOMEM;
            break;
        }
    }
    if (err != CL_SUCCESS)
        status_add(p, "platform %d (%s): clGetDeviceIDs: %s (%d)", pi, pname,
                   pactcl_ocl_error_name(err), (int)err);
    free(ids);
out:
    free(pname);
    free(pvendor);
    free(pversion);
    return rc;
}

static int ocl_init(const struct pactcl_host *host, void **plugin_ctx)
{
    pactcl_ocl_host = host;
    struct ocl_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return host->set_error(PACTCL_ENOMEM, "opencl: out of memory at init");
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) {
        snprintf(p->status, sizeof p->status, "no OpenCL platform found (clGetPlatformIDs: %d)",
                 err != CL_SUCCESS ? (int)err : -1001);
        *plugin_ctx = p;
        return PACTCL_OK;
    }
    cl_platform_id *plats = malloc(np * sizeof *plats);
    if (!plats || clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS) {
        free(plats);
        ocl_shutdown(p);
        return host->set_error(PACTCL_EDEVICE,
                               "opencl: clGetPlatformIDs failed listing %u platforms", np);
    }
    int rc = PACTCL_OK;
    for (cl_uint i = 0; rc == PACTCL_OK && i < np; i++)
        rc = enumerate_platform(p, (int)i, plats[i]);
    free(plats);
    if (rc != PACTCL_OK) {
        ocl_shutdown(p);
        return host->set_error(rc, "opencl: out of memory listing devices");
    }
    if (p->n_devices == 0 && !p->status[0])
        snprintf(p->status, sizeof p->status, "%u OpenCL platform(s) but no device", np);
    for (int i = 0; i < p->n_devices; i++)
        if (!p->devices[i]->opencl_c_12)
            status_add(p, "%s (%s) supports only OpenCL C 1.1 and will refuse work",
                       p->devices[i]->id_str, p->devices[i]->name);
    *plugin_ctx = p;
    return PACTCL_OK;
}

static int ocl_device_count(void *plugin_ctx)
{
    return ((struct ocl_plugin *)plugin_ctx)->n_devices;
}

static struct pactcl_plugin_device *ocl_device_get(void *plugin_ctx, int index)
{
    struct ocl_plugin *p = plugin_ctx;
    return index >= 0 && index < p->n_devices ? &p->devices[index]->pub : NULL;
}

static const char *ocl_status(void *plugin_ctx)
{
    return ((struct ocl_plugin *)plugin_ctx)->status;
}

/* The one symbol the loader looks up; its abi_version is read before init. */
const struct pactcl_plugin pactcl_plugin = {
    .abi_version = PACTCL_PLUGIN_ABI_VERSION,
    .name = "opencl",
    .description =
        "OpenCL 1.2 backend: every platform and device of the ICD loader (kernels + CLBlast)",
    .init = ocl_init,
    .shutdown = ocl_shutdown,
    .device_count = ocl_device_count,
    .device_get = ocl_device_get,
    .status = ocl_status,
};
