/*
 * mobilenetv3.h: MobileNetV3 small and large exactly as the reference
 * (PaddlePaddle models, tutorials/mobilenetv3_prod/Step6; SEED-SPEC §1), and
 * its PACT quantization-aware form (PaddleSlim 2.2.1 QAT; SEED-SPEC §3).
 */
#ifndef PACTCL_MOBILENETV3_H
#define PACTCL_MOBILENETV3_H

#include "model/graph.h"

enum pactcl_mnv3_arch {
    PACTCL_MNV3_SMALL = 0,
    PACTCL_MNV3_LARGE = 1
};

struct pactcl_mnv3_config {
    enum pactcl_mnv3_arch arch;
    int num_classes;   /* 1000 for ImageNet */
    int image_size;    /* input H = W (the crop size) */
    int pact_quant;    /* wrap the 36 (small) / 43? (large) conv and linear layers */
    int weight_bits;   /* 2..8 */
    int act_bits;      /* 2..8 */
    /* The exported int8 inference form (quant/int8_model.c loads it): the
     * quantized layers run int8 kernels with BN and activation folded in. */
    int int8;
};

/* Parses "mobilenet_v3_small" / "mobilenet_v3_large". */
int pactcl_mnv3_arch_from_name(const char *name, enum pactcl_mnv3_arch *out);
const char *pactcl_mnv3_arch_name(enum pactcl_mnv3_arch arch);

/* Builds the model into an initialised, empty graph.  Parameters are zero;
 * pactcl_model_init_params gives them the reference's initial values. */
int pactcl_mnv3_build(struct pactcl_graph *g, const struct pactcl_mnv3_config *cfg);

/* Number of layers wrapped for quantization in the last built graph. */
int pactcl_mnv3_quantized_layers(const struct pactcl_graph *g);

/* Initialises every parameter as the reference does with no weights given
 * (conv N(0, sqrt(2/(k*k*in))), Linear Xavier-uniform, BN 1/0/0/1, PACT
 * alpha 100, quant state 0.001/1/1, observers 0), from our own seeded RNG. */
int pactcl_model_init_params(struct pactcl_graph *g, uint64_t seed);

#endif /* PACTCL_MOBILENETV3_H */
