/* TensorBoard event files: TFRecord framing around protobuf-c Events (tfevents.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "tfevents.pb-c.h"
#include "train/tfevents.h"

#define WHERE "tensorboard"

struct sscma_tfevents {
    const sscma_context *ctx;
    FILE *f;
    char path[4200];
};

uint32_t sscma_crc32c(const void *data, size_t n)
{
    /* bit by bit: event records are a few hundred bytes, and no table means nothing shared between threads */
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

uint32_t sscma_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* One TFRecord: length, masked CRC of the length, the bytes, masked CRC of the bytes. */
static sscma_status write_record(sscma_tfevents *tf, const SscmaTb__Event *ev)
{
    size_t n = sscma_tb__event__get_packed_size(ev);
    uint8_t *buf = sscma_malloc(tf->ctx, n + 16);
    if (buf == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate an event of %zu bytes", n);
    put_le(buf, (uint64_t)n, 8);
    put_le(buf + 8, sscma_crc32c_mask(sscma_crc32c(buf, 8)), 4);
    sscma_tb__event__pack(ev, buf + 12);
    put_le(buf + 12 + n, sscma_crc32c_mask(sscma_crc32c(buf + 12, n)), 4);
    bool ok = fwrite(buf, 1, n + 16, tf->f) == n + 16 && fflush(tf->f) == 0;
    sscma_mfree(tf->ctx, buf);
    return ok ? SSCMA_OK : sscma_fail(SSCMA_ERR_IO, WHERE, "cannot write %s: %s", tf->path, strerror(errno));
}

sscma_status sscma_tfevents_open(const sscma_context *ctx, const char *dir, sscma_tfevents **out)
{
    sscma_tfevents *tf = sscma_calloc(ctx, 1, sizeof *tf);
    if (tf == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the event writer");
    tf->ctx = ctx;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(tf->path, sizeof tf->path, "%s/events.out.tfevents.%lld.%s", dir, (long long)time(NULL), host);
    if ((tf->f = fopen(tf->path, "ab")) == NULL) {
        sscma_status st = sscma_fail(SSCMA_ERR_IO, WHERE, "cannot open %s: %s", tf->path, strerror(errno));
        sscma_mfree(ctx, tf);
        return st;
    }
    SscmaTb__Event ev = SSCMA_TB__EVENT__INIT;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev.has_wall_time = 1;
    ev.wall_time = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    ev.what_case = SSCMA_TB__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)"brain.Event:2";
    sscma_status st = write_record(tf, &ev);
    if (st != SSCMA_OK) {
        sscma_tfevents_close(tf);
        return st;
    }
    *out = tf;
    return SSCMA_OK;
}

sscma_status sscma_tfevents_scalars(sscma_tfevents *tf, int64_t step, double wall_time, const char *const *tags,
                                    const float *values, int n)
{
    SscmaTb__SummaryValue vals[32];
    SscmaTb__SummaryValue *ptrs[32];
    if (n > 32)
        n = 32;
    for (int i = 0; i < n; i++) {
        sscma_tb__summary_value__init(&vals[i]);
        vals[i].tag = (char *)tags[i];
        vals[i].has_simple_value = 1;
        vals[i].simple_value = values[i];
        ptrs[i] = &vals[i];
    }
    SscmaTb__Summary sum = SSCMA_TB__SUMMARY__INIT;
    sum.n_value = (size_t)n;
    sum.value = ptrs;
    SscmaTb__Event ev = SSCMA_TB__EVENT__INIT;
    ev.has_wall_time = 1, ev.wall_time = wall_time;
    ev.has_step = 1, ev.step = step;
    ev.what_case = SSCMA_TB__EVENT__WHAT_SUMMARY;
    ev.summary = &sum;
    return write_record(tf, &ev);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sscma_status sscma_tfevents_image(sscma_tfevents *tf, int64_t step, double wall_time, const char *tag,
                                  const void *png, size_t size)
{
    /* PNG: the 8-byte signature, then the IHDR chunk (length 13, "IHDR", width, height, depth, colour type, ...) */
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *p = png;
    if (p == NULL || size < 33 || memcmp(p, signature, 8) != 0 || get_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "image summary \"%s\": the %zu bytes are not a PNG file (no "
                          "signature and IHDR chunk)", tag, size);
    const uint32_t width = get_be32(p + 16), height = get_be32(p + 20);
    const uint8_t colour = p[25];
    /* TensorBoard's colorspace: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (a palette image is shown as RGB) */
    const int32_t colorspace = colour == 0 ? 1 : colour == 4 ? 2 : colour == 6 ? 4 : 3;
    if (width == 0 || height == 0 || width > INT32_MAX || height > INT32_MAX)
        return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "image summary \"%s\": the PNG's IHDR declares %u x %u pixels",
                          tag, (unsigned)width, (unsigned)height);
    SscmaTb__SummaryImage image = SSCMA_TB__SUMMARY_IMAGE__INIT;
    image.has_height = image.has_width = image.has_colorspace = image.has_encoded_image_string = 1;
    image.height = (int32_t)height, image.width = (int32_t)width, image.colorspace = colorspace;
    image.encoded_image_string.data = (uint8_t *)p;
    image.encoded_image_string.len = size;
    SscmaTb__SummaryValue value = SSCMA_TB__SUMMARY_VALUE__INIT;
    value.tag = (char *)tag;
    value.image = &image;
    SscmaTb__SummaryValue *ptr = &value;
    SscmaTb__Summary sum = SSCMA_TB__SUMMARY__INIT;
    sum.n_value = 1;
    sum.value = &ptr;
    SscmaTb__Event ev = SSCMA_TB__EVENT__INIT;
    ev.has_wall_time = 1, ev.wall_time = wall_time;
    ev.has_step = 1, ev.step = step;
    ev.what_case = SSCMA_TB__EVENT__WHAT_SUMMARY;
    ev.summary = &sum;
    return write_record(tf, &ev);
}

const char *sscma_tfevents_path(const sscma_tfevents *tf)
{
    return tf->path;
}

void sscma_tfevents_close(sscma_tfevents *tf)
{
    if (tf == NULL)
        return;
    if (tf->f != NULL)
        fclose(tf->f);
    sscma_mfree(tf->ctx, tf);
}
