/*
 * What the runner learns about a config beyond the public API (not installed): the file it was loaded from, so that
 * the config reader's messages can name it ("configs/x.json: model.head.num_classes: expected ..."), and which keys
 * the user overrode.
 */
#ifndef SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H
#define SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H

#include <stdbool.h>

#include "sscma/config.h"

/* The path given to sscma_config_load (borrowed, valid while the config lives); NULL for sscma_config_parse. */
const char *sscma_config_source(const sscma_config *config);

/*
 * Whether the value at `dotted_key` ("train_cfg.max_epochs") was set by sscma_config_set, on it or on an object
 * holding it, or (after sscma_config_resolve) is a reference to such a value ("${epochs}" after "epochs=2"): the
 * runner's rule for two keys that set one thing is that the user's explicit override wins.
 */
bool sscma_config_overridden(const sscma_config *config, const char *dotted_key);

#endif /* SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H */
