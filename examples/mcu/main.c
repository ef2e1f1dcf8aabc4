/*
 * The firmware: an int8 model exported by `sscma export --format c`, run by the micro runtime on the inputs of a
 * host file read through semihosting; every output goes to another host file and the predictions to the console.
 *   qemu-system-arm -M mps3-an547 -nographic -semihosting-config enable=on,target=native,arg=fw,arg=IN,arg=OUT \
 *       -kernel firmware.elf
 * IN holds the model's input tensors back to back (int8, as the camera pipeline quantizes them), OUT receives the
 * output tensors back to back: per input, every output of the model in its order (RTMDet's six: cls_0..2,
 * dist_0..2 as the file lists them), then the next input's. A third argument names SSCMA-Micro's task (cls, fomo,
 * pfld, yolo, rtmdet, anomaly: the VAE, one line with its score and decision).
 */
#include <stdio.h>
#include <string.h>

#include <sscma/micro.h>

#include "semihost.h"

/* MODEL: the C array's symbol (the exported file's stem), set by the build. */
#ifndef MODEL
#  define MODEL model
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
extern const unsigned char MODEL[];
extern const unsigned int CAT(MODEL, _len);

#ifndef ARENA_BYTES
#  define ARENA_BYTES (1024 * 1024)
#endif
__attribute__((section(".arena"), aligned(64))) static unsigned char arena[ARENA_BYTES];

uint32_t stack_used_bytes(void);

static int fail(const char *what)
{
    printf("error: %s: %s\n", what, sscma_last_error());
    return 1;
}

/* "-1.234" with three decimals: nano.specs's printf has no %f. */
static void put_milli(float v)
{
    long m = (long)(v * 1000.0f + (v < 0 ? -0.5f : 0.5f));
    printf("%s%ld.%03ld", m < 0 ? "-" : "", (m < 0 ? -m : m) / 1000, (m < 0 ? -m : m) % 1000);
}

int main(void)
{
    char cmd[256] = "";
    char *argv[4] = {0};
    int argc = 0;
    if (semihost_cmdline(cmd, sizeof cmd) == 0)
        for (char *p = strtok(cmd, " "); p != NULL && argc < 4; p = strtok(NULL, " "))
            argv[argc++] = p;
    const char *in_path = argc > 1 ? argv[1] : "input.bin", *out_path = argc > 2 ? argv[2] : "output.bin";
    const char *task = argc > 3 ? argv[3] : NULL;

    sscma_micro *m = NULL;
    if (sscma_micro_init(arena, sizeof arena, MODEL, CAT(MODEL, _len), &m) != SSCMA_OK)
        return fail("init");
    size_t used = 0, activations = 0;
    sscma_micro_memory(m, &used, &activations);
    printf("model %u bytes; arena %u bytes used, of which activations %u\n", (unsigned)CAT(MODEL, _len),
           (unsigned)used, (unsigned)activations);
    sscma_micro_tensor in, out[8];
    if (sscma_micro_input(m, 0, &in) != SSCMA_OK || sscma_micro_output(m, 0, &out[0]) != SSCMA_OK)
        return fail("tensors");
    int n_out = 1;
    unsigned out_bytes = (unsigned)out[0].bytes;
    while (n_out < 8 && sscma_micro_output(m, n_out, &out[n_out]) == SSCMA_OK)
        out_bytes += (unsigned)out[n_out++].bytes;
    printf("input %s [%d, %d, %d, %d], output %s", in.name, (int)in.dims[0], (int)in.dims[1], (int)in.dims[2],
           (int)in.dims[3], out[0].name);
    if (n_out > 1)
        printf(" and %d more", n_out - 1);
    printf(" (%u bytes)\n", out_bytes);
    int fi = semihost_open(in_path, 0), fo = semihost_open(out_path, 1);
    if (fi < 0 || fo < 0) {
        printf("error: cannot open %s or %s\n", in_path, out_path);
        return 1;
    }
    int images = 0;
    while (semihost_read(fi, in.data, in.bytes) == (long)in.bytes) {
        if (sscma_micro_invoke(m) != SSCMA_OK)
            return fail("invoke");
        for (int k = 0; k < n_out; k++)
            if (semihost_write(fo, out[k].data, out[k].bytes) != (long)out[k].bytes) {
                printf("error: cannot write %s\n", out_path);
                return 1;
            }
        sscma_prediction p[8];
        int32_t n = 0;
        if (sscma_micro_predict(m, task, -1.0f, 0.45f, (int32_t)in.dims[2], (int32_t)in.dims[1], p, 8, &n) !=
            SSCMA_OK)
            return fail("predict");
        printf("image %d: %d prediction(s)", images, (int)n);
        for (int32_t k = 0; k < n && k < 8; k++) {
            printf("%s class %d score ", k ? ";" : ":", (int)p[k].class_id);
            put_milli(p[k].score);
            printf(" at ");
            put_milli(p[k].x);
            printf(", ");
            put_milli(p[k].y);
            if (p[k].w != 0.0f || p[k].h != 0.0f) { /* boxes: their size */
                printf(" size ");
                put_milli(p[k].w);
                printf(" x ");
                put_milli(p[k].h);
            }
        }
        printf("\n");
        images++;
    }
    semihost_close(fi);
    semihost_close(fo);
    printf("images %d; stack %u bytes used\n", images, (unsigned)stack_used_bytes());
    return 0;
}
