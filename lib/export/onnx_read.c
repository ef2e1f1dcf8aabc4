/*
 * Pretrained weights from an ONNX file: the ModelProto is read with the descriptors generated from
 * lib/export/onnx.proto (the writer's transcription; fields it does not name are skipped by protobuf-c), and each
 * initializer is offered to sscma_model_load_state under its name. A PyTorch export (torch.onnx.export without
 * constant folding, or in training mode) names its initializers by the state dict's keys.
 */
#include <stdint.h>
#include <string.h>

#include "core/file.h"
#include "core/internal.h"
#include "export/onnx_read.h"
#include "onnx.pb-c.h"

/* protobuf-c's allocations through the context allocator */
static void *pb_alloc(void *data, size_t size)
{
    return sscma_malloc(data, size ? size : 1);
}

static void pb_free(void *data, void *ptr)
{
    sscma_mfree(data, ptr);
}

typedef struct onnx_source {
    const char *path;
    Onnx__TensorProto **inits; /* by entry index */
} onnx_source;

/* Copies initializer `index` as float32, 4-D from OIHW to OHWI. */
static sscma_status onnx_init_read(void *source, int32_t index, float *dst, size_t bytes)
{
    onnx_source *s = source;
    const Onnx__TensorProto *t = s->inits[index];
    size_t n = bytes / sizeof(float);
    const uint8_t *raw = t->has_raw_data && t->raw_data.len > 0 ? t->raw_data.data : NULL;
    /* element i of the file, little-endian float32 (the checks in list_entries guarantee n elements) */
#define ELEMENT(i, out)                                                                                            \
    do {                                                                                                           \
        if (raw != NULL) {                                                                                         \
            uint32_t u = (uint32_t)raw[4 * (i)] | (uint32_t)raw[4 * (i) + 1] << 8 | (uint32_t)raw[4 * (i) + 2] << 16 | \
                         (uint32_t)raw[4 * (i) + 3] << 24;                                                         \
            memcpy(&(out), &u, sizeof u);                                                                          \
        } else {                                                                                                   \
            (out) = t->float_data[i];                                                                              \
        }                                                                                                          \
    } while (0)
    if (t->n_dims == 4) {
        int64_t o = t->dims[0], ci = t->dims[1], h = t->dims[2], w = t->dims[3];
        for (int64_t a = 0; a < o; a++)
            for (int64_t c = 0; c < ci; c++)
                for (int64_t y = 0; y < h; y++)
                    for (int64_t x = 0; x < w; x++) {
                        size_t from = (size_t)(((a * ci + c) * h + y) * w + x);
                        ELEMENT(from, dst[((a * h + y) * w + x) * ci + c]);
                    }
    } else {
        for (size_t i = 0; i < n; i++)
            ELEMENT(i, dst[i]);
    }
#undef ELEMENT
    return SSCMA_OK;
}

/* Fills entries from the graph's initializers, checking that each float one's data fills its shape. */
static sscma_status list_entries(const char *path, const Onnx__GraphProto *g, sscma_state_entry *entries,
                                 Onnx__TensorProto **inits, int32_t *count)
{
    int32_t n = 0;
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *t = g->initializer[i];
        if (t->name == NULL || t->name[0] == '\0')
            return sscma_fail(SSCMA_ERR_FORMAT, path, "initializer %zu has no name", i);
        sscma_state_entry *e = &entries[n];
        e->name = t->name;
        e->f32 = t->has_data_type && t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
                 t->n_dims <= SSCMA_TENSOR_MAX_RANK;
        e->rank = e->f32 ? (int32_t)t->n_dims : 0;
        uint64_t numel = 1;
        for (size_t d = 0; d < t->n_dims; d++) {
            if (t->dims[d] < 0 || (t->dims[d] > 0 && numel > (UINT64_MAX / 8) / (uint64_t)t->dims[d]))
                return sscma_fail(SSCMA_ERR_FORMAT, path, "initializer '%s': dimension %zu is %lld", t->name, d,
                                  (long long)t->dims[d]);
            numel *= (uint64_t)t->dims[d];
        }
        if (e->f32) {
            if (t->n_dims == 4) /* OIHW -> OHWI */
                e->dims[0] = t->dims[0], e->dims[1] = t->dims[2], e->dims[2] = t->dims[3], e->dims[3] = t->dims[1];
            else
                for (size_t d = 0; d < t->n_dims; d++)
                    e->dims[d] = t->dims[d];
            bool raw = t->has_raw_data && t->raw_data.len > 0;
            uint64_t have = raw ? t->raw_data.len : (uint64_t)t->n_float_data * 4;
            if (have != numel * 4)
                return sscma_fail(SSCMA_ERR_FORMAT, path,
                                  "initializer '%s': %llu bytes of float data for %llu elements%s", t->name,
                                  (unsigned long long)have, (unsigned long long)numel,
                                  have == 0 ? " (data stored outside the file is not supported)" : "");
        }
        inits[n++] = t;
    }
    *count = n;
    return SSCMA_OK;
}

sscma_status sscma_model_load_pretrained_onnx(sscma_model *model, const char *path, const char *prefix,
                                              const char *module, char **report, int32_t *loaded)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(path);
    sscma_context *ctx = sscma_model_context(model);
    void *bytes = NULL;
    size_t size = 0;
    sscma_status st = sscma_read_file(ctx, path, &bytes, &size);
    if (st != SSCMA_OK)
        return st;
    ProtobufCAllocator allocator = {pb_alloc, pb_free, ctx};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&allocator, size, bytes);
    sscma_mfree(ctx, bytes);
    if (m == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not an ONNX model: the protobuf message does not parse "
                                                  "(expected a libsscma checkpoint or an ONNX file)");
    if (m->graph == NULL) {
        onnx__model_proto__free_unpacked(m, &allocator);
        return sscma_fail(SSCMA_ERR_FORMAT, path, "the ONNX model has no graph");
    }
    size_t n = m->graph->n_initializer;
    sscma_state_entry *entries = sscma_calloc(ctx, n ? n : 1, sizeof *entries);
    Onnx__TensorProto **inits = sscma_calloc(ctx, n ? n : 1, sizeof *inits);
    int32_t count = 0;
    if (entries == NULL || inits == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list the %zu initializers of %s", n, path);
    else if (n > INT32_MAX)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "%zu initializers", n);
    else
        st = list_entries(path, m->graph, entries, inits, &count);
    onnx_source s = {path, inits};
    if (st == SSCMA_OK)
        st = sscma_model_load_state(model, path, entries, count, onnx_init_read, &s, prefix, module, report, loaded);
    sscma_mfree(ctx, entries);
    sscma_mfree(ctx, inits);
    onnx__model_proto__free_unpacked(m, &allocator);
    return st;
}
