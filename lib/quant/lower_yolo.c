/*
 * SSCMA's in-graph box decode (ModelAssistant 2.0.0, DetHead.forward_single + process + get_grid), appended to a
 * deployable model after the raw head maps. Per level l with stride s, A anchors, K = 5 + C values per box:
 *
 *   p          = sigmoid(map)                          LOGISTIC      [1, H, W, A*K]
 *                reshape, then swap the cell and anchor axes        [1, H*W, A, K] -> [1, A, H*W, K]
 *   xy         = p[..., 0:2] * (2 s) + (grid - 0.5) s  SLICE, MUL (scalar), ADD [1, 1, H*W, 2]
 *   wh         = p[..., 2:4]^2 * (4 anchor)            SLICE, MUL (itself), MUL [1, A, 1, 2]
 *   obj, cls   = p[..., 4:K] * 100                     SLICE, MUL (scalar)
 *   level      = concat(xy, wh, obj cls) on the last axis, reshaped to [1, A*H*W, K]
 *   output     = concat of the levels                                [1, N, K]
 *
 * In float this is DetHead's formula with no other rounding: 2 s p is exact (s a power of two), the grid term is
 * exact, so xy is the correctly rounded value of ((2 p - 0.5) + g) s; (2 p)^2 a = 4 p^2 a rounds as PyTorch's
 * (2p)(2p) then * a does (scaling by 4 is exact). The multipliers stay scalars or one small constant per op so that
 * PTQ quantizes each exactly or nearly (docs/export.md): a single constant holding 2 s, 0 and 100 side by side would
 * not be. Every op is one Arm's Vela places on the Ethos-U (TRANSPOSE only as 1xHxWxC -> 1xWxHxC, which the swap
 * is; slices along C with stride 1).
 */
#include <stdio.h>
#include <string.h>

#include "graph/model_private.h"
#include "quant/qmodel.h"

/*
 * The decode's ranges follow from the sigmoid's [0, 1]: recorded as observed ranges of its MUL, ADD and CONCAT
 * outputs, which QAT's conversion quantizes with (no observer of the trained graph sees them); PTQ calibrates them.
 */
static void set_range(sscma_qmodel *q, int32_t t, double lo, double hi)
{
    q->t[t].observed = true;
    q->t[t].obs_min = lo, q->t[t].obs_max = hi;
}

typedef struct yolo_emit {
    sscma_qmodel *q;
    char prefix[64];
} yolo_emit;

static sscma_status add_act(yolo_emit *e, const char *what, int32_t rank, const int64_t *dims, int32_t *out)
{
    char name[160];
    snprintf(name, sizeof name, "%s/%s", e->prefix, what);
    return sscma_qm_add_tensor(e->q, name, SSCMA_DTYPE_F32, rank, dims, false, out);
}

static sscma_status add_const(yolo_emit *e, const char *what, const int64_t *dims, int32_t *out)
{
    char name[160];
    snprintf(name, sizeof name, "%s/%s", e->prefix, what);
    return sscma_qm_add_tensor(e->q, name, SSCMA_DTYPE_F32, 4, dims, true, out);
}

/* Appends op (its name: prefix/what) with output *y, a new activation of the given shape. */
static sscma_status add_op(yolo_emit *e, qm_op *op, const char *what, int32_t rank, const int64_t *dims, int32_t *y)
{
    sscma_status st = add_act(e, what, rank, dims, y);
    if (st != SSCMA_OK)
        return st;
    char name[160];
    snprintf(name, sizeof name, "%s/%s", e->prefix, what);
    op->name = name;
    op->out = *y;
    return sscma_qm_add_op(e->q, op, NULL);
}

/* A slice of the last axis of x [1, A, HW, K]: columns [from, from + n). */
static sscma_status slice_columns(yolo_emit *e, int32_t x, int32_t from, int32_t n, const char *what, int32_t *y)
{
    const qm_tensor *t = &e->q->t[x];
    const int64_t dims[4] = {1, t->dims[1], t->dims[2], n};
    qm_op op = {.kind = QM_SLICE, .in = {x}, .n_in = 1, .begin = {0, 0, 0, from}, .step = {1, 1, 1, 1},
                .count = {1, (int32_t)t->dims[1], (int32_t)t->dims[2], n}};
    return add_op(e, &op, what, 4, dims, y);
}

