/* sscma train and sscma eval. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct bar_state {
    bool interactive;
    double last_draw;
} bar_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_eta(double s, char *buf, size_t size)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* The progress bar on a terminal; plain log lines (the library's logger) otherwise. Ctrl-C cancels. */
static int on_progress(const sscma_train_progress *p, void *user)
{
    bar_state *b = user;
    if (b->interactive) {
        double t = now_s();
        if (t - b->last_draw >= 0.1 || p->iter == p->iters_per_epoch) {
            b->last_draw = t;
            char eta[32];
            format_eta(p->eta_s, eta, sizeof eta);
            const int width = 24;
            int done = p->iters_per_epoch > 0 ? (int)(width * p->iter / p->iters_per_epoch) : width;
            char bar[32];
            for (int i = 0; i < width; i++)
                bar[i] = i < done ? '=' : i == done ? '>' : ' ';
            bar[width] = '\0';
            fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  lr %.2e  %.0f img/s  ETA %s",
                    (long long)p->epoch, (long long)p->max_epochs, bar, (long long)p->iter,
                    (long long)p->iters_per_epoch, p->loss, p->lr, p->images_per_s, eta);
            cli_set_bar_shown(true);
        }
    }
    return interrupted ? 1 : 0;
}

/* The checkpoint named in work_dir/last_checkpoint, into buf. */
static int last_checkpoint(const cli_args *a, const char *work_dir, char *buf, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/last_checkpoint", work_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_error(a, 1, "--resume: %s does not exist (no checkpoint was written in this work dir yet)", path);
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n == 0)
        return cli_error(a, 1, "--resume: %s is empty", path);
    return 0;
}

/*
 * The grid of the first validation images with the deployable model's predictions, as sscma infer draws them (a
 * classifier's frame is green when its top class is the label) into *g (initialised here, freed by the caller):
 * g->count 0 for windows of sensor values, which are no images.
 */
static int predictions_grid(sscma_dataset *ds, sscma_qmodel *q, json_t *classes, cli_grid *g)
{
    /* the post-processing sscma_predict chooses, as sscma infer draws it */
    const char *task = "";
    sscma_predict_options po;
    sscma_predict_options_init(&po, sizeof po);
    if (sscma_predict_task(q, &po, &task) != SSCMA_OK) {
        sscma_clear_error();
        task = "";
    }
    const bool boxes = strcmp(task, "fomo") == 0 || strcmp(task, "yolo") == 0 || strcmp(task, "rtmdet") == 0,
               points = strcmp(task, "pfld") == 0;
    int64_t n = 0;
    sscma_dataset_size(ds, &n);
    cli_grid_init(g, n, classes, true);
    int rc = 0;
    for (int64_t i = 0; rc == 0 && i < g->cells; i++) {
        sscma_sample *s = NULL;
        sscma_tensor *img = NULL;
        sscma_prediction r[64];
        int32_t found = 0;
        cli_truth t = {.label = -1};
        sscma_dtype dt = SSCMA_DTYPE_U8;
        if (sscma_dataset_get(ds, i, &s) != SSCMA_OK || sscma_sample_image(s, &img) != SSCMA_OK ||
            sscma_tensor_dtype(img, &dt) != SSCMA_OK) {
            rc = -1;
        } else if (dt != SSCMA_DTYPE_U8) { /* windows of sensor values: no picture of them (confusion.png stays) */
            sscma_sample_destroy(s);
            break;
        } else if (sscma_predict(q, img, NULL, r, 64, &found) != SSCMA_OK) {
            rc = -1;
        } else {
            cli_draw how = boxes ? CLI_DRAW_BOXES : points ? CLI_DRAW_POINTS : CLI_DRAW_RIGHT;
            sscma_sample_label(s, &t.label);
            sscma_sample_boxes(s, &t.n_boxes, &t.boxes, &t.box_labels);
            sscma_sample_keypoints(s, &t.n_points, &t.points);
            if (how == CLI_DRAW_RIGHT && (found == 0 || r[0].class_id != t.label))
                how = CLI_DRAW_WRONG;
            rc = cli_grid_add(g, img, r, found < 64 ? found : 64, how, &t);
        }
        sscma_sample_destroy(s);
    }
    return rc;
}

