/* The public model API (<sscma/model.h>) over the graph; sscma_model_create, which needs the families, is in
 * lib/zoo/builder.c. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/model_private.h"
#include "io/checkpoint.h"
#include "sscma/experimental.h"

struct sscma_model {
    sscma_context *ctx;
    sscma_graph *g;
    sscma_model_io_table io;
    /* views: one per value (inputs, outputs, params), created lazily, rewrapped after prepare */
    sscma_tensor **views, **grad_views;
    int32_t n_views;
    int32_t *params; /* value ids of parameters and buffers, in creation order */
    int32_t n_params;
    json_t *config;  /* the config it was built from (NULL for a model built layer by layer) */
    char output_names[8][64]; /* names of outputs added with sscma_model_add_output */
    bool has_yolo;            /* yolo: the deployment decode (sscma_model_set_yolo_decode) */
    sscma_yolo_decode yolo;
};

/* Grows the view and parameter tables to the graph's value count and lists the parameters again. */
static sscma_status sync_tables(sscma_model *m)
{
    if (m->g->n_values > m->n_views) {
        int32_t n = m->g->n_values + 32;
        sscma_tensor **views = sscma_alloc_zeroed(m->ctx, (size_t)n * sizeof *views, _Alignof(sscma_tensor *));
        sscma_tensor **grads = sscma_alloc_zeroed(m->ctx, (size_t)n * sizeof *grads, _Alignof(sscma_tensor *));
        int32_t *params = sscma_alloc(m->ctx, (size_t)n * sizeof *params, _Alignof(int32_t));
        if (views == NULL || grads == NULL || params == NULL) {
            sscma_free(m->ctx, views, (size_t)n * sizeof *views);
            sscma_free(m->ctx, grads, (size_t)n * sizeof *grads);
            sscma_free(m->ctx, params, (size_t)n * sizeof *params);
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "model", "cannot grow the model's tables");
        }
        if (m->n_views > 0) {
            memcpy(views, m->views, (size_t)m->n_views * sizeof *views);
            memcpy(grads, m->grad_views, (size_t)m->n_views * sizeof *grads);
        }
        sscma_free(m->ctx, m->views, (size_t)m->n_views * sizeof *m->views);
        sscma_free(m->ctx, m->grad_views, (size_t)m->n_views * sizeof *m->grad_views);
        sscma_free(m->ctx, m->params, (size_t)m->n_views * sizeof *m->params);
        m->views = views, m->grad_views = grads, m->params = params, m->n_views = n;
    }
    m->n_params = 0;
    for (int32_t i = 0; i < m->g->n_values; i++)
        if (m->g->values[i].kind == SSCMA_VALUE_PARAM || m->g->values[i].kind == SSCMA_VALUE_BUFFER)
            m->params[m->n_params++] = i;
    return SSCMA_OK;
}

sscma_status sscma_model_from_graph(sscma_context *ctx, sscma_graph *graph, const sscma_model_io_table *io,
                                    json_t *config, sscma_model **out)
{
    sscma_model *m = sscma_alloc_zeroed(ctx, sizeof *m, _Alignof(sscma_model));
    if (m == NULL) {
        sscma_graph_destroy(graph);
        json_decref(config);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "model", "cannot allocate a model");
    }
    m->ctx = ctx;
    sscma_context_retain(ctx);
    m->g = graph;
    m->io = *io;
    m->config = config;
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; st == SSCMA_OK && i < m->io.n_outputs; i++)
        st = sscma_graph_mark_output(m->g, m->io.outputs[i]);
    if (st == SSCMA_OK)
        st = sync_tables(m);
    if (st != SSCMA_OK) {
        sscma_model_destroy(m);
        return st;
    }
    sscma_graph_init_params(m->g);
    *out = m;
    return SSCMA_OK;
}

static void drop_views(sscma_model *m, bool params_too)
{
    /*
     * n_views is the tables' capacity, which can exceed the graph's value count (and its storage) after a rewrite
     * replaced the graph; views exist only for values of the current graph.
     */
    int32_t n = m->n_views < m->g->n_values ? m->n_views : m->g->n_values;
    for (int32_t i = 0; i < n; i++) {
        sscma_value_kind k = m->g->values[i].kind;
        if (!params_too && (k == SSCMA_VALUE_PARAM || k == SSCMA_VALUE_BUFFER))
            continue;
        sscma_tensor_destroy(m->views[i]);
        sscma_tensor_destroy(m->grad_views[i]);
        m->views[i] = m->grad_views[i] = NULL;
    }
}

