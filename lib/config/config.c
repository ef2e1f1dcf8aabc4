/* SSCMA-style configs (config.h): _base_ inheritance, dotted overrides, ${name} references. */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_private.h"
#include "core/file.h"
#include "core/config.h"
#include "core/internal.h"
#include "sscma/config.h"

#define WHERE "config"
#define MAX_DEPTH 16

struct sscma_config {
    json_t *root;
    char *text;   /* the last sscma_config_get answer */
    char *source; /* the file it was loaded from, NULL for text */
    json_t *overridden; /* dotted keys set by sscma_config_set, and (after resolve) the values referring to them */
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
    FILE *f = NULL; /* a regular file only: a FIFO or a device is refused, not waited on */
    sscma_status st = sscma_open_regular_as(path, "the config", &f);
    if (st != SSCMA_OK)
        return st;
    json_error_t err;
    json_t *doc = json_loadf(f, 0, &err);
    fclose(f);
    if (doc == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column, err.text);
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    stack[depth] = path;
    st = load_tree(doc, path, dir, depth + 1, stack, out);
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
    if ((c->overridden = json_object()) == NULL) {
        sscma_config_destroy(c);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a config");
    }
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
    json_decref(config->overridden);
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
    if (st == SSCMA_OK && json_object_set_new(config->overridden, key, json_true()) != 0)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "override '%s': cannot record it", key);
    return st;
}

/*
 * ---- references ----
 * Each top-level key is resolved once, on first use: its value's references are replaced (recursively, the keys
 * they name first), then it is marked done. A key met again while it is still in progress is a cycle, reported with
 * its chain ("a -> b -> a"). Only reference chains are limited (MAX_REF_CHAIN keys); how deep the JSON document
 * itself nests is not. Text substitution is repeated until no "${" is left, so a resolved config holds none.
 */
#define MAX_REF_CHAIN 32
#define MAX_TEXT_BYTES ((size_t)1 << 20) /* one expanded string */
#define MAX_EXPANSION ((size_t)1 << 22) /* JSON values + string bytes that references produce, in all */
#define MAX_TEXT_PASSES 64

typedef struct strbuf {
    char *s;
    size_t n, cap;
} strbuf;

/* Appends n bytes of s; false when out of memory or past MAX_TEXT_BYTES. */
static bool strbuf_add(strbuf *t, const char *s, size_t n)
{
    if (n > MAX_TEXT_BYTES || t->n + n > MAX_TEXT_BYTES)
        return false;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap == 0 ? 64 : t->cap;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *grown = sscma_mrealloc(NULL, t->s, cap);
        if (grown == NULL)
            return false;
        t->s = grown, t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
    return true;
}

typedef struct resolver {
    json_t *root;
    json_t *state;        /* top-level key -> 1 (in progress) or 2 (done) */
    json_t *overridden;   /* the config's: dotted keys set by overrides, and those derived from them here */
    const char *chain[MAX_REF_CHAIN];
    int n_chain;
    size_t budget;        /* what references may still produce (MAX_EXPANSION in all) */
    strbuf at;              /* the dotted key being resolved, for messages */
} resolver;

/* Whether `key` (or a value inside it) was set by an override, or was resolved from one. */
static bool touched(json_t *overridden, const char *key)
{
    size_t n = strlen(key);
    const char *k;
    json_t *v;
    json_object_foreach(overridden, k, v)
    {
        if (strncmp(k, key, n) == 0 && (k[n] == '\0' || k[n] == '.'))
            return true;
        size_t m = strlen(k);
        if (m < n && strncmp(k, key, m) == 0 && key[m] == '.')
            return true;
    }
    return false;
}

/* Spends the size of v (nodes and string bytes) from the budget; false when it runs out. */
static bool spend(resolver *r, json_t *v)
{
    size_t cost = 1 + (json_is_string(v) ? json_string_length(v) : 0);
    if (cost > r->budget)
        return false;
    r->budget -= cost;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child)
        {
            if (!spend(r, child))
                return false;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!spend(r, json_array_get(v, i)))
                return false;
    }
    return true;
}

static const char *at_text(const resolver *r)
{
    return r->at.s != NULL ? r->at.s : "";
}

/* Appends ".part" (or "part" at the start) to the dotted key; returns its old length for at_pop. */
static size_t at_push(resolver *r, const char *part)
{
    size_t old = r->at.n;
    if ((old == 0 || strbuf_add(&r->at, ".", 1)) && strbuf_add(&r->at, part, strlen(part)))
        return old;
    return old; /* a key too long to name stays cut; messages only */
}

