/* sscma info: what a config builds, and what its deployment costs. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static json_t *shape_json(const sscma_tensor *t)
{
    int32_t rank = 0;
    sscma_tensor_rank(t, &rank);
    json_t *dims = json_array();
    for (int32_t i = 0; i < rank; i++) {
        int64_t d = 0;
        sscma_tensor_dim(t, i, &d);
        json_array_append_new(dims, json_integer(d));
    }
    return dims;
}

static void print_shape(json_t *dims)
{
    printf("[");
    for (size_t i = 0; i < json_array_size(dims); i++)
        printf("%s%lld", i ? ", " : "", (long long)json_integer_value(json_array_get(dims, i)));
    printf("]");
}

static void print_tensor(const char *what, json_t *t)
{
    printf("%-10s %s %s ", what, json_string_value(json_object_get(t, "name")),
           json_string_value(json_object_get(t, "type")));
    print_shape(json_object_get(t, "shape"));
    if (json_object_get(t, "scale") != NULL)
        printf(", scale %.9g, zero point %lld", json_real_value(json_object_get(t, "scale")),
               (long long)json_integer_value(json_object_get(t, "zero_point")));
    printf("\n");
}

/* sscma info MODEL.tflite: what the file holds and whether libsscma runs it (sscma_tflite_describe). */
static int info_tflite(cli_args *a)
{
    sscma_context *ctx = NULL;
    if (cli_context(a, NULL, &ctx) != 0)
        return 1;
    size_t need = 0;
    char *text = NULL;
    int rc = 0;
    if (sscma_tflite_describe(ctx, a->positional[0], NULL, 0, &need) != SSCMA_OK ||
        (text = malloc(need)) == NULL || sscma_tflite_describe(ctx, a->positional[0], text, need, &need) != SSCMA_OK) {
        free(text);
        rc = cli_fail(a, "cannot read the file");
        sscma_context_destroy(ctx);
        return rc;
    }
    json_t *d = json_loads(text, 0, NULL);
    free(text);
    if (a->json) {
        cli_print_json(json_incref(d));
    } else {
        printf("file       %s (TFLite schema %lld; %s)\n", json_string_value(json_object_get(d, "file")),
               (long long)json_integer_value(json_object_get(d, "schema_version")),
               json_string_value(json_object_get(d, "description")));
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(d, "inputs"), i, t) print_tensor("input", t);
        json_array_foreach(json_object_get(d, "outputs"), i, t) print_tensor("output", t);
        printf("operators ");
        json_array_foreach(json_object_get(d, "operators"), i, t)
            printf(" %s%s x%lld", json_is_true(json_object_get(t, "supported")) ? "" : "*",
                   json_string_value(json_object_get(t, "name")),
                   (long long)json_integer_value(json_object_get(t, "count")));
        printf("\n");
        printf("weights    %.1f KiB\n", (double)json_integer_value(json_object_get(d, "weight_bytes")) / 1024.0);
        if (json_object_get(d, "arena_bytes") != NULL)
            printf("arena      %.1f KiB of activations at batch 1 (the runtime's plan)\n",
                   (double)json_integer_value(json_object_get(d, "arena_bytes")) / 1024.0);
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(d, "metadata"), key, v) printf("metadata   %s: %s\n", key,
                                                                           json_string_value(v));
        if (json_is_true(json_object_get(d, "loads"))) {
            printf("libsscma   runs it\n");
        } else {
            printf("libsscma   cannot run it");
            if (json_array_size(json_object_get(d, "unsupported")) > 0) {
                printf(" (* no kernel:");
                json_array_foreach(json_object_get(d, "unsupported"), i, t) printf(" %s", json_string_value(t));
                printf(")");
            }
            printf(": %s\n", json_string_value(json_object_get(d, "error")));
        }
    }
    json_decref(d);
    sscma_context_destroy(ctx);
    return 0;
}

/* The loaders' resolved configs, {"train": ..., "val": ...}. */
static json_t *loaders_json(sscma_runner *runner)
{
    json_t *loaders = json_object();
    static const char *const splits[] = {"train", "val"};
    for (int s = 0; s < 2; s++) {
        const char *lc = NULL;
        if (sscma_runner_loader_config(runner, splits[s], &lc) == SSCMA_OK)
            json_object_set_new(loaders, splits[s], json_loads(lc, 0, NULL));
    }
    sscma_clear_error();
    return loaders;
}

