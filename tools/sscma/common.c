/* The `sscma` command line: helpers shared by the commands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static bool bar_shown;

void cli_set_bar_shown(bool shown)
{
    bar_shown = shown;
}

void cli_clear_bar(void)
{
    if (bar_shown) {
        fputs("\r\033[K", stderr);
        bar_shown = false;
    }
}

int cli_fail(const cli_args *a, const char *what)
{
    cli_clear_bar();
    const char *msg = sscma_last_error();
    fprintf(stderr, "sscma %s: %s%s%s\n", a->cmd, what, msg[0] ? ": " : "", msg);
    return 1;
}

int cli_error(const cli_args *a, int code, const char *fmt, ...)
{
    cli_clear_bar();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sscma %s: ", a->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* KEY="VALUE" with VALUE as a JSON string, so that a path is never read as a number. */
int cli_set_string(sscma_config *cfg, const char *key, const char *value)
{
    json_t *s = json_string(value);
    char *text = s != NULL ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    if (text == NULL)
        return -1;
    size_t n = strlen(key) + strlen(text) + 2;
    char *assignment = malloc(n);
    int rc = -1;
    if (assignment != NULL) {
        snprintf(assignment, n, "%s=%s", key, text);
        rc = sscma_config_set(cfg, assignment) == SSCMA_OK ? 0 : -1;
    }
    free(assignment);
    free(text);
    return rc;
}

