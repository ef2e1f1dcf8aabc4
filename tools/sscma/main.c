/*
 * sscma: the command line of libsscma, for people who know SSCMA's tools/train.py and tools/export.py.
 *
 *   sscma train   CONFIG [--work-dir DIR] [--cfg-options K=V ...] [--resume [CKPT]] [--threads N] [--quiet] [--json]
 *   sscma eval    CONFIG (CHECKPOINT | MODEL.tflite) [--cfg-options K=V ...] [--split val|test] [--json]
 *   sscma export  CONFIG CHECKPOINT --format onnx|tflite|c [--precision float32|int8] [--calib N] [--observer O]
 *                 [--qat-epochs N] [--verify] [--out FILE]
 *   sscma infer   (CONFIG CHECKPOINT | MODEL.tflite) IMAGE... [--json] [--draw OUT.png] [--task T] [--classes a,b]
 *   sscma prune   CONFIG CHECKPOINT --out DIR [--ratio R] [--criterion l1|l2|bn_scale|fpgm] [...]
 *   sscma info    (CONFIG [--cfg-options K=V ...] | MODEL.tflite) [--json]
 *   sscma dataset check|stats CONFIG [--split train|val|test] [--json]
 *   sscma dataset compose --from CONFIG_OR_DIR --out DIR [--count N] [--seed S] [--cfg-options K=V ...]
 *   sscma config convert FILE.py [-o OUT.json] [--strict] [--raw]
 *
 * docs/cli.md is the reference. Exit status: 0 on success, 1 when the library reports an error (its message on
 * stderr), 2 for a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const cli_command commands[] = {
    {"train", cli_train,
     "train CONFIG [--work-dir DIR] [--cfg-options K=V ...] [--resume [CKPT]] [--threads N] [--quiet] [--json]",
     "Trains the model of CONFIG. The work dir (default work_dirs/<config name>) receives config.json (resolved),\n"
     "log.jsonl, checkpoints (epoch_N.ckpt, best_<metric>_epoch_N.ckpt, last_checkpoint) and curves.svg.\n"
     "--resume continues from CKPT, or from the work dir's last checkpoint.",
     1, 1},
    {"eval", cli_eval, "eval CONFIG (CHECKPOINT | MODEL.tflite) [--cfg-options K=V ...] [--split val|test] [--threads N] [--json]",
     "Measures the config's val_evaluator on the validation (or test) split with CHECKPOINT's weights.", 2, 2},
    {"export", cli_export,
     "export CONFIG CHECKPOINT --format onnx|tflite|c|vela [--precision float32|int8] [--calib N]\n"
     "             [--observer minmax|moving-average|percentile] [--qat-epochs N]\n"
     "             [--verify] [--out FILE] [--accelerator-config ethos-u55-64|...] [--cfg-options K=V ...]\n"
     "             [--threads N] [--json]",
     "Exports CHECKPOINT's model. int8: post-training quantization on N calibration batches of the validation\n"
     "loader (default 32), or --qat-epochs N of quantization-aware training on the training loader first.\n"
     "--verify reads the TFLite bytes back (for --format tflite, c and vela), runs them on the validation split\n"
     "and reports the differences and the task metric of both. Default --out: beside the checkpoint.\n"
     "vela: the int8 TFLite file, then Arm's Vela (pip install ethos-u-vela; SSCMA_VELA names the program)\n"
     "compiles it for --accelerator-config (default ethos-u55-64, Grove Vision AI V2) into <out stem>_vela.tflite.",
     2, 2},
    {"infer", cli_infer,
     "infer (CONFIG CHECKPOINT | MODEL.tflite) IMAGE... [--json] [--draw OUT.png] [--topk K] [--threshold X]\n"
     "             [--iou X] [--task cls|fomo|pfld|yolo|rtmdet] [--classes NAME,NAME,...]",
     "Runs a model on images: a classifier prints the top classes, FOMO and YOLO the detected objects (centres\n"
     "and sizes in the image's pixels, as SSCMA-Micro), PFLD the keypoints in pixels. --draw writes the first\n"
     "image with the results drawn. A .tflite without libsscma metadata (an SSCMA-Micro / ModelAssistant file)\n"
     "is recognised by its output layout as SSCMA-Micro does (FOMO, YOLOv5 / Swift-YOLO, classifier) and\n"
     "post-processed with the device's rules (scores above 0.25, YOLO NMS at IoU 0.45); --task says the layout\n"
     "(PFLD is never guessed), --classes names the classes when the file does not. A model of sensor windows\n"
     "(AccelerometerClassifier) takes CSV or Edge Impulse JSON recordings instead of images, with CONFIG\n"
     "CHECKPOINT: each is cut into windows as the config's validation SensorDataset cuts them, and each window's\n"
     "top classes are printed. A keyword spotter (Audio_classify) takes WAV files, and only them: each is read\n"
     "as the config's validation Speechcommand dataset reads its clips (a .tflite: 8 kHz, its input length) and\n"
     "its top classes are printed. A LODA config with its checkpoint prints each window's anomaly score and\n"
     "decision (score > threshold_) instead.",
     2, CLI_MAX_POSITIONAL},
    {"info", cli_info, "info (CONFIG [--cfg-options K=V ...] | MODEL.tflite) [--json]",
     "Prints the model's parameters, MACs, input and output shapes, int8 weight size and activation memory,\n"
     "and the loaders the runner derives from the config.",
     1, 1},
    {"prune", cli_prune,
     "prune CONFIG CHECKPOINT --out DIR [--ratio R] [--criterion l1|l2|bn_scale|fpgm] [--global] [--round-to N]\n"
     "             [--layer-ratio LAYER=R ...] [--prune-first] [--prune-last] [--prune-head]\n"
     "             [--cfg-options K=V ...] [--json]",
     "Removes the least important channels of CHECKPOINT's model by dependency groups (a residual add ties its\n"
     "branches, a depthwise conv and a batch norm follow their input): --ratio of each group (default 0.5), or of\n"
     "all groups together with --global, scored by --criterion (default l1). The stem, the layers feeding the head\n"
     "and the head keep their channels unless --prune-first/--prune-last/--prune-head. DIR receives config.json\n"
     "(per-layer widths; load_from names the pruned weights) and pruned.ckpt; `sscma train DIR/config.json`\n"
     "fine-tunes them. ImageClassifier and Fomo with a MobileNetV2 backbone.",
     2, 2},
    {"dataset", cli_dataset,
     "dataset check|stats CONFIG [--split train|val|test] [--cfg-options K=V ...] [--json]\n"
     "       sscma dataset compose --from CONFIG_OR_DIR --out DIR [--count N] [--seed S] [--cfg-options K=V ...]",
     "check: decodes every sample and lists every problem found, then the exact and near duplicate images within\n"
     "and across the train/val/test splits (exit 1 when any).\n"
     "stats: sample, class, box and keypoint counts per class, and the split's outliers (boxes, image sizes,\n"
     "brightness, rare classes).\n"
     "compose: a COCO detection set (Roboflow layout) composed from a classification dataset: a config's\n"
     "training set, or a folder of IDX files (Fashion-MNIST) or of class folders. From a SensorDataset: a new\n"
     "Edge Impulse export (info.labels, training/, testing/) of its windows; from a Speechcommand set: a new\n"
     "Speech Commands layout (class folders of 16-bit WAV clips, validation_list.txt, testing_list.txt).",
     1, 2},
};

/*
 * `sscma config convert`: SSCMA's Python configs are read by a Python tool (tools/sscma-config-convert.py, installed
 * beside this program as sscma-config-convert; SSCMA_CONFIG_CONVERT names another), run with python3 and given the
 * arguments as they are. It parses without executing (docs/coming-from-sscma.md), so it needs no libsscma.
 */