/*
 * LODA has no graph model: its hyper-parameters (SSCMA's num_bins, num_cuts, yield_rate), the window it reads (the
 * training loader's batch shape, one window; left out when the dataset cannot be opened, with a note) and the
 * loaders.
 */
static int info_loda(cli_args *a, sscma_config *cfg, sscma_runner *runner)
{
    const char *text = NULL;
    json_t *model = sscma_config_get(cfg, "model", &text) == SSCMA_OK ? json_loads(text, 0, NULL) : NULL;
    sscma_loader *train = NULL;
    int64_t dims[4] = {0, 0, 0, 0};
    const bool shaped = sscma_runner_loader(runner, "train", &train) == SSCMA_OK &&
                        sscma_loader_batch_shape(train, dims) == SSCMA_OK;
    if (!shaped && !a->quiet)
        fprintf(stderr, "sscma info: no window shape (the training set cannot be opened: %s)\n", sscma_last_error());
    sscma_clear_error();
    const json_t *bins = json_object_get(model, "num_bins"), *cuts = json_object_get(model, "num_cuts"),
                 *rate = json_object_get(model, "yield_rate");
    json_t *out = json_pack("{s:s, s:I, s:I, s:f, s:o}", "model", "LODA", "num_bins",
                            (json_int_t)(bins != NULL ? json_integer_value(bins) : 10), "num_cuts",
                            (json_int_t)(cuts != NULL ? json_integer_value(cuts) : 100), "yield_rate",
                            rate != NULL ? json_number_value(rate) : 0.9, "loaders", loaders_json(runner));
    if (shaped) {
        json_object_set_new(out, "input", json_pack("[I,I,I,I]", (json_int_t)1, (json_int_t)dims[1],
                                                    (json_int_t)dims[2], (json_int_t)dims[3]));
        json_object_set_new(out, "features", json_integer((json_int_t)(dims[1] * dims[2] * dims[3])));
    }
    json_decref(model);
    if (a->json) {
        cli_print_json(out);
        return 0;
    }
    printf("model      LODA: %lld projections of %lld-bin histograms (not a network: fitted by counting)\n",
           (long long)json_integer_value(json_object_get(out, "num_cuts")),
           (long long)json_integer_value(json_object_get(out, "num_bins")));
    if (shaped)
        printf("input      [1, %lld, %lld, %lld] (NHWC): %lld features a window\n", (long long)dims[1],
               (long long)dims[2], (long long)dims[3], (long long)(dims[1] * dims[2] * dims[3]));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(out, "loaders"), key, v) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%-10s %s\n", key, t != NULL ? t : "");
        free(t);
    }
    json_decref(out);
    return 0;
}

