/* Fixtures of the data.h tests (data_fixtures.h). */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>

#include "data_fixtures.h"

sscma_context *ctx;
char tmpdir[64];

bool have_fashion(void)
{
    struct stat sb;
    return stat(FASHION "/train-images-idx3-ubyte.gz", &sb) == 0;
}

int data_test_main(int argc, char **argv, const test_case *cases, size_t count)
{
    if (fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-data") != 0 || sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, cases, count);
    sscma_context_destroy(ctx);
    if (fixture_tmpdir_remove(tmpdir) != 0)
        rc = 1;
    return rc;
}
