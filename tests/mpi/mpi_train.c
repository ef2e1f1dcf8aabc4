/*
 * The data-parallel trainer's equivalence check (tests/mpi/run-mpi.sh runs it; docs/distributed.md): public API only,
 * the job is whatever launched the process (mpirun -np N, or none).
 *
 *   mpi_train data DIR [SIDE N]              writes the synthetic MNIST-style IDX set (N = 64 training images of
 *                                            SIDE = 16 pixels square)
 *   mpi_train train DIR OUT BATCH MODEL [THREADS]
 *                                            trains one epoch with per-rank batch BATCH (THREADS compute threads per
 *                                            process, default 1); each rank writes its final parameters and buffers to
 *                                            OUT.rank<R> (raw float32, parameter order)
 *   mpi_train compare A B TOL                exit 0 when the files are equal within TOL (max |a - b| / (1 + |b|)),
 *                                            printing the largest difference; "bits" for TOL asks for equal bytes
 *
 * MODEL: "frozen-bn" (MobileNetV2 with norm_eval: the batch norms are fixed affine maps, so nothing depends on how the
 * batch is split) or "syncbn" (norm_cfg SyncBN: batch statistics over the whole job). No dropout (its masks are drawn
 * per process). The backbone stops at stage 2 (4x4 maps): batch statistics of 8 samples on the 1x1 maps of the full
 * network are so ill-conditioned that one process's own rounding noise grows chaotically (its loss climbs from 1.4 to
 * 20 in 8 steps), which would hide what this test measures. The same global batch: 1 process x 8 against 2 x 4 and
 * 4 x 2.
 *
 * Environment (the failure and resume checks): MPI_TRAIN_EPOCHS (default 1); MPI_TRAIN_WORK_DIR (epoch checkpoints
 * there, and mid.ckpt when the run is cancelled); MPI_TRAIN_RESUME (a checkpoint to resume from);
 * MPI_TRAIN_CANCEL_RANK (that rank's progress callback cancels at the second iteration); MPI_TRAIN_SLEEP_RANK (that
 * rank's progress callback sleeps MPI_TRAIN_SLEEP_S seconds, default 30, at the second iteration: a stuck rank for the
 * collective timeout, SSCMA_MPI_TIMEOUT). MPI_TRAIN_VALIDATE=1 adds a validation loader (the training images in order,
 * batch 5, Accuracy top-1 and top-2): every validation's results, the trainer's after each epoch and one
 * sscma_trainer_validate after training, go to OUT.metrics.rank<R> as text ("epoch E NAME VALUE", "final NAME VALUE",
 * %.17g). The trainer's "data parallel" log lines go to stderr.
 *
 * MODEL "bench" is the scaling figure of docs/benchmarks.md: the whole MobileNetV2-0.35 classifier on SIDE x SIDE
 * gray images with per-rank batch norms; rank 0 prints images/s (the global batch) and the trainer's reduction time.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sscma/sscma.h>

#define SIDE 16
#define N_TRAIN 64

static int fail(const char *what)
{
    fprintf(stderr, "mpi_train: %s: %s\n", what, sscma_last_error());
    return 1;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int write_file(const char *path, const unsigned char *head, size_t head_bytes, const void *data, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(head, 1, head_bytes, f) == head_bytes && fwrite(data, 1, bytes, f) == bytes;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Four classes: a bright 5x5 block in one quadrant, on noise; train and test splits. */
