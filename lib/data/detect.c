/* The detection transforms' formulas and kernels (see detect.h); the pipeline (pipeline.c) draws and dispatches. */
#include <math.h>
#include <string.h>

#include "data/detect.h"

static const double pi = 3.14159265358979323846;

/* c = a . b for row-major 3x3 matrices (c may not alias). */
static void mat3_mul(const double *a, const double *b, double *c)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

double sscma_yolov5_affine(const sscma_affine_spec *s, int64_t h, int64_t w, const double u[6], double m[9],
                           int64_t *oh, int64_t *ow)
{
    const int64_t height = h + 2 * s->border_y, width = w + 2 * s->border_x;
    /* random.uniform(a, b) = a + (b - a) u, in mmyolo's order */
    const double rot = (-s->max_rotate_degree + 2.0 * s->max_rotate_degree * u[0]) * pi / 180.0;
    const double scale = s->scale_min + (s->scale_max - s->scale_min) * u[1];
    const double shx = (-s->max_shear_degree + 2.0 * s->max_shear_degree * u[2]) * pi / 180.0;
    const double shy = (-s->max_shear_degree + 2.0 * s->max_shear_degree * u[3]) * pi / 180.0;
    const double tr = s->max_translate_ratio;
    const double tx = (0.5 - tr + 2.0 * tr * u[4]) * (double)width, ty = (0.5 - tr + 2.0 * tr * u[5]) * (double)height;
    const double translate[9] = {1, 0, tx, 0, 1, ty, 0, 0, 1};
    const double shear[9] = {1, tan(shx), 0, tan(shy), 1, 0, 0, 0, 1};
    const double rotation[9] = {cos(rot), -sin(rot), 0, sin(rot), cos(rot), 0, 0, 0, 1};
    const double scaling[9] = {scale, 0, 0, 0, scale, 0, 0, 0, 1};
    const double centre[9] = {1, 0, -(double)w / 2.0, 0, 1, -(double)h / 2.0, 0, 0, 1};
    double a[9], b[9];
    mat3_mul(translate, shear, a);
    mat3_mul(a, rotation, b);
    mat3_mul(b, scaling, a);
    mat3_mul(a, centre, m);
    *oh = height, *ow = width;
    return scale;
}

int32_t sscma_affine_boxes(const sscma_affine_spec *s, const double m[9], double scale, int64_t oh, int64_t ow,
                           float *boxes, int32_t *labels, int32_t n)
{
    int32_t kept = 0;
    for (int32_t i = 0; i < n; i++) {
        const float *b = boxes + 4 * i;
        double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
        for (int q = 0; q < 4; q++) { /* corners projected (the last row is 0 0 1: no division) */
            double x = (q & 1) ? b[2] : b[0], y = (q >> 1) ? b[3] : b[1];
            double px = m[0] * x + m[1] * y + m[2], py = m[3] * x + m[4] * y + m[5];
            x1 = fmin(x1, px), y1 = fmin(y1, py), x2 = fmax(x2, px), y2 = fmax(y2, py);
        }
        if (s->clip) { /* bbox_clip_border */
            x1 = fmin(fmax(x1, 0.0), (double)ow), x2 = fmin(fmax(x2, 0.0), (double)ow);
            y1 = fmin(fmax(y1, 0.0), (double)oh), y2 = fmin(fmax(y2, 0.0), (double)oh);
        }
        const double w = x2 - x1, h = y2 - y1;
        const double w0 = ((double)b[2] - (double)b[0]) * scale, h0 = ((double)b[3] - (double)b[1]) * scale;
        const double aspect = fmax(w / (h + 1e-16), h / (w + 1e-16));
        if (!(w > s->min_bbox_size && h > s->min_bbox_size && w * h / (w0 * h0 + 1e-16) > s->min_area_ratio &&
              aspect < s->max_aspect_ratio))
            continue;
        float *o = boxes + 4 * kept;
        o[0] = (float)x1, o[1] = (float)y1, o[2] = (float)x2, o[3] = (float)y2;
        if (labels != NULL)
            labels[kept] = labels[i];
        kept++;
    }
    return kept;
}

