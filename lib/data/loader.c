/*
 * The batch loader. A batch is built sample by sample: decode (or borrow) the 8-bit image, convert to float, run the
 * pipeline with the seed of (loader seed, epoch) and the sample's index, check the output shape, copy into the
 * batch. The epoch's order is a Fisher-Yates permutation drawn from (seed, epoch). Nothing depends on the thread that
 * does the work, so 0, 1 or N workers give the same batches.
 *
 * Targets: the class label (i32 per sample), or with "target": {"type": "FomoTarget", "stride": 8} the FOMO grid of a
 * detection dataset: f32 [H / stride, W / stride, classes + 1] per sample, one-hot, channel 0 background, each box
 * (after the pipeline moved it) marking the cell of its centre with its class, as SSCMA's FomoHead builds its
 * targets (a later box in the same cell wins); or with {"type": "KeypointTarget"} the keypoints of a MeterData
 * dataset, moved by the pipeline and normalised by the output size: f32 [2 P] per sample, x / W and y / H; or with
 * {"type": "OneHot"} the class label as f32 [classes] (1 at the label); or with {"type": "BoxTarget", "max_boxes": 100}
 * the boxes of a detection dataset (after the pipeline moved them) as f32 [max_boxes, 6] rows (class, x1, y1, x2,
 * y2 in the output image's pixels, 1), in the pipeline's order, the rest of the rows zero: what the yolov5_loss op
 * reads. A sample with more boxes than max_boxes is an error naming its index and file.
 *
 * num_workers == 0: the caller's thread builds each batch, spreading its samples over the context's pool, straight
 * into the caller's tensors. num_workers == N: N threads fill `prefetch` batch slots ahead of the consumer (batch b
 * goes to slot b % prefetch); the consumer copies a ready slot into its tensors.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "data/audio.h"
#include "data/data.h"

#define WHERE "loader"

typedef enum slot_state { SLOT_EMPTY, SLOT_FILLING, SLOT_READY } slot_state;

typedef struct slot {
    float *images;
    unsigned char *targets; /* target_bytes per sample */
    int64_t batch;
    int64_t count;
    uint64_t gen;
    slot_state state;
    sscma_status st;
    char error[768];
} slot;

typedef struct cached_image {
    uint8_t *pixels;
    int64_t h, w, c;
    int32_t label;
} cached_image;

typedef struct scratch {
    sscma_image a, b;
} scratch;

struct sscma_loader {
    sscma_context *ctx;
    sscma_dataset *dataset;
    sscma_pipeline *pipeline;
    int64_t batch_size, out_h, out_w, out_c;
    bool shuffle, drop_last;
    int32_t workers, prefetch;
    uint64_t seed;
    /* epoch state */
    int64_t epoch, n_batches, consumed;
    /* targets: class labels, or the FOMO grid */
    bool fomo, keypoints, onehot, box_rows;
    int64_t stride, grid_h, grid_w, target_bytes;
    int64_t max_boxes; /* BoxTarget rows per sample */
    /* an audio dataset's AudioAugs (its pipeline's one entry), applied after the clip is decoded */
    bool audio_augs;
    sscma_audio_augs augs;
    /* "cache": decoded 8-bit images by dataset index (each written once, under cache_lock) */
    cached_image *cache;
    pthread_mutex_t cache_lock;
    int64_t *order;   /* this epoch's samples for this loader: the shard's part of the global order */
    int64_t *perm;    /* the global order while a shard is set (NULL: none), shard_count > 1 */
    int64_t n_samples; /* entries of order this epoch: the dataset's size, or the shard's share */
    int32_t shard_rank, shard_count;
    bool shard_unpadded; /* evaluation: every sample once, the last shards one shorter */
    uint64_t aug_seed;
    /* synchronous building: one scratch per pool worker */
    scratch *pool_scratch;
    int32_t n_pool_scratch;
    /* workers */
    pthread_t *threads;
    int32_t started;
    scratch *worker_scratch;
    slot *slots;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t gen;
    int64_t produce_next;
    int stop;
};

/* The scratch images grow within the loader's context (the pipeline reallocates them with it). */
static void scratch_init(scratch *s, int32_t n, const sscma_context *ctx)
{
    for (int32_t i = 0; i < n; i++)
        s[i].a.ctx = s[i].b.ctx = ctx;
}

static void free_scratch(scratch *s)
{
    sscma_mfree(s->a.ctx, s->a.data);
    sscma_mfree(s->b.ctx, s->b.data);
}

/* The FOMO grid of the boxes of `img` (already moved by the pipeline) into `grid`. */
static void encode_fomo(const sscma_loader *l, const sscma_image *img, float *grid)
{
    const int64_t cells = l->grid_h * l->grid_w, ch = l->dataset->n_classes + 1;
    memset(grid, 0, (size_t)(cells * ch) * sizeof *grid);
    for (int64_t i = 0; i < cells; i++)
        grid[i * ch] = 1.0f;
    for (int32_t b = 0; b < img->n_boxes; b++) {
        const float *bx = img->boxes + 4 * b;
        int64_t gx = (int64_t)((bx[0] + bx[2]) * 0.5f / (float)l->stride);
        int64_t gy = (int64_t)((bx[1] + bx[3]) * 0.5f / (float)l->stride);
        gx = gx < 0 ? 0 : gx >= l->grid_w ? l->grid_w - 1 : gx;
        gy = gy < 0 ? 0 : gy >= l->grid_h ? l->grid_h - 1 : gy;
        float *cell = grid + (gy * l->grid_w + gx) * ch;
        memset(cell, 0, (size_t)ch * sizeof *cell);
        cell[1 + img->box_labels[b]] = 1.0f;
    }
}

/* The file of dataset sample `index` (after indices), or "" for datasets held in memory. */
static const char *sample_file(const sscma_dataset *ds, int64_t index)
{
    int64_t k = ds->subset != NULL ? ds->subset[index] : index;
    return ds->paths != NULL && ds->paths[k] != NULL ? ds->paths[k] : "";
}

