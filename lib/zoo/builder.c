/* Shared helpers of the model families: config reading (core/schema.h) and named layer builders. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static const char *where(const zoo *z, const char *reader)
{
    return z->file != NULL ? z->file : reader;
}

bool zoo_read(zoo *z, const sscma_field *fields, json_t *obj, const char *reader, const char *path, void *out)
{
    if (z->st == SSCMA_OK)
        z->st = sscma_schema_read(fields, obj, where(z, reader), path, out);
    return z->st == SSCMA_OK;
}

sscma_status zoo_fail(zoo *z, const char *reader, const char *path, const char *key, const char *fmt, ...)
{
    if (z->st != SSCMA_OK)
        return z->st;
    char message[600];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    return z->st = sscma_schema_fail(where(z, reader), path, key, "%s", message);
}

sscma_status zoo_expected(zoo *z, const char *reader, const char *path, const char *key, const char *expected,
                          json_t *value)
{
    if (z->st == SSCMA_OK)
        z->st = sscma_schema_expected(where(z, reader), path, key, expected, value);
    return z->st;
}

json_t *zoo_part(zoo *z, json_t *obj, const char *path, const char *key, const char *const *types, bool optional,
                 int *index)
{
    json_t *v = json_object_get(obj, key);
    if (z->st != SSCMA_OK || ((v == NULL || json_is_null(v)) && optional))
        return NULL;
    if (!json_is_object(v)) {
        zoo_expected(z, "model", path, key, "an object with a \"type\"", v);
        return NULL;
    }
    char at[256], names[300] = "one of: ";
    sscma_schema_path(at, sizeof at, path, key);
    json_t *type = json_object_get(v, "type");
    for (int i = 0; types[i] != NULL; i++) {
        if (json_is_string(type) && strcmp(json_string_value(type), types[i]) == 0) {
            *index = i;
            return v;
        }
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", i == 0 ? "" : ", ", types[i]);
    }
    zoo_expected(z, "model", at, "type", names, type);
    return NULL;
}

typedef struct act_cfg {
    int type;
} act_cfg;

/* Hardswish is PyTorch's name (SSCMA's get_act), HSwish mmcv's */
static const char *const act_names[] = {"ReLU", "ReLU6", "Hardswish", "HSwish", NULL};
static const sscma_act_kind act_kinds[] = {SSCMA_ACT_RELU, SSCMA_ACT_RELU6, SSCMA_ACT_HARDSWISH, SSCMA_ACT_HARDSWISH};