int cli_load_config(const cli_args *a, const char *path, const char *work_dir, sscma_config **out)
{
    sscma_config *cfg = NULL;
    if (sscma_config_load(path, &cfg) != SSCMA_OK)
        return cli_fail(a, "cannot load the config");
    for (int i = 0; i < a->n_overrides; i++)
        if (sscma_config_set(cfg, a->overrides[i]) != SSCMA_OK) {
            int rc = cli_fail(a, "--cfg-options");
            sscma_config_destroy(cfg);
            return rc;
        }
    if (work_dir != NULL && cli_set_string(cfg, "work_dir", work_dir) != 0) {
        int rc = cli_fail(a, "work_dir");
        sscma_config_destroy(cfg);
        return rc;
    }
    if (sscma_config_resolve(cfg) != SSCMA_OK) {
        int rc = cli_fail(a, path);
        sscma_config_destroy(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

typedef struct log_state {
    bool quiet;
} log_state;

static log_state log_st;

static void on_log(void *user, sscma_log_level level, const char *message)
{
    const log_state *s = user;
    if (level < SSCMA_LOG_WARNING && s->quiet)
        return;
    cli_clear_bar();
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (level == SSCMA_LOG_INFO)
        fprintf(stderr, "%s\n", message);
    else
        fprintf(stderr, "sscma: %s: %s\n", names[level <= SSCMA_LOG_ERROR ? level : SSCMA_LOG_ERROR], message);
}

int cli_context(const cli_args *a, sscma_config *cfg, sscma_context **out)
{
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = (int32_t)a->threads;
    const char *seed = NULL;
    if (cfg != NULL && sscma_config_get(cfg, "randomness.seed", &seed) == SSCMA_OK && seed != NULL) {
        char *end = NULL;
        unsigned long long v = strtoull(seed, &end, 10);
        if (end == seed || *end != '\0')
            return cli_error(a, 1, "randomness.seed: expected a non-negative integer, got %s", seed);
        opt.seed = v;
    }
    sscma_clear_error();
    log_st.quiet = a->quiet; /* --json concerns stdout; progress and logs go to stderr */
    opt.log_level = SSCMA_LOG_INFO;
    opt.log_fn = on_log;
    opt.log_user_data = &log_st;
    if (sscma_context_create(&opt, out) != SSCMA_OK)
        return cli_fail(a, "cannot create the context");
    return 0;
}

/* Whether the config's model is LODA, a histogram detector with no graph model (docs/models.md "LODA"). */
bool cli_is_loda(sscma_config *cfg)
{
    const char *type = NULL;
    bool loda = sscma_config_get(cfg, "model.type", &type) == SSCMA_OK &&
                (strcmp(type, "\"LODA\"") == 0 || strcmp(type, "\"sscma.LODA\"") == 0);
    sscma_clear_error();
    return loda;
}

int cli_runner(const cli_args *a, sscma_context *ctx, sscma_config *cfg, const char *checkpoint, sscma_runner **out)
{
    sscma_runner *r = NULL;
    /* LODA's state is no model's weights: the runner reads its checkpoint as load_from */
    const bool loda = checkpoint != NULL && cli_is_loda(cfg);
    if (loda && cli_set_string(cfg, "load_from", checkpoint) != 0)
        return cli_fail(a, "load_from");
    if (sscma_runner_create(ctx, cfg, &r) != SSCMA_OK)
        return cli_fail(a, loda ? "cannot load the checkpoint" : "cannot build the model");
    if (checkpoint != NULL && !loda) {
        sscma_model *m = NULL;
        sscma_runner_model(r, &m);
        if (sscma_model_load(m, checkpoint) != SSCMA_OK) {
            sscma_runner_destroy(r);
            return cli_fail(a, "cannot load the checkpoint");
        }
    }
    *out = r;
    return 0;
}

int cli_open(const cli_args *a, const char *path, const char *checkpoint, sscma_config **cfg, sscma_context **ctx,
             sscma_runner **runner)
{
    if (cli_load_config(a, path, NULL, cfg) != 0)
        return 1;
    return cli_context(a, *cfg, ctx) != 0 || cli_runner(a, *ctx, *cfg, checkpoint, runner) != 0;
}

void cli_close(sscma_runner *runner, sscma_context *ctx, sscma_config *cfg)
{
    sscma_runner_destroy(runner); /* before the context it was made from */
    sscma_context_destroy(ctx);
    sscma_config_destroy(cfg);
}

void cli_print_json(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(obj);
    fflush(stdout);
}

void cli_stem(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    snprintf(buf, size, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot != NULL && dot != buf)
        *dot = '\0';
}

void cli_dirname(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

bool cli_interactive(const cli_args *a)
{
    return !a->quiet && isatty(STDERR_FILENO);
}

void cli_metric_json(const sscma_metric *metric, json_t *obj)
{
    int32_t n = 0;
    sscma_metric_result_count(metric, &n);
    for (int32_t i = 0; i < n; i++) {
        const char *name = NULL;
        double v = 0.0;
        sscma_metric_result(metric, i, &name, &v);
        if (strncmp(name, "precision/", 10) != 0 && strncmp(name, "recall/", 7) != 0)
            json_object_set_new(obj, name, json_real(v));
    }
}

int cli_write_atomic(const char *path, const void *data, size_t size)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    fchmod(fd, 0644); /* mkstemp's 0600 is for secrets; these files are shared like any output */
    FILE *f = fdopen(fd, "wb");
    bool ok = f != NULL && fwrite(data, 1, size, f) == size && fflush(f) == 0 && fsync(fd) == 0;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

/* A temporary file beside `path` holding the data (fsynced); its name is malloc'd into *tmp_out. */
static int write_temporary(const char *path, const void *data, size_t size, char **tmp_out)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    bool ok = f != NULL && fwrite(data, 1, size, f) == size && fflush(f) == 0 && fsync(fd) == 0;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    *tmp_out = tmp;
    return 0;
}

int cli_files_add(cli_files *fs, const char *path, const void *data, size_t size)
{
    char *tmp = NULL, *dst = NULL;
    if (fs->failed || fs->n == CLI_FILES_MAX || (dst = strdup(path)) == NULL ||
        write_temporary(path, data, size, &tmp) != 0) {
        free(dst);
        fs->failed = true;
        return -1;
    }
    fs->tmp[fs->n] = tmp, fs->dst[fs->n++] = dst;
    return 0;
}

void cli_files_abort(cli_files *fs)
{
    for (int i = 0; i < fs->n; i++) {
        unlink(fs->tmp[i]);
        free(fs->tmp[i]), free(fs->dst[i]);
    }
    fs->n = 0;
}

int cli_files_commit(cli_files *fs)
{
    bool ok = !fs->failed;
    for (int i = 0; ok && i < fs->n; i++) { /* before any rename: a destination a rename would fail on */
        struct stat st;
        ok = lstat(fs->dst[i], &st) != 0 || S_ISREG(st.st_mode) || S_ISLNK(st.st_mode);
        if (!ok)
            errno = EISDIR;
    }
    for (int i = 0; ok && i < fs->n; i++)
        ok = rename(fs->tmp[i], fs->dst[i]) == 0;
    int saved = errno;
    cli_files_abort(fs); /* the temporaries left after a failure; none after success */
    errno = saved;
    return ok ? 0 : -1;
}

void cli_print_metrics(json_t *metrics)
{
    const char *key;
    json_t *v;
    json_object_foreach(metrics, key, v)
        printf("  %s: %.4f\n", key, json_real_value(v));
}

bool cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void cli_append_shell_word(char *buf, size_t size, const char *word)
{
    size_t n = strlen(buf);
    bool bare = word[0] != '\0';
    for (const char *c = word; *c != '\0'; c++)
        bare = bare && (isalnum((unsigned char)*c) || strchr("@%+=:,./_-", *c) != NULL);
    if (n > 0 && n + 1 < size)
        buf[n++] = ' ';
    if (!bare && n + 1 < size)
        buf[n++] = '\'';
    for (const char *c = word; *c != '\0' && n + 4 < size; c++) {
        if (!bare && *c == '\'') { /* ' -> '\'' */
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    if (!bare && n + 1 < size)
        buf[n++] = '\'';
    buf[n < size ? n : size - 1] = '\0';
}