void sscma_model_destroy(sscma_model *model)
{
    if (model == NULL)
        return;
    const sscma_context *ctx = model->ctx;
    if (model->views != NULL)
        drop_views(model, true);
    sscma_free(ctx, model->views, (size_t)model->n_views * sizeof *model->views);
    sscma_free(ctx, model->grad_views, (size_t)model->n_views * sizeof *model->views);
    sscma_free(ctx, model->params, (size_t)model->n_views * sizeof *model->params);
    sscma_graph_destroy(model->g);
    json_decref(model->config);
    sscma_free(ctx, model, sizeof *model);
    sscma_context_release(ctx);
}

sscma_status sscma_model_prepare(sscma_model *model, int64_t batch_size, int training)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (batch_size < 1)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "batch_size is %lld; expected >= 1", (long long)batch_size);
    drop_views(model, false);
    sscma_status st = sync_tables(model);
    if (st == SSCMA_OK)
        st = sscma_graph_prepare(model->g, batch_size, training != 0);
    if (st != SSCMA_OK) {
        char detail[800];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return SSCMA_FAIL(st, "%s", detail);
    }
    return SSCMA_OK;
}

/* A tensor view of value i (data or gradient), created on first request. */
static sscma_status view_of(sscma_model *m, int32_t i, bool grad, sscma_tensor **out)
{
    sscma_tensor **slot = grad ? &m->grad_views[i] : &m->views[i];
    if (*slot == NULL) {
        sscma_value *v = &m->g->values[i];
        void *data = grad ? (void *)v->grad : v->data;
        if (data == NULL)
            return SSCMA_ERR_NOT_FOUND;
        size_t bytes = 0;
        sscma_dtype_size(v->desc.dtype, &bytes);
        bytes *= (size_t)sscma_desc_numel(&v->desc);
        sscma_status st = sscma_tensor_wrap(m->ctx, v->desc.dtype, v->desc.rank, v->desc.dims, data, bytes, slot);
        if (st != SSCMA_OK)
            return st;
        if (v->desc.rank == 4)
            sscma_tensor_set_layout(*slot, SSCMA_LAYOUT_NHWC);
    }
    *out = *slot;
    return SSCMA_OK;
}

static sscma_status named_view(sscma_model *m, const char *func, const char *name, bool output, sscma_tensor **out)
{
    if (m->g->batch == 0)
        return sscma_fail(SSCMA_ERR_STATE, func, "call sscma_model_prepare() first");
    char list[256] = "";
    size_t n = 0;
    if (output) {
        for (int32_t k = 0; k < m->io.n_outputs; k++) {
            if (strcmp(m->io.output_names[k], name) == 0)
                return view_of(m, m->io.outputs[k], false, out);
            n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", k ? ", " : "",
                                  m->io.output_names[k]);
        }
        return sscma_fail(SSCMA_ERR_NOT_FOUND, func, "no output '%s'; outputs: %s", name, list);
    }
    for (int32_t i = 0; i < m->g->n_values; i++) {
        if (m->g->values[i].kind != SSCMA_VALUE_INPUT)
            continue;
        if (strcmp(m->g->values[i].name, name) == 0)
            return view_of(m, i, false, out);
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", n ? ", " : "",
                              m->g->values[i].name);
    }
    return sscma_fail(SSCMA_ERR_NOT_FOUND, func, "no input '%s'; inputs: %s", name, list);
}

sscma_status sscma_model_input(sscma_model *model, const char *name, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(out);
    return named_view(model, __func__, name, false, out);
}

sscma_status sscma_model_output(sscma_model *model, const char *name, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(out);
    return named_view(model, __func__, name, true, out);
}

sscma_status sscma_model_forward(sscma_model *model)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (model->g->batch == 0)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "call sscma_model_prepare() first");
    unsigned fp = sscma_fp_enter();
    sscma_status st = sscma_graph_forward(model->g);
    sscma_fp_leave(fp);
    if (st != SSCMA_OK) {
        char detail[800];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return SSCMA_FAIL(st, "%s", detail);
    }
    return SSCMA_OK;
}

sscma_status sscma_model_require_loss(const sscma_model *model)
{
    if (model->io.loss >= 0)
        return SSCMA_OK;
    return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "this model has no loss: nothing to train");
}

