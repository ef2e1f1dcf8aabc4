/* sscma infer: a trained checkpoint or a .tflite file run on images, as the device runs it (sscma_predict). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h> /* Debian's libstb */

#include "cli.h"

#define MAX_RESULTS 256

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const uint8_t palette[8][3] = {{230, 25, 75},  {60, 180, 75},  {0, 130, 200}, {245, 130, 48},
                                      {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60}};

static void put(uint8_t *px, int64_t h, int64_t w, int64_t x, int64_t y, const uint8_t *rgb)
{
    if (x >= 0 && y >= 0 && x < w && y < h)
        memcpy(px + 3 * (y * w + x), rgb, 3);
}

typedef struct png_buf {
    unsigned char *data;
    size_t n, cap;
    bool failed;
} png_buf;

static void png_append(void *user, void *data, int size)
{
    png_buf *b = user;
    if (b->failed || size <= 0)
        return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = 2 * (b->n + (size_t)size);
        unsigned char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->data = p, b->cap = cap;
    }
    memcpy(b->data + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

/* The image (as RGB) with each result drawn: FOMO cells as rectangles, keypoints as crosses; written atomically. */
static int draw(const cli_args *a, const sscma_tensor *img, const sscma_prediction *r, int32_t n, bool boxes)
{
    int64_t h = 0, w = 0, c = 0;
    sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
    const uint8_t *src = NULL;
    sscma_tensor_data(img, (void **)&src);
    uint8_t *px = malloc((size_t)(h * w * 3));
    if (px == NULL)
        return cli_error(a, 1, "out of memory");
    for (int64_t i = 0; i < h * w; i++)
        for (int k = 0; k < 3; k++)
            px[3 * i + k] = src[i * c + (c == 3 ? k : 0)];
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *col = palette[r[i].class_id & 7];
        if (boxes) {
            int64_t x0 = (int64_t)(r[i].x - r[i].w / 2), x1 = (int64_t)(r[i].x + r[i].w / 2);
            int64_t y0 = (int64_t)(r[i].y - r[i].h / 2), y1 = (int64_t)(r[i].y + r[i].h / 2);
            for (int64_t x = x0; x <= x1; x++)
                put(px, h, w, x, y0, col), put(px, h, w, x, y1, col);
            for (int64_t y = y0; y <= y1; y++)
                put(px, h, w, x0, y, col), put(px, h, w, x1, y, col);
        } else {
            int64_t x = (int64_t)r[i].x, y = (int64_t)r[i].y;
            for (int64_t d = -3; d <= 3; d++)
                put(px, h, w, x + d, y, col), put(px, h, w, x, y + d, col);
        }
    }
    png_buf png = {NULL, 0, 0, false};
    int ok = stbi_write_png_to_func(png_append, &png, (int)w, (int)h, 3, px, (int)(w * 3));
    free(px);
    int rc = ok && !png.failed ? cli_write_atomic(a->draw, png.data, png.n) : -1;
    free(png.data);
    if (rc != 0)
        return cli_error(a, 1, "cannot write %s", a->draw);
    return 0;
}

