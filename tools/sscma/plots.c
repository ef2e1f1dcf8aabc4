/* curves.svg: loss and learning rate per logged iteration and the validation metrics per epoch, from log.jsonl. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
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

/* An axis: its range in data units (log10 of them on a log axis) and its ticks. */
typedef struct axis {
    double lo, hi, step;
    bool log, integer;
} axis;

/* The 1-2-5 step (times a power of ten) that cuts `span` into about `target` parts; at least 1 on an integer axis. */
static double nice_step(double span, int target, bool integer)
{
    const double raw = span / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    const double step = (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
    return integer && step < 1.0 ? 1.0 : step;
}

/*
 * The axis of values in [lo, hi]: a constant series is drawn in the middle of +-10% of its value (+-1 at 0), a
 * positive series spanning a decade or more (when `log_ok`) on a log axis, the rest on 1-2-5 ticks that enclose it.
 */
static axis make_axis(double lo, double hi, bool integer, bool log_ok)
{
    axis a = {lo, hi, 1.0, false, integer};
    if (log_ok && lo > 0.0 && hi / lo >= 10.0) {
        a.log = true, a.lo = floor(log10(lo)), a.hi = ceil(log10(hi)), a.step = 1.0;
        return a;
    }
    if (!(hi - lo > 1e-12 * fmax(fabs(lo), fabs(hi)))) {
        const double d = lo != 0.0 ? 0.1 * fabs(lo) : 1.0;
        lo -= d, hi += d;
        if (integer)
            lo = floor(lo), hi = ceil(hi);
    }
    a.step = nice_step(hi - lo, 5, integer);
    a.lo = floor(lo / a.step + 1e-9) * a.step, a.hi = ceil(hi / a.step - 1e-9) * a.step;
    return a;
}

/* A value's place in [0, 1] along the axis (NAN: not drawable). */
static double axis_pos(const axis *a, double v)
{
    if (a->log)
        v = v > 0.0 ? log10(v) : NAN;
    return (v - a->lo) / (a->hi - a->lo);
}

/* A tick's text: as many decimals as the step needs, powers of ten as 1e-3 on a log axis. */
static void tick_text(const axis *a, double v, char *out, size_t cap)
{
    if (a->log) {
        const double x = pow(10.0, v);
        if (v >= -3.0 && v <= 4.0)
            snprintf(out, cap, "%g", x);
        else
            snprintf(out, cap, "1e%d", (int)lround(v));
        return;
    }
    if (fabs(v) < 1e-9 * a->step)
        v = 0.0;
    int decimals = a->step >= 1.0 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
    if (fabs(a->hi) >= 1e6 || decimals > 8)
        snprintf(out, cap, "%.3g", v);
    else
        snprintf(out, cap, "%.*f", decimals, v);
}

/* Ticks of an axis: the values between lo and hi (on a log axis, 1, 2 and 5 per decade when it spans two or less). */
static size_t ticks(const axis *a, double *v, size_t cap)
{
    size_t n = 0;
    if (a->log) {
        const bool fine = a->hi - a->lo <= 2.0;
        for (double e = a->lo; e <= a->hi + 1e-9 && n < cap; e += 1.0) {
            v[n++] = e;
            if (fine && e < a->hi - 1e-9 && n + 2 <= cap)
                v[n++] = e + log10(2.0), v[n++] = e + log10(5.0);
        }
        return n;
    }
    for (double t = a->lo; t <= a->hi + 1e-9 * a->step && n < cap; t += a->step)
        v[n++] = t;
    return n;
}

/* The best point of series `best` (its index; SIZE_MAX: none marked). */
typedef struct best_mark {
    size_t series, index;
} best_mark;

/* One panel at (x0, y0) of w x h with its series drawn as polylines over shared axes. */
static void panel(buf *b, double x0, double y0, double w, double h, const char *title, const char *xlabel,
                  series *s, size_t ns, bool log_ok, best_mark best)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].y[i]) || !isfinite(s[k].x[i]))
                continue;
            xmin = fmin(xmin, s[k].x[i]), xmax = fmax(xmax, s[k].x[i]);
            ymin = fmin(ymin, s[k].y[i]), ymax = fmax(ymax, s[k].y[i]);
        }
    out(b, "<g>\n<text x='%.1f' y='%.1f' font-size='13' font-weight='bold'>%s</text>\n", x0, y0 - 8, title);
    if (!(xmax >= xmin)) {
        out(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
        out(b, "<text x='%.1f' y='%.1f' font-size='12'>no data</text></g>\n", x0 + 10, y0 + h / 2);
        return;
    }
    const axis ax = make_axis(xmin, xmax, true, false), ay = make_axis(ymin, ymax, false, log_ok);
    double t[64];
    char text[64];
    const size_t nyt = ticks(&ay, t, 64);
    for (size_t i = 0; i < nyt; i++) { /* y grid and ticks */
        const double py = y0 + h - h * (t[i] - ay.lo) / (ay.hi - ay.lo);
        tick_text(&ay, t[i], text, sizeof text);
        out(b, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#e4e4e4'/>\n", x0, x0 + w, py, py);
        out(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%s</text>\n", x0 - 4, py + 3.5, text);
    }
    const size_t nxt = ticks(&ax, t, 64);
    for (size_t i = 0; i < nxt; i++) { /* x ticks */
        const double px = x0 + w * (t[i] - ax.lo) / (ax.hi - ax.lo);
        tick_text(&ax, t[i], text, sizeof text);
        out(b, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#888'/>\n", px, px, y0 + h, y0 + h + 4);
        out(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%s</text>\n", px, y0 + h + 15, text);
    }
    out(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
    out(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%s%s</text>\n", x0 + w / 2, y0 + h + 30,
        xlabel, ay.log ? " (log scale)" : "");
    for (size_t k = 0; k < ns; k++) {
        const char *c = colors[k % (sizeof colors / sizeof colors[0])];
        out(b, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", c);
        for (size_t i = 0; i < s[k].n; i++) {
            const double fx = axis_pos(&ax, s[k].x[i]), fy = axis_pos(&ay, s[k].y[i]);
            if (isfinite(fx) && isfinite(fy))
                out(b, "%.1f,%.1f ", x0 + w * fx, y0 + h - h * fy);
        }
        out(b, "'/>\n");
        if (s[k].n == 1) /* a single validation: a dot */
            out(b, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", x0 + w * axis_pos(&ax, s[k].x[0]),
                y0 + h - h * axis_pos(&ay, s[k].y[0]), c);
        out(b, "<text x='%.1f' y='%.1f' font-size='11' fill='%s'>%s</text>\n", x0 + w + 8, y0 + 14 + 14.0 * (double)k,
            c, s[k].name);
    }
    if (best.series < ns && best.index < s[best.series].n) { /* the best validation: a dashed line and its value */
        const series *bs = &s[best.series];
        const double px = x0 + w * axis_pos(&ax, bs->x[best.index]), py = y0 + h - h * axis_pos(&ay, bs->y[best.index]);
        out(b, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#555' stroke-dasharray='4,3'/>\n", px, px, y0,
            y0 + h);
        out(b, "<circle cx='%.1f' cy='%.1f' r='4' fill='none' stroke='#000' stroke-width='1.5'/>\n", px, py);
        out(b, "<text x='%.1f' y='%.1f' font-size='11'>best: epoch %.0f</text>\n", x0 + w + 8,
            y0 + 14 + 14.0 * (double)ns + 8, bs->x[best.index]);
        out(b, "<text x='%.1f' y='%.1f' font-size='11'>%s %.4g</text>\n", x0 + w + 8, y0 + 28 + 14.0 * (double)ns + 8,
            bs->name, bs->y[best.index]);
    }
    out(b, "</g>\n");
}

int cli_write_curves(const char *work_dir, const char *best_key, int best_rule, cli_files *batch)
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
        out(&b, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='DejaVu Sans, sans-serif'>\n",
            W + 250, 3 * (H + 70) + 20);
        out(&b, "<rect width='100%%' height='100%%' fill='white'/>\n");
        const best_mark none = {SIZE_MAX, SIZE_MAX};
        best_mark best = none;
        for (size_t k = 0; k < nm && best.series == SIZE_MAX; k++) /* the checkpoint hook's save_best, or the first */
            if (best_key == NULL || strcmp(best_key, "auto") == 0 || strcmp(best_key, metrics[k].name) == 0)
                best.series = k;
        if (best.series < nm) {
            const series *bs = &metrics[best.series];
            /* mmengine's rule by name, as the checkpoint hook infers it (lib/train/hook_config.h greater_is_better;
             * the CLI sees only the public API): keep the two equal */
            const bool greater = best_rule > 0 || (best_rule < 0 && strstr(bs->name, "loss") == NULL &&
                                                   strstr(bs->name, "mse") == NULL && strstr(bs->name, "NME") == NULL);
            for (size_t i = 0; i < bs->n; i++) /* the first of equal bests, as the hook keeps it */
                if (isfinite(bs->y[i]) && (best.index == SIZE_MAX ||
                                           (greater ? bs->y[i] > bs->y[best.index] : bs->y[i] < bs->y[best.index])))
                    best.index = i;
        }
        panel(&b, 70, 30, W, H, "training loss", "iteration", &loss, 1, true, none);
        panel(&b, 70, 30 + (H + 70), W, H, "learning rate", "iteration", &lr, 1, false, none);
        panel(&b, 70, 30 + 2 * (H + 70), W, H, "validation", "epoch", metrics, nm, false, best);
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
