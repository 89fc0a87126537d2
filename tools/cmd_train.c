/*
 * cmd_train.c: `pactcl train`, the reference's train.py with its flags,
 * defaults and log lines (SEED-SPEC §2), plus --seed, --crop-size,
 * --resize-size, --num-classes and the PACT bit widths.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "model/checkpoint.h"
#include "model/mobilenetv3.h"
#include "quant/int8_model.h"
#include "train/train_log.h"
#include "train/folder_source.h"
#include "train/run_plot.h"
#include "train/trainer.h"

struct train_args {
    const char *data_path, *model, *device, *output_dir, *resume, *pretrained, *opt;
    int batch_size, epochs, workers, lr_step_size, print_freq, start_epoch, start_epoch_given;
    float lr, momentum, weight_decay, lr_gamma;
    int test_only, pact_quant, crop_size, resize_size, num_classes, weight_bits, act_bits;
    int device_given;
    float crop_scale, bn_momentum;
    uint64_t seed;
};

enum {
    OPT_DATA_PATH = 256, OPT_MODEL, OPT_DEVICE, OPT_EPOCHS, OPT_LR, OPT_MOMENTUM, OPT_WD,
    OPT_LR_STEP, OPT_LR_GAMMA, OPT_PRINT_FREQ, OPT_OUTPUT_DIR, OPT_RESUME, OPT_START_EPOCH,
    OPT_TEST_ONLY, OPT_PRETRAINED, OPT_PACT, OPT_SEED, OPT_CROP, OPT_RESIZE, OPT_CLASSES,
    OPT_WBITS, OPT_ABITS, OPT_CROP_SCALE, OPT_BN_MOMENTUM, OPT_OPT, OPT_IGNORED_FLAG, OPT_IGNORED_VALUE, OPT_AMP, OPT_HELP
};

static const struct option longopts[] = {
    { "data-path", required_argument, NULL, OPT_DATA_PATH },
    { "model", required_argument, NULL, OPT_MODEL },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "batch-size", required_argument, NULL, 'b' },
    { "epochs", required_argument, NULL, OPT_EPOCHS },
    { "workers", required_argument, NULL, 'j' },
    { "opt", required_argument, NULL, OPT_OPT },
    { "lr", required_argument, NULL, OPT_LR },
    { "momentum", required_argument, NULL, OPT_MOMENTUM },
    { "wd", required_argument, NULL, OPT_WD },
    { "weight-decay", required_argument, NULL, OPT_WD },
    { "lr-step-size", required_argument, NULL, OPT_LR_STEP },
    { "lr-gamma", required_argument, NULL, OPT_LR_GAMMA },
    { "print-freq", required_argument, NULL, OPT_PRINT_FREQ },
    { "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
    { "resume", required_argument, NULL, OPT_RESUME },
    { "start-epoch", required_argument, NULL, OPT_START_EPOCH },
    { "test-only", no_argument, NULL, OPT_TEST_ONLY },
    { "pretrained", required_argument, NULL, OPT_PRETRAINED },
    { "pact_quant", no_argument, NULL, OPT_PACT },
    { "seed", required_argument, NULL, OPT_SEED },
    { "crop-size", required_argument, NULL, OPT_CROP },
    { "resize-size", required_argument, NULL, OPT_RESIZE },
    { "num-classes", required_argument, NULL, OPT_CLASSES },
    { "crop-scale", required_argument, NULL, OPT_CROP_SCALE },
    { "bn-momentum", required_argument, NULL, OPT_BN_MOMENTUM },
    { "weight-bits", required_argument, NULL, OPT_WBITS },
    { "activation-bits", required_argument, NULL, OPT_ABITS },
    { "amp_level", required_argument, NULL, OPT_AMP },
    /* Parsed and ignored by the reference too (SEED-SPEC §6, quirk 4). */
    { "sync-bn", no_argument, NULL, OPT_IGNORED_FLAG },
    { "apex", no_argument, NULL, OPT_IGNORED_FLAG },
    { "auto-augment", required_argument, NULL, OPT_IGNORED_VALUE },
    { "random-erase", required_argument, NULL, OPT_IGNORED_VALUE },
    { "apex-opt-level", required_argument, NULL, OPT_IGNORED_VALUE },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

