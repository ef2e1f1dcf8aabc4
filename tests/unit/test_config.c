/* Unit tests of config.h: _base_ inheritance (mmengine's merge rules), overrides, ${name} references, errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sscma/sscma.h>

#include "harness.h"

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void check_get(sscma_config *c, const char *key, const char *expected)
{
    const char *json = NULL;
    CHECK_OK(sscma_config_get(c, key, &json));
    if (json != NULL)
        CHECK_STR_EQ(json, expected);
}

static void inheritance_merges_as_mmengine(void)
{
    write_file("base_model.json", "{\"num_classes\": 4, \"model\": {\"type\": \"Fomo\", \"head\": {\"num_classes\": "
                                  "\"${num_classes}\", \"middle_channel\": 48}, \"input_size\": [96, 96]}}");
    write_file("base_sched.json", "{\"max_epochs\": 100, \"param_scheduler\": [{\"type\": \"LinearLR\"}]}");
    mkdir(strcat(strcpy((char[128]){0}, tmpdir), "/sub"), 0755);
    write_file("sub/recipe.json",
               "{\"_base_\": [\"../base_model.json\", \"../base_sched.json\"], \"max_epochs\": 30,"
               " \"model\": {\"head\": {\"middle_channel\": 32}, \"input_size\": [64, 64]},"
               " \"param_scheduler\": [{\"type\": \"MultiStepLR\"}],"
               " \"work_dir\": \"work_dirs/fomo_${max_epochs}e\"}");
    char path[256];
    snprintf(path, sizeof path, "%s/sub/recipe.json", tmpdir);
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_load(path, &c));
    if (c == NULL)
        return;
    check_get(c, "model.head.middle_channel", "32");           /* objects merge key by key */
    check_get(c, "model.head.num_classes", "\"${num_classes}\""); /* not resolved yet */
    check_get(c, "model.input_size", "[64,64]");                  /* lists replace */
    check_get(c, "param_scheduler", "[{\"type\":\"MultiStepLR\"}]");
    check_get(c, "max_epochs", "30");
    CHECK_OK(sscma_config_set(c, "num_classes=7"));
    CHECK_OK(sscma_config_set(c, "model.input_size=[96,96]"));
    CHECK_OK(sscma_config_set(c, "param_scheduler.0.gamma=0.5"));
    CHECK_OK(sscma_config_set(c, "data_root=data/fashion"));     /* not JSON: a string */
    CHECK_OK(sscma_config_set(c, "train_dataloader.batch_size=16")); /* creates the object */
    CHECK_OK(sscma_config_resolve(c));
    check_get(c, "model.head.num_classes", "7");                  /* the type follows the constant */
    check_get(c, "work_dir", "\"work_dirs/fomo_30e\"");
    check_get(c, "model.input_size.1", "96");
    check_get(c, "param_scheduler.0", "{\"type\":\"MultiStepLR\",\"gamma\":0.5}");
    check_get(c, "data_root", "\"data/fashion\"");
    check_get(c, "train_dataloader", "{\"batch_size\":16}");
    const char *json = NULL;
    CHECK_FAILS(sscma_config_get(c, "model.neck.type", &json), SSCMA_ERR_NOT_FOUND, "'model.neck.type': no 'neck'");
    CHECK_FAILS(sscma_config_set(c, "param_scheduler.3.gamma=1"), SSCMA_ERR_CONFIG, "index 3 is outside the list of 1");
    CHECK_FAILS(sscma_config_set(c, "max_epochs.x=1"), SSCMA_ERR_CONFIG, "'x' is inside a value that is not an object");
    /* found by fuzz_config: a key that is not UTF-8 made jansson free the new object, which was then used */
    CHECK_FAILS(sscma_config_set(c, "mo\xe4" "el.n=7"), SSCMA_ERR_CONFIG, "is not valid UTF-8");
    CHECK_FAILS(sscma_config_set(c, "mo\xe4" "el=7"), SSCMA_ERR_CONFIG, "is not valid UTF-8");
    CHECK_FAILS(sscma_config_set(c, "name=\xff\xfe"), SSCMA_ERR_CONFIG, "neither JSON nor UTF-8");
    CHECK_FAILS(sscma_config_set(c, "=3"), SSCMA_ERR_CONFIG, "expected KEY=VALUE");
    CHECK_FAILS(sscma_config_set(c, "lr"), SSCMA_ERR_CONFIG, "expected KEY=VALUE");
    sscma_config_destroy(c);
}

