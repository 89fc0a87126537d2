/*
 * cmd_eval.c: `pactcl eval`, the reference's deploy/ptq_python/eval.py: the
 * val split through the eval transform and the model, top-1/top-5 by
 * argsort of the outputs, and its log lines.  The model is the exported int8
 * model (qat_inference.pcmodel + .pcparams), run with int8 kernels, or a
 * .pdparams checkpoint (FP32, or QAT as its fake-quant simulation) for
 * comparison.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model/checkpoint.h"
#include "model/mobilenetv3.h"
#include "quant/int8_model.h"
#include "train/folder_source.h"
#include "train/train_log.h"

static void print_help(void)
{
    printf("Usage: pactcl eval --model_path DIR --data_dir D [OPTIONS]\n"
           "Evaluate a model on <data_dir>/val with the reference's eval preprocessing.\n\n"
           "  --model_path DIR         directory of the model files\n"
           "  --model_filename F       qat_inference.pcmodel (int8, default) or a .pdparams checkpoint\n"
           "  --params_filename F      qat_inference.pcparams (default: as the manifest says)\n"
           "  --data_dir D             dataset root; images are read from D/val\n"
           "  --batch_size N           images per batch (default 10)\n"
           "  --device X               cpu (default), opencl:P:D, gpu, or a part of a device name\n"
           "  --use_gpu V              as the reference: any non-empty V selects --device gpu\n"
           "  --ir_optim V             accepted and ignored (pactcl has no IR passes)\n"
           "  -j, --workers N          decoding threads (default 5, as the reference)\n"
           "  --crop-size N            centre crop (default: the model's trained size, else 224)\n"
           "  --resize-size N          short side before the crop (default crop*256/224)\n"
           "  --model NAME             architecture of a .pdparams checkpoint (default mobilenet_v3_small)\n");
}

enum { O_PATH = 256, O_MODEL_FILE, O_PARAMS_FILE, O_DATA, O_BATCH, O_DEVICE, O_GPU, O_IR, O_CROP,
       O_RESIZE, O_MODEL, O_HELP };

static const struct option longopts[] = {
    { "model_path", required_argument, NULL, O_PATH },
    { "model_filename", required_argument, NULL, O_MODEL_FILE },
    { "params_filename", required_argument, NULL, O_PARAMS_FILE },
    { "data_dir", required_argument, NULL, O_DATA },
    { "batch_size", required_argument, NULL, O_BATCH },
    { "device", required_argument, NULL, O_DEVICE },
    { "use_gpu", required_argument, NULL, O_GPU },
    { "ir_optim", required_argument, NULL, O_IR },
    { "workers", required_argument, NULL, 'j' },
    { "crop-size", required_argument, NULL, O_CROP },
    { "resize-size", required_argument, NULL, O_RESIZE },
    { "model", required_argument, NULL, O_MODEL },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 },
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Loads a .pdparams checkpoint into a float model (QAT when its keys say so). */
static int load_checkpoint(struct pactcl_graph *g, const char *path, enum pactcl_mnv3_arch arch, int crop)
{
    struct pactcl_state_dict *sd = NULL;
    int rc = pactcl_state_dict_load(path, &sd);
    if (rc != PACTCL_OK)
        return rc;
    const struct pactcl_sd_entry *b = pactcl_state_dict_find(sd, "classifier.3.bias");
    int qat = b == NULL;
    if (!b)
        b = pactcl_state_dict_find(sd, "classifier.3._layer.bias");
    if (!b || b->value.type != PACTCL_SD_ARRAY || b->value.u.array.ndim != 1) {
        pactcl_state_dict_free(sd);
        cli_error("%s: no classifier.3 bias: not a MobileNetV3 checkpoint", path);
        return PACTCL_EFORMAT;
    }
    struct pactcl_mnv3_config c = { .arch = arch, .num_classes = (int)b->value.u.array.dims[0],
                                    .image_size = crop, .pact_quant = qat, .weight_bits = 8,
                                    .act_bits = 8 };
    rc = pactcl_mnv3_build(g, &c);
    if (rc == PACTCL_OK)
        rc = pactcl_checkpoint_load_params(g, sd, path, 0, NULL);
    pactcl_state_dict_free(sd);
    return rc;
}

