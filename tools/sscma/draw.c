/* Pictures of the command line: grids of images with predictions drawn, the confusion matrix; PNG through libstb. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h> /* Debian's libstb */

#include "cli.h"

#define GRID_COLS 4
#define GRID_GAP 4   /* between the panels of a cell */
#define CELL_GAP 14  /* between the cells */
#define LABEL_PX 12 /* text height */
#define MIN_PX 160  /* images are enlarged to at least this size */

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

/* The name of class k: the model's, or "class k". */
static const char *class_name(json_t *classes, int32_t k, char *tmp, size_t cap)
{
    const char *name = json_string_value(json_array_get(classes, (size_t)(k >= 0 ? k : 0)));
    if (k >= 0 && name != NULL)
        return name;
    snprintf(tmp, cap, "class %d", (int)k);
    return tmp;
}

/* Black or white text, whichever reads better on rgb. */
static const uint8_t *ink_on(const uint8_t *rgb)
{
    static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    return 299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] > 140000 ? black : white;
}

static void fill(const cli_canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t *rgb)
{
    for (int64_t y = y0 < 0 ? 0 : y0; y < y1 && y < c->h; y++)
        for (int64_t x = x0 < 0 ? 0 : x0; x < x1 && x < c->w; x++)
            memcpy(c->px + 3 * (y * c->stride + x), rgb, 3);
}

/* A text label on a filled box in colour bg, its top-left corner at (x, y) moved inside the canvas. */
static void tag(const cli_canvas *c, int64_t x, int64_t y, const char *text, const uint8_t *bg)
{
    const int64_t tw = cli_text_width(text, LABEL_PX) + 4, th = LABEL_PX + 3;
    x = x + tw > c->w ? c->w - tw : x, y = y + th > c->h ? c->h - th : y;
    x = x < 0 ? 0 : x, y = y < 0 ? 0 : y;
    fill(c, x, y, x + tw, y + th, bg);
    cli_text(c, x + 2, y + 1, text, LABEL_PX, ink_on(bg));
}

void cli_grid_init(cli_grid *g, int64_t images, json_t *classes, bool truth)
{
    memset(g, 0, sizeof *g);
    g->cells = images < CLI_GRID_MAX ? (images > 0 ? images : 0) : CLI_GRID_MAX;
    g->classes = classes, g->truth = truth;
}

void cli_grid_free(cli_grid *g)
{
    free(g->px);
    g->px = NULL;
}

/* Height of the caption under each image: the panel titles, or a classifier's true and predicted class. */
#define CAPTION (2 * LABEL_PX + 8)
#define LEGEND_ROW (LABEL_PX + 8)

/* The legend of the class colours from row y: its number of lines; drawn when `draw`. */
static int64_t legend(cli_grid *g, int64_t y, bool draw)
{
    const cli_canvas c = {g->px, g->h, g->w, g->w};
    const uint8_t black[3] = {0, 0, 0};
    const int64_t n = (int64_t)json_array_size(g->classes);
    int64_t x = CELL_GAP, lines = 1;
    for (int64_t k = 0; k < n; k++) {
        char tmp[32];
        const char *name = class_name(g->classes, (int32_t)k, tmp, sizeof tmp);
        const int64_t item = LABEL_PX + 6 + cli_text_width(name, LABEL_PX) + 12;
        if (x + item > g->w && x > CELL_GAP)
            lines++, x = CELL_GAP, y += LEGEND_ROW;
        if (draw) {
            fill(&c, x, y + 3, x + LABEL_PX, y + 3 + LABEL_PX, palette[k & 7]);
            cli_text(&c, x + LABEL_PX + 6, y + 3, name, LABEL_PX, black);
        }
        x += item;
    }
    return lines;
}