int cli_infer(cli_args *a)
{
    const bool tflite = ends_with(a->positional[0], ".tflite");
    const int first_image = tflite ? 1 : 2;
    if (a->n_positional <= first_image)
        return cli_error(a, 2, "no image given (sscma infer --help)");
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_qmodel *q = NULL;
    int rc = 1;
    if (!tflite && cli_load_config(a, a->positional[0], NULL, &cfg) != 0)
        return 1;
    if (cli_context(a, cfg, &ctx) != 0)
        goto done;
    if (tflite) {
        if (sscma_qmodel_load_tflite(ctx, a->positional[0], &q) != SSCMA_OK) {
            rc = cli_fail(a, "cannot read the model");
            goto done;
        }
    } else {
        sscma_model *model = NULL;
        if (cli_runner(a, ctx, cfg, a->positional[1], &runner) != 0)
            goto done;
        sscma_runner_model(runner, &model);
        if (sscma_qmodel_from_model(model, &q) != SSCMA_OK || sscma_runner_set_meta(runner, q) != SSCMA_OK) {
            rc = cli_fail(a, "cannot prepare the model");
            goto done;
        }
    }
    const char *family = "", *classes_text = NULL;
    sscma_qmodel_meta(q, "family", &family);
    json_t *classes = sscma_qmodel_meta(q, "classes", &classes_text) == SSCMA_OK ? json_loads(classes_text, 0, NULL)
                                                                                : NULL;
    sscma_clear_error();
    sscma_predict_options po;
    sscma_predict_options_init(&po, sizeof po);
    po.top_k = (int32_t)a->topk;
    if (a->threshold >= 0.0)
        po.score_threshold = (float)a->threshold;
    const bool fomo = strcmp(family, "Fomo") == 0, pfld = strcmp(family, "PFLD") == 0;
    json_t *all = json_array();
    for (int i = first_image; i < a->n_positional; i++) {
        sscma_tensor *img = NULL;
        sscma_prediction r[MAX_RESULTS];
        int32_t n = 0;
        if (sscma_image_read(ctx, a->positional[i], 0, &img) != SSCMA_OK ||
            sscma_predict(q, img, &po, r, MAX_RESULTS, &n) != SSCMA_OK) {
            sscma_tensor_destroy(img);
            json_decref(all);
            json_decref(classes);
            rc = cli_fail(a, a->positional[i]);
            goto done;
        }
        if (n > MAX_RESULTS)
            n = MAX_RESULTS;
        json_t *items = json_array();
        for (int32_t k = 0; k < n; k++) {
            const char *name = json_string_value(json_array_get(classes, (size_t)r[k].class_id));
            json_t *e;
            if (pfld)
                e = json_pack("{s:i, s:f, s:f}", "point", (int)r[k].class_id, "x", (double)r[k].x, "y",
                              (double)r[k].y);
            else
                e = json_pack("{s:i, s:s, s:f}", "class", (int)r[k].class_id, "name", name ? name : "", "score",
                              (double)r[k].score);
            if (fomo) {
                json_object_set_new(e, "x", json_real(r[k].x));
                json_object_set_new(e, "y", json_real(r[k].y));
                json_object_set_new(e, "w", json_real(r[k].w));
                json_object_set_new(e, "h", json_real(r[k].h));
            }
            json_array_append_new(items, e);
        }
        if (a->draw != NULL && i == first_image && (fomo || pfld) && draw(a, img, r, n, fomo) != 0) {
            sscma_tensor_destroy(img);
            json_decref(items);
            json_decref(all);
            json_decref(classes);
            goto done;
        }
        sscma_tensor_destroy(img);
        if (!a->json) {
            printf("%s:", a->positional[i]);
            if (n == 0)
                printf(" nothing found");
            printf("\n");
            for (int32_t k = 0; k < n; k++) {
                const char *name = json_string_value(json_array_get(classes, (size_t)r[k].class_id));
                if (pfld)
                    printf("  point %d: (%.1f, %.1f)\n", (int)r[k].class_id, (double)r[k].x, (double)r[k].y);
                else if (fomo)
                    printf("  %s (%d) %.3f at (%.1f, %.1f)\n", name ? name : "?", (int)r[k].class_id,
                           (double)r[k].score, (double)r[k].x, (double)r[k].y);
                else
                    printf("  %s (%d) %.4f\n", name ? name : "?", (int)r[k].class_id, (double)r[k].score);
            }
        }
        json_array_append_new(all, json_pack("{s:s, s:o}", "image", a->positional[i],
                                             pfld ? "keypoints" : fomo ? "objects" : "classes", items));
    }
    json_decref(classes);
    if (a->json)
        cli_print_json(json_pack("{s:s, s:o}", "family", family, "results", all));
    else
        json_decref(all);
    rc = 0;
done:
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(runner);
    sscma_context_destroy(ctx);
    sscma_config_destroy(cfg);
    return rc;
}
