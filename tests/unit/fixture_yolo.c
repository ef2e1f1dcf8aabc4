/* The small YOLO-style detector of fixture_yolo.h. */
#include <stdio.h>

#include "fixture_yolo.h"
#include "graph/model_private.h"

sscma_status fixture_yolo_model(sscma_context *ctx, sscma_model **out)
{
    enum { A = 3, K = 5 + FIXTURE_YOLO_CLASSES, F = 8 };
    sscma_model *m = NULL;
    sscma_status st = sscma_model_create_empty(ctx, &m);
    const int64_t image[4] = {1, FIXTURE_YOLO_SIZE, FIXTURE_YOLO_SIZE, 1}, stem[4] = {F, 3, 3, 1}, stem_b[1] = {F},
                  head[4] = {A * K, 1, 1, F}, head_b[1] = {A * K};
    if (st == SSCMA_OK)
        st = sscma_model_add_input(m, "image", SSCMA_DTYPE_F32, 4, image, 0);
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "stem.weight", 4, stem, SSCMA_PARAM_TRAINABLE, "kaiming_normal");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "stem.bias", 1, stem_b, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros");
    for (int l = 0; l < 3 && st == SSCMA_OK; l++) {
        char name[64];
        snprintf(name, sizeof name, "head.%d.weight", l);
        st = sscma_model_add_param(m, name, 4, head, SSCMA_PARAM_TRAINABLE, "kaiming_normal");
        snprintf(name, sizeof name, "head.%d.bias", l);
        if (st == SSCMA_OK)
            st = sscma_model_add_param(m, name, 1, head_b, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros");
    }
    struct {
        const char *name, *op, *attrs;
        const char *in[3];
        int n;
    } layers[] = {
        {"pool8", "avg_pool", "{\"kernel_h\": 8, \"kernel_w\": 8, \"stride_h\": 8, \"stride_w\": 8}", {"image"}, 1},
        {"stem", "conv2d", "{\"pad_top\": 1, \"pad_left\": 1, \"pad_bottom\": 1, \"pad_right\": 1}",
         {"pool8", "stem.weight", "stem.bias"}, 3},
        {"stem_relu", "relu", NULL, {"stem"}, 1},
        {"pool16", "max_pool", "{\"kernel_h\": 2, \"kernel_w\": 2, \"stride_h\": 2, \"stride_w\": 2}", {"stem_relu"}, 1},
        {"pool32", "max_pool", "{\"kernel_h\": 2, \"kernel_w\": 2, \"stride_h\": 2, \"stride_w\": 2}", {"pool16"}, 1},
        {"head.0", "conv2d", NULL, {"stem_relu", "head.0.weight", "head.0.bias"}, 3},
        {"head.1", "conv2d", NULL, {"pool16", "head.1.weight", "head.1.bias"}, 3},
        {"head.2", "conv2d", NULL, {"pool32", "head.2.weight", "head.2.bias"}, 3},
    };
    for (size_t k = 0; k < sizeof layers / sizeof layers[0] && st == SSCMA_OK; k++)
        st = sscma_model_add_layer(m, layers[k].name, layers[k].op, layers[k].attrs, layers[k].in, layers[k].n);
    for (int l = 0; l < 3 && st == SSCMA_OK; l++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", l + 3);
        st = sscma_model_add_output(m, name, l == 0 ? "head.0" : l == 1 ? "head.1" : "head.2", 0);
    }
    if (st == SSCMA_OK) {
        /* SSCMA's anchors (configs/swift_yolo, DetHead's defaults), in input pixels */
        sscma_yolo_decode d = {.num_classes = FIXTURE_YOLO_CLASSES, .num_levels = 3, .num_anchors = A,
                               .strides = {8, 16, 32},
                               .anchors = {{{10, 13}, {16, 30}, {33, 23}},
                                           {{30, 61}, {62, 45}, {59, 119}},
                                           {{116, 90}, {156, 198}, {373, 326}}}};
        const sscma_graph *g = sscma_model_graph(m);
        d.head_values[0] = sscma_graph_find(g, "head.0");
        d.head_values[1] = sscma_graph_find(g, "head.1");
        d.head_values[2] = sscma_graph_find(g, "head.2");
        st = sscma_model_set_yolo_decode(m, &d);
    }
    if (st != SSCMA_OK) {
        sscma_model_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}
