/*
 * The library's one config reader (not installed): a table of field descriptors fills a C struct from a JSON
 * object, with defaults, types, ranges, enums by name, lists, nested objects and unknown-key detection, and every
 * failure is SSCMA_ERR_CONFIG with one message format:
 *
 *   <where>: <json.path.key>: expected an integer 1..10000, got "3"
 *   <where>: <json.path>: unknown key 'momentun'; valid keys: type, lr, momentum, ...
 *
 * `where` is the file when the caller knows it, else the module ("optimizer", an op's name); `path` is where the
 * object sits in the caller's JSON ("optim_wrapper.optimizer"; "" or NULL for the root).
 *
 *   typedef struct head_cfg { int32_t num_classes; float dropout; const char *act; } head_cfg;
 *   static const sscma_field head_fields[] = {
 *       SSCMA_FIELD_KEY("type"),                               // known, read by the caller
 *       SSCMA_FIELD_RANGE(head_cfg, num_classes, 10, 1, 10000),
 *       SSCMA_FIELD_RANGE(head_cfg, dropout, 0.0, 0.0, 1.0),
 *       SSCMA_FIELD_STRING(head_cfg, act, "relu"),
 *       SSCMA_FIELD_END,
 *   };
 *   head_cfg h;
 *   st = sscma_schema_read(head_fields, obj, "configs/x.json", "model.head", &h);
 *
 * JSON null counts as an absent key (mmengine writes None for "use the default").
 */
#ifndef SSCMA_LIB_CORE_SCHEMA_H
#define SSCMA_LIB_CORE_SCHEMA_H

#if defined(SSCMA_MICRO) /* no JSON there: the declarations below only need the type (jansson names it so) */
typedef struct json_t json_t;
#else
#  include <jansson.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sscma/core.h"

typedef enum sscma_field_kind {
    SSCMA_FIELD_I32 = 0,
    SSCMA_FIELD_I64,
    SSCMA_FIELD_F32,
    SSCMA_FIELD_F64,
    SSCMA_FIELD_BOOL,
    SSCMA_FIELD_STRING,     /* const char *, borrowed from the JSON object: valid while the object lives */
    SSCMA_FIELD_STRING_BUF, /* char[capacity], an owned copy; a longer string is an error */
    SSCMA_FIELD_ENUM,       /* int-sized enum given by name (enum_names[value]) */
    SSCMA_FIELD_I32_LIST,   /* lists: element array of `capacity`, count in an int32_t at count_offset */
    SSCMA_FIELD_I64_LIST,
    SSCMA_FIELD_F32_LIST,
    SSCMA_FIELD_F64_LIST,
    SSCMA_FIELD_OBJECT,     /* a nested struct read with the sub-schema `sub` */
    SSCMA_FIELD_JSON,       /* json_t *, borrowed, any type (NULL when absent): parsed by the caller */
    SSCMA_FIELD_KEY,        /* a known key stored nowhere (e.g. "type", read by the caller) */
} sscma_field_kind;

enum {
    SSCMA_FIELD_REQUIRED = 1u << 0,    /* absent (or null) is an error */
    SSCMA_FIELD_SCALAR_LIST = 1u << 1, /* lists: a single value is a list of one */
    SSCMA_FIELD_ENUM_INDEX = 1u << 2,  /* enums: the index is accepted as well as the name (op attributes) */
    SSCMA_FIELD_PREFILLED = 1u << 3,   /* absent leaves what the caller stored (a default known at run time) */
};

typedef struct sscma_field {
    const char *name; /* the JSON key; NULL ends a table */
    sscma_field_kind kind;
    size_t offset;  /* into the struct being filled */
    double def;     /* numbers, bools, enums (index) and every list entry */
    const char *def_string;
    bool ranged;    /* numbers and list entries: min <= value <= max */
    double min, max;
    int32_t capacity;       /* lists: entries; STRING_BUF: bytes including the terminator */
    int32_t min_count;      /* lists: fewer entries is an error */
    ptrdiff_t count_offset; /* lists: int32_t that receives the entry count, -1 if none */
    uint32_t flags;
    const char *const *enum_names;  /* ENUM: NULL-terminated */
    const struct sscma_field *sub;  /* OBJECT */
} sscma_field;

/* The field kind of a struct member, from its C type, so that a table cannot disagree with the struct. */
#define SSCMA_FIELD_KIND_OF(member)                                                                            \
    _Generic((member), int32_t: SSCMA_FIELD_I32, int64_t: SSCMA_FIELD_I64, float: SSCMA_FIELD_F32,             \
             double: SSCMA_FIELD_F64, bool: SSCMA_FIELD_BOOL, const char *: SSCMA_FIELD_STRING,                \
             char *: SSCMA_FIELD_STRING_BUF)
#define SSCMA_FIELD_LIST_KIND_OF(member)                                                                       \
    _Generic((member), int32_t: SSCMA_FIELD_I32_LIST, int64_t: SSCMA_FIELD_I64_LIST,                           \
             float: SSCMA_FIELD_F32_LIST, double: SSCMA_FIELD_F64_LIST)
