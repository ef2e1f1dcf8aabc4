/*
 * The micro runtime: an int8 TFLite model on a microcontroller, as TFLite Micro runs one, from the same kernel and
 * reader sources as libsscma's portable int8 backend (docs/deployment.md, "Microcontrollers").
 *
 * This header belongs to the static library libsscma-micro.a (meson target `sscma_micro`, cross files in cross/),
 * not to libsscma.so: nothing here is exported by the shared library. The library is freestanding apart from
 * newlib's string and math functions: no threads, no files, no heap. The caller gives one arena and the model's
 * bytes; every object the runtime makes lives in that arena, and the model bytes must stay readable (in flash)
 * while the runtime is used.
 *
 *   static uint8_t arena[200 * 1024] __attribute__((aligned(64)));
 *   sscma_micro *m;
 *   if (sscma_micro_init(arena, sizeof arena, model_tflite, model_tflite_len, &m) != SSCMA_OK)
 *       printf("%s\n", sscma_last_error());
 *   sscma_micro_tensor in, out;
 *   sscma_micro_input(m, 0, &in);          memcpy(in.data, image_int8, in.bytes);
 *   sscma_micro_invoke(m);
 *   sscma_micro_output(m, 0, &out);        // out.data: the int8 output, out.scale / out.zero_point
 *
 * Size rules. The arena holds (1) the runtime's description of the model: tensors, operators, their integer
 * parameters and the weights repacked for the portable GEMM (16-bit lanes), and (2) the activations, planned as
 * TFLite Micro plans them (greedy, by lifetime, 64-byte aligned), whose size is exactly `sscma info`'s int8 arena
 * figure for the model. sscma_micro_memory reports both after init; an arena that is too small fails init with
 * SSCMA_ERR_OUT_OF_MEMORY. The figure of (1) depends on the target's pointer size: measure it on the target (or in
 * its emulator, examples/mcu/) and give the arena that many bytes. The stack needs a few kilobytes beyond the
 * caller's own (the reader's quantization table of a tensor is on it: 32 KiB for tensors of up to 4096 channels).
 *
 * Errors are libsscma's: a status, and sscma_last_error() for the message (one buffer: the runtime has one thread).
 */
#ifndef SSCMA_MICRO_H
#define SSCMA_MICRO_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/predict.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_micro sscma_micro;

/* An input or output of the model: its buffer in the arena and how to read it. */
typedef struct sscma_micro_tensor {
    void *data;         /* rank dims of dtype, row-major (NHWC), valid until the arena is reused */
    size_t bytes;
    int32_t dtype;      /* an sscma_dtype: SSCMA_DTYPE_I8 for a full-integer model */
    int32_t rank;
    int32_t dims[4];
    float scale;        /* quantization: real = scale * (q - zero_point); scale 0 when not quantized */
    int32_t zero_point;
    const char *name;   /* the TFLite tensor's name */
} sscma_micro_tensor;

/*
 * Reads the TFLite model model[0 .. model_bytes) (an int8 model: every activation quantized) into the arena
 * (64-byte aligned, arena_bytes long) and plans its activations for one sample. *out lives in the arena.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL pointers, a misaligned arena), SSCMA_ERR_OUT_OF_MEMORY (the arena is too
 * small), SSCMA_ERR_FORMAT / SSCMA_ERR_UNSUPPORTED (the reader's messages), SSCMA_ERR_UNSUPPORTED (a float model).
 */
sscma_status sscma_micro_init(void *arena, size_t arena_bytes, const void *model, size_t model_bytes,
                              sscma_micro **out);

/* Describes input `index` (0 .. inputs - 1); fill out->data before sscma_micro_invoke. */
sscma_status sscma_micro_input(sscma_micro *m, int32_t index, sscma_micro_tensor *out);

/* Runs the model on its inputs' buffers. */
sscma_status sscma_micro_invoke(sscma_micro *m);

/* Describes output `index`; its data is valid after sscma_micro_invoke. */
sscma_status sscma_micro_output(sscma_micro *m, int32_t index, sscma_micro_tensor *out);

/*
 * What the arena holds: *used, every byte init needed (the most ever in use; an arena of this size suffices) and
 * *activations, the activation plan alone (`sscma info`'s int8 arena). Either may be NULL.
 */
sscma_status sscma_micro_memory(const sscma_micro *m, size_t *used, size_t *activations);

/*
 * SSCMA-Micro's post-processing of output 0 (RTMDet: of its six outputs) after sscma_micro_invoke, as sscma_predict
 * does it (docs/deployment.md): task "cls", "fomo", "pfld", "yolo", "rtmdet" or "anomaly" (NULL: the file's
 * "family" metadata, else recognised from the shapes as SSCMA-Micro does), score_threshold negative for
 * sscma_predict's default (the device's 0.25 for a file without metadata), iou_threshold for YOLO's and RTMDet's
 * NMS (0.45 is SSCMA-Micro's), results in the pixels of an image_w x image_h image. *count is the number found (it
 * may exceed capacity; the first capacity are written). The runtime needs no memory beyond the arena for it: the values and candidates take the
 * arena's free space (one candidate per output value, 32 bytes each; RTMDet: one per point), given back on return.
 * The anomaly VAE ("anomaly", family Vae_Model): one result, score = MSE(x_recon, x) + MSE(c_recon, c) from the input
 * the caller wrote (invoke leaves it in place) and the two outputs, class_id 1 when the score exceeds score_threshold
 * (negative: the "threshold" metadata), 0 when not, -1 without a threshold; image_w, image_h and iou_threshold unused.
 */
sscma_status sscma_micro_predict(sscma_micro *m, const char *task, float score_threshold, float iou_threshold,
                                 int32_t image_w, int32_t image_h, sscma_prediction *results, int32_t capacity,
                                 int32_t *count);

SSCMA_END_DECLS

#endif /* SSCMA_MICRO_H */
