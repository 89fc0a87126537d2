/*
 * cmd_dataset.c: `pactcl dataset NAME`, which converts a dataset into the
 * ImageFolder layout that `pactcl train --data-path` reads.  One so far:
 *
 *   pactcl dataset fashion-mnist --out DIR [--src DIR] [--limit-train N] [--limit-val N]
 *
 * The conversion itself, and why it never leaves a half-written dataset
 * looking complete, is in core/data/fashion_mnist.h; this file parses the
 * options and draws the progress line.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "data/fashion_mnist.h"

/* Seconds between two redraws of the progress line. */
#define PROGRESS_INTERVAL 0.2

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: pactcl dataset NAME [OPTIONS]\n"
               "Convert a dataset into the ImageFolder layout 'pactcl train --data-path' reads.\n\n"
               "Datasets:\n"
               "  fashion-mnist  Zalando's Fashion-MNIST from Debian's dataset-fashion-mnist\n"
               "                 package ('pactcl dataset fashion-mnist --help')\n");
}

static void print_fmnist_help(void)
{
    printf("Usage: pactcl dataset fashion-mnist --out DIR [--src DIR] [--limit-train N] "
           "[--limit-val N]\n"
           "Convert Fashion-MNIST's IDX files into DIR/train/<class>/NNNNN.png (60000 images)\n"
           "and DIR/val/<class>/NNNNN.png (10000, the t10k files): 28x28 gray PNGs named by\n"
           "their index, in class folders 0_tshirt_top ... 9_ankle_boot whose sorted order is\n"
           "the label order.\n\n"
           "  --out DIR        where to write (created if missing)\n"
           "  --src DIR        the directory holding train-images-idx3-ubyte.gz,\n"
           "                   train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and\n"
           "                   t10k-labels-idx1-ubyte.gz (default %s,\n"
           "                   where 'apt-get install dataset-fashion-mnist' puts them)\n"
           "  --limit-train N  convert only the first N training images (quick demos)\n"
           "  --limit-val N    convert only the first N validation images\n\n"
           "The images are written into DIR/.partial-<pid> and moved into place when all are\n"
           "written; DIR/.complete, written last, marks DIR as converted.  Running again on a\n"
           "converted DIR with the same limits does nothing.\n",
           PACTCL_FASHION_MNIST_DEFAULT_SRC);
}

struct progress {
    double start, last;
    int shown;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(double seconds, char *buf, size_t len)
{
    long s = (long)(seconds + 0.5);
    snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* A one-line progress report redrawn in place with \r; only installed when
 * stderr is a terminal, so logs and pipes get none of it. */
static void show_progress(void *user, size_t done, size_t total)
{
    struct progress *p = user;
    double t = now();
    if (done < total && t - p->last < PROGRESS_INTERVAL)
        return;
    p->last = t;
    double elapsed = t - p->start;
    char eta[32] = "-:--";
    /* The rate needs a moment to settle before it predicts anything. */
    if (done > 0 && elapsed > 0.5)
        format_duration(elapsed * (double)(total - done) / (double)done, eta, sizeof eta);
    fprintf(stderr, "\rwriting PNGs: %zu/%zu (%3.0f%%), ETA %s ", done, total,
            100.0 * (double)done / (double)total, eta);
    fflush(stderr);
    p->shown = 1;
}

static int fashion_mnist(int argc, char **argv)
{
    enum { OPT_OUT = 256, OPT_SRC, OPT_LIMIT_TRAIN, OPT_LIMIT_VAL, OPT_HELP };
    static const struct option longopts[] = {
        { "out", required_argument, NULL, OPT_OUT },
        { "src", required_argument, NULL, OPT_SRC },
        { "limit-train", required_argument, NULL, OPT_LIMIT_TRAIN },
        { "limit-val", required_argument, NULL, OPT_LIMIT_VAL },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 },
    };
    struct pactcl_fashion_mnist_options o = { 0 };
    int c, limit;
    optind = 0; /* 0, not 1: also resets glibc's place inside "-jX" clusters */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OUT: o.out_dir = optarg; break;
        case OPT_SRC: o.src_dir = optarg; break;
        case OPT_LIMIT_TRAIN:
        case OPT_LIMIT_VAL:
            if (cli_parse_int(c == OPT_LIMIT_TRAIN ? "--limit-train" : "--limit-val", optarg, 1,
                              INT_MAX, &limit) != 0)
                return 2;
            *(c == OPT_LIMIT_TRAIN ? &o.limit_train : &o.limit_val) = (size_t)limit;
            break;
        case OPT_HELP: print_fmnist_help(); return 0;
        default:
            cli_error("dataset fashion-mnist: unknown or incomplete option '%s' "
                      "(see 'pactcl dataset fashion-mnist --help')",
                      argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("dataset fashion-mnist: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!o.out_dir || !*o.out_dir) {
        cli_error("dataset fashion-mnist: --out DIR is required");
        return 2;
    }
    if (o.src_dir && !*o.src_dir) {
        cli_error("dataset fashion-mnist: --src needs a non-empty DIR");
        return 2;
    }
    struct progress p = { .start = now() };
    if (isatty(STDERR_FILENO)) {
        o.progress = show_progress;
        o.user = &p;
    }
    struct pactcl_fashion_mnist_result r;
    int rc = pactcl_fashion_mnist_convert(&o, &r);
    if (p.shown)
        fputc('\n', stderr);
    if (rc != PACTCL_OK) {
        cli_error("dataset fashion-mnist: %s%s", pactcl_last_error(),
                  rc == PACTCL_ENOTFOUND && !o.src_dir
                      ? " (or point --src at a directory holding the four files)"
                      : "");
        return 1;
    }
    if (r.already_complete) {
        printf("%s already holds Fashion-MNIST (%zu train, %zu val images): nothing to do\n",
               o.out_dir, r.n_train, r.n_val);
    } else {
        char took[32];
        format_duration(now() - p.start, took, sizeof took);
        printf("Fashion-MNIST written to %s: %zu train and %zu val images in %d classes (%s)\n",
               o.out_dir, r.n_train, r.n_val, PACTCL_FASHION_MNIST_CLASSES, took);
    }
    printf("Train on it with: pactcl train --data-path %s\n", o.out_dir);
    return 0;
}

int cmd_dataset(const struct cli_common *common, int argc, char **argv)
{
    (void)common;
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "fashion-mnist") == 0)
        return fashion_mnist(argc - 1, argv + 1);
    cli_error("dataset: unknown dataset '%s' (known: fashion-mnist; see 'pactcl dataset --help')",
              argv[1]);
    return 2;
}
