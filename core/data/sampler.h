/*
 * sampler.h: the order in which an epoch visits the samples (SEED-SPEC 2.2).
 *
 * Train: paddle.io.DistributedBatchSampler(shuffle=True) on one process does
 *   np.random.RandomState(epoch).shuffle(list(range(N))), its epoch counter
 *   starting at 0.  That is reproduced exactly: MT19937 seeded as numpy's
 *   legacy RandomState(int) seeds it (init_genrand(seed), not
 *   init_by_array), and the legacy Fisher-Yates shuffle drawing
 *   j = random_interval(i) (masked rejection on 32-bit outputs) for
 *   i = N-1 .. 1.
 * Eval: BatchSampler(SequenceSampler): 0, 1, ..., N-1.
 * Batches of B with drop_last=False: ceil(N / B) batches, the last smaller.
 */
#ifndef PACTCL_DATA_SAMPLER_H
#define PACTCL_DATA_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* Writes the epoch's order (n entries) to `order`.  shuffle = 0 gives the
 * sequential order.  n must be below 2^32 (numpy's 32-bit draw path). */
int pactcl_sampler_order(size_t n, int shuffle, uint32_t epoch, size_t *order);

/* ceil(n / batch_size): the number of batches with drop_last=False. */
size_t pactcl_sampler_batch_count(size_t n, size_t batch_size);

#endif /* PACTCL_DATA_SAMPLER_H */