sscma_status sscma_model_backward(sscma_model *model)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (model->g->batch == 0 || !model->g->training)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model is not prepared for training (sscma_model_prepare(..., 1))");
    if (model->io.loss < 0)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "this model has no loss");
    unsigned fp = sscma_fp_enter();
    sscma_status st = sscma_graph_backward(model->g, model->io.loss);
    sscma_fp_leave(fp);
    return st;
}

sscma_status sscma_model_zero_grad(sscma_model *model)
{
    SSCMA_REQUIRE_NONNULL(model);
    sscma_graph_zero_grad(model->g);
    return SSCMA_OK;
}

sscma_status sscma_model_param_count(const sscma_model *model, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(out);
    *out = model->n_params;
    return SSCMA_OK;
}

sscma_status sscma_model_param(sscma_model *model, int32_t index, const char **name, uint32_t *flags,
                               sscma_tensor **value, sscma_tensor **grad)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (index < 0 || index >= model->n_params)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "index %d is outside 0..%d", (int)index, (int)model->n_params - 1);
    int32_t id = model->params[index];
    sscma_value *v = &model->g->values[id];
    sscma_tensor *tv = NULL, *tg = NULL;
    sscma_status st = SSCMA_OK;
    if (value != NULL)
        st = view_of(model, id, false, &tv);
    if (st == SSCMA_OK && grad != NULL && v->kind == SSCMA_VALUE_PARAM)
        st = view_of(model, id, true, &tg);
    if (st != SSCMA_OK)
        return SSCMA_FAIL(st, "cannot make a view of '%s'", v->name);
    if (name != NULL)
        *name = v->name;
    if (flags != NULL)
        *flags = v->flags;
    if (value != NULL)
        *value = tv;
    if (grad != NULL)
        *grad = tg;
    return SSCMA_OK;
}

sscma_status sscma_model_find_param(const sscma_model *model, const char *name, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(out);
    for (int32_t i = 0; i < model->n_params; i++)
        if (strcmp(model->g->values[model->params[i]].name, name) == 0) {
            *out = i;
            return SSCMA_OK;
        }
    return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "no parameter or buffer named '%s'", name);
}

sscma_status sscma_model_set_frozen(sscma_model *model, const char *prefix, int frozen, int32_t *count)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(prefix);
    int32_t changed = 0;
    size_t len = strlen(prefix);
    for (int32_t i = 0; i < model->n_params; i++) {
        sscma_value *v = &model->g->values[model->params[i]];
        if (v->kind != SSCMA_VALUE_PARAM || strncmp(v->name, prefix, len) != 0)
            continue;
        uint32_t before = v->flags;
        v->flags = frozen ? v->flags & ~SSCMA_PARAM_TRAINABLE : v->flags | SSCMA_PARAM_TRAINABLE;
        changed += v->flags != before;
    }
    if (changed > 0)
        model->g->batch = 0; /* gradients to compute changed: plan again */
    if (count != NULL)
        *count = changed;
    return SSCMA_OK;
}

sscma_status sscma_model_stats(const sscma_model *model, int64_t *params, int64_t *macs)
{
    SSCMA_REQUIRE_NONNULL(model);
    int64_t p = 0;
    for (int32_t i = 0; i < model->n_params; i++) {
        const sscma_value *v = &model->g->values[model->params[i]];
        if (v->kind == SSCMA_VALUE_PARAM)
            p += sscma_desc_numel(&v->desc);
    }
    if (params != NULL)
        *params = p;
    if (macs != NULL) {
        int64_t total = 0;
        for (int32_t n = 0; n < model->g->n_nodes; n++)
            total += (int64_t)sscma_graph_node_macs(model->g, n);
        *macs = total;
    }
    return SSCMA_OK;
}

sscma_status sscma_model_layer_count(const sscma_model *model, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(out);
    *out = model->g->n_nodes;
    return SSCMA_OK;
}

sscma_status sscma_model_layer(const sscma_model *model, int32_t index, const char **name, const char **op,
                               int64_t *macs)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (index < 0 || index >= model->g->n_nodes)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "index %d is outside 0..%d", (int)index,
                          (int)model->g->n_nodes - 1);
    if (name != NULL)
        *name = model->g->nodes[index].name;
    if (op != NULL)
        *op = model->g->nodes[index].def->name;
    if (macs != NULL)
        *macs = (int64_t)sscma_graph_node_macs(model->g, index);
    return SSCMA_OK;
}

