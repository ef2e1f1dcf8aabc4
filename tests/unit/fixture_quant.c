/* What the int8 tests share (fixture_quant.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_models.h"
#include "fixture_quant.h"
#include "harness.h"

int8_t *fixture_run_int8(sscma_qmodel *q, int n, size_t *bytes)
{
    sscma_tensor *in, *out;
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
    int8_t *xd, *yd;
    size_t in_b, out_b;
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(out, (void **)&yd);
    sscma_tensor_size_bytes(in, &in_b);
    sscma_tensor_size_bytes(out, &out_b);
    int8_t *all = malloc(out_b * (size_t)n);
    uint64_t seed = 99;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < in_b; k++)
            xd[k] = (int8_t)fixture_uniform(&seed, -128.0f, 127.99f);
        CHECK_OK(sscma_qmodel_run(q));
        memcpy(all + (size_t)i * out_b, yd, out_b);
    }
    *bytes = out_b;
    return all;
}
