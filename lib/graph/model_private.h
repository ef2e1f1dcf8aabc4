/*
 * Private access to a model's graph, outputs and state, for the modules above graph/ that build a model (the
 * families in lib/zoo/), read it as a whole (the lowering in lib/quant/) or save and restore it (the trainer in
 * lib/train/). Not installed.
 */
#ifndef SSCMA_LIB_GRAPH_MODEL_PRIVATE_H
#define SSCMA_LIB_GRAPH_MODEL_PRIVATE_H

#include <jansson.h>

#include "graph/graph.h"
#include "sscma/model.h"

/* The model's input/output table: what whoever built the graph (a zoo family, the layer-by-layer builder) reports. */
typedef struct sscma_model_io_table {
    int32_t image;  /* input "image" */
    int32_t target; /* input "target", -1 if none */
    int32_t outputs[8];
    const char *output_names[8];
    int32_t n_outputs;
    int32_t loss;   /* the scalar loss, -1 if none */
    char family[64];
} sscma_model_io_table;

/*
 * Makes a model of `graph` with its table `io` (copied) and the config it was built from (NULL for none); the model
 * owns `graph` and `config` from here on, also when this fails. Marks the outputs and initialises the parameters.
 */
sscma_status sscma_model_from_graph(sscma_context *ctx, sscma_graph *graph, const sscma_model_io_table *io,
                                    json_t *config, sscma_model **out);

/* SSCMA_OK when the model has a loss to train; else SSCMA_ERR_UNSUPPORTED ("this model has no loss"), for the trainer
 * and the runner to refuse before they build anything. */
sscma_status sscma_model_require_loss(const sscma_model *model);

/* The model's graph and its input/output table (both borrowed). */
sscma_graph *sscma_model_graph(const sscma_model *model);
const sscma_model_io_table *sscma_model_io(const sscma_model *model);

/*
 * Swaps in `graph` (owned by the model from here on) for the model's graph: map[old value] is the new value id
 * (-1 = gone) of the inputs, outputs and loss. Every tensor view is dropped; parameter indices change.
 */
sscma_status sscma_model_replace_graph(sscma_model *model, sscma_graph *graph, const int32_t *map);

/* The model's context, its config (borrowed, NULL for a model built layer by layer) and its dropout stream state. */
sscma_context *sscma_model_context(const sscma_model *model);
json_t *sscma_model_config_json(const sscma_model *model);
uint64_t *sscma_model_rng_state(sscma_model *model);
const char *sscma_model_family(const sscma_model *model);
/* The batch size (0: not prepared) and mode the model is prepared for now: whoever prepared it last. */
void sscma_model_prepared_as(const sscma_model *model, int64_t *batch, int *training);

/*
 * SSCMA's in-graph box decode of a YOLOv5-style head (ModelAssistant 2.0.0, DetHead.forward_single + process): the
 * lowering to a deployable model (lib/quant/lower.c) appends it after the raw head maps, so that the exported file
 * ends in one output [1, N, 5 + C] (x, y, w, h in input pixels, objectness and class scores times 100; rows by level,
 * then anchor, then cell y * W + x). A family sets it when it builds the graph (sscma_model_set_yolo_decode).
 */
#define SSCMA_YOLO_MAX_LEVELS 4
#define SSCMA_YOLO_MAX_ANCHORS 3
#define SSCMA_YOLO_OUTPUT_NAME "output"  /* the deployable model's one output, as in SSCMA's exported files */
typedef struct sscma_yolo_decode {
    int32_t num_classes, num_levels, num_anchors;
    int32_t strides[SSCMA_YOLO_MAX_LEVELS];                          /* pixels per map cell, per level */
    float anchors[SSCMA_YOLO_MAX_LEVELS][SSCMA_YOLO_MAX_ANCHORS][2]; /* (w, h) in input pixels */
    /* graph values of the raw maps: NHWC [B, H, W, A * (5 + C)], channel a * (5 + C) + k (pre-sigmoid) */
    int32_t head_values[SSCMA_YOLO_MAX_LEVELS];
} sscma_yolo_decode;

/*
 * Sets (copies) the model's decode description, checked against its graph; NULL removes it. Errors:
 * SSCMA_ERR_INVALID_ARGUMENT (counts out of range, a stride or anchor not positive, a head value that is not a rank-4
 * map of A * (5 + C) channels).
 */
sscma_status sscma_model_set_yolo_decode(sscma_model *model, const sscma_yolo_decode *decode);
/* The model's decode description (borrowed), NULL when it has none. */
const sscma_yolo_decode *sscma_model_yolo_decode(const sscma_model *model);

#endif /* SSCMA_LIB_GRAPH_MODEL_PRIVATE_H */
