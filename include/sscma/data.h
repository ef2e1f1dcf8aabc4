/*
 * libsscma data: datasets in the formats people have, the augmentation pipeline, and the batch loader.
 *
 * A dataset is opened from a config with SSCMA's registry names ({"type": "FashionMNIST", "data_root": ...,
 * "split": "train"}; docs/data.md lists every type and key). Samples are decoded on demand: an 8-bit image (H x W x
 * C, C = 1 or 3) and its annotations (a class label; later boxes and keypoints). A loader draws batches from a
 * dataset through a pipeline of transforms and writes them straight into the caller's tensors, typically a model's
 * input views, so no batch is copied twice. Every random choice depends only on the loader seed, the epoch and the
 * sample index: the same seed gives the same batches whatever the number of worker threads.
 */
#ifndef SSCMA_DATA_H
#define SSCMA_DATA_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_dataset sscma_dataset;
typedef struct sscma_sample sscma_sample;
typedef struct sscma_loader sscma_loader;

/*
 * Opens a dataset from a JSON config (copied). Reads the index and the annotations now (every structural defect is
 * reported here, naming the file and the record); images are decoded later. *out owns the dataset.
 * Errors: SSCMA_ERR_CONFIG (unknown type or key), SSCMA_ERR_IO (a missing file: the message names it),
 * SSCMA_ERR_FORMAT (a malformed file: the message names the file and the position), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_dataset_open(sscma_context *ctx, const char *config_json, sscma_dataset **out);

/* Destroys a dataset. NULL is a no-op. Destroy loaders using it first. */
SSCMA_API void sscma_dataset_destroy(sscma_dataset *dataset);

/* Stores the number of samples in *out. */
SSCMA_API sscma_status sscma_dataset_size(const sscma_dataset *dataset, int64_t *out);

/* Stores the number of classes in *out. */
SSCMA_API sscma_status sscma_dataset_num_classes(const sscma_dataset *dataset, int32_t *out);

/* Stores the name of class `index` in *out (owned by the dataset). Errors: index out of range. */
SSCMA_API sscma_status sscma_dataset_class_name(const sscma_dataset *dataset, int32_t index, const char **out);

/*
 * Decodes sample `index` (its image and annotations) into a new sample that *out owns (sscma_sample_destroy).
 * Errors: index out of range; SSCMA_ERR_FORMAT / SSCMA_ERR_IO for an undecodable or missing image (the message
 * names the file); SSCMA_ERR_UNSUPPORTED for an image larger than the dataset's max_pixels.
 */
SSCMA_API sscma_status sscma_dataset_get(const sscma_dataset *dataset, int64_t index, sscma_sample **out);

/*
 * Walks the whole dataset, decoding every image, and reports every problem found, one per line, in a string
 * *report owned by the dataset (empty when all is well); *problems receives their count. Either output may be
 * NULL. Errors: NULL dataset, SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_dataset_check(sscma_dataset *dataset, int64_t *problems, const char **report);

/* Destroys a sample. NULL is a no-op. */
SSCMA_API void sscma_sample_destroy(sscma_sample *sample);

/* Stores a view of the sample's image (u8 [H, W, C]) in *out, owned by the sample. For a dataset of windows
 * (SensorDataset) the view is the window: f32 [channels, length], each axis's values in a row. */
SSCMA_API sscma_status sscma_sample_image(const sscma_sample *sample, sscma_tensor **out);

/* Stores the sample's class label in *out (-1 if it has none). */
SSCMA_API sscma_status sscma_sample_label(const sscma_sample *sample, int32_t *out);

/*
 * Stores the sample's boxes: their number in *count, and pointers (owned by the sample) to 4 * count floats
 * x1, y1, x2, y2 in pixels of the decoded image and to count class indices. Datasets without boxes give 0 and NULL
 * pointers. Either array pointer may be NULL. Errors: NULL sample or count.
 */
SSCMA_API sscma_status sscma_sample_boxes(const sscma_sample *sample, int32_t *count, const float **boxes,
                                          const int32_t **labels);

/*
 * Stores the sample's keypoints (MeterData): their number in *count and, in *xy when not NULL, a pointer (owned by
 * the sample) to 2 * count floats x, y in pixels. Datasets without keypoints give 0 and NULL. Errors: NULL arguments.
 */
SSCMA_API sscma_status sscma_sample_keypoints(const sscma_sample *sample, int32_t *count, const float **xy);

/*
 * Composes a detection dataset from the classification dataset `source` (its objects pasted at random positions and
 * scales onto procedural backgrounds, with exact boxes) and writes it as a COCO dataset in Roboflow's layout
 * (out_dir/train/_annotations.coco.json and PNG images; also valid/, test/), readable by CocoDataset:
 *   {"out_dir": "data/fashion_det", "image_size": [96, 96], "splits": {"train": 1000, "valid": 200},
 *    "classes": [0, 1, 7, 8], "objects": [1, 5], "scale": [1.0, 1.5], "max_iou": 0.1, "seed": 0, "name": "fashion"}
 * (docs/data.md gives the defaults). "format": "meter" writes one object per image and a MeterData index of its
 * box centre and top-left corner instead (a keypoint set); "backgrounds": "<folder>" pastes onto its photos. Every file is written atomically, the annotation file of a split last. The same
 * config gives the same files. A SensorDataset source gives a new Edge Impulse export of its windows instead, a
 * Speechcommand source a new Speech Commands layout of its clips (16-bit WAV class folders, validation_list.txt,
 * testing_list.txt); both take the keys out_dir, splits, classes (default: every class with a sample), seed
 * (docs/data.md). Errors: SSCMA_ERR_CONFIG (the message names the key), SSCMA_ERR_IO naming the path,
 * SSCMA_ERR_UNSUPPORTED for a SensorDataset with feature images.
 */
