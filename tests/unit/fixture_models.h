/*
 * Small models of each family for the quantization and export tests (1-channel input, so that Fashion-MNIST images
 * calibrate them), and a helper that gives their batch norms non-trivial statistics so that folding is exercised.
 */
#ifndef SSCMA_TESTS_FIXTURE_MODELS_H
#define SSCMA_TESTS_FIXTURE_MODELS_H

#include <stdbool.h>
#include <stdint.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

typedef struct fixture_family {
    const char *name;    /* "classifier", "fomo", "pfld" */
    const char *config;  /* model config JSON */
    int32_t size;        /* input height and width */
    const char *output;  /* the model output the deployable output corresponds to */
    int softmax;         /* the deployable output is softmax(output) */
} fixture_family;

extern const fixture_family fixture_families[3];

/* The Fashion-MNIST test images fixture_fashion_loader reads, and whether they are installed. */
#define FIXTURE_FASHION "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
bool fixture_have_fashion(void);

/* A context with 2 threads and seed 7 (what the quantization tests use); NULL on failure. */
sscma_context *fixture_context(void);

/* A deterministic uniform float in [lo, hi) from the state *s. */
float fixture_uniform(uint64_t *s, float lo, float hi);

/*
 * Batch norms get running means in +-0.2, variances in 0.5..2, weights in 0.5..1.5 and biases in +-0.2; the
 * classifier's fc weights are scaled by 30 so that its classes differ.
 */
void fixture_randomize(sscma_model *m);

/*
 * A small model built layer by layer with the activations no family uses yet (32x32 gray input: conv, batch norm,
 * sigmoid, conv, batch norm, hardswish, global pool, fc): the int8 LOGISTIC and HARD_SWISH kernels' fixture.
 */
sscma_status fixture_acts_model(sscma_context *ctx, sscma_model **out);

/*
 * Writes an MNIST-format split into dir: <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte, n images of
 * side x side (side <= 64) in four classes, a bright 5x5 block in one quadrant on noise. false when a file cannot
 * be written.
 */
bool fixture_quadrant_split(const char *dir, const char *prefix, int n, int side, uint32_t seed);

/* A Fashion-MNIST loader (test split, the first n images, batch `batch`) resized to size x size, normalised. */
sscma_status fixture_fashion_loader(sscma_context *ctx, int32_t size, int64_t n, int64_t batch, sscma_dataset **ds,
                                    sscma_loader **loader);

/* A model with randomized batch norms, its Fashion-MNIST loader and its int8 form (PTQ, default options). */
typedef struct fixture_quantized {
    sscma_model *model;
    sscma_dataset *dataset;
    sscma_loader *loader;
    sscma_qmodel *q;
} fixture_quantized;

/*
 * Builds a fixture_quantized from a model config (NULL: fixture_acts_model) at `size` x `size`, calibrated on the
 * first n test images in batches of `batch`. On failure everything made so far is released.
 */
sscma_status fixture_quantize(sscma_context *ctx, const char *config, int32_t size, int64_t n, int64_t batch,
                              fixture_quantized *out);
/* Releases what fixture_quantize made (NULL members are skipped). */
void fixture_release(fixture_quantized *f);

#endif /* SSCMA_TESTS_FIXTURE_MODELS_H */
