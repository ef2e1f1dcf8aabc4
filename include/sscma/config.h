/*
 * libsscma configs: SSCMA/mmengine-style JSON recipes with `_base_` inheritance, dotted overrides and `${name}`
 * references to top-level constants.
 *
 *   sscma_config *cfg;
 *   sscma_config_load("configs/fomo/fomo_mobnetv2_0.35_x8_coco.json", &cfg);   // merges its _base_ files
 *   sscma_config_set(cfg, "imgsz=[96,96]");                                  // --cfg-options
 *   sscma_config_resolve(cfg);                                               // ${imgsz} -> [96, 96]
 *   sscma_config_get(cfg, "model", &json);                                   // hand to sscma_model_create
 *
 * Inheritance follows mmengine: `_base_` is a path or a list of paths relative to the file; the bases are merged in
 * order (a key defined by two bases is an error), then the file itself: objects merge key by key, any other value
 * (lists included) replaces, and an object with `"_delete_": true` replaces instead of merging. docs/configs.md has
 * the details.
 */
#ifndef SSCMA_CONFIG_H
#define SSCMA_CONFIG_H

#include <sscma/common.h>
#include <sscma/core.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_config sscma_config;

/*
 * Reads a JSON config file and merges its `_base_` chain (at most 16 deep; a cycle is an error). *out owns the
 * result. Errors: SSCMA_ERR_IO (a missing file, named), SSCMA_ERR_FORMAT (malformed JSON: file, line and column),
 * SSCMA_ERR_CONFIG (a bad `_base_`, a key defined by two bases: the message names the file and the dotted key).
 */
SSCMA_API sscma_status sscma_config_load(const char *path, sscma_config **out);

/* As sscma_config_load for JSON text; `_base_` paths are relative to base_dir (NULL: the current directory). */
SSCMA_API sscma_status sscma_config_parse(const char *json_text, const char *base_dir, sscma_config **out);

/* Destroys a config. NULL is a no-op. */
SSCMA_API void sscma_config_destroy(sscma_config *config);

/*
 * Applies one override "dotted.key=VALUE" (SSCMA's --cfg-options): VALUE is parsed as JSON when it parses
 * (numbers, true, [96,96], {"a": 1}) and taken as a string otherwise. Missing objects on the path are created; a
 * numeric component indexes a list. Errors: SSCMA_ERR_CONFIG (no '=', an empty key, a path through a non-object or
 * an index outside a list: the message names the key).
 */
SSCMA_API sscma_status sscma_config_set(sscma_config *config, const char *assignment);

/*
 * Replaces every string "${name}" by the top-level value `name` (keeping its type: "${imgsz}" becomes [96, 96]) and
 * expands references inside longer strings ("work_dirs/${name}") as text. A referenced value is resolved first, and
 * text is substituted until no "${" is left. Run it after the overrides. Errors: SSCMA_ERR_CONFIG naming the dotted
 * key that refers to an undefined name or holds an unclosed "${", or a reference cycle with its chain ("a -> b -> a";
 * a chain may pass through at most 32 keys).
 */
SSCMA_API sscma_status sscma_config_resolve(sscma_config *config);

/*
 * Stores in *json the value at `dotted_key` ("" for the whole config) as compact JSON text, owned by the config and
 * valid until the next sscma_config_get or destroy. Errors: SSCMA_ERR_NOT_FOUND naming the first missing component.
 */
SSCMA_API sscma_status sscma_config_get(sscma_config *config, const char *dotted_key, const char **json);

SSCMA_END_DECLS

#endif /* SSCMA_CONFIG_H */
