/* The version of the library actually loaded, which may differ from the headers an application was built with. */
#include "sscma/version.h"
#include "core/internal.h"

const char *sscma_version(void)
{
    return SSCMA_VERSION_STRING;
}

uint32_t sscma_version_number(void)
{
    return SSCMA_VERSION_NUMBER;
}
