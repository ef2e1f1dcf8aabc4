/*
 * Text in the command line's raster pictures: class names, scores, axis labels and counts.
 *
 * The font is a TrueType file rasterised by stb_truetype (Debian's libstb): the file named by SSCMA_FONT ("none":
 * the built-in font below), else the one fontconfig matches for "DejaVu Sans" (when the CLI is built with
 * fontconfig), else Debian's fonts-dejavu-core path. When none can be read, stb_easy_font's built-in bitmap font
 * (also libstb, no file) draws the text, so a picture never goes without its words and a training run never fails
 * for want of a font (docs/cli.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push /* a header of static functions, not all used, written for C89 compilers */
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop
#include <stb_truetype.h>
#if SSCMA_CLI_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

#include "cli.h"

#define DEJAVU_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

static struct {
    bool tried, ok;
    unsigned char *data;
    stbtt_fontinfo info;
    char source[1024];
} font;

static unsigned char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n)) != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

static bool try_font(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return false;
    unsigned char *data = read_file(path);
    int offset = data != NULL ? stbtt_GetFontOffsetForIndex(data, 0) : -1;
    if (offset < 0 || !stbtt_InitFont(&font.info, data, offset)) {
        free(data);
        return false;
    }
    font.data = data;
    snprintf(font.source, sizeof font.source, "%s", path);
    return true;
}

#if SSCMA_CLI_FONTCONFIG
static bool try_fontconfig(void)
{
    bool ok = false;
    FcConfig *config = FcInitLoadConfigAndFonts();
    FcPattern *pattern = config != NULL ? FcNameParse((const FcChar8 *)"DejaVu Sans:style=Book") : NULL;
    if (pattern != NULL && FcConfigSubstitute(config, pattern, FcMatchPattern)) {
        FcDefaultSubstitute(pattern);
        FcResult result = FcResultNoMatch;
        FcPattern *match = FcFontMatch(config, pattern, &result);
        FcChar8 *file = NULL;
        if (match != NULL && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch)
            ok = try_font((const char *)file);
        if (match != NULL)
            FcPatternDestroy(match);
    }
    if (pattern != NULL)
        FcPatternDestroy(pattern);
    if (config != NULL)
        FcConfigDestroy(config);
    return ok;
}
#endif

static bool load(void)
{
    if (font.tried)
        return font.ok;
    font.tried = true;
    const char *chosen = getenv("SSCMA_FONT");
    if (chosen != NULL && strcmp(chosen, "none") == 0) { /* the built-in font, asked for */
        snprintf(font.source, sizeof font.source, "built-in (stb_easy_font)");
        return false;
    }
    font.ok = try_font(chosen);
#if SSCMA_CLI_FONTCONFIG
    if (!font.ok)
        font.ok = try_fontconfig();
#endif
    if (!font.ok)
        font.ok = try_font(DEJAVU_PATH);
    if (!font.ok)
        snprintf(font.source, sizeof font.source, "built-in (stb_easy_font)");
    return font.ok;
}

const char *cli_text_font(void)
{
    load();
    return font.source;
}

/* The next code point of UTF-8 text at *s (advanced); U+FFFD for a malformed sequence. */
static int next_codepoint(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    int n = p[0] < 0x80 ? 0 : (p[0] & 0xE0) == 0xC0 ? 1 : (p[0] & 0xF0) == 0xE0 ? 2 : (p[0] & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0) {
        (*s)++;
        return 0xFFFD;
    }
    int cp = n == 0 ? p[0] : p[0] & (0x3F >> n);
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s += i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s += n + 1;
    return cp;
}

/* The bitmap font's scale for a pixel height: its capitals are 7 units high in a 12-unit line. */
static int easy_scale(int size)
{
    int k = size / 10;
    return k < 1 ? 1 : k;
}

/* stb_easy_font takes ASCII: other bytes become '?'. */
static void easy_text(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < cap; s++)
        out[n++] = (unsigned char)*s >= 32 && (unsigned char)*s < 127 ? *s : '?';
    out[n] = '\0';
}

int cli_text_width(const char *s, int size)
{
    if (s == NULL || size <= 0)
        return 0;
    if (!load()) {
        char ascii[512];
        easy_text(s, ascii, sizeof ascii);
        return stb_easy_font_width(ascii) * easy_scale(size);
    }
    const float scale = stbtt_ScaleForPixelHeight(&font.info, (float)size);
    float x = 0.0f;
    int prev = 0;
    while (*s != '\0') {
        int cp = next_codepoint(&s), advance = 0, lsb = 0;
        stbtt_GetCodepointHMetrics(&font.info, cp, &advance, &lsb);
        if (prev != 0)
            x += scale * (float)stbtt_GetCodepointKernAdvance(&font.info, prev, cp);
        x += scale * (float)advance;
        prev = cp;
    }
    return (int)ceilf(x);
}

