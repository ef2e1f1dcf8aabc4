/*
 * Private access to a model's graph and outputs, for the modules that read a model as a whole (the lowering to a
 * deployable model in lib/quant/). Not installed.
 */
#ifndef SSCMA_LIB_GRAPH_MODEL_PRIVATE_H
#define SSCMA_LIB_GRAPH_MODEL_PRIVATE_H

#include "graph/graph.h"
#include "zoo/zoo.h"

/* The model's graph and its input/output table (both borrowed). */
sscma_graph *sscma_model_graph(const sscma_model *model);
const zoo_io *sscma_model_io(const sscma_model *model);

/*
 * Swaps in `graph` (owned by the model from here on) for the model's graph: map[old value] is the new value id
 * (-1 = gone) of the inputs, outputs and loss. Every tensor view is dropped; parameter indices change.
 */
sscma_status sscma_model_replace_graph(sscma_model *model, sscma_graph *graph, const int32_t *map);

#endif /* SSCMA_LIB_GRAPH_MODEL_PRIVATE_H */
