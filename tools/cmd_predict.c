/*
 * cmd_predict.c: `pactcl predict`, the reference's tools/predict.py: one
 * image through the eval transform and the model, softmax, and the top
 * classes with their probabilities.
 *
 * The model's form follows the checkpoint: a QAT checkpoint (keys with
 * "._layer.") builds the PACT-quantized model, whose eval forward is the
 * fake-quant simulation; the number of classes comes from the classifier's
 * bias unless --num-classes is given.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/image.h"
#include "data/transforms.h"
#include "model/checkpoint.h"
#include "model/mobilenetv3.h"

static void print_help(void)
{
    printf("Usage: pactcl predict --pretrained FILE.pdparams --img-path IMAGE [OPTIONS]\n"
           "Classify one image and print the five most probable classes.\n\n"
           "  --pretrained FILE   weights (.pdparams, FP32 or QAT checkpoint)\n"
           "  --img-path IMAGE    a JPEG or PNG file\n"
           "  --model NAME        mobilenet_v3_small (default) or mobilenet_v3_large\n"
           "  --device X          device (default cpu)\n"
           "  --resize-size N     eval resize of the short side (default 256)\n"
           "  --crop-size N       eval centre crop (default 224)\n"
           "  --num-classes N     classifier outputs (default: from the weights)\n"
           "  --labels FILE       class names, one per line, in label order\n"
           "  --dump-logits FILE  also write the raw logits, one per line\n");
}

enum { O_PRETRAINED = 256, O_IMG, O_MODEL, O_DEVICE, O_RESIZE, O_CROP, O_CLASSES, O_LABELS, O_DUMP, O_HELP };

static const struct option longopts[] = {
    { "pretrained", required_argument, NULL, O_PRETRAINED },
    { "img-path", required_argument, NULL, O_IMG },
    { "model", required_argument, NULL, O_MODEL },
    { "device", required_argument, NULL, O_DEVICE },
    { "resize-size", required_argument, NULL, O_RESIZE },
    { "crop-size", required_argument, NULL, O_CROP },
    { "num-classes", required_argument, NULL, O_CLASSES },
    { "labels", required_argument, NULL, O_LABELS },
    { "dump-logits", required_argument, NULL, O_DUMP },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 },
};

/* Reads up to `n` lines of `path` into names (each malloc()ed). */
static int read_labels(const char *path, char **names, int n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("--labels %s: cannot open", path);
        return -1;
    }
    char line[512];
    for (int i = 0; i < n && fgets(line, sizeof line, f); i++) {
        line[strcspn(line, "\r\n")] = 0;
        names[i] = strdup(line);
    }
    fclose(f);
    return 0;
}

static int is_qat_dict(const struct pactcl_state_dict *sd)
{
    return pactcl_state_dict_find(sd, "features.0.0._layer.weight") != NULL;
}

static int classes_of(const struct pactcl_state_dict *sd)
{
    const struct pactcl_sd_entry *e = pactcl_state_dict_find(sd, "classifier.3.bias");
    if (!e)
        e = pactcl_state_dict_find(sd, "classifier.3._layer.bias");
    if (!e || e->value.type != PACTCL_SD_ARRAY || e->value.u.array.ndim != 1)
        return 0;
    return (int)e->value.u.array.dims[0];
}