/* BoxTarget rows of the boxes of `img` (already moved by the pipeline): class, x1, y1, x2, y2, 1; then zero rows. */
static sscma_status encode_box_rows(const sscma_loader *l, const sscma_image *img, int64_t index, float *rows)
{
    if (img->n_boxes > l->max_boxes)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "sample %lld (%s): %d boxes after the pipeline; target "
                          "BoxTarget holds max_boxes %lld: raise it", (long long)index,
                          sample_file(l->dataset, index), (int)img->n_boxes, (long long)l->max_boxes);
    memset(rows, 0, (size_t)(l->max_boxes * 6) * sizeof *rows);
    for (int32_t b = 0; b < img->n_boxes; b++) {
        float *r = rows + 6 * b;
        r[0] = (float)img->box_labels[b];
        memcpy(r + 1, img->boxes + 4 * b, 4 * sizeof *r);
        r[5] = 1.0f;
    }
    return SSCMA_OK;
}

/* The 8-bit pixels of dataset sample `index`, through the loader's cache when it has one (*borrowed: not the
 * caller's to free). */
static sscma_status read_pixels(const sscma_loader *l, int64_t index, uint8_t **out, bool *out_borrowed, int64_t *oh,
                                int64_t *ow, int64_t *oc, int32_t *out_label)
{
    uint8_t *pixels = NULL;
    bool borrowed = false;
    int64_t h, w, c;
    int32_t label = -1;
    sscma_status st = SSCMA_OK;
    cached_image *hit = NULL;
    if (l->cache != NULL) {
        pthread_mutex_lock((pthread_mutex_t *)&l->cache_lock);
        if (l->cache[index].pixels != NULL)
            hit = &l->cache[index];
        pthread_mutex_unlock((pthread_mutex_t *)&l->cache_lock);
    }
    if (hit != NULL) {
        pixels = hit->pixels, borrowed = true, h = hit->h, w = hit->w, c = hit->c, label = hit->label;
    } else {
        st = sscma_dataset_read(l->dataset, index, &pixels, &borrowed, &h, &w, &c, &label);
        if (st != SSCMA_OK)
            return st;
        if (l->cache != NULL && !borrowed) { /* keep the decoded image; a racing thread may have stored it first */
            pthread_mutex_lock((pthread_mutex_t *)&l->cache_lock);
            cached_image *e = &l->cache[index];
            if (e->pixels == NULL) {
                e->pixels = pixels, e->h = h, e->w = w, e->c = c, e->label = label;
                pthread_mutex_unlock((pthread_mutex_t *)&l->cache_lock);
                borrowed = true; /* the cache owns it now */
            } else {
                pthread_mutex_unlock((pthread_mutex_t *)&l->cache_lock);
            }
        }
    }
    *out = pixels, *out_borrowed = borrowed, *oh = h, *ow = w, *oc = c, *out_label = label;
    return SSCMA_OK;
}

/*
 * The loader's sample source for mix transforms (Mosaic, YOLOv5MixUp): sample `index`'s pixels as floats in img
 * (grown within img->ctx) and, for a detection dataset, its boxes as blocks of the dataset's context.
 */
static sscma_status load_for_mix(void *arg, int64_t index, sscma_image *img)
{
    const sscma_loader *l = arg;
    uint8_t *pixels = NULL;
    bool borrowed = false;
    int64_t h, w, c;
    int32_t label;
    sscma_status st = read_pixels(l, index, &pixels, &borrowed, &h, &w, &c, &label);
    if (st != SSCMA_OK)
        return st;
    img->box_ctx = l->dataset->ctx, img->n_boxes = 0, img->box_capacity = 0;
    const size_t n = (size_t)(h * w * c);
    float *d = img->capacity >= n ? img->data : sscma_mrealloc(img->ctx, img->data, n * sizeof *d);
    if (d == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "sample %lld: cannot convert the image", (long long)index);
    else {
        img->data = d, img->capacity = n > img->capacity ? n : img->capacity;
        for (size_t i = 0; i < n; i++)
            d[i] = (float)pixels[i];
        img->h = h, img->w = w, img->c = c;
    }
    if (!borrowed)
        sscma_mfree(l->dataset->ctx, pixels);
    if (st == SSCMA_OK && l->dataset->kind == DATASET_BOXES)
        st = sscma_dataset_boxes(l->dataset, index, w, h, &img->n_boxes, &img->boxes, &img->box_labels);
    return st;
}