/* y = a * b or a + b (kind), b an activation or a constant broadcast against a [1, A, HW, n]. */
static sscma_status binary(yolo_emit *e, qm_kind kind, int32_t a, int32_t b, const char *what, int32_t *y)
{
    const qm_tensor *t = &e->q->t[a];
    const int64_t dims[4] = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
    qm_op op = {.kind = kind, .in = {a, b}, .n_in = 2};
    return add_op(e, &op, what, 4, dims, y);
}

/* One level: the raw map tensor `map` [1, H, W, A*K] to [1, A*H*W, K] in *out, whose range is [*lo, *hi]. */
static sscma_status decode_level(sscma_qmodel *q, const sscma_yolo_decode *d, int32_t l, int32_t map, int32_t *out,
                                 double *lo, double *hi)
{
    yolo_emit e = {q, ""};
    snprintf(e.prefix, sizeof e.prefix, "decode/level%d", (int)l);
    const int64_t h = q->t[map].dims[1], w = q->t[map].dims[2], hw = h * w, na = d->num_anchors;
    const int32_t k = 5 + d->num_classes;
    const float stride = (float)d->strides[l];
    int32_t p, r, tr, xy, xy2, xy3, wh, wh2, wh3, sc, sc2, cat, flat, c_xy, c_grid, c_anchor, c_score;
    sscma_status st;

    qm_op sig = {.kind = QM_LOGISTIC, .in = {map}, .n_in = 1};
    if ((st = add_op(&e, &sig, "sigmoid", 4, q->t[map].dims, &p)) != SSCMA_OK)
        return st;
    qm_op reshape = {.kind = QM_RESHAPE, .in = {p}, .n_in = 1};
    if ((st = add_op(&e, &reshape, "cells", 4, (const int64_t[]){1, hw, na, k}, &r)) != SSCMA_OK)
        return st;
    qm_op swap = {.kind = QM_TRANSPOSE, .in = {r}, .n_in = 1, .perm = {0, 2, 1, 3}};
    if ((st = add_op(&e, &swap, "anchors_first", 4, (const int64_t[]){1, na, hw, k}, &tr)) != SSCMA_OK)
        return st;

    /* xy = p * 2s + (g - 0.5) s, g = (x, y) of cell y * W + x */
    const int64_t one[4] = {1, 1, 1, 1}, grid_dims[4] = {1, 1, hw, 2}, anchor_dims[4] = {1, na, 1, 2};
    if ((st = add_const(&e, "xy_scale", one, &c_xy)) != SSCMA_OK ||
        (st = add_const(&e, "grid", grid_dims, &c_grid)) != SSCMA_OK ||
        (st = add_const(&e, "anchors", anchor_dims, &c_anchor)) != SSCMA_OK ||
        (st = add_const(&e, "score_scale", one, &c_score)) != SSCMA_OK)
        return st;
    *(float *)q->t[c_xy].data = 2.0f * stride;
    *(float *)q->t[c_score].data = 100.0f;
    float *grid = q->t[c_grid].data, *anchors = q->t[c_anchor].data;
    for (int64_t c = 0; c < hw; c++) {
        grid[2 * c] = ((float)(c % w) - 0.5f) * stride;
        grid[2 * c + 1] = ((float)(c / w) - 0.5f) * stride;
    }
    for (int64_t a = 0; a < na; a++)
        for (int32_t j = 0; j < 2; j++)
            anchors[2 * a + j] = 4.0f * d->anchors[l][a][j];

    if ((st = slice_columns(&e, tr, 0, 2, "xy_sigmoid", &xy)) != SSCMA_OK ||
        (st = binary(&e, QM_MUL, xy, c_xy, "xy_scaled", &xy2)) != SSCMA_OK ||
        (st = binary(&e, QM_ADD, xy2, c_grid, "xy", &xy3)) != SSCMA_OK ||
        (st = slice_columns(&e, tr, 2, 2, "wh_sigmoid", &wh)) != SSCMA_OK ||
        (st = binary(&e, QM_MUL, wh, wh, "wh_squared", &wh2)) != SSCMA_OK ||
        (st = binary(&e, QM_MUL, wh2, c_anchor, "wh", &wh3)) != SSCMA_OK ||
        (st = slice_columns(&e, tr, 4, k - 4, "scores_sigmoid", &sc)) != SSCMA_OK ||
        (st = binary(&e, QM_MUL, sc, c_score, "scores", &sc2)) != SSCMA_OK)
        return st;
    double grid_lo = -0.5 * stride, grid_hi = ((double)(w > h ? w : h) - 1.5) * stride, anchor_hi = 0.0;
    for (int64_t i = 0; i < 2 * na; i++)
        anchor_hi = anchors[i] > anchor_hi ? anchors[i] : anchor_hi;
    /*
     * A width or height beyond twice the input's extent (plus the centre's reach past the border, 2 s) gives the
     * same box once the post-processing clamps it to the image: saturating there loses nothing, while the anchors'
     * bound 4 a (1,492 px for P5's 373) would make the int8 step of the whole output 6 px at 96x96.
     */
    const double extent = 2.0 * ((double)(w > h ? w : h) * stride + 2.0 * stride);
    anchor_hi = anchor_hi < extent ? anchor_hi : extent;
    set_range(q, xy2, 0.0, 2.0 * stride);
    set_range(q, xy3, grid_lo, grid_hi + 2.0 * stride);
    set_range(q, wh2, 0.0, 1.0);
    set_range(q, wh3, 0.0, anchor_hi);
    set_range(q, sc2, 0.0, 100.0);
    qm_op concat = {.kind = QM_CONCAT, .in = {xy3, wh3, sc2}, .n_in = 3, .axis = 3};
    if ((st = add_op(&e, &concat, "boxes", 4, (const int64_t[]){1, na, hw, k}, &cat)) != SSCMA_OK)
        return st;
    *lo = grid_lo, *hi = grid_hi + 2.0 * stride;
    *hi = anchor_hi > *hi ? anchor_hi : *hi;
    *hi = *hi > 100.0 ? *hi : 100.0;
    set_range(q, cat, *lo, *hi);
    qm_op rows = {.kind = QM_RESHAPE, .in = {cat}, .n_in = 1};
    if ((st = add_op(&e, &rows, "rows", 3, (const int64_t[]){1, na * hw, k}, &flat)) != SSCMA_OK)
        return st;
    *out = flat;
    return SSCMA_OK;
}

