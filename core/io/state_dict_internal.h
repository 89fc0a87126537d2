/* state_dict_internal.h: what the reader and the writer share about state dicts. */
#ifndef PACTCL_STATE_DICT_INTERNAL_H
#define PACTCL_STATE_DICT_INTERNAL_H

#include "state_dict.h"

/* Array bytes are kept exactly as numpy stores them, little-endian, and handed
 * to the compute code as native numbers. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "state dict arrays are little-endian in memory: port core/io to big-endian hosts first"
#endif

/* Nested dicts deeper than this are refused on load and save: real files nest
 * two levels, and the limit keeps recursion (and self-referencing pickles)
 * bounded. */
#define PACTCL_SD_MAX_NESTING 16

/* Stores `*value` under a copy of `name` (name_len bytes, no NUL inside),
 * taking ownership of what the value points to; on failure the value is freed
 * too, so the caller never has to. */
int pactcl__sd_set_value(struct pactcl_state_dict *sd, const char *name, size_t name_len,
                         struct pactcl_sd_value *value);
/* Frees what a value owns. */
void pactcl__sd_value_clear(struct pactcl_sd_value *value);
/* Checks a dtype and shape and sets *nbytes to the array's size; returns NULL,
 * or what is wrong ("rank 9 is above 8") for the caller's message. */
const char *pactcl__sd_shape_problem(enum pactcl_sd_dtype dtype, int ndim, const int64_t *dims,
                                     size_t *nbytes);

/* Whether s[0..n) is UTF-8 as Python's pickle accepts it ('surrogatepass':
 * encoded lone surrogates pass). */
int pactcl__sd_valid_utf8(const unsigned char *s, size_t n);

#endif /* PACTCL_STATE_DICT_INTERNAL_H */
