/*
 * sampler.c: numpy's legacy RandomState shuffle, bit for bit
 * (numpy/random/src/mt19937/mt19937.c, randomkit's rk_interval, and
 * RandomState.shuffle in numpy/random/mtrand.pyx).
 */
#include "internal.h"

#include "sampler.h"

#define MT_N 624
#define MT_M 397

struct mt19937 {
    uint32_t key[MT_N];
    int pos;
};

/* RandomState(seed) with an integer seed: numpy's mt19937_seed, which is
 * Matsumoto and Nishimura's init_genrand. */
static void mt_seed(struct mt19937 *mt, uint32_t seed)
{
    for (int i = 0; i < MT_N; i++) {
        mt->key[i] = seed;
        seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)i + 1u;
    }
    mt->pos = MT_N;
}

static void mt_generate(struct mt19937 *mt)
{
    static const uint32_t mag01[2] = {0u, 0x9908B0DFu};
    uint32_t *k = mt->key;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7FFFFFFFu);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; i < MT_N - 1; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7FFFFFFFu);
        k[i] = k[i + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    uint32_t y = (k[MT_N - 1] & 0x80000000u) | (k[0] & 0x7FFFFFFFu);
    k[MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1u];
    mt->pos = 0;
}

static uint32_t mt_next(struct mt19937 *mt)
{
    if (mt->pos == MT_N)
        mt_generate(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9D2C5680u;
    y ^= (y << 15) & 0xEFC60000u;
    y ^= y >> 18;
    return y;
}

/* numpy's random_interval for max < 2^32: the smallest all-ones mask >= max,
 * then draws until a masked 32-bit output is <= max. */
static uint32_t mt_interval(struct mt19937 *mt, uint32_t max)
{
    if (max == 0)
        return 0;
    uint32_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    while ((v = mt_next(mt) & mask) > max)
        ;
    return v;
}

int pactcl_sampler_order(size_t n, int shuffle, uint32_t epoch, size_t *order)
{
    if (!order && n)
        return pactcl__set_error(PACTCL_EINVAL, "sampler: no output array");
    if ((uint64_t)n > UINT32_MAX)
        return pactcl__set_error(PACTCL_EINVAL, "sampler: %zu samples is more than 2^32 - 1", n);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (!shuffle || n < 2)
        return PACTCL_OK;
    struct mt19937 mt;
    mt_seed(&mt, epoch);
    for (size_t i = n - 1; i >= 1; i--) {
        size_t j = mt_interval(&mt, (uint32_t)i);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    return PACTCL_OK;
}

size_t pactcl_sampler_batch_count(size_t n, size_t batch_size)
{
    return batch_size ? n / batch_size + (n % batch_size != 0) : 0;
}
