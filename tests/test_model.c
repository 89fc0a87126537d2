/*
 * test_model.c: MobileNetV3 as built by core/model against the reference's
 * definition: parameter counts and state-dict keys (SEED-SPEC §1.2-1.4, §3.2),
 * forward logits against torchvision's implementation (fixture made by
 * fixtures/model/make_mnv3_logits.py) through a .pdparams round trip, on
 * every device, and the reference's rules for loading weights.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "model/mobilenetv3.h"

#ifndef PACTCL_TEST_FIXTURES
#error "PACTCL_TEST_FIXTURES must point at tests/fixtures"
#endif

static pactcl_context *ctx;

static void open_context(void)
{
    struct pactcl_context_options o = { .skip_installed_dir = 1 };
    ck_assert_msg(pactcl_context_create(&o, &ctx) == PACTCL_OK, "%s", pactcl_last_error());
}

static void close_context(void)
{
    pactcl_context_free(ctx);
    ctx = NULL;
}

static pactcl_device *device(const char *id)
{
    pactcl_device *d = NULL;
    ck_assert_msg(pactcl_context_find_device(ctx, id, &d) == PACTCL_OK, "%s", pactcl_last_error());
    return d;
}

static void build(struct pactcl_graph *g, pactcl_device *dev, enum pactcl_mnv3_arch arch, int classes,
                  int size, int qat, int grads)
{
    struct pactcl_mnv3_config c = { .arch = arch, .num_classes = classes, .image_size = size,
                                    .pact_quant = qat, .weight_bits = 8, .act_bits = 8 };
    ck_assert_int_eq(pactcl_graph_init(g, dev, 2, grads), PACTCL_OK);
    ck_assert_msg(pactcl_mnv3_build(g, &c) == PACTCL_OK, "%s", pactcl_last_error());
}

static int count_keys_ending(const struct pactcl_graph *g, const char *suffix)
{
    int n = 0;
    size_t ls = strlen(suffix);
    for (int i = 0; i < g->n_params; i++) {
        size_t lk = strlen(g->params[i].key);
        n += lk >= ls && strcmp(g->params[i].key + lk - ls, suffix) == 0;
    }
    return n;
}

/* SEED-SPEC §1.2/§1.3: 2,542,856 and 5,483,032 trainable parameters; 210 and
 * 266 state-dict tensors; 12,112 BN running-stat elements in the small model. */
START_TEST(param_counts_fp32)
{
    open_context();
    struct pactcl_graph g;
    build(&g, device("cpu"), PACTCL_MNV3_SMALL, 1000, 224, 0, 1);
    ck_assert_int_eq(pactcl_graph_trainable_count(&g), 2542856);
    ck_assert_int_eq(g.n_params, 210);
    int64_t bn_stats = 0;
    for (int i = 0; i < g.n_params; i++)
        if (strstr(g.params[i].key, "._mean") || strstr(g.params[i].key, "._variance"))
            bn_stats += pactcl_tensor_numel(g.params[i].value);
    ck_assert_int_eq(bn_stats, 12112);
    /* Key order: Paddle's pre-order traversal (§1.4). */
    ck_assert_str_eq(g.params[0].key, "features.0.0.weight");
    ck_assert_str_eq(g.params[1].key, "features.0.1.weight");
    ck_assert_str_eq(g.params[4].key, "features.0.1._variance");
    ck_assert_str_eq(g.params[5].key, "features.1.block.0.0.weight");
    ck_assert_str_eq(g.params[10].key, "features.1.block.1.fc1.weight");
    ck_assert_str_eq(g.params[13].key, "features.1.block.1.fc2.bias");
    ck_assert_str_eq(g.params[14].key, "features.1.block.2.0.weight");
    ck_assert_str_eq(g.params[g.n_params - 4].key, "classifier.0.weight");
    ck_assert_str_eq(g.params[g.n_params - 1].key, "classifier.3.bias");
    /* Linear weights are [in, out]; the 72-channel SE rounds up to 24. */
    const struct pactcl_tensor *fc = g.params[g.n_params - 4].value;
    ck_assert_int_eq(fc->dims[0], 576);
    ck_assert_int_eq(fc->dims[1], 1024);
    ck_assert_str_eq(g.params[0].paddle_name, "conv2d_0.w_0");
    ck_assert_str_eq(g.params[1].paddle_name, "batch_norm2d_0.w_0");
    ck_assert_str_eq(g.params[3].paddle_name, "batch_norm2d_0.w_1");
    pactcl_graph_release(&g);

    build(&g, device("cpu"), PACTCL_MNV3_LARGE, 1000, 224, 0, 1);
    ck_assert_int_eq(pactcl_graph_trainable_count(&g), 5483032);
    ck_assert_int_eq(g.n_params, 266);
    int i = pactcl_graph_find_param(&g, "features.4.block.2.fc1.weight");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(g.params[i].value->dims[0], 24);
    pactcl_graph_release(&g);
    close_context();
}
END_TEST

