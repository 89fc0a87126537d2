/*
 * cmd_export.c: `pactcl export`, the int8 model from any QAT checkpoint (what
 * a --pact_quant run writes at its end).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "model/checkpoint.h"
#include "quant/int8_model.h"

enum { O_PRETRAINED = 256, O_OUT, O_MODEL, O_CROP, O_WBITS, O_ABITS, O_HELP };

static const struct option longopts[] = {
    { "pretrained", required_argument, NULL, O_PRETRAINED },
    { "output-dir", required_argument, NULL, O_OUT },
    { "model", required_argument, NULL, O_MODEL },
    { "crop-size", required_argument, NULL, O_CROP },
    { "weight-bits", required_argument, NULL, O_WBITS },
    { "activation-bits", required_argument, NULL, O_ABITS },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 },
};

int cmd_export(const struct cli_common *common, int argc, char **argv)
{
    const char *weights = NULL, *out = ".", *model = "mobilenet_v3_small";
    int crop = 224, wbits = 8, abits = 8, c, bad = 0;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PRETRAINED: weights = optarg; break;
        case O_OUT: out = optarg; break;
        case O_MODEL: model = optarg; break;
        case O_CROP: bad = cli_parse_int("--crop-size", optarg, 16, 4096, &crop); break;
        case O_WBITS: bad = cli_parse_int("--weight-bits", optarg, 2, 8, &wbits); break;
        case O_ABITS: bad = cli_parse_int("--activation-bits", optarg, 2, 8, &abits); break;
        case O_HELP:
            printf("Usage: pactcl export --pretrained QAT.pdparams [--output-dir DIR] [--model NAME]\n"
                   "        [--crop-size N] [--weight-bits N] [--activation-bits N]\n"
                   "Write DIR/qat_inference.pcmodel and .pcparams (docs/FORMATS.md) from a checkpoint\n"
                   "of a --pact_quant run. The bit widths must be those it was trained with.\n");
            return 0;
        default:
            cli_error("export: unknown or incomplete option '%s' (see 'pactcl export --help')", argv[optind - 1]);
            bad = -1;
        }
    }
    if (bad)
        return 2;
    if (!weights) {
        cli_error("export: --pretrained QAT.pdparams is required");
        return 2;
    }
    struct pactcl_mnv3_config cfg = { .image_size = crop, .pact_quant = 1, .weight_bits = wbits, .act_bits = abits };
    if (pactcl_mnv3_arch_from_name(model, &cfg.arch) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return 2;
    }
    /* As train does with its --output-dir: one level is created. */
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        cli_error("--output-dir %s: %s", out, strerror(errno));
        return 1;
    }
    struct pactcl_state_dict *sd = NULL;
    if (pactcl_state_dict_load(weights, &sd) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return 1;
    }
    const struct pactcl_sd_entry *b = pactcl_state_dict_find(sd, "classifier.3._layer.bias");
    if (!b || b->value.type != PACTCL_SD_ARRAY || b->value.u.array.ndim != 1) {
        cli_error("--pretrained %s: not a QAT checkpoint (no classifier.3._layer.bias); train with --pact_quant",
                  weights);
        pactcl_state_dict_free(sd);
        return 1;
    }
    cfg.num_classes = (int)b->value.u.array.dims[0];
    int rc = 1, graph_ready = 0;
    struct pactcl_graph g;
    pactcl_context *ctx = cli_open_context(common);
    pactcl_device *dev = ctx ? cli_pick_device(ctx, "cpu", 0) : NULL;
    char path[4096];
    if (dev && (pactcl_graph_init(&g, dev, 1, 0) != PACTCL_OK || (graph_ready = 1, 0) ||
                pactcl_mnv3_build(&g, &cfg) != PACTCL_OK ||
                pactcl_checkpoint_load_params(&g, sd, weights, 0, NULL) != PACTCL_OK ||
                pactcl_int8_export(&g, &cfg, out, "qat_inference", path, sizeof path) != PACTCL_OK))
        cli_error("%s", pactcl_last_error());
    else if (dev) {
        printf("QAT inference model saved in %s\n", out);
        rc = 0;
    }
    if (graph_ready)
        pactcl_graph_release(&g);
    pactcl_state_dict_free(sd);
    pactcl_context_free(ctx);
    return rc;
}
