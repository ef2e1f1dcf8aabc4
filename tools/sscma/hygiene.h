/*
 * Data hygiene of `sscma dataset check` (duplicates) and `sscma dataset stats` (outliers); the rules and why their
 * thresholds are what they are: docs/data.md, "Data hygiene".
 */
#ifndef SSCMA_CLI_HYGIENE_H
#define SSCMA_CLI_HYGIENE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sscma/sscma.h>

#include "cli.h"

/* dHash on a (GRID + 1)^2 grid of the grey image: 2 * GRID^2 = 128 bits (horizontal and vertical differences). */
#define HYG_DHASH_GRID 8
/* Near duplicates: at most this many of the 128 bits differ (docs/data.md gives the measurements behind it). */
#define HYG_NEAR_BITS 22
/* At most this many near pairs are listed (all are counted): a set of centred silhouettes can give millions. */
#define HYG_MAX_LISTED 1000
/* Outliers: beyond this many robust standard deviations (1.4826 MAD) from the median. */
#define HYG_Z 3.5
/*
 * The least robust scale of a logarithm (box area share, aspect, pixel count): ln(8) / HYG_Z, so that nothing within
 * a factor of 8 of the median is an outlier however tight the rest; of brightness: 4 grey levels (14 at HYG_Z).
 */
#define HYG_LOG_FLOOR 0.5941
#define HYG_BRIGHTNESS_FLOOR 4.0
/* z-rules apply from this many values; a box side under HYG_MIN_SIDE_PX pixels is tiny whatever the spread. */
#define HYG_MIN_FOR_Z 8
#define HYG_MIN_SIDE_PX 2.0
/* A class is rare with fewer images than max(HYG_MIN_CLASS, 10% of the median class). */
#define HYG_MIN_CLASS 5

/* The file name of each sample of a split (NULL names: the format gives none the CLI can read). */
typedef struct hyg_names {
    char **names;
    int64_t count;
} hyg_names;
void hyg_names_load(sscma_config *cfg, const char *split, int64_t size, hyg_names *out);
void hyg_names_free(hyg_names *n);
/* The sample's file, or "<split> sample N" into buf. */
const char *hyg_name(const hyg_names *n, const char *split, int64_t index, char *buf, size_t size);

/* The 128-bit dHash of u8 pixels [h, w, c]; 0, or -1 without memory. */
int hyg_dhash(const uint8_t *px, int64_t h, int64_t w, int64_t c, uint64_t out[2]);
int hyg_distance(const uint64_t a[2], const uint64_t b[2]);

/*
 * Exact (pixel hash; file bytes compared too) and near (dHash) duplicates among the config's distinct train / val /
 * test datasets, within and across splits. `checked`: the split whose failure to open is the caller's error (others
 * that fail are listed in "not_compared"). *out: the JSON report; *findings: groups + pairs. 0, or 1 after printing.
 */
int hyg_duplicates(const cli_args *a, sscma_config *cfg, sscma_runner *runner, const char *checked, json_t **out,
                   int64_t *findings);
void hyg_print_duplicates(const json_t *report);

/* Outliers of one split, fed sample by sample (hyg_outliers_add), judged at the end. */
typedef struct hyg_outliers hyg_outliers;
hyg_outliers *hyg_outliers_create(sscma_config *cfg, const char *split, int64_t size);
void hyg_outliers_add(hyg_outliers *o, const sscma_sample *sample);
/* class_images: images per class (n_classes). 0, or 1 after printing. */
int hyg_outliers_finish(const cli_args *a, hyg_outliers *o, const int64_t *class_images,
                        const char *const *class_names, int32_t n_classes, json_t **out, int64_t *findings);
void hyg_outliers_destroy(hyg_outliers *o);
void hyg_print_outliers(const json_t *report);

#endif /* SSCMA_CLI_HYGIENE_H */
