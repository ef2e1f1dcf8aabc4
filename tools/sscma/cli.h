/*
 * The `sscma` command line: shared declarations. Every command is a thin layer over the public C API (the runner
 * builds everything from the config); this code only parses arguments and prints.
 */
#ifndef SSCMA_CLI_H
#define SSCMA_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sscma/sscma.h>

#define CLI_MAX_OVERRIDES 64
#define CLI_MAX_POSITIONAL 64

/* The options every command may take; each command says which it accepts. */
typedef struct cli_args {
    const char *cmd;                              /* "train", "eval", ... ("dataset check") */
    const char *positional[CLI_MAX_POSITIONAL];
    int n_positional;
    const char *overrides[CLI_MAX_OVERRIDES];     /* --cfg-options K=V ... */
    int n_overrides;
    const char *work_dir, *out, *format, *precision, *split, *draw, *from;
    const char *task, *classes;                   /* infer: --task cls|fomo|pfld|yolo|rtmdet, --classes a,b,c */
    const char *resume;                           /* --resume [CKPT]: "" for the last checkpoint */
    const char *accelerator;                      /* export --format vela: --accelerator-config */
    const char *observer;                         /* export: --observer minmax|moving-average|percentile */
    long calib, qat_epochs, threads, count, seed, topk;
    double threshold, iou;
    bool json, quiet, verify, help;
    /* prune: --ratio, --criterion, --round-to, --global, --prune-first/-last/-head, --layer-ratio NAME=R ... */
    double ratio;
    const char *criterion;
    long round_to;
    bool global, prune_first, prune_last, prune_head;
    const char *layer_ratios[32];
    int n_layer_ratios;
} cli_args;

/* The option table of a command: its usage text and which options it accepts (a string like "wcjq"). */
typedef struct cli_command {
    const char *name;
    int (*run)(cli_args *args);
    const char *usage;
    const char *help;
    int min_positional, max_positional;
} cli_command;

/* Prints "sscma CMD: <what>: <the library's message>" on stderr and returns 1. */
int cli_fail(const cli_args *a, const char *what);

