/*
 * PFLD on a composed keypoint set: composes (once) a MeterData set from Fashion-MNIST (one object of classes 0, 1, 7
 * or 8 per 112x112 image at scale 1.5 to 2.5, seed 0; keypoints: the centre of the object's box and its top-left
 * corner), then trains SSCMA's PFLD (PfldMobileNetV2, gray input, 2 points) and reports PointMetric's keypoint/Acc
 * (SSCMA's rule, first point, 10 px) and the NME of both points on the valid split.
 *
 *   train_pfld [--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--lr X] [--work-dir DIR] [--quiet]
 *
 * With --work-dir the trained model is also quantized to int8 (PTQ on 32 training batches) and exported there:
 * pfld_f32.onnx, pfld_f32.tflite and pfld_int8.tflite; each TFLite file is verified on the valid split
 * (sscma_export_verify) and the JSON line gains "acc_f32_tflite", "acc_int8" and "acc_int8_tflite" (the verify
 * report's metric, keypoint/Acc).
 *
 * Recipe (docs/training.md): Adam lr 1e-3, batch 32, KeypointTarget, no flip (a flip would turn the top-left corner
 * into the top-right one). The last line is a JSON object: {"acc", "nme", "epochs", "train_images", "seconds"}.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/example.h"

int main(int argc, char **argv)
{
    example_args args = {20, 1000, 200, 0, 0, 0.001, "pfld_data", NULL, 0};
    if (example_parse(argc, argv, &args, "[--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--lr X] [--work-dir DIR] [--quiet]") != 0)
        return 2;
    const long epochs = args.epochs, train_n = args.train, valid_n = args.valid;
    const double lr = args.lr;
    const char *data = args.data;
    const int quiet = args.quiet;
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    char cfg[4096], path[1024];
    snprintf(path, sizeof path, "%s/valid/annotations.txt", data);
    snprintf(cfg, sizeof cfg,
                 "{\"out_dir\": \"%s\", \"image_size\": [112, 112], \"splits\": {\"train\": %ld, \"valid\": %ld},"
                 " \"classes\": [0, 1, 7, 8], \"scale\": [1.5, 2.5], \"seed\": 0, \"format\": \"meter\"}",
             data, train_n, valid_n);
    CHECK(example_compose_once(ctx, path, cfg, quiet));
    sscma_dataset *train_ds = NULL, *valid_ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/train\", \"indices\": %ld}", data,
             train_n);
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/valid\", \"indices\": %ld}", data,
             valid_n);
    CHECK(sscma_dataset_open(ctx, cfg, &valid_ds));

    sscma_loader *train = NULL, *valid = NULL;
    CHECK(sscma_loader_create(ctx, train_ds,
                              "{\"batch_size\": 32, \"shuffle\": true, \"num_workers\": 1, \"pipeline\": ["
                              "{\"type\": \"Resize\", \"size\": [112, 112]},"
                              "{\"type\": \"Normalize\", \"mean\": [0], \"std\": [255]}],"
                              " \"target\": {\"type\": \"KeypointTarget\"}}",
                              &train));
    CHECK(sscma_loader_create(ctx, valid_ds,
                              "{\"batch_size\": 50, \"pipeline\": [{\"type\": \"Resize\", \"size\": [112, 112]},"
                              " {\"type\": \"Normalize\", \"mean\": [0], \"std\": [255]}],"
                              " \"target\": {\"type\": \"KeypointTarget\"}}",
                              &valid));
    sscma_model *model = NULL;
    CHECK(sscma_model_create(ctx,
                             "{\"type\": \"PFLD\", \"input_size\": [112, 112],"
                             " \"backbone\": {\"type\": \"PfldMobileNetV2\", \"inchannel\": 1},"
                             " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 2}}",
                             &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld, \"pred_output\": \"keypoints\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\", \"lr\": %g, \"weight_decay\": 0.0001}},"
             " \"param_scheduler\": [{\"type\": \"LinearLR\", \"start_factor\": 0.1, \"by_epoch\": false, \"end\": 30},"
             "   {\"type\": \"CosineAnnealingLR\", \"T_max\": %ld, \"by_epoch\": true, \"convert_to_iter_based\": true}],"
             " \"val_evaluator\": {\"type\": \"PointMetric\", \"input_size\": [112, 112]},"
             " \"default_hooks\": {\"logger\": {\"interval\": 50}}}",
             epochs, epochs, lr, epochs);
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, valid, cfg, &trainer));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
    const sscma_metric *m = NULL;
    double acc = 0, nme = 0;
    CHECK(sscma_trainer_validate(trainer, &m));
    CHECK(sscma_metric_get(m, "keypoint/Acc", &acc));
    CHECK(sscma_metric_get(m, "keypoint/NME", &nme));
    char exported[256] = "";
    if (args.work_dir != NULL) {
        /* quantize, export, and verify the TFLite files on the valid split */
        sscma_qmodel *f = NULL, *q = NULL;
        sscma_quant_options qo;
        CHECK(sscma_quant_options_init(&qo, sizeof qo));
        CHECK(sscma_qmodel_from_model(model, &f));
        CHECK(sscma_quantize(model, train, &qo, &q));
        sscma_verify_report vf, vq;
        memset(&vf, 0, sizeof vf);
        memset(&vq, 0, sizeof vq);
        vf.struct_size = vq.struct_size = sizeof vf;
        char file[1024];
        snprintf(file, sizeof file, "%s/pfld_f32.onnx", args.work_dir);
        CHECK(sscma_export_onnx(f, file));
        snprintf(file, sizeof file, "%s/pfld_f32.tflite", args.work_dir);
        CHECK(sscma_export_tflite(f, file));
        CHECK(sscma_export_verify(f, file, valid, &vf));
        snprintf(file, sizeof file, "%s/pfld_int8.tflite", args.work_dir);
        CHECK(sscma_export_tflite(q, file));
        CHECK(sscma_export_verify(q, file, valid, &vq));
        snprintf(exported, sizeof exported,
                 ", \"acc_f32_tflite\": %.4f, \"acc_int8\": %.4f, \"acc_int8_tflite\": %.4f, \"int8_values_differing\": %lld",
                 vf.metric_file, vq.metric_model, vq.metric_file, (long long)vq.values_differing);
        sscma_qmodel_destroy(f);
        sscma_qmodel_destroy(q);
    }
    printf("{\"acc\": %.4f, \"nme\": %.4f, \"epochs\": %ld, \"train_images\": %ld, \"valid_images\": %ld, "
           "\"seconds\": %.1f%s}\n", acc, nme, epochs, train_n, valid_n, seconds, exported);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(valid);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(valid_ds);
    sscma_context_destroy(ctx);
    return 0;
}
