/*
 * Config readers shared by trainer.c and the hook files (internal; to be replaced by the core config schema
 * reader). Messages start with "trainer: " and name the key as "<what>.<key>".
 */
#ifndef SSCMA_LIB_TRAIN_HOOK_CONFIG_H
#define SSCMA_LIB_TRAIN_HOOK_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/internal.h"

#define WHERE "trainer"

static inline sscma_status check_keys(json_t *obj, const char *what, const char *const *valid)
{
    char list[600];
    const char *key = sscma_config_unknown_key(obj, valid, list, sizeof list);
    return key == NULL ? SSCMA_OK
                       : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown key '%s'; valid keys: %s", what, key, list);
}

static inline sscma_status get_int(json_t *obj, const char *what, const char *key, int64_t def, int64_t lo,
                                   int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.%s must be an integer in [%lld, %lld]", what, key,
                          (long long)lo, (long long)hi);
    *out = (int64_t)json_integer_value(v);
    return SSCMA_OK;
}

static inline sscma_status get_num(json_t *obj, const char *what, const char *key, double def, double lo, double hi,
                                   double *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.%s must be a number in [%g, %g]", what, key, lo, hi);
    *out = json_number_value(v);
    return SSCMA_OK;
}

/* mmengine infers a metric's rule from its name: losses and errors go down, everything else up. */
static inline bool greater_is_better(const char *metric)
{
    return metric == NULL ||
           (strstr(metric, "loss") == NULL && strstr(metric, "mse") == NULL && strstr(metric, "NME") == NULL);
}

/* obj.rule ("greater" / "less"), or the rule inferred from the metric's name when absent. */
static inline sscma_status get_rule(json_t *obj, const char *what, const char *metric, bool *greater)
{
    json_t *v = json_object_get(obj, "rule");
    if (v == NULL || json_is_null(v)) {
        *greater = greater_is_better(metric);
        return SSCMA_OK;
    }
    const char *s = json_string_value(v);
    if (s == NULL || (strcmp(s, "greater") != 0 && strcmp(s, "less") != 0))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.rule must be \"greater\" or \"less\"", what);
    *greater = strcmp(s, "greater") == 0;
    return SSCMA_OK;
}

/* A boolean key: *out unchanged when absent. */
static inline sscma_status get_bool(json_t *obj, const char *what, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return SSCMA_OK;
    if (!json_is_boolean(v))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.%s must be true or false", what, key);
    *out = json_is_true(v);
    return SSCMA_OK;
}

#endif /* SSCMA_LIB_TRAIN_HOOK_CONFIG_H */