/* Whether the validation samples are images: windows of sensor values or feature images (f32) get no picture. */
static bool image_samples(const sscma_dataset *ds)
{
    sscma_sample *s = NULL;
    sscma_tensor *img = NULL;
    sscma_dtype dt = SSCMA_DTYPE_F32;
    if (sscma_dataset_get(ds, 0, &s) != SSCMA_OK || sscma_sample_image(s, &img) != SSCMA_OK ||
        sscma_tensor_dtype(img, &dt) != SSCMA_OK)
        sscma_clear_error();
    sscma_sample_destroy(s);
    return dt == SSCMA_DTYPE_U8;
}

/* The runner's model as a deployable one with the runner's metadata, and its "classes" (NULL: none). */
static int deployable(sscma_runner *runner, sscma_qmodel **q, json_t **classes)
{
    sscma_model *model = NULL;
    const char *classes_text = NULL;
    *q = NULL, *classes = NULL;
    sscma_runner_model(runner, &model);
    if (sscma_qmodel_from_model(model, q) != SSCMA_OK || sscma_runner_set_meta(runner, *q) != SSCMA_OK) {
        sscma_qmodel_destroy(*q);
        *q = NULL;
        return -1;
    }
    *classes = sscma_qmodel_meta(*q, "classes", &classes_text) == SSCMA_OK ? json_loads(classes_text, 0, NULL) : NULL;
    return 0;
}

/*
 * predictions.png (predictions_grid) and, for a classifier, confusion.png, added to `batch` with curves.svg: the
 * run's pictures are replaced together or not at all.
 */
static int write_pictures(sscma_runner *runner, const sscma_metric *metric, const char *work_dir, cli_files *batch)
{
    char path[4200];
    sscma_dataset *ds = NULL;
    sscma_qmodel *q = NULL;
    json_t *classes = NULL;
    sscma_model *model = NULL;
    if (sscma_runner_model(runner, &model) != SSCMA_OK) { /* LODA: no graph model, nothing to draw */
        sscma_clear_error();
        return 0;
    }
    if (sscma_runner_dataset(runner, "val", &ds) != SSCMA_OK) {
        sscma_clear_error();
        return 0; /* no validation set: nothing to show */
    }
    if (deployable(runner, &q, &classes) != 0)
        return -1;
    int32_t k = 0;
    const int64_t *matrix = NULL;
    if (metric != NULL && sscma_metric_confusion_matrix(metric, &k, &matrix) == SSCMA_OK) {
        snprintf(path, sizeof path, "%s/confusion.png", work_dir);
        if (cli_write_confusion(path, matrix, k, classes, batch) != 0) {
            json_decref(classes);
            sscma_qmodel_destroy(q);
            return -1;
        }
    }
    cli_grid g;
    int rc = 0;
    if (image_samples(ds))
        rc = predictions_grid(ds, q, classes, &g);
    else
        cli_grid_init(&g, 0, classes, true); /* sensor windows: no picture */
    snprintf(path, sizeof path, "%s/predictions.png", work_dir);
    if (rc == 0 && g.count > 0)
        rc = cli_grid_write(&g, path, batch);
    cli_grid_free(&g);
    json_decref(classes);
    sscma_qmodel_destroy(q);
    return rc;
}

/*
 * After each validation of a training run: the predictions picture of the model as it is now, an image summary
 * "val/predictions" in the TensorBoard event file at the validation's step. A picture that cannot be made is a
 * warning, never the end of the run.
 */
static int on_validation(sscma_trainer *trainer, int64_t epoch, const sscma_metric *metric, void *user_data)
{
    (void)metric;
    sscma_runner *runner = user_data;
    sscma_dataset *ds = NULL;
    sscma_qmodel *q = NULL;
    json_t *classes = NULL;
    if (sscma_runner_dataset(runner, "val", &ds) != SSCMA_OK) {
        sscma_clear_error();
        return 0;
    }
    if (!image_samples(ds)) /* no picture of sensor windows: no deployable model (a VAE's metadata runs it) */
        return 0;
    if (deployable(runner, &q, &classes) != 0) {
        fprintf(stderr, "warning: no predictions picture for TensorBoard at epoch %lld: %s\n", (long long)epoch,
                sscma_last_error());
        return 0;
    }
    cli_grid g;
    unsigned char *png = NULL;
    size_t size = 0;
    if (predictions_grid(ds, q, classes, &g) == 0 && g.count > 0 && cli_grid_png(&g, &png, &size) == 0 &&
        sscma_trainer_log_image(trainer, "val/predictions", png, size, epoch) != SSCMA_OK)
        fprintf(stderr, "warning: %s\n", sscma_last_error());
    free(png);
    cli_grid_free(&g);
    json_decref(classes);
    sscma_qmodel_destroy(q);
    return 0;
}

