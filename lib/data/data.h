/* Internal declarations of the data module: datasets, samples, images, the pipeline. */
#ifndef SSCMA_LIB_DATA_DATA_H
#define SSCMA_LIB_DATA_DATA_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

#include "core/internal.h"
#include "sscma/data.h"

/* Default bound on decoded image size (decompression bombs): 40 megapixels. */
#define SSCMA_DEFAULT_MAX_PIXELS ((int64_t)40 * 1000 * 1000)

/* DATASET_WINDOWS: 1-D float windows (sensor axes in memory; audio clips decoded per read), read with sscma_dataset_window. */
typedef enum dataset_kind { DATASET_IDX, DATASET_FOLDER, DATASET_BOXES, DATASET_METER, DATASET_WINDOWS } dataset_kind;

struct sscma_dataset {
    sscma_context *ctx;
    char type[32];
    dataset_kind kind;
    int64_t size;
    int32_t n_classes;
    char **class_names;
    int64_t max_pixels;
    /* IDX: all images in memory */
    uint8_t *idx_images;
    int64_t rows, cols;
    uint8_t *idx_labels;
    /* folder and COCO: one file per sample */
    char **paths;
    int32_t *labels;
    /* detection (COCO): declared width and height per image, and its boxes ann_start[i] .. ann_start[i + 1] - 1
     * (x1, y1, x2, y2 in declared pixels) with their class indices */
    int32_t *img_size;
    int64_t *ann_start;
    float *boxes;
    int32_t *box_labels;
    int64_t boxes_clipped, crowd_skipped;
    /* keypoints (MeterData): n_keypoints (x, y) pairs per sample, in pixels */
    float *keypoints;
    int32_t n_keypoints;
    /* windows (SensorDataset): size windows of window_channels x window_len floats, channel-major (each channel's
     * window_len values in a row); labels[i] their classes. window_flat: the loader gives [N, 1, 1, C * L] in that
     * order (SSCMA's flatten); otherwise [N, 1, L, C] (time steps along the width, a channel per axis, NHWC). */
    float *windows;
    int64_t window_len, window_channels;
    bool window_flat;
    /* window_h > 0: each channel's window_len values are a window_h x (window_len / window_h) image, row-major (the
     * "features" option); the loader gives [N, window_h, window_len / window_h, C]. window_interval_ms: the rows'
     * interval (what compose writes), 0 if unknown. */
    int64_t window_h;
    bool window_features; /* "features": the windows are no longer the recordings' rows (compose refuses them) */
    double window_interval_ms;
    struct sscma_audio_set *audio; /* Speechcommand (data/audio.h): windows decoded from paths when read */
    char *report; /* the last check's report */
    /*
     * on_defect "skip": a record-level defect (a bad box, an unknown category, a duplicate id, a missing image) does
     * not fail the open; the record is left out and the defect listed here, one line each, for sscma_dataset_check
     * (sscma_dataset_defect). "fail" (the default): the first one fails the open.
     */
    bool skip_defects;
    char *defects;
    size_t defects_len;
    int64_t n_defects;
    /* "indices": the samples kept, in the full dataset's numbering (NULL = all); size counts only those */
    int64_t *subset;
    int64_t full_size;
};

struct sscma_sample {
    sscma_context *ctx;
    uint8_t *pixels; /* a block of ctx, H * W * C */
    int64_t h, w, c;
    int32_t label;
    sscma_tensor *view;
    int32_t n_boxes;
    float *boxes; /* x1, y1, x2, y2 in the decoded image's pixels */
    int32_t *box_labels;
    int32_t n_keypoints;
    float *keypoints; /* x, y in pixels */
    float *window; /* windows datasets: channels x length floats (view: f32 [channels, length]); pixels is NULL */
};

/* Growing lists of strings from ctx (folder scans): start with `sscma_strlist list = {.ctx = ds->ctx};`. Freeing
 * keeps ctx. */
