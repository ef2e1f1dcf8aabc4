// train_and_deploy: the whole flow from C++ through the RAII wrapper (sscma.hpp): a recipe, training, evaluation,
// int8 quantization, TFLite export read back and verified, and predictions on images.
//
//   train_and_deploy CONFIG OUT.tflite [KEY=VALUE ...] [-- IMAGE ...]
//   e.g. train_and_deploy configs/classification/mobnetv2_0.35_fmnist.json fmnist.tflite epochs=1
//
// Every handle is released by its unique_ptr, including when a call throws.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sscma.hpp"

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: train_and_deploy CONFIG OUT.tflite [KEY=VALUE ...] [-- IMAGE ...]\n");
        return 2;
    }
    std::vector<std::string> overrides, images;
    bool after = false;
    for (int i = 3; i < argc; i++) {
        if (std::strcmp(argv[i], "--") == 0)
            after = true;
        else
            (after ? images : overrides).push_back(argv[i]);
    }
    try {
        auto ctx = sscma::make_context();
        auto config = sscma::load_config(argv[1], overrides);
        auto runner = sscma::make_runner(ctx.get(), config.get());
        sscma_trainer *trainer = nullptr; // owned by the runner
        sscma::check(sscma_runner_trainer(runner.get(), &trainer));
        sscma::check(sscma_trainer_train(trainer));
        const sscma_metric *metric = nullptr;
        sscma::check(sscma_runner_evaluate(runner.get(), "val", &metric));
        int32_t n = 0;
        sscma::check(sscma_metric_result_count(metric, &n));
        for (int32_t i = 0; i < n && i < 3; i++) {
            const char *name = nullptr;
            double value = 0;
            sscma::check(sscma_metric_result(metric, i, &name, &value));
            std::printf("float model: %s = %.4f\n", name, value);
        }
        auto q = sscma::quantize(runner.get());
        sscma::check(sscma_export_tflite(q.get(), argv[2]));
        sscma_loader *val = nullptr;
        sscma::check(sscma_runner_loader(runner.get(), "val", &val));
        sscma_verify_report report{};
        report.struct_size = sizeof report;
        sscma::check(sscma_export_verify(q.get(), argv[2], val, &report));
        std::printf("%s: int8 %s = %.4f (file) / %.4f (model), %lld of %lld values differ\n", argv[2],
                    report.metric_name, report.metric_file, report.metric_model,
                    static_cast<long long>(report.values_differing), static_cast<long long>(report.values));
        for (const auto &path : images) {
            auto image = sscma::read_image(ctx.get(), path);
            for (const auto &r : sscma::predict(q.get(), image.get(), 3))
                std::printf("%s: class %d score %.3f (%.1f, %.1f)\n", path.c_str(), static_cast<int>(r.class_id),
                            static_cast<double>(r.score), static_cast<double>(r.x), static_cast<double>(r.y));
        }
        return report.values_differing == 0 ? 0 : 1;
    } catch (const sscma::Error &e) {
        std::fprintf(stderr, "train_and_deploy: %s\n", e.what());
        return 1;
    }
}