/*
 * Whether this process is a rank other than 0 of a data-parallel job (docs/distributed.md): the launcher's variables,
 * as the library reads them (lib/train/dist.c). Such a rank trains its shard and writes nothing: rank 0 writes the
 * config, checkpoints, logs and pictures and prints the progress and the result.
 */
static bool follower_rank(void)
{
    const char *opt_out = getenv("SSCMA_MPI");
    if (opt_out != NULL && strcmp(opt_out, "0") == 0)
        return false;
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", NULL};
    for (int i = 0; vars[i] != NULL; i++)
        if (getenv(vars[i]) != NULL)
            return atoi(getenv(vars[i])) != 0;
    return false;
}

int cli_train(cli_args *a)
{
    const char *path = a->positional[0];
    sscma_config *cfg = NULL;
    if (cli_load_config(a, path, a->work_dir, &cfg) != 0)
        return 1;
    const char *wd_json = NULL;
    char work_dir[2048];
    if (sscma_config_get(cfg, "work_dir", &wd_json) != SSCMA_OK || strcmp(wd_json, "null") == 0) {
        char stem[256];
        cli_stem(path, stem, sizeof stem);
        snprintf(work_dir, sizeof work_dir, "work_dirs/%s", stem); /* SSCMA's default */
        if (cli_set_string(cfg, "work_dir", work_dir) != 0) {
            sscma_config_destroy(cfg);
            return cli_fail(a, "work_dir");
        }
    } else {
        json_t *v = json_loads(wd_json, JSON_DECODE_ANY, NULL);
        if (!json_is_string(v)) {
            json_decref(v);
            sscma_config_destroy(cfg);
            return cli_error(a, 1, "%s: work_dir: expected a directory path, got %s", path, wd_json);
        }
        snprintf(work_dir, sizeof work_dir, "%s", json_string_value(v));
        json_decref(v);
    }
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_trainer *trainer = NULL;
    int rc = 1;
    if (cli_context(a, cfg, &ctx) != 0)
        goto done;
    if (cli_runner(a, ctx, cfg, NULL, &runner) != 0)
        goto done;
    if (sscma_runner_trainer(runner, &trainer) != SSCMA_OK) {
        rc = cli_fail(a, "cannot set up training");
        goto done;
    }
    /* the resolved config, as SSCMA dumps it into its work dir */
    const char *text = NULL;
    char file[4096];
    sscma_config_get(cfg, "", &text);
    snprintf(file, sizeof file, "%s/config.json", work_dir);
    const bool follower = follower_rank();
    if (!follower) {
        json_t *doc = json_loads(text, 0, NULL);
        char *pretty = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))
                                   : NULL;
        json_decref(doc);
        size_t n = pretty != NULL ? strlen(pretty) : 0;
        char *body = pretty != NULL ? realloc(pretty, n + 2) : NULL;
        if (body != NULL)
            body[n] = '\n', body[n + 1] = '\0';
        else
            free(pretty);
        int w = body != NULL ? cli_write_atomic(file, body, n + 1) : -1;
        free(body);
        if (w != 0) {
            rc = cli_error(a, 1, "cannot write %s", file);
            goto done;
        }
    }
    if (a->resume != NULL) {
        char ckpt[4096];
        if (a->resume[0] != '\0')
            snprintf(ckpt, sizeof ckpt, "%s", a->resume);
        else if (last_checkpoint(a, work_dir, ckpt, sizeof ckpt) != 0)
            goto done;
        if (sscma_trainer_resume(trainer, ckpt) != SSCMA_OK) {
            rc = cli_fail(a, "--resume");
            goto done;
        }
        if (!a->quiet && !a->json && !follower)
            fprintf(stderr, "resumed from %s\n", ckpt);
    }
    bar_state bar = {cli_interactive(a), 0.0};
    if (!follower) {
        sscma_trainer_set_callback(trainer, on_progress, &bar);
        sscma_trainer_set_val_callback(trainer, on_validation, runner);
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    double t0 = now_s();
    sscma_status st = sscma_trainer_train(trainer);
    double seconds = now_s() - t0;
    sigaction(SIGINT, &old, NULL);
    cli_clear_bar();
    /* the final validation before anything rank 0 does alone (the checkpoint, the pictures) can fail: with a sharded
     * metric it is a collective (each rank its shard), so every rank must reach it */
    const sscma_metric *m = NULL;
    sscma_loader *val = NULL;
    const bool have_val = st == SSCMA_OK && sscma_runner_loader(runner, "val", &val) == SSCMA_OK;
    const bool val_failed = have_val && sscma_trainer_validate(trainer, &m) != SSCMA_OK;
    /* last.ckpt: the state at the end, or where Ctrl-C stopped (resume with --resume work_dir/last.ckpt) */
    snprintf(file, sizeof file, "%s/last.ckpt", work_dir);
    if (val_failed) { /* the trained state is still kept */
        rc = cli_fail(a, "validation failed");
        if (sscma_trainer_save(trainer, file) != SSCMA_OK && !a->quiet)
            fprintf(stderr, "sscma train: warning: cannot save the last checkpoint: %s\n", sscma_last_error());
        goto done;
    }
    if ((st == SSCMA_OK || st == SSCMA_ERR_CANCELLED) && sscma_trainer_save(trainer, file) != SSCMA_OK) {
        rc = cli_fail(a, "cannot save the last checkpoint");
        goto done;
    }
    if (st == SSCMA_ERR_CANCELLED) {
        /* the hint repeats the work dir and the overrides: resuming elsewhere would start another run's files */
        char again[16384] = "sscma train";
        cli_append_shell_word(again, sizeof again, path);
        cli_append_shell_word(again, sizeof again, "--work-dir");
        cli_append_shell_word(again, sizeof again, work_dir);
        if (a->n_overrides > 0)
            cli_append_shell_word(again, sizeof again, "--cfg-options");
        for (int i = 0; i < a->n_overrides; i++)
            cli_append_shell_word(again, sizeof again, a->overrides[i]);
        cli_append_shell_word(again, sizeof again, "--resume");
        cli_append_shell_word(again, sizeof again, file);
        rc = cli_error(a, 130, "interrupted; the state is in %s (continue with: %s)", file, again);
        goto done;
    }
    if (st != SSCMA_OK) {
        rc = cli_fail(a, "training failed");
        goto done;
    }
    if (follower) /* rank 0 draws and reports */
        goto done;
    cli_files pictures = {0};
    /* the validation panel marks the metric the checkpoint hook keeps the best of, by its rule */
    const char *best_json = NULL, *rule_json = NULL;
    json_t *best_key = sscma_config_get(cfg, "default_hooks.checkpoint.save_best", &best_json) == SSCMA_OK
                           ? json_loads(best_json, JSON_DECODE_ANY, NULL)
                           : NULL;
    json_t *rule = sscma_config_get(cfg, "default_hooks.checkpoint.rule", &rule_json) == SSCMA_OK
                       ? json_loads(rule_json, JSON_DECODE_ANY, NULL)
                       : NULL;
    sscma_clear_error();
    const char *rule_name = json_string_value(rule);
    bool curves_ok = cli_write_curves(work_dir, json_string_value(best_key),
                                      rule_name == NULL ? -1 : strcmp(rule_name, "greater") == 0 ? 1 : 0,
                                      &pictures) == 0;
    json_decref(best_key);
    json_decref(rule);
    json_t *out = json_pack("{s:s}", "work_dir", work_dir);
    int64_t epochs = 0, iters = 0;
    sscma_trainer_position(trainer, &epochs, &iters);
    json_object_set_new(out, "epochs", json_integer(epochs));
    json_object_set_new(out, "iterations", json_integer(iters));
    json_object_set_new(out, "seconds", json_real(seconds));
    if (have_val) {
        json_t *metrics = json_object();
        cli_metric_json(m, metrics);
        json_object_set_new(out, "metrics", metrics);
    }
    if (!curves_ok || write_pictures(runner, m, work_dir, &pictures) != 0) {
        cli_files_abort(&pictures);
        if (!a->quiet)
            fprintf(stderr, "sscma train: warning: cannot draw the pictures in %s (the previous ones are kept): %s\n",
                    work_dir, curves_ok ? sscma_last_error() : "curves.svg");
    } else if (cli_files_commit(&pictures) != 0 && !a->quiet) {
        fprintf(stderr, "sscma train: warning: cannot replace the pictures in %s (the previous ones are kept): %s\n",
                work_dir, strerror(errno));
    }
    sscma_clear_error();
    json_object_set_new(out, "last_checkpoint", json_string(file));
    if (a->json) {
        cli_print_json(out);
    } else {
        if (!a->quiet) {
            printf("trained %lld epochs in %.1f s; work dir %s\n", (long long)epochs, seconds, work_dir);
            cli_print_metrics(json_object_get(out, "metrics"));
        }
        json_decref(out);
    }
    rc = 0;
done:
    cli_close(runner, ctx, cfg);
    return rc;
}

