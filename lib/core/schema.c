/* The config reader (core/schema.h): one table per JSON object, one message format for every mistake. */
#include "core/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/internal.h"

const char *sscma_schema_path(char *buf, size_t size, const char *path, const char *key)
{
    bool root = path == NULL || path[0] == '\0';
    int n = key == NULL ? snprintf(buf, size, "%s", root ? "" : path)
                        : snprintf(buf, size, "%s%s%s", root ? "" : path, root ? "" : ".", key);
    if (n < 0)
        buf[0] = '\0';
    return buf;
}

const char *sscma_schema_index(char *buf, size_t size, const char *path, size_t index)
{
    if (snprintf(buf, size, "%s[%zu]", path != NULL ? path : "", index) < 0)
        buf[0] = '\0';
    return buf;
}

static sscma_status schema_vfail(const char *where, const char *path, const char *key, const char *fmt,
                                 va_list args)
{
    char full[256], message[900];
    sscma_schema_path(full, sizeof full, path, key);
    vsnprintf(message, sizeof message, fmt, args);
    if (full[0] == '\0')
        return sscma_fail(SSCMA_ERR_CONFIG, where, "%s", message);
    return sscma_fail(SSCMA_ERR_CONFIG, where, "%s: %s", full, message);
}

sscma_status sscma_schema_fail(const char *where, const char *path, const char *key, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    sscma_status st = schema_vfail(where, path, key, fmt, args);
    va_end(args);
    return st;
}

sscma_status sscma_schema_expected(const char *where, const char *path, const char *key, const char *expected,
                                   json_t *value)
{
    if (value == NULL)
        return sscma_schema_fail(where, path, key, "expected %s, missing", expected);
    char *text = sscma_json_dumps(NULL, value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    /* a long value is cut: the key already says where it is */
    size_t n = text != NULL ? strlen(text) : 0;
    sscma_status st = sscma_schema_fail(where, path, key, "expected %s, got %.60s%s", expected,
                                        text != NULL ? text : "(a value)", n > 60 ? "..." : "");
    sscma_mfree(NULL, text);
    return st;
}

static void join_names(const char *const *names, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *k = names; *k != NULL && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", k == names ? "" : ", ", *k);
    if (buf[0] == '\0')
        snprintf(buf, size, "(none)");
}

sscma_status sscma_schema_unknown_key(const char *where, const char *path, const char *key,
                                      const char *const *valid)
{
    char list[600];
    join_names(valid, list, sizeof list);
    return sscma_schema_fail(where, path, NULL, "unknown key '%s'; valid keys: %s", key, list);
}

sscma_status sscma_schema_check_keys(json_t *obj, const char *const *valid, const char *where, const char *path)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        const char *const *k = valid;
        while (*k != NULL && strcmp(*k, key) != 0)
            k++;
        if (*k == NULL)
            return sscma_schema_unknown_key(where, path, key, valid);
    }
    return SSCMA_OK;
}

/* ---- storing values ---- */

static bool is_list(sscma_field_kind kind)
{
    return kind == SSCMA_FIELD_I32_LIST || kind == SSCMA_FIELD_I64_LIST || kind == SSCMA_FIELD_F32_LIST ||
           kind == SSCMA_FIELD_F64_LIST;
}

static bool is_integer_kind(sscma_field_kind kind)
{
    return kind == SSCMA_FIELD_I32 || kind == SSCMA_FIELD_I64 || kind == SSCMA_FIELD_I32_LIST ||
           kind == SSCMA_FIELD_I64_LIST;
}

/* Stores a number into a scalar field or entry `index` of a list field. */
static void store(const sscma_field *f, void *out, int32_t index, double value)
{
    char *p = (char *)out + f->offset;
    switch (f->kind) {
    case SSCMA_FIELD_I32: *(int32_t *)p = (int32_t)value; break;
    case SSCMA_FIELD_I64: *(int64_t *)p = (int64_t)value; break;
    case SSCMA_FIELD_F32: *(float *)p = (float)value; break;
    case SSCMA_FIELD_F64: *(double *)p = value; break;
    case SSCMA_FIELD_BOOL: *(bool *)p = value != 0.0; break;
    case SSCMA_FIELD_ENUM: *(int *)p = (int)value; break;
    case SSCMA_FIELD_I32_LIST: ((int32_t *)p)[index] = (int32_t)value; break;
    case SSCMA_FIELD_I64_LIST: ((int64_t *)p)[index] = (int64_t)value; break;
    case SSCMA_FIELD_F32_LIST: ((float *)p)[index] = (float)value; break;
    case SSCMA_FIELD_F64_LIST: ((double *)p)[index] = value; break;
    default: break;
    }
}

/* int64 values keep every bit (above 2^53 a double would round them). */
static void store_integer(const sscma_field *f, void *out, int32_t index, json_int_t value)
{
    char *p = (char *)out + f->offset;
    if (f->kind == SSCMA_FIELD_I64)
        *(int64_t *)p = (int64_t)value;
    else if (f->kind == SSCMA_FIELD_I64_LIST)
        ((int64_t *)p)[index] = (int64_t)value;
    else
        store(f, out, index, (double)value);
}