static int write_data(const char *dir, int side, int n_train)
{
    static const char *const splits[2] = {"train", "t10k"};
    for (int s = 0; s < 2; s++) {
        int n = s == 0 ? n_train : 16;
        unsigned char *pixels = malloc((size_t)n * side * side), *labels = malloc((size_t)n);
        if (pixels == NULL || labels == NULL)
            return 1;
        uint32_t r = 12345u + (uint32_t)s;
        for (int i = 0; i < n; i++) {
            int c = (i * 7 + i / 4) % 4;
            labels[i] = (unsigned char)c;
            int oy = (c / 2) * side / 2 + 1, ox = (c % 2) * side / 2 + 1;
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++) {
                    r = r * 1664525u + 1013904223u;
                    int v = (int)(r >> 26) + (y >= oy && y < oy + 5 && x >= ox && x < ox + 5 ? 150 : 0);
                    pixels[(size_t)i * side * side + (size_t)(y * side + x)] = (unsigned char)v;
                }
        }
        char path[1024];
        unsigned char head[16];
        put_be32(head, 0x803), put_be32(head + 4, (uint32_t)n), put_be32(head + 8, side), put_be32(head + 12, side);
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, splits[s]);
        int rc = write_file(path, head, 16, pixels, (size_t)n * side * side);
        put_be32(head, 0x801), put_be32(head + 4, (uint32_t)n);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, splits[s]);
        rc |= write_file(path, head, 8, labels, (size_t)n);
        free(pixels), free(labels);
        if (rc != 0) {
            fprintf(stderr, "mpi_train: cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}

/* The side of the set's images (the IDX header), 0 when unreadable. */
static int data_side(const char *dir)
{
    char path[1024];
    unsigned char head[16];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "rb");
    size_t got = f != NULL ? fread(head, 1, sizeof head, f) : 0;
    if (f != NULL)
        fclose(f);
    return got == sizeof head ? (int)((uint32_t)head[12] << 24 | (uint32_t)head[13] << 16 | (uint32_t)head[14] << 8 |
                                      head[15])
                              : 0;
}

static int launch_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", NULL};
    for (int i = 0; vars[i] != NULL; i++)
        if (getenv(vars[i]) != NULL)
            return atoi(getenv(vars[i]));
    return 0;
}

/* The process's rank as its launcher states it (0 outside a job). */
static int launch_rank(void);

static int on_progress(const sscma_train_progress *p, void *user)
{
    double *img_s = user;
    *img_s = p->images_per_s;
    const char *cancel = getenv("MPI_TRAIN_CANCEL_RANK"), *stuck = getenv("MPI_TRAIN_SLEEP_RANK");
    if (stuck != NULL && atoi(stuck) == launch_rank() && p->global_iter == 2)
        sleep(getenv("MPI_TRAIN_SLEEP_S") != NULL ? (unsigned)atoi(getenv("MPI_TRAIN_SLEEP_S")) : 30u);
    return cancel != NULL && atoi(cancel) == launch_rank() && p->global_iter == 2;
}

/* Appends the metric's results to `f`, each line starting with `prefix`. */
static void write_metric(FILE *f, const char *prefix, const sscma_metric *m)
{
    int32_t n = 0;
    sscma_metric_result_count(m, &n);
    for (int32_t i = 0; i < n; i++) {
        const char *name = NULL;
        double value = 0.0;
        sscma_metric_result(m, i, &name, &value);
        fprintf(f, "%s %s %.17g\n", prefix, name, value);
    }
}

static int on_validation(sscma_trainer *trainer, int64_t epoch, const sscma_metric *metric, void *user)
{
    (void)trainer;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "epoch %lld", (long long)epoch);
    write_metric(user, prefix, metric);
    return 0;
}

static void on_log(void *user, sscma_log_level level, const char *message)
{
    (void)level, (void)user;
    if (strstr(message, "data parallel") != NULL)
        fprintf(stderr, "%s\n", message);
}