/* SEED-SPEC §3.2: 36 quantized layers (34 convs + 2 Linear, SE convs
 * excluded) and 141 output observers in the small model; key names. */
START_TEST(qat_layers_and_keys)
{
    open_context();
    struct pactcl_graph g;
    build(&g, device("cpu"), PACTCL_MNV3_SMALL, 1000, 224, 1, 1);
    ck_assert_int_eq(pactcl_mnv3_quantized_layers(&g), 36);
    ck_assert_int_eq(count_keys_ending(&g, "._ma_output_scale._scale"), 141);
    ck_assert_int_eq(count_keys_ending(&g, "._act_preprocess.alpha"), 36);
    static const char *const keys[] = {
        "features.0.0._layer.weight",
        "features.0.0._layer._fake_quant_weight._scale",
        "features.0.0._layer._fake_quant_input._scale",
        "features.0.0._layer._fake_quant_input._state",
        "features.0.0._layer._fake_quant_input._accum",
        "features.0.0._layer._act_preprocess.alpha",
        "features.0.0._ma_output_scale._scale",
        "features.0.1._layer._variance",
        "features.0.1._ma_output_scale._accum",
        "features.0.2._ma_output_scale._state",
        "features.1.block.1.avgpool._ma_output_scale._scale",
        "features.1.block.1.fc1._layer.bias",
        "features.1.block.1.activation._ma_output_scale._scale",
        "features.1.block.1.scale_activation._ma_output_scale._scale",
        "avgpool._ma_output_scale._scale",
        "classifier.0._layer._fake_quant_weight._scale",
        "classifier.2._ma_output_scale._scale",
        "classifier.3._layer.bias",
    };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_msg(pactcl_graph_find_param(&g, keys[k]) >= 0, "missing key %s", keys[k]);
    /* SE convs are never quantized. */
    ck_assert_int_lt(pactcl_graph_find_param(&g, "features.1.block.1.fc1._layer._act_preprocess.alpha"), 0);
    /* Per-output-channel weight scales: conv axis 0, Linear axis 1. */
    int s = pactcl_graph_find_param(&g, "classifier.0._layer._fake_quant_weight._scale");
    ck_assert_int_eq(g.params[s].value->dims[0], 1024);
    /* PACT alpha: lr multiplier 1000, trainable; quant state not trainable. */
    int a = pactcl_graph_find_param(&g, "features.0.0._layer._act_preprocess.alpha");
    ck_assert(g.params[a].trainable);
    ck_assert(g.params[a].lr_mult == 1000.0f);
    int st = pactcl_graph_find_param(&g, "features.0.0._layer._fake_quant_input._state");
    ck_assert(!g.params[st].trainable);
    /* Only alpha adds trainable parameters. */
    ck_assert_int_eq(pactcl_graph_trainable_count(&g), 2542856 + 36);
    pactcl_graph_release(&g);

    build(&g, device("cpu"), PACTCL_MNV3_LARGE, 1000, 224, 1, 1);
    /* 46 convs outside SE (stem, 2 + 14*3 in the blocks, last conv) + 2 Linear. */
    ck_assert_int_eq(pactcl_mnv3_quantized_layers(&g), 48);
    pactcl_graph_release(&g);
    close_context();
}
END_TEST

