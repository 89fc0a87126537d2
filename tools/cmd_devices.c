/*
 * cmd_devices.c: `pactcl devices` lists every device (id, kind, backend,
 * memory, name), the plugins that were loaded with what they report, and the
 * plugin files that were refused with the reason.  `--device X` resolves X
 * exactly as training does and prints the chosen device.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void format_memory(uint64_t bytes, char *buf, size_t len)
{
    if (bytes == 0)
        snprintf(buf, len, "-");
    else if (bytes >= (1ull << 30))
        snprintf(buf, len, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else
        snprintf(buf, len, "%.0f MiB", (double)bytes / (double)(1ull << 20));
}

static void print_help(void)
{
    printf("Usage: pactcl devices [--device X] [--plugin FILE]...\n"
           "List the devices pactcl can run on, and the plugins found or refused.\n\n"
           "  --device X   resolve X as --device does (cpu, opencl:P:D, gpu, or a part of a\n"
           "               device name) and print only the chosen device\n");
}

int cmd_devices(const struct cli_common *common, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "device", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *spec = NULL;
    int c;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            spec = optarg;
            break;
        case 'h':
            print_help();
            return 0;
        default:
            cli_error("devices: unknown or incomplete option '%s' (see 'pactcl devices --help')",
                      argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("devices: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    pactcl_context *ctx = cli_open_context(common);
    if (!ctx)
        return 1;
    int rc = 0;
    if (spec) {
        pactcl_device *dev = NULL;
        if (pactcl_context_find_device(ctx, spec, &dev) != PACTCL_OK) {
            cli_error("%s", pactcl_last_error());
            rc = 2;
        } else {
            printf("%s\t%s\t%s\n", pactcl_device_id(dev), pactcl_device_backend(dev),
                   pactcl_device_name(dev));
        }
        pactcl_context_free(ctx);
        return rc;
    }
    int n = pactcl_context_device_count(ctx);
    printf("Devices (%d):\n", n);
    if (n)
        printf("  %-14s %-12s %-8s %-10s %s\n", "ID", "KIND", "BACKEND", "MEMORY", "NAME");
    for (int i = 0; i < n; i++) {
        pactcl_device *d = pactcl_context_device(ctx, i);
        char mem[32];
        format_memory(pactcl_device_memory(d), mem, sizeof mem);
        printf("  %-14s %-12s %-8s %-10s %s\n", pactcl_device_id(d),
               pactcl_device_kind_name(pactcl_device_kind(d)), pactcl_device_backend(d), mem,
               pactcl_device_name(d));
    }
    int np = pactcl_context_plugin_count(ctx);
    printf("\nPlugins (%d):\n", np);
    for (int i = 0; i < np; i++) {
        const char *status = pactcl_context_plugin_status(ctx, i);
        printf("  %-10s %s%s%s\n", pactcl_context_plugin_name(ctx, i),
               pactcl_context_plugin_path(ctx, i), *status ? ": " : "", status);
    }
    int nr = pactcl_context_refused_count(ctx);
    if (nr) {
        printf("\nRefused plugins (%d):\n", nr);
        for (int i = 0; i < nr; i++)
            printf("  %s: %s\n", pactcl_context_refused_path(ctx, i),
                   pactcl_context_refused_reason(ctx, i));
    }
    if (n == 0) {
        printf("\nNo device found. Plugins are searched in %s and PACTCL_PLUGIN_PATH.\n",
               pactcl_installed_plugin_dir());
        rc = 1;
    }
    pactcl_context_free(ctx);
    return rc;
}