static void delete_replaces_and_errors_name_the_file(void)
{
    sscma_config *c = NULL;
    write_file("a.json", "{\"model\": {\"type\": \"ImageClassifier\", \"neck\": {\"type\": \"GAP\"}}}");
    char text[512];
    snprintf(text, sizeof text, "{\"_base_\": \"a.json\", \"model\": {\"_delete_\": true, \"type\": \"Fomo\"}}");
    CHECK_OK(sscma_config_parse(text, tmpdir, &c));
    if (c != NULL)
        check_get(c, "model", "{\"type\":\"Fomo\"}");
    sscma_config_destroy(c);
    write_file("b.json", "{\"model\": {\"type\": \"PFLD\"}}");
    CHECK_FAILS(sscma_config_parse("{\"_base_\": [\"a.json\", \"b.json\"]}", tmpdir, &c), SSCMA_ERR_CONFIG,
                "key 'model' is defined by two of its _base_ files");
    write_file("loop.json", "{\"_base_\": \"loop.json\"}");
    CHECK_FAILS(sscma_config_parse("{\"_base_\": \"loop.json\"}", tmpdir, &c), SSCMA_ERR_CONFIG, "_base_ cycle");
    write_file("bad.json", "{\"x\": 1,\n \"y\": }");
    CHECK_FAILS(sscma_config_parse("{\"_base_\": \"bad.json\"}", tmpdir, &c), SSCMA_ERR_FORMAT, "bad.json: line 2");
    CHECK_FAILS(sscma_config_parse("{\"_base_\": \"none.json\"}", tmpdir, &c), SSCMA_ERR_IO, "none.json: cannot open");
    CHECK_FAILS(sscma_config_parse("{\"_base_\": 3}", tmpdir, &c), SSCMA_ERR_CONFIG, "_base_ must be a path");
    CHECK_FAILS(sscma_config_parse("[1, 2]", tmpdir, &c), SSCMA_ERR_CONFIG, "must be a JSON object");
    CHECK_FAILS(sscma_config_load("/nonexistent/x.json", &c), SSCMA_ERR_IO, "/nonexistent/x.json");
    CHECK_OK(sscma_config_parse("{\"a\": \"${b}\", \"c\": {\"d\": [\"x${e}\"]}}", NULL, &c));
    if (c != NULL)
        CHECK_FAILS(sscma_config_resolve(c), SSCMA_ERR_CONFIG, "a: '${b}' refers to no top-level key");
    sscma_config_destroy(c);
    CHECK_OK(sscma_config_parse("{\"b\": 1, \"c\": {\"d\": [\"x${e}\"]}}", NULL, &c));
    if (c != NULL)
        CHECK_FAILS(sscma_config_resolve(c), SSCMA_ERR_CONFIG, "c.d.0: '${e}' refers to no top-level key");
    sscma_config_destroy(c);
    CHECK_FAILS(sscma_config_parse(NULL, NULL, &c), SSCMA_ERR_INVALID_ARGUMENT, "'json_text'");
    CHECK_FAILS(sscma_config_set(NULL, "a=1"), SSCMA_ERR_INVALID_ARGUMENT, "'config'");
    CHECK_FAILS(sscma_config_resolve(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'config'");
    sscma_config_destroy(NULL);
}

/* Resolves `text` and checks the value at `key`, or (expected NULL) that resolving fails with `message`. */
static void check_resolved(const char *text, const char *key, const char *expected, const char *message)
{
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_parse(text, NULL, &c));
    if (c == NULL)
        return;
    if (expected != NULL) {
        CHECK_OK(sscma_config_resolve(c));
        check_get(c, key, expected);
        const char *all = NULL;
        CHECK_OK(sscma_config_get(c, "", &all));
        if (all != NULL && strstr(all, "${") != NULL)
            test_fail(__FILE__, __LINE__, "%s: a reference is left: %s", text, all);
    } else {
        CHECK_FAILS(sscma_config_resolve(c), SSCMA_ERR_CONFIG, message);
    }
    sscma_config_destroy(c);
}

/* References resolve to a fixed point, in any key order; a cycle is named by its chain; plain nesting is no cycle. */
static void references_resolve_to_a_fixed_point(void)
{
    /* found in use: the value of a reference was itself a reference, and a directory "q_e${epochs}" was created */
    check_resolved("{\"nm\": \"q_e${epochs}\", \"epochs\": \"${e0}\", \"e0\": 8}", "nm", "\"q_e8\"", NULL);
    check_resolved("{\"nm\": \"${dir}/x\", \"dir\": \"w/${name}\", \"name\": \"${e0}e\", \"e0\": 3}", "nm",
                   "\"w/3e/x\"", NULL);
    check_resolved("{\"size\": \"${imgsz}\", \"imgsz\": [\"${h}\", 96], \"h\": 64}", "size", "[64,96]", NULL);
    check_resolved("{\"d\": \"$\", \"s\": \"${d}{e}\", \"e\": 5}", "s", "\"5\"", NULL); /* text that makes a "${" */
    check_resolved("{\"a\": \"${b}\", \"b\": {\"c\": \"${e}\"}, \"e\": [1, 2]}", "a", "{\"c\":[1,2]}", NULL);
    /* cycles: accepted before when the reference sat inside text ("x${p}" became "xx${p}") */
    check_resolved("{\"p\": \"x${p}\"}", NULL, NULL, "p: reference cycle: p -> p");
    check_resolved("{\"p\": \"${p}\"}", NULL, NULL, "p: reference cycle: p -> p");
    check_resolved("{\"a\": \"${b}\", \"b\": \"x${a}\"}", NULL, NULL, "b: reference cycle: a -> b -> a");
    check_resolved("{\"m\": {\"x\": [1, \"${n}\"]}, \"n\": \"${m}\"}", NULL, NULL, "n: reference cycle: m -> n -> m");
    check_resolved("{\"d\": \"$\", \"s\": \"${d}{s}\"}", NULL, NULL, "s: reference cycle: s -> s");
    check_resolved("{\"a\": \"x${b\", \"b\": 1}", NULL, NULL, "a: '${' without a closing '}'");
    check_resolved("{\"a\": \"x${}\"}", NULL, NULL, "a: '${}' refers to no top-level key");
    /* an object 40 deep without references is no cycle; only reference chains are limited (32 keys) */
    char deep[4096] = "{\"k\": 1, \"o\": ", tail[256] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "{\"x\": "), strcat(tail, "}");
    strcat(strcat(strcat(deep, "\"v${k}\""), tail), "}");
    check_resolved(deep, "o.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x", "\"v1\"",
                   NULL);
    char chain[4096] = "{";
    for (int i = 0; i < 40; i++)
        snprintf(chain + strlen(chain), sizeof chain - strlen(chain), "\"k%d\": \"${k%d}\", ", i, i + 1);
    strcat(chain, "\"k40\": 7}");
    check_resolved(chain, NULL, NULL, "references chain through more than 32 keys (k0 -> k1 -> ...)");
    char chain20[4096] = "{";
    for (int i = 0; i < 20; i++)
        snprintf(chain20 + strlen(chain20), sizeof chain20 - strlen(chain20), "\"k%d\": \"x${k%d}\", ", i, i + 1);
    strcat(chain20, "\"k20\": 7}");
    check_resolved(chain20, "k0", "\"xxxxxxxxxxxxxxxxxxxx7\"", NULL);
    /* text longer than the 4096 bytes the expansion used to cut silently */
    static char longer[6000];
    memset(longer, 'a', 5000);
    snprintf(longer + 5000, sizeof longer - 5000, "\", \"t\": \"${long}!\"}");
    char doc[6100];
    snprintf(doc, sizeof doc, "{\"long\": \"%s", longer);
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_parse(doc, NULL, &c));
    const char *json = NULL;
    if (c != NULL && sscma_config_resolve(c) == SSCMA_OK && sscma_config_get(c, "t", &json) == SSCMA_OK)
        CHECK_INT_EQ(strlen(json), 5003); /* "a...a!" with its quotes */
    else
        CHECK(false);
    sscma_config_destroy(c);
    /* references that double at each of 30 levels stop at a budget instead of taking all memory */
    char laughs[4096] = "{\"l0\": \"ha\"";
    for (int i = 1; i <= 30; i++)
        snprintf(laughs + strlen(laughs), sizeof laughs - strlen(laughs), ", \"l%d\": [\"${l%d}\", \"${l%d}\"]", i,
                 i - 1, i - 1);
    strcat(laughs, "}");
    check_resolved(laughs, NULL, NULL, "the references expand the config past");
}

/* A config (or a _base_) that is a FIFO is refused at once, named, instead of blocking the load forever. */
static void special_files_are_refused(void)
{
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/pipe.json", tmpdir);
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    alarm(20); /* a blocking open would hang the test: SIGALRM ends it, failing */
    sscma_config *c = NULL;
    CHECK_FAILS(sscma_config_load(fifo, &c), SSCMA_ERR_IO, "pipe.json: the config is a FIFO (named pipe)");
    write_file("child_of_fifo.json", "{\"_base_\": \"pipe.json\", \"a\": 1}");
    char child[512];
    snprintf(child, sizeof child, "%s/child_of_fifo.json", tmpdir);
    CHECK_FAILS(sscma_config_load(child, &c), SSCMA_ERR_IO, "pipe.json: the config is a FIFO (named pipe)");
    alarm(0);
    CHECK_FAILS(sscma_config_load(tmpdir, &c), SSCMA_ERR_IO, "not a regular file");
    unlink(fifo);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(inheritance_merges_as_mmengine),
        TEST_CASE(delete_replaces_and_errors_name_the_file),
        TEST_CASE(references_resolve_to_a_fixed_point),
        TEST_CASE(special_files_are_refused),
    };
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sscma-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