/* Builds sample `pos` of batch `batch` into out (H*W*C floats) and its target; errors carry the sample's index. */
static sscma_status build_sample(const sscma_loader *l, int64_t batch, int64_t pos, scratch *s, float *out,
                                 void *target)
{
    int64_t index = l->order[batch * l->batch_size + pos];
    if (l->dataset->kind == DATASET_WINDOWS) { /* 1-D windows: no image, no pipeline */
        int32_t label = -1;
        sscma_status st = sscma_dataset_window_seeded(l->dataset, index, l->aug_seed, out, &label);
        if (st == SSCMA_OK && l->audio_augs &&
            (st = sscma_audio_augs_apply(l->ctx, &l->augs, out, l->dataset->window_len, l->aug_seed,
                                         (uint64_t)index)) != SSCMA_OK) {
            char detail[600];
            snprintf(detail, sizeof detail, "%s", sscma_last_error());
            return sscma_fail(st, WHERE, "sample %lld: %s", (long long)index, detail);
        }
        if (st == SSCMA_OK && l->onehot) {
            float *v = target;
            memset(v, 0, (size_t)l->target_bytes);
            if (label >= 0 && label < l->dataset->n_classes)
                v[label] = 1.0f;
        } else if (st == SSCMA_OK)
            memcpy(target, &label, sizeof label);
        return st;
    }
    uint8_t *pixels = NULL;
    bool borrowed = false;
    int64_t h, w, c;
    int32_t label = -1;
    sscma_status st = read_pixels(l, index, &pixels, &borrowed, &h, &w, &c, &label);
    if (st != SSCMA_OK)
        return st;
    s->a.n_boxes = 0, s->a.n_keypoints = 0;
    if (((l->fomo || l->box_rows) && (st = sscma_dataset_boxes(l->dataset, index, w, h, &s->a.n_boxes, &s->a.boxes,
                                              &s->a.box_labels)) != SSCMA_OK) ||
        (l->keypoints &&
         (st = sscma_dataset_keypoints(l->dataset, index, &s->a.n_keypoints, &s->a.keypoints)) != SSCMA_OK)) {
        if (!borrowed)
            sscma_mfree(l->dataset->ctx, pixels);
        return st;
    }
    size_t n = (size_t)(h * w * c);
    if (s->a.capacity < n) {
        float *d = sscma_mrealloc(s->a.ctx, s->a.data, n * sizeof *d);
        if (d == NULL) {
            if (!borrowed)
                sscma_mfree(l->dataset->ctx, pixels);
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "sample %lld: cannot convert the image",
                              (long long)index);
        }
        s->a.data = d, s->a.capacity = n;
    }
    st = SSCMA_OK;
    for (size_t i = 0; i < n; i++)
        s->a.data[i] = (float)pixels[i];
    if (!borrowed)
        sscma_mfree(l->dataset->ctx, pixels);
    s->a.h = h, s->a.w = w, s->a.c = c;
    const sscma_sample_source others = {l->dataset->size, (void *)l, load_for_mix};
    if ((st = sscma_pipeline_apply_mixed(l->pipeline, &s->a, &s->b, l->aug_seed, (uint64_t)index, &others)) !=
        SSCMA_OK) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return sscma_fail(st, WHERE, "sample %lld: %s", (long long)index, detail);
    }
    if (s->a.h != l->out_h || s->a.w != l->out_w || s->a.c != l->out_c)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "sample %lld comes out of the pipeline as %lldx%lldx%lld, not "
                          "%lldx%lldx%lld: add a Resize (images of this dataset differ in size)", (long long)index,
                          (long long)s->a.h, (long long)s->a.w, (long long)s->a.c, (long long)l->out_h,
                          (long long)l->out_w, (long long)l->out_c);
    memcpy(out, s->a.data, (size_t)(l->out_h * l->out_w * l->out_c) * sizeof *out);
    if (l->fomo) {
        encode_fomo(l, &s->a, target);
    } else if (l->box_rows) {
        return encode_box_rows(l, &s->a, index, target);
    } else if (l->onehot) {
        float *v = target;
        memset(v, 0, (size_t)l->target_bytes);
        if (label >= 0 && label < l->dataset->n_classes)
            v[label] = 1.0f;
    } else if (l->keypoints) {
        float *xy = target;
        for (int32_t k = 0; k < s->a.n_keypoints; k++) {
            xy[2 * k] = s->a.keypoints[2 * k] / (float)l->out_w;
            xy[2 * k + 1] = s->a.keypoints[2 * k + 1] / (float)l->out_h;
        }
    } else
        memcpy(target, &label, sizeof label);
    return SSCMA_OK;
}

/* build_sample, releasing the sample's boxes whatever happens. */
static sscma_status build_one(const sscma_loader *l, int64_t batch, int64_t pos, scratch *s, float *out, void *target)
{
    const sscma_context *dctx = l->dataset->ctx; /* the dataset made the boxes and keypoints (Mosaic grows them in it) */
    s->a.box_ctx = dctx;
    sscma_status st = build_sample(l, batch, pos, s, out, target);
    sscma_mfree(dctx, s->a.boxes), sscma_mfree(dctx, s->a.box_labels), sscma_mfree(dctx, s->a.keypoints);
    s->a.boxes = NULL, s->a.box_labels = NULL, s->a.n_boxes = 0, s->a.keypoints = NULL, s->a.n_keypoints = 0;
    s->a.box_capacity = 0;
    return st;
}

static int64_t batch_count(const sscma_loader *l, int64_t batch)
{
    int64_t size = l->n_samples, start = batch * l->batch_size;
    return start + l->batch_size <= size ? l->batch_size : size - start;
}

/* ---- synchronous building on the context's pool ---- */

typedef struct sync_job {
    const sscma_loader *l;
    int64_t batch;
    float *images;
    unsigned char *targets;
    /* the first failure by sample position (deterministic whatever the thread that met it) */
    pthread_mutex_t lock;
    int64_t fail_pos;
    sscma_status st;
    char error[768];
} sync_job;

static void sync_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    sync_job *j = arg;
    const sscma_loader *l = j->l;
    const int64_t per = l->out_h * l->out_w * l->out_c;
    for (int64_t pos = begin; pos < end; pos++) {
        sscma_status st = build_one(l, j->batch, pos, &l->pool_scratch[worker], j->images + pos * per,
                                    j->targets + pos * l->target_bytes);
        if (st != SSCMA_OK) {
            pthread_mutex_lock(&j->lock);
            if (j->st == SSCMA_OK || pos < j->fail_pos) {
                j->st = st, j->fail_pos = pos;
                snprintf(j->error, sizeof j->error, "%s", sscma_last_error());
            }
            pthread_mutex_unlock(&j->lock);
            return;
        }
    }
}