/* Prints "sscma CMD: <formatted message>" on stderr and returns `code`. */
int cli_error(const cli_args *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Loads CONFIG, applies the --cfg-options and, when work_dir is not NULL, "work_dir", then resolves the references.
 * Returns 0 or prints the error and returns 1.
 */
int cli_load_config(const cli_args *a, const char *path, const char *work_dir, sscma_config **out);

/* Sets KEY to the JSON string VALUE (a path is never read as a number). Returns 0, or -1 with the library's message. */
int cli_set_string(sscma_config *cfg, const char *key, const char *value);

/* Writes `size` bytes to `path` atomically (a temporary file in the same directory, renamed). Returns 0 or -1. */
int cli_write_atomic(const char *path, const void *data, size_t size);

/*
 * Files that belong together (the work dir's pictures): each is written to a temporary file beside its destination
 * when added; cli_files_commit checks every destination (none may be a directory), then renames them all, so that a
 * failure part-way leaves the previous set in place; cli_files_abort removes the temporaries.
 */
#define CLI_FILES_MAX 8
typedef struct cli_files {
    int n;
    bool failed;
    char *tmp[CLI_FILES_MAX], *dst[CLI_FILES_MAX];
} cli_files;
int cli_files_add(cli_files *fs, const char *path, const void *data, size_t size);
int cli_files_commit(cli_files *fs);
void cli_files_abort(cli_files *fs);

/*
 * Draws work_dir/curves.svg from work_dir/log.jsonl: loss (on a log axis when it spans a decade) and lr per
 * iteration, validation metrics per epoch with the best epoch of `best_key` marked (the checkpoint hook's save_best;
 * NULL or "auto": the first metric) by `best_rule` (1 greater, 0 less, -1 from the name as mmengine infers it).
 */
int cli_write_curves(const char *work_dir, const char *best_key, int best_rule, cli_files *batch);

/* A context with --threads, the config's randomness.seed and a log callback that prints INFO lines unless --quiet. */
int cli_context(const cli_args *a, sscma_config *cfg, sscma_context **out);

/* Whether the config's model is LODA (no graph model: checkpoints load as load_from; docs/models.md "LODA"). */
bool cli_is_loda(sscma_config *cfg);
/* The runner of CONFIG with CHECKPOINT's weights loaded (checkpoint may be NULL). */
int cli_runner(const cli_args *a, sscma_context *ctx, sscma_config *cfg, const char *checkpoint, sscma_runner **out);

/*
 * cli_load_config (no work_dir), cli_context and cli_runner in a row: 0, or 1 after printing the error (whatever was
 * made is in the outputs, for cli_close).
 */
int cli_open(const cli_args *a, const char *path, const char *checkpoint, sscma_config **cfg, sscma_context **ctx,
             sscma_runner **runner);

/* Destroys what cli_open made (any may be NULL), the runner before its context. */
void cli_close(sscma_runner *runner, sscma_context *ctx, sscma_config *cfg);

/* Writes a JSON value on stdout (one line) and releases it. */
void cli_print_json(json_t *obj);

/* The file name of `path` without directories and extension, into buf. */
void cli_stem(const char *path, char *buf, size_t size);

/* The directory part of `path` ("." when none), into buf. */
void cli_dirname(const char *path, char *buf, size_t size);

/* true when `a` and `b` name the same existing file (device and inode; symbolic links followed). */
bool cli_same_file(const char *a, const char *b);

/*
 * Appends `word` to buf (size bytes, NUL-terminated) as one shell word: bare when it holds only safe characters,
 * otherwise in single quotes, so a printed command can be pasted back.
 */
void cli_append_shell_word(char *buf, size_t size, const char *word);

/* true when the progress bar should be drawn (stderr is a terminal and not --quiet). */
bool cli_interactive(const cli_args *a);

/* Clears a progress bar line before another message is printed (no-op when none is shown). */
void cli_clear_bar(void);
void cli_set_bar_shown(bool shown);

/* Adds the results of `metric` (per-class entries left out) to obj. */
void cli_metric_json(const sscma_metric *metric, json_t *obj);

/* Prints each "name: value" of a JSON object of metrics, indented, on stdout. */
void cli_print_metrics(json_t *metrics);

/* An RGB picture region: h x w pixels, `stride` pixels from one row to the next. */
typedef struct cli_canvas {
    uint8_t *px;
    int64_t h, w, stride;
} cli_canvas;

/* Text (text.c): the width in pixels of UTF-8 text `s` at pixel height `size`. */
int cli_text_width(const char *s, int size);
/* Draws `s` with the top of its line at (x, y), blended in colour rgb, clipped to the canvas. */
void cli_text(const cli_canvas *c, int64_t x, int64_t y, const char *s, int size, const uint8_t *rgb);
/* The same turned a quarter counter-clockwise: it reads upwards from row y, the top of its line at column x. */
void cli_text_vertical(const cli_canvas *c, int64_t x, int64_t y, const char *s, int size, const uint8_t *rgb);
/* The font in use: a TrueType file's path, or "built-in (stb_easy_font)". */
const char *cli_text_font(void);

/* A picture of up to CLI_GRID_MAX images, four per row, each with its predictions drawn and labelled. */
#define CLI_GRID_MAX 16
typedef struct cli_grid {
    uint8_t *px; /* RGB, h x w */
    int64_t h, w, cell_h, cell_w, cells, count;
    int64_t scale, img_h, img_w; /* each image enlarged `scale` times (small images: 160 px or more) */
    bool truth;                  /* each cell shows the ground truth beside the prediction */
    bool legend;                 /* a legend of the class colours under the cells */
    json_t *classes;             /* the class names (borrowed; NULL: "class N") */
} cli_grid;

typedef enum cli_draw {
    CLI_DRAW_BOXES,  /* FOMO cells and YOLO boxes as rectangles in their class colour, labelled with name and score */
    CLI_DRAW_POINTS, /* keypoints as numbered crosses */
    CLI_DRAW_RIGHT,  /* a classifier's right answer: a green frame, true and predicted class under the image */
    CLI_DRAW_WRONG,  /* a wrong one: a red frame */
    CLI_DRAW_LABEL   /* a classifier's answer where the truth is not known: the top class under the image */
} cli_draw;

/* A validation image's ground truth, drawn beside the prediction (NULL where there is none). */
typedef struct cli_truth {
    int32_t label;             /* classifier: the true class (-1: none) */
    const float *boxes;        /* x1, y1, x2, y2 per box, pixels of the image */
    const int32_t *box_labels; /* the boxes' classes */
    int32_t n_boxes;
    const float *points; /* x, y per keypoint */
    int32_t n_points;
} cli_truth;

/*
 * A grid for `images` images (at most CLI_GRID_MAX are drawn), the class names in `classes` (a JSON array, borrowed,
 * or NULL), with a ground-truth panel beside each prediction when `truth`.
 */
void cli_grid_init(cli_grid *g, int64_t images, json_t *classes, bool truth);
/*
 * Draws the next image (u8 [H, W, C]) with its results and, when the grid shows it, `t` (NULL: none); images past
 * the grid's size are ignored. -1: no memory.
 */
int cli_grid_add(cli_grid *g, const sscma_tensor *img, const sscma_prediction *r, int32_t n, cli_draw how,
                 const cli_truth *t);
/* Writes the grid as a PNG, atomically, or into `batch` (cli_files) when not NULL. 0 or -1. */
int cli_grid_write(const cli_grid *g, const char *path, cli_files *batch);
/* The grid as a PNG file's bytes in *data (malloc'd, *size bytes; the caller frees). 0, or -1 (no grid, no memory). */
int cli_grid_png(const cli_grid *g, unsigned char **data, size_t *size);
void cli_grid_free(cli_grid *g);
/*
 * The confusion matrix (rows true, columns predicted; k x k counts) as a PNG: class names on both axes, each cell
 * shaded by its row share and labelled with its count and row percentage. `classes`: the names or NULL. 0 or -1.
 */
int cli_write_confusion(const char *path, const int64_t *matrix, int32_t k, json_t *classes, cli_files *batch);

/*
 * Compiles the int8 file `tflite` with Arm's Vela (SSCMA_VELA, else `vela` on the PATH) for `accelerator` into
 * <stem>_vela.tflite beside it, and adds {"vela": {file, accelerator, cpu_operators, npu_operators, sram_kib,
 * inference_ms}} to `res`. 0, or 1 after printing why (Vela missing or failing).
 */
int cli_vela(const cli_args *a, const char *tflite, const char *accelerator, json_t *res);
/* 0 when the Vela program can be run, else 1 after printing how to install it. */
int cli_vela_check(const cli_args *a);

int cli_train(cli_args *a);
int cli_eval(cli_args *a);
int cli_export(cli_args *a);
int cli_infer(cli_args *a);
int cli_info(cli_args *a);
int cli_dataset(cli_args *a);
int cli_prune(cli_args *a);

#endif /* SSCMA_CLI_H */
