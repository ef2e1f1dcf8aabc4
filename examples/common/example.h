/*
 * Shared by the training examples: a CHECK macro that prints libsscma's message and returns 1, a monotonic clock, and
 * the command-line options they have in common. Header-only, so each example stays one file plus this one.
 */
#ifndef SSCMA_EXAMPLE_H
#define SSCMA_EXAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sscma/sscma.h>

#define CHECK(call)                                                                                            \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        if (st_ != SSCMA_OK) {                                                                                 \
            fprintf(stderr, "%s: %s\n", #call, sscma_last_error());                                            \
            return 1;                                                                                          \
        }                                                                                                      \
    } while (0)

static inline double example_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct example_args {
    long epochs, train, valid, threads, seed;
    double lr;
    const char *data, *work_dir;
    int quiet;
} example_args;

/*
 * Parses --epochs --train --valid (or --test) --threads --seed --lr --data --work-dir --quiet over the defaults in
 * *a, and creates the --work-dir folder when it does not exist (its parent must). Returns 0, or 2 after printing
 * `usage` for an unknown option or a missing value, or when the folder cannot be created.
 */
static inline int example_parse(int argc, char **argv, example_args *a, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--quiet") == 0) {
            a->quiet = 1;
            continue;
        }
        if (v != NULL && strcmp(o, "--epochs") == 0)
            a->epochs = strtol(v, NULL, 10);
        else if (v != NULL && strcmp(o, "--train") == 0)
            a->train = strtol(v, NULL, 10);
        else if (v != NULL && (strcmp(o, "--valid") == 0 || strcmp(o, "--test") == 0))
            a->valid = strtol(v, NULL, 10);
        else if (v != NULL && strcmp(o, "--threads") == 0)
            a->threads = strtol(v, NULL, 10);
        else if (v != NULL && strcmp(o, "--seed") == 0)
            a->seed = strtol(v, NULL, 10);
        else if (v != NULL && strcmp(o, "--lr") == 0)
            a->lr = strtod(v, NULL);
        else if (v != NULL && strcmp(o, "--data") == 0)
            a->data = v;
        else if (v != NULL && strcmp(o, "--work-dir") == 0)
            a->work_dir = v;
        else {
            fprintf(stderr, "usage: %s %s\n", argv[0], usage);
            return 2;
        }
        i++;
    }
    if (a->work_dir != NULL && mkdir(a->work_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: --work-dir %s: %s\n", argv[0], a->work_dir, strerror(errno));
        return 2;
    }
    return 0;
}

/*
 * The work dir: --work-dir as given, else "work_dirs/<name>", made here (an existing one is kept). The returned
 * string is the option's or a static buffer.
 */
static inline const char *example_work_dir(const example_args *a, const char *name)
{
    static char dir[512];
    if (a->work_dir != NULL)
        return a->work_dir;
    snprintf(dir, sizeof dir, "work_dirs/%s", name);
    (void)(mkdir("work_dirs", 0755) == 0 || errno == EEXIST), (void)(mkdir(dir, 0755) == 0 || errno == EEXIST);
    return dir;
}

/* A context with the thread count, seed and log level of the options. */
static inline sscma_status example_context(const example_args *a, sscma_context **ctx)
{
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = (int32_t)a->threads;
    opt.seed = (uint64_t)a->seed;
    opt.log_level = a->quiet ? SSCMA_LOG_WARNING : SSCMA_LOG_INFO;
    return sscma_context_create(&opt, ctx);
}

/*
 * Composes the example's data set from Fashion-MNIST's training split with compose_config (sscma_compose_detection)
 * unless `marker` (its last file) already exists.
 */
static inline sscma_status example_compose_once(sscma_context *ctx, const char *marker, const char *compose_config,
                                                int quiet)
{
    FILE *f = fopen(marker, "r");
    if (f != NULL) {
        fclose(f);
        return SSCMA_OK;
    }
    sscma_dataset *source = NULL;
    sscma_status st = sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"train\"}", &source);
    if (st == SSCMA_OK)
        st = sscma_compose_detection(source, compose_config);
    sscma_dataset_destroy(source);
    if (st == SSCMA_OK && !quiet)
        fprintf(stderr, "composed the data set up to %s\n", marker);
    return st;
}

#endif /* SSCMA_EXAMPLE_H */
