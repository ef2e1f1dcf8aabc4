/* sscma dataset check|stats|compose. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "hygiene.h"

static int open_split(const cli_args *a, sscma_config **cfg, sscma_context **ctx, sscma_runner **runner,
                      sscma_dataset **ds, const char *split)
{
    if (cli_open(a, a->positional[1], NULL, cfg, ctx, runner) != 0)
        return 1;
    if (sscma_runner_dataset(*runner, split, ds) != SSCMA_OK)
        return cli_fail(a, "cannot open the dataset");
    return 0;
}

/*
 * The split's dataset opened with on_defect "skip" (unless the config says otherwise): a defect of one record leaves
 * that record out and is listed, so that one check reports every defect (docs/data.md).
 */
static int open_for_check(const cli_args *a, sscma_config **cfg, sscma_context **ctx, sscma_runner **runner,
                          sscma_dataset **ds, const char *split)
{
    if (cli_load_config(a, a->positional[1], NULL, cfg) != 0)
        return 1;
    char key[96], assignment[128];
    const char *json = NULL;
    /* every split: the duplicate search opens the others too */
    static const char *const splits[] = {"train", "val", "test"};
    for (int s = 0; s < 3; s++) {
        const char *name = splits[s];
        snprintf(key, sizeof key, "%s_dataloader.dataset", name);
        if (sscma_config_get(*cfg, key, &json) != SSCMA_OK || json == NULL || json[0] != '{')
            continue;
        snprintf(key, sizeof key, "%s_dataloader.dataset.on_defect", name);
        snprintf(assignment, sizeof assignment, "%s=\"skip\"", key);
        if (sscma_config_get(*cfg, key, &json) != SSCMA_OK && sscma_config_set(*cfg, assignment) != SSCMA_OK)
            return cli_fail(a, "cannot set the dataset's on_defect");
    }
    if (cli_context(a, *cfg, ctx) != 0 || cli_runner(a, *ctx, *cfg, NULL, runner) != 0)
        return 1;
    if (sscma_runner_dataset(*runner, split, ds) != SSCMA_OK)
        return cli_fail(a, "cannot open the dataset");
    return 0;
}

static int check(cli_args *a, const char *split)
{
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_dataset *ds = NULL;
    int rc = open_for_check(a, &cfg, &ctx, &runner, &ds, split);
    int64_t problems = 0, n = 0, duplicates = 0;
    const char *report = NULL;
    json_t *dups = NULL;
    if (rc == 0) {
        sscma_dataset_size(ds, &n);
        if (sscma_dataset_check(ds, &problems, &report) != SSCMA_OK)
            rc = cli_fail(a, "check failed");
        else
            rc = hyg_duplicates(a, cfg, runner, split, &dups, &duplicates);
    }
    if (rc == 0) {
        if (a->json) {
            json_t *lines = json_array();
            for (const char *p = report; *p;) {
                const char *e = strchr(p, '\n');
                size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
                json_array_append_new(lines, json_stringn(p, len));
                p += len + (e != NULL);
            }
            cli_print_json(json_pack("{s:s, s:I, s:I, s:o, s:O}", "split", split, "samples", (json_int_t)n, "problems",
                                     (json_int_t)problems, "report", lines, "duplicates", dups));
        } else {
            fputs(report, stdout);
            if (report[0] != '\0' && report[strlen(report) - 1] != '\n')
                putchar('\n');
            printf("%s split: %lld samples, %lld problem%s\n", split, (long long)n, (long long)problems,
                   problems == 1 ? "" : "s");
            hyg_print_duplicates(dups);
        }
        rc = problems + duplicates > 0;
    }
    json_decref(dups);
    cli_close(runner, ctx, cfg);
    return rc;
}