/* Checkpoint names of the model's tensors: "model/<dotted name>". */
static void ckpt_name(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "model/%s", name);
}

sscma_status sscma_model_save(const sscma_model *model, const char *path, uint32_t flags)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(path);
    if (flags & ~SSCMA_SAVE_COMPRESS)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "unknown flags 0x%x", (unsigned)flags);
    sscma_ckpt_entry *entries = sscma_alloc(model->ctx, (size_t)(model->n_params + 1) * sizeof *entries, 16);
    char *names = sscma_alloc(model->ctx, (size_t)(model->n_params + 1) * 256, 1);
    if (entries == NULL || names == NULL) {
        sscma_free(model->ctx, entries, (size_t)(model->n_params + 1) * sizeof *entries);
        sscma_free(model->ctx, names, (size_t)(model->n_params + 1) * 256);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list %d tensors", (int)model->n_params);
    }
    for (int32_t i = 0; i < model->n_params; i++) {
        const sscma_value *v = &model->g->values[model->params[i]];
        ckpt_name(names + (size_t)i * 256, 256, v->name);
        entries[i].name = names + (size_t)i * 256;
        entries[i].dtype = v->desc.dtype;
        entries[i].rank = v->desc.rank;
        memcpy(entries[i].dims, v->desc.dims, sizeof entries[i].dims);
        entries[i].data = v->data;
    }
    json_t *state = json_pack("{s:s}", "family", model->io.family);
    sscma_status st = sscma_ckpt_write(model->ctx, path, model->config, state, entries, model->n_params,
                                       (flags & SSCMA_SAVE_COMPRESS) != 0);
    json_decref(state);
    sscma_free(model->ctx, entries, (size_t)(model->n_params + 1) * sizeof *entries);
    sscma_free(model->ctx, names, (size_t)(model->n_params + 1) * 256);
    return st;
}

static const char *family_of(const sscma_ckpt *ck)
{
    const char *family = json_string_value(json_object_get(json_object_get(ck->header, "state"), "family"));
    return family != NULL ? family : "unknown";
}

sscma_status sscma_model_load(sscma_model *model, const char *path)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(path);
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(model->ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    char name[256];
    /* 1. every model tensor present with its shape, and no model tensor the model lacks */
    for (int32_t pass = 0; pass < 2 && st == SSCMA_OK; pass++)
        for (int32_t i = 0; i < model->n_params && st == SSCMA_OK; i++) {
            sscma_value *v = &model->g->values[model->params[i]];
            ckpt_name(name, sizeof name, v->name);
            st = sscma_ckpt_get(&ck, name, v->desc.dtype, v->desc.rank, v->desc.dims, pass == 0 ? NULL : v->data,
                                v->bytes);
            if (st == SSCMA_ERR_NOT_FOUND)
                st = sscma_fail(st, path, "no tensor '%s': the checkpoint is of another model (family %s)", v->name,
                                family_of(&ck));
            if (pass == 0 && st == SSCMA_OK && i == model->n_params - 1) {
                size_t k;
                json_t *item;
                json_array_foreach(ck.tensors, k, item)
                {
                    const char *tn = json_string_value(json_object_get(item, "name"));
                    if (strncmp(tn, "model/", 6) == 0 && sscma_graph_find(model->g, tn + 6) < 0) {
                        st = sscma_fail(SSCMA_ERR_NOT_FOUND, path,
                                        "tensor '%s' belongs to no parameter of this model: the checkpoint is of "
                                        "another model", tn + 6);
                        break;
                    }
                }
            }
        }
    sscma_ckpt_close(&ck);
    return st;
}

/* ---- building layer by layer (experimental.h) ---- */

