/*
 * The config reader (lib/core/schema.h): every field kind with its default, types and ranges, enums by name,
 * lists and their capacity, nested objects, unknown keys, and the one message format "<where>: <path>: ...".
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "core/schema.h"
#include "harness.h"

typedef struct inner_cfg {
    double max_norm;
    int32_t depth;
} inner_cfg;

typedef enum color { RED, GREEN, BLUE } color;
static const char *const color_names[] = {"red", "green", "blue", NULL};

typedef struct all_cfg {
    int32_t classes;
    int64_t seed;
    float dropout;
    double lr;
    bool shuffle;
    const char *name;
    char tag[8];
    color col;
    int32_t sizes[3];
    int32_t n_sizes;
    double betas[2];
    int32_t n_betas;
    inner_cfg clip;
    json_t *custom;
} all_cfg;

static const sscma_field inner_fields[] = {
    SSCMA_FIELD_AS("max_norm", inner_cfg, max_norm, 0.0, true, 1e-12, 1e12, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(inner_cfg, depth, 2, 0, 8),
    SSCMA_FIELD_END,
};

static const sscma_field all_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(all_cfg, classes, 10, 1, 10000),
    SSCMA_FIELD(all_cfg, seed, 7),
    SSCMA_FIELD_RANGE(all_cfg, dropout, 0.25, 0.0, 1.0),
    SSCMA_FIELD_RANGE(all_cfg, lr, 0.01, 0.0, INFINITY),
    SSCMA_FIELD(all_cfg, shuffle, true),
    SSCMA_FIELD_STRING(all_cfg, name, "anon"),
    SSCMA_FIELD_STRING(all_cfg, tag, "t0"),
    SSCMA_FIELD_ENUM_AS("color", all_cfg, col, GREEN, color_names, 0),
    SSCMA_FIELD_LIST_AS("sizes", all_cfg, sizes, offsetof(all_cfg, n_sizes), 0, 1, 1, 100, 0),
    SSCMA_FIELD_LIST_AS("betas", all_cfg, betas, offsetof(all_cfg, n_betas), 2, 0.5, 0.0, 0.999999, 0),
    SSCMA_FIELD_OBJECT(all_cfg, clip, inner_fields),
    SSCMA_FIELD_JSON_AS("custom", all_cfg, custom),
    SSCMA_FIELD_END,
};

/* Reads `text` at path "model.head" from file "x.json"; the JSON stays alive in *doc for borrowed strings. */
static sscma_status read_text(const char *text, all_cfg *out, json_t **doc)
{
    json_decref(*doc);
    *doc = json_loads(text, 0, NULL);
    CHECK(*doc != NULL);
    return sscma_schema_read(all_fields, *doc, "x.json", "model.head", out);
}

static void defaults_fill_every_kind(void)
{
    all_cfg c;
    memset(&c, 0xff, sizeof c);
    json_t *doc = NULL;
    CHECK_OK(read_text("{}", &c, &doc));
    CHECK(c.classes == 10 && c.seed == 7 && c.dropout == 0.25f && c.lr == 0.01 && c.shuffle);
    CHECK_STR_EQ(c.name, "anon");
    CHECK_STR_EQ(c.tag, "t0");
    CHECK(c.col == GREEN);
    CHECK(c.n_sizes == 0 && c.sizes[0] == 1 && c.sizes[2] == 1);
    CHECK(c.n_betas == 0 && c.betas[1] == 0.5);
    CHECK(c.clip.depth == 2 && c.clip.max_norm == 0.0);
    CHECK(c.custom == NULL);
    /* NULL and null read as an empty object */
    memset(&c, 0xff, sizeof c);
    CHECK_OK(sscma_schema_read(all_fields, NULL, "x.json", "", &c));
    CHECK(c.classes == 10 && c.col == GREEN);
    CHECK_OK(read_text("{\"classes\": null, \"seed\": null}", &c, &doc));
    CHECK(c.classes == 10 && c.seed == 7);
    json_decref(doc);
}