static int train(const char *dir, const char *out, int batch, const char *model_kind, int threads)
{
    const bool bench = strcmp(model_kind, "bench") == 0;
    const int side = data_side(dir);
    const char *norm = strcmp(model_kind, "syncbn") == 0      ? "\"out_indices\": [2], \"norm_cfg\": {\"type\": \"SyncBN\"}"
                       : strcmp(model_kind, "frozen-bn") == 0 ? "\"out_indices\": [2], \"norm_eval\": true"
                       : bench                                ? "\"norm_eval\": false"
                                                              : NULL;
    if (norm == NULL) {
        fprintf(stderr, "mpi_train: model %s: expected frozen-bn or syncbn\n", model_kind);
        return 2;
    }
    sscma_context_options opts;
    sscma_context_options_init(&opts, sizeof opts);
    opts.num_threads = threads;
    opts.seed = 7;
    sscma_context *ctx = NULL;
    sscma_dataset *ds = NULL;
    sscma_loader *loader = NULL, *val_loader = NULL;
    sscma_model *model = NULL;
    FILE *metrics = NULL;
    sscma_trainer *trainer = NULL;
    char cfg[1024];
    int rc = 1;
    if (sscma_context_create(&opts, &ctx) != SSCMA_OK)
        return fail("context");
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"train\"}", dir);
    if (sscma_dataset_open(ctx, cfg, &ds) != SSCMA_OK) {
        rc = fail("dataset");
        goto done;
    }
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": %d, \"shuffle\": true, \"seed\": 3, \"pipeline\": ["
             "{\"type\": \"RandomCrop\", \"size\": %d, \"padding\": 1},"
             "{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}",
             batch, side);
    if (sscma_loader_create(ctx, ds, cfg, &loader) != SSCMA_OK) {
        rc = fail("loader");
        goto done;
    }
    snprintf(cfg, sizeof cfg,
             "{\"type\": \"ImageClassifier\", \"input_size\": [%d, %d],"
             " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1, %s},"
             " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4}}",
             side, side, norm);
    const bool validate = getenv("MPI_TRAIN_VALIDATE") != NULL;
    if (validate && sscma_loader_create(ctx, ds, "{\"batch_size\": 5, \"shuffle\": false, \"pipeline\": ["
                                        "{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}",
                                        &val_loader) != SSCMA_OK) {
        rc = fail("validation loader");
        goto done;
    }
    if (sscma_model_create(ctx, cfg, &model) != SSCMA_OK) {
        rc = fail("model");
        goto done;
    }
    /* epochs of 8 global batches; momentum and weight decay so that every step's gradient matters later */
    const char *epochs = getenv("MPI_TRAIN_EPOCHS"), *wd = getenv("MPI_TRAIN_WORK_DIR");
    const char *resume = getenv("MPI_TRAIN_RESUME");
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %d, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.05,"
             " \"momentum\": 0.9, \"weight_decay\": 0.0001}}, \"default_hooks\": {\"logger\": null,"
             " \"checkpoint\": %s}%s%s%s%s}",
             epochs != NULL ? atoi(epochs) : 1, wd != NULL ? "{\"interval\": 1}" : "null",
             validate ? ", \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1, 2]}" : "",
             wd != NULL ? ", \"work_dir\": \"" : "", wd != NULL ? wd : "", wd != NULL ? "\"" : "");
    if (sscma_trainer_create(model, loader, val_loader, cfg, &trainer) != SSCMA_OK) {
        rc = fail("trainer");
        goto done;
    }
    if (resume != NULL && sscma_trainer_resume(trainer, resume) != SSCMA_OK) {
        rc = fail("resume");
        goto done;
    }
    double img_s = 0.0;
    sscma_trainer_set_callback(trainer, on_progress, &img_s);
    sscma_context_set_log_callback(ctx, on_log, NULL);
    sscma_context_set_log_level(ctx, validate ? SSCMA_LOG_DEBUG : SSCMA_LOG_INFO); /* DEBUG: the shard sizes */
    char path[1024];
    if (validate) {
        snprintf(path, sizeof path, "%s.metrics.rank%d", out, launch_rank());
        if ((metrics = fopen(path, "w")) == NULL) {
            fprintf(stderr, "mpi_train: cannot write %s\n", path);
            goto done;
        }
        sscma_trainer_set_val_callback(trainer, on_validation, metrics);
    }
    sscma_status st = sscma_trainer_train(trainer);
    if (st == SSCMA_ERR_CANCELLED && wd != NULL) { /* a mid-epoch checkpoint (resume checks) */
        char mid[1024];
        snprintf(mid, sizeof mid, "%s/mid.ckpt", wd);
        if (sscma_trainer_save(trainer, mid) != SSCMA_OK)
            fail("save");
    }
    if (st != SSCMA_OK) {
        rc = fail("train");
        goto done;
    }
    const sscma_metric *final = NULL;
    if (validate) {
        if (sscma_trainer_validate(trainer, &final) != SSCMA_OK) {
            rc = fail("validate");
            goto done;
        }
        write_metric(metrics, "final", final);
    }
    if (bench && launch_rank() == 0)
        printf("%d x %d threads, batch %d per process: %.1f images/s\n", atoi(getenv("OMPI_COMM_WORLD_SIZE") != NULL
               ? getenv("OMPI_COMM_WORLD_SIZE") : "1"), threads, batch, img_s);
    snprintf(path, sizeof path, "%s.rank%d", out, launch_rank());
    FILE *f = fopen(path, "wb");
    int32_t n = 0;
    sscma_model_param_count(model, &n);
    int ok = f != NULL;
    for (int32_t i = 0; ok && i < n; i++) {
        sscma_tensor *value = NULL;
        void *data = NULL;
        size_t bytes = 0;
        sscma_model_param(model, i, NULL, NULL, &value, NULL);
        sscma_tensor_data(value, &data);
        sscma_tensor_size_bytes(value, &bytes);
        ok = fwrite(data, 1, bytes, f) == bytes;
    }
    if (f == NULL || fclose(f) != 0 || !ok)
        fprintf(stderr, "mpi_train: cannot write %s\n", path);
    else
        rc = 0;