sscma_status sscma_model_create_empty(sscma_context *ctx, sscma_model **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_model *m = sscma_alloc_zeroed(ctx, sizeof *m, _Alignof(sscma_model));
    if (m == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a model");
    m->ctx = ctx;
    sscma_context_retain(ctx);
    m->io.image = m->io.target = m->io.loss = -1;
    snprintf(m->io.family, sizeof m->io.family, "custom");
    sscma_status st = sscma_graph_create(ctx, &m->g);
    if (st != SSCMA_OK) {
        sscma_model_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}

static sscma_status rethrow(const char *func, sscma_status st)
{
    char detail[800];
    snprintf(detail, sizeof detail, "%s", sscma_last_error());
    return sscma_fail(st, func, "%s", detail);
}

sscma_status sscma_model_add_input(sscma_model *model, const char *name, sscma_dtype dtype, int32_t rank,
                                   const int64_t *dims, uint32_t flags)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(dims);
    if (flags & ~SSCMA_INPUT_TARGET)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "unknown input flags 0x%x", (unsigned)flags);
    size_t esize = 0;
    if (sscma_dtype_size(dtype, &esize) != SSCMA_OK || (dtype != SSCMA_DTYPE_F32 && dtype != SSCMA_DTYPE_I32))
        return SSCMA_FAIL(SSCMA_ERR_DTYPE, "input '%s': dtype %d; inputs are f32 or i32", name, (int)dtype);
    int32_t id;
    sscma_status st = sscma_graph_add_input(model->g, name, dtype, rank, dims, flags, &id);
    return st == SSCMA_OK ? sync_tables(model) : rethrow(__func__, st);
}

/* init: "zeros", "ones", "kaiming_normal", "normal:<std>", "uniform:<bound>" */
static bool parse_init(const char *init, sscma_init_kind *kind, float *scale)
{
    *scale = 0.0f;
    if (strcmp(init, "zeros") == 0)
        *kind = SSCMA_INIT_ZEROS;
    else if (strcmp(init, "ones") == 0)
        *kind = SSCMA_INIT_ONES;
    else if (strcmp(init, "kaiming_normal") == 0)
        *kind = SSCMA_INIT_KAIMING_NORMAL_FAN_OUT;
    else if (strncmp(init, "normal:", 7) == 0 || strncmp(init, "uniform:", 8) == 0) {
        char *end = NULL;
        const char *num = strchr(init, ':') + 1;
        double v = strtod(num, &end);
        if (end == num || *end != '\0' || !(v >= 0.0))
            return false;
        *kind = init[0] == 'n' ? SSCMA_INIT_NORMAL : SSCMA_INIT_UNIFORM;
        *scale = (float)v;
    } else
        return false;
    return true;
}

sscma_status sscma_model_add_param(sscma_model *model, const char *name, int32_t rank, const int64_t *dims,
                                   uint32_t flags, const char *init)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(init);
    if (rank < 0 || rank > SSCMA_TENSOR_MAX_RANK || (rank > 0 && dims == NULL))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "parameter '%s': rank %d with %s dims", name, (int)rank,
                          dims ? "given" : "NULL");
    for (int32_t i = 0; i < rank; i++)
        if (dims[i] < 1 || dims[i] > ((int64_t)1 << 32))
            return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "parameter '%s': dims[%d] is %lld", name, (int)i,
                              (long long)dims[i]);
    if (flags & ~(SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM | SSCMA_PARAM_BIAS | SSCMA_PARAM_BUFFER))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "parameter '%s': unknown flags 0x%x", name, (unsigned)flags);
    sscma_init_kind kind;
    float scale;
    if (!parse_init(init, &kind, &scale))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "parameter '%s': init '%s' is not zeros, ones, kaiming_normal, "
                          "normal:<std> or uniform:<bound>", name, init);
    bool buffer = (flags & SSCMA_PARAM_BUFFER) != 0;
    int32_t id;
    sscma_status st = sscma_graph_add_param(model->g, name, buffer ? SSCMA_VALUE_BUFFER : SSCMA_VALUE_PARAM, rank,
                                            dims, buffer ? 0 : flags, kind, scale, &id);
    if (st != SSCMA_OK)
        return rethrow(__func__, st);
    sscma_graph_init_value(model->g, id);
    return sync_tables(model);
}