static sscma_status build_batch_sync(sscma_loader *l, int64_t batch, float *images, unsigned char *targets)
{
    sync_job job = {l, batch, images, targets, PTHREAD_MUTEX_INITIALIZER, 0, SSCMA_OK, ""};
    sscma_parallel_for(l->ctx->pool, batch_count(l, batch), 4, sync_task, &job);
    pthread_mutex_destroy(&job.lock);
    if (job.st != SSCMA_OK)
        return sscma_fail(job.st, "", "%s", job.error);
    return SSCMA_OK;
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
    void **pair = arg;
    sscma_loader *l = pair[0];
    scratch *s = pair[1];
    sscma_mfree(l->ctx, pair);
    const int64_t per = l->out_h * l->out_w * l->out_c;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        slot *sl = NULL;
        while (!l->stop) {
            if (l->produce_next < l->n_batches) {
                sl = &l->slots[l->produce_next % l->prefetch];
                if (sl->state == SLOT_EMPTY)
                    break;
            }
            sl = NULL;
            pthread_cond_wait(&l->changed, &l->lock);
        }
        if (l->stop)
            break;
        int64_t batch = l->produce_next++;
        uint64_t gen = l->gen;
        sl->state = SLOT_FILLING;
        sl->batch = batch;
        sl->gen = gen;
        pthread_mutex_unlock(&l->lock);

        sscma_status st = SSCMA_OK;
        int64_t count = batch_count(l, batch);
        memset(sl->images, 0, (size_t)(l->batch_size * per) * sizeof *sl->images);
        memset(sl->targets, 0, (size_t)(l->batch_size * l->target_bytes));
        char error[768] = "";
        for (int64_t pos = 0; pos < count && st == SSCMA_OK; pos++)
            if ((st = build_one(l, batch, pos, s, sl->images + pos * per, sl->targets + pos * l->target_bytes)) !=
                SSCMA_OK)
                snprintf(error, sizeof error, "%s", sscma_last_error());

        pthread_mutex_lock(&l->lock);
        if (sl->gen != l->gen) {
            sl->state = SLOT_EMPTY; /* a new epoch started meanwhile */
        } else {
            sl->count = count;
            sl->st = st;
            memcpy(sl->error, error, sizeof error);
            sl->state = SLOT_READY;
        }
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/*
 * An audio dataset's pipeline: nothing, or one AudioAugs (SSCMA's train_pipeline), for a dataset in mode "train".
 * Image transforms do not apply to audio.
 */
static sscma_status read_audio_pipeline(sscma_loader *l, json_t *list)
{
    const sscma_dataset *ds = l->dataset;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *t = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(t, "type")), *at = json_string_value(json_object_get(t,
                                                                                                       "_at"));
        char where[256];
        snprintf(where, sizeof where, "%s", at != NULL ? at : "pipeline");
        if (type != NULL && strncmp(type, "sscma.", 6) == 0)
            type += 6;
        if (type == NULL || strcmp(type, "AudioAugs") != 0)
            return sscma_fail(SSCMA_ERR_CONFIG, where, "a %s gives audio clips; its pipeline takes only AudioAugs, "
                              "not image transforms (got %s)", ds->type, type != NULL ? type : "an entry without a "
                              "type");
        if (l->audio_augs)
            return sscma_fail(SSCMA_ERR_CONFIG, where, "a second AudioAugs (one per pipeline)");
        if (!ds->audio->train)
            return sscma_fail(SSCMA_ERR_CONFIG, where, "AudioAugs augments training clips; this %s is in mode "
                              "'val' or 'test' (SSCMA gives those no pipeline)", ds->type);
        sscma_status st = sscma_audio_augs_read(t, where, ds->audio->rate, ds->window_len, &l->augs);
        if (st != SSCMA_OK)
            return st;
        l->audio_augs = true;
    }
    return SSCMA_OK;
}

/* ---- API ---- */

/* The loader's keys (the runner writes them from a dataloader's batch_size, num_workers, sampler, ...). */
typedef struct loader_cfg {
    int64_t batch_size, num_workers, prefetch, seed;
    bool shuffle, drop_last, cache;
    json_t *pipeline, *target;
} loader_cfg;

static const sscma_field loader_fields[] = {
    SSCMA_FIELD_RANGE(loader_cfg, batch_size, 1, 1, 1 << 20),
    SSCMA_FIELD(loader_cfg, shuffle, false),
    SSCMA_FIELD(loader_cfg, drop_last, false),
    SSCMA_FIELD_RANGE(loader_cfg, num_workers, 0, 0, 64),
    SSCMA_FIELD_RANGE(loader_cfg, prefetch, 2, 1, 64),
    SSCMA_FIELD_RANGE(loader_cfg, seed, 0, 0, INFINITY),
    SSCMA_FIELD_JSON_AS("pipeline", loader_cfg, pipeline),
    SSCMA_FIELD_JSON_AS("target", loader_cfg, target),
    SSCMA_FIELD(loader_cfg, cache, false),
    SSCMA_FIELD_END,
};

typedef struct target_cfg {
    int64_t stride, max_boxes;
} target_cfg;

static const sscma_field fomo_target_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(target_cfg, stride, 8, 1, 1024),
    SSCMA_FIELD_END,
};

static const sscma_field box_target_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(target_cfg, max_boxes, 100, 1, 1 << 20),
    SSCMA_FIELD_END,
};

static const sscma_field type_only_fields[] = {SSCMA_FIELD_KEY("type"), SSCMA_FIELD_END};

