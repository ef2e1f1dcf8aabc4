/* The device scorer (loda_score.h): libsscma's lib/anomaly/loda.c scoring, in float. */
#include <math.h>

#include "loda_score.h"

float loda_score(const loda_model *m, const float *x)
{
    float sum = 0.0f;
    for (int i = 0; i < m->num_cuts; i++) {
        const float *p = m->projections + (long)i * m->dim;
        float v = 0.0f;
        for (int k = 0; k < m->dim; k++)
            v += p[k] * x[k];
        /* the histogram's bin, clamped to the end bins (values outside the training range, and NaN, included) */
        float t = floorf((v - m->lo[i]) / m->width[i]);
        int b = t >= (float)(m->num_bins - 1) ? m->num_bins - 1 : t >= 0.0f ? (int)t : 0;
        sum += m->neg_log_density[i * m->num_bins + b];
    }
    return sum / (float)m->num_cuts;
}