sscma_status sscma_model_add_layer(sscma_model *model, const char *name, const char *op, const char *attrs_json,
                                   const char *const *inputs, int32_t n_inputs)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(op);
    if (n_inputs < 0 || n_inputs > SSCMA_OP_MAX_INPUTS || (n_inputs > 0 && inputs == NULL))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "layer '%s': %d inputs", name, (int)n_inputs);
    const sscma_op_def *def = sscma_op_find(op);
    if (def == NULL)
        return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "layer '%s': no op named '%s'", name, op);
    int32_t ids[SSCMA_OP_MAX_INPUTS];
    for (int32_t i = 0; i < n_inputs; i++) {
        if (inputs[i] == NULL || (ids[i] = sscma_graph_find(model->g, inputs[i])) < 0)
            return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "layer '%s': input %d '%s' is no input, parameter or layer output",
                              name, (int)i, inputs[i] ? inputs[i] : "(NULL)");
    }
    _Alignas(16) unsigned char attrs[512];
    if (def->attrs_size > sizeof attrs)
        return SSCMA_FAIL(SSCMA_ERR_INTERNAL, "op '%s' has %zu bytes of attributes", op, def->attrs_size);
    sscma_status st = sscma_op_parse_attrs(def, attrs_json, attrs);
    if (st != SSCMA_OK)
        return rethrow(__func__, st);
    int32_t outs[SSCMA_OP_MAX_OUTPUTS], n_out = 0;
    st = sscma_graph_add_node(model->g, name, op, def->attrs_size > 0 ? attrs : NULL, ids, n_inputs, outs, &n_out);
    return st == SSCMA_OK ? sync_tables(model) : rethrow(__func__, st);
}

sscma_status sscma_model_add_output(sscma_model *model, const char *output_name, const char *value, int is_loss)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(output_name);
    SSCMA_REQUIRE_NONNULL(value);
    if (model->config != NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the outputs of a %s are fixed by its family", model->io.family);
    if (model->io.n_outputs >= 8 || strlen(output_name) >= sizeof model->output_names[0])
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "too many outputs, or the name '%s' is too long", output_name);
    int32_t id = sscma_graph_find(model->g, value);
    if (id < 0)
        return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "no value named '%s'", value);
    if (is_loss && (model->g->values[id].desc.rank != 0 || model->io.loss >= 0))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the loss '%s' must be a scalar, and there is only one",
                          value);
    sscma_status st = sscma_graph_mark_output(model->g, id);
    if (st != SSCMA_OK)
        return rethrow(__func__, st);
    int32_t k = model->io.n_outputs++;
    snprintf(model->output_names[k], sizeof model->output_names[k], "%s", output_name);
    model->io.outputs[k] = id;
    model->io.output_names[k] = model->output_names[k];
    if (is_loss)
        model->io.loss = id;
    model->g->batch = 0;
    return SSCMA_OK;
}

/* ---- private accessors (graph/model_private.h) ---- */

sscma_context *sscma_model_context(const sscma_model *model)
{
    return model->ctx;
}

json_t *sscma_model_config_json(const sscma_model *model)
{
    return model->config;
}

uint64_t *sscma_model_rng_state(sscma_model *model)
{
    return &model->g->step_seed;
}

const char *sscma_model_family(const sscma_model *model)
{
    return model->io.family;
}

sscma_graph *sscma_model_graph(const sscma_model *model)
{
    return model->g;
}

const sscma_model_io_table *sscma_model_io(const sscma_model *model)
{
    return &model->io;
}

sscma_status sscma_model_set_loss(sscma_model *model, int32_t value)
{
    sscma_graph *g = model->g;
    if (value < 0 || value >= g->n_values || g->values[value].desc.rank != 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "model", "value %d is not a scalar of the graph", (int)value);
    bool marked = false;
    for (int32_t k = 0; k < g->n_outputs; k++)
        marked |= g->outputs[k] == value;
    sscma_status st = marked ? SSCMA_OK : sscma_graph_mark_output(g, value);
    if (st != SSCMA_OK)
        return st;
    for (int32_t k = 0; k < model->io.n_outputs; k++)
        if (model->io.outputs[k] == model->io.loss)
            model->io.outputs[k] = value;
    model->io.loss = value;
    g->batch = 0; /* the plan must keep the new loss */
    return sync_tables(model);
}

void sscma_model_truncate_graph(sscma_model *model, int32_t n_values, int32_t n_nodes)
{
    for (int32_t i = n_values; i < model->g->n_values && i < model->n_views; i++) {
        sscma_tensor_destroy(model->views[i]);
        sscma_tensor_destroy(model->grad_views[i]);
        model->views[i] = model->grad_views[i] = NULL;
    }
    sscma_graph_truncate(model->g, n_values, n_nodes);
    sync_tables(model); /* lists the parameters again; never grows here, so it cannot fail */
}