typedef struct sscma_strlist {
    const sscma_context *ctx;
    char **items;
    int64_t count, cap;
} sscma_strlist;
bool sscma_strlist_push(sscma_strlist *l, const char *s);
void sscma_strlist_free(sscma_strlist *l);
/* The "classes" list of a config (a non-empty list of names) appended to names. */
sscma_status sscma_class_list(json_t *classes, sscma_strlist *names);
/* True for .jpg, .jpeg, .png, .bmp (any case). */
bool sscma_is_image_name(const char *name);
/* Appends the image files under dir (sorted; recursively below depth 32) to out. Errors name the folder. */
sscma_status sscma_scan_images(const char *dir, sscma_strlist *out, int depth);
/* The same for files ending in `ext` (".txt"; NULL = images). */
sscma_status sscma_scan_files(const char *dir, const char *ext, sscma_strlist *out, int depth);

/* Format readers: fill the dataset's index from its config, or fail naming the file and position. */
/*
 * A defect of one record of `file`. With on_defect "fail" it is the open's error: returns `status` with the message
 * set (the caller stops). With "skip" it is listed ("<file>: <message>") and SSCMA_OK returned: the caller leaves the
 * record out and goes on.
 */
sscma_status sscma_dataset_defect(sscma_dataset *ds, sscma_status status, const char *file, const char *fmt, ...)
    SSCMA_PRINTF(4, 5);
sscma_status sscma_dataset_vdefect(sscma_dataset *ds, sscma_status status, const char *file, const char *fmt,
                                   va_list args);

/*
 * Whether name is valid UTF-8 (RFC 3629, as jansson checks: class names travel into JSON); if not, writes it to esc
 * (size bytes) with every byte outside a valid sequence, and every control character, as \\xNN.
 */
bool sscma_utf8_or_escape(const char *name, char *esc, size_t size);

sscma_status sscma_idx_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_folder_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_coco_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_meter_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_yolo_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_voc_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_sensor_open(sscma_dataset *ds, json_t *config);
sscma_status sscma_audio_open(sscma_dataset *ds, json_t *config);

/*
 * Window `index` (after indices) of a windows dataset into out (window_channels * window_len floats) in the loader's
 * order: channel-major when window_flat, else time-major (out[t * C + c]); its class in *label. Images datasets:
 * SSCMA_ERR_UNSUPPORTED. The one way to a 1-D sample, so audio can decode here where sensors copy.
 */
sscma_status sscma_dataset_window(const sscma_dataset *ds, int64_t index, float *out, int32_t *label);
/* The same for the loader's batches: a dataset's own random choices (an audio clip's training crop and background
 * mix) drawn from (seed, index); other datasets as sscma_dataset_window. */
sscma_status sscma_dataset_window_seeded(const sscma_dataset *ds, int64_t index, uint64_t seed, float *out,
                                         int32_t *label);

/*
 * The boxes of sample `index` (after indices), scaled from the declared image size to the decoded w x h: copies
 * into blocks of ds->ctx (*boxes 4 per box). *count 0 and NULL arrays for datasets without boxes.
 */
/* The keypoints of sample `index` (MeterData), copied into a block of ds->ctx
 * of 2 * count floats. */
sscma_status sscma_dataset_keypoints(const sscma_dataset *ds, int64_t index, int32_t *count, float **xy);

sscma_status sscma_dataset_boxes(const sscma_dataset *ds, int64_t index, int64_t w, int64_t h, int32_t *count,
                                 float **boxes, int32_t **labels);

/*
 * Decodes an image file (JPEG, PNG, BMP) into 8-bit pixels with `channels` (1 or 3; 0 = as stored, 1 or 3).
 * Images over max_pixels are refused before decoding their pixels. *pixels is a block of ctx (sscma_mfree).
 */
sscma_status sscma_image_decode(const sscma_context *ctx, const char *path, int64_t max_pixels, int channels,
                              uint8_t **pixels, int64_t *h, int64_t *w, int64_t *c);

/* The sample's raw pixels and label, without wrapping (for the loader). pixels is a block of ds->ctx
 * (sscma_mfree with ds->ctx) unless borrowed. */
sscma_status sscma_dataset_read(const sscma_dataset *ds, int64_t index, uint8_t **pixels, bool *borrowed,
                                int64_t *h, int64_t *w, int64_t *c, int32_t *label);

/* ---- pipeline ---- */

typedef struct sscma_pipeline sscma_pipeline;