/* The cells, the caption strips and the legend, laid out from the first image's size. */
static int layout(cli_grid *g, int64_t h, int64_t w, cli_draw how)
{
    const int64_t longest = h > w ? h : w;
    g->scale = longest >= MIN_PX ? 1 : (MIN_PX + longest - 1) / longest;
    g->img_h = h, g->img_w = w;
    const int64_t panels = g->truth && (how == CLI_DRAW_BOXES || how == CLI_DRAW_POINTS) ? 2 : 1;
    g->cell_w = panels * w * g->scale + (panels - 1) * GRID_GAP, g->cell_h = h * g->scale + CAPTION;
    const int64_t cols = g->cells < GRID_COLS ? g->cells : GRID_COLS, rows = (g->cells + GRID_COLS - 1) / GRID_COLS;
    g->w = cols * g->cell_w + (cols + 1) * CELL_GAP, g->h = rows * (g->cell_h + CELL_GAP) + CELL_GAP;
    if (g->legend)
        g->h += legend(g, 0, false) * LEGEND_ROW + CELL_GAP;
    if ((g->px = malloc((size_t)(g->w * g->h * 3))) == NULL)
        return -1;
    memset(g->px, 255, (size_t)(g->w * g->h * 3));
    if (g->legend)
        legend(g, rows * (g->cell_h + CELL_GAP) + CELL_GAP, true);
    return 0;
}

/* The image enlarged into a panel at (ox, oy) of the grid. */
static void paste(cli_grid *g, const uint8_t *src, int64_t c, int64_t ox, int64_t oy)
{
    const int64_t s = g->scale;
    for (int64_t y = 0; y < g->img_h * s; y++)
        for (int64_t x = 0; x < g->img_w * s; x++)
            for (int k = 0; k < 3; k++)
                g->px[3 * ((oy + y) * g->w + ox + x) + k] = src[((y / s) * g->img_w + x / s) * c + (c == 3 ? k : 0)];
}

/* A box given in image pixels, drawn in a panel (two pixels wide) with its label. */
static void box(cli_grid *g, const cli_canvas *p, float x1, float y1, float x2, float y2, const uint8_t *col,
                const char *label)
{
    const double s = (double)g->scale;
    const int64_t a = (int64_t)floor(x1 * s), b = (int64_t)floor(y1 * s), c = (int64_t)ceil(x2 * s) - 1,
                  d = (int64_t)ceil(y2 * s) - 1;
    rect(p->px, p->h, p->w, p->stride, a, b, c, d, col);
    rect(p->px, p->h, p->w, p->stride, a + 1, b + 1, c - 1, d - 1, col);
    tag(p, a, b - (LABEL_PX + 3) >= 0 ? b - (LABEL_PX + 3) : b + 2, label, col);
}

/* A keypoint as a cross with its number. */
static void point(cli_grid *g, const cli_canvas *p, float px, float py, int32_t number, const uint8_t *col)
{
    const int64_t x = (int64_t)(px * (float)g->scale), y = (int64_t)(py * (float)g->scale);
    for (int64_t d = -4; d <= 4; d++)
        for (int64_t t = 0; t < 2; t++)
            put(p->px, p->h, p->w, p->stride, x + d, y + t, col), put(p->px, p->h, p->w, p->stride, x + t, y + d, col);
    char text[16];
    snprintf(text, sizeof text, "%d", (int)number);
    tag(p, x + 5, y + 5, text, col);
}