static void print_help(void)
{
    printf(
        "Usage: pactcl train [OPTIONS]\n"
        "Train MobileNetV3 on an ImageFolder dataset (<data-path>/train/<class>/*, val/<class>/*),\n"
        "optionally with PACT quantization-aware training, as PaddleSlim's tutorial does.\n\n"
        "  --data-path DIR        dataset root (default ./data)\n"
        "  --model NAME           mobilenet_v3_small (default) or mobilenet_v3_large\n"
        "  --device X             cpu, opencl:P:D, gpu (default: gpu, falling back to the CPU as\n"
        "                         the reference does), or a part of a device name\n"
        "  -b, --batch-size N     images per batch (default 256)\n"
        "  --epochs N             total epochs (default 90)\n"
        "  -j, --workers N        image decoding threads (default 8)\n"
        "  --opt sgd              optimizer: momentum SGD (the only one the reference runs)\n"
        "  --lr X                 initial learning rate (default 0.1)\n"
        "  --momentum X           momentum (default 0.9)\n"
        "  --wd, --weight-decay X L2 decay inside the momentum update (default 1e-4)\n"
        "  --lr-step-size N       multiply the lr by --lr-gamma every N epochs (default 30)\n"
        "  --lr-gamma X           (default 0.1)\n"
        "  --print-freq N         log every N iterations (default 10)\n"
        "  --output-dir DIR       checkpoints model_E, latest, best (.pdparams/.pdopt) (default .)\n"
        "  --resume PREFIX        continue from PREFIX.pdparams/.pdopt, e.g. out/latest\n"
        "  --start-epoch N        first epoch (default 0, or the resumed checkpoint's next epoch)\n"
        "  --test-only            only evaluate the model on the val set\n"
        "  --pretrained FILE      start from a .pdparams file (Paddle's format)\n"
        "  --pact_quant           PACT quantization-aware training (36 layers of the small model)\n"
        "  --weight-bits N        fake-quant weight bits, 2..8 (default 8)\n"
        "  --activation-bits N    fake-quant activation bits, 2..8 (default 8)\n"
        "  --seed N               seed for initialisation, augmentation and dropout (default 0)\n"
        "  --crop-size N          training crop and eval crop (default 224)\n"
        "  --resize-size N        eval resize of the short side (default 256)\n"
        "  --num-classes N        classifier outputs (default: the number of class folders)\n"
        "  --crop-scale X         smallest area fraction RandomResizedCrop keeps (default 0.08;\n"
        "                         larger suits small images such as 28x28 Fashion-MNIST)\n"
        "  --bn-momentum X        BatchNorm running-stat momentum, Paddle's convention (weight of\n"
        "                         the old value; default 0.01, the reference's, which makes the\n"
        "                         running stats ~99%% the last batch; 0.9 averages over batches)\n"
        "Accepted and ignored, as in the reference: --sync-bn --apex --apex-opt-level --auto-augment\n"
        "--random-erase.\n");
}