sscma_status sscma_loader_create(sscma_context *ctx, sscma_dataset *dataset, const char *config_json,
                                 sscma_loader **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(dataset);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "loader config: line %d, column %d: %s", err.line, err.column, err.text);
    loader_cfg lc;
    sscma_status st = sscma_schema_read(loader_fields, cfg, __func__, NULL, &lc);
    sscma_loader *l = NULL;
    if (st == SSCMA_OK && (l = sscma_calloc(ctx, 1, sizeof *l)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a loader");
    if (st == SSCMA_OK) {
        l->ctx = ctx, l->dataset = dataset, l->batch_size = lc.batch_size;
        sscma_context_retain(ctx);
        l->shuffle = lc.shuffle, l->drop_last = lc.drop_last;
        l->workers = (int32_t)lc.num_workers, l->prefetch = (int32_t)lc.prefetch, l->seed = (uint64_t)lc.seed;
        l->shard_rank = 0, l->shard_count = 1;
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->changed, NULL);
        pthread_mutex_init(&l->cache_lock, NULL);
        size_t n_cache = (size_t)(dataset->full_size > dataset->size ? dataset->full_size : dataset->size) + 1;
        if (lc.cache && dataset->kind != DATASET_IDX && dataset->kind != DATASET_WINDOWS && (l->cache = sscma_calloc(ctx, n_cache, sizeof *l->cache)) == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the image cache");
        if (st == SSCMA_OK)
            st = sscma_pipeline_create(ctx, dataset->kind == DATASET_WINDOWS ? NULL : lc.pipeline, &l->pipeline);
    }
    if (st == SSCMA_OK && dataset->kind == DATASET_WINDOWS) {
        /* windows: [N, 1, 1, C * L] flattened channel-major, or [N, 1, L, C]; image transforms do not apply */
        if (dataset->audio != NULL)
            st = read_audio_pipeline(l, lc.pipeline);
        else if (json_array_size(lc.pipeline) > 0)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "a %s gives windows of sensor values; its pipeline takes no image "
                            "transforms (got %zu)", dataset->type, json_array_size(lc.pipeline));
        l->out_h = dataset->window_h > 0 ? dataset->window_h : 1;
        l->out_w = dataset->window_h > 0 ? dataset->window_len / dataset->window_h
                   : dataset->window_flat ? 1 : dataset->window_len;
        l->out_c = dataset->window_flat ? dataset->window_len * dataset->window_channels : dataset->window_channels;
    } else if (st == SSCMA_OK) {
        /* the batch shape: from the pipeline, or the images themselves when they all have one size */
        bool fixed = false;
        int64_t h = 0, w = 0, c = 1;
        if (dataset->kind == DATASET_IDX)
            h = dataset->rows, w = dataset->cols;
        else if (dataset->size > 0) {
            uint8_t *px = NULL;
            bool borrowed = false;
            int32_t label;
            if ((st = sscma_dataset_read(dataset, 0, &px, &borrowed, &h, &w, &c, &label)) == SSCMA_OK && !borrowed)
                sscma_mfree(dataset->ctx, px);
        }
        if (st == SSCMA_OK &&
            !sscma_pipeline_output_shape(l->pipeline, h, w, c, &l->out_h, &l->out_w, &l->out_c, &fixed))
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "the pipeline gives no fixed image size: add a Resize");
        if (st == SSCMA_OK && dataset->kind != DATASET_IDX && !fixed)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "images of a %s may differ in size: the pipeline needs a Resize, "
                            "RandomCrop or Pad to a size", dataset->type);
    }
    json_t *target = st == SSCMA_OK ? lc.target : NULL;
    if (l != NULL)
        l->target_bytes = sizeof(int32_t);
    if (target != NULL && !json_is_null(target)) {
        json_t *type_value = json_object_get(target, "type");
        const char *type = json_string_value(type_value);
        target_cfg tc = {8, 100};
        bool kp = type != NULL && strcmp(type, "KeypointTarget") == 0;
        bool oh = type != NULL && strcmp(type, "OneHot") == 0;
        bool bt = type != NULL && strcmp(type, "BoxTarget") == 0;
        if (!json_is_object(target) || type == NULL || (strcmp(type, "FomoTarget") != 0 && !kp && !oh && !bt))
            st = sscma_schema_expected(__func__, "target", "type", "FomoTarget, BoxTarget, KeypointTarget or OneHot",
                                       type_value);
        else
            st = sscma_schema_read(kp || oh ? type_only_fields : bt ? box_target_fields : fomo_target_fields, target,
                                   __func__, "target", &tc);
        int64_t stride = tc.stride;
        if (st != SSCMA_OK) {
            /* reported */
        } else if (bt && dataset->kind != DATASET_BOXES)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target BoxTarget needs a dataset with boxes (CocoDataset, YoloDataset, "
                            "VOCDataset), not %s", dataset->type);
        else if (bt) {
            l->box_rows = true, l->max_boxes = tc.max_boxes;
            l->target_bytes = tc.max_boxes * 6 * (int64_t)sizeof(float);
        } else if (dataset->kind == DATASET_WINDOWS && !oh)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target %s needs images; a %s takes class labels or OneHot", type,
                            dataset->type);
        else if (oh && (dataset->kind == DATASET_BOXES || dataset->kind == DATASET_METER))
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target OneHot needs a classification dataset, not %s", dataset->type);
        else if (oh) {
            l->onehot = true;
            l->target_bytes = (int64_t)dataset->n_classes * (int64_t)sizeof(float);
        }
        else if (kp && dataset->kind != DATASET_METER)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target KeypointTarget needs a dataset with keypoints (MeterData), not "
                            "%s", dataset->type);
        else if (kp) {
            l->keypoints = true;
            l->target_bytes = 2 * (int64_t)dataset->n_keypoints * (int64_t)sizeof(float);
        }
        else if (dataset->kind != DATASET_BOXES)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target FomoTarget needs a dataset with boxes (CocoDataset, YoloDataset, VOCDataset), not %s",
                            dataset->type);
        else if (l->out_h % stride != 0 || l->out_w % stride != 0)
            st = SSCMA_FAIL(SSCMA_ERR_CONFIG, "target FomoTarget: the %lldx%lld images are not a multiple of the "
                            "stride %lld", (long long)l->out_h, (long long)l->out_w, (long long)stride);
        if (st == SSCMA_OK && !l->keypoints && !l->onehot && !l->box_rows) {
            l->fomo = true, l->stride = stride;
            l->grid_h = l->out_h / stride, l->grid_w = l->out_w / stride;
            l->target_bytes = l->grid_h * l->grid_w * (dataset->n_classes + 1) * (int64_t)sizeof(float);
        }
    }
    if (st == SSCMA_OK) {
        l->order = sscma_malloc(ctx, (size_t)(dataset->size > 0 ? dataset->size : 1) * sizeof *l->order);
        l->n_pool_scratch = ctx->options.num_threads;
        l->pool_scratch = sscma_calloc(ctx, (size_t)l->n_pool_scratch, sizeof *l->pool_scratch);
        if (l->order == NULL || l->pool_scratch == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the loader's buffers");
        else
            scratch_init(l->pool_scratch, l->n_pool_scratch, ctx);
    }
    if (st == SSCMA_OK && l->workers > 0) {
        const int64_t per = l->out_h * l->out_w * l->out_c;
        l->slots = sscma_calloc(ctx, (size_t)l->prefetch, sizeof *l->slots);
        l->worker_scratch = sscma_calloc(ctx, (size_t)l->workers, sizeof *l->worker_scratch);
        l->threads = sscma_calloc(ctx, (size_t)l->workers, sizeof *l->threads);
        if (l->slots == NULL || l->worker_scratch == NULL || l->threads == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the loader's workers");
        else
            scratch_init(l->worker_scratch, l->workers, ctx);
        for (int32_t i = 0; st == SSCMA_OK && i < l->prefetch; i++) {
            l->slots[i].images = sscma_malloc(ctx, (size_t)(l->batch_size * per) * sizeof(float));
            l->slots[i].targets = sscma_malloc(ctx, (size_t)(l->batch_size * l->target_bytes));
            if (l->slots[i].images == NULL || l->slots[i].targets == NULL)
                st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate %d batch slots", (int)l->prefetch);
        }
    }
    json_decref(cfg);
    if (st != SSCMA_OK) {
        sscma_loader_destroy(l);
        return st;
    }
    sscma_loader_start_epoch(l, 0);
    for (int32_t i = 0; i < l->workers; i++) {
        void **pair = sscma_malloc(ctx, 2 * sizeof *pair);
        if (pair == NULL)
            break;
        pair[0] = l, pair[1] = &l->worker_scratch[i];
        if (pthread_create(&l->threads[i], NULL, worker_main, pair) != 0) {
            sscma_mfree(ctx, pair);
            break;
        }
        l->started++;
    }
    if (l->workers > 0 && l->started == 0) {
        sscma_loader_destroy(l);
        return SSCMA_FAIL(SSCMA_ERR_INTERNAL, "cannot start any loader thread");
    }
    *out = l;
    return SSCMA_OK;
}

void sscma_loader_destroy(sscma_loader *loader)
{
    if (loader == NULL)
        return;
    if (loader->started > 0) {
        pthread_mutex_lock(&loader->lock);
        loader->stop = 1;
        pthread_cond_broadcast(&loader->changed);
        pthread_mutex_unlock(&loader->lock);
        for (int32_t i = 0; i < loader->started; i++)
            pthread_join(loader->threads[i], NULL);
    }
    for (int32_t i = 0; loader->slots != NULL && i < loader->prefetch; i++) {
        sscma_mfree(loader->ctx, loader->slots[i].images);
        sscma_mfree(loader->ctx, loader->slots[i].targets);
    }
    for (int32_t i = 0; loader->worker_scratch != NULL && i < loader->workers; i++)
        free_scratch(&loader->worker_scratch[i]);
    for (int32_t i = 0; loader->pool_scratch != NULL && i < loader->n_pool_scratch; i++)
        free_scratch(&loader->pool_scratch[i]);
    sscma_mfree(loader->ctx, loader->slots);
    sscma_mfree(loader->ctx, loader->worker_scratch);
    sscma_mfree(loader->ctx, loader->pool_scratch);
    sscma_mfree(loader->ctx, loader->threads);
    sscma_mfree(loader->ctx, loader->order);
    sscma_mfree(loader->ctx, loader->perm);
    sscma_pipeline_destroy(loader->pipeline);
    if (loader->cache != NULL)
        for (int64_t i = 0; i < loader->dataset->size; i++)
            sscma_mfree(loader->dataset->ctx, loader->cache[i].pixels);
    sscma_mfree(loader->ctx, loader->cache);
    pthread_mutex_destroy(&loader->cache_lock);
    pthread_cond_destroy(&loader->changed);
    pthread_mutex_destroy(&loader->lock);
    const sscma_context *ctx = loader->ctx;
    sscma_mfree(ctx, loader);
    sscma_context_release(ctx);
}

sscma_status sscma_loader_batches(const sscma_loader *loader, int64_t *out)
{
    SSCMA_REQUIRE_NONNULL(loader);
    SSCMA_REQUIRE_NONNULL(out);
    *out = loader->n_batches;
    return SSCMA_OK;
}

sscma_status sscma_loader_start_epoch(sscma_loader *loader, int64_t epoch)
{
    SSCMA_REQUIRE_NONNULL(loader);
    if (epoch < 0)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "epoch %lld is negative", (long long)epoch);
    pthread_mutex_lock(&loader->lock);
    /* Workers read the order and the augmentation seed while they build a batch, outside the lock: stop handing
     * out batches and wait for those in flight (their results are dropped) before rewriting them. */
    loader->produce_next = loader->n_batches;
    for (bool filling = true; filling;) {
        filling = false;
        for (int32_t i = 0; loader->slots != NULL && i < loader->prefetch; i++)
            filling = filling || loader->slots[i].state == SLOT_FILLING;
        if (filling)
            pthread_cond_wait(&loader->changed, &loader->lock);
    }
    int64_t n = loader->dataset->size;
    int64_t *perm = loader->shard_count > 1 ? loader->perm : loader->order;
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t stream = sscma_hash64(loader->seed ^ sscma_hash64((uint64_t)epoch + 0x5eed));
    if (loader->shuffle)
        for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates with counter-based draws */
            int64_t j = (int64_t)(sscma_hash64(stream ^ sscma_hash64((uint64_t)i)) % (uint64_t)(i + 1));
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
    loader->n_samples = n;
    if (loader->shard_count > 1 && n > 0) {
        /* DistributedSampler (mmengine's DefaultSampler, round_up): the global order padded with its own head to a
         * multiple of the shard count, then every shard_count-th entry from shard_rank */
        const int64_t w = loader->shard_count;
        loader->n_samples = loader->shard_unpadded ? (n - loader->shard_rank + w - 1) / w : (n + w - 1) / w;
        for (int64_t j = 0; j < loader->n_samples; j++)
            loader->order[j] = perm[(loader->shard_rank + j * w) % n];
    }
    loader->epoch = epoch;
    loader->aug_seed = sscma_hash64(stream + 1);
    const int64_t m = loader->n_samples;
    loader->n_batches = loader->drop_last ? m / loader->batch_size : (m + loader->batch_size - 1) / loader->batch_size;
    loader->consumed = 0;
    loader->gen++;
    loader->produce_next = 0;
    for (int32_t i = 0; loader->slots != NULL && i < loader->prefetch; i++)
        if (loader->slots[i].state == SLOT_READY)
            loader->slots[i].state = SLOT_EMPTY;
    pthread_cond_broadcast(&loader->changed);
    pthread_mutex_unlock(&loader->lock);
    return SSCMA_OK;
}