SSCMA_API sscma_status sscma_compose_detection(const sscma_dataset *source, const char *config_json);

/*
 * Creates a loader that draws batches from `dataset` (which must outlive it) through the pipeline described by
 * `config_json`:
 *   {"batch_size": 64, "shuffle": true, "drop_last": false, "num_workers": 0, "prefetch": 2, "seed": 0,
 *    "pipeline": [{"type": "Resize", "size": [32, 32]}, {"type": "RandomFlip", "prob": 0.5},
 *                 {"type": "Normalize", "mean": [128], "std": [64]}]}
 * The pipeline's last image size and channel count fix the batch shape [batch_size, H, W, C] (docs/data.md lists the
 * transforms). num_workers 0 prepares batches in the calling thread (on the context's pool); N > 0 starts N threads
 * that prepare up to `prefetch` batches ahead. Errors: SSCMA_ERR_CONFIG (the message names the key),
 * SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_loader_create(sscma_context *ctx, sscma_dataset *dataset, const char *config_json,
                                           sscma_loader **out);

/* Stops the loader's threads and destroys it. NULL is a no-op. */
SSCMA_API void sscma_loader_destroy(sscma_loader *loader);

/*
 * Stores the loader's batch shape in dims: [batch_size, H, W, C] of the images it writes (labels are [batch_size]).
 */
SSCMA_API sscma_status sscma_loader_batch_shape(const sscma_loader *loader, int64_t dims[4]);

/*
 * Describes the loader's targets: i32 [batch_size] class labels (rank 1), or with a "target" encoder in the config
 * ({"type": "FomoTarget", "stride": 8}, detection datasets) f32 [batch_size, H / stride, W / stride, classes + 1],
 * or ({"type": "BoxTarget", "max_boxes": M}) f32 [batch_size, M, 6]: rows class, x1, y1, x2, y2, 1 per box, then
 * zero rows (docs/data.md lists every encoder).
 */
SSCMA_API sscma_status sscma_loader_target_shape(const sscma_loader *loader, sscma_dtype *dtype, int32_t *rank,
                                                 int64_t dims[4]);

/* Stores the number of batches per epoch in *out (drop_last counts only full batches). */
SSCMA_API sscma_status sscma_loader_batches(const sscma_loader *loader, int64_t *out);

/*
 * Starts epoch `epoch` (0-based): the sample order is a permutation seeded by (seed, epoch) when shuffling, and
 * augmentations are seeded by (seed, epoch, sample index). Errors: NULL, a negative epoch.
 */
SSCMA_API sscma_status sscma_loader_start_epoch(sscma_loader *loader, int64_t epoch);

/*
 * Writes the next batch of the epoch into `images` (f32 [batch_size, H, W, C]) and `labels` (the targets: i32
 * [batch_size] labels, or the encoded targets of sscma_loader_target_shape; may be NULL) and
 * its sample count into *count (smaller than batch_size for a last partial batch; 0 when the epoch is over; unused
 * rows are zero). Errors: SSCMA_ERR_SHAPE / SSCMA_ERR_DTYPE for tensors that do not match the loader's batch shape
 * (the message shows both), a sample's decoding error (the message names the file).
 */
SSCMA_API sscma_status sscma_loader_next(sscma_loader *loader, sscma_tensor *images, sscma_tensor *labels,
                                         int64_t *count);

/*
 * Reads one audio file (any WAV libsndfile decodes: PCM 8/16/24/32 bits, float, any channels and rate) as a
 * Speechcommand dataset reads a validation clip: channels averaged to mono, resampled to `sampling_rate` Hz, raised
 * 0.5 dB and clamped when `lower_volume` is nonzero (SSCMA's), divided by its peak (a silent clip stays zeros), centre-cropped or
 * zero-padded behind to `segment_length` samples. *out receives a new f32 tensor [1, segment_length], the window
 * sscma_predict takes for an Audio_classify model. Errors: NULL arguments, a rate outside 1..1000000 or a length
 * outside 1..2^28 (SSCMA_ERR_INVALID_ARGUMENT), SSCMA_ERR_IO (a missing file), SSCMA_ERR_FORMAT (not audio: the message names the file).
 */
SSCMA_API sscma_status sscma_audio_clip_read(sscma_context *ctx, const char *path, int64_t sampling_rate,
                                             int64_t segment_length, int32_t lower_volume, sscma_tensor **out);

SSCMA_END_DECLS

#endif /* SSCMA_DATA_H */