static void set_count(const sscma_field *f, void *out, int32_t n)
{
    if (f->count_offset >= 0)
        *(int32_t *)((char *)out + f->count_offset) = n;
}

static void store_string(const sscma_field *f, void *out, const char *s)
{
    char *p = (char *)out + f->offset;
    if (f->kind == SSCMA_FIELD_STRING)
        *(const char **)p = s;
    else
        snprintf(p, (size_t)f->capacity, "%s", s != NULL ? s : "");
}

static void field_default(const sscma_field *f, void *out)
{
    if (f->flags & SSCMA_FIELD_PREFILLED)
        return;
    switch (f->kind) {
    case SSCMA_FIELD_STRING:
    case SSCMA_FIELD_STRING_BUF: store_string(f, out, f->def_string); break;
    case SSCMA_FIELD_OBJECT: sscma_schema_defaults(f->sub, (char *)out + f->offset); break;
    case SSCMA_FIELD_JSON: *(json_t **)((char *)out + f->offset) = NULL; break;
    case SSCMA_FIELD_KEY: break;
    default:
        if (is_list(f->kind)) {
            for (int32_t i = 0; i < f->capacity; i++)
                store(f, out, i, f->def);
            set_count(f, out, 0);
        } else {
            store(f, out, 0, f->def);
        }
    }
}

void sscma_schema_defaults(const sscma_field *fields, void *out)
{
    for (const sscma_field *f = fields; f != NULL && f->name != NULL; f++)
        field_default(f, out);
}

/* ---- checking values ---- */

/* The effective range of a number field: the table's, within what the C type holds. */
static void value_range(const sscma_field *f, double *lo, double *hi)
{
    *lo = f->ranged ? f->min : -INFINITY;
    *hi = f->ranged ? f->max : INFINITY;
    bool i32 = f->kind == SSCMA_FIELD_I32 || f->kind == SSCMA_FIELD_I32_LIST;
    if (i32 && *lo < INT32_MIN)
        *lo = INT32_MIN;
    if (i32 && *hi > INT32_MAX)
        *hi = INT32_MAX;
}

/*
 * "an integer 1..10000", "a number >= 0", "true or false", "one of: a, b". An unranged 32-bit field shows its
 * type's range only to a value outside it.
 */
static void describe(const sscma_field *f, json_t *value, char *buf, size_t size)
{
    double lo = f->min, hi = f->max;
    if (!f->ranged) {
        value_range(f, &lo, &hi);
        double x = json_number_value(value);
        if (!json_is_integer(value) || (x >= lo && x <= hi))
            lo = -INFINITY, hi = INFINITY;
    }
    const char *what = is_integer_kind(f->kind) ? "an integer" : "a number";
    switch (f->kind) {
    case SSCMA_FIELD_BOOL: snprintf(buf, size, "true or false"); return;
    case SSCMA_FIELD_STRING: snprintf(buf, size, "a string"); return;
    case SSCMA_FIELD_STRING_BUF: snprintf(buf, size, "a string of at most %d bytes", (int)f->capacity - 1); return;
    case SSCMA_FIELD_OBJECT: snprintf(buf, size, "an object"); return;
    case SSCMA_FIELD_ENUM: {
        char names[400];
        join_names(f->enum_names, names, sizeof names);
        snprintf(buf, size, "one of: %s", names);
        return;
    }
    default: break;
    }
    if (lo == hi)
        snprintf(buf, size, "%s equal to %g", what, lo);
    else if (isfinite(lo) && isfinite(hi))
        snprintf(buf, size, "%s %.10g..%.10g", what, lo, hi);
    else if (isfinite(lo))
        snprintf(buf, size, "%s >= %.10g", what, lo);
    else if (isfinite(hi))
        snprintf(buf, size, "%s <= %.10g", what, hi);
    else
        snprintf(buf, size, "%s", what);
}

static sscma_status expected(const sscma_field *f, const char *where, const char *path, json_t *value)
{
    char text[480];
    describe(f, value, text, sizeof text);
    return sscma_schema_expected(where, path, NULL, text, value);
}

/* A number for a scalar field or one list entry, checked against the kind and the range. */
static sscma_status read_number(const sscma_field *f, json_t *v, const char *where, const char *path, void *out,
                                int32_t index)
{
    double lo, hi;
    value_range(f, &lo, &hi);
    bool integer = is_integer_kind(f->kind);
    if (integer ? !json_is_integer(v) : !json_is_number(v))
        return expected(f, where, path, v);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return expected(f, where, path, v);
    if (integer)
        store_integer(f, out, index, json_integer_value(v));
    else
        store(f, out, index, x);
    return SSCMA_OK;
}