/* Checks that `t` is the loader's target tensor. */
static sscma_status check_target(const sscma_loader *l, const sscma_tensor *t)
{
    sscma_dtype dtype;
    int32_t rank = 0;
    int64_t d[4] = {0, 0, 0, 0}, n = 0;
    sscma_tensor_dtype(t, &dtype);
    sscma_tensor_rank(t, &rank);
    sscma_tensor_numel(t, &n);
    for (int32_t i = 0; i < rank && i < 4; i++)
        sscma_tensor_dim(t, i, &d[i]);
    if (l->onehot) {
        const int64_t k = l->dataset->n_classes;
        if (dtype != SSCMA_DTYPE_F32 || rank != 2 || d[0] != l->batch_size || d[1] != k)
            return sscma_fail(dtype != SSCMA_DTYPE_F32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE, "sscma_loader_next",
                              "one-hot targets must be f32[%lld, %lld]; got %s rank %d [%lld, %lld]",
                              (long long)l->batch_size, (long long)k, sscma_dtype_name(dtype), (int)rank,
                              (long long)d[0], (long long)d[1]);
        return SSCMA_OK;
    }
    if (l->box_rows) {
        if (dtype != SSCMA_DTYPE_F32 || rank != 3 || d[0] != l->batch_size || d[1] != l->max_boxes || d[2] != 6)
            return sscma_fail(dtype != SSCMA_DTYPE_F32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE, "sscma_loader_next",
                              "box targets must be f32[%lld, %lld, 6]; got %s rank %d [%lld, %lld, %lld]",
                              (long long)l->batch_size, (long long)l->max_boxes, sscma_dtype_name(dtype), (int)rank,
                              (long long)d[0], (long long)d[1], (long long)d[2]);
        return SSCMA_OK;
    }
    if (l->keypoints) {
        const int64_t per = 2 * (int64_t)l->dataset->n_keypoints;
        if (dtype != SSCMA_DTYPE_F32 || rank != 2 || d[0] != l->batch_size || d[1] != per)
            return sscma_fail(dtype != SSCMA_DTYPE_F32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE, "sscma_loader_next",
                              "keypoint targets must be f32[%lld, %lld]; got %s rank %d [%lld, %lld]",
                              (long long)l->batch_size, (long long)per, sscma_dtype_name(dtype), (int)rank,
                              (long long)d[0], (long long)d[1]);
        return SSCMA_OK;
    }
    if (!l->fomo) {
        if (dtype != SSCMA_DTYPE_I32 || n != l->batch_size)
            return sscma_fail(dtype != SSCMA_DTYPE_I32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE, "sscma_loader_next",
                              "labels must be i32[%lld]; got %s with %lld elements", (long long)l->batch_size,
                              sscma_dtype_name(dtype), (long long)n);
        return SSCMA_OK;
    }
    const int64_t ch = l->dataset->n_classes + 1;
    if (dtype != SSCMA_DTYPE_F32 || rank != 4 || d[0] != l->batch_size || d[1] != l->grid_h || d[2] != l->grid_w ||
        d[3] != ch)
        return sscma_fail(dtype != SSCMA_DTYPE_F32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE, "sscma_loader_next",
                          "FOMO targets must be f32[%lld, %lld, %lld, %lld]; got %s rank %d [%lld, %lld, %lld, %lld]",
                          (long long)l->batch_size, (long long)l->grid_h, (long long)l->grid_w, (long long)ch,
                          sscma_dtype_name(dtype), (int)rank, (long long)d[0], (long long)d[1], (long long)d[2],
                          (long long)d[3]);
    return SSCMA_OK;
}

