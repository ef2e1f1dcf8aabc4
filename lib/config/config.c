/* SSCMA-style configs (config.h): _base_ inheritance, dotted overrides, ${name} references. */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_private.h"
#include "core/config.h"
#include "core/internal.h"
#include "sscma/config.h"

#define WHERE "config"
#define MAX_DEPTH 16

struct sscma_config {
    json_t *root;
    char *text;   /* the last sscma_config_get answer */
    char *source; /* the file it was loaded from, NULL for text */
};

/* The directory part of path ("." when there is none), into dir. */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, size, ".");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * Merges src into dst (mmengine's rule): objects merge key by key unless src has "_delete_": true; anything else
 * replaces. `prefix` is the dotted key of dst, for messages.
 */
static void merge(json_t *dst, json_t *src)
{
    const char *key;
    json_t *v;
    json_object_foreach(src, key, v)
    {
        if (strcmp(key, "_delete_") == 0)
            continue;
        json_t *old = json_object_get(dst, key);
        if (json_is_object(old) && json_is_object(v) && !json_is_true(json_object_get(v, "_delete_"))) {
            merge(old, v);
        } else {
            json_t *copy = json_deep_copy(v);
            if (json_is_object(copy))
                json_object_del(copy, "_delete_");
            json_object_set_new(dst, key, copy);
        }
    }
}

/* A key that two bases both define (dotted path into `path`), or NULL. Only top-level keys are compared, as
 * mmengine does. */
static const char *clash(json_t *a, json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
    {
        if (json_object_get(a, key) != NULL)
            return key;
    }
    return NULL;
}

static sscma_status load_tree(json_t *doc, const char *file, const char *dir, int depth, const char **stack,
                              json_t **out);

static sscma_status load_file(const char *path, int depth, const char **stack, json_t **out)
{
    if (depth >= MAX_DEPTH)
        return sscma_fail(SSCMA_ERR_CONFIG, path, "_base_ chain deeper than %d files", MAX_DEPTH);
    for (int i = 0; i < depth; i++)
        if (strcmp(stack[i], path) == 0)
            return sscma_fail(SSCMA_ERR_CONFIG, path, "_base_ cycle: the file inherits from itself");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open the config");
    fclose(f);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (doc == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column, err.text);
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    stack[depth] = path;
    sscma_status st = load_tree(doc, path, dir, depth + 1, stack, out);
    json_decref(doc);
    return st;
}

/* The merged tree of `doc` (from `file`, in `dir`): its bases in order, then itself. */
static sscma_status load_tree(json_t *doc, const char *file, const char *dir, int depth, const char **stack,
                              json_t **out)
{
    if (!json_is_object(doc))
        return sscma_fail(SSCMA_ERR_CONFIG, file, "a config must be a JSON object");
    json_t *bases = json_object_get(doc, "_base_"), *merged = json_object();
    sscma_status st = merged != NULL ? SSCMA_OK : sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, file, "cannot merge");
    size_t n = bases == NULL ? 0 : json_is_array(bases) ? json_array_size(bases) : 1;
    if (bases != NULL && !json_is_string(bases) && !json_is_array(bases))
        st = sscma_fail(SSCMA_ERR_CONFIG, file, "_base_ must be a path or a list of paths");
    for (size_t i = 0; st == SSCMA_OK && i < n; i++) {
        json_t *b = json_is_array(bases) ? json_array_get(bases, i) : bases;
        if (!json_is_string(b)) {
            st = sscma_fail(SSCMA_ERR_CONFIG, file, "_base_[%zu] must be a path", i);
            break;
        }
        char path[8192];
        const char *rel = json_string_value(b);
        snprintf(path, sizeof path, "%s%s%s", rel[0] == '/' ? "" : dir, rel[0] == '/' ? "" : "/", rel);
        json_t *base = NULL;
        if ((st = load_file(path, depth, stack, &base)) != SSCMA_OK)
            break;
        const char *dup = clash(merged, base);
        if (dup != NULL)
            st = sscma_fail(SSCMA_ERR_CONFIG, file, "key '%s' is defined by two of its _base_ files", dup);
        else
            merge(merged, base);
        json_decref(base);
    }
    if (st == SSCMA_OK) {
        json_t *self = json_deep_copy(doc);
        json_object_del(self, "_base_");
        merge(merged, self);
        json_decref(self);
        *out = merged;
        return SSCMA_OK;
    }
    json_decref(merged);
    return st;
}

