/*
 * Pretrained weights by name: mmengine's load_state_dict(module, state_dict, strict=False) over the model's
 * parameters and buffers, fed by a checkpoint here or by an ONNX file's initializers (lib/export/onnx_read.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/model_private.h"
#include "io/checkpoint.h"

/* A growing message in context memory; `oom` sticks. */
typedef struct text {
    const sscma_context *ctx;
    char *s;
    size_t len, cap;
    bool oom;
} text;

static void text_add(text *t, const char *fmt, ...) SSCMA_PRINTF(2, 3);
static void text_add(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 256) + (size_t)n;
        char *s = sscma_malloc(t->ctx, cap);
        if (s == NULL) {
            t->oom = true;
            return;
        }
        if (t->len > 0)
            memcpy(s, t->s, t->len);
        s[t->len] = '\0';
        sscma_mfree(t->ctx, t->s);
        t->s = s, t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* A shape as PyTorch prints it, 4-D in its OIHW order. */
static void text_shape(text *t, int32_t rank, const int64_t *dims)
{
    static const int oihw[4] = {0, 3, 1, 2};
    text_add(t, "torch.Size([");
    for (int32_t i = 0; i < rank; i++)
        text_add(t, "%s%lld", i ? ", " : "", (long long)dims[rank == 4 ? oihw[i] : i]);
    text_add(t, "])");
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The key of a source entry after "module." and the prefix are taken off; NULL when the prefix excludes it. */
static const char *source_key(const char *name, const char *prefix, size_t prefix_len)
{
    if (strncmp(name, "module.", 7) == 0)
        name += 7;
    if (prefix_len == 0)
        return name;
    if (strncmp(name, prefix, prefix_len) != 0)
        return NULL;
    return name + prefix_len;
}

static bool same_shape(const sscma_state_entry *e, const sscma_desc *d)
{
    if (e->rank != d->rank)
        return false;
    for (int32_t i = 0; i < e->rank; i++)
        if (e->dims[i] != d->dims[i])
            return false;
    return true;
}

sscma_status sscma_model_load_state(sscma_model *model, const char *file, const sscma_state_entry *entries,
                                    int32_t count, sscma_state_read_fn read, void *source, const char *prefix,
                                    const char *module, char **report, int32_t *loaded)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(file);
    SSCMA_REQUIRE_NONNULL(read);
    if (count > 0)
        SSCMA_REQUIRE_NONNULL(entries);
    sscma_context *ctx = sscma_model_context(model);
    sscma_graph *g = sscma_model_graph(model);
    if (module == NULL)
        module = "";
    char pfx[256] = "";
    if (prefix != NULL && prefix[0] != '\0')
        snprintf(pfx, sizeof pfx, "%s%s", prefix, ends_with(prefix, ".") ? "" : ".");
    size_t pfx_len = strlen(pfx), module_len = strlen(module);
    bool any = pfx_len == 0;
    for (int32_t i = 0; i < count && !any; i++)
        any = source_key(entries[i].name, pfx, pfx_len) != NULL;
    if (!any)
        return sscma_fail(SSCMA_ERR_NOT_FOUND, file, "prefix '%s' is not in the pretrained model", pfx);
    /* used[i]: source entry i matched a module key (loaded or mismatched) */
    bool *used = count > 0 ? sscma_calloc(ctx, (size_t)count, sizeof *used) : NULL;
    if (count > 0 && used == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot load %d tensors", (int)count);
    text mismatch = {.ctx = ctx}, missing = {.ctx = ctx}, unexpected = {.ctx = ctx};
    int32_t n_loaded = 0, n_missing = 0, n_unexpected = 0;
    sscma_status st = SSCMA_OK;
    for (int32_t v = 0; v < g->n_values && st == SSCMA_OK; v++) {
        sscma_value *val = &g->values[v];
        if ((val->kind != SSCMA_VALUE_PARAM && val->kind != SSCMA_VALUE_BUFFER) ||
            strncmp(val->name, module, module_len) != 0)
            continue;
        const char *key = val->name + module_len;
        int32_t found = -1;
        for (int32_t i = 0; i < count && found < 0; i++) {
            const char *k = source_key(entries[i].name, pfx, pfx_len);
            if (k != NULL && strcmp(k, key) == 0)
                found = i;
        }
        if (found < 0) {
            text_add(&missing, "%s%s", n_missing++ ? ", " : "", key);
            continue;
        }
        used[found] = true;
        const sscma_state_entry *e = &entries[found];
        if (!e->f32 || !same_shape(e, &val->desc)) {
            text_add(&mismatch, "size mismatch for %s: copying a param with shape ", key);
            if (e->f32)
                text_shape(&mismatch, e->rank, e->dims);
            else
                text_add(&mismatch, "(not float32)");
            text_add(&mismatch, " from checkpoint, the shape in current model is ");
            text_shape(&mismatch, val->desc.rank, val->desc.dims);
            text_add(&mismatch, ".\n");
            continue;
        }
        if ((st = read(source, found, val->data, val->bytes)) == SSCMA_OK)
            n_loaded++;
    }
    for (int32_t i = 0; i < count && st == SSCMA_OK; i++) {
        const char *k = source_key(entries[i].name, pfx, pfx_len);
        if (!used[i] && k != NULL && !ends_with(k, "num_batches_tracked"))
            text_add(&unexpected, "%s%s", n_unexpected++ ? ", " : "", k);
    }
    text all = {.ctx = ctx};
    if (st == SSCMA_OK && (mismatch.len > 0 || n_missing > 0 || n_unexpected > 0)) {
        /* mmengine joins its parts with "\n", each unexpected / missing part ending in "\n" */
        text_add(&all, "The model and loaded state dict do not match exactly\n");
        if (mismatch.len > 0)
            text_add(&all, "\n%.*s", (int)mismatch.len - 1, mismatch.s);
        if (n_unexpected > 0)
            text_add(&all, "\nunexpected key in source state_dict: %s\n", unexpected.s);
        if (n_missing > 0)
            text_add(&all, "\nmissing keys in source state_dict: %s\n", missing.s);
    }
    if (st == SSCMA_OK && (mismatch.oom || missing.oom || unexpected.oom || all.oom))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the load report of %s", file);
    if (st == SSCMA_OK && all.len > 0)
        sscma_logf(ctx, SSCMA_LOG_WARNING, "%s: %s", file, all.s);
    sscma_mfree(ctx, mismatch.s);
    sscma_mfree(ctx, missing.s);
    sscma_mfree(ctx, unexpected.s);
    sscma_mfree(ctx, used);
    if (st == SSCMA_OK && report != NULL)
        *report = all.s;
    else
        sscma_mfree(ctx, all.s);
    if (loaded != NULL)
        *loaded = n_loaded;
    return st;
}

/* ---- the checkpoint as a source ---- */

typedef struct ckpt_source {
    sscma_ckpt *ck;
    sscma_state_entry *entries;
    const char **stored; /* the checkpoint's own names ("model/<key>") */
} ckpt_source;

static sscma_status ckpt_read(void *source, int32_t index, float *dst, size_t bytes)
{
    ckpt_source *s = source;
    const sscma_state_entry *e = &s->entries[index];
    return sscma_ckpt_get(s->ck, s->stored[index], SSCMA_DTYPE_F32, e->rank, e->dims, dst, bytes);
}

sscma_status sscma_model_load_pretrained_ckpt(sscma_model *model, const char *path, const char *prefix,
                                              const char *module, char **report, int32_t *loaded)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(path);
    sscma_context *ctx = sscma_model_context(model);
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    size_t n = json_array_size(ck.tensors);
    ckpt_source s = {&ck, sscma_calloc(ctx, n ? n : 1, sizeof *s.entries), sscma_calloc(ctx, n ? n : 1, sizeof *s.stored)};
    int32_t count = 0;
    if (s.entries == NULL || s.stored == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list the %zu tensors of %s", n, path);
    size_t k;
    json_t *item;
    json_array_foreach(ck.tensors, k, item)
    {
        if (st != SSCMA_OK)
            break;
        /* the reader has checked every entry's name, dtype and shape */
        const char *name = json_string_value(json_object_get(item, "name"));
        json_t *shape = json_object_get(item, "shape");
        if (strncmp(name, "model/", 6) != 0 || json_array_size(shape) > SSCMA_TENSOR_MAX_RANK)
            continue;
        sscma_state_entry *e = &s.entries[count];
        e->name = name + 6;
        e->rank = (int32_t)json_array_size(shape);
        for (int32_t d = 0; d < e->rank; d++)
            e->dims[d] = (int64_t)json_integer_value(json_array_get(shape, (size_t)d));
        e->f32 = strcmp(json_string_value(json_object_get(item, "dtype")), "f32") == 0;
        s.stored[count++] = name;
    }
    if (st == SSCMA_OK)
        st = sscma_model_load_state(model, path, s.entries, count, ckpt_read, &s, prefix, module, report, loaded);
    sscma_mfree(ctx, s.entries);
    sscma_mfree(ctx, s.stored);
    sscma_ckpt_close(&ck);
    return st;
}