static int stats(cli_args *a, const char *split)
{
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_dataset *ds = NULL;
    int rc = open_split(a, &cfg, &ctx, &runner, &ds, split);
    int64_t *images = NULL, *boxes = NULL;
    hyg_outliers *outliers = NULL;
    const char **names = NULL;
    if (rc != 0)
        goto done;
    int64_t n = 0, keypoints = 0, unlabeled = 0, min_h = 0, max_h = 0, min_w = 0, max_w = 0;
    int32_t k = 0;
    sscma_dataset_size(ds, &n);
    sscma_dataset_num_classes(ds, &k);
    images = calloc((size_t)(k > 0 ? k : 1), sizeof *images);
    boxes = calloc((size_t)(k > 0 ? k : 1), sizeof *boxes);
    names = calloc((size_t)(k > 0 ? k : 1), sizeof *names);
    outliers = hyg_outliers_create(cfg, split, n);
    if (images == NULL || boxes == NULL || names == NULL || outliers == NULL) {
        rc = cli_error(a, 1, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        sscma_sample *s = NULL;
        if (sscma_dataset_get(ds, i, &s) != SSCMA_OK) {
            rc = cli_fail(a, "cannot read a sample (sscma dataset check lists every problem)");
            goto done;
        }
        sscma_tensor *img = NULL;
        int64_t h = 0, w = 0;
        sscma_sample_image(s, &img);
        sscma_tensor_dim(img, 0, &h);
        sscma_tensor_dim(img, 1, &w);
        min_h = i == 0 || h < min_h ? h : min_h, max_h = h > max_h ? h : max_h;
        min_w = i == 0 || w < min_w ? w : min_w, max_w = w > max_w ? w : max_w;
        int32_t label = -1, nb = 0, nk = 0;
        const int32_t *bl = NULL;
        sscma_sample_label(s, &label);
        sscma_sample_boxes(s, &nb, NULL, &bl);
        sscma_sample_keypoints(s, &nk, NULL);
        if (label >= 0 && label < k)
            images[label]++;
        for (int32_t b = 0; b < nb; b++) {
            if (bl[b] >= 0 && bl[b] < k)
                boxes[bl[b]]++;
            bool seen = false; /* images per class: counted once per image */
            for (int32_t c = 0; c < b; c++)
                seen = seen || bl[c] == bl[b];
            if (!seen && label < 0 && bl[b] >= 0 && bl[b] < k)
                images[bl[b]]++;
        }
        if (label < 0 && nb == 0)
            unlabeled++;
        keypoints += nk;
        hyg_outliers_add(outliers, s);
        sscma_sample_destroy(s);
    }
    json_t *classes = json_array();
    for (int32_t c = 0; c < k; c++) {
        const char *name = NULL;
        sscma_dataset_class_name(ds, c, &name);
        names[c] = name;
        json_t *item = json_pack("{s:s, s:I, s:I}", "name", name ? name : "", "images", (json_int_t)images[c],
                                 "boxes", (json_int_t)boxes[c]);
        if (item == NULL || json_array_append_new(classes, item) != 0) { /* the library refuses such names */
            json_decref(classes);
            rc = cli_error(a, 1, "class %d: its name is not valid UTF-8", (int)c);
            goto done;
        }
    }
    json_t *out = json_pack("{s:s, s:I, s:i, s:I, s:I, s:[II], s:[II], s:o}", "split", split, "samples",
                            (json_int_t)n, "num_classes", (int)k, "without_annotations", (json_int_t)unlabeled,
                            "keypoints", (json_int_t)keypoints, "height", (json_int_t)min_h, (json_int_t)max_h,
                            "width", (json_int_t)min_w, (json_int_t)max_w, "classes", classes);
    json_t *found = NULL;
    int64_t n_found = 0;
    if (hyg_outliers_finish(a, outliers, images, names, k, &found, &n_found) != 0) {
        json_decref(out);
        rc = 1;
        goto done;
    }
    json_object_set_new(out, "outliers", found);
    if (a->json) {
        cli_print_json(out);
    } else {
        printf("%s split: %lld samples, %d classes, images %lld..%lld x %lld..%lld px\n", split, (long long)n,
               (int)k, (long long)min_h, (long long)max_h, (long long)min_w, (long long)max_w);
        if (keypoints > 0)
            printf("keypoints: %lld\n", (long long)keypoints);
        if (unlabeled > 0)
            printf("samples without annotations: %lld\n", (long long)unlabeled);
        printf("%-24s %10s %10s\n", "class", "images", "boxes");
        for (int32_t c = 0; c < k; c++) {
            json_t *e = json_array_get(classes, (size_t)c);
            printf("%-24s %10lld %10lld\n", json_string_value(json_object_get(e, "name")), (long long)images[c],
                   (long long)boxes[c]);
        }
        hyg_print_outliers(found);
        json_decref(out);
    }
    rc = 0;
done:
    free(images);
    free(boxes);
    free(names);
    hyg_outliers_destroy(outliers);
    cli_close(runner, ctx, cfg);
    return rc;
}

static bool exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static int compose(cli_args *a)
{
    if (a->from == NULL || a->out == NULL)
        return cli_error(a, 2, "compose needs --from CONFIG_OR_DIR and --out DIR");
    long count = a->count >= 0 ? a->count : 1000;
    if (count < 1)
        return cli_error(a, 2, "--count must be at least 1");
    sscma_context *ctx = NULL;
    sscma_config *src_cfg = NULL, *cc = NULL;
    sscma_runner *runner = NULL;
    sscma_dataset *src = NULL, *own = NULL;
    int rc = 1;
    if (cli_context(a, NULL, &ctx) != 0)
        goto done;
    size_t n = strlen(a->from);
    struct stat sb;
    if (n > 5 && strcmp(a->from + n - 5, ".json") == 0) {
        cli_args b = *a;
        b.n_overrides = 0; /* --cfg-options are for the composition */
        if (cli_load_config(&b, a->from, NULL, &src_cfg) != 0 || cli_runner(a, ctx, src_cfg, NULL, &runner) != 0)
            goto done;
        if (sscma_runner_dataset(runner, "train", &src) != SSCMA_OK) {
            rc = cli_fail(a, "cannot open the source dataset");
            goto done;
        }
    } else if (stat(a->from, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        bool idx = exists(a->from, "train-images-idx3-ubyte") || exists(a->from, "train-images-idx3-ubyte.gz");
        json_t *dc = json_pack("{s:s, s:s}", "type", idx ? "FashionMNIST" : "CustomDataset", "data_root", a->from);
        if (idx)
            json_object_set_new(dc, "split", json_string("train"));
        char *text = json_dumps(dc, JSON_COMPACT);
        json_decref(dc);
        sscma_status st = text != NULL ? sscma_dataset_open(ctx, text, &own) : SSCMA_ERR_OUT_OF_MEMORY;
        free(text);
        if (st != SSCMA_OK) {
            rc = cli_fail(a, "cannot open the source dataset");
            goto done;
        }
        src = own;
    } else {
        rc = cli_error(a, 1, "--from %s: not a .json config nor a directory", a->from);
        goto done;
    }
    long valid = count / 5 > 0 ? count / 5 : 1;
    json_t *base = json_pack("{s:s, s:{s:i, s:i}, s:I}", "out_dir", a->out, "splits", "train", (int)count, "valid",
                             (int)valid, "seed", (json_int_t)a->seed);
    char *text = json_dumps(base, JSON_COMPACT);
    json_decref(base);
    if (text == NULL || sscma_config_parse(text, NULL, &cc) != SSCMA_OK) {
        free(text);
        rc = cli_fail(a, "compose config");
        goto done;
    }
    free(text);
    for (int i = 0; i < a->n_overrides; i++)
        if (sscma_config_set(cc, a->overrides[i]) != SSCMA_OK) {
            rc = cli_fail(a, "--cfg-options");
            goto done;
        }
    const char *json = NULL;
    sscma_config_get(cc, "", &json);
    if (!a->quiet && !a->json)
        fprintf(stderr, "composing %s\n", json);
    if (sscma_compose_detection(src, json) != SSCMA_OK) {
        rc = cli_fail(a, "compose failed");
        goto done;
    }
    char ann[4200];
    snprintf(ann, sizeof ann, "%s/train/_annotations.coco.json", a->out);
    if (exists(a->out, "validation_list.txt") && !exists(a->out, "train")) { /* a Speechcommand: its layout */
        snprintf(ann, sizeof ann, "%s/validation_list.txt", a->out);
        if (a->json)
            cli_print_json(json_pack("{s:s, s:i, s:i, s:s}", "out_dir", a->out, "train", (int)count, "valid",
                                     (int)valid, "validation_list", ann));
        else
            printf("composed %s: train %ld, validation %ld clips (Speech Commands layout: %s)\n", a->out, count,
                   valid, ann);
    } else if (exists(a->out, "info.labels") && !exists(a->out, "train")) { /* a SensorDataset: an Edge Impulse export */
        snprintf(ann, sizeof ann, "%s/info.labels", a->out);
        if (a->json)
            cli_print_json(json_pack("{s:s, s:i, s:i, s:s}", "out_dir", a->out, "training", (int)count, "testing",
                                     (int)valid, "info_labels", ann));
        else
            printf("composed %s: training %ld, testing %ld windows (Edge Impulse layout: %s)\n", a->out, count,
                   valid, ann);
    } else if (a->json)
        cli_print_json(json_pack("{s:s, s:i, s:i, s:s}", "out_dir", a->out, "train", (int)count, "valid", (int)valid,
                                 "train_annotations", ann));
    else
        printf("composed %s: train %ld, valid %ld images (COCO, Roboflow layout: %s)\n", a->out, count, valid, ann);
    rc = 0;
done:
    sscma_config_destroy(cc);
    sscma_dataset_destroy(own);
    sscma_runner_destroy(runner);
    sscma_config_destroy(src_cfg);
    sscma_context_destroy(ctx);
    return rc;
}

int cli_dataset(cli_args *a)
{
    const char *sub = a->positional[0];
    const char *split = a->split != NULL ? a->split : "train";
    if (strcmp(sub, "compose") == 0) {
        if (a->n_positional != 1)
            return cli_error(a, 2, "usage: sscma dataset compose --from CONFIG_OR_DIR --out DIR [--count N] "
                                   "[--seed S] [--cfg-options K=V ...]");
        return compose(a);
    }
    if (a->n_positional != 2 || (strcmp(sub, "check") != 0 && strcmp(sub, "stats") != 0))
        return cli_error(a, 2, "usage: sscma dataset check|stats CONFIG [--split train|val|test] [--json]");
    return strcmp(sub, "check") == 0 ? check(a, split) : stats(a, split);
}
