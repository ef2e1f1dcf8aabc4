/*
 * Min/max observers over a float run of a deployable model (sscma_qm_run_f32's callback), as sscma_quantize's default:
 * per tensor t the smallest and largest value seen (test_vae, test_strided_dw).
 */
#ifndef SSCMA_TESTS_MINMAX_OBSERVER_H
#define SSCMA_TESTS_MINMAX_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ranges {
    double *lo, *hi;
    bool *seen;
} ranges;

static inline void observe(void *user, int32_t t, const float *data, int64_t count)
{
    ranges *r = user;
    for (int64_t i = 0; i < count; i++) {
        if (!r->seen[t] || data[i] < r->lo[t])
            r->lo[t] = data[i];
        if (!r->seen[t] || data[i] > r->hi[t])
            r->hi[t] = data[i];
        r->seen[t] = true;
    }
}

#endif /* SSCMA_TESTS_MINMAX_OBSERVER_H */
