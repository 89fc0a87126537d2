/*
 * init.c: the reference's initial parameter values (SEED-SPEC §1.1 "Init")
 * drawn from our own seeded generator.  Paddle's random stream cannot be
 * reproduced outside Paddle; the distributions are the same.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

#include "model/mobilenetv3.h"

/* splitmix64: small, fast, and good enough for initial weights. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never 0 (Box-Muller takes its log). */
static double uniform01(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

int pactcl_model_init_params(struct pactcl_graph *g, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < g->n_params; i++) {
        struct pactcl_param *p = &g->params[i];
        int64_t n = pactcl_tensor_numel(p->value);
        float *host = malloc((size_t)n * sizeof *host);
        if (!host)
            return pactcl__set_error(PACTCL_ENOMEM, "out of memory initialising %s", p->key);
        for (int64_t j = 0; j < n; j++) {
            if (p->init_kind == 1) {
                double u1 = uniform01(&state), u2 = uniform01(&state);
                host[j] = (float)(p->init_a * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
            } else if (p->init_kind == 2) {
                host[j] = (float)((2.0 * uniform01(&state) - 1.0) * p->init_a);
            } else {
                host[j] = p->init_a;
            }
        }
        int rc = pactcl_tensor_write(p->value, host, (size_t)n * sizeof *host);
        free(host);
        if (rc != PACTCL_OK)
            return rc;
        if (p->velocity && (rc = pactcl_tensor_zero(p->velocity)) != PACTCL_OK)
            return rc;
    }
    return PACTCL_OK;
}