static int parse_args(int argc, char **argv, struct train_args *a)
{
    *a = (struct train_args){
        .data_path = "./data", .model = "mobilenet_v3_small", .device = "gpu",
        .output_dir = ".", .resume = "", .opt = "sgd", .batch_size = 256, .epochs = 90,
        .workers = 8, .lr_step_size = 30, .print_freq = 10, .lr = 0.1f, .momentum = 0.9f,
        .weight_decay = 1e-4f, .lr_gamma = 0.1f, .crop_size = 224, .resize_size = 256,
        .weight_bits = 8, .act_bits = 8, .crop_scale = 0.08f, .bn_momentum = 0.01f,
    };
    int c, bad = 0;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "b:j:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA_PATH: a->data_path = optarg; break;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_DEVICE: a->device = optarg; a->device_given = 1; break;
        case 'b': bad = cli_parse_int("--batch-size", optarg, 1, 1 << 20, &a->batch_size); break;
        case OPT_EPOCHS: bad = cli_parse_int("--epochs", optarg, 0, 1 << 20, &a->epochs); break;
        case 'j': bad = cli_parse_int("--workers", optarg, 0, 256, &a->workers); break;
        case OPT_OPT: a->opt = optarg; break;
        case OPT_LR: bad = cli_parse_float("--lr", optarg, 0, 1e6, &a->lr); break;
        case OPT_MOMENTUM: bad = cli_parse_float("--momentum", optarg, 0, 1e3, &a->momentum); break;
        case OPT_WD: bad = cli_parse_float("--weight-decay", optarg, 0, 1e3, &a->weight_decay); break;
        case OPT_LR_STEP: bad = cli_parse_int("--lr-step-size", optarg, 1, 1 << 20, &a->lr_step_size); break;
        case OPT_LR_GAMMA: bad = cli_parse_float("--lr-gamma", optarg, 0, 1e3, &a->lr_gamma); break;
        case OPT_PRINT_FREQ: bad = cli_parse_int("--print-freq", optarg, 1, 1 << 30, &a->print_freq); break;
        case OPT_OUTPUT_DIR: a->output_dir = optarg; break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_START_EPOCH:
            bad = cli_parse_int("--start-epoch", optarg, 0, 1 << 20, &a->start_epoch);
            a->start_epoch_given = 1;
            break;
        case OPT_TEST_ONLY: a->test_only = 1; break;
        case OPT_PRETRAINED: a->pretrained = optarg; break;
        case OPT_PACT: a->pact_quant = 1; break;
        case OPT_SEED: bad = cli_parse_u64("--seed", optarg, &a->seed); break;
        case OPT_CROP: bad = cli_parse_int("--crop-size", optarg, 16, 4096, &a->crop_size); break;
        case OPT_RESIZE: bad = cli_parse_int("--resize-size", optarg, 16, 8192, &a->resize_size); break;
        case OPT_CLASSES: bad = cli_parse_int("--num-classes", optarg, 1, 1 << 20, &a->num_classes); break;
        case OPT_CROP_SCALE: bad = cli_parse_float("--crop-scale", optarg, 0.01, 1.0, &a->crop_scale); break;
        case OPT_BN_MOMENTUM: bad = cli_parse_float("--bn-momentum", optarg, 0.0, 1.0, &a->bn_momentum); break;
        case OPT_WBITS: bad = cli_parse_int("--weight-bits", optarg, 2, 8, &a->weight_bits); break;
        case OPT_ABITS: bad = cli_parse_int("--activation-bits", optarg, 2, 8, &a->act_bits); break;
        case OPT_AMP:
            cli_error("--amp_level %s: mixed precision is not supported; pactcl trains in float32", optarg);
            bad = -1;
            break;
        case OPT_IGNORED_FLAG:
        case OPT_IGNORED_VALUE:
            break;
        case OPT_HELP: print_help(); return 1;
        default:
            cli_error("train: unknown or incomplete option '%s' (see 'pactcl train --help')", argv[optind - 1]);
            bad = -1;
        }
    }
    if (bad)
        return -1;
    if (optind < argc) {
        cli_error("train: unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (strcmp(a->opt, "sgd") != 0) {
        cli_error("--opt %s: only sgd (momentum SGD) is supported; the reference's rmsprop branch "
                  "cannot run either", a->opt);
        return -1;
    }
    if (a->resize_size < a->crop_size) {
        cli_error("--resize-size %d must be at least --crop-size %d", a->resize_size, a->crop_size);
        return -1;
    }
    return 0;
}

/* The reference prints its argparse Namespace; this is the same line for
 * pactcl's arguments, sorted by name as argparse does. */
