/* sscma export: quantize (PTQ or QAT) and write ONNX, TFLite or C arrays, optionally verified; or Vela's file. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The symbol of a C array: the file stem with every character that is not alphanumeric made '_'. */
static void c_symbol(const char *path, char *buf, size_t size)
{
    cli_stem(path, buf, size);
    for (char *c = buf; *c; c++)
        if (!isalnum((unsigned char)*c))
            *c = '_';
    if (buf[0] == '\0' || isdigit((unsigned char)buf[0])) { /* an identifier starts with a letter */
        size_t n = strlen(buf);
        if (n + 7 > size)
            n = size - 7;
        memmove(buf + 6, buf, n);
        memcpy(buf, "model_", 6);
        buf[n + 6] = '\0';
    }
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* QAT: N epochs of the config's training on a prepared model, without checkpoints, then conversion. */
static int qat(const cli_args *a, sscma_config *cfg, sscma_runner *runner, sscma_qmodel **out)
{
    (void)cfg;
    sscma_model *model = NULL;
    sscma_trainer *trainer = NULL;
    sscma_runner_model(runner, &model);
    if (sscma_qat_prepare(model, NULL) != SSCMA_OK)
        return cli_fail(a, "cannot prepare the model for quantization-aware training");
    if (sscma_runner_trainer(runner, &trainer) != SSCMA_OK)
        return cli_fail(a, "cannot set up quantization-aware training");
    if (!a->quiet && !a->json)
        fprintf(stderr, "quantization-aware training: %ld epochs\n", a->qat_epochs);
    if (sscma_trainer_train(trainer) != SSCMA_OK)
        return cli_fail(a, "quantization-aware training failed");
    if (sscma_qat_convert(model, out) != SSCMA_OK)
        return cli_fail(a, "cannot convert the QAT model");
    return 0;
}

int cli_export(cli_args *a)
{
    const char *format = a->format;
    if (format == NULL || (strcmp(format, "onnx") != 0 && strcmp(format, "tflite") != 0 && strcmp(format, "c") != 0 &&
                           strcmp(format, "vela") != 0))
        return cli_error(a, 2, "--format onnx|tflite|c|vela is required");
    const bool vela = strcmp(format, "vela") == 0;
    if (a->accelerator != NULL && !vela)
        return cli_error(a, 2, "--accelerator-config is for --format vela");
    const char *precision = a->precision != NULL ? a->precision : strcmp(format, "onnx") == 0 ? "float32" : "int8";
    if (strcmp(precision, "float32") != 0 && strcmp(precision, "int8") != 0)
        return cli_error(a, 2, "--precision: expected float32 or int8, got '%s'", precision);
    const bool int8 = strcmp(precision, "int8") == 0;
    if (vela && !int8)
        return cli_error(a, 2, "--format vela compiles an int8 file: --precision int8");
    if (vela && cli_vela_check(a) != 0) /* before the work, not after it */
        return 1;
    if (a->qat_epochs > 0 && !int8)
        return cli_error(a, 2, "--qat-epochs needs --precision int8");
    if (a->verify && strcmp(format, "onnx") == 0)
        return cli_error(a, 2, "--verify checks TFLite bytes (--format tflite or c); ONNX files are checked in "
                               "onnxruntime (docs/export.md)");
    const char *ckpt = a->positional[1];
    char out[4480], header[4490], source[4490], dir[4096], stem[256];
    if (a->out != NULL) {
        snprintf(out, sizeof out, "%s", a->out);
    } else {
        cli_dirname(ckpt, dir, sizeof dir);
        cli_stem(ckpt, stem, sizeof stem);
        snprintf(out, sizeof out, "%s/%s_%s.%s", dir, stem, precision,
                 strcmp(format, "c") == 0 ? "c" : vela ? "tflite" : format);
    }
    if (strcmp(format, "c") == 0) { /* FILE, FILE.c or FILE.h: the pair FILE.h / FILE.c */
        size_t n = strlen(out);
        if (n > 2 && (strcmp(out + n - 2, ".c") == 0 || strcmp(out + n - 2, ".h") == 0))
            out[n - 2] = '\0';
        snprintf(header, sizeof header, "%s.h", out);
        snprintf(source, sizeof source, "%s.c", out);
    }

    /* an output must never replace an input (the checkpoint being exported, the config) */
    const char *outputs[2] = {strcmp(format, "c") == 0 ? header : out, strcmp(format, "c") == 0 ? source : NULL};
    for (int k = 0; k < 2 && outputs[k] != NULL; k++)
        for (int i = 0; i < 2; i++)
            if (cli_same_file(outputs[k], a->positional[i]))
                return cli_error(a, 2, "--out: %s is the input %s; choose another output file", outputs[k],
                                 a->positional[i]);
    sscma_config *cfg = NULL;
    if (cli_load_config(a, a->positional[0], NULL, &cfg) != 0)
        return 1;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_qmodel *q = NULL;
    int rc = 1;
    if (cli_context(a, cfg, &ctx) != 0)
        goto done;
    if (a->qat_epochs > 0) { /* N epochs, no checkpoints: the runner reads these when it is created */
        char set[64];
        snprintf(set, sizeof set, "train_cfg.max_epochs=%ld", a->qat_epochs);
        sscma_status st = sscma_config_set(cfg, set);
        snprintf(set, sizeof set, "max_epochs=%ld", a->qat_epochs);
        if (st == SSCMA_OK)
            st = sscma_config_set(cfg, set);
        if (st == SSCMA_OK)
            st = sscma_config_set(cfg, "work_dir=null");
        if (st != SSCMA_OK) {
            rc = cli_fail(a, "--qat-epochs");
            goto done;
        }
    }
    if (cli_runner(a, ctx, cfg, ckpt, &runner) != 0)
        goto done;
    sscma_model *model = NULL;
    sscma_runner_model(runner, &model);
    sscma_loader *val = NULL;
    const char *calib_split = "val";
    if (sscma_runner_loader(runner, "val", &val) != SSCMA_OK) {
        calib_split = "train";
        if (sscma_runner_loader(runner, "train", &val) != SSCMA_OK) {
            rc = cli_fail(a, "no loader to calibrate or verify with");
            goto done;
        }
    }
    sscma_clear_error();
    if (a->qat_epochs > 0) {
        if (qat(a, cfg, runner, &q) != 0)
            goto done;
    } else if (int8) {
        sscma_quant_options qo;
        sscma_quant_options_init(&qo, sizeof qo);
        qo.calib_batches = a->calib;
        sscma_loader *calib = NULL; /* val's, or train's normal windows for an anomaly VAE (sscma_runner_dataset) */
        if (sscma_runner_loader(runner, "calib", &calib) != SSCMA_OK) {
            rc = cli_fail(a, "no loader to calibrate with");
            goto done;
        }
        if (a->observer != NULL) /* main.c accepted only these three */
            qo.observer = strcmp(a->observer, "percentile") == 0       ? SSCMA_OBSERVER_PERCENTILE
                          : strcmp(a->observer, "moving-average") == 0 ? SSCMA_OBSERVER_MOVING_AVERAGE
                                                                       : SSCMA_OBSERVER_MINMAX;
        if (sscma_quantize(model, calib, &qo, &q) != SSCMA_OK) {
            rc = cli_fail(a, "quantization failed");
            goto done;
        }
    } else if (sscma_qmodel_from_model(model, &q) != SSCMA_OK) {
        rc = cli_fail(a, "cannot lower the model");
        goto done;
    }
    if (sscma_runner_set_meta(runner, q) != SSCMA_OK) {
        rc = cli_fail(a, "cannot set the metadata");
        goto done;
    }
    sscma_status st;
    char symbol[256];
    if (strcmp(format, "onnx") == 0) {
        st = sscma_export_onnx(q, out);
    } else if (strcmp(format, "tflite") == 0 || vela) { /* vela: the int8 file first, then Vela on it */
        st = sscma_export_tflite(q, out);
    } else {
        c_symbol(out, symbol, sizeof symbol);
        st = sscma_export_c_array(q, header, source, symbol);
    }
    if (st != SSCMA_OK) {
        rc = cli_fail(a, "export failed");
        goto done;
    }
    json_t *res = json_pack("{s:s, s:s}", "format", format, "precision", precision);
    if (strcmp(format, "c") == 0) {
        json_object_set_new(res, "header", json_string(header));
        json_object_set_new(res, "source", json_string(source));
        json_object_set_new(res, "symbol", json_string(symbol));
        json_object_set_new(res, "bytes", json_integer(file_size(source)));
    } else {
        json_object_set_new(res, "file", json_string(out));
        json_object_set_new(res, "bytes", json_integer(file_size(out)));
    }
    if (a->qat_epochs > 0)
        json_object_set_new(res, "qat_epochs", json_integer(a->qat_epochs));
    else if (int8)
        json_object_set_new(res, "calib_batches", json_integer(a->calib));
    if (a->verify) {
        /* the C array holds the TFLite bytes: they are written beside it, verified, and removed */
        char tflite[4520];
        if (strcmp(format, "c") == 0) {
            snprintf(tflite, sizeof tflite, "%s.verify.tflite", out);
            if (sscma_export_tflite(q, tflite) != SSCMA_OK) {
                json_decref(res);
                rc = cli_fail(a, "cannot write the TFLite bytes to verify");
                goto done;
            }
        } else {
            snprintf(tflite, sizeof tflite, "%s", out);
        }
        sscma_verify_report rep;
        memset(&rep, 0, sizeof rep);
        rep.struct_size = sizeof rep;
        st = sscma_export_verify(q, tflite, val, &rep);
        if (strcmp(format, "c") == 0)
            unlink(tflite);
        if (st != SSCMA_OK) {
            json_decref(res);
            rc = cli_fail(a, "verification failed");
            goto done;
        }
        json_t *v = json_pack("{s:s, s:I, s:I, s:I, s:f, s:s, s:f, s:f}", "split", calib_split, "samples",
                              (json_int_t)rep.samples, "values", (json_int_t)rep.values, "values_differing",
                              (json_int_t)rep.values_differing, "max_abs_diff", rep.max_abs_diff, "metric",
                              rep.metric_name, "metric_model", rep.metric_model, "metric_file", rep.metric_file);
        json_object_set_new(res, "verify", v);
    }
    if (vela && cli_vela(a, out, a->accelerator != NULL ? a->accelerator : "ethos-u55-64", res) != 0) {
        json_decref(res);
        goto done;
    }
    if (a->json) {
        cli_print_json(res);
    } else {
        const char *f = json_string_value(json_object_get(res, strcmp(format, "c") == 0 ? "source" : "file"));
        printf("%s %s: %s (%lld bytes)\n", format, precision, f,
               (long long)json_integer_value(json_object_get(res, "bytes")));
        if (strcmp(format, "c") == 0)
            printf("  header %s, symbol %s\n", header, symbol);
        json_t *v = json_object_get(res, "verify");
        if (v != NULL)
            printf("  verified on %lld %s samples: %lld of %lld values differ (max %.4g); %s %.4f (model) %.4f "
                   "(file)\n",
                   (long long)json_integer_value(json_object_get(v, "samples")), calib_split,
                   (long long)json_integer_value(json_object_get(v, "values_differing")),
                   (long long)json_integer_value(json_object_get(v, "values")),
                   json_real_value(json_object_get(v, "max_abs_diff")),
                   json_string_value(json_object_get(v, "metric")), json_real_value(json_object_get(v, "metric_model")),
                   json_real_value(json_object_get(v, "metric_file")));
        json_t *e = json_object_get(res, "vela");
        if (e != NULL) {
            printf("vela %s: %s (%lld NPU, %lld CPU operators", json_string_value(json_object_get(e, "accelerator")),
                   json_string_value(json_object_get(e, "file")),
                   (long long)json_integer_value(json_object_get(e, "npu_operators")),
                   (long long)json_integer_value(json_object_get(e, "cpu_operators")));
            if (json_object_get(e, "sram_kib") != NULL)
                printf("; SRAM %.2f KiB, %.3f ms per inference as Vela estimates",
                       json_real_value(json_object_get(e, "sram_kib")),
                       json_real_value(json_object_get(e, "inference_ms")));
            printf(")\n");
        }
        json_decref(res);
    }
    rc = 0;
done:
    sscma_qmodel_destroy(q);
    cli_close(runner, ctx, cfg);
    return rc;
}