#define SSCMA_MEMBER(type, field) (((type *)0)->field)
#define SSCMA_CAPACITY(type, field) ((int32_t)(sizeof SSCMA_MEMBER(type, field) / sizeof SSCMA_MEMBER(type, field)[0]))

/* The general form: key `name` into type.field; kind from the member's type; range [lo, hi] when `ranged`. */
#define SSCMA_FIELD_AS(name_, type, field, def_, ranged_, lo, hi, flags_)                                      \
    {.name = name_, .kind = SSCMA_FIELD_KIND_OF(SSCMA_MEMBER(type, field)), .offset = offsetof(type, field),    \
     .def = (def_), .ranged = (ranged_), .min = (lo), .max = (hi), .count_offset = -1, .flags = (flags_),       \
     .capacity = (int32_t)sizeof SSCMA_MEMBER(type, field)}
/* Key named as the member, any value of its type. */
#define SSCMA_FIELD(type, field, def_) SSCMA_FIELD_AS(#field, type, field, def_, false, 0, 0, 0)
/* Key named as the member, value in [lo, hi] (use -INFINITY / INFINITY for an open side). */
#define SSCMA_FIELD_RANGE(type, field, def_, lo, hi) SSCMA_FIELD_AS(#field, type, field, def_, true, lo, hi, 0)
/* Strings: const char * members borrow, char[] members copy. */
#define SSCMA_FIELD_STRING(type, field, def_)                                                                  \
    {.name = #field, .kind = SSCMA_FIELD_KIND_OF(SSCMA_MEMBER(type, field)), .offset = offsetof(type, field),   \
     .def_string = (def_), .count_offset = -1, .capacity = (int32_t)sizeof SSCMA_MEMBER(type, field)}
#define SSCMA_FIELD_ENUM_AS(name_, type, field, def_, names, flags_)                                           \
    {.name = name_, .kind = SSCMA_FIELD_ENUM, .offset = offsetof(type, field), .def = (def_), .count_offset = -1, \
     .flags = (flags_), .enum_names = (names)}
/* A list member (array) with an int32_t count member (or -1): entries in [lo, hi] when lo <= hi. */
#define SSCMA_FIELD_LIST_AS(name_, type, field, count_off, min_count_, def_, lo, hi, flags_)                   \
    {.name = name_, .kind = SSCMA_FIELD_LIST_KIND_OF(SSCMA_MEMBER(type, field)[0]),                             \
     .offset = offsetof(type, field), .def = (def_), .ranged = (lo) <= (hi), .min = (lo), .max = (hi),          \
     .capacity = SSCMA_CAPACITY(type, field), .min_count = (min_count_), .count_offset = (count_off),           \
     .flags = (flags_)}
#define SSCMA_FIELD_OBJECT(type, field, sub_)                                                                  \
    {.name = #field, .kind = SSCMA_FIELD_OBJECT, .offset = offsetof(type, field), .count_offset = -1, .sub = (sub_)}
#define SSCMA_FIELD_JSON_AS(name_, type, field)                                                                \
    {.name = name_, .kind = SSCMA_FIELD_JSON, .offset = offsetof(type, field), .count_offset = -1}
#define SSCMA_FIELD_KEY(name_) {.name = name_, .kind = SSCMA_FIELD_KEY, .count_offset = -1}
#define SSCMA_FIELD_END {.name = NULL, .count_offset = -1}

/*
 * Fills `out` from the JSON object `obj` (NULL or null: every default) at `path`: defaults first, then unknown keys
 * (the message lists the valid ones), then each present key's type and range. On failure `out` may be partly
 * filled; nothing is allocated, so there is nothing to free.
 */
sscma_status sscma_schema_read(const sscma_field *fields, json_t *obj, const char *where, const char *path,
                               void *out);

/* Only the defaults of `fields` into `out`. */
void sscma_schema_defaults(const sscma_field *fields, void *out);

/* "<path>.<key>" (or the key alone at the root) into buf; key NULL gives the path alone. */
const char *sscma_schema_path(char *buf, size_t size, const char *path, const char *key);

/* "<path>[<index>]" into buf. */
const char *sscma_schema_index(char *buf, size_t size, const char *path, size_t index);

/*
 * The reader's message format for the caller's own checks (a rule across keys, a type read elsewhere):
 * "<where>: <path.key>: <message>". Returns SSCMA_ERR_CONFIG.
 */
sscma_status sscma_schema_fail(const char *where, const char *path, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "<where>: <path.key>: expected <expected>, got <the value as JSON>" (value NULL: "missing"). */
sscma_status sscma_schema_expected(const char *where, const char *path, const char *key, const char *expected,
                                   json_t *value);

/* "<where>: <path>: unknown key '<key>'; valid keys: a, b, c" for tables the caller lists itself. */
sscma_status sscma_schema_unknown_key(const char *where, const char *path, const char *key,
                                      const char *const *valid);

/*
 * Checks that every key of `obj` is one of `valid` (NULL-terminated), failing with the message above: for objects
 * whose keys are read by hand (a registry's "type" dispatch).
 */
sscma_status sscma_schema_check_keys(json_t *obj, const char *const *valid, const char *where, const char *path);

#endif /* SSCMA_LIB_CORE_SCHEMA_H */
