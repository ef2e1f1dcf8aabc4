/*
 * RTMDet's deployment outputs (lower.c: cls_0..2 raw class logits [1, H_l W_l, C], dist_0..2 raw distances
 * [1, H_l W_l, 4] in stride units; docs/export.md) read back as boxes: the one place that knows their layout, for
 * the export verification's metric (verify.c) and sscma_predict.
 */
#include <math.h>
#include <string.h>

#include "quant/qmodel.h"

const int32_t sscma_rtmdet_strides[SSCMA_RTMDET_LEVELS] = {8, 16, 32};

/*
 * As SSCMA-Micro's RTMDet::isValid: six rank-3 outputs [1, (S/s)^2, k]; k == 4 is a distance map, anything else a
 * class map, in any order. Two maps of 4 at one level (a 4-class model) are taken in the file's order, class map
 * first (ModelAssistant's and libsscma's order; SSCMA-Micro cannot tell them apart).
 */
sscma_status sscma_qm_rtmdet_layout(const sscma_qmodel *q, const char *where, int32_t *order, int64_t *rows,
                                    int64_t *classes)
{
    const qm_tensor *in = q->n_inputs == 1 ? &q->t[q->inputs[0]] : NULL;
    if (in == NULL || in->rank != 4 || q->n_outputs != 2 * SSCMA_RTMDET_LEVELS)
        return sscma_fail(SSCMA_ERR_SHAPE, where, "an RTMDet model has one image input and 6 outputs (class logits "
                          "and distances of strides 8, 16, 32); this one has %d inputs and %d outputs",
                          (int)q->n_inputs, (int)q->n_outputs);
    /* each level's two outputs in file order */
    int32_t at[SSCMA_RTMDET_LEVELS][2], count[SSCMA_RTMDET_LEVELS] = {0, 0, 0};
    for (int32_t k = 0; k < q->n_outputs; k++) {
        const qm_tensor *t = &q->t[q->outputs[k]];
        int32_t level = -1;
        for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS && t->rank == 3 && t->dims[0] == 1 && t->dims[2] >= 1; l++) {
            const int64_t s = sscma_rtmdet_strides[l];
            if (in->dims[1] % s == 0 && in->dims[2] % s == 0 && t->dims[1] == (in->dims[1] / s) * (in->dims[2] / s))
                level = l;
        }
        if (level < 0 || count[level] == 2)
            return sscma_fail(SSCMA_ERR_SHAPE, where, "output %d ('%s') is not one of RTMDet's outputs for the "
                              "%lldx%lld input: a class map [1, (S/s)^2, classes] and a distance map [1, (S/s)^2, 4] "
                              "for each stride s of 8, 16, 32", (int)k, t->name, (long long)in->dims[1],
                              (long long)in->dims[2]);
        at[level][count[level]++] = k;
    }
    int64_t c = 0, n = 0;
    for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS; l++) {
        const int64_t k0 = q->t[q->outputs[at[l][0]]].dims[2], k1 = q->t[q->outputs[at[l][1]]].dims[2];
        /* the distance map is the one of 4 (the second when both are) */
        const int32_t dist = k1 == 4 ? 1 : 0, cls = 1 - dist;
        const int64_t kc = dist ? k0 : k1;
        if ((dist ? k1 : k0) != 4 || (l > 0 && kc != c))
            return sscma_fail(SSCMA_ERR_SHAPE, where, "stride %d: outputs '%s' and '%s' are not a class map and a "
                              "distance map of 4 (or the classes differ from stride 8's)", (int)sscma_rtmdet_strides[l],
                              q->t[q->outputs[at[l][0]]].name, q->t[q->outputs[at[l][1]]].name);
        order[l] = at[l][cls], order[SSCMA_RTMDET_LEVELS + l] = at[l][dist];
        c = kc, n += q->t[q->outputs[at[l][0]]].dims[1];
    }
    *rows = n, *classes = c;
    return SSCMA_OK;
}

void sscma_qm_rtmdet_rows(int64_t in_h, int64_t in_w, int64_t classes, const float *const *maps, int64_t batch,
                          float offset, float *rows)
{
    int64_t n_rows = 0;
    for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS; l++)
        n_rows += (in_h / sscma_rtmdet_strides[l]) * (in_w / sscma_rtmdet_strides[l]);
    const int64_t k = 5 + classes;
    for (int64_t b = 0; b < batch; b++) {
        float *row = rows + b * n_rows * k;
        for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS; l++) {
            const int64_t w = in_w / sscma_rtmdet_strides[l], hw = (in_h / sscma_rtmdet_strides[l]) * w;
            const float s = (float)sscma_rtmdet_strides[l];
            const float *cls = maps[l] + b * hw * classes, *dist = maps[SSCMA_RTMDET_LEVELS + l] + b * hw * 4;
            for (int64_t j = 0; j < hw; j++, row += k) {
                /* the point ((x + offset) s, (y + offset) s); the distances times s around it (distance2bbox) */
                const float px = ((float)(j % w) + offset) * s, py = ((float)(j / w) + offset) * s;
                const float *d = dist + j * 4;
                const float x1 = px - d[0] * s, y1 = py - d[1] * s, x2 = px + d[2] * s, y2 = py + d[3] * s;
                row[0] = (x1 + x2) * 0.5f, row[1] = (y1 + y2) * 0.5f, row[2] = x2 - x1, row[3] = y2 - y1;
                row[4] = 1.0f;
                for (int64_t c = 0; c < classes; c++)
                    row[5 + c] = 1.0f / (1.0f + expf(-cls[j * classes + c]));
            }
        }
    }
}