/*
 * sscma eval CONFIG MODEL.tflite: the file run (in libsscma's int8 runtime, as read back from disk) over the config's
 * split with the family's metric, as SSCMA's tools/test.py evaluates an exported model (sscma_export_verify).
 */
static int eval_tflite(cli_args *a, const char *split)
{
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_qmodel *q = NULL;
    sscma_loader *loader = NULL;
    int rc = 1;
    if (cli_open(a, a->positional[0], NULL, &cfg, &ctx, &runner) != 0)
        goto done;
    double t0 = now_s();
    if (sscma_qmodel_load_tflite(ctx, a->positional[1], &q) != SSCMA_OK) {
        rc = cli_fail(a, "cannot read the model");
        goto done;
    }
    if (sscma_runner_loader(runner, split, &loader) != SSCMA_OK) {
        rc = cli_fail(a, "cannot open the split");
        goto done;
    }
    sscma_verify_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    if (sscma_export_verify(q, a->positional[1], loader, &r) != SSCMA_OK) {
        rc = cli_fail(a, "evaluation failed");
        goto done;
    }
    const char *family = "";
    if (sscma_qmodel_meta(q, "family", &family) != SSCMA_OK)
        family = "";
    sscma_clear_error();
    json_t *out = json_pack("{s:s, s:s, s:s, s:I, s:{s:f}, s:f}", "model", a->positional[1], "family", family, "split",
                            split, "samples", (json_int_t)r.samples, "metrics", r.metric_name, r.metric_file,
                            "seconds", now_s() - t0);
    if (a->json) {
        cli_print_json(out);
    } else {
        printf("%s split, %lld samples, %s:\n", split, (long long)r.samples, a->positional[1]);
        cli_print_metrics(json_object_get(out, "metrics"));
        json_decref(out);
    }
    rc = 0;
done:
    sscma_qmodel_destroy(q);
    cli_close(runner, ctx, cfg);
    return rc;
}

