/*
 * The micro runtime's reader of the "threshold" metadata (micro.c), visible to its host test (tests/mcu/micro_host.c)
 * only: the micro runtime is a static library outside libsscma.so's ABI. Not installed.
 */
#ifndef SSCMA_LIB_MICRO_READ_DECIMAL_H
#define SSCMA_LIB_MICRO_READ_DECIMAL_H

#include <stdbool.h>

/* text as the host's strtod reads it (see micro.c); false when it is not a decimal number the reader takes */
bool sscma_micro_read_decimal(const char *text, double *out);

#endif
