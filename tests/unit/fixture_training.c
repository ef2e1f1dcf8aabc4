/* What the model and checkpoint tests share (fixture_training.h). */
#include <math.h>

#include "fixture_training.h"
#include "harness.h"

const char *const fixture_mobilenetv2_96 =
    "{\"type\": \"ImageClassifier\", \"input_size\": [96, 96],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35},"
    " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";

const char *const fixture_small_classifier =
    "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4, \"loss\": {\"type\": \"CrossEntropyLoss\","
    " \"label_smoothing\": 0.1}}}";

void fixture_fill_batch(sscma_model *m, int64_t n, int32_t classes, unsigned seed)
{
    sscma_tensor *image = NULL, *target = NULL;
    void *data = NULL;
    int64_t numel = 0;
    CHECK_OK(sscma_model_input(m, "image", &image));
    CHECK_OK(sscma_tensor_numel(image, &numel));
    CHECK_OK(sscma_tensor_data(image, &data));
    for (int64_t i = 0; i < numel; i++)
        ((float *)data)[i] = (float)sin(0.01 * (double)(i + seed)) * 2.0f;
    CHECK_OK(sscma_model_input(m, "target", &target));
    CHECK_OK(sscma_tensor_data(target, &data));
    for (int64_t i = 0; i < n; i++)
        ((int32_t *)data)[i] = (int32_t)((i + seed) % (unsigned)classes);
}

float fixture_read_loss(sscma_model *m)
{
    sscma_tensor *loss = NULL;
    void *data = NULL;
    if (sscma_model_output(m, "loss", &loss) != SSCMA_OK || sscma_tensor_data(loss, &data) != SSCMA_OK)
        return NAN;
    return *(float *)data;
}

void fixture_sgd_steps(sscma_model *m, int steps, float lr, float *first, float *last)
{
    int32_t count = 0;
    CHECK_OK(sscma_model_param_count(m, &count));
    for (int step = 0; step < steps; step++) {
        CHECK_OK(sscma_model_zero_grad(m));
        CHECK_OK(sscma_model_forward(m));
        *last = fixture_read_loss(m);
        if (step == 0)
            *first = *last;
        CHECK_OK(sscma_model_backward(m));
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *v = NULL, *g = NULL;
            CHECK_OK(sscma_model_param(m, i, NULL, NULL, &v, &g));
            if (g == NULL)
                continue;
            void *vd = NULL, *gd = NULL;
            int64_t n = 0;
            sscma_tensor_data(v, &vd), sscma_tensor_data(g, &gd), sscma_tensor_numel(v, &n);
            for (int64_t k = 0; k < n; k++)
                ((float *)vd)[k] -= lr * ((float *)gd)[k];
        }
    }
}