static sscma_status wrap(json_t *root, sscma_config **out)
{
    sscma_config *c = sscma_calloc(NULL, 1, sizeof *c); /* no context: the C allocator, through core */
    if (c == NULL) {
        json_decref(root);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a config");
    }
    c->root = root;
    *out = c;
    return SSCMA_OK;
}

sscma_status sscma_config_load(const char *path, sscma_config **out)
{
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(out);
    const char *stack[MAX_DEPTH];
    json_t *root = NULL;
    sscma_status st = load_file(path, 0, stack, &root);
    sscma_config *c = NULL;
    if (st != SSCMA_OK || (st = wrap(root, &c)) != SSCMA_OK)
        return st;
    if ((c->source = sscma_mstrdup(NULL, path)) == NULL) {
        sscma_config_destroy(c);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a config");
    }
    *out = c;
    return SSCMA_OK;
}

sscma_status sscma_config_parse(const char *json_text, const char *base_dir, sscma_config **out)
{
    SSCMA_REQUIRE_NONNULL(json_text);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *doc = json_loads(json_text, 0, &err);
    if (doc == NULL)
        return SSCMA_FAIL(SSCMA_ERR_FORMAT, "line %d, column %d: %s", err.line, err.column, err.text);
    const char *stack[MAX_DEPTH] = {"(text)"};
    json_t *root = NULL;
    sscma_status st = load_tree(doc, "(config text)", base_dir != NULL ? base_dir : ".", 1, stack, &root);
    json_decref(doc);
    return st != SSCMA_OK ? st : wrap(root, out);
}

const char *sscma_config_source(const sscma_config *config)
{
    return config->source;
}

void sscma_config_destroy(sscma_config *config)
{
    if (config == NULL)
        return;
    json_decref(config->root);
    sscma_mfree(NULL, config->text);
    sscma_mfree(NULL, config->source);
    sscma_mfree(NULL, config);
}

/* Splits the next component of a dotted key into part; returns the rest (NULL at the end). */
static const char *next_part(const char *key, char *part, size_t size)
{
    const char *dot = strchr(key, '.');
    size_t n = dot != NULL ? (size_t)(dot - key) : strlen(key);
    snprintf(part, size, "%.*s", (int)(n < size ? n : size - 1), key);
    return dot != NULL ? dot + 1 : NULL;
}

static bool is_index(const char *s, size_t *out)
{
    if (*s == '\0')
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    *out = (size_t)strtoull(s, NULL, 10);
    return true;
}

sscma_status sscma_config_set(sscma_config *config, const char *assignment)
{
    SSCMA_REQUIRE_NONNULL(config);
    SSCMA_REQUIRE_NONNULL(assignment);
    const char *eq = strchr(assignment, '=');
    if (eq == NULL || eq == assignment)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': expected KEY=VALUE", assignment);
    char key[1024];
    snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
    json_error_t err;
    json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, &err);
    if (value == NULL)
        value = json_string(eq + 1); /* NULL when not UTF-8 */
    if (value == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': the value is neither JSON nor UTF-8 text", key);
    json_t *node = config->root;
    const char *rest = key;
    char part[256];
    sscma_status st = SSCMA_OK;
    while (st == SSCMA_OK) {
        rest = next_part(rest, part, sizeof part);
        size_t index = 0;
        bool last = rest == NULL;
        if (part[0] == '\0') {
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': empty key component", key);
            break;
        }
        if (json_is_array(node) && is_index(part, &index)) {
            if (index >= json_array_size(node)) {
                st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': index %zu is outside the list of %zu", key,
                                index, json_array_size(node));
                break;
            }
            if (last) {
                if (json_array_set(node, index, value) != 0)
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "override '%s': cannot set the value", key);
                break;
            }
            node = json_array_get(node, index);
        } else if (json_is_object(node)) {
            /* jansson refuses a key that is not UTF-8 (and frees a value passed with _new): check every set */
            if (last) {
                if (json_object_set(node, part, value) != 0)
                    st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': key '%s' is not valid UTF-8", key, part);
                break;
            }
            json_t *child = json_object_get(node, part);
            if (child == NULL) {
                child = json_object();
                if (child == NULL || json_object_set_new(node, part, child) != 0) {
                    st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': key '%s' is not valid UTF-8", key, part);
                    break;
                }
            }
            node = child;
        } else {
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "override '%s': '%s' is inside a value that is not an object", key,
                            part);
        }
    }
    json_decref(value);
    return st;
}