static sscma_status read_list(const sscma_field *f, json_t *v, const char *where, const char *path, void *out)
{
    if (!json_is_array(v)) {
        if ((f->flags & SSCMA_FIELD_SCALAR_LIST) && json_is_number(v)) {
            set_count(f, out, 1);
            return read_number(f, v, where, path, out, 0);
        }
    }
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n > (size_t)f->capacity || n < (size_t)f->min_count) {
        char text[400], range[200];
        describe(f, NULL, range, sizeof range);
        const char *entries = is_integer_kind(f->kind) ? "integers" : "numbers";
        if (f->min_count == f->capacity)
            snprintf(text, sizeof text, "a list of %d %s", (int)f->capacity, entries);
        else if (f->min_count > 0)
            snprintf(text, sizeof text, "a list of %d to %d %s", (int)f->min_count, (int)f->capacity, entries);
        else
            snprintf(text, sizeof text, "a list of at most %d %s", (int)f->capacity, entries);
        if (f->ranged) /* "a list of 2 numbers (each a number 0..1)" */
            snprintf(text + strlen(text), sizeof text - strlen(text), " (each %s)", range);
        return sscma_schema_expected(where, path, NULL, text, v);
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char at[256];
        sscma_status st = read_number(f, item, where, sscma_schema_index(at, sizeof at, path, i), out, (int32_t)i);
        if (st != SSCMA_OK)
            return st;
    }
    set_count(f, out, (int32_t)n);
    return SSCMA_OK;
}

static sscma_status read_enum(const sscma_field *f, json_t *v, const char *where, const char *path, void *out)
{
    int32_t count = 0;
    while (f->enum_names[count] != NULL)
        count++;
    if (json_is_string(v)) {
        for (int32_t i = 0; i < count; i++)
            if (strcmp(f->enum_names[i], json_string_value(v)) == 0) {
                store(f, out, 0, i);
                return SSCMA_OK;
            }
    } else if ((f->flags & SSCMA_FIELD_ENUM_INDEX) && json_is_integer(v) && json_integer_value(v) >= 0 &&
               json_integer_value(v) < count) {
        store(f, out, 0, (double)json_integer_value(v));
        return SSCMA_OK;
    }
    return expected(f, where, path, v);
}

static sscma_status read_string(const sscma_field *f, json_t *v, const char *where, const char *path, void *out)
{
    if (!json_is_string(v) ||
        (f->kind == SSCMA_FIELD_STRING_BUF && json_string_length(v) >= (size_t)f->capacity))
        return expected(f, where, path, v);
    store_string(f, out, json_string_value(v));
    return SSCMA_OK;
}

/* One present value (not null) into its field; `path` already ends with the key. */
static sscma_status read_value(const sscma_field *f, json_t *v, const char *where, const char *path, void *out)
{
    switch (f->kind) {
    case SSCMA_FIELD_BOOL:
        if (!json_is_boolean(v))
            return expected(f, where, path, v);
        store(f, out, 0, json_is_true(v) ? 1.0 : 0.0);
        return SSCMA_OK;
    case SSCMA_FIELD_STRING:
    case SSCMA_FIELD_STRING_BUF: return read_string(f, v, where, path, out);
    case SSCMA_FIELD_ENUM: return read_enum(f, v, where, path, out);
    case SSCMA_FIELD_OBJECT:
        if (!json_is_object(v))
            return expected(f, where, path, v);
        return sscma_schema_read(f->sub, v, where, path, (char *)out + f->offset);
    case SSCMA_FIELD_JSON: *(json_t **)((char *)out + f->offset) = v; return SSCMA_OK;
    case SSCMA_FIELD_KEY: return SSCMA_OK;
    default:
        if (is_list(f->kind))
            return read_list(f, v, where, path, out);
        return read_number(f, v, where, path, out, 0);
    }
}

static sscma_status unknown_keys(const sscma_field *fields, json_t *obj, const char *where, const char *path)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        const sscma_field *f = fields;
        while (f != NULL && f->name != NULL && strcmp(f->name, key) != 0)
            f++;
        if (f != NULL && f->name != NULL)
            continue;
        const char *names[128];
        size_t n = 0;
        for (f = fields; f != NULL && f->name != NULL && n + 1 < sizeof names / sizeof names[0]; f++)
            names[n++] = f->name;
        names[n] = NULL;
        return sscma_schema_unknown_key(where, path, key, names);
    }
    return SSCMA_OK;
}

sscma_status sscma_schema_read(const sscma_field *fields, json_t *obj, const char *where, const char *path,
                               void *out)
{
    sscma_schema_defaults(fields, out);
    if (obj != NULL && !json_is_null(obj) && !json_is_object(obj))
        return sscma_schema_expected(where, path, NULL, "an object", obj);
    sscma_status st = obj != NULL ? unknown_keys(fields, obj, where, path) : SSCMA_OK;
    for (const sscma_field *f = fields; st == SSCMA_OK && f != NULL && f->name != NULL; f++) {
        json_t *v = json_object_get(obj, f->name);
        char at[256];
        sscma_schema_path(at, sizeof at, path, f->name);
        if (v == NULL || json_is_null(v)) {
            if (f->flags & SSCMA_FIELD_REQUIRED)
                st = expected(f, where, at, NULL);
            continue;
        }
        st = read_value(f, v, where, at, out);
    }
    return st;
}