void sscma_warp_affine_cv(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow, const double m[9],
                          float border)
{
    const int64_t h = src->h, w = src->w, c = src->c;
    const double det = m[0] * m[4] - m[1] * m[3];
    const double inv[6] = {m[4] / det, -m[1] / det, (m[1] * m[5] - m[4] * m[2]) / det,
                           -m[3] / det, m[0] / det, (m[3] * m[2] - m[0] * m[5]) / det};
    for (int64_t y = 0; y < oh; y++)
        for (int64_t x = 0; x < ow; x++) {
            const double sx = inv[0] * (double)x + inv[1] * (double)y + inv[2];
            const double sy = inv[3] * (double)x + inv[4] * (double)y + inv[5];
            const double fx = floor(sx), fy = floor(sy), tx = sx - fx, ty = sy - fy;
            float *o = dst->data + (y * ow + x) * c;
            if (!(fx >= -1.0 && fy >= -1.0 && fx < (double)w && fy < (double)h)) { /* no neighbour inside */
                for (int64_t k = 0; k < c; k++)
                    o[k] = border;
                continue;
            }
            const int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
            for (int64_t k = 0; k < c; k++) {
                double acc = 0.0;
                for (int q = 0; q < 4; q++) {
                    const int64_t xx = x0 + (q & 1), yy = y0 + (q >> 1);
                    const double wgt = ((q & 1) ? tx : 1.0 - tx) * ((q >> 1) ? ty : 1.0 - ty);
                    acc += wgt * (xx >= 0 && xx < w && yy >= 0 && yy < h ? src->data[(yy * w + xx) * c + k] : border);
                }
                o[k] = (float)acc;
            }
        }
    dst->h = oh, dst->w = ow, dst->c = c;
}

void sscma_letterbox(int64_t h, int64_t w, int64_t th, int64_t tw, bool allow_scale_up, bool use_mini_pad,
                     bool stretch_only, sscma_letterbox_params *out)
{
    double ratio = fmin((double)th / (double)h, (double)tw / (double)w);
    if (!allow_scale_up)
        ratio = fmin(ratio, 1.0);
    /* Python's round(): halves to even, as nearbyint in the default rounding mode */
    int64_t nh = (int64_t)nearbyint((double)h * ratio), nw = (int64_t)nearbyint((double)w * ratio);
    nh = nh < 1 ? 1 : nh, nw = nw < 1 ? 1 : nw;
    int64_t ph = th - nh, pw = tw - nw;
    if (use_mini_pad) { /* np.mod: the remainder has the divisor's sign */
        ph = ((ph % 32) + 32) % 32, pw = ((pw % 32) + 32) % 32;
    } else if (stretch_only) {
        ph = pw = 0, nh = th, nw = tw;
    }
    /* int(round(p // 2 - 0.1)): floor division, then the 0.1 keeps an exact half from rounding up */
    const int64_t top = (int64_t)nearbyint(floor((double)ph / 2.0) - 0.1);
    const int64_t left = (int64_t)nearbyint(floor((double)pw / 2.0) - 0.1);
    out->nh = nh, out->nw = nw;
    out->top = top, out->bottom = ph - top, out->left = left, out->right = pw - left;
    out->oh = nh + ph, out->ow = nw + pw;
    out->scale_x = (double)nw / (double)w, out->scale_y = (double)nh / (double)h;
}