/* Initial values as the reference (SEED-SPEC §1.1 Init and §3). */
START_TEST(initial_values)
{
    open_context();
    struct pactcl_graph g;
    build(&g, device("cpu"), PACTCL_MNV3_SMALL, 10, 64, 1, 1);
    ck_assert_int_eq(pactcl_model_init_params(&g, 7), PACTCL_OK);
    struct { const char *key; float want; } consts[] = {
        { "features.0.1._layer.weight", 1.0f }, { "features.0.1._layer.bias", 0.0f },
        { "features.0.1._layer._mean", 0.0f }, { "features.0.1._layer._variance", 1.0f },
        { "features.0.0._layer._act_preprocess.alpha", 100.0f },
        { "features.0.0._layer._fake_quant_input._scale", 0.001f },
        { "features.0.0._layer._fake_quant_input._state", 1.0f },
        { "features.0.0._layer._fake_quant_input._accum", 1.0f },
        { "features.0.0._ma_output_scale._scale", 0.0f },
        { "features.0.0._ma_output_scale._state", 0.0f },
        { "classifier.0._layer.bias", 0.0f },
    };
    for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
        int i = pactcl_graph_find_param(&g, consts[k].key);
        ck_assert_int_ge(i, 0);
        float v;
        const struct pactcl_tensor *t = g.params[i].value;
        float *all = malloc(pactcl_tensor_bytes(t));
        ck_assert_int_eq(pactcl_tensor_read(t, all, pactcl_tensor_bytes(t)), PACTCL_OK);
        v = all[pactcl_tensor_numel(t) - 1];
        free(all);
        ck_assert_msg(v == consts[k].want, "%s = %g, want %g", consts[k].key, v, consts[k].want);
    }
    /* Conv weights ~ N(0, sqrt(2/(k*k*in))): the stem has std sqrt(2/27). */
    int w = pactcl_graph_find_param(&g, "features.12.0._layer.weight"); /* [576,96,1,1] */
    const struct pactcl_tensor *t = g.params[w].value;
    int64_t n = pactcl_tensor_numel(t);
    float *host = malloc(pactcl_tensor_bytes(t));
    ck_assert_int_eq(pactcl_tensor_read(t, host, pactcl_tensor_bytes(t)), PACTCL_OK);
    double s2 = 0, mean = 0;
    for (int64_t i = 0; i < n; i++) {
        mean += host[i];
        s2 += (double)host[i] * host[i];
    }
    mean /= n;
    double std = sqrt(s2 / n - mean * mean), want = sqrt(2.0 / 96.0);
    ck_assert_msg(fabs(std - want) < 0.02 * want && fabs(mean) < 0.02 * want,
                  "conv init mean %g std %g, want 0 and %g", mean, std, want);
    free(host);
    /* Linear: Xavier-uniform, limit sqrt(6/(576+1024)). */
    w = pactcl_graph_find_param(&g, "classifier.0._layer.weight");
    t = g.params[w].value;
    n = pactcl_tensor_numel(t);
    host = malloc(pactcl_tensor_bytes(t));
    ck_assert_int_eq(pactcl_tensor_read(t, host, pactcl_tensor_bytes(t)), PACTCL_OK);
    double limit = sqrt(6.0 / 1600.0), maxabs = 0;
    for (int64_t i = 0; i < n; i++)
        maxabs = fmax(maxabs, fabs(host[i]));
    ck_assert(maxabs <= limit && maxabs > 0.99 * limit);
    free(host);
    pactcl_graph_release(&g);
    close_context();
}
END_TEST

/* ---- shared gradient storage --------------------------------------------------------- */

/* One training step's parameter gradients (all concatenated), the gradient
 * storage in bytes, and the loss, from a graph whose activation gradients share
 * slots (the default) or each own one (share = 0, a layout with nothing to get
 * wrong). */