/* Resolves the references of `v` (at dotted key `at`), replacing it in its parent through *slot. */
static sscma_status resolve_value(json_t *root, json_t *v, const char *at, json_t **replacement, int depth)
{
    *replacement = NULL;
    if (depth > 32)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: references nested more than 32 deep (a cycle?)", at);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        const char *open = strstr(s, "${");
        if (open == NULL)
            return SSCMA_OK;
        /* the whole string is one reference: keep the referenced value's type */
        const char *close = strchr(open, '}');
        if (open == s && close != NULL && close[1] == '\0') {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(close - open - 2), open + 2);
            json_t *target = json_object_get(root, name);
            if (target == NULL)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '${%s}' refers to no top-level key", at, name);
            json_t *copy = json_deep_copy(target), *inner = NULL;
            sscma_status st = resolve_value(root, copy, at, &inner, depth + 1);
            if (st != SSCMA_OK) {
                json_decref(copy);
                return st;
            }
            if (inner != NULL) {
                json_decref(copy);
                copy = inner;
            }
            *replacement = copy;
            return SSCMA_OK;
        }
        /* references inside text */
        char out[4096];
        size_t n = 0;
        for (const char *p = s; *p && n < sizeof out - 1;) {
            const char *o = strstr(p, "${");
            const char *c = o != NULL ? strchr(o, '}') : NULL;
            if (o == NULL || c == NULL) {
                n += (size_t)snprintf(out + n, sizeof out - n, "%s", p);
                break;
            }
            n += (size_t)snprintf(out + n, sizeof out - n, "%.*s", (int)(o - p), p);
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(c - o - 2), o + 2);
            json_t *target = json_object_get(root, name);
            if (target == NULL)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '${%s}' refers to no top-level key", at, name);
            char *text = json_is_string(target) ? NULL : sscma_json_dumps(NULL, target, JSON_COMPACT | JSON_ENCODE_ANY);
            if (n < sizeof out)
                n += (size_t)snprintf(out + n, sizeof out - n, "%s", text != NULL ? text : json_string_value(target));
            sscma_mfree(NULL, text);
            p = c + 1;
        }
        *replacement = json_string(out);
        return SSCMA_OK;
    }
    char child_at[1024];
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            json_t *rep = NULL;
            snprintf(child_at, sizeof child_at, "%s%s%s", at, at[0] ? "." : "", key);
            sscma_status st = resolve_value(root, child, child_at, &rep, depth + 1);
            if (st != SSCMA_OK)
                return st;
            if (rep != NULL)
                json_object_set_new(v, key, rep);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *rep = NULL;
            snprintf(child_at, sizeof child_at, "%s%s%zu", at, at[0] ? "." : "", i);
            sscma_status st = resolve_value(root, json_array_get(v, i), child_at, &rep, depth + 1);
            if (st != SSCMA_OK)
                return st;
            if (rep != NULL)
                json_array_set_new(v, i, rep);
        }
    }
    return SSCMA_OK;
}

sscma_status sscma_config_resolve(sscma_config *config)
{
    SSCMA_REQUIRE_NONNULL(config);
    json_t *rep = NULL;
    return resolve_value(config->root, config->root, "", &rep, 0);
}

sscma_status sscma_config_get(sscma_config *config, const char *dotted_key, const char **json)
{
    SSCMA_REQUIRE_NONNULL(config);
    SSCMA_REQUIRE_NONNULL(dotted_key);
    SSCMA_REQUIRE_NONNULL(json);
    json_t *node = config->root;
    const char *rest = dotted_key[0] != '\0' ? dotted_key : NULL;
    char part[256];
    while (rest != NULL) {
        rest = next_part(rest, part, sizeof part);
        size_t index = 0;
        json_t *child = json_is_array(node) && is_index(part, &index) ? json_array_get(node, index)
                                                                      : json_object_get(node, part);
        if (child == NULL)
            return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "'%s': no '%s'", dotted_key, part);
        node = child;
    }
    char *text = sscma_json_dumps(NULL, node, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot format '%s'", dotted_key);
    sscma_mfree(NULL, config->text);
    config->text = text;
    *json = text;
    return SSCMA_OK;
}
