/*
 * C-array export: the TFLite bytes of a deployable model as a header and a source file that a microcontroller
 * build compiles in (TFLite Micro's GetModel(symbol) or SSCMA-Micro's model loaders take them as they are).
 *
 *   symbol.h:  extern const unsigned char symbol[];  extern const unsigned int symbol_len;
 *   symbol.c:  the bytes, 16-byte aligned (TFLite Micro requires 16 for its flatbuffer), 12 per line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/internal.h"
#include "export/exporters.h"
#include "sscma/export.h"

static bool is_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* A growing text buffer. */
typedef struct text {
    const sscma_context *ctx;
    char *s;
    size_t n, cap;
    bool oom;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *g = sscma_mrealloc(t->ctx, t->s, cap);
        if (g == NULL) {
            t->oom = true;
            return;
        }
        t->s = g, t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void puts_(text *t, const char *s)
{
    put(t, s, strlen(s));
}

sscma_status sscma_export_c_array(const sscma_qmodel *qmodel, const char *header_path, const char *source_path,
                                  const char *symbol)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(header_path);
    SSCMA_REQUIRE_NONNULL(source_path);
    SSCMA_REQUIRE_NONNULL(symbol);
    if (!is_identifier(symbol) || strlen(symbol) > 200)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "symbol '%s' is not a C identifier", symbol);
    fb_builder b;
    const uint8_t *data = NULL;
    size_t size = 0;
    sscma_status st = sscma_tflite_build(qmodel, &b, &data, &size);
    if (st != SSCMA_OK) {
        fb_free(&b);
        return st;
    }
    char line[512];
    text h = {.ctx = qmodel->ctx}, c = {.ctx = qmodel->ctx};
    snprintf(line, sizeof line,
             "/* %s: TFLite model (%zu bytes) written by libsscma %s. */\n#ifndef %s_H\n#define %s_H\n\n", symbol,
             size, sscma_version(), symbol, symbol);
    puts_(&h, line);
    snprintf(line, sizeof line,
             "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n/* The flatbuffer, 16-byte aligned. */\n"
             "extern const unsigned char %s[];\nextern const unsigned int %s_len;\n\n"
             "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n",
             symbol, symbol, symbol);
    puts_(&h, line);
    snprintf(line, sizeof line,
             "/* %s: TFLite model (%zu bytes) written by libsscma %s. */\n#include \"%s\"\n\n"
             "#if defined(__GNUC__) || defined(__clang__)\n#define SSCMA_MODEL_ALIGN __attribute__((aligned(16)))\n"
             "#elif defined(_MSC_VER)\n#define SSCMA_MODEL_ALIGN\n#else\n#define SSCMA_MODEL_ALIGN _Alignas(16)\n"
             "#endif\n\nconst unsigned int %s_len = %zuu;\n\nconst unsigned char %s[] SSCMA_MODEL_ALIGN = {\n",
             symbol, size, sscma_version(), base_name(header_path), symbol, size, symbol);
    puts_(&c, line);
    for (size_t i = 0; i < size; i++) {
        char hex[16];
        snprintf(hex, sizeof hex, "%s0x%02x%s", i % 12 == 0 ? "    " : " ", data[i],
                 i + 1 == size ? "\n" : i % 12 == 11 ? ",\n" : ",");
        puts_(&c, hex);
    }
    puts_(&c, "};\n");
    fb_free(&b);
    if (h.oom || c.oom)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "out of memory while writing the arrays");
    if (st == SSCMA_OK) { /* both or neither: a failed export leaves the previous pair as it was */
        const char *paths[2] = {header_path, source_path};
        const void *contents[2] = {h.s, c.s};
        size_t sizes[2] = {h.n, c.n};
        st = sscma_write_files_atomic(2, paths, contents, sizes);
    }
    sscma_mfree(h.ctx, h.s);
    sscma_mfree(c.ctx, c.s);
    return st;
}