/* Blends rgb into pixel (x, y) with coverage a (0..255). */
static void blend(const cli_canvas *c, int64_t x, int64_t y, int a, const uint8_t *rgb)
{
    if (a <= 0 || x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->px + 3 * (y * c->stride + x);
    for (int k = 0; k < 3; k++)
        p[k] = (uint8_t)((p[k] * (255 - a) + rgb[k] * a + 127) / 255);
}

static void easy_draw(const cli_canvas *c, int64_t x, int64_t y, const char *s, int size, const uint8_t *rgb)
{
    char ascii[512];
    easy_text(s, ascii, sizeof ascii);
    static char quads[512 * 270]; /* stb_easy_font's ~270 bytes per character */
    unsigned char white[4] = {255, 255, 255, 255};
    const int k = easy_scale(size), n = stb_easy_font_print(0.0f, 0.0f, ascii, white, quads, (int)sizeof quads);
    const int64_t top = y + (size - 10 * k) / 2;
    for (int q = 0; q < n; q++) { /* each quad: 4 vertices of 16 bytes (x, y, z floats; colour) */
        float v[4][4];
        memcpy(v, quads + 64 * q, sizeof v);
        for (int64_t py = (int64_t)v[0][1] * k; py < (int64_t)v[2][1] * k; py++)
            for (int64_t px = (int64_t)v[0][0] * k; px < (int64_t)v[2][0] * k; px++)
                blend(c, x + px, top + py, 255, rgb);
    }
}

void cli_text(const cli_canvas *c, int64_t x, int64_t y, const char *s, int size, const uint8_t *rgb)
{
    if (c == NULL || c->px == NULL || s == NULL || size <= 0)
        return;
    if (!load()) {
        easy_draw(c, x, y, s, size, rgb);
        return;
    }
    const float scale = stbtt_ScaleForPixelHeight(&font.info, (float)size);
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&font.info, &ascent, &descent, &gap);
    const int baseline = (int)lroundf(scale * (float)ascent);
    float pen = 0.0f;
    int prev = 0;
    while (*s != '\0') {
        int cp = next_codepoint(&s), advance = 0, lsb = 0, x0, y0, x1, y1;
        if (prev != 0)
            pen += scale * (float)stbtt_GetCodepointKernAdvance(&font.info, prev, cp);
        stbtt_GetCodepointHMetrics(&font.info, cp, &advance, &lsb);
        const float shift = pen - floorf(pen);
        stbtt_GetCodepointBitmapBoxSubpixel(&font.info, cp, scale, scale, shift, 0.0f, &x0, &y0, &x1, &y1);
        const int gw = x1 - x0, gh = y1 - y0;
        if (gw > 0 && gh > 0 && gw <= 4 * size && gh <= 4 * size) {
            unsigned char glyph[4 * 64 * 4 * 64];
            if ((size_t)gw * (size_t)gh <= sizeof glyph) {
                stbtt_MakeCodepointBitmapSubpixel(&font.info, glyph, gw, gh, gw, scale, scale, shift, 0.0f, cp);
                const int64_t ox = x + (int64_t)floorf(pen) + x0, oy = y + baseline + y0;
                for (int gy = 0; gy < gh; gy++)
                    for (int gx = 0; gx < gw; gx++)
                        blend(c, ox + gx, oy + gy, glyph[gy * gw + gx], rgb);
            }
        }
        pen += scale * (float)advance;
        prev = cp;
    }
}

void cli_text_vertical(const cli_canvas *c, int64_t x, int64_t y, const char *s, int size, const uint8_t *rgb)
{
    if (c == NULL || c->px == NULL || s == NULL || size <= 0)
        return;
    const int64_t tw = cli_text_width(s, size) + 2, th = size + size / 2;
    uint8_t *tmp = malloc((size_t)(tw * th * 3));
    if (tmp == NULL)
        return;
    /* drawn white on black in a scratch canvas, then turned a quarter counter-clockwise: reads bottom to top */
    memset(tmp, 0, (size_t)(tw * th * 3));
    const cli_canvas t = {tmp, th, tw, tw};
    const uint8_t white[3] = {255, 255, 255};
    cli_text(&t, 0, 0, s, size, white);
    for (int64_t ty = 0; ty < th; ty++)
        for (int64_t tx = 0; tx < tw; tx++)
            blend(c, x + ty, y - tx, tmp[3 * (ty * tw + tx)], rgb);
    free(tmp);
}