double sscma_keep_ratio_size(int64_t h, int64_t w, int64_t th, int64_t tw, int64_t *nh, int64_t *nw)
{
    const double long_edge = (double)(th > tw ? th : tw), short_edge = (double)(th < tw ? th : tw);
    const double ratio = fmin(long_edge / (double)(h > w ? h : w), short_edge / (double)(h < w ? h : w));
    *nh = h, *nw = w;
    if (ratio != 1.0) { /* int(): truncation */
        *nh = (int64_t)((double)h * ratio), *nw = (int64_t)((double)w * ratio);
        *nh = *nh < 1 ? 1 : *nh, *nw = *nw < 1 ? 1 : *nw;
    }
    return ratio;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void sscma_mosaic_place(int loc, int64_t cx, int64_t cy, int64_t h, int64_t w, int64_t sh, int64_t sw,
                        int64_t paste[4], int64_t crop[4])
{
    int64_t x1, y1, x2, y2;
    switch (loc) {
    case 0: /* top left */
        x1 = max64(cx - w, 0), y1 = max64(cy - h, 0), x2 = cx, y2 = cy;
        crop[0] = w - (x2 - x1), crop[1] = h - (y2 - y1), crop[2] = w, crop[3] = h;
        break;
    case 1: /* top right */
        x1 = cx, y1 = max64(cy - h, 0), x2 = min64(cx + w, 2 * sw), y2 = cy;
        crop[0] = 0, crop[1] = h - (y2 - y1), crop[2] = min64(w, x2 - x1), crop[3] = h;
        break;
    case 2: /* bottom left */
        x1 = max64(cx - w, 0), y1 = cy, x2 = cx, y2 = min64(2 * sh, cy + h);
        crop[0] = w - (x2 - x1), crop[1] = 0, crop[2] = w, crop[3] = min64(y2 - y1, h);
        break;
    default: /* bottom right */
        x1 = cx, y1 = cy, x2 = min64(cx + w, 2 * sw), y2 = min64(2 * sh, cy + h);
        crop[0] = 0, crop[1] = 0, crop[2] = min64(w, x2 - x1), crop[3] = min64(y2 - y1, h);
        break;
    }
    paste[0] = x1, paste[1] = y1, paste[2] = x2, paste[3] = y2;
}

void sscma_hsv_lut(const double gains[3], uint8_t lut[3][256])
{
    for (int i = 0; i < 256; i++) {
        const double hue = fmod((double)i * gains[0], 180.0); /* gains are positive (1 +- delta, delta < 1) */
        const double sat = fmin(fmax((double)i * gains[1], 0.0), 255.0), val = fmin(fmax((double)i * gains[2], 0.0), 255.0);
        lut[0][i] = (uint8_t)(hue < 0.0 ? hue + 180.0 : hue), lut[1][i] = (uint8_t)sat, lut[2][i] = (uint8_t)val;
    }
}

static int to_u8(float v)
{
    float r = nearbyintf(v);
    return r < 0.0f ? 0 : r > 255.0f ? 255 : (int)r;
}

/* OpenCV's RGB2HSV for 8 bits: fixed point with 12 fractional bits, H in 0..180. */
static void rgb_to_hsv_u8(int r, int g, int b, int *ho, int *so, int *vo)
{
    const int shift = 12, half = 1 << (shift - 1);
    int v = r > g ? r : g, vmin = r < g ? r : g;
    v = v > b ? v : b, vmin = vmin < b ? vmin : b;
    const int diff = v - vmin;
    const int sdiv = v == 0 ? 0 : (int)nearbyint((double)(255 << shift) / (double)v);
    const int hdiv = diff == 0 ? 0 : (int)nearbyint((double)(180 << shift) / (6.0 * (double)diff));
    const int s = (diff * sdiv + half) >> shift;
    int h = v == r ? g - b : v == g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * hdiv + half) >> shift;
    h += h < 0 ? 180 : 0;
    *ho = h, *so = s, *vo = v;
}

/* OpenCV's HSV2RGB for 8 bits: in float with H scaled by 6 / 180, rounded back to 8 bits. */
static void hsv_to_rgb_u8(int hi, int si, int vi, float *rgb)
{
    static const int sector_data[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1}, {0, 2, 1}, {0, 1, 3}, {2, 1, 0}}; /* b g r */
    float h = (float)hi, s = (float)si * (1.0f / 255.0f), v = (float)vi * (1.0f / 255.0f), b, g, r;
    if (s == 0.0f) {
        b = g = r = v;
    } else {
        h *= 6.0f / 180.0f;
        if (h < 0.0f)
            h += 6.0f;
        else if (h >= 6.0f)
            h -= 6.0f;
        int sector = (int)floorf(h);
        h -= (float)sector;
        if (sector < 0 || sector >= 6)
            sector = 0, h = 0.0f;
        const float tab[4] = {v, v * (1.0f - s), v * (1.0f - s * h), v * (1.0f - s * (1.0f - h))};
        b = tab[sector_data[sector][0]], g = tab[sector_data[sector][1]], r = tab[sector_data[sector][2]];
    }
    rgb[0] = (float)to_u8(r * 255.0f), rgb[1] = (float)to_u8(g * 255.0f), rgb[2] = (float)to_u8(b * 255.0f);
}

