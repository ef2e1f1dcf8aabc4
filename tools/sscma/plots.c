/* curves.svg: loss and learning rate per logged iteration and the validation metrics per epoch, from log.jsonl. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct series {
    char name[64];
    double *x, *y;
    size_t n, cap;
} series;

static int push(series *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (nx == NULL)
            return -1;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (ny == NULL)
            return -1;
        s->y = ny, s->cap = cap;
    }
    s->x[s->n] = x, s->y[s->n] = y, s->n++;
    return 0;
}

typedef struct buf {
    char *p;
    size_t n, cap;
    bool failed;
} buf;

static void out(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void out(buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = true;
            return;
        }
        if (b->p != NULL && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap ? 2 * b->cap : 4096) + (size_t)k;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np, b->cap = cap;
    }
}

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

/* One panel at (x0, y0) of w x h with its series drawn as polylines over shared axes. */
static void panel(buf *b, double x0, double y0, double w, double h, const char *title, const char *xlabel,
                  series *s, size_t ns, bool log_y)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double y = log_y ? log10(fmax(s[k].y[i], 1e-12)) : s[k].y[i];
            if (!isfinite(y))
                continue;
            xmin = fmin(xmin, s[k].x[i]), xmax = fmax(xmax, s[k].x[i]);
            ymin = fmin(ymin, y), ymax = fmax(ymax, y);
        }
    out(b, "<g><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
    out(b, "<text x='%.1f' y='%.1f' font-size='13' font-weight='bold'>%s</text>\n", x0, y0 - 8, title);
    if (!(xmax >= xmin)) {
        out(b, "<text x='%.1f' y='%.1f' font-size='12'>no data</text></g>\n", x0 + 10, y0 + h / 2);
        return;
    }
    if (xmax == xmin)
        xmax = xmin + 1;
    if (ymax == ymin)
        ymax = ymin + 1;
    for (int t = 0; t <= 4; t++) { /* y ticks */
        double v = ymin + (ymax - ymin) * t / 4.0, py = y0 + h - h * t / 4.0;
        out(b, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#eee'/>\n", x0, x0 + w, py, py);
        out(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%.4g</text>\n", x0 - 4, py + 3,
            log_y ? pow(10.0, v) : v);
    }
    for (int t = 0; t <= 4; t++) { /* x ticks */
        double v = xmin + (xmax - xmin) * t / 4.0, px = x0 + w * t / 4.0;
        out(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%.4g</text>\n", px, y0 + h + 14, v);
    }
    out(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%s</text>\n", x0 + w / 2, y0 + h + 28,
        xlabel);
    for (size_t k = 0; k < ns; k++) {
        const char *c = colors[k % (sizeof colors / sizeof colors[0])];
        out(b, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", c);
        for (size_t i = 0; i < s[k].n; i++) {
            double y = log_y ? log10(fmax(s[k].y[i], 1e-12)) : s[k].y[i];
            if (isfinite(y))
                out(b, "%.1f,%.1f ", x0 + w * (s[k].x[i] - xmin) / (xmax - xmin),
                    y0 + h - h * (y - ymin) / (ymax - ymin));
        }
        out(b, "'/>\n");
        if (s[k].n == 1) /* a single validation: a dot */
            out(b, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", x0 + w / 2, y0 + h / 2, c);
        out(b, "<text x='%.1f' y='%.1f' font-size='11' fill='%s'>%s</text>\n", x0 + w + 8, y0 + 14 + 14.0 * (double)k,
            c, s[k].name);
    }
    out(b, "</g>\n");
}

int cli_write_curves(const char *work_dir, cli_files *batch)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/log.jsonl", work_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    series loss = {"loss", NULL, NULL, 0, 0}, lr = {"lr", NULL, NULL, 0, 0};
    series metrics[6];
    size_t nm = 0;
    memset(metrics, 0, sizeof metrics);
    char line[8192];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        json_t *o = json_loads(line, 0, NULL);
        const char *mode = json_string_value(json_object_get(o, "mode"));
        if (mode != NULL && strcmp(mode, "train") == 0) {
            double it = (double)json_integer_value(json_object_get(o, "iter"));
            rc = push(&loss, it, json_number_value(json_object_get(o, "loss")));
            if (rc == 0)
                rc = push(&lr, it, json_number_value(json_object_get(o, "lr")));
        } else if (mode != NULL && strcmp(mode, "val") == 0) {
            double ep = (double)json_integer_value(json_object_get(o, "epoch"));
            const char *key;
            json_t *v;
            json_object_foreach(o, key, v) {
                if (!json_is_real(v) || strcmp(key, "time") == 0)
                    continue;
                size_t k = 0;
                while (k < nm && strcmp(metrics[k].name, key) != 0)
                    k++;
                if (k == nm) {
                    if (nm == sizeof metrics / sizeof metrics[0])
                        continue;
                    snprintf(metrics[nm++].name, sizeof metrics[0].name, "%s", key);
                }
                if (rc == 0)
                    rc = push(&metrics[k], ep, json_real_value(v));
            }
        }
        json_decref(o);
    }
    fclose(f);
    buf b = {NULL, 0, 0, false};
    if (rc == 0) {
        const double W = 760, H = 200;
        out(&b, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif'>\n",
            W + 200, 3 * (H + 70) + 20);
        out(&b, "<rect width='100%%' height='100%%' fill='white'/>\n");
        panel(&b, 70, 30, W, H, "training loss", "iteration", &loss, 1, true);
        panel(&b, 70, 30 + (H + 70), W, H, "learning rate", "iteration", &lr, 1, false);
        panel(&b, 70, 30 + 2 * (H + 70), W, H, "validation", "epoch", metrics, nm, false);
        out(&b, "</svg>\n");
        snprintf(path, sizeof path, "%s/curves.svg", work_dir);
        rc = b.failed ? -1 : batch != NULL ? cli_files_add(batch, path, b.p, b.n) : cli_write_atomic(path, b.p, b.n);
    }
    free(b.p);
    free(loss.x), free(loss.y), free(lr.x), free(lr.y);
    for (size_t k = 0; k < nm; k++)
        free(metrics[k].x), free(metrics[k].y);
    return rc;
}
