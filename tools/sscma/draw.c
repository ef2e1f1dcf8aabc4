/* Pictures of the command line: grids of images with predictions drawn, the confusion matrix; PNG through libstb. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h> /* Debian's libstb */

#include "cli.h"

#define GRID_COLS 4
#define GRID_GAP 2

static const uint8_t palette[8][3] = {{230, 25, 75},  {60, 180, 75},  {0, 130, 200}, {245, 130, 48},
                                      {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60}};
static const uint8_t green[3] = {40, 200, 60}, red[3] = {230, 30, 30};

/* Sets pixel (x, y) of an h x w region stored with `stride` pixels per row, when inside. */
static void put(uint8_t *px, int64_t h, int64_t w, int64_t stride, int64_t x, int64_t y, const uint8_t *rgb)
{
    if (x >= 0 && y >= 0 && x < w && y < h)
        memcpy(px + 3 * (y * stride + x), rgb, 3);
}

static void rect(uint8_t *px, int64_t h, int64_t w, int64_t stride, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                 const uint8_t *rgb)
{
    for (int64_t x = x0; x <= x1; x++)
        put(px, h, w, stride, x, y0, rgb), put(px, h, w, stride, x, y1, rgb);
    for (int64_t y = y0; y <= y1; y++)
        put(px, h, w, stride, x0, y, rgb), put(px, h, w, stride, x1, y, rgb);
}

void cli_grid_init(cli_grid *g, int64_t images)
{
    memset(g, 0, sizeof *g);
    g->cells = images < CLI_GRID_MAX ? (images > 0 ? images : 0) : CLI_GRID_MAX;
}

void cli_grid_free(cli_grid *g)
{
    free(g->px);
    g->px = NULL;
}

int cli_grid_add(cli_grid *g, const sscma_tensor *img, const sscma_prediction *r, int32_t n, cli_draw how)
{
    if (g->count >= g->cells)
        return 0;
    int64_t h = 0, w = 0, c = 0;
    sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
    if (g->px == NULL) { /* the cells take the first image's size */
        int64_t cols = g->cells < GRID_COLS ? g->cells : GRID_COLS, rows = (g->cells + GRID_COLS - 1) / GRID_COLS;
        g->cell_h = h, g->cell_w = w;
        g->w = cols * w + (cols - 1) * GRID_GAP, g->h = rows * h + (rows - 1) * GRID_GAP;
        if ((g->px = malloc((size_t)(g->w * g->h * 3))) == NULL)
            return -1;
        memset(g->px, 128, (size_t)(g->w * g->h * 3));
    }
    const uint8_t *src = NULL;
    sscma_tensor_data(img, (void **)&src);
    const int64_t slot = g->count++, ch = g->cell_h, cw = g->cell_w;
    const int64_t oy = (slot / GRID_COLS) * (ch + GRID_GAP), ox = (slot % GRID_COLS) * (cw + GRID_GAP);
    uint8_t *cell = g->px + 3 * (oy * g->w + ox);
    for (int64_t y = 0; y < h && y < ch; y++)
        for (int64_t x = 0; x < w && x < cw; x++)
            for (int k = 0; k < 3; k++)
                cell[3 * (y * g->w + x) + k] = src[(y * w + x) * c + (c == 3 ? k : 0)];
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *col = palette[r[i].class_id & 7];
        if (how == CLI_DRAW_BOXES) {
            rect(cell, ch, cw, g->w, (int64_t)(r[i].x - r[i].w / 2), (int64_t)(r[i].y - r[i].h / 2),
                 (int64_t)(r[i].x + r[i].w / 2) - 1, (int64_t)(r[i].y + r[i].h / 2) - 1, col);
        } else if (how == CLI_DRAW_POINTS) {
            int64_t x = (int64_t)r[i].x, y = (int64_t)r[i].y;
            for (int64_t d = -3; d <= 3; d++)
                put(cell, ch, cw, g->w, x + d, y, col), put(cell, ch, cw, g->w, x, y + d, col);
        }
    }
    if (how == CLI_DRAW_RIGHT || how == CLI_DRAW_WRONG) /* a classifier: a frame, green when right */
        for (int64_t t = 0; t < 2; t++)
            rect(cell, ch, cw, g->w, t, t, cw - 1 - t, ch - 1 - t, how == CLI_DRAW_RIGHT ? green : red);
    return 0;
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

static int write_png(const char *path, const uint8_t *rgb, int64_t h, int64_t w, cli_files *batch)
{
    png_buf png = {NULL, 0, 0, false};
    int ok = stbi_write_png_to_func(png_append, &png, (int)w, (int)h, 3, rgb, (int)(w * 3));
    int rc = !ok || png.failed                     ? -1
             : batch != NULL ? cli_files_add(batch, path, png.data, png.n)
                             : cli_write_atomic(path, png.data, png.n);
    free(png.data);
    return rc;
}

int cli_grid_write(const cli_grid *g, const char *path, cli_files *batch)
{
    return g->px != NULL ? write_png(path, g->px, g->h, g->w, batch) : -1;
}

int cli_write_confusion(const char *path, const int64_t *matrix, int32_t k, cli_files *batch)
{
    /* row = true class, column = predicted; each row shaded by its share (white 0 .. dark blue 1), the diagonal
     * framed green, a cell of 24 px */
    const int64_t cell = 24, size = (int64_t)k * cell;
    if (k < 1)
        return -1;
    uint8_t *px = malloc((size_t)(size * size * 3));
    if (px == NULL)
        return -1;
    for (int32_t t = 0; t < k; t++) {
        int64_t total = 0;
        for (int32_t p = 0; p < k; p++)
            total += matrix[(int64_t)t * k + p];
        for (int32_t p = 0; p < k; p++) {
            double share = total > 0 ? (double)matrix[(int64_t)t * k + p] / (double)total : 0.0;
            const uint8_t rgb[3] = {(uint8_t)(255 - 225 * share), (uint8_t)(255 - 185 * share),
                                    (uint8_t)(255 - 75 * share)};
            for (int64_t y = 0; y < cell; y++)
                for (int64_t x = 0; x < cell; x++)
                    memcpy(px + 3 * ((t * cell + y) * size + p * cell + x), rgb, 3);
            rect(px, size, size, size, p * cell, t * cell, p * cell + cell - 1, t * cell + cell - 1,
                 t == p ? green : (const uint8_t[3]){200, 200, 200});
        }
    }
    int rc = write_png(path, px, size, size, batch);
    free(px);
    return rc;
}
