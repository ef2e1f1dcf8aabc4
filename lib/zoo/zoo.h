/*
 * Model families (SSCMA registry names) built into a graph, and the helpers they share: config keys with checked
 * types and defaults, and layer builders that add named parameters (PyTorch dotted names) and nodes.
 */
#ifndef SSCMA_LIB_ZOO_ZOO_H
#define SSCMA_LIB_ZOO_ZOO_H

#include <jansson.h>

#include "graph/graph.h"
#include "graph/model_private.h"

/* A builder: the graph and a name prefix; the first failure sticks in `st` and later calls do nothing. */
typedef struct zoo {
    sscma_graph *g;
    sscma_status st;
    char where[160]; /* config path for messages: "model.backbone" */
} zoo;

/* Builds the model described by `config` (a JSON object with "type"). */
sscma_status sscma_zoo_build(sscma_graph *g, json_t *config, sscma_model_io_table *io);

/* ---- config helpers: return false (and set z->st) on a wrong type or value; missing keys take the default ---- */
bool zoo_check_keys(zoo *z, json_t *obj, const char *type, const char *const *valid);
bool zoo_int(zoo *z, json_t *obj, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out);
bool zoo_float(zoo *z, json_t *obj, const char *key, double def, double lo, double hi, double *out);
/* Reads an integer list (or a single integer) into out[0..*n), at most cap entries; absent: keeps *n as given. */
bool zoo_int_list(zoo *z, json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out, int32_t cap, int32_t *n);
json_t *zoo_object(zoo *z, json_t *obj, const char *key); /* NULL if absent; a non-object fails */

/* ---- layers: each returns the output value id, or -1 after a failure (z->st set) ---- */
int32_t zoo_conv(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                 bool bias);
/* batch norm (+ activation fused when act != NONE): params name.weight/bias, buffers running_mean/var */
int32_t zoo_bn(zoo *z, const char *name, int32_t x, sscma_act_kind act);
int32_t zoo_linear(zoo *z, const char *name, int32_t x, int64_t out_features);
int32_t zoo_op(zoo *z, const char *name, const char *op, const void *attrs, const int32_t *inputs, int32_t n);

/* Shape of a value. */
static inline const sscma_desc *zoo_desc(zoo *z, int32_t v)
{
    return &z->g->values[v].desc;
}

/* An inverted residual block (expand 1x1, depthwise 3x3, project 1x1; residual when shapes allow) named torchvision's
 * way (conv.j.0 / conv.j.1) or SSCMA's (conv.j.conv / conv.j.norm). */
int32_t zoo_inverted_residual(zoo *z, const char *block, int32_t x, int64_t cout, int stride, int t, bool sscma_names);

/* torchvision's _make_divisible */
int64_t zoo_make_divisible(double v, int64_t divisor);

/* Families */
sscma_status zoo_build_mobilenetv2(zoo *z, json_t *cfg, const char *prefix, int32_t x, int32_t *outs,
                                   int32_t *n_outs);
sscma_status zoo_build_image_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io);
sscma_status zoo_build_fomo(zoo *z, json_t *cfg, sscma_model_io_table *io);
sscma_status zoo_build_pfld(zoo *z, json_t *cfg, sscma_model_io_table *io);

#endif /* SSCMA_LIB_ZOO_ZOO_H */
