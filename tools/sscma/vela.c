/*
 * sscma export --format vela: the int8 TFLite file compiled by Arm's Vela for an Ethos-U NPU, as SSCMA's export
 * gives `*_vela.tflite`. Vela is a Python program (PyPI ethos-u-vela), run as a child process: the one named by
 * SSCMA_VELA, else `vela` on the PATH. It writes into a fresh folder beside the output; its `_vela.tflite` is renamed
 * into place and everything else it wrote is removed with the folder, so nothing but the asked-for file changes.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define VELA_OUTPUT_CAP (1 << 20)

/* Whether `name` runs: a path that is executable, or a name found in PATH's folders. */
static bool findable(const char *name)
{
    if (strchr(name, '/') != NULL)
        return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    if (path == NULL)
        return false;
    char dir[4096];
    for (const char *p = path; *p != '\0';) {
        size_t n = strcspn(p, ":");
        char file[4400];
        snprintf(dir, sizeof dir, "%.*s", (int)n, p);
        snprintf(file, sizeof file, "%s/%s", n > 0 ? dir : ".", name);
        if (access(file, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* Runs argv, its stdout and stderr collected in *text (malloc'd). The exit status, or -1 when it could not run. */
static int run_captured(char *const argv[], char **text)
{
    int fd[2];
    *text = NULL;
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO), dup2(fd[1], STDERR_FILENO);
        close(fd[0]), close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t n = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    for (;;) {
        char chunk[8192];
        ssize_t got = read(fd[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (buf != NULL && n + (size_t)got > cap && cap < VELA_OUTPUT_CAP) {
            char *more = realloc(buf, 2 * cap + 1);
            if (more != NULL)
                buf = more, cap *= 2;
        }
        if (buf != NULL && n + (size_t)got <= cap)
            memcpy(buf + n, chunk, (size_t)got), n += (size_t)got; /* past the cap the rest is read and dropped */
    }
    close(fd[0]);
    if (buf != NULL)
        buf[n] = '\0';
    *text = buf;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The number after `key` on its line of Vela's summary ("CPU operators = 0 (0.0%)"), or -1. */
static double summary_number(const char *text, const char *key)
{
    const char *p = text != NULL ? strstr(text, key) : NULL;
    if (p == NULL)
        return -1.0;
    p += strlen(key);
    while (*p == ' ' || *p == '=' || *p == '\t')
        p++;
    char *end = NULL;
    double v = strtod(p, &end);
    return end != p ? v : -1.0;
}

/* Column `name` of the first data row of Vela's summary CSV, or -1. */
static double csv_column(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1.0;
    static char head[65536], row[65536];
    double v = -1.0;
    if (fgets(head, sizeof head, f) != NULL && fgets(row, sizeof row, f) != NULL) {
        char *hs = NULL, *rs = NULL;
        for (char *h = strtok_r(head, ",\r\n", &hs), *r = strtok_r(row, ",\r\n", &rs); h != NULL && r != NULL;
             h = strtok_r(NULL, ",\r\n", &hs), r = strtok_r(NULL, ",\r\n", &rs))
            if (strcmp(h, name) == 0) {
                v = strtod(r, NULL);
                break;
            }
    }
    fclose(f);
    return v;
}

/* Removes folder `dir` (made by mkdtemp here) and the plain files Vela wrote in it. */
static void remove_scratch(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char file[4800];
            snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
            unlink(file);
        }
        closedir(d);
    }
    rmdir(dir);
}

static const char *vela_program(void)
{
    const char *vela = getenv("SSCMA_VELA");
    return vela != NULL && vela[0] != '\0' ? vela : "vela";
}

int cli_vela_check(const cli_args *a)
{
    const char *vela = vela_program();
    if (!findable(vela))
        return cli_error(a, 1, "--format vela needs Arm's Vela compiler, and '%s' is not %s: install it with "
                               "`pip install ethos-u-vela` (in a virtual environment) and put its bin folder on "
                               "PATH, or set SSCMA_VELA to the vela program",
                         vela, strchr(vela, '/') != NULL ? "an executable file" : "on the PATH");
    return 0;
}

int cli_vela(const cli_args *a, const char *tflite, const char *accelerator, json_t *res)
{
    const char *vela = vela_program();
    if (cli_vela_check(a) != 0)
        return 1;
    char dir[4096], stem[256], scratch[4400], produced[4800], dest[4800], csv[4800];
    cli_dirname(tflite, dir, sizeof dir);
    cli_stem(tflite, stem, sizeof stem);
    snprintf(scratch, sizeof scratch, "%s/.sscma-vela-XXXXXX", dir);
    if (mkdtemp(scratch) == NULL)
        return cli_error(a, 1, "%s: cannot create a folder for Vela's output: %s", dir, strerror(errno));
    char *argv[] = {(char *)vela, "--accelerator-config", (char *)accelerator, "--output-dir", scratch,
                    (char *)tflite, NULL};
    char *text = NULL;
    int status = run_captured(argv, &text);
    snprintf(produced, sizeof produced, "%s/%s_vela.tflite", scratch, stem);
    snprintf(dest, sizeof dest, "%s/%s_vela.tflite", dir, stem);
    int rc = 0;
    if (status != 0 || access(produced, R_OK) != 0) {
        const char *last = text != NULL ? text + strlen(text) : NULL; /* Vela's last line says why */
        while (last != NULL && last > text && (last[-1] == '\n' || last[-1] == ' '))
            last--;
        const char *start = last;
        while (start != NULL && start > text && start[-1] != '\n')
            start--;
        rc = cli_error(a, 1, "Vela (%s) failed on %s with status %d: %.*s", vela, tflite, status,
                       start != NULL ? (int)(last - start) : 0, start != NULL ? start : "");
    } else {
        /* the summary CSV Vela writes beside its output: SRAM and the estimated time of one inference */
        DIR *d = opendir(scratch);
        csv[0] = '\0';
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n > 4 && strcmp(e->d_name + n - 4, ".csv") == 0 && strstr(e->d_name, "_summary_") != NULL)
                snprintf(csv, sizeof csv, "%s/%s", scratch, e->d_name);
        }
        if (d != NULL)
            closedir(d);
        const double cpu = summary_number(text, "CPU operators"), npu = summary_number(text, "NPU operators");
        const double sram = csv[0] ? csv_column(csv, "sram_memory_used") : -1.0,
                     seconds = csv[0] ? csv_column(csv, "inference_time") : -1.0;
        if (rename(produced, dest) != 0) {
            rc = cli_error(a, 1, "%s: cannot move Vela's output into place: %s", dest, strerror(errno));
        } else {
            json_t *v = json_pack("{s:s, s:s, s:I, s:I}", "file", dest, "accelerator", accelerator, "cpu_operators",
                                  (json_int_t)cpu, "npu_operators", (json_int_t)npu);
            if (sram >= 0.0)
                json_object_set_new(v, "sram_kib", json_real(sram));
            if (seconds >= 0.0)
                json_object_set_new(v, "inference_ms", json_real(1e3 * seconds));
            json_object_set_new(res, "vela", v);
            if (cpu > 0 && !a->quiet) { /* Vela's own words on what it left to the CPU */
                fprintf(stderr, "sscma export: Vela left %.0f operators on the CPU:\n", cpu);
                for (const char *line = text; line != NULL && *line != '\0';) {
                    const char *end = strchr(line, '\n');
                    size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
                    if (n > 8 && strncmp(line, "Warning:", 8) == 0 && strstr(line, "configuration") == NULL &&
                        strstr(line, "memory mode") == NULL)
                        fprintf(stderr, "  %.*s\n", (int)n, line);
                    line = end != NULL ? end + 1 : NULL;
                }
            }
        }
    }
    free(text);
    remove_scratch(scratch);
    return rc;
}