static void values_of_every_kind_are_read(void)
{
    all_cfg c;
    json_t *doc = NULL;
    CHECK_OK(read_text("{\"type\": \"Head\", \"classes\": 10000, \"seed\": 9007199254740993, \"dropout\": 1, "
                       "\"lr\": 2.5, \"shuffle\": false, \"name\": \"fomo\", \"tag\": \"1234567\", \"color\": \"blue\", "
                       "\"sizes\": [3, 100], \"betas\": [0.9, 0.999], \"clip\": {\"max_norm\": 5, \"depth\": 0}, "
                       "\"custom\": {\"any\": [1]}}",
                       &c, &doc));
    CHECK(c.classes == 10000 && c.dropout == 1.0f && c.lr == 2.5 && !c.shuffle);
    CHECK(c.seed == 9007199254740993LL); /* above 2^53: not rounded through a double */
    CHECK_STR_EQ(c.name, "fomo");
    CHECK(c.name == json_string_value(json_object_get(doc, "name"))); /* borrowed */
    CHECK_STR_EQ(c.tag, "1234567");
    CHECK(c.col == BLUE);
    CHECK(c.n_sizes == 2 && c.sizes[0] == 3 && c.sizes[1] == 100 && c.sizes[2] == 1);
    CHECK(c.n_betas == 2 && c.betas[0] == 0.9 && c.betas[1] == 0.999);
    CHECK(c.clip.max_norm == 5.0 && c.clip.depth == 0);
    CHECK(c.custom == json_object_get(doc, "custom"));
    json_decref(doc);
}

typedef struct bad_case {
    const char *text;
    const char *message;
} bad_case;