static void at_pop(resolver *r, size_t old)
{
    r->at.n = old;
    if (r->at.s != NULL)
        r->at.s[old] = '\0';
}

static sscma_status walk(resolver *r, json_t *v, json_t **replacement);

/* Resolves top-level key `name` (once), which the value at r->at refers to. */
static sscma_status resolve_key(resolver *r, const char *name)
{
    json_t *value = json_object_get(r->root, name);
    if (value == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '${%s}' refers to no top-level key", at_text(r), name);
    json_int_t state = json_integer_value(json_object_get(r->state, name));
    if (state == 2)
        return SSCMA_OK;
    if (state == 1) {
        int first = 0;
        while (first < r->n_chain && strcmp(r->chain[first], name) != 0)
            first++;
        strbuf chain = {0};
        for (int i = first; i < r->n_chain; i++)
            if (!strbuf_add(&chain, r->chain[i], strlen(r->chain[i])) || !strbuf_add(&chain, " -> ", 4))
                break;
        strbuf_add(&chain, name, strlen(name));
        sscma_status st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: reference cycle: %s", at_text(r),
                                     chain.s != NULL ? chain.s : name);
        sscma_mfree(NULL, chain.s);
        return st;
    }
    if (r->n_chain >= MAX_REF_CHAIN)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: references chain through more than %d keys (%s -> %s -> ...)",
                          at_text(r), MAX_REF_CHAIN, r->chain[0], r->chain[1]);
    if (json_object_set_new(r->state, name, json_integer(1)) != 0)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    r->chain[r->n_chain++] = name;
    strbuf saved = r->at;
    r->at = (strbuf){0};
    at_push(r, name);
    json_t *rep = NULL;
    sscma_status st = walk(r, value, &rep);
    if (st == SSCMA_OK && rep != NULL && json_object_set_new(r->root, name, rep) != 0)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    sscma_mfree(NULL, r->at.s);
    r->at = saved;
    r->n_chain--;
    if (st == SSCMA_OK && json_object_set_new(r->state, name, json_integer(2)) != 0)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    return st;
}

/* After resolving `name` for the value at r->at: the value follows an override when `name` does. */
static sscma_status note_source(resolver *r, const char *name)
{
    if (!touched(r->overridden, name) || r->at.s == NULL || json_object_get(r->overridden, r->at.s) != NULL)
        return SSCMA_OK;
    if (json_object_set_new(r->overridden, r->at.s, json_true()) != 0)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    return SSCMA_OK;
}

/* The name between "${" at open and its "}" into *name (owned); an error when there is no "}". */
static sscma_status reference_name(resolver *r, const char *open, const char **close, char **name)
{
    *close = strchr(open + 2, '}');
    if (*close == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '${' without a closing '}'", at_text(r));
    size_t n = (size_t)(*close - open - 2);
    *name = sscma_malloc(NULL, n + 1);
    if (*name == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    memcpy(*name, open + 2, n);
    (*name)[n] = '\0';
    return SSCMA_OK;
}

/* One pass over s: every "${name}" replaced by name's resolved value (strings as they are, others as JSON). */
static sscma_status substitute(resolver *r, const char *s, strbuf *out)
{
    sscma_status st = SSCMA_OK;
    const char *p = s, *open;
    while (st == SSCMA_OK && (open = strstr(p, "${")) != NULL) {
        const char *close = NULL;
        char *name = NULL;
        if (!strbuf_add(out, p, (size_t)(open - p)))
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: the text grows past %zu bytes", at_text(r), MAX_TEXT_BYTES);
        if (st == SSCMA_OK && (st = reference_name(r, open, &close, &name)) == SSCMA_OK &&
            (st = resolve_key(r, name)) == SSCMA_OK && (st = note_source(r, name)) == SSCMA_OK) {
            json_t *target = json_object_get(r->root, name);
            char *dumped = json_is_string(target) ? NULL : sscma_json_dumps(NULL, target, JSON_COMPACT | JSON_ENCODE_ANY);
            const char *piece = dumped != NULL ? dumped : json_string_value(target);
            if (piece == NULL)
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "%s: cannot format '${%s}'", at_text(r), name);
            else if (!strbuf_add(out, piece, strlen(piece)))
                st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: the text grows past %zu bytes", at_text(r),
                                MAX_TEXT_BYTES);
            sscma_mfree(NULL, dumped);
        }
        sscma_mfree(NULL, name);
        p = close != NULL ? close + 1 : p;
    }
    if (st == SSCMA_OK && !strbuf_add(out, p, strlen(p)))
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: the text grows past %zu bytes", at_text(r), MAX_TEXT_BYTES);
    return st;
}