sscma_status sscma_model_replace_graph(sscma_model *model, sscma_graph *graph, const int32_t *map)
{
    sscma_model_io_table io = model->io;
    int32_t *ids[3] = {&io.image, &io.target, &io.loss};
    for (int k = 0; k < 3; k++)
        if (*ids[k] >= 0 && (*ids[k] = map[*ids[k]]) < 0)
            return sscma_fail(SSCMA_ERR_STATE, "model", "the rewritten graph lost an input or the loss");
    for (int32_t k = 0; k < io.n_outputs; k++)
        if ((io.outputs[k] = map[io.outputs[k]]) < 0)
            return sscma_fail(SSCMA_ERR_STATE, "model", "the rewritten graph lost output '%s'", io.output_names[k]);
    sscma_yolo_decode yolo = model->yolo;
    for (int32_t l = 0; model->has_yolo && l < yolo.num_levels; l++)
        if ((yolo.head_values[l] = map[yolo.head_values[l]]) < 0)
            return sscma_fail(SSCMA_ERR_STATE, "model", "the rewritten graph lost the head map of level %d", (int)l);
    for (int32_t i = 0; i < model->n_views; i++) {
        sscma_tensor_destroy(model->views[i]);
        sscma_tensor_destroy(model->grad_views[i]);
        model->views[i] = model->grad_views[i] = NULL;
    }
    graph->sync_bn = model->g->sync_bn, graph->sync = model->g->sync; /* SyncBN survives QAT's rewrite */
    sscma_graph_destroy(model->g);
    model->g = graph;
    model->io = io;
    model->yolo = yolo;
    return sync_tables(model);
}

sscma_status sscma_model_set_yolo_decode(sscma_model *model, const sscma_yolo_decode *decode)
{
    SSCMA_REQUIRE_NONNULL(model);
    const char *where = "sscma_model_set_yolo_decode";
    if (decode == NULL) {
        model->has_yolo = false;
        return SSCMA_OK;
    }
    const sscma_yolo_decode *d = decode;
    if (d->num_levels < 1 || d->num_levels > SSCMA_YOLO_MAX_LEVELS || d->num_anchors < 1 ||
        d->num_anchors > SSCMA_YOLO_MAX_ANCHORS || d->num_classes < 1 || d->num_classes > 4096)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where,
                          "%d levels, %d anchors, %d classes; expected 1..%d levels, 1..%d anchors, 1..4096 classes",
                          (int)d->num_levels, (int)d->num_anchors, (int)d->num_classes, SSCMA_YOLO_MAX_LEVELS,
                          SSCMA_YOLO_MAX_ANCHORS);
    const sscma_graph *g = model->g;
    int64_t channels = (int64_t)d->num_anchors * (5 + d->num_classes);
    for (int32_t l = 0; l < d->num_levels; l++) {
        if (d->strides[l] < 1 || d->strides[l] > 4096)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where, "level %d: stride %d; expected 1..4096", (int)l,
                              (int)d->strides[l]);
        for (int32_t a = 0; a < d->num_anchors; a++)
            for (int32_t k = 0; k < 2; k++)
                if (!(d->anchors[l][a][k] > 0.0f && d->anchors[l][a][k] < 1e6f))
                    return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where,
                                      "level %d: anchor %d: %s %g; expected a positive size in pixels", (int)l, (int)a,
                                      k == 0 ? "width" : "height", (double)d->anchors[l][a][k]);
        int32_t v = d->head_values[l];
        if (v < 0 || v >= g->n_values)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where, "level %d: head value %d is not in the graph",
                              (int)l, (int)v);
        const sscma_desc *desc = &g->values[v].desc;
        if (desc->rank != 4 || desc->dtype != SSCMA_DTYPE_F32 || desc->dims[3] != channels)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where,
                              "level %d: head map '%s' is not a float NHWC map of %lld channels (%d anchors x (5 + %d))",
                              (int)l, g->values[v].name, (long long)channels, (int)d->num_anchors,
                              (int)d->num_classes);
    }
    model->yolo = *d;
    model->has_yolo = true;
    return SSCMA_OK;
}

const sscma_yolo_decode *sscma_model_yolo_decode(const sscma_model *model)
{
    return model != NULL && model->has_yolo ? &model->yolo : NULL;
}

void sscma_model_prepared_as(const sscma_model *model, int64_t *batch, int *training)
{
    *batch = model->g->batch;
    *training = model->g->training ? 1 : 0;
}
