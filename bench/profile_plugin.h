/*
 * profile_plugin.h: what bench/profile_plugin.c (a timing override plugin)
 * shares with model_bench --profile.
 *
 * The plugin claims every op on every device at a priority above any vendor
 * plugin's, runs each call through the device's own backend, syncs, and adds
 * the elapsed time to a record keyed by the op and its argument shapes.
 * model_bench finds the records through dlsym(PACTCL_BENCH_PROFILE_SYMBOL) on
 * the already loaded plugin file.
 */
#ifndef PACTCL_BENCH_PROFILE_PLUGIN_H
#define PACTCL_BENCH_PROFILE_PLUGIN_H

#include <stdint.h>

#include "pactcl-ops.h"

#define PACTCL_BENCH_PROFILE_SYMBOL "pactcl_bench_profile"
#define PACTCL_BENCH_PROFILE_MAX 1024

/* One distinct call: op, argument shapes (ndim 0 for an absent argument) and
 * the convolution parameters, which tell e.g. 3x3 s1 from 3x3 s2. */
struct pactcl_bench_profile_key {
    enum pactcl_op op;
    int ndim[PACTCL_MAX_OP_ARGS];
    int64_t dims[PACTCL_MAX_OP_ARGS][PACTCL_MAX_DIMS];
    int stride, pad;
};

struct pactcl_bench_profile_record {
    struct pactcl_bench_profile_key key;
    int64_t calls;
    double ms; /* summed */
};

struct pactcl_bench_profile {
    int n;              /* records in use */
    int64_t overflowed; /* calls that found the table full (timed, not recorded) */
    struct pactcl_bench_profile_record rec[PACTCL_BENCH_PROFILE_MAX];
};

/* The type of the symbol: the plugin's table, to read and to clear (n = 0). */
typedef struct pactcl_bench_profile *(*pactcl_bench_profile_fn)(void);

#endif /* PACTCL_BENCH_PROFILE_PLUGIN_H */
