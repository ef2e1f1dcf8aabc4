/*
 * What the model and checkpoint tests share: a small classifier, a deterministic batch, the loss, and plain SGD steps
 * over one batch. Public API only.
 */
#ifndef SSCMA_TESTS_FIXTURE_TRAINING_H
#define SSCMA_TESTS_FIXTURE_TRAINING_H

#include <stdint.h>

#include <sscma/sscma.h>

/* MobileNetV2 x0.35 on 96x96 RGB images, 10 classes, with a global pooling neck (torchvision's counts). */
extern const char *const fixture_mobilenetv2_96;

/* MobileNetV2 x0.35 on 32x32 gray images, 4 classes, label-smoothed cross entropy. */
extern const char *const fixture_small_classifier;

/* Fills the "image" input with a sine pattern and the "target" input of n samples with (i + seed) % classes. */
void fixture_fill_batch(sscma_model *m, int64_t n, int32_t classes, unsigned seed);

/* The "loss" output after a forward (NAN when there is none). */
float fixture_read_loss(sscma_model *m);

/*
 * `steps` steps of plain SGD (w -= lr * grad) on the batch the model holds; the loss of the first step and of the
 * last one come back through first and last. A failing call fails the current case.
 */
void fixture_sgd_steps(sscma_model *m, int steps, float lr, float *first, float *last);

#endif /* SSCMA_TESTS_FIXTURE_TRAINING_H */