done:
    if (metrics != NULL && fclose(metrics) != 0)
        rc = 1;
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(val_loader);
    sscma_loader_destroy(loader);
    sscma_dataset_destroy(ds);
    sscma_context_destroy(ctx);
    return rc;
}

static float *read_floats(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *v = bytes > 0 ? malloc((size_t)bytes) : NULL;
    if (v != NULL && fread(v, 1, (size_t)bytes, f) != (size_t)bytes) {
        free(v);
        v = NULL;
    }
    fclose(f);
    *n = (size_t)bytes / sizeof(float);
    return v;
}

static int compare(const char *a_path, const char *b_path, const char *tol_text)
{
    size_t na = 0, nb = 0;
    float *a = read_floats(a_path, &na), *b = read_floats(b_path, &nb);
    if (a == NULL || b == NULL || na != nb) {
        fprintf(stderr, "mpi_train: %s and %s: unreadable or of different sizes (%zu, %zu floats)\n", a_path, b_path,
                na, nb);
        free(a), free(b);
        return 1;
    }
    bool bits = strcmp(tol_text, "bits") == 0;
    double tol = bits ? 0.0 : atof(tol_text), worst = 0.0;
    size_t at = 0, differ = 0;
    for (size_t i = 0; i < na; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)b[i]));
        differ += memcmp(&a[i], &b[i], sizeof a[i]) != 0;
        if (!(d <= worst)) /* NaN counts as the worst */
            worst = d, at = i;
    }
    printf("%s vs %s: %zu of %zu floats differ; largest |a-b|/(1+|b|) %.3g at %zu (%.9g vs %.9g)\n", a_path, b_path,
           differ, na, worst, at, (double)a[at], (double)b[at]);
    free(a), free(b);
    return bits ? differ != 0 : !(worst <= tol);
}

int main(int argc, char **argv)
{
    if ((argc == 3 || argc == 5) && strcmp(argv[1], "data") == 0)
        return write_data(argv[2], argc == 5 ? atoi(argv[3]) : SIDE, argc == 5 ? atoi(argv[4]) : N_TRAIN);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "train") == 0)
        return train(argv[2], argv[3], atoi(argv[4]), argv[5], argc == 7 ? atoi(argv[6]) : 1);
    if (argc == 5 && strcmp(argv[1], "compare") == 0)
        return compare(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: mpi_train data DIR [SIDE N] | train DIR OUT BATCH frozen-bn|syncbn|bench [THREADS] | "
            "compare A B TOL|bits\n");
    return 2;
}