int cli_grid_add(cli_grid *g, const sscma_tensor *img, const sscma_prediction *r, int32_t n, cli_draw how,
                 const cli_truth *t)
{
    if (g->count >= g->cells)
        return 0;
    int64_t h = 0, w = 0, c = 0;
    sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
    if (g->px == NULL) {
        g->legend = how == CLI_DRAW_BOXES && json_array_size(g->classes) > 0;
        if (layout(g, h, w, how) != 0)
            return -1;
    }
    if (h != g->img_h || w != g->img_w) { /* another size: fitted into the first one's cell, top-left */
        h = h < g->img_h ? h : g->img_h, w = w < g->img_w ? w : g->img_w;
    }
    const uint8_t *src = NULL;
    sscma_tensor_data(img, (void **)&src);
    int64_t stride_w = 0;
    sscma_tensor_dim(img, 1, &stride_w);
    const int64_t slot = g->count++;
    const int64_t oy = CELL_GAP + (slot / GRID_COLS) * (g->cell_h + CELL_GAP),
                  ox = CELL_GAP + (slot % GRID_COLS) * (g->cell_w + CELL_GAP);
    const int64_t pw = g->img_w * g->scale, ph = g->img_h * g->scale;
    const bool panels = g->truth && how != CLI_DRAW_RIGHT && how != CLI_DRAW_WRONG;
    const int64_t pred_x = panels ? ox + pw + GRID_GAP : ox;
    const uint8_t black[3] = {0, 0, 0};
    char text[160], tmp[32];
    /* the image (rows of its own width), in each panel */
    uint8_t *copy = malloc((size_t)(g->img_h * g->img_w * c));
    if (copy == NULL)
        return -1;
    memset(copy, 128, (size_t)(g->img_h * g->img_w * c));
    for (int64_t y = 0; y < h; y++)
        memcpy(copy + y * g->img_w * c, src + y * stride_w * c, (size_t)(w * c));
    paste(g, copy, c, pred_x, oy);
    if (panels)
        paste(g, copy, c, ox, oy);
    free(copy);
    const cli_canvas pred = {g->px + 3 * (oy * g->w + pred_x), ph, pw, g->w};
    const cli_canvas truth = {g->px + 3 * (oy * g->w + ox), ph, pw, g->w};
    const cli_canvas caption = {g->px + 3 * ((oy + ph) * g->w + ox), CAPTION, g->cell_w, g->w};
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *col = palette[r[i].class_id & 7];
        if (how == CLI_DRAW_BOXES) {
            snprintf(text, sizeof text, "%s %.2f", class_name(g->classes, r[i].class_id, tmp, sizeof tmp),
                     (double)r[i].score);
            box(g, &pred, r[i].x - r[i].w / 2, r[i].y - r[i].h / 2, r[i].x + r[i].w / 2, r[i].y + r[i].h / 2, col,
                text);
        } else if (how == CLI_DRAW_POINTS) {
            point(g, &pred, r[i].x, r[i].y, r[i].class_id, col);
        }
    }
    if (panels && t != NULL) {
        for (int32_t i = 0; i < t->n_boxes && how == CLI_DRAW_BOXES; i++) {
            const int32_t k = t->box_labels != NULL ? t->box_labels[i] : 0;
            box(g, &truth, t->boxes[4 * i], t->boxes[4 * i + 1], t->boxes[4 * i + 2], t->boxes[4 * i + 3],
                palette[k & 7], class_name(g->classes, k, tmp, sizeof tmp));
        }
        for (int32_t i = 0; i < t->n_points && how == CLI_DRAW_POINTS; i++)
            point(g, &truth, t->points[2 * i], t->points[2 * i + 1], i, palette[i & 7]);
    }
    if (panels) {
        cli_text(&caption, 2, 3, "ground truth", LABEL_PX, black);
        cli_text(&caption, pred_x - ox + 2, 3, "prediction", LABEL_PX, black);
    }
    if (how == CLI_DRAW_RIGHT || how == CLI_DRAW_WRONG) { /* a classifier: a frame, green when right */
        const uint8_t *col = how == CLI_DRAW_RIGHT ? green : red;
        for (int64_t k = 0; k < 3; k++)
            rect(pred.px, ph, pw, g->w, k, k, pw - 1 - k, ph - 1 - k, col);
        if (t != NULL && t->label >= 0) {
            snprintf(text, sizeof text, "true: %s", class_name(g->classes, t->label, tmp, sizeof tmp));
            cli_text(&caption, 2, 2, text, LABEL_PX, black);
        }
        if (n > 0) {
            snprintf(text, sizeof text, "pred: %s %.2f", class_name(g->classes, r[0].class_id, tmp, sizeof tmp),
                     (double)r[0].score);
            cli_text(&caption, 2, 4 + LABEL_PX, text, LABEL_PX, col);
        }
    } else if (how == CLI_DRAW_LABEL) { /* the best two classes with their scores */
        for (int32_t i = 0; i < n && i < 2; i++) {
            snprintf(text, sizeof text, "%s %.2f", class_name(g->classes, r[i].class_id, tmp, sizeof tmp),
                     (double)r[i].score);
            cli_text(&caption, 2, 2 + i * (LABEL_PX + 2), text, LABEL_PX, black);
        }
    }
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