static float *step_gradients(int qat, int share, size_t *n_out, int64_t *storage, float *loss)
{
    struct pactcl_graph g;
    struct pactcl_mnv3_config c = { .arch = PACTCL_MNV3_SMALL, .num_classes = 4, .image_size = 64,
                                    .pact_quant = qat, .weight_bits = 8, .act_bits = 8 };
    ck_assert_int_eq(pactcl_graph_init(&g, device("cpu"), 2, 1), PACTCL_OK);
    g.share_grad_storage = share;
    ck_assert_msg(pactcl_mnv3_build(&g, &c) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_int_eq(pactcl_model_init_params(&g, 11), PACTCL_OK);
    struct pactcl_tensor *x = g.values[g.input].t;
    int64_t nx = pactcl_tensor_numel(x);
    float *img = malloc((size_t)nx * sizeof *img);
    uint32_t r = 12345;
    for (int64_t i = 0; i < nx; i++) {
        r = r * 1664525u + 1013904223u;
        img[i] = (float)(r >> 8) / (float)(1u << 24) * 4.0f - 2.0f;
    }
    const int32_t labels[2] = { 1, 3 };
    ck_assert_int_eq(pactcl_tensor_write(x, img, (size_t)nx * sizeof *img), PACTCL_OK);
    ck_assert_int_eq(pactcl_tensor_write(g.labels, labels, sizeof labels), PACTCL_OK);
    ck_assert_msg(pactcl_graph_forward(&g, 1, 99) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_int_eq(pactcl_graph_loss(&g), PACTCL_OK);
    ck_assert_msg(pactcl_graph_backward(&g) == PACTCL_OK, "%s", pactcl_last_error());
    ck_assert_int_eq(pactcl_tensor_read(g.loss, loss, sizeof *loss), PACTCL_OK);
    size_t n = 0;
    for (int i = 0; i < g.n_params; i++)
        if (g.params[i].grad)
            n += (size_t)pactcl_tensor_numel(g.params[i].grad);
    float *all = malloc(n * sizeof *all), *at = all;
    for (int i = 0; i < g.n_params; i++) {
        if (!g.params[i].grad)
            continue;
        size_t bytes = pactcl_tensor_bytes(g.params[i].grad);
        ck_assert_int_eq(pactcl_tensor_read(g.params[i].grad, at, bytes), PACTCL_OK);
        at += bytes / sizeof *at;
    }
    *storage = 0;
    for (int s = 0; s < g.n_grad_slots; s++)
        *storage += (int64_t)pactcl_tensor_bytes(g.grad_slots[s]);
    *n_out = n;
    free(img);
    pactcl_graph_release(&g);
    return all;
}

/* Activation gradients sharing storage give bit for bit the gradients of one
 * buffer per value (every op's backward is checked on its own in test_ops),
 * in FP32 and QAT, with under a third of the storage. */
START_TEST(shared_gradient_storage)
{
    open_context();
    for (int qat = 0; qat < 2; qat++) {
        size_t n1, n2;
        int64_t shared, separate;
        float loss1, loss2;
        float *a = step_gradients(qat, 1, &n1, &shared, &loss1);
        float *b = step_gradients(qat, 0, &n2, &separate, &loss2);
        ck_assert_uint_eq(n1, n2);
        ck_assert(loss1 == loss2 && isfinite(loss1));
        double norm = 0;
        for (size_t i = 0; i < n1; i++) {
            ck_assert_msg(a[i] == b[i], "%s: gradient element %zu: %g shared, %g separate",
                          qat ? "QAT" : "FP32", i, a[i], b[i]);
            norm += (double)a[i] * a[i];
        }
        ck_assert(norm > 0);
        ck_assert_msg(shared * 3 < separate, "%s: gradients take %lld bytes shared, %lld separate",
                      qat ? "QAT" : "FP32", (long long)shared, (long long)separate);
        free(a);
        free(b);
    }
    close_context();
}
END_TEST

/* An inference-only graph keeps a few activations, not all of them (their
 * values are checked against torchvision below). */
START_TEST(inference_activations_share_storage)
{
    open_context();
    struct pactcl_graph g;
    build(&g, device("cpu"), PACTCL_MNV3_SMALL, 10, 224, 0, 0);
    int64_t all = 0, shared = 0;
    for (int v = 0; v < g.n_values; v++)
        if (g.values[v].alias_of < 0)
            all += (int64_t)pactcl_tensor_bytes(g.values[v].t);
    for (int s = 0; s < g.n_value_slots; s++)
        shared += (int64_t)pactcl_tensor_bytes(g.value_slots[s]);
    ck_assert_msg(shared > 0 && shared * 4 < all, "activations take %lld bytes shared, %lld in all",
                  (long long)shared, (long long)all);
    pactcl_graph_release(&g);
    close_context();
}
END_TEST

/* ---- logits against torchvision --------------------------------------------------- */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 0x811C9DC5u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x01000193u;
    }
    return h;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Exactly reproducible uniform numbers in [-1, 1) (integer hashing only),
 * the same as make_mnv3_logits.py's uniform(). */
static double rule_uniform(uint32_t seed, int64_t i)
{
    uint32_t h = pactcl_hash32((uint32_t)i ^ seed);
    return (double)(h >> 8) / 16777216.0 * 2.0 - 1.0;
}

/* The closed-form weights of make_mnv3_logits.py. */
static void rule_values(const char *key, const struct pactcl_tensor *t, float *out)
{
    int64_t n = pactcl_tensor_numel(t);
    uint32_t seed = fnv1a(key);
    int64_t fan_in = t->ndim == 4 ? t->dims[1] * t->dims[2] * t->dims[3] : t->dims[0];
    for (int64_t i = 0; i < n; i++) {
        double s = rule_uniform(seed, i), v;
        if (ends_with(key, "._variance"))
            v = 1.0 + 0.5 * fabs(s);
        else if (ends_with(key, "._mean") || ends_with(key, ".bias"))
            v = 0.1 * s;
        else if (t->ndim == 1)
            v = 1.0 + 0.2 * s;
        else
            v = s * sqrt(6.0 / (double)fan_in);
        out[i] = (float)v;
    }
}

/* Reads the fixture row `row` of model `name` into want[10]. */
static void fixture_logits(const char *name, int row, float *want)
{
    FILE *f = fopen(PACTCL_TEST_FIXTURES "/model/mnv3_logits.txt", "r");
    ck_assert_msg(f != NULL, "cannot open the logits fixture");
    char line[4096];
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        size_t nl = strlen(name);
        if (strncmp(p, name, nl) != 0 || p[nl] != ' ')
            continue;
        if (seen++ != row)
            continue;
        p += nl;
        for (int k = 0; k < 10; k++)
            want[k] = strtof(p, &p);
        fclose(f);
        return;
    }
    fclose(f);
    ck_abort_msg("fixture row %s %d missing", name, row);
}

