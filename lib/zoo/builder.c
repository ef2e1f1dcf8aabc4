/* Shared helpers of the model families: checked config access and named layer builders. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "zoo/zoo.h"

/* Records a config error at z->where ("model.backbone: ...") and returns false. */
static bool failf(zoo *z, const char *fmt, ...) SSCMA_PRINTF(2, 3);
static bool failf(zoo *z, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    z->st = sscma_vfail(SSCMA_ERR_CONFIG, z->where, fmt, args);
    va_end(args);
    return false;
}

bool zoo_check_keys(zoo *z, json_t *obj, const char *type, const char *const *valid)
{
    if (z->st != SSCMA_OK)
        return false;
    char list[400];
    const char *key = sscma_config_unknown_key(obj, valid, list, sizeof list);
    if (key == NULL)
        return true;
    z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown key '%s' for %s; valid keys: %s", key, type, list);
    return false;
}

bool zoo_int(zoo *z, json_t *obj, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
    if (z->st != SSCMA_OK)
        return false;
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return true;
    }
    if (!json_is_integer(v))
        return failf(z, "'%s' must be an integer%s", key, "");
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo || x > hi) {
        char range[96];
        snprintf(range, sizeof range, " (got %lld; expected %lld..%lld)", (long long)x, (long long)lo, (long long)hi);
        return failf(z, "'%s' is out of range%s", key, range);
    }
    *out = x;
    return true;
}

bool zoo_float(zoo *z, json_t *obj, const char *key, double def, double lo, double hi, double *out)
{
    if (z->st != SSCMA_OK)
        return false;
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return true;
    }
    if (!json_is_number(v))
        return failf(z, "'%s' must be a number%s", key, "");
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) {
        char range[96];
        snprintf(range, sizeof range, " (got %g; expected %g..%g)", x, lo, hi);
        return failf(z, "'%s' is out of range%s", key, range);
    }
    *out = x;
    return true;
}

bool zoo_int_list(zoo *z, json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out, int32_t cap, int32_t *n)
{
    if (z->st != SSCMA_OK)
        return false;
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return true;
    if (json_is_integer(v)) {
        if (cap < 1)
            return failf(z, "'%s' takes no value%s", key, "");
        out[0] = (int64_t)json_integer_value(v);
        *n = 1;
    } else if (json_is_array(v) && json_array_size(v) >= 1 && json_array_size(v) <= (size_t)cap) {
        *n = 0;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_integer(item))
                return failf(z, "'%s' must be a list of integers%s", key, "");
            out[(*n)++] = (int64_t)json_integer_value(item);
        }
    } else {
        char detail[64];
        snprintf(detail, sizeof detail, " (1 to %d integers)", (int)cap);
        return failf(z, "'%s' must be an integer or a list%s", key, detail);
    }
    for (int32_t i = 0; i < *n; i++)
        if (out[i] < lo || out[i] > hi) {
            char range[96];
            snprintf(range, sizeof range, " (%lld; expected %lld..%lld)", (long long)out[i], (long long)lo,
                     (long long)hi);
            return failf(z, "'%s' has a value out of range%s", key, range);
        }
    return true;
}

json_t *zoo_object(zoo *z, json_t *obj, const char *key)
{
    if (z->st != SSCMA_OK)
        return NULL;
    json_t *v = json_object_get(obj, key);
    if (v != NULL && !json_is_object(v)) {
        failf(z, "'%s' must be an object with a \"type\"%s", key, "");
        return NULL;
    }
    return v;
}

int64_t zoo_make_divisible(double v, int64_t divisor)
{
    int64_t new_v = (int64_t)(v + (double)divisor / 2.0) / divisor * divisor;
    if (new_v < divisor)
        new_v = divisor;
    if ((double)new_v < 0.9 * v)
        new_v += divisor;
    return new_v;
}

static int32_t add_param(zoo *z, const char *layer, const char *leaf, sscma_value_kind kind, int32_t rank,
                         const int64_t *dims, uint32_t flags, sscma_init_kind init, float scale)
{
    if (z->st != SSCMA_OK)
        return -1;
    char name[256];
    snprintf(name, sizeof name, "%s.%s", layer, leaf);
    int32_t id;
    z->st = sscma_graph_add_param(z->g, name, kind, rank, dims, flags, init, scale, &id);
    return z->st == SSCMA_OK ? id : -1;
}

int32_t zoo_op(zoo *z, const char *name, const char *op, const void *attrs, const int32_t *inputs, int32_t n)
{
    if (z->st != SSCMA_OK)
        return -1;
    for (int32_t i = 0; i < n; i++)
        if (inputs[i] < 0)
            return -1;
    int32_t outs[SSCMA_OP_MAX_OUTPUTS], n_out = 0;
    z->st = sscma_graph_add_node(z->g, name, op, attrs, inputs, n, outs, &n_out);
    return z->st == SSCMA_OK ? outs[0] : -1;
}

