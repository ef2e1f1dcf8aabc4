/*
 * AccelerometerClassifier (SSCMA's sscma.AccelerometerClassifier) = AxesNet backbone + AxesClsHead, with the
 * cross-entropy loss on the "target" labels in training.
 *
 * AxesNet(num_axes, window_size, num_classes): the window flattened axis-major (SSCMA's SensorDataset flatten:
 * num_axes * window_size features), backbone.fc1 to (num_axes * window_size / 1024 + 1) * 256 features (SSCMA's
 * liner_feature_fit), ReLU, backbone.classifier to num_classes. SSCMA also creates backbone.fc2 (features to
 * features) but never calls it in forward; libsscma leaves it out (it would only be trained by weight decay).
 * AxesClsHead has no layer: it passes the backbone's output on as the logits (mmcls ClsHead's pre_logits), and
 * carries the loss (CrossEntropyLoss) and topk. Weights start as PyTorch's nn.Linear default,
 * U(-1/sqrt(in), 1/sqrt(in)) for weights and biases, since SSCMA sets no init_cfg on these layers.
 * Inputs: image [N, 1, 1, num_axes * window_size] (f32, the loader's batch of a flattened SensorDataset), target [N]
 * (i32). Outputs: logits [N, num_classes], loss []. Deployed, softmax turns the logits into "probs" (SSCMA's
 * forward in tensor mode does the same for more than two classes; for two it takes a sigmoid).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "zoo/zoo.h"

typedef struct axes_model_cfg {
    int dummy;
} axes_model_cfg;

static const sscma_field model_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("neck"),
    SSCMA_FIELD_KEY("head"),
    SSCMA_FIELD_KEY("pretrained"),
    SSCMA_FIELD_KEY("train_cfg"),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct axesnet_cfg {
    int64_t num_axes, window_size, num_classes;
} axesnet_cfg;

static const sscma_field axesnet_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(axesnet_cfg, num_axes, 3, 1, 64),
    SSCMA_FIELD_RANGE(axesnet_cfg, window_size, 80, 1, 1 << 16),
    /* SSCMA's default -1 (no classifier) leaves AxesClsHead nothing to classify with: required here */
    SSCMA_FIELD_AS("num_classes", axesnet_cfg, num_classes, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

static const sscma_field head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("loss"),
    SSCMA_FIELD_KEY("topk"),
    SSCMA_FIELD_KEY("cal_acc"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"AxesNet", NULL};
static const char *const head_types[] = {"AxesClsHead", NULL};

/* nn.Linear's default init for the layer that made value y: U(-1/sqrt(in), 1/sqrt(in)) on weight and bias. */
static void torch_linear_init(zoo *z, int32_t y)
{
    if (z->st != SSCMA_OK || y < 0)
        return;
    const sscma_node *nd = &z->g->nodes[z->g->n_nodes - 1];
    const float bound = (float)(1.0 / sqrt((double)zoo_desc(z, nd->in[1])->dims[1]));
    for (int32_t k = 1; k < nd->n_in; k++) {
        z->g->values[nd->in[k]].init = SSCMA_INIT_UNIFORM;
        z->g->values[nd->in[k]].init_scale = bound;
    }
}

sscma_status zoo_build_accelerometer_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    axes_model_cfg m;
    axesnet_cfg b;
    int which = 0;
    if (!zoo_read(z, model_fields, cfg, "AccelerometerClassifier", "model", &m))
        return z->st;
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &which);
    if (!zoo_read(z, axesnet_fields, backbone, "AxesNet", "model.backbone", &b) ||
        !zoo_read(z, head_fields, head, "AxesClsHead", "model.head", &which))
        return z->st;
    json_t *neck = json_object_get(cfg, "neck");
    if (neck != NULL && !json_is_null(neck))
        return zoo_expected(z, "AccelerometerClassifier", "model", "neck", "null (AxesNet feeds the head directly)",
                            neck);
    const int64_t features = b.num_axes * b.window_size, hidden = (features / 1024 + 1) * 256;

    const int64_t input_dims[4] = {1, 1, 1, features};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, input_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    sscma_reshape_attrs flat = {2, {-1, features}};
    int32_t x = zoo_op(z, "backbone.flatten", "reshape", &flat, &io->image, 1);
    x = zoo_linear(z, "backbone.fc1", x, hidden);
    torch_linear_init(z, x);
    const sscma_act_attrs none = {0.0f};
    x = zoo_op(z, "backbone.relu", "relu", &none, &x, 1);
    int32_t logits = zoo_linear(z, "backbone.classifier", x, b.num_classes);
    torch_linear_init(z, logits);

    /* AxesClsHead: the logits as they come, and the loss */
    return zoo_class_loss(z, head, io, logits);
}