static void check_logits_on(pactcl_device *dev, enum pactcl_mnv3_arch arch)
{
    struct pactcl_graph g;
    build(&g, dev, arch, 10, 64, 0, 0);
    /* Weights travel through a .pdparams file, as --pretrained reads them. */
    struct pactcl_state_dict *sd = NULL;
    ck_assert_int_eq(pactcl_state_dict_create(&sd), PACTCL_OK);
    for (int i = 0; i < g.n_params; i++) {
        const struct pactcl_tensor *t = g.params[i].value;
        float *v = malloc(pactcl_tensor_bytes(t));
        rule_values(g.params[i].key, t, v);
        ck_assert_int_eq(pactcl_state_dict_set_f32(sd, g.params[i].key, t->ndim, t->dims, v), PACTCL_OK);
        free(v);
    }
    char path[] = "/tmp/pactcl-test-model-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(pactcl_state_dict_save(path, sd) == PACTCL_OK, "%s", pactcl_last_error());
    pactcl_state_dict_free(sd);
    sd = NULL;
    ck_assert_msg(pactcl_state_dict_load(path, &sd) == PACTCL_OK, "%s", pactcl_last_error());
    unlink(path);
    struct pactcl_load_report r;
    ck_assert_int_eq(pactcl_checkpoint_load_params(&g, sd, path, 0, &r), PACTCL_OK);
    ck_assert_int_eq(r.loaded, g.n_params);
    ck_assert_int_eq(r.missing, 0);
    pactcl_state_dict_free(sd);

    int64_t n = 2 * 3 * 64 * 64;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * rule_uniform(12345, i));
    ck_assert_int_eq(pactcl_tensor_write(g.values[g.input].t, x, (size_t)n * sizeof *x), PACTCL_OK);
    free(x);
    ck_assert_msg(pactcl_graph_forward(&g, 0, 0) == PACTCL_OK, "%s", pactcl_last_error());
    float got[20];
    ck_assert_int_eq(pactcl_tensor_read(g.values[g.logits].t, got, sizeof got), PACTCL_OK);
    const char *name = pactcl_mnv3_arch_name(arch);
    for (int row = 0; row < 2; row++) {
        float want[10], scale = 0;
        fixture_logits(name, row, want);
        for (int k = 0; k < 10; k++)
            scale = fmaxf(scale, fabsf(want[k]));
        /* float32 through ~50 layers with different summation orders, and
         * Paddle's hardsigmoid slope 0.1666667 against torchvision's 1/6:
         * agreement to 1e-3 of the largest logit. */
        for (int k = 0; k < 10; k++)
            ck_assert_msg(fabsf(got[row * 10 + k] - want[k]) <= 1e-3f * scale + 1e-4f,
                          "[%s] %s image %d logit %d: got %.6g, torchvision %.6g",
                          pactcl_device_id(dev), name, row, k, got[row * 10 + k], want[k]);
    }
    pactcl_graph_release(&g);
}