static void wrong_values_give_one_message_format(void)
{
    static const bad_case cases[] = {
        {"{\"classes\": \"3\"}", "x.json: model.head.classes: expected an integer 1..10000, got \"3\""},
        {"{\"classes\": 0}", "x.json: model.head.classes: expected an integer 1..10000, got 0"},
        {"{\"classes\": 2.5}", "x.json: model.head.classes: expected an integer 1..10000, got 2.5"},
        {"{\"seed\": 1.5}", "x.json: model.head.seed: expected an integer, got 1.5"},
        {"{\"dropout\": 1.5}", "x.json: model.head.dropout: expected a number 0..1, got 1.5"},
        {"{\"lr\": -1}", "x.json: model.head.lr: expected a number >= 0, got -1"},
        {"{\"shuffle\": 1}", "x.json: model.head.shuffle: expected true or false, got 1"},
        {"{\"name\": 5}", "x.json: model.head.name: expected a string, got 5"},
        {"{\"tag\": \"12345678\"}", "x.json: model.head.tag: expected a string of at most 7 bytes, got \"12345678\""},
        {"{\"color\": \"pink\"}", "x.json: model.head.color: expected one of: red, green, blue, got \"pink\""},
        {"{\"color\": 1}", "x.json: model.head.color: expected one of: red, green, blue, got 1"},
        {"{\"sizes\": [1, 2, 3, 4]}", "x.json: model.head.sizes: expected a list of at most 3 integers (each an "
                                      "integer 1..100), got [1,2,3,4]"},
        {"{\"sizes\": 3}", "x.json: model.head.sizes: expected a list of at most 3 integers"},
        {"{\"sizes\": [1, 200]}", "x.json: model.head.sizes[1]: expected an integer 1..100, got 200"},
        {"{\"betas\": [0.9]}", "x.json: model.head.betas: expected a list of 2 numbers (each a number 0..0.999999), "
                               "got [0.9]"},
        {"{\"betas\": [0.9, true]}", "x.json: model.head.betas[1]: expected a number 0..0.999999, got true"},
        {"{\"clip\": 3}", "x.json: model.head.clip: expected an object, got 3"},
        {"{\"clip\": {}}", "x.json: model.head.clip.max_norm: expected a number 1e-12..1e+12, missing"},
        {"{\"clip\": {\"max_norm\": 1, \"depth\": 9}}", "x.json: model.head.clip.depth: expected an integer 0..8, got 9"},
        {"{\"clip\": {\"max_norm\": 1, \"norm\": 2}}",
         "x.json: model.head.clip: unknown key 'norm'; valid keys: max_norm, depth"},
        {"{\"clases\": 3}", "x.json: model.head: unknown key 'clases'; valid keys: type, classes, seed, dropout, lr, "
                            "shuffle, name, tag, color, sizes, betas, clip, custom"},
        {"[1, 2]", "x.json: model.head: expected an object, got [1,2]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        all_cfg c;
        json_t *doc = NULL;
        sscma_clear_error();
        test_check_status(__FILE__, __LINE__, cases[i].text, read_text(cases[i].text, &c, &doc), SSCMA_ERR_CONFIG,
                          cases[i].message);
        json_decref(doc);
    }
}

static void int32_fields_reject_values_outside_their_type(void)
{
    typedef struct one { int32_t n; } one;
    static const sscma_field fields[] = {SSCMA_FIELD(one, n, 0), SSCMA_FIELD_END};
    one o;
    json_t *doc = json_loads("{\"n\": 3000000000}", 0, NULL);
    CHECK_FAILS(sscma_schema_read(fields, doc, "op", NULL, &o), SSCMA_ERR_CONFIG,
                "op: n: expected an integer -2147483648..2147483647, got 3000000000");
    json_decref(doc);
    doc = json_loads("{\"n\": -2147483648}", 0, NULL);
    CHECK_OK(sscma_schema_read(fields, doc, "op", NULL, &o));
    CHECK(o.n == INT32_MIN);
    json_decref(doc);
}

static void scalar_lists_and_enum_indices_for_ops(void)
{
    typedef struct attrs { int64_t dims[4]; int32_t rank; color col; } attrs;
    static const sscma_field fields[] = {
        SSCMA_FIELD_LIST_AS("dims", attrs, dims, offsetof(attrs, rank), 0, 0, 1, 0, SSCMA_FIELD_SCALAR_LIST),
        SSCMA_FIELD_ENUM_AS("col", attrs, col, RED, color_names, SSCMA_FIELD_ENUM_INDEX),
        SSCMA_FIELD_END,
    };
    attrs a;
    json_t *doc = json_loads("{\"dims\": 5, \"col\": 2}", 0, NULL);
    CHECK_OK(sscma_schema_read(fields, doc, "reshape", NULL, &a));
    CHECK(a.rank == 1 && a.dims[0] == 5 && a.dims[1] == 0 && a.col == BLUE);
    json_decref(doc);
    doc = json_loads("{\"col\": 3}", 0, NULL);
    CHECK_FAILS(sscma_schema_read(fields, doc, "reshape", NULL, &a), SSCMA_ERR_CONFIG,
                "reshape: col: expected one of: red, green, blue, got 3");
    json_decref(doc);
}

static void prefilled_fields_keep_the_callers_default(void)
{
    typedef struct one { int64_t seed; } one;
    static const sscma_field fields[] = {
        SSCMA_FIELD_AS("seed", one, seed, 0, true, 0, INFINITY, SSCMA_FIELD_PREFILLED), SSCMA_FIELD_END};
    one o = {42};
    CHECK_OK(sscma_schema_read(fields, NULL, "runner", "randomness", &o));
    CHECK(o.seed == 42);
    json_t *doc = json_loads("{\"seed\": -1}", 0, NULL);
    CHECK_FAILS(sscma_schema_read(fields, doc, "runner", "randomness", &o), SSCMA_ERR_CONFIG,
                "runner: randomness.seed: expected an integer >= 0, got -1");
    json_decref(doc);
}

static void helpers_share_the_format(void)
{
    char buf[64];
    CHECK_STR_EQ(sscma_schema_path(buf, sizeof buf, "", "lr"), "lr");
    CHECK_STR_EQ(sscma_schema_path(buf, sizeof buf, NULL, "lr"), "lr");
    CHECK_STR_EQ(sscma_schema_path(buf, sizeof buf, "optim_wrapper.optimizer", "lr"), "optim_wrapper.optimizer.lr");
    CHECK_STR_EQ(sscma_schema_index(buf, sizeof buf, "pipeline", 3), "pipeline[3]");
    CHECK_FAILS(sscma_schema_fail("cfg.json", "a.b", "c", "needs %d", 2), SSCMA_ERR_CONFIG, "cfg.json: a.b.c: needs 2");
    CHECK_FAILS(sscma_schema_fail(NULL, "", NULL, "whole"), SSCMA_ERR_CONFIG, "whole");
    CHECK_STR_EQ(sscma_last_error(), "whole");
    static const char *const valid[] = {"type", "lr", NULL};
    json_t *doc = json_loads("{\"type\": 1, \"lr\": 2, \"mom\": 3}", 0, NULL);
    CHECK_FAILS(sscma_schema_check_keys(doc, valid, "optimizer", "optim_wrapper.optimizer"), SSCMA_ERR_CONFIG,
                "optimizer: optim_wrapper.optimizer: unknown key 'mom'; valid keys: type, lr");
    json_object_del(doc, "mom");
    CHECK_OK(sscma_schema_check_keys(doc, valid, "optimizer", ""));
    json_decref(doc);
    /* a long value is cut in the message */
    json_t *big = json_string("0123456789012345678901234567890123456789012345678901234567890123456789");
    CHECK_FAILS(sscma_schema_expected("f", "k", NULL, "a path", big), SSCMA_ERR_CONFIG, "got \"01234567890123456789012345678901234567890123456789012345678...");
    json_decref(big);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(defaults_fill_every_kind),
        TEST_CASE(values_of_every_kind_are_read),
        TEST_CASE(wrong_values_give_one_message_format),
        TEST_CASE(int32_fields_reject_values_outside_their_type),
        TEST_CASE(scalar_lists_and_enum_indices_for_ops),
        TEST_CASE(prefilled_fields_keep_the_callers_default),
        TEST_CASE(helpers_share_the_format),
    };
    return test_main(argc, argv, tests, TEST_COUNT(tests));
}
