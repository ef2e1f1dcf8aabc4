/*
 * Swift-YOLO on the composed detection set: composes (once) a COCO dataset in Roboflow's layout from Fashion-MNIST
 * (T-shirt/top, Trouser, Sneaker, Bag; 1 to 6 objects per image whose sizes vary 4x, seed 0), then trains SSCMA's
 * Swift-YOLO-tiny (YOLODetector: YOLOv5CSPDarknet / YOLOv5PAFPN / YOLOv5Head, deepen 0.33, widen 0.15, ReLU) and
 * reports CocoMetric's bbox mAP and mAP50 on the valid split.
 *
 *   train_swift_yolo [--size N] [--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--seed N]
 *                    [--lr X] [--work-dir DIR] [--outfile-prefix P] [--quiet]
 *
 * The recipe is SSCMA's swift_yolo_tiny_1xb16_300e_coco shortened (docs/training.md): SGD (Nesterov, momentum 0.937,
 * weight decay 5e-4), YOLOv5ParamSchedulerHook (linear, lr_factor 0.01, warm-up), batch 16, random horizontal
 * flip, the YOLOv5 loss with SSCMA's weights, test_cfg as SSCMA's (multi_label, score_thr 0.001, NMS IoU 0.65,
 * max_per_img 300). With --work-dir the model is also quantized to int8 (PTQ on 32 training batches) and exported
 * there (swift_yolo_int8.tflite), verified on the valid split: the JSON line gains "mAP50_int8_tflite".
 * --outfile-prefix P sets CocoMetric's outfile_prefix (mmdet's): each validation writes what it evaluated as COCO
 * JSON, P.bbox.json and P.gt.json (bench/coco_crosscheck.py scores them with pycocotools).
 * The last line is a JSON object: {"mAP", "mAP50", "epochs", "train_images", "valid_images", "seconds", ...}.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/example.h"

int main(int argc, char **argv)
{
    long size = 192;
    const char *outfile_prefix = NULL;
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 63; i++) { /* --size is this example's own option */
        if (i > 0 && strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            size = strtol(argv[++i], NULL, 10);
            continue;
        }
        if (i > 0 && strcmp(argv[i], "--outfile-prefix") == 0 && i + 1 < argc) {
            outfile_prefix = argv[++i];
            continue;
        }
        rest[n_rest++] = argv[i];
    }
    rest[n_rest] = NULL;
    const char *usage = "[--size N] [--data DIR] [--epochs N] [--train N] [--valid N] [--threads N] [--seed N] "
                        "[--lr X] [--work-dir DIR] [--outfile-prefix P] [--quiet]";
    example_args args = {30, 3000, 500, 0, 0, 0.01, "swift_yolo_data", NULL, 0};
    if (example_parse(n_rest, rest, &args, usage) != 0)
        return 2;
    if (size < 32 || size % 32 != 0) {
        fprintf(stderr, "train_swift_yolo: --size must be a multiple of 32, got %ld\n", size);
        return 2;
    }
    if (outfile_prefix != NULL && strpbrk(outfile_prefix, "\"\\") != NULL) {
        fprintf(stderr, "train_swift_yolo: --outfile-prefix must not contain quotes or backslashes\n");
        return 2;
    }
    char prefix_json[1100] = "";
    if (outfile_prefix != NULL)
        snprintf(prefix_json, sizeof prefix_json, ", \"outfile_prefix\": \"%s\"", outfile_prefix);
    const long epochs = args.epochs, train_n = args.train, valid_n = args.valid;
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    char cfg[6144], path[1024];
    snprintf(path, sizeof path, "%s/valid/_annotations.coco.json", args.data);
    /* objects of 28 px scaled 1.0..4.0: sizes that vary by 4x, as the issue asks */
    snprintf(cfg, sizeof cfg,
             "{\"out_dir\": \"%s\", \"image_size\": [%ld, %ld], \"splits\": {\"train\": %ld, \"valid\": %ld},"
             " \"classes\": [0, 1, 7, 8], \"objects\": [1, 6], \"scale\": [%g, %g], \"seed\": 0,"
             " \"name\": \"fashion\"}",
             args.data, size, size, train_n, valid_n, (double)size / 192.0, 4.0 * (double)size / 192.0);
    CHECK(example_compose_once(ctx, path, cfg, args.quiet));
    sscma_dataset *train_ds = NULL, *valid_ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"train/_annotations.coco.json\", \"data_prefix\": {\"img\": \"train/\"}, \"indices\": %ld}",
             args.data, train_n);
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"valid/_annotations.coco.json\", \"data_prefix\": {\"img\": \"valid/\"}, \"indices\": %ld}",
             args.data, valid_n);
    CHECK(sscma_dataset_open(ctx, cfg, &valid_ds));
    int32_t classes = 0;
    CHECK(sscma_dataset_num_classes(train_ds, &classes));

    sscma_loader *train = NULL, *valid = NULL;
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": 16, \"shuffle\": true, \"num_workers\": 1, \"pipeline\": ["
             "{\"type\": \"Resize\", \"size\": [%ld, %ld]}, {\"type\": \"ToRGB\"}, {\"type\": \"RandomFlip\", \"prob\": 0.5},"
             "{\"type\": \"Normalize\", \"mean\": [0], \"std\": [255]}],"
             " \"target\": {\"type\": \"BoxTarget\", \"max_boxes\": 100}}",
             size, size);
    CHECK(sscma_loader_create(ctx, train_ds, cfg, &train));
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [%ld, %ld]}, {\"type\": \"ToRGB\"},"
             " {\"type\": \"Normalize\", \"mean\": [0], \"std\": [255]}],"
             " \"target\": {\"type\": \"BoxTarget\", \"max_boxes\": 100}}",
             size, size);
    CHECK(sscma_loader_create(ctx, valid_ds, cfg, &valid));
    sscma_model *model = NULL;
    snprintf(cfg, sizeof cfg,
             "{\"type\": \"YOLODetector\", \"input_size\": [%ld, %ld],"
             " \"backbone\": {\"type\": \"YOLOv5CSPDarknet\", \"deepen_factor\": 0.33, \"widen_factor\": 0.15,"
             "  \"norm_cfg\": {\"type\": \"BN\", \"momentum\": 0.03, \"eps\": 0.001}, \"act_cfg\": {\"type\": \"ReLU\"}},"
             " \"neck\": {\"type\": \"YOLOv5PAFPN\", \"deepen_factor\": 0.33, \"widen_factor\": 0.15,"
             "  \"in_channels\": [256, 512, 1024], \"out_channels\": [256, 512, 1024], \"num_csp_blocks\": 3,"
             "  \"norm_cfg\": {\"type\": \"BN\", \"momentum\": 0.03, \"eps\": 0.001}, \"act_cfg\": {\"type\": \"ReLU\"}},"
             " \"bbox_head\": {\"type\": \"YOLOv5Head\", \"head_module\": {\"type\": \"YOLOv5HeadModule\","
             "  \"num_classes\": %d, \"in_channels\": [256, 512, 1024], \"widen_factor\": 0.15}}}",
             size, size, (int)classes);
    CHECK(sscma_model_create(ctx, cfg, &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld, \"pred_output\": \"pred\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": %g, \"momentum\": 0.937,"
             "   \"weight_decay\": 0.0005, \"nesterov\": true}},"
             " \"test_cfg\": {\"multi_label\": true, \"nms_pre\": 30000, \"score_thr\": 0.001,"
             "   \"nms\": {\"type\": \"nms\", \"iou_threshold\": 0.65}, \"max_per_img\": 300},"
             " \"val_evaluator\": {\"type\": \"CocoMetric\", \"metric\": \"bbox\"%s},"
             " \"default_hooks\": {\"logger\": {\"interval\": 50}, \"param_scheduler\": {\"type\": "
             "   \"YOLOv5ParamSchedulerHook\", \"scheduler_type\": \"linear\", \"lr_factor\": 0.01, \"max_epochs\": %ld,"
             "   \"warmup_epochs\": 1, \"warmup_mim_iter\": 10}}}",
             epochs, epochs, args.lr, prefix_json, epochs);
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, valid, cfg, &trainer));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
    const sscma_metric *m = NULL;
    double map = 0, map50 = 0;
    CHECK(sscma_trainer_validate(trainer, &m));
    CHECK(sscma_metric_get(m, "coco/bbox_mAP", &map));
    CHECK(sscma_metric_get(m, "coco/bbox_mAP_50", &map50));
    char exported[256] = "";
    if (args.work_dir != NULL) {
        sscma_qmodel *q = NULL;
        sscma_quant_options qo;
        CHECK(sscma_quant_options_init(&qo, sizeof qo));
        CHECK(sscma_quantize(model, train, &qo, &q));
        char file[1024];
        snprintf(file, sizeof file, "%s/swift_yolo_int8.tflite", args.work_dir);
        CHECK(sscma_export_tflite(q, file));
        sscma_verify_report vq;
        memset(&vq, 0, sizeof vq);
        vq.struct_size = sizeof vq;
        CHECK(sscma_export_verify(q, file, valid, &vq));
        snprintf(exported, sizeof exported, ", \"verify_metric\": \"%s\", \"int8_model\": %.4f, \"int8_tflite\": %.4f",
                 vq.metric_name, vq.metric_model, vq.metric_file);
        sscma_qmodel_destroy(q);
    }
    printf("{\"mAP\": %.4f, \"mAP50\": %.4f, \"epochs\": %ld, \"train_images\": %ld, \"valid_images\": %ld, "
           "\"size\": %ld, \"seconds\": %.1f%s}\n",
           map, map50, epochs, train_n, valid_n, size, seconds, exported);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(valid);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(valid_ds);
    sscma_context_destroy(ctx);
    return 0;
}
