/* Fixtures of the data.h tests (data_fixtures.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool fifo_make(const char *path, unsigned seconds)
{
    unlink(path);
    if (mkfifo(path, 0600) != 0) {
        test_fail(__FILE__, __LINE__, "cannot make a FIFO");
        return false;
    }
    alarm(seconds);
    return true;
}

void fifo_done(const char *path)
{
    alarm(0);
    unlink(path);
}

sscma_dataset *check_defects_listed(const char *config, int64_t samples, int64_t problems, const char *const *needles,
                                    size_t n)
{
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, config, &ds));
    if (ds == NULL)
        return NULL;
    int64_t size = 0, found = 0;
    const char *report = NULL;
    CHECK_OK(sscma_dataset_size(ds, &size));
    CHECK_INT_EQ(size, samples);
    CHECK_OK(sscma_dataset_check(ds, &found, &report));
    for (size_t k = 0; k < n && report != NULL; k++)
        CHECK_STR_CONTAINS(report, needles[k]);
    CHECK_INT_EQ(found, problems);
    return ds;
}
