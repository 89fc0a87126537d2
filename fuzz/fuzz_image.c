/*
 * fuzz_image.c: libFuzzer target for the image decoders (core/data/jpeg.c and
 * png.c through pactcl_image_decode) and the transforms every decoded image
 * goes through in the data loader (core/data/transforms.c, resize.c).
 *
 * Any bytes must either decode into width*height*3 bytes of RGB or be refused
 * with a status and a message; the output of a refusal is zeroed.  The pixel
 * limit is far below the library default so that a bomb-shaped header costs
 * the fuzzer milliseconds; the refusal path for the default limit is the same
 * code (pactcl__image_check_size).
 *
 * Seeds: fuzz/corpus/fuzz_image (the test fixtures of tests/fixtures/images,
 * good and broken, JPEG and PNG).
 */
#include "config.h"

#include "fuzz_util.h"

#include "data/image.h"
#include "data/transforms.h"

#define FUZZ_MAX_PIXELS ((uint64_t)1 << 18)
#define FUZZ_CROP 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pactcl_image img;
    int rc = pactcl_image_decode(data, size, "fuzz-input", FUZZ_MAX_PIXELS, &img);
    fuzz_explain(rc);
    if (rc != PACTCL_OK) {
        FUZZ_CHECK(rc == PACTCL_EFORMAT || rc == PACTCL_ENOMEM);
        FUZZ_CHECK(img.data == NULL && img.width == 0 && img.height == 0);
        FUZZ_CHECK(pactcl_last_error()[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(img.width > 0 && img.height > 0 && img.data != NULL);
    FUZZ_CHECK((uint64_t)img.width * (uint64_t)img.height <= FUZZ_MAX_PIXELS);
    /* Touch the first and last byte: ASan reports a buffer shorter than the
     * size the decoder claims. */
    size_t n = (size_t)img.width * (size_t)img.height * 3;
    volatile uint8_t sink = (uint8_t)(img.data[0] ^ img.data[n - 1]);
    (void)sink;

    /* What the loader does next with a decoded image, on odd shapes (1xN,
     * Nx1, tiny) that real datasets rarely hold. */
    struct pactcl_transform_config cfg;
    pactcl_transform_config_default(&cfg);
    cfg.crop_size = FUZZ_CROP;
    cfg.resize_size = FUZZ_CROP + 2;
    uint8_t out[FUZZ_CROP * FUZZ_CROP * 3];
    FUZZ_CHECK(pactcl_transform_eval(&img, &cfg, out) == PACTCL_OK);
    FUZZ_CHECK(pactcl_transform_train(&img, &cfg, 1, 0, size, out) == PACTCL_OK);
    pactcl_image_free(&img);
    return 0;
}
