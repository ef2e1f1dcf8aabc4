/*
 * FOMO on the composed detection set: composes (once) a COCO dataset in Roboflow's layout from Fashion-MNIST
 * (T-shirt/top, Trouser, Sneaker, Bag: visually distinct; 1 to 5 objects per 96x96 image, seed 0), then trains
 * SSCMA's Fomo (MobileNetV2-0.35 cut at stride 8, gray input) and reports FomoMetric's P, R and F1 on the valid split.
 *
 *   train_fomo [--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--lr X] [--work-dir DIR] [--quiet]
 *
 * With --work-dir the trained model is also quantized to int8 (PTQ on 32 training batches) and exported there:
 * fomo_f32.tflite, fomo_int8.tflite, fomo_f32.onnx, fomo_int8.onnx (QDQ) and fomo_int8_model.h/.c; each TFLite
 * file is verified on the valid split (sscma_export_verify) and the JSON line gains "F1_f32_tflite" and "F1_int8".
 *
 * The recipe is SSCMA's FOMO config shortened (docs/training.md): Adam lr 1e-3, batch 16, random horizontal flip,
 * FomoTarget at stride 8. The last line is a JSON object: {"P", "R", "F1", "epochs", "train_images", "seconds"}.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/example.h"

int main(int argc, char **argv)
{
    example_args args = {30, 1000, 200, 0, 0, 0.001, "fomo_data", NULL, 0};
    if (example_parse(argc, argv, &args, "[--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--lr X] [--work-dir DIR] [--quiet]") != 0)
        return 2;
    const long epochs = args.epochs, train_n = args.train, valid_n = args.valid;
    const double lr = args.lr;
    const char *data = args.data;
    const int quiet = args.quiet;
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    char cfg[4096], path[1024];
    snprintf(path, sizeof path, "%s/valid/_annotations.coco.json", data);
    snprintf(cfg, sizeof cfg,
                 "{\"out_dir\": \"%s\", \"image_size\": [96, 96], \"splits\": {\"train\": %ld, \"valid\": %ld},"
                 " \"classes\": [0, 1, 7, 8], \"objects\": [1, 5], \"scale\": [0.8, 1.2], \"seed\": 0,"
                 " \"name\": \"fashion\"}",
             data, train_n, valid_n);
    CHECK(example_compose_once(ctx, path, cfg, quiet));
    sscma_dataset *train_ds = NULL, *valid_ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"train/_annotations.coco.json\", \"data_prefix\": {\"img\": \"train/\"}, \"indices\": %ld}", data, train_n);
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"valid/_annotations.coco.json\", \"data_prefix\": {\"img\": \"valid/\"}, \"indices\": %ld}", data, valid_n);
    CHECK(sscma_dataset_open(ctx, cfg, &valid_ds));
    int32_t classes = 0;
    CHECK(sscma_dataset_num_classes(train_ds, &classes));

    sscma_loader *train = NULL, *valid = NULL;
    CHECK(sscma_loader_create(ctx, train_ds,
                              "{\"batch_size\": 16, \"shuffle\": true, \"num_workers\": 1, \"pipeline\": ["
                              "{\"type\": \"Resize\", \"size\": [96, 96]}, {\"type\": \"RandomFlip\", \"prob\": 0.5},"
                              "{\"type\": \"Normalize\", \"mean\": [0], \"std\": [255]}],"
                              " \"target\": {\"type\": \"FomoTarget\", \"stride\": 8}}",
                              &train));
    CHECK(sscma_loader_create(ctx, valid_ds,
                              "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [96, 96]}, {\"type\": \"Normalize\", \"mean\": [0], "
                              "\"std\": [255]}], \"target\": {\"type\": \"FomoTarget\", \"stride\": 8}}",
                              &valid));
    sscma_model *model = NULL;
    snprintf(cfg, sizeof cfg,
             "{\"type\": \"Fomo\", \"input_size\": [96, 96],"
             " \"backbone\": {\"type\": \"MobileNetv2\", \"widen_factor\": 0.35, \"out_indices\": [2],"
             " \"in_channels\": 1},"
             " \"head\": {\"type\": \"FomoHead\", \"num_classes\": %d, \"middle_channel\": 48}}",
             (int)classes);
    CHECK(sscma_model_create(ctx, cfg, &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld,"
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\", \"lr\": %g, \"weight_decay\": 0.0005}},"
             " \"param_scheduler\": [{\"type\": \"LinearLR\", \"start_factor\": 0.1, \"by_epoch\": false, \"end\": 30},"
             "   {\"type\": \"MultiStepLR\", \"milestones\": [%ld, %ld], \"gamma\": 0.3}],"
             " \"val_evaluator\": {\"type\": \"FomoMetric\"},"
             " \"default_hooks\": {\"logger\": {\"interval\": 50}}}",
             epochs, epochs, lr, epochs * 2 / 3, epochs * 5 / 6);
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, valid, cfg, &trainer));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
    const sscma_metric *m = NULL;
    double p = 0, r = 0, f1 = 0;
    CHECK(sscma_trainer_validate(trainer, &m));
    CHECK(sscma_metric_get(m, "P", &p));
    CHECK(sscma_metric_get(m, "R", &r));
    CHECK(sscma_metric_get(m, "F1", &f1));
    char exported[256] = "";
    if (args.work_dir != NULL) {
        /* quantize, export every format, and verify the TFLite files on the valid split */
        sscma_qmodel *f = NULL, *q = NULL;
        sscma_quant_options qo;
        CHECK(sscma_quant_options_init(&qo, sizeof qo));
        CHECK(sscma_qmodel_from_model(model, &f));
        CHECK(sscma_quantize(model, train, &qo, &q));
        char names[512] = "[", file[1024];
        for (int32_t c = 0; c < classes; c++) {
            const char *name = NULL;
            CHECK(sscma_dataset_class_name(train_ds, c, &name));
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", c ? ", " : "", name);
        }
        snprintf(names + strlen(names), sizeof names - strlen(names), "]");
        CHECK(sscma_qmodel_set_meta(f, "classes", names));
        CHECK(sscma_qmodel_set_meta(q, "classes", names));
        CHECK(sscma_qmodel_set_meta(q, "mean", "[0]"));
        CHECK(sscma_qmodel_set_meta(q, "std", "[255]"));
        sscma_verify_report vf, vq;
        memset(&vf, 0, sizeof vf);
        memset(&vq, 0, sizeof vq);
        vf.struct_size = vq.struct_size = sizeof vf;
        snprintf(file, sizeof file, "%s/fomo_f32.onnx", args.work_dir);
        CHECK(sscma_export_onnx(f, file));
        snprintf(file, sizeof file, "%s/fomo_int8.onnx", args.work_dir);
        CHECK(sscma_export_onnx(q, file));
        char h[1024], c[1024];
        snprintf(h, sizeof h, "%s/fomo_int8_model.h", args.work_dir);
        snprintf(c, sizeof c, "%s/fomo_int8_model.c", args.work_dir);
        CHECK(sscma_export_c_array(q, h, c, "fomo_int8_model"));
        snprintf(file, sizeof file, "%s/fomo_f32.tflite", args.work_dir);
        CHECK(sscma_export_tflite(f, file));
        CHECK(sscma_export_verify(f, file, valid, &vf));
        snprintf(file, sizeof file, "%s/fomo_int8.tflite", args.work_dir);
        CHECK(sscma_export_tflite(q, file));
        CHECK(sscma_export_verify(q, file, valid, &vq));
        snprintf(exported, sizeof exported,
                 ", \"F1_f32_tflite\": %.4f, \"F1_int8\": %.4f, \"F1_int8_tflite\": %.4f, \"int8_values_differing\": %lld",
                 vf.metric_file, vq.metric_model, vq.metric_file, (long long)vq.values_differing);
        sscma_qmodel_destroy(f);
        sscma_qmodel_destroy(q);
    }
    printf("{\"P\": %.4f, \"R\": %.4f, \"F1\": %.4f, \"epochs\": %ld, \"train_images\": %ld, \"valid_images\": %ld, "
           "\"seconds\": %.1f%s}\n", p, r, f1, epochs, train_n, valid_n, seconds, exported);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(valid);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(valid_ds);
    sscma_context_destroy(ctx);
    return 0;
}
