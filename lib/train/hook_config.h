/*
 * What trainer.c and the hook files share to read their config nodes through the config reader (core/schema.h):
 * the reader's `where` for the trainer, the rule enum, and small helpers. Internal.
 */
#ifndef SSCMA_LIB_TRAIN_HOOK_CONFIG_H
#define SSCMA_LIB_TRAIN_HOOK_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/schema.h"

#define WHERE "trainer"

/* "rule": an enum field whose default, HOOK_RULE_INFER, means "infer it from the metric's name". */
enum { HOOK_RULE_INFER = -1, HOOK_RULE_LESS = 0, HOOK_RULE_GREATER = 1 };
static const char *const hook_rule_names[] = {"less", "greater", NULL};

/* mmengine infers a metric's rule from its name: losses and errors go down, everything else up. */
static inline bool greater_is_better(const char *metric)
{
    return metric == NULL ||
           (strstr(metric, "loss") == NULL && strstr(metric, "mse") == NULL && strstr(metric, "NME") == NULL);
}

/* The rule read into `rule` (a HOOK_RULE_*), the metric's own when absent. */
static inline bool hook_rule_greater(int rule, const char *metric)
{
    return rule == HOOK_RULE_INFER ? greater_is_better(metric) : rule == HOOK_RULE_GREATER;
}

#endif /* SSCMA_LIB_TRAIN_HOOK_CONFIG_H */