static void print_namespace(const struct train_args *a)
{
    printf("Namespace(activation_bits=%d, batch_size=%d, crop_size=%d, data_path='%s', device='%s', "
           "epochs=%d, lr=%g, lr_gamma=%g, lr_step_size=%d, model='%s', momentum=%g, num_classes=%s, "
           "opt='%s', output_dir='%s', pact_quant=%s, pretrained=%s%s%s, print_freq=%d, resize_size=%d, "
           "resume='%s', seed=%llu, start_epoch=%d, test_only=%s, weight_bits=%d, weight_decay=%g, "
           "workers=%d)\n",
           a->act_bits, a->batch_size, a->crop_size, a->data_path, a->device, a->epochs, a->lr,
           a->lr_gamma, a->lr_step_size, a->model, a->momentum,
           a->num_classes ? "given" : "None", a->opt, a->output_dir,
           a->pact_quant ? "True" : "False", a->pretrained ? "'" : "",
           a->pretrained ? a->pretrained : "None", a->pretrained ? "'" : "", a->print_freq,
           a->resize_size, a->resume, (unsigned long long)a->seed, a->start_epoch,
           a->test_only ? "True" : "False", a->weight_bits, a->weight_decay, a->workers);
}

pactcl_device *cli_pick_device(pactcl_context *ctx, const char *spec, int fallback)
{
    pactcl_device *dev = NULL;
    if (pactcl_context_find_device(ctx, spec, &dev) == PACTCL_OK)
        return dev;
    if (fallback && pactcl_context_find_device(ctx, "cpu", &dev) == PACTCL_OK) {
        printf("device set error, use default device...\n");
        return dev;
    }
    cli_error("%s", pactcl_last_error());
    return NULL;
}

/* SIGINT/SIGTERM: the first asks training to stop after the current step
 * and write a resumable checkpoint; a second one ends the process at once. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    if (stop_requested) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = sig;
    static const char msg[] = "\npactcl: stopping after the current step to save a checkpoint "
                              "(signal again to quit at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What the trainer's callbacks need. */
struct session {
    struct pactcl_graph *g;
    const struct pactcl_mnv3_config *cfg;
    const char *output_dir;
    int export_int8;
    struct pactcl_run_history history;
    char plot_path[4096];
};

/* After each epoch: the run's picture, rewritten so that an interrupted run
 * has one too. */
static void record_epoch(void *user, int epoch, double train_loss, double train_top1,
                         double train_top5, double val_loss, double val_top1, double val_top5,
                         double train_ips)
{
    struct session *s = user;
    if (pactcl_run_history_add(&s->history, epoch, train_loss, train_top1, train_top5, val_loss,
                               val_top1, val_top5, train_ips) != PACTCL_OK ||
        pactcl_run_plot_write(s->plot_path, &s->history) != PACTCL_OK)
        fprintf(stderr, "pactcl: warning: %s\n", pactcl_last_error());
}

/* The reference's save_quantized_model at the end of a --pact_quant run. */
static int finish(void *user)
{
    struct session *f = user;
    if (!f->export_int8)
        return PACTCL_OK;
    char path[4096];
    int rc = pactcl_int8_export(f->g, f->cfg, f->output_dir, "qat_inference", path, sizeof path);
    if (rc == PACTCL_OK) {
        printf("QAT inference model saved in %s\n", f->output_dir);
        fflush(stdout);
    }
    return rc;
}

static int load_pretrained(struct pactcl_graph *g, const char *file)
{
    struct pactcl_state_dict *sd = NULL;
    int rc = pactcl_state_dict_load(file, &sd);
    if (rc == PACTCL_OK)
        rc = pactcl_checkpoint_load_params(g, sd, file, 1, NULL);
    pactcl_state_dict_free(sd);
    return rc;
}

