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

/*
 * Makes `value`, a scalar of the model's graph, its loss: what backward starts from and the "loss" output (the
 * distillation hook adds its term this way). Errors: SSCMA_ERR_INVALID_ARGUMENT (not a scalar of the graph).
 */
sscma_status sscma_model_set_loss(sscma_model *model, int32_t value);

/* Removes what was added to the graph after it had `n_values` values and `n_nodes` nodes (sscma_graph_truncate),
 * with the tensor views of those values; the loss and outputs must no longer name them. */
void sscma_model_truncate_graph(sscma_model *model, int32_t n_values, int32_t n_nodes);

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

/*
 * ---- pretrained weights by name (lib/graph/load.c): mmengine's load_state_dict with strict=False ----
 *
 * A source (a checkpoint, an ONNX file's initializers) lists its tensors: the key, the shape in libsscma's layout
 * (4-D: OHWI) and whether it is float32; `read` copies tensor `index` into a parameter's storage (float32, that
 * layout, `bytes` long), with the file named in any error.
 */
typedef struct sscma_state_entry {
    const char *name;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    bool f32;
} sscma_state_entry;
typedef sscma_status (*sscma_state_read_fn)(void *source, int32_t index, float *dst, size_t bytes);

/*
 * Loads a state dict into the parameters and buffers whose names start with `module` ("" = the whole model;
 * "backbone." = the backbone, whose keys are then relative to it), as mmengine does: a leading "module." is removed
 * from every key; with a `prefix` (NULL or "" = none; a '.' is appended when missing) only keys starting with it are
 * kept, stripped of it; num_batches_tracked keys are ignored. Keys in both with the same shape are copied; the rest
 * is reported in mmengine's words ("The model and loaded state dict do not match exactly", "size mismatch for K:
 * copying a param with shape torch.Size([..]) from checkpoint, the shape in current model is torch.Size([..]).",
 * "unexpected key in source state_dict: ..", "missing keys in source state_dict: .."; 4-D shapes in PyTorch's OIHW
 * order), logged as a warning through ctx's log and, when `report` is not NULL, stored in *report (sscma_malloc'd,
 * free with sscma_mfree; NULL when everything matched). *loaded (may be NULL) receives the count of tensors copied.
 * Errors: SSCMA_ERR_NOT_FOUND when no key starts with the prefix ("<file>: prefix 'p.' is not in the pretrained
 * model"), `read`'s errors, SSCMA_ERR_OUT_OF_MEMORY. Tensors copied before an error stay copied.
 */
sscma_status sscma_model_load_state(sscma_model *model, const char *file, const sscma_state_entry *entries,
                                    int32_t count, sscma_state_read_fn read, void *source, const char *prefix,
                                    const char *module, char **report, int32_t *loaded);

/* sscma_model_load_state from a libsscma checkpoint (its "model/" tensors; a converted PyTorch state dict is one).
 * Errors: the checkpoint reader's (unreadable, malformed: the message names the file), sscma_model_load_state's. */
sscma_status sscma_model_load_pretrained_ckpt(sscma_model *model, const char *path, const char *prefix,
                                              const char *module, char **report, int32_t *loaded);

#endif /* SSCMA_LIB_GRAPH_MODEL_PRIVATE_H */