/* The string s with its references resolved into *replacement (NULL: s has none). */
static sscma_status resolve_string(resolver *r, const char *s, json_t **replacement)
{
    const char *open = strstr(s, "${");
    if (open == NULL)
        return SSCMA_OK;
    const char *close = strchr(s, '}');
    if (open == s && close != NULL && close[1] == '\0') {
        /* the whole string is one reference: a copy of the value, keeping its type */
        char *name = NULL;
        sscma_status st = reference_name(r, open, &close, &name);
        if (st == SSCMA_OK && (st = resolve_key(r, name)) == SSCMA_OK && (st = note_source(r, name)) == SSCMA_OK) {
            json_t *target = json_object_get(r->root, name);
            if (!spend(r, target))
                st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '${%s}': the references expand the config past %zu "
                                "values and bytes", at_text(r), name, MAX_EXPANSION);
            else if ((*replacement = json_deep_copy(target)) == NULL)
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "%s: cannot copy '${%s}'", at_text(r), name);
        }
        sscma_mfree(NULL, name);
        return st;
    }
    /* references inside text, again until none is left (a value may complete a "${" of the text around it) */
    strbuf cur = {0};
    sscma_status st = SSCMA_OK;
    for (int pass = 0; st == SSCMA_OK; pass++) {
        if (pass == MAX_TEXT_PASSES) {
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: substitution still gives '${' after %d passes", at_text(r),
                            MAX_TEXT_PASSES);
            break;
        }
        strbuf next = {0};
        st = substitute(r, cur.s != NULL ? cur.s : s, &next);
        sscma_mfree(NULL, cur.s);
        cur = next;
        if (st == SSCMA_OK && cur.n > r->budget)
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: the references expand the config past %zu values and bytes",
                            at_text(r), MAX_EXPANSION);
        if (st == SSCMA_OK && (r->budget -= cur.n, strstr(cur.s != NULL ? cur.s : "", "${") == NULL))
            break;
    }
    if (st == SSCMA_OK && (*replacement = json_string(cur.s != NULL ? cur.s : "")) == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "%s: cannot store the text", at_text(r));
    sscma_mfree(NULL, cur.s);
    return st;
}

/* Resolves the references inside v; *replacement (NULL: keep v) is what v's parent should hold instead. */
static sscma_status walk(resolver *r, json_t *v, json_t **replacement)
{
    *replacement = NULL;
    if (json_is_string(v))
        return resolve_string(r, json_string_value(v), replacement);
    sscma_status st = SSCMA_OK;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            json_t *rep = NULL;
            size_t old = at_push(r, key);
            st = walk(r, child, &rep);
            at_pop(r, old);
            if (st != SSCMA_OK)
                return st;
            if (rep != NULL && json_object_set_new(v, key, rep) != 0)
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *rep = NULL;
            char index[24];
            snprintf(index, sizeof index, "%zu", i);
            size_t old = at_push(r, index);
            st = walk(r, json_array_get(v, i), &rep);
            at_pop(r, old);
            if (st != SSCMA_OK)
                return st;
            if (rep != NULL && json_array_set_new(v, i, rep) != 0)
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
        }
    }
    return st;
}

sscma_status sscma_config_resolve(sscma_config *config)
{
    SSCMA_REQUIRE_NONNULL(config);
    resolver r = {.root = config->root, .state = json_object(), .overridden = config->overridden,
                  .budget = MAX_EXPANSION};
    if (r.state == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resolve the references");
    sscma_status st = SSCMA_OK;
    const char *key;
    json_t *v;
    json_object_foreach(config->root, key, v)
    {
        if ((st = resolve_key(&r, key)) != SSCMA_OK)
            break;
    }
    json_decref(r.state);
    return st;
}

bool sscma_config_overridden(const sscma_config *config, const char *dotted_key)
{
    const char *k;
    json_t *v;
    size_t n = strlen(dotted_key);
    json_object_foreach(config->overridden, k, v)
    {
        size_t m = strlen(k);
        if (m <= n && strncmp(k, dotted_key, m) == 0 && (dotted_key[m] == '\0' || dotted_key[m] == '.'))
            return true;
    }
    return false;
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
