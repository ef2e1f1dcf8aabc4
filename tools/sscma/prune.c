/* sscma prune: channel pruning of a trained model into a config + checkpoint that train like any other. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* The params and MACs the config's model has (its own widths, no weights needed). */
static int model_stats(const cli_args *a, sscma_context *ctx, sscma_config *cfg, int64_t *params, int64_t *macs)
{
    sscma_runner *r = NULL;
    sscma_model *m = NULL;
    if (sscma_runner_create(ctx, cfg, &r) != SSCMA_OK)
        return cli_fail(a, "cannot build the model");
    sscma_runner_model(r, &m);
    sscma_model_stats(m, params, macs);
    sscma_runner_destroy(r);
    return 0;
}

/* True when `path` and `other` name the same existing file. */
static bool same_file(const char *path, const char *other)
{
    struct stat x, y;
    return stat(path, &x) == 0 && stat(other, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The "prune" object of the config: --ratio, --criterion, --global, --round-to, --prune-*, --layer-ratio. */
static json_t *prune_object(const cli_args *a)
{
    json_t *p = json_pack("{s:f, s:s, s:b, s:i, s:b, s:b, s:b}", "ratio", a->ratio, "criterion",
                          a->criterion != NULL ? a->criterion : "l1", "global", a->global, "round_to",
                          (int)(a->round_to > 0 ? a->round_to : 1), "prune_first", a->prune_first, "prune_last",
                          a->prune_last, "prune_head", a->prune_head);
    json_t *layers = json_object();
    for (int i = 0; p != NULL && layers != NULL && i < a->n_layer_ratios; i++) {
        const char *eq = strrchr(a->layer_ratios[i], '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - a->layer_ratios[i]), a->layer_ratios[i]);
        json_object_set_new(layers, name, json_real(strtod(eq + 1, NULL)));
    }
    if (p != NULL && layers != NULL && json_object_size(layers) > 0)
        json_object_set_new(p, "layer_ratios", layers);
    else
        json_decref(layers);
    return p;
}

static int set_json(const cli_args *a, sscma_config *cfg, const char *key, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(value);
    size_t n = text != NULL ? strlen(key) + strlen(text) + 2 : 0;
    char *assignment = n > 0 ? malloc(n) : NULL;
    int rc = 0;
    if (assignment == NULL)
        rc = cli_error(a, 1, "out of memory");
    else if (snprintf(assignment, n, "%s=%s", key, text), sscma_config_set(cfg, assignment) != SSCMA_OK)
        rc = cli_fail(a, "cannot set the config");
    free(text);
    free(assignment);
    return rc;
}

static double reduction(int64_t before, int64_t after)
{
    return before > 0 ? 100.0 * (double)(before - after) / (double)before : 0.0;
}

int cli_prune(cli_args *a)
{
    const char *config = a->positional[0], *ckpt = a->positional[1];
    if (!(a->ratio >= 0.0 && a->ratio < 1.0))
        return cli_error(a, 2, "--ratio expects a number 0 <= R < 1, got %g", a->ratio);
    if (a->out == NULL)
        return cli_error(a, 2, "--out DIR is required (the pruned config.json and pruned.ckpt go there)");
    char cfg_out[PATH_MAX], ckpt_out[PATH_MAX];
    if (snprintf(cfg_out, sizeof cfg_out, "%s/config.json", a->out) >= (int)sizeof cfg_out ||
        snprintf(ckpt_out, sizeof ckpt_out, "%s/pruned.ckpt", a->out) >= (int)sizeof ckpt_out)
        return cli_error(a, 2, "--out: path too long");
    struct stat st;
    if (same_file(a->out, config) || same_file(a->out, ckpt) || same_file(cfg_out, config) ||
        same_file(cfg_out, ckpt) || same_file(ckpt_out, config) || same_file(ckpt_out, ckpt))
        return cli_error(a, 2, "--out %s: would overwrite an input (%s or %s)", a->out, config, ckpt);
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    int rc = 1;
    int64_t p0 = 0, m0 = 0, p1 = 0, m1 = 0;
    if (cli_load_config(a, config, NULL, &cfg) != 0 || cli_context(a, cfg, &ctx) != 0 ||
        model_stats(a, ctx, cfg, &p0, &m0) != 0)
        goto done;
    if (set_json(a, cfg, "prune", prune_object(a)) != 0 || cli_set_string(cfg, "load_from", ckpt) != 0) {
        rc = cli_fail(a, "cannot set the config");
        goto done;
    }
    if (sscma_runner_create(ctx, cfg, &runner) != SSCMA_OK) { /* loads CKPT, then prunes (config "prune") */
        rc = cli_fail(a, "cannot prune the model");
        goto done;
    }
    sscma_model *model = NULL;
    sscma_runner_model(runner, &model);
    sscma_model_stats(model, &p1, &m1);
    if (stat(a->out, &st) != 0 && mkdir(a->out, 0777) != 0 && errno != EEXIST) {
        rc = cli_error(a, 1, "cannot create %s: %s", a->out, strerror(errno));
        goto done;
    }
    json_t *info = json_pack("{s:s, s:f, s:s, s:I, s:I}", "checkpoint", ckpt, "ratio", a->ratio, "criterion",
                             a->criterion != NULL ? a->criterion : "l1", "from_params", (json_int_t)p0, "from_macs",
                             (json_int_t)m0);
    if (set_json(a, cfg, "prune", json_null()) != 0 || set_json(a, cfg, "pruned_from", info) != 0 ||
        cli_set_string(cfg, "load_from", ckpt_out) != 0)
        goto done;
    const char *text = NULL;
    json_t *root = NULL;
    char *pretty = NULL;
    if (sscma_config_get(cfg, "", &text) != SSCMA_OK || (root = json_loads(text, 0, NULL)) == NULL ||
        (pretty = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(root);
        rc = cli_error(a, 1, "cannot write the pruned config");
        goto done;
    }
    json_decref(root);
    size_t n = strlen(pretty);
    pretty = realloc(pretty, n + 2);
    strcpy(pretty + n, "\n");
    /* each file is written to a temporary beside it and renamed: the checkpoint first, then its config */
    if (sscma_model_save(model, ckpt_out, 0) != SSCMA_OK) {
        free(pretty);
        rc = cli_fail(a, "cannot write the checkpoint");
        goto done;
    }
    if (cli_write_atomic(cfg_out, pretty, n + 1) != 0) {
        free(pretty);
        rc = cli_error(a, 1, "cannot write %s", cfg_out);
        goto done;
    }
    free(pretty);
    if (a->json) {
        cli_print_json(json_pack("{s:s, s:s, s:{s:I, s:I}, s:{s:I, s:I}}", "config", cfg_out, "checkpoint", ckpt_out,
                                 "before", "params", (json_int_t)p0, "macs", (json_int_t)m0, "after", "params",
                                 (json_int_t)p1, "macs", (json_int_t)m1));
    } else {
        printf("params     %lld -> %lld (-%.1f%%)\n", (long long)p0, (long long)p1, reduction(p0, p1));
        printf("MACs       %lld -> %lld (-%.1f%%) per image\n", (long long)m0, (long long)m1, reduction(m0, m1));
        printf("wrote      %s, %s\n", cfg_out, ckpt_out);
    }
    rc = 0;
done:
    cli_close(runner, ctx, cfg);
    return rc;
}