int32_t zoo_conv(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                 bool bias)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    int64_t cin = zoo_desc(z, x)->dims[3];
    const int64_t wd[4] = {cout, k, k, cin / groups};
    int32_t in[3];
    in[0] = x;
    in[1] = add_param(z, name, "weight", SSCMA_VALUE_PARAM, 4, wd, SSCMA_PARAM_TRAINABLE,
                      SSCMA_INIT_KAIMING_NORMAL_FAN_OUT, 0.0f);
    if (bias)
        in[2] = add_param(z, name, "bias", SSCMA_VALUE_PARAM, 1, &cout, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS,
                          SSCMA_INIT_ZEROS, 0.0f);
    int32_t pad = (k - 1) / 2;
    sscma_conv2d_attrs a = {stride, stride, 1, 1, pad, pad, pad, pad, false, groups};
    return zoo_op(z, name, "conv2d", &a, in, bias ? 3 : 2);
}

int32_t zoo_bn(zoo *z, const char *name, int32_t x, sscma_act_kind act)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    const sscma_desc *d = zoo_desc(z, x);
    int64_t c = d->dims[d->rank - 1];
    int32_t in[5] = {x,
                     add_param(z, name, "weight", SSCMA_VALUE_PARAM, 1, &c, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM,
                               SSCMA_INIT_ONES, 0.0f),
                     add_param(z, name, "bias", SSCMA_VALUE_PARAM, 1, &c,
                               SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM | SSCMA_PARAM_BIAS, SSCMA_INIT_ZEROS, 0.0f),
                     add_param(z, name, "running_mean", SSCMA_VALUE_BUFFER, 1, &c, 0, SSCMA_INIT_ZEROS, 0.0f),
                     add_param(z, name, "running_var", SSCMA_VALUE_BUFFER, 1, &c, 0, SSCMA_INIT_ONES, 0.0f)};
    if (act == SSCMA_ACT_NONE) {
        sscma_batch_norm_attrs a = {1e-5f, 0.1f};
        return zoo_op(z, name, "batch_norm", &a, in, 5);
    }
    sscma_batch_norm_act_attrs a = {{1e-5f, 0.1f}, act, 0.01f};
    return zoo_op(z, name, "batch_norm_act", &a, in, 5);
}

int32_t zoo_linear(zoo *z, const char *name, int32_t x, int64_t out_features)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    const int64_t wd[2] = {out_features, zoo_desc(z, x)->dims[1]};
    int32_t in[3] = {x,
                     add_param(z, name, "weight", SSCMA_VALUE_PARAM, 2, wd, SSCMA_PARAM_TRAINABLE, SSCMA_INIT_NORMAL,
                               0.01f),
                     add_param(z, name, "bias", SSCMA_VALUE_PARAM, 1, &out_features,
                               SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, SSCMA_INIT_ZEROS, 0.0f)};
    sscma_linear_attrs a = {0};
    return zoo_op(z, name, "linear", &a, in, 3);
}

sscma_status sscma_zoo_build(sscma_graph *g, json_t *config, sscma_model_io_table *io)
{
    zoo z = {g, SSCMA_OK, "model"};
    memset(io, 0, sizeof *io);
    io->target = io->loss = -1;
    if (!json_is_object(config))
        return sscma_fail(SSCMA_ERR_CONFIG, "model", "the model config must be a JSON object with a \"type\"");
    const char *type = json_string_value(json_object_get(config, "type"));
    if (type == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, "model", "missing \"type\"; known types: ImageClassifier, Fomo, PFLD");
    snprintf(io->family, sizeof io->family, "%s", type);
    /* SSCMA's model configs carry the input normalisation as data_preprocessor: the loaders apply it (the runner
     * turns it into the pipeline's Normalize), so the graph does not see it */
    json_t *dp = json_object_get(config, "data_preprocessor");
    if (dp != NULL && !json_is_object(dp) && !json_is_null(dp))
        return sscma_fail(SSCMA_ERR_CONFIG, "model", "'data_preprocessor' must be an object");
    json_t *own = dp != NULL ? json_copy(config) : json_incref(config);
    if (own == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "model", "cannot copy the config");
    json_object_del(own, "data_preprocessor");
    sscma_status st;
    if (strcmp(type, "ImageClassifier") == 0)
        st = zoo_build_image_classifier(&z, own, io);
    else if (strcmp(type, "Fomo") == 0)
        st = zoo_build_fomo(&z, own, io);
    else if (strcmp(type, "PFLD") == 0)
        st = zoo_build_pfld(&z, own, io);
    else
        st = sscma_fail(SSCMA_ERR_CONFIG, "model", "unknown type '%s'; known types: ImageClassifier, Fomo, PFLD", type);
    json_decref(own);
    return st;
}

/* The public constructor from a config (<sscma/model.h>). It lives here, above graph/, because only the zoo knows
 * the families: the family builds a graph, which then becomes a model. */
sscma_status sscma_model_create(sscma_context *ctx, const char *config_json, sscma_model **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *config = json_loads(config_json, 0, &err);
    if (config == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "model config: line %d, column %d: %s", err.line, err.column, err.text);
    sscma_graph *g = NULL;
    sscma_model_io_table io;
    sscma_status st = sscma_graph_create(ctx, &g);
    if (st == SSCMA_OK)
        st = sscma_zoo_build(g, config, &io);
    if (st != SSCMA_OK) {
        sscma_graph_destroy(g);
        json_decref(config);
        return st;
    }
    return sscma_model_from_graph(ctx, g, &io, config, out);
}
