/*
 * The LODA scorer for a device: no libsscma, no allocation, float arithmetic. Fill a loda_model from the arrays that
 * `sscma train` writes beside the checkpoint (work_dir/loda_model.c: loda_model_projections, _lo, _width,
 * _neg_log_density, _threshold; or the same keys of work_dir/loda.json). docs/deployment.md, "LODA".
 */
#ifndef LODA_SCORE_H
#define LODA_SCORE_H

typedef struct loda_model {
    int num_bins, num_cuts, dim;
    float threshold;              /* score > threshold: an anomaly */
    const float *projections;     /* [num_cuts][dim] */
    const float *lo, *width;      /* [num_cuts]: the first bin edge, the bin width */
    const float *neg_log_density; /* [num_cuts][num_bins]: -log(density) of each bin */
} loda_model;

/* The mean over the projections of -log(density of the bin of p . x); x holds dim features, as the dataset cuts a
 * window (flattened the way the SensorDataset flattens it). */
float loda_score(const loda_model *m, const float *x);

#endif