int cli_info(cli_args *a)
{
    size_t len = strlen(a->positional[0]);
    if (len > 7 && strcmp(a->positional[0] + len - 7, ".tflite") == 0)
        return info_tflite(a);
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_qmodel *q = NULL;
    int rc = 1;
    if (cli_open(a, a->positional[0], NULL, &cfg, &ctx, &runner) != 0)
        goto done;
    if (cli_is_loda(cfg)) {
        rc = info_loda(a, cfg, runner);
        goto done;
    }
    sscma_model *model = NULL;
    sscma_runner_model(runner, &model);
    int64_t params = 0, macs = 0, w8 = 0, arena8 = 0, w32 = 0, arena32 = 0;
    int32_t layers = 0;
    sscma_model_stats(model, &params, &macs);
    sscma_model_layer_count(model, &layers);
    const char *type = NULL;
    sscma_config_get(cfg, "model.type", &type);
    json_t *out = json_pack("{s:o, s:I, s:I, s:i}", "model", json_loads(type, JSON_DECODE_ANY, NULL), "params",
                            (json_int_t)params, "macs", (json_int_t)macs, "layers", (int)layers);
    /* a pruned config (sscma prune) names the model it came from: the reduction */
    const char *from = NULL;
    json_t *pruned = sscma_config_get(cfg, "pruned_from", &from) == SSCMA_OK ? json_loads(from, 0, NULL) : NULL;
    sscma_clear_error();
    int64_t p0 = (int64_t)json_integer_value(json_object_get(pruned, "from_params"));
    int64_t m0 = (int64_t)json_integer_value(json_object_get(pruned, "from_macs"));
    if (pruned != NULL && p0 > 0 && m0 > 0) {
        json_object_set_new(pruned, "params_reduction", json_real((double)(p0 - params) / (double)p0));
        json_object_set_new(pruned, "macs_reduction", json_real((double)(m0 - macs) / (double)m0));
        json_object_set_new(out, "pruned_from", pruned);
    } else {
        json_decref(pruned);
    }
    pruned = json_object_get(out, "pruned_from");
    sscma_tensor *image = NULL;
    if (sscma_model_prepare(model, 1, 0) != SSCMA_OK || sscma_model_input(model, "image", &image) != SSCMA_OK ||
        sscma_qmodel_from_model(model, &q) != SSCMA_OK || sscma_qmodel_prepare(q, 1) != SSCMA_OK) {
        json_decref(out);
        rc = cli_fail(a, "cannot lower the model");
        goto done;
    }
    json_object_set_new(out, "input", shape_json(image));
    json_t *outputs = json_object();
    int32_t n_out = 0;
    sscma_qmodel_io_count(q, NULL, &n_out);
    for (int32_t i = 0; i < n_out; i++) {
        sscma_tensor *t = NULL;
        const char *name = NULL;
        sscma_qmodel_output(q, i, &t, &name);
        json_object_set_new(outputs, name, shape_json(t));
    }
    json_object_set_new(out, "outputs", outputs);
    sscma_qmodel_memory(q, 0, &w32, &arena32);
    sscma_qmodel_memory(q, 1, &w8, &arena8);
    json_object_set_new(out, "float32", json_pack("{s:I, s:I}", "weight_bytes", (json_int_t)w32, "arena_bytes",
                                                  (json_int_t)arena32));
    json_object_set_new(out, "int8", json_pack("{s:I, s:I}", "weight_bytes", (json_int_t)w8, "arena_bytes",
                                               (json_int_t)arena8));
    json_t *loaders = loaders_json(runner);
    json_object_set_new(out, "loaders", loaders);
    if (a->json) {
        cli_print_json(out);
    } else {
        printf("model      %s, %d layers\n", json_string_value(json_object_get(out, "model")), (int)layers);
        printf("params     %lld (%.2f M)\n", (long long)params, (double)params / 1e6);
        printf("MACs       %lld (%.2f M) per image\n", (long long)macs, (double)macs / 1e6);
        if (json_object_get(out, "pruned_from") != NULL)
            printf("pruned     from %lld params (-%.1f%%), %lld MACs (-%.1f%%): %s, ratio %g, %s\n", (long long)p0,
                   100.0 * (double)(p0 - params) / (double)p0, (long long)m0, 100.0 * (double)(m0 - macs) / (double)m0,
                   json_string_value(json_object_get(pruned, "criterion")),
                   json_number_value(json_object_get(pruned, "ratio")),
                   json_string_value(json_object_get(pruned, "checkpoint")));
        printf("input      ");
        print_shape(json_object_get(out, "input"));
        printf(" (NHWC)\n");
        const char *key;
        json_t *v;
        json_object_foreach(outputs, key, v) {
            printf("output     %s ", key);
            print_shape(v);
            printf("\n");
        }
        printf("int8       weights %.1f KiB, activation arena %.1f KiB (estimate)\n", (double)w8 / 1024.0,
               (double)arena8 / 1024.0);
        printf("float32    weights %.1f KiB, activation arena %.1f KiB\n", (double)w32 / 1024.0,
               (double)arena32 / 1024.0);
        json_object_foreach(loaders, key, v) {
            char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%-10s %s\n", key, t != NULL ? t : "");
            free(t);
        }
        json_decref(out);
    }
    rc = 0;
done:
    sscma_qmodel_destroy(q);
    cli_close(runner, ctx, cfg);
    return rc;
}
