/*
 * A small YOLO-style detector built layer by layer, with SSCMA's box decode set (the internal
 * sscma_model_set_yolo_decode), for the decode tests (tests/unit/test_yolo_decode.c, tests/export/yolo_fixture.c):
 * a 64x64 gray image, average pooling to stride 8, a 3x3 conv with ReLU, max pooling to strides 16 and 32, and a 1x1
 * prediction conv per level making [1, H, W, 3 * (5 + 2)] maps; SSCMA's default anchors (pixels). Links lib/'s
 * internal headers. The same model, written in PyTorch, is tests/golden/gen_yolo_decode.py's.
 */
#ifndef SSCMA_TESTS_FIXTURE_YOLO_H
#define SSCMA_TESTS_FIXTURE_YOLO_H

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#define FIXTURE_YOLO_SIZE 64
#define FIXTURE_YOLO_CLASSES 2
#define FIXTURE_YOLO_ROWS (3 * (8 * 8 + 4 * 4 + 2 * 2))

/* The model (parameters from the initializers: callers overwrite them). */
sscma_status fixture_yolo_model(sscma_context *ctx, sscma_model **out);

#endif /* SSCMA_TESTS_FIXTURE_YOLO_H */