void sscma_hsv_apply_lut(sscma_image *img, const uint8_t lut[3][256])
{
    const int64_t n = img->h * img->w;
    if (img->c != 3) { /* one channel: its value (the V plane of a grey pixel) */
        for (int64_t i = 0; i < n * img->c; i++)
            img->data[i] = (float)lut[2][to_u8(img->data[i])];
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float *px = img->data + 3 * i;
        int h, s, v;
        rgb_to_hsv_u8(to_u8(px[0]), to_u8(px[1]), to_u8(px[2]), &h, &s, &v);
        hsv_to_rgb_u8(lut[0][h], lut[1][s], lut[2][v], px);
    }
}

/* Index of x reflected into 0..n-1 without repeating the edge (BORDER_REFLECT_101). */
static int64_t reflect101(int64_t x, int64_t n)
{
    if (n == 1)
        return 0;
    while (x < 0 || x >= n)
        x = x < 0 ? -x : 2 * (n - 1) - x;
    return x;
}

bool sscma_clahe_u8(const sscma_context *ctx, uint8_t *plane, int64_t h, int64_t w, double clip_limit,
                    int32_t tiles_x, int32_t tiles_y)
{
    /* a size that is not a multiple of the grid is padded (reflect 101) by tiles - size % tiles on both axes */
    const bool exact = w % tiles_x == 0 && h % tiles_y == 0;
    const int64_t eh = exact ? h : h + tiles_y - h % tiles_y, ew = exact ? w : w + tiles_x - w % tiles_x;
    const int64_t tile_h = eh / tiles_y, tile_w = ew / tiles_x, area = tile_h * tile_w;
    uint8_t *ext = sscma_malloc(ctx, (size_t)(eh * ew));
    uint8_t *luts = sscma_malloc(ctx, (size_t)tiles_x * (size_t)tiles_y * 256);
    if (ext == NULL || luts == NULL) {
        sscma_mfree(ctx, ext), sscma_mfree(ctx, luts);
        return false;
    }
    for (int64_t y = 0; y < eh; y++)
        for (int64_t x = 0; x < ew; x++)
            ext[y * ew + x] = plane[reflect101(y, h) * w + reflect101(x, w)];
    int64_t limit = 0;
    if (clip_limit > 0.0) {
        limit = (int64_t)(clip_limit * (double)area / 256.0);
        limit = limit < 1 ? 1 : limit;
    }
    const float lut_scale = 255.0f / (float)area;
    for (int32_t ty = 0; ty < tiles_y; ty++)
        for (int32_t tx = 0; tx < tiles_x; tx++) {
            int64_t hist[256] = {0};
            for (int64_t y = ty * tile_h; y < (ty + 1) * tile_h; y++)
                for (int64_t x = tx * tile_w; x < (tx + 1) * tile_w; x++)
                    hist[ext[y * ew + x]]++;
            if (limit > 0) { /* clip, spread the excess evenly, the remainder one by one at a stride */
                int64_t clipped = 0;
                for (int i = 0; i < 256; i++)
                    if (hist[i] > limit)
                        clipped += hist[i] - limit, hist[i] = limit;
                const int64_t batch = clipped / 256;
                int64_t residual = clipped - batch * 256;
                for (int i = 0; i < 256; i++)
                    hist[i] += batch;
                if (residual != 0) {
                    const int64_t step = 256 / residual > 1 ? 256 / residual : 1;
                    for (int64_t i = 0; i < 256 && residual > 0; i += step, residual--)
                        hist[i]++;
                }
            }
            uint8_t *lut = luts + ((size_t)ty * (size_t)tiles_x + (size_t)tx) * 256;
            int64_t sum = 0;
            for (int i = 0; i < 256; i++) {
                sum += hist[i];
                lut[i] = (uint8_t)to_u8((float)sum * lut_scale);
            }
        }
    const float inv_th = 1.0f / (float)tile_h, inv_tw = 1.0f / (float)tile_w;
    for (int64_t y = 0; y < h; y++) {
        const float tyf = (float)y * inv_th - 0.5f;
        int64_t ty1 = (int64_t)floorf(tyf), ty2 = ty1 + 1;
        const float ya = tyf - (float)ty1, ya1 = 1.0f - ya;
        ty1 = ty1 < 0 ? 0 : ty1, ty2 = ty2 > tiles_y - 1 ? tiles_y - 1 : ty2;
        for (int64_t x = 0; x < w; x++) {
            const float txf = (float)x * inv_tw - 0.5f;
            int64_t tx1 = (int64_t)floorf(txf), tx2 = tx1 + 1;
            const float xa = txf - (float)tx1, xa1 = 1.0f - xa;
            tx1 = tx1 < 0 ? 0 : tx1, tx2 = tx2 > tiles_x - 1 ? tiles_x - 1 : tx2;
            const uint8_t v = plane[y * w + x];
            const uint8_t *l1 = luts + (size_t)ty1 * (size_t)tiles_x * 256, *l2 = luts + (size_t)ty2 * (size_t)tiles_x * 256;
            const float res = ((float)l1[tx1 * 256 + v] * xa1 + (float)l1[tx2 * 256 + v] * xa) * ya1 +
                              ((float)l2[tx1 * 256 + v] * xa1 + (float)l2[tx2 * 256 + v] * xa) * ya;
            plane[y * w + x] = (uint8_t)to_u8(res);
        }
    }
    sscma_mfree(ctx, ext), sscma_mfree(ctx, luts);
    return true;
}