int cli_grid_png(const cli_grid *g, unsigned char **data, size_t *size)
{
    *data = NULL, *size = 0;
    if (g->px == NULL)
        return -1;
    png_buf png = {NULL, 0, 0, false};
    if (!stbi_write_png_to_func(png_append, &png, (int)g->w, (int)g->h, 3, g->px, (int)(g->w * 3)) || png.failed) {
        free(png.data);
        return -1;
    }
    *data = png.data, *size = png.n;
    return 0;
}

int cli_write_confusion(const char *path, const int64_t *matrix, int32_t k, json_t *classes, cli_files *batch)
{
    /*
     * row = true class, column = predicted; each cell shaded by its row share (white 0 .. dark blue 1) with its
     * count and row percentage, the diagonal framed green; class names left of the rows and above the columns
     */
    if (k < 1 || k > 1000)
        return -1;
    int64_t names = 0, cw = cli_text_width("100.0%", LABEL_PX) + 12;
    char tmp[32], text[64];
    for (int32_t i = 0; i < k; i++) {
        const int64_t tw = cli_text_width(class_name(classes, i, tmp, sizeof tmp), LABEL_PX);
        names = tw > names ? tw : names;
    }
    for (int64_t i = 0; i < (int64_t)k * k; i++) {
        snprintf(text, sizeof text, "%lld", (long long)matrix[i]);
        const int64_t tw = cli_text_width(text, LABEL_PX) + 12;
        cw = tw > cw ? tw : cw;
    }
    const int64_t ch = 2 * LABEL_PX + 12, title = LABEL_PX + 10;
    const int64_t left = title + names + 10, top = title + names + 10;
    const int64_t w = left + (int64_t)k * cw + 8, h = top + (int64_t)k * ch + 8;
    uint8_t *px = malloc((size_t)(w * h * 3));
    if (px == NULL)
        return -1;
    memset(px, 255, (size_t)(w * h * 3));
    const cli_canvas c = {px, h, w, w};
    const uint8_t black[3] = {0, 0, 0};
    cli_text(&c, left + ((int64_t)k * cw - cli_text_width("predicted", LABEL_PX)) / 2, 4, "predicted", LABEL_PX,
             black);
    cli_text_vertical(&c, 4, top + ((int64_t)k * ch + cli_text_width("true", LABEL_PX)) / 2, "true", LABEL_PX, black);
    for (int32_t t = 0; t < k; t++) {
        const char *name = class_name(classes, t, tmp, sizeof tmp);
        cli_text(&c, left - 8 - cli_text_width(name, LABEL_PX), top + (int64_t)t * ch + (ch - LABEL_PX) / 2, name,
                 LABEL_PX, black);
        cli_text_vertical(&c, left + (int64_t)t * cw + (cw - LABEL_PX) / 2, top - 8, name, LABEL_PX, black);
    }
    for (int32_t t = 0; t < k; t++) {
        int64_t total = 0;
        for (int32_t p = 0; p < k; p++)
            total += matrix[(int64_t)t * k + p];
        for (int32_t p = 0; p < k; p++) {
            const int64_t count = matrix[(int64_t)t * k + p], x = left + p * cw, y = top + t * ch;
            const double share = total > 0 ? (double)count / (double)total : 0.0;
            const uint8_t rgb[3] = {(uint8_t)(255 - 225 * share), (uint8_t)(255 - 185 * share),
                                    (uint8_t)(255 - 75 * share)};
            fill(&c, x, y, x + cw, y + ch, rgb);
            rect(px, h, w, w, x, y, x + cw - 1, y + ch - 1, t == p ? green : (const uint8_t[3]){200, 200, 200});
            const uint8_t *ink = ink_on(rgb);
            snprintf(text, sizeof text, "%lld", (long long)count);
            cli_text(&c, x + (cw - cli_text_width(text, LABEL_PX)) / 2, y + 4, text, LABEL_PX, ink);
            snprintf(text, sizeof text, "%.1f%%", 100.0 * share);
            cli_text(&c, x + (cw - cli_text_width(text, LABEL_PX)) / 2, y + 6 + LABEL_PX, text, LABEL_PX, ink);
        }
    }
    int rc = write_png(path, px, h, w, batch);
    free(px);
    return rc;
}