int cli_eval(cli_args *a)
{
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    int rc = 1;
    const char *split = a->split != NULL ? a->split : "val";
    const sscma_metric *m = NULL;
    size_t len = strlen(a->positional[1]);
    if (len > 7 && strcmp(a->positional[1] + len - 7, ".tflite") == 0)
        return eval_tflite(a, split);
    if (cli_open(a, a->positional[0], a->positional[1], &cfg, &ctx, &runner) != 0)
        goto done;
    double t0 = now_s();
    if (sscma_runner_evaluate(runner, split, &m) != SSCMA_OK) {
        rc = cli_fail(a, "evaluation failed");
        goto done;
    }
    sscma_dataset *ds = NULL;
    int64_t n = 0;
    sscma_runner_dataset(runner, split, &ds);
    sscma_dataset_size(ds, &n);
    json_t *out = json_pack("{s:s, s:s, s:I}", "checkpoint", a->positional[1], "split", split, "samples",
                            (json_int_t)n);
    json_t *metrics = json_object();
    cli_metric_json(m, metrics);
    json_object_set_new(out, "metrics", metrics);
    json_object_set_new(out, "seconds", json_real(now_s() - t0));
    if (a->json) {
        cli_print_json(out);
    } else {
        printf("%s split, %lld samples:\n", split, (long long)n);
        cli_print_metrics(metrics);
        json_decref(out);
    }
    rc = 0;
done:
    cli_close(runner, ctx, cfg);
    return rc;
}