int cmd_eval(const struct cli_common *common, int argc, char **argv)
{
    const char *model_path = "", *model_file = "qat_inference.pcmodel", *params_file = NULL;
    const char *data_dir = "dataset/ILSVRC2012/", *dev_spec = "cpu", *model = "mobilenet_v3_small";
    int batch = 10, workers = 5, crop = 0, resize = 0, c, bad = 0;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "j:", longopts, NULL)) != -1) {
        switch (c) {
        case O_PATH: model_path = optarg; break;
        case O_MODEL_FILE: model_file = optarg; break;
        case O_PARAMS_FILE: params_file = optarg; break;
        case O_DATA: data_dir = optarg; break;
        case O_BATCH: bad = cli_parse_int("--batch_size", optarg, 1, 1 << 16, &batch); break;
        case O_DEVICE: dev_spec = optarg; break;
        case O_GPU: if (*optarg) dev_spec = "gpu"; break;
        case O_IR: break;
        case 'j': bad = cli_parse_int("--workers", optarg, 0, 256, &workers); break;
        case O_CROP: bad = cli_parse_int("--crop-size", optarg, 16, 4096, &crop); break;
        case O_RESIZE: bad = cli_parse_int("--resize-size", optarg, 16, 8192, &resize); break;
        case O_MODEL: model = optarg; break;
        case O_HELP: print_help(); return 0;
        default:
            cli_error("eval: unknown or incomplete option '%s' (see 'pactcl eval --help')", argv[optind - 1]);
            bad = -1;
        }
    }
    if (bad)
        return 2;
    enum pactcl_mnv3_arch arch;
    if (pactcl_mnv3_arch_from_name(model, &arch) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return 2;
    }
    char mpath[4096], ppath[4096];
    snprintf(mpath, sizeof mpath, "%s%s%s", model_path, *model_path ? "/" : "", model_file);
    if (params_file)
        snprintf(ppath, sizeof ppath, "%s%s%s", model_path, *model_path ? "/" : "", params_file);
    int is_int8 = !ends_with(model_file, ".pdparams");
    struct pactcl_mnv3_config mc;
    if (is_int8) {
        char resolved[4096];
        if (pactcl_int8_manifest_read(mpath, params_file ? ppath : NULL, &mc, resolved, sizeof resolved) != PACTCL_OK) {
            cli_error("%s", pactcl_last_error());
            return 1;
        }
        if (!crop)
            crop = mc.image_size;
    }
    if (!crop)
        crop = 224;
    if (!resize)
        resize = (int)((long)crop * 256 / 224);
    if (resize < crop) {
        cli_error("--resize-size %d must be at least --crop-size %d", resize, crop);
        return 2;
    }
    pactcl_context *ctx = cli_open_context(common);
    if (!ctx)
        return 1;
    int rc = 1, graph_ready = 0;
    struct pactcl_graph g;
    struct pactcl_folder_source *val = NULL;
    float *logits = NULL;
    pactcl_device *dev = cli_pick_device(ctx, dev_spec, 0);
    if (!dev)
        goto done;
    struct pactcl_folder_source_options o = { .root = data_dir, .split = "val", .train = 0,
                                              .batch_size = batch, .workers = workers,
                                              .crop_size = crop, .resize_size = resize,
                                              .max_pixels = cli_max_pixels() };
    if (pactcl_folder_source_open(&o, &val) != PACTCL_OK || pactcl_graph_init(&g, dev, batch, 0) != PACTCL_OK ||
        (graph_ready = 1,
         is_int8 ? pactcl_int8_model_load(&g, mpath, params_file ? ppath : NULL, crop, &mc)
                 : load_checkpoint(&g, mpath, arch, crop)) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    int classes = (int)g.values[g.logits].t->dims[1];
    if (classes != pactcl_folder_source_classes(val))
        fprintf(stderr, "pactcl: warning: the model has %d classes, %s/val has %d class folders\n",
                classes, data_dir, pactcl_folder_source_classes(val));
    logits = malloc((size_t)batch * classes * sizeof *logits);
    if (!logits) {
        cli_error("out of memory");
        goto done;
    }
    struct pactcl_batch_source *src = pactcl_folder_source_batches(val);
    int n_batches = src->begin_epoch(src->ctx, 0, 0);
    if (n_batches < 0) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    int progress = isatty(STDERR_FILENO);
    double cost = 0, total = 0, start = now();
    long correct1 = 0, correct5 = 0;
    for (int b = 0;; b++) {
        const float *images;
        const int32_t *labels;
        int n, r = src->next(src->ctx, &images, &labels, &n);
        if (r < 0) {
            cli_error("%s", pactcl_last_error());
            goto done;
        }
        if (r == 0)
            break;
        struct pactcl_tensor *x = g.values[g.input].t;
        if (pactcl_graph_set_batch(&g, n) != PACTCL_OK ||
            pactcl_tensor_write(x, images, pactcl_tensor_bytes(x)) != PACTCL_OK) {
            cli_error("%s", pactcl_last_error());
            goto done;
        }
        /* Only the model run is timed, as predictor.run() in the reference. */
        double t1 = now();
        if (pactcl_graph_forward(&g, 0, 0) != PACTCL_OK || pactcl_device_sync(dev) != PACTCL_OK) {
            cli_error("%s", pactcl_last_error());
            goto done;
        }
        cost += now() - t1;
        if (pactcl_tensor_read(g.values[g.logits].t, logits, (size_t)n * classes * sizeof *logits) != PACTCL_OK) {
            cli_error("%s", pactcl_last_error());
            goto done;
        }
        for (int i = 0; i < n; i++) {
            const float *row = logits + (size_t)i * classes;
            int label = labels[i], above = 0;
            for (int k = 0; k < classes; k++)
                above += row[k] > row[label];
            total += 1;
            correct1 += above < 1;
            correct5 += above < 5;
        }
        if (b % 10 == 0) {
            printf("batch_id %d, acc1 %.3f, acc5 %.3f, avg time %.5f sec/img\n", b, correct1 / total,
                   correct5 / total, cost / total);
            fflush(stdout);
        }
        if (progress) {
            double el = now() - start, eta = el / (b + 1) * (n_batches - b - 1);
            fprintf(stderr, "\reval: batch %d/%d, %.0f s left   ", b + 1, n_batches, eta);
        }
    }
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    char totals[40];
    pactcl_fmt_pyfloat(total, totals, sizeof totals);
    printf("End test: test image %s\n", totals);
    printf("test_acc1 %.4f, test_acc5 %.4f, avg time %.5f sec/img\n", total ? correct1 / total : 0.0,
           total ? correct5 / total : 0.0, total ? cost / total : 0.0);
    printf("\n\n");
    rc = 0;
done:
    free(logits);
    if (graph_ready)
        pactcl_graph_release(&g);
    pactcl_folder_source_close(val);
    pactcl_context_free(ctx);
    return rc;
}