START_TEST(logits_match_torchvision)
{
    open_context();
    for (int d = 0; d < pactcl_context_device_count(ctx); d++) {
        pactcl_device *dev = pactcl_context_device(ctx, d);
        check_logits_on(dev, PACTCL_MNV3_SMALL);
        check_logits_on(dev, PACTCL_MNV3_LARGE);
    }
    close_context();
}
END_TEST

/* Paddle's set_state_dict: a missing key is skipped, a wrong shape is an
 * error, except the classifier output when fine-tuning to other classes. */
START_TEST(load_rules)
{
    open_context();
    struct pactcl_graph g, other;
    build(&g, device("cpu"), PACTCL_MNV3_SMALL, 10, 64, 0, 0);
    build(&other, device("cpu"), PACTCL_MNV3_SMALL, 7, 64, 0, 0);
    struct pactcl_state_dict *sd = NULL;
    ck_assert_int_eq(pactcl_checkpoint_params_to_dict(&other, &sd), PACTCL_OK);
    ck_assert_int_eq(pactcl_state_dict_remove(sd, "features.0.0.weight"), PACTCL_OK);
    struct pactcl_load_report r;
    ck_assert_int_eq(pactcl_checkpoint_load_params(&g, sd, "f.pdparams", 0, &r), PACTCL_ESHAPE);
    ck_assert_msg(strstr(pactcl_last_error(), "classifier.3.weight") &&
                      strstr(pactcl_last_error(), "[1024, 7]"),
                  "%s", pactcl_last_error());
    ck_assert_int_eq(pactcl_checkpoint_load_params(&g, sd, "f.pdparams", 1, &r), PACTCL_OK);
    ck_assert_int_eq(r.missing, 1);
    ck_assert_int_eq(r.skipped_shape, 2);
    ck_assert_int_eq(r.loaded, g.n_params - 3);
    /* The name table paddle.save writes. */
    const struct pactcl_sd_entry *names = pactcl_state_dict_find(sd, PACTCL_SD_NAME_TABLE_KEY);
    ck_assert(names && names->value.type == PACTCL_SD_DICT);
    const struct pactcl_sd_entry *e = pactcl_state_dict_find(names->value.u.dict, "classifier.3.weight");
    ck_assert(e && e->value.type == PACTCL_SD_STR);
    ck_assert_str_eq(e->value.u.str, "linear_1.w_0");
    pactcl_state_dict_free(sd);
    pactcl_graph_release(&g);
    pactcl_graph_release(&other);
    close_context();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("mobilenetv3");
    tcase_add_test(tc, param_counts_fp32);
    tcase_add_test(tc, qat_layers_and_keys);
    tcase_add_test(tc, initial_values);
    tcase_add_test(tc, shared_gradient_storage);
    tcase_add_test(tc, inference_activations_share_storage);
    tcase_add_test(tc, logits_match_torchvision);
    tcase_add_test(tc, load_rules);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