sscma_status sscma_loader_target_shape(const sscma_loader *loader, sscma_dtype *dtype, int32_t *rank, int64_t dims[4])
{
    SSCMA_REQUIRE_NONNULL(loader);
    SSCMA_REQUIRE_NONNULL(dtype);
    SSCMA_REQUIRE_NONNULL(rank);
    SSCMA_REQUIRE_NONNULL(dims);
    dims[0] = loader->batch_size;
    if (loader->fomo) {
        *dtype = SSCMA_DTYPE_F32, *rank = 4;
        dims[1] = loader->grid_h, dims[2] = loader->grid_w, dims[3] = loader->dataset->n_classes + 1;
    } else if (loader->box_rows) {
        *dtype = SSCMA_DTYPE_F32, *rank = 3;
        dims[1] = loader->max_boxes, dims[2] = 6, dims[3] = 0;
    } else if (loader->keypoints) {
        *dtype = SSCMA_DTYPE_F32, *rank = 2;
        dims[1] = 2 * (int64_t)loader->dataset->n_keypoints, dims[2] = dims[3] = 0;
    } else if (loader->onehot) {
        *dtype = SSCMA_DTYPE_F32, *rank = 2;
        dims[1] = loader->dataset->n_classes, dims[2] = dims[3] = 0;
    } else {
        *dtype = SSCMA_DTYPE_I32, *rank = 1;
        dims[1] = dims[2] = dims[3] = 0;
    }
    return SSCMA_OK;
}