static const sscma_field act_fields[] = {
    SSCMA_FIELD_ENUM_AS("type", act_cfg, type, 0, act_names, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_KEY("inplace"),
    SSCMA_FIELD_END,
};

sscma_act_kind zoo_act(zoo *z, json_t *obj, const char *reader, const char *path, sscma_act_kind def)
{
    json_t *v = json_object_get(obj, "act_cfg");
    if (z->st != SSCMA_OK || v == NULL || json_is_null(v))
        return def;
    if (json_is_string(v)) { /* the type alone */
        for (int i = 0; act_names[i] != NULL; i++)
            if (strcmp(json_string_value(v), act_names[i]) == 0)
                return act_kinds[i];
        zoo_expected(z, reader, path, "act_cfg", "ReLU, ReLU6, Hardswish or HSwish, or an object with that \"type\"",
                     v);
        return def;
    }
    char at[256];
    act_cfg a;
    sscma_schema_path(at, sizeof at, path, "act_cfg");
    return zoo_read(z, act_fields, v, reader, at, &a) ? act_kinds[a.type] : def;
}

typedef struct norm_cfg {
    int type;
    double momentum, eps;
} norm_cfg;

/* BatchNorm2d is how SSCMA's Python configs name BN (type=torch.nn.BatchNorm2d). SyncBN (mmcv) and SyncBatchNorm
 * (torch) are BN in one process and batch statistics over every process of a data-parallel job (graph.h sync_bn). */
static const char *const norm_types[] = {"BN", "SyncBN", "BatchNorm2d", "nn.BatchNorm2d", "torch.nn.BatchNorm2d",
                                         "SyncBatchNorm", "nn.SyncBatchNorm", "torch.nn.SyncBatchNorm", NULL};

static bool sync_norm(int type)
{
    return type == 1 || type >= 5;
}

/* momentum and eps default to -1: "not given", replaced by the part's defaults */
static const sscma_field norm_fields[] = {
    SSCMA_FIELD_ENUM_AS("type", norm_cfg, type, 0, norm_types, 0),
    SSCMA_FIELD_RANGE(norm_cfg, momentum, -1.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(norm_cfg, eps, -1.0, 1e-12, 1.0),
    SSCMA_FIELD_KEY("requires_grad"),
    SSCMA_FIELD_END,
};

static const sscma_field norm_type_fields[] = {
    SSCMA_FIELD_ENUM_AS("type", norm_cfg, type, 0, norm_types, 0),
    SSCMA_FIELD_KEY("requires_grad"),
    SSCMA_FIELD_END,
};

bool zoo_read_norm_type(zoo *z, json_t *part, const char *reader, const char *path)
{
    char at[256];
    norm_cfg n;
    json_t *norm = json_object_get(part, "norm_cfg");
    if (norm == NULL || json_is_null(norm))
        return true;
    if (!json_is_object(norm)) {
        zoo_expected(z, reader, path, "norm_cfg", "an object such as {\"type\": \"SyncBN\"}", norm);
        return false;
    }
    if (!zoo_read(z, norm_type_fields, norm, reader, sscma_schema_path(at, sizeof at, path, "norm_cfg"), &n))
        return false;
    if (sync_norm(n.type))
        z->g->sync_bn = true;
    return true;
}

bool zoo_read_layer_cfg(zoo *z, json_t *part, const char *reader, const char *path, const double absent_mt[2],
                        const double given_mt[2], const char *no_act, zoo_layer_cfg *out)
{
    char at[256];
    norm_cfg n;
    json_t *norm = json_object_get(part, "norm_cfg");
    if (norm != NULL && !json_is_null(norm) && !json_is_object(norm)) {
        zoo_expected(z, reader, path, "norm_cfg", "an object such as {\"type\": \"BN\", \"momentum\": 0.03, "
                     "\"eps\": 0.001}", norm);
        return false;
    }
    if (!zoo_read(z, norm_fields, norm, reader, sscma_schema_path(at, sizeof at, path, "norm_cfg"), &n))
        return false;
    if (sync_norm(n.type))
        z->g->sync_bn = true;
    const double *def = norm == NULL || json_is_null(norm) ? absent_mt : given_mt;
    out->momentum = (float)(n.momentum < 0.0 ? def[0] : n.momentum);
    out->eps = (float)(n.eps < 0.0 ? def[1] : n.eps);
    json_t *a = json_object_get(part, "act_cfg");
    if (a == NULL || json_is_null(a)) {
        zoo_fail(z, reader, path, "act_cfg", "%s", no_act);
        return false;
    }
    out->act = zoo_act(z, part, reader, path, SSCMA_ACT_RELU);
    return z->st == SSCMA_OK;
}

bool zoo_check_width(zoo *z, const char *reader, const char *path, const char *formula, int level, int64_t want,
                     int32_t x)
{
    int64_t got = zoo_desc(z, x)->dims[3];
    if (z->st == SSCMA_OK && got != want)
        zoo_fail(z, reader, path, "in_channels", "level %d: %s is %lld but its input has %lld channels (widen_factor "
                 "and in_channels must agree with the part before)", level, formula, (long long)want, (long long)got);
    return z->st == SSCMA_OK;
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
    return zoo_bn_cfg(z, name, x, act, 1e-5f, 0.1f);
}

int32_t zoo_bn_cfg(zoo *z, const char *name, int32_t x, sscma_act_kind act, float eps, float momentum)
{
    return zoo_bn_act(z, name, x, act, 0.01f, eps, momentum);
}

int32_t zoo_bn_act(zoo *z, const char *name, int32_t x, sscma_act_kind act, float negative_slope, float eps,
                   float momentum)
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
        sscma_batch_norm_attrs a = {eps, momentum};
        return zoo_op(z, name, "batch_norm", &a, in, 5);
    }
    sscma_batch_norm_act_attrs a = {{eps, momentum}, act, negative_slope};
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

int32_t zoo_conv_module(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                        sscma_act_kind act, float eps, float momentum)
{
    char n[320];
    snprintf(n, sizeof n, "%s.conv", name);
    int32_t y = zoo_conv(z, n, x, cout, k, stride, groups, false);
    snprintf(n, sizeof n, "%s.bn", name);
    return zoo_bn_cfg(z, n, y, act, eps, momentum);
}

int32_t zoo_concat(zoo *z, const char *name, const int32_t *inputs, int32_t n)
{
    sscma_axis_attrs a = {.axis = -1};
    return zoo_op(z, name, "concat", &a, inputs, n);
}

int32_t zoo_upsample2x(zoo *z, const char *name, int32_t x)
{
    sscma_upsample_attrs a = {2, 2};
    return zoo_op(z, name, "upsample_nearest", &a, &x, 1);
}

void zoo_uniform_fan_in_init(zoo *z, int32_t from)
{
    for (int32_t i = from; i < z->g->n_values; i++) {
        sscma_value *v = &z->g->values[i];
        if (v->kind != SSCMA_VALUE_PARAM || v->desc.rank != 4)
            continue;
        int64_t fan_in = v->desc.dims[1] * v->desc.dims[2] * v->desc.dims[3]; /* OHWI */
        v->init = SSCMA_INIT_UNIFORM;
        v->init_scale = (float)(1.0 / sqrt((double)fan_in));
    }
}

static const char *const family_names[] = {"ImageClassifier", "Fomo", "PFLD", "YOLODetector", "RTMDet",
                                           "AccelerometerClassifier", "Vae_Model", "Audio_classify", NULL};

sscma_status sscma_zoo_build(sscma_graph *g, json_t *config, const char *file, sscma_model_io_table *io)
{
    zoo z = {g, SSCMA_OK, file};
    memset(io, 0, sizeof *io);
    io->target = io->loss = -1;
    if (!json_is_object(config))
        return zoo_expected(&z, "model", "model", NULL, "an object with a \"type\"", config);
    json_t *type = json_object_get(config, "type");
    int family = -1;
    /* the registry scope SSCMA may write ("sscma.Audio_classify") names the same family */
    const char *type_name = json_is_string(type) ? json_string_value(type) : NULL;
    if (type_name != NULL && strrchr(type_name, '.') != NULL)
        type_name = strrchr(type_name, '.') + 1;
    for (int i = 0; family_names[i] != NULL && type_name != NULL; i++)
        if (strcmp(type_name, family_names[i]) == 0)
            family = i;
    if (family < 0) /* model.type: expected one of: ImageClassifier, Fomo, PFLD, ..., got "Yolo" */
        return zoo_expected(&z, "model", "model", "type", "one of: ImageClassifier, Fomo, PFLD, YOLODetector, RTMDet, "
                            "AccelerometerClassifier, Vae_Model, Audio_classify", type);
    snprintf(io->family, sizeof io->family, "%s", family_names[family]);
    /* SSCMA's model configs carry the input normalisation as data_preprocessor: the loaders apply it (the runner
     * turns it into the pipeline's Normalize), so the graph does not see it */
    json_t *dp = json_object_get(config, "data_preprocessor");
    if (dp != NULL && !json_is_object(dp) && !json_is_null(dp))
        return zoo_expected(&z, "model", "model", "data_preprocessor", "an object", dp);
    json_t *own = dp != NULL ? json_copy(config) : json_incref(config);
    if (own == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "model", "cannot copy the config");
    json_object_del(own, "data_preprocessor");
    sscma_status st = family == 0   ? zoo_build_image_classifier(&z, own, io)
                      : family == 1 ? zoo_build_fomo(&z, own, io)
                      : family == 2 ? zoo_build_pfld(&z, own, io)
                      : family == 3 ? zoo_build_yolo_detector(&z, own, io)
                      : family == 4 ? zoo_build_rtmdet(&z, own, io)
                      : family == 5 ? zoo_build_accelerometer_classifier(&z, own, io)
                      : family == 6 ? zoo_build_vae(&z, own, io)
                                    : zoo_build_audio_classify(&z, own, io);
    json_decref(own);
    return st;
}

/* A detector's deployment decode (graph/model_private.h) from its yolo_decode node: the same maps, classes, strides
 * and anchors, so the exported file decodes exactly as the metric does (in SSCMA's layout, scores times 100). */
static sscma_status set_yolo_decode(sscma_model *model)
{
    const sscma_graph *g = sscma_model_graph(model);
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (nd->def->id != SSCMA_OP_YOLO_DECODE)
            continue;
        const sscma_yolo_decode_attrs *a = nd->attrs;
        sscma_yolo_decode d;
        memset(&d, 0, sizeof d);
        d.num_classes = a->num_classes, d.num_levels = nd->n_in, d.num_anchors = a->n_anchors / (2 * nd->n_in);
        if (d.num_levels > SSCMA_YOLO_MAX_LEVELS || d.num_anchors > SSCMA_YOLO_MAX_ANCHORS)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, "model", "%d levels of %d anchors: the deployment decode takes "
                              "at most %d of %d", (int)d.num_levels, (int)d.num_anchors, SSCMA_YOLO_MAX_LEVELS,
                              SSCMA_YOLO_MAX_ANCHORS);
        for (int32_t l = 0; l < d.num_levels; l++) {
            d.strides[l] = a->strides[l];
            d.head_values[l] = nd->in[l];
            for (int32_t k = 0; k < d.num_anchors; k++)
                for (int32_t j = 0; j < 2; j++)
                    d.anchors[l][k][j] = a->anchors[(l * d.num_anchors + k) * 2 + j];
        }
        return sscma_model_set_yolo_decode(model, &d);
    }
    return SSCMA_OK;
}

sscma_status sscma_zoo_model_create(sscma_context *ctx, json_t *config, const char *file, sscma_model **out)
{
    sscma_graph *g = NULL;
    sscma_model_io_table io;
    sscma_status st = sscma_graph_create(ctx, &g);
    if (st == SSCMA_OK)
        st = sscma_zoo_build(g, config, file, &io);
    if (st != SSCMA_OK) {
        sscma_graph_destroy(g);
        json_decref(config);
        return st;
    }
    if ((st = sscma_model_from_graph(ctx, g, &io, config, out)) == SSCMA_OK && (st = set_yolo_decode(*out)) != SSCMA_OK) {
        sscma_model_destroy(*out);
        *out = NULL;
    }
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
    return sscma_zoo_model_create(ctx, config, NULL, out);
}