int cmd_train(const struct cli_common *common, int argc, char **argv)
{
    struct train_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc > 0 ? 0 : 2;
    enum pactcl_mnv3_arch arch;
    if (pactcl_mnv3_arch_from_name(a.model, &arch) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        return 2;
    }
    if (a.output_dir && *a.output_dir && mkdir(a.output_dir, 0777) != 0 && errno != EEXIST) {
        cli_error("--output-dir %s: %s", a.output_dir, strerror(errno));
        return 1;
    }
    print_namespace(&a);
    pactcl_context *ctx = cli_open_context(common);
    if (!ctx)
        return 1;
    int rc = 1;
    struct pactcl_graph g;
    int graph_ready = 0, history_ready = 0;
    struct session sess;
    struct pactcl_folder_source *train = NULL, *val = NULL;
    pactcl_device *dev = cli_pick_device(ctx, a.device, !a.device_given);
    if (!dev)
        goto done;

    printf("Loading data\nLoading training data\n");
    double t0 = seconds_now();
    struct pactcl_folder_source_options dopt = {
        .root = a.data_path, .split = "train", .train = 1, .batch_size = a.batch_size,
        .workers = a.workers, .crop_size = a.crop_size, .resize_size = a.resize_size,
        .seed = a.seed, .crop_scale_min = a.crop_scale, .max_pixels = cli_max_pixels(),
    };
    if (!a.test_only && pactcl_folder_source_open(&dopt, &train) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    char took[40];
    pactcl_fmt_pyfloat(seconds_now() - t0, took, sizeof took);
    printf("Took %s\n", took);
    printf("Loading validation data\n");
    dopt.split = "val";
    dopt.train = 0;
    if (pactcl_folder_source_open(&dopt, &val) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    printf("Creating data loaders\nCreating model\n");
    int classes = a.num_classes ? a.num_classes : pactcl_folder_source_classes(val);
    struct pactcl_mnv3_config mc = {
        .arch = arch, .num_classes = classes, .image_size = a.crop_size,
        .pact_quant = a.pact_quant, .weight_bits = a.weight_bits, .act_bits = a.act_bits,
    };
    if (pactcl_graph_init(&g, dev, a.batch_size, !a.test_only) != PACTCL_OK ||
        (graph_ready = 1, pactcl_mnv3_build(&g, &mc)) != PACTCL_OK ||
        pactcl_model_init_params(&g, a.seed) != PACTCL_OK ||
        (a.pretrained && load_pretrained(&g, a.pretrained) != PACTCL_OK)) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    g.bn_momentum = a.bn_momentum;
    if (a.pact_quant)
        printf("Quanted model\n");
    fflush(stdout);
    struct pactcl_train_options to = {
        .epochs = a.epochs, .start_epoch = a.start_epoch_given || !*a.resume ? a.start_epoch : -1,
        .print_freq = a.print_freq, .lr = a.lr, .momentum = a.momentum,
        .weight_decay = a.weight_decay, .lr_gamma = a.lr_gamma, .lr_step_size = a.lr_step_size,
        .seed = a.seed, .output_dir = a.output_dir, .resume = a.resume, .test_only = a.test_only,
        .log = stdout,
    };
    sess = (struct session){ .g = &g, .cfg = &mc, .output_dir = *a.output_dir ? a.output_dir : ".",
                            .export_int8 = a.pact_quant };
    snprintf(sess.plot_path, sizeof sess.plot_path, "%s/training_curves.svg", sess.output_dir);
    if (pactcl_run_history_init(&sess.history, a.model, pactcl_device_id(dev), a.pact_quant) != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        goto done;
    }
    history_ready = 1;
    to.stop = &stop_requested;
    install_stop_handlers();
    to.on_epoch = record_epoch;
    to.on_finish = finish;
    to.user = &sess;
    int trc = pactcl_train(&g, train ? pactcl_folder_source_batches(train) : NULL,
                           pactcl_folder_source_batches(val), &to);
    if (trc != PACTCL_OK) {
        cli_error("%s", pactcl_last_error());
        if (trc == PACTCL_EINTERRUPTED)
            rc = 128 + (stop_requested ? stop_requested : SIGINT);
        goto done;
    }
    if (sess.history.n)
        printf("Training curves saved to %s\n", sess.plot_path);
    rc = 0;
done:
    if (history_ready)
        pactcl_run_history_free(&sess.history);
    if (graph_ready)
        pactcl_graph_release(&g);
    pactcl_folder_source_close(train);
    pactcl_folder_source_close(val);
    pactcl_context_free(ctx);
    return rc;
}
