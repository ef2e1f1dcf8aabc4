/*
 * What the runner learns about a config beyond the public API (not installed): the file it was loaded from, so that
 * the config reader's messages can name it ("configs/x.json: model.head.num_classes: expected ...").
 */
#ifndef SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H
#define SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H

#include "sscma/config.h"

/* The path given to sscma_config_load (borrowed, valid while the config lives); NULL for sscma_config_parse. */
const char *sscma_config_source(const sscma_config *config);

#endif /* SSCMA_LIB_CONFIG_CONFIG_PRIVATE_H */