static int run_config(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "convert") != 0) {
        fprintf(stderr, "usage: sscma config convert FILE.py [-o OUT.json] [--strict] [--raw]\n");
        return 2;
    }
    char tool[PATH_MAX];
    const char *env = getenv("SSCMA_CONFIG_CONVERT");
    if (env != NULL && env[0] != '\0') {
        snprintf(tool, sizeof tool, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", tool, sizeof tool - 32);
        if (n <= 0) {
            fprintf(stderr, "sscma config: cannot find this program's directory\n");
            return 1;
        }
        tool[n] = '\0';
        char *slash = strrchr(tool, '/');
        snprintf(slash + 1, sizeof tool - (size_t)(slash + 1 - tool), "sscma-config-convert");
    }
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (args == NULL) {
        fprintf(stderr, "sscma config: out of memory\n");
        return 1;
    }
    args[0] = "python3";
    args[1] = tool;
    for (int i = 3; i < argc; i++)
        args[i - 1] = argv[i];
    execvp("python3", args);
    fprintf(stderr, "sscma config: cannot run python3 %s: %s\n", tool, strerror(errno));
    free(args);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sscma COMMAND ...   (sscma COMMAND --help for details)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  sscma %s\n", commands[i].usage);
    fprintf(f, "  sscma config convert FILE.py [-o OUT.json] [--strict] [--raw]\n");
    fprintf(f, "\nlibsscma %s. Exit status: 0 success, 1 error (message on stderr), 2 usage error.\n", sscma_version());
}