/* A float image being transformed: HWC, values 0..255 until Normalize. Buffers are owned by the worker. */
typedef struct sscma_image {
    const sscma_context *ctx; /* data is a header-prefixed block of ctx (sscma_malloc family) */
    float *data;
    int64_t h, w, c;
    size_t capacity; /* floats */
    /* boxes moved with the image: x1, y1, x2, y2 in pixels, and their labels (owned by the caller; transforms may
     * drop boxes that leave the image, lowering n_boxes) */
    float *boxes;
    int32_t *box_labels;
    int32_t n_boxes;
    /* keypoints moved with the image (x, y pairs; never dropped) */
    float *keypoints;
    int32_t n_keypoints;
    /* the allocator of boxes, box_labels and keypoints (NULL: ctx) and the boxes' room (0: n_boxes): transforms that
     * add boxes (Mosaic, YOLOv5MixUp) replace the arrays by larger blocks of box_ctx */
    const sscma_context *box_ctx;
    int32_t box_capacity;
} sscma_image;

/*
 * Where mix transforms (Mosaic, YOLOv5MixUp) get other samples: load(arg, index, img) fills img (whose ctx is set)
 * with sample index's float pixels (0..255, grown within img->ctx), its boxes and labels as blocks of img->box_ctx
 * (which load sets). size: the number of samples. The loader gives its dataset this way.
 */
typedef struct sscma_sample_source {
    int64_t size;
    void *arg;
    sscma_status (*load)(void *arg, int64_t index, sscma_image *img);
} sscma_sample_source;

sscma_status sscma_pipeline_create(sscma_context *ctx, json_t *list, sscma_pipeline **out);
void sscma_pipeline_destroy(sscma_pipeline *p);
/* The output shape for an input of h x w x c; false if it depends on the image (no fixed-size transform). */
bool sscma_pipeline_output_shape(const sscma_pipeline *p, int64_t h, int64_t w, int64_t c, int64_t *oh, int64_t *ow,
                                 int64_t *oc, bool *fixed);
/*
 * Runs the pipeline on `img` (in place, using `scratch` as the second buffer; both grow within their ctx). Random
 * choices come from (seed, sample): the same pair gives the same result.
 */
sscma_status sscma_pipeline_apply(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                  uint64_t sample);
/* The same with a source of other samples for the mix transforms (NULL: a mix transform fails, saying so). The
 * other samples and their pre_transform draw from (seed, sample, the transform's position), never from the order
 * in which samples are built. */
sscma_status sscma_pipeline_apply_mixed(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch,
                                        uint64_t seed, uint64_t sample, const sscma_sample_source *source);

/* ---- loader ---- */

/* Replaces the loader's pipeline (PipelineSwitchHook): `list` as the loader's "pipeline" (transforms by registry
 * name, loading steps already dropped), giving the same batch shape; the current epoch restarts. */
sscma_status sscma_loader_set_pipeline(sscma_loader *l, json_t *list);

/*
 * Makes the loader read shard `rank` of `count` (data-parallel training, lib/train/dist.h), as PyTorch's
 * DistributedSampler and mmengine's DefaultSampler do: each epoch's global order (the same as one process's) is
 * padded with its own head to a multiple of `count`, and the shard takes every count-th entry from `rank`. With a
 * per-shard batch B, batch k of the shards together holds entries [k*B*count, (k+1)*B*count) of the global order:
 * one process's batch k at batch size B*count. count 1 restores the whole order. The current epoch restarts.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT (rank outside [0, count)), SSCMA_ERR_OUT_OF_MEMORY.
 */
sscma_status sscma_loader_set_shard(sscma_loader *l, int32_t rank, int32_t count);
/* The same for evaluation (sharded validation): no padding, so every sample is in exactly one shard; shard r takes
 * entries r, r + count, ... of the order (shards r >= size % count have one fewer when count does not divide it). */
sscma_status sscma_loader_set_eval_shard(sscma_loader *l, int32_t rank, int32_t count);

/* Whether the loader drops each epoch's last partial batch (drop_last): an evaluation shard would then miss samples. */
bool sscma_loader_drops_last(const sscma_loader *l);

#endif /* SSCMA_LIB_DATA_DATA_H */