void sscma_resize_area(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow)
{
    const int64_t c = src->c;
    const double sy = (double)src->h / (double)oh, sx = (double)src->w / (double)ow;
    for (int64_t y = 0; y < oh; y++) {
        const double y0 = (double)y * sy, y1 = fmin(y0 + sy, (double)src->h);
        for (int64_t x = 0; x < ow; x++) {
            const double x0 = (double)x * sx, x1 = fmin(x0 + sx, (double)src->w);
            float *o = dst->data + (y * ow + x) * c;
            double acc[4] = {0, 0, 0, 0}, total = 0.0;
            for (int64_t yy = (int64_t)floor(y0); (double)yy < y1; yy++) {
                const double wy = fmin((double)yy + 1.0, y1) - fmax((double)yy, y0);
                for (int64_t xx = (int64_t)floor(x0); (double)xx < x1; xx++) {
                    const double wgt = wy * (fmin((double)xx + 1.0, x1) - fmax((double)xx, x0));
                    const float *p = src->data + (yy * src->w + xx) * c;
                    for (int64_t k = 0; k < c && k < 4; k++)
                        acc[k] += wgt * p[k];
                    total += wgt;
                }
            }
            for (int64_t k = 0; k < c && k < 4; k++)
                o[k] = (float)(acc[k] / total);
        }
    }
    dst->h = oh, dst->w = ow, dst->c = c;
}

/* A uniform double in (0, 1) for draw k of the stream. */
static double open_uniform(uint64_t seed, uint64_t stream, uint64_t k)
{
    uint64_t x = sscma_hash64(seed ^ sscma_hash64(stream ^ sscma_hash64(k)));
    return ((double)(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Gamma(a, 1) by Marsaglia and Tsang (a < 1 through Gamma(a + 1) u^(1/a)); *k counts the draws used. */
static double gamma_sample(double a, uint64_t seed, uint64_t stream, uint64_t *k)
{
    double boost = 1.0;
    if (a < 1.0) {
        boost = pow(open_uniform(seed, stream, (*k)++), 1.0 / a);
        a += 1.0;
    }
    const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (int tries = 0; tries < 1000; tries++) {
        const double u1 = open_uniform(seed, stream, (*k)++), u2 = open_uniform(seed, stream, (*k)++);
        const double x = sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2); /* Box-Muller */
        double v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        const double u = open_uniform(seed, stream, (*k)++);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v * boost;
    }
    return d * boost; /* the mode: not reached in practice (acceptance is above 95 %) */
}

double sscma_beta_sample(double alpha, double beta, uint64_t seed, uint64_t stream)
{
    uint64_t k = 1;
    const double x = gamma_sample(alpha, seed, stream, &k), y = gamma_sample(beta, seed, stream, &k);
    if (!(x + y > 0.0)) /* both underflowed (tiny alpha and beta): the limit, 1 with probability alpha / (a + b) */
        return open_uniform(seed, stream, 0) < alpha / (alpha + beta) ? 1.0 : 0.0;
    return x / (x + y);
}