static int parse_long(const char *opt, const char *v, long *out)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0') {
        fprintf(stderr, "sscma: %s expects an integer, got '%s'\n", opt, v);
        return 2;
    }
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, int first, cli_args *a)
{
    for (int i = first; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool has_v = v != NULL;
#define VALUE()                                                                                                \
    do {                                                                                                       \
        if (!has_v) {                                                                                          \
            fprintf(stderr, "sscma %s: %s needs a value\n", a->cmd, o);                                        \
            return 2;                                                                                          \
        }                                                                                                      \
        i++;                                                                                                   \
    } while (0)
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            a->help = true;
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
        } else if (strcmp(o, "--quiet") == 0 || strcmp(o, "-q") == 0) {
            a->quiet = true;
        } else if (strcmp(o, "--verify") == 0) {
            a->verify = true;
        } else if (strcmp(o, "--cfg-options") == 0) {
            int n = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (a->n_overrides == CLI_MAX_OVERRIDES) {
                    fprintf(stderr, "sscma %s: at most %d --cfg-options\n", a->cmd, CLI_MAX_OVERRIDES);
                    return 2;
                }
                a->overrides[a->n_overrides++] = argv[++i];
                n++;
            }
            if (n == 0) {
                fprintf(stderr, "sscma %s: --cfg-options needs KEY=VALUE arguments\n", a->cmd);
                return 2;
            }
        } else if (strcmp(o, "--resume") == 0) {
            a->resume = "";
            size_t n = has_v ? strlen(v) : 0; /* an optional value: anything but an option or a .json config */
            if (has_v && strncmp(v, "--", 2) != 0 && !(n >= 5 && strcmp(v + n - 5, ".json") == 0))
                a->resume = argv[++i];
        } else if (strcmp(o, "--work-dir") == 0) {
            VALUE();
            a->work_dir = v;
        } else if (strcmp(o, "--out") == 0 || strcmp(o, "-o") == 0) {
            VALUE();
            a->out = v;
        } else if (strcmp(o, "--format") == 0) {
            VALUE();
            a->format = v;
        } else if (strcmp(o, "--accelerator-config") == 0) {
            VALUE();
            a->accelerator = v;
        } else if (strcmp(o, "--precision") == 0) {
            VALUE();
            a->precision = v;
        } else if (strcmp(o, "--split") == 0) {
            VALUE();
            a->split = v;
        } else if (strcmp(o, "--draw") == 0) {
            VALUE();
            a->draw = v;
        } else if (strcmp(o, "--global") == 0) {
            a->global = true;
        } else if (strcmp(o, "--prune-first") == 0) {
            a->prune_first = true;
        } else if (strcmp(o, "--prune-last") == 0) {
            a->prune_last = true;
        } else if (strcmp(o, "--prune-head") == 0) {
            a->prune_head = true;
        } else if (strcmp(o, "--criterion") == 0) {
            VALUE();
            if (strcmp(v, "l1") != 0 && strcmp(v, "l2") != 0 && strcmp(v, "bn_scale") != 0 && strcmp(v, "fpgm") != 0) {
                fprintf(stderr, "sscma %s: --criterion expects l1, l2, bn_scale or fpgm, got '%s'\n", a->cmd, v);
                return 2;
            }
            a->criterion = v;
        } else if (strcmp(o, "--ratio") == 0) {
            VALUE();
            char *end = NULL;
            double x = strtod(v, &end);
            if (end == v || *end != '\0' || !(x >= 0.0 && x < 1.0)) {
                fprintf(stderr, "sscma %s: --ratio expects a number 0 <= R < 1, got '%s'\n", a->cmd, v);
                return 2;
            }
            a->ratio = x;
        } else if (strcmp(o, "--layer-ratio") == 0) {
            VALUE();
            const char *eq = strrchr(v, '=');
            char *end = NULL;
            double x = eq != NULL ? strtod(eq + 1, &end) : -1.0;
            if (eq == NULL || eq == v || end == eq + 1 || *end != '\0' || !(x >= 0.0 && x < 1.0) ||
                eq - v >= 256 || a->n_layer_ratios == 32) {
                fprintf(stderr, "sscma %s: --layer-ratio expects LAYER=R with 0 <= R < 1 (at most 32), got '%s'\n",
                        a->cmd, v);
                return 2;
            }
            a->layer_ratios[a->n_layer_ratios++] = v;
        } else if (strcmp(o, "--from") == 0) {
            VALUE();
            a->from = v;
        } else if (strcmp(o, "--task") == 0) {
            VALUE();
            if (strcmp(v, "cls") != 0 && strcmp(v, "fomo") != 0 && strcmp(v, "pfld") != 0 && strcmp(v, "yolo") != 0 &&
                strcmp(v, "rtmdet") != 0) {
                fprintf(stderr, "sscma %s: --task expects cls, fomo, pfld, yolo or rtmdet, got '%s'\n", a->cmd, v);
                return 2;
            }
            a->task = v;
        } else if (strcmp(o, "--observer") == 0) {
            VALUE();
            if (strcmp(v, "minmax") != 0 && strcmp(v, "moving-average") != 0 && strcmp(v, "percentile") != 0) {
                fprintf(stderr, "sscma %s: --observer expects minmax, moving-average or percentile, got '%s'\n",
                        a->cmd, v);
                return 2;
            }
            a->observer = v;
        } else if (strcmp(o, "--classes") == 0) {
            VALUE();
            a->classes = v;
        } else if (strcmp(o, "--threshold") == 0 || strcmp(o, "--iou") == 0) {
            VALUE();
            char *end = NULL;
            double x = strtod(v, &end);
            if (end == v || *end != '\0' || !(x >= 0.0 && x <= 1.0)) {
                fprintf(stderr, "sscma %s: %s expects a number in [0, 1], got '%s'\n", a->cmd, o, v);
                return 2;
            }
            *(strcmp(o, "--iou") == 0 ? &a->iou : &a->threshold) = x;
        } else if (strcmp(o, "--calib") == 0 || strcmp(o, "--qat-epochs") == 0 || strcmp(o, "--threads") == 0 ||
                   strcmp(o, "--count") == 0 || strcmp(o, "--seed") == 0 || strcmp(o, "--topk") == 0 ||
                   strcmp(o, "--round-to") == 0) {
            VALUE();
            long x = 0;
            if (parse_long(o, v, &x) != 0)
                return 2;
            if (x < 0) {
                fprintf(stderr, "sscma %s: %s must not be negative\n", a->cmd, o);
                return 2;
            }
            if (strcmp(o, "--calib") == 0)
                a->calib = x;
            else if (strcmp(o, "--qat-epochs") == 0)
                a->qat_epochs = x;
            else if (strcmp(o, "--threads") == 0)
                a->threads = x;
            else if (strcmp(o, "--count") == 0)
                a->count = x;
            else if (strcmp(o, "--seed") == 0)
                a->seed = x;
            else if (strcmp(o, "--round-to") == 0)
                a->round_to = x;
            else
                a->topk = x;
        } else if (strncmp(o, "-", 1) == 0 && o[1] != '\0') {
            fprintf(stderr, "sscma %s: unknown option '%s' (sscma %s --help)\n", a->cmd, o, a->cmd);
            return 2;
        } else {
            if (a->n_positional == CLI_MAX_POSITIONAL) {
                fprintf(stderr, "sscma %s: too many arguments\n", a->cmd);
                return 2;
            }
            a->positional[a->n_positional++] = o;
        }
#undef VALUE
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sscma %s\n", sscma_version());
        return 0;
    }
    if (strcmp(argv[1], "config") == 0)
        return run_config(argc, argv);
    const cli_command *c = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            c = &commands[i];
    if (c == NULL) {
        fprintf(stderr, "sscma: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    cli_args a;
    memset(&a, 0, sizeof a);
    a.cmd = c->name;
    a.calib = 32;
    a.topk = 5;
    a.threshold = -1.0;
    a.iou = -1.0;
    a.count = -1;
    a.ratio = 0.5;
    int rc = parse_args(argc, argv, 2, &a);
    if (rc != 0)
        return rc;
    if (a.help) {
        printf("usage: sscma %s\n\n%s\n", c->usage, c->help);
        return 0;
    }
    bool compose = strcmp(c->name, "dataset") == 0 && a.n_positional >= 1 && strcmp(a.positional[0], "compose") == 0;
    if (!compose && (a.n_positional < c->min_positional || a.n_positional > c->max_positional)) {
        fprintf(stderr, "usage: sscma %s\n", c->usage);
        return 2;
    }
    return c->run(&a);
}