sscma_status sscma_qm_append_yolo_decode(sscma_qmodel *q, const sscma_yolo_decode *d, const int32_t *maps,
                                         const char *name, int32_t *out)
{
    int32_t levels[SSCMA_YOLO_MAX_LEVELS];
    int64_t rows = 0;
    double lo = 0.0, hi = 0.0;
    const int32_t k = 5 + d->num_classes;
    for (int32_t l = 0; l < d->num_levels; l++) {
        const qm_tensor *m = &q->t[maps[l]];
        if (m->rank != 4 || m->dims[3] != (int64_t)d->num_anchors * k)
            return sscma_fail(SSCMA_ERR_SHAPE, "sscma_qmodel_from_model",
                              "decode: the head map of level %d ('%s') is not [1, H, W, %d]", (int)l, m->name,
                              (int)(d->num_anchors * k));
        double level_lo, level_hi;
        sscma_status st = decode_level(q, d, l, maps[l], &levels[l], &level_lo, &level_hi);
        if (st != SSCMA_OK)
            return st;
        lo = level_lo < lo ? level_lo : lo, hi = level_hi > hi ? level_hi : hi;
        rows += q->t[levels[l]].dims[1];
    }
    const int64_t dims[3] = {1, rows, k};
    int32_t y;
    sscma_status st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_F32, 3, dims, false, &y);
    if (st != SSCMA_OK)
        return st;
    set_range(q, y, lo, hi);
    qm_op concat = {.kind = QM_CONCAT, .name = "decode/output", .n_in = d->num_levels, .axis = 1, .out = y};
    memcpy(concat.in, levels, (size_t)d->num_levels * sizeof levels[0]);
    if ((st = sscma_qm_add_op(q, &concat, NULL)) != SSCMA_OK)
        return st;
    *out = y;
    return SSCMA_OK;
}
