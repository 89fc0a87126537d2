/*
 * int8_model.h: the exported int8 model (docs/FORMATS.md §2): writing it from
 * a trained PACT QAT graph, and loading it into an inference graph whose
 * quantized layers run int8 x int8 -> int32 kernels.
 */
#ifndef PACTCL_INT8_MODEL_H
#define PACTCL_INT8_MODEL_H

#include "model/mobilenetv3.h"

#define PACTCL_INT8_FORMAT_VERSION 1

/* Writes <dir>/<base>.pcmodel and <dir>/<base>.pcparams from a QAT graph
 * built with `cfg` (PACT removed, BN folded, weights to int8 per channel).
 * The paths written are returned in model_path/params_path when not NULL. */
int pactcl_int8_export(const struct pactcl_graph *g, const struct pactcl_mnv3_config *cfg,
                       const char *dir, const char *base, char *model_path, size_t model_len);

/* Reads and checks a manifest (format, version, checksums, params file);
 * fills cfg (int8 = 1) and the resolved params path. */
int pactcl_int8_manifest_read(const char *model_path, const char *params_path_or_null,
                              struct pactcl_mnv3_config *cfg, char *params_path, size_t params_len);

/* Loads the model into `g` (initialised on a device, no gradients) at the
 * given image size (0: the trained size). */
int pactcl_int8_model_load(struct pactcl_graph *g, const char *model_path,
                           const char *params_path_or_null, int image_size,
                           struct pactcl_mnv3_config *cfg_out);

#endif /* PACTCL_INT8_MODEL_H */