sscma_status sscma_loader_next(sscma_loader *loader, sscma_tensor *images, sscma_tensor *labels, int64_t *count)
{
    SSCMA_REQUIRE_NONNULL(loader);
    SSCMA_REQUIRE_NONNULL(images);
    SSCMA_REQUIRE_NONNULL(count);
    sscma_dtype dtype;
    int32_t rank = 0;
    int64_t d[4] = {0};
    sscma_tensor_dtype(images, &dtype);
    sscma_tensor_rank(images, &rank);
    for (int32_t i = 0; i < rank && i < 4; i++)
        sscma_tensor_dim(images, i, &d[i]);
    if (dtype != SSCMA_DTYPE_F32 || rank != 4 || d[0] != loader->batch_size || d[1] != loader->out_h ||
        d[2] != loader->out_w || d[3] != loader->out_c)
        return SSCMA_FAIL(dtype != SSCMA_DTYPE_F32 ? SSCMA_ERR_DTYPE : SSCMA_ERR_SHAPE,
                          "images must be f32[%lld, %lld, %lld, %lld] (batch, height, width, channels); got %s rank %d "
                          "[%lld, %lld, %lld, %lld]", (long long)loader->batch_size, (long long)loader->out_h,
                          (long long)loader->out_w, (long long)loader->out_c, sscma_dtype_name(dtype), (int)rank,
                          (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3]);
    unsigned char *label_data = NULL;
    if (labels != NULL) {
        sscma_status st = check_target(loader, labels);
        if (st != SSCMA_OK)
            return st;
        sscma_tensor_data(labels, (void **)&label_data);
    }
    float *image_data = NULL;
    sscma_tensor_data(images, (void **)&image_data);
    const size_t per = (size_t)(loader->out_h * loader->out_w * loader->out_c);
    if (loader->consumed >= loader->n_batches) {
        *count = 0;
        return SSCMA_OK;
    }
    int64_t batch = loader->consumed;
    if (loader->workers == 0) {
        int64_t n = batch_count(loader, batch);
        memset(image_data + (size_t)n * per, 0, (size_t)(loader->batch_size - n) * per * sizeof(float));
        unsigned char *targets = label_data;
        if (targets == NULL &&
            (targets = sscma_malloc(loader->ctx, (size_t)(loader->batch_size * loader->target_bytes))) == NULL)
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the batch's targets");
        memset(targets, 0, (size_t)(loader->batch_size * loader->target_bytes));
        sscma_status st = build_batch_sync(loader, batch, image_data, targets);
        if (targets != label_data)
            sscma_mfree(loader->ctx, targets);
        if (st != SSCMA_OK)
            return st;
        loader->consumed++;
        *count = n;
        return SSCMA_OK;
    }
    pthread_mutex_lock(&loader->lock);
    slot *sl = &loader->slots[batch % loader->prefetch];
    while (!(sl->state == SLOT_READY && sl->batch == batch && sl->gen == loader->gen))
        pthread_cond_wait(&loader->changed, &loader->lock);
    pthread_mutex_unlock(&loader->lock);
    sscma_status st = sl->st;
    if (st == SSCMA_OK) {
        memcpy(image_data, sl->images, (size_t)loader->batch_size * per * sizeof(float));
        if (label_data != NULL)
            memcpy(label_data, sl->targets, (size_t)(loader->batch_size * loader->target_bytes));
        *count = sl->count;
    } else {
        sscma_fail(st, "", "%s", sl->error);
    }
    pthread_mutex_lock(&loader->lock);
    sl->state = SLOT_EMPTY;
    loader->consumed++;
    pthread_cond_broadcast(&loader->changed);
    pthread_mutex_unlock(&loader->lock);
    return st;
}

sscma_status sscma_loader_batch_shape(const sscma_loader *loader, int64_t dims[4])
{
    SSCMA_REQUIRE_NONNULL(loader);
    SSCMA_REQUIRE_NONNULL(dims);
    dims[0] = loader->batch_size, dims[1] = loader->out_h, dims[2] = loader->out_w, dims[3] = loader->out_c;
    return SSCMA_OK;
}

/*
 * PipelineSwitchHook's switch: `list` (already mapped like the loader's own pipeline) replaces the pipeline, which
 * must give the same batch shape; the current epoch restarts (same order, same seed), so batches already prefetched
 * with the old pipeline are dropped.
 */
sscma_status sscma_loader_set_pipeline(sscma_loader *l, json_t *list)
{
    sscma_pipeline *p = NULL;
    sscma_status st = sscma_pipeline_create(l->ctx, list, &p);
    if (st != SSCMA_OK)
        return st;
    int64_t oh = 0, ow = 0, oc = 0;
    bool fixed = false;
    if (!sscma_pipeline_output_shape(p, 0, 0, l->out_c, &oh, &ow, &oc, &fixed) || !fixed || oh != l->out_h ||
        ow != l->out_w || oc != l->out_c) {
        sscma_pipeline_destroy(p);
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the switched pipeline must end in a fixed %lldx%lldx%lld (the loader's "
                          "batch shape); it gives %lldx%lldx%lld%s", (long long)l->out_h, (long long)l->out_w,
                          (long long)l->out_c, (long long)oh, (long long)ow, (long long)oc,
                          fixed ? "" : " or a size that depends on the image");
    }
    pthread_mutex_lock(&l->lock); /* no batch in flight reads the old pipeline */
    l->produce_next = l->n_batches;
    for (bool filling = true; filling;) {
        filling = false;
        for (int32_t i = 0; l->slots != NULL && i < l->prefetch; i++)
            filling = filling || l->slots[i].state == SLOT_FILLING;
        if (filling)
            pthread_cond_wait(&l->changed, &l->lock);
    }
    sscma_pipeline *old = l->pipeline;
    l->pipeline = p;
    pthread_mutex_unlock(&l->lock);
    sscma_pipeline_destroy(old);
    return sscma_loader_start_epoch(l, l->epoch);
}

sscma_status sscma_loader_set_shard(sscma_loader *l, int32_t rank, int32_t count)
{
    if (count < 1 || rank < 0 || rank >= count)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "shard %d of %d: expected 0 <= rank < count", (int)rank,
                          (int)count);
    if (count > 1 && l->perm == NULL) {
        const int64_t n = l->dataset->size > 0 ? l->dataset->size : 1;
        if ((l->perm = sscma_malloc(l->ctx, (size_t)n * sizeof *l->perm)) == NULL)
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the loader's shard order");
    }
    l->shard_rank = rank, l->shard_count = count, l->shard_unpadded = false;
    return sscma_loader_start_epoch(l, l->epoch);
}

bool sscma_loader_drops_last(const sscma_loader *l)
{
    return l != NULL && l->drop_last;
}

sscma_status sscma_loader_set_eval_shard(sscma_loader *l, int32_t rank, int32_t count)
{
    sscma_status st = sscma_loader_set_shard(l, rank, count);
    if (st == SSCMA_OK && count > 1) {
        l->shard_unpadded = true;
        st = sscma_loader_start_epoch(l, l->epoch);
    }
    return st;
}