int cmd_predict(const struct cli_common *common, int argc, char **argv)
{
    const char *weights = NULL, *img_path = NULL, *model = "mobilenet_v3_small", *dev_spec = "cpu";
    const char *labels = NULL, *dump = NULL;
    int resize = 256, crop = 224, classes = 0, c, bad = 0;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PRETRAINED: weights = optarg; break;
        case O_IMG: img_path = optarg; break;
        case O_MODEL: model = optarg; break;
        case O_DEVICE: dev_spec = optarg; break;
        case O_RESIZE: bad = cli_parse_int("--resize-size", optarg, 16, 8192, &resize); break;
        case O_CROP: bad = cli_parse_int("--crop-size", optarg, 16, 4096, &crop); break;
        case O_CLASSES: bad = cli_parse_int("--num-classes", optarg, 1, 1 << 20, &classes); break;
        case O_LABELS: labels = optarg; break;
        case O_DUMP: dump = optarg; break;
        case O_HELP: print_help(); return 0;
        default:
            cli_error("predict: unknown or incomplete option '%s' (see 'pactcl predict --help')",
                      argv[optind - 1]);
            bad = -1;
        }
    }
    if (bad)
        return 2;
    if (!weights || !img_path) {
        cli_error("predict: --pretrained and --img-path are required");
        return 2;
    }
    if (resize < crop) {
        cli_error("--resize-size %d must be at least --crop-size %d", resize, crop);
        return 2;
    }
    enum pactcl_mnv3_arch arch;
    if (pactcl_mnv3_arch_from_name(model, &arch) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return 2;
    }
    int rc = 1, graph_ready = 0;
    struct pactcl_state_dict *sd = NULL;
    struct pactcl_image img = { 0 };
    uint8_t *rgb = NULL;
    float *x = NULL, *logits = NULL;
    char **names = NULL;
    struct pactcl_graph g;
    pactcl_context *ctx = NULL;
    if (pactcl_state_dict_load(weights, &sd) != PACTCL_OK ||
        pactcl_image_load(img_path, 0, &img) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    if (!classes && !(classes = classes_of(sd))) {
        cli_error("--pretrained %s: no classifier.3 bias to take the number of classes from; "
                  "give --num-classes", weights);
        goto done;
    }
    if (!(ctx = cli_open_context(common)))
        goto done;
    pactcl_device *dev = cli_pick_device(ctx, dev_spec, 0);
    if (!dev)
        goto done;
    struct pactcl_mnv3_config mc = { .arch = arch, .num_classes = classes, .image_size = crop,
                                     .pact_quant = is_qat_dict(sd), .weight_bits = 8, .act_bits = 8 };
    struct pactcl_transform_config tc;
    pactcl_transform_config_default(&tc);
    tc.crop_size = crop;
    tc.resize_size = resize;
    rgb = malloc((size_t)crop * crop * 3);
    x = malloc((size_t)crop * crop * 3 * sizeof *x);
    logits = malloc((size_t)classes * sizeof *logits);
    names = calloc((size_t)classes, sizeof *names);
    if (!rgb || !x || !logits || !names) {
        cli_error("out of memory");
        goto done;
    }
    struct pactcl_normalizer norm;
    pactcl_normalizer_init(&norm, PACTCL_NORM_EVAL, tc.mean, tc.std);
    if (pactcl_transform_eval(&img, &tc, rgb) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    pactcl_normalize(&norm, rgb, crop, crop, x);
    if (pactcl_graph_init(&g, dev, 1, 0) != PACTCL_OK || (graph_ready = 1, 0) ||
        pactcl_mnv3_build(&g, &mc) != PACTCL_OK ||
        pactcl_checkpoint_load_params(&g, sd, weights, 0, NULL) != PACTCL_OK ||
        pactcl_tensor_write(g.values[g.input].t, x, (size_t)crop * crop * 3 * sizeof *x) != PACTCL_OK ||
        pactcl_graph_forward(&g, 0, 0) != PACTCL_OK ||
        pactcl_tensor_read(g.values[g.logits].t, logits, (size_t)classes * sizeof *logits) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    if (labels && read_labels(labels, names, classes) != 0)
        goto done;
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f) {
            cli_error("--dump-logits %s: cannot write", dump);
            goto done;
        }
        for (int i = 0; i < classes; i++)
            fprintf(f, "%.9g\n", logits[i]);
        if (fclose(f) != 0) {
            cli_error("--dump-logits %s: write failed", dump);
            goto done;
        }
    }
    /* The reference appends nn.Softmax() to the model. */
    double mx = logits[0], sum = 0;
    for (int i = 1; i < classes; i++)
        mx = fmax(mx, logits[i]);
    for (int i = 0; i < classes; i++)
        sum += exp(logits[i] - mx);
    int shown[5], n_show = classes < 5 ? classes : 5;
    for (int k = 0; k < n_show; k++) {
        int best = -1;
        for (int i = 0; i < classes; i++) {
            int used = 0;
            for (int j = 0; j < k; j++)
                used |= shown[j] == i;
            if (!used && (best < 0 || logits[i] > logits[best]))
                best = i;
        }
        shown[k] = best;
        double prob = exp(logits[best] - mx) / sum;
        if (k == 0)
            printf("class_id: %d, prob: %.8g\n", best, prob);
        printf("  top%d: class_id %d%s%s%s, prob %.6f\n", k + 1, best, names[best] ? " (" : "",
               names[best] ? names[best] : "", names[best] ? ")" : "", prob);
    }
    rc = 0;
done:
    if (graph_ready)
        pactcl_graph_release(&g);
    if (names)
        for (int i = 0; i < classes; i++)
            free(names[i]);
    free(names);
    free(rgb);
    free(x);
    free(logits);
    pactcl_image_free(&img);
    pactcl_state_dict_free(sd);
    pactcl_context_free(ctx);
    return rc;
}
