/*
 * libFuzzer target: the config reader. The input is split at NUL bytes: the main config (JSON text, which may name
 * "_base_": "base.json"), the base config written beside it, then --cfg-options assignments; the config is
 * parsed, the overrides applied, the references resolved and a few keys read back.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated segment of [*at, end) copied into buf (cut to size - 1), advancing *at. */
static const char *segment(const uint8_t **at, const uint8_t *end, char *buf, size_t size)
{
    size_t n = 0;
    while (*at < end && **at != 0) {
        if (n + 1 < size)
            buf[n++] = (char)**at;
        (*at)++;
    }
    if (*at < end)
        (*at)++; /* the NUL */
    buf[n] = '\0';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static char main_text[1 << 16], base_text[1 << 16], assignment[4096];
    const uint8_t *at = data, *end = data + size;
    segment(&at, end, main_text, sizeof main_text);
    segment(&at, end, base_text, sizeof base_text);
    fuzz_write("base.json", (const uint8_t *)base_text, strlen(base_text));
    sscma_config *cfg = NULL;
    if (sscma_config_parse(main_text, fuzz_dir, &cfg) != SSCMA_OK)
        return 0;
    for (int k = 0; k < 16 && at < end; k++)
        (void)sscma_config_set(cfg, segment(&at, end, assignment, sizeof assignment));
    if (sscma_config_resolve(cfg) == SSCMA_OK) {
        static const char *const keys[] = {"model", "work_dir", "train_dataloader.dataset", "max_epochs", "a.b.c"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *json = NULL;
            (void)sscma_config_get(cfg, keys[i], &json);
        }
    }
    sscma_config_destroy(cfg);
    return 0;
}
