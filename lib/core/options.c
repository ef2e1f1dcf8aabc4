/* Versioned option structs: one size check and the two copies every *_options_init() and reader share. */
#include <string.h>

#include "core/internal.h"

sscma_status sscma_options_check(const char *where, const char *field, size_t struct_size, size_t v1_size,
                                 size_t current_size, const char *type)
{
    SSCMA_ASSERT(v1_size >= sizeof(uint32_t) && v1_size <= current_size);
    if (struct_size < v1_size)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where,
                          "%s %zu is smaller than the first version of %s (%zu bytes): set it to sizeof(%s) or "
                          "fill the struct with its options_init()", field, struct_size, type, v1_size, type);
    if (struct_size > current_size)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, where,
                          "%s %zu is larger than this library's %s (%zu bytes): the program was built against a "
                          "newer libsscma than the one loaded (%s)", field, struct_size, type, current_size,
                          sscma_version());
    return SSCMA_OK;
}

sscma_status sscma_options_init(const char *where, const char *type, void *options, size_t struct_size,
                                const void *defaults, size_t v1_size, size_t current_size)
{
    if (options == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, where, "argument 'options' is NULL");
    sscma_status st = sscma_options_check(where, "struct_size", struct_size, v1_size, current_size, type);
    if (st != SSCMA_OK)
        return st;
    uint32_t size32 = (uint32_t)struct_size;
    memcpy(options, defaults, struct_size);
    memcpy(options, &size32, sizeof size32);
    return SSCMA_OK;
}

sscma_status sscma_options_read(const char *where, const char *type, const void *options, void *dst, size_t v1_size,
                                size_t current_size)
{
    uint32_t size32;
    memcpy(&size32, options, sizeof size32);
    sscma_status st = sscma_options_check(where, "options->struct_size", size32, v1_size, current_size, type);
    if (st != SSCMA_OK)
        return st;
    memcpy(dst, options, size32);
    size32 = (uint32_t)current_size;
    memcpy(dst, &size32, sizeof size32);
    return SSCMA_OK;
}
