/* Models and data shared by the quantization and export tests (fixture_models.h). */
#include <stdio.h>
#include <string.h>

#include "fixture_models.h"

const fixture_family fixture_families[3] = {
    {"classifier",
     "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
     " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
     " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10, \"dropout\": 0.2}}",
     32, "logits", 1},
    {"fomo",
     "{\"type\": \"Fomo\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"MobileNetv2\","
     " \"widen_factor\": 0.35, \"out_indices\": [2], \"in_channels\": 1}, \"head\": {\"type\": \"FomoHead\","
     " \"input_channels\": [16], \"num_classes\": 3, \"middle_channel\": 48}}",
     64, "probs", 0},
    {"pfld",
     "{\"type\": \"PFLD\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"PfldMobileNetV2\", \"inchannel\": 1},"
     " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 4}}",
     64, "keypoints", 0},
};

float fixture_uniform(uint64_t *s, float lo, float hi)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (float)((*s >> 40) & 0xffffff) / 16777216.0f;
}

void fixture_randomize(sscma_model *m)
{
    int32_t n = 0;
    sscma_model_param_count(m, &n);
    uint64_t s = 42;
    for (int32_t i = 0; i < n; i++) {
        const char *name;
        uint32_t flags;
        sscma_tensor *v;
        if (sscma_model_param(m, i, &name, &flags, &v, NULL) != SSCMA_OK)
            continue;
        float *d;
        int64_t count;
        sscma_tensor_data(v, (void **)&d);
        sscma_tensor_numel(v, &count);
        const char *leaf = strrchr(name, '.');
        int norm = (flags & SSCMA_PARAM_NORM) != 0;
        for (int64_t k = 0; k < count; k++) {
            if (strcmp(leaf, ".running_mean") == 0)
                d[k] = fixture_uniform(&s, -0.2f, 0.2f);
            else if (strcmp(leaf, ".running_var") == 0)
                d[k] = fixture_uniform(&s, 0.5f, 2.0f);
            else if (norm && strcmp(leaf, ".weight") == 0)
                d[k] = fixture_uniform(&s, 0.5f, 1.5f);
            else if (norm && strcmp(leaf, ".bias") == 0)
                d[k] = fixture_uniform(&s, -0.2f, 0.2f);
            else if (strcmp(name, "head.fc.weight") == 0)
                d[k] *= 30.0f;
        }
    }
}

sscma_status fixture_fashion_loader(sscma_context *ctx, int32_t size, int64_t n, int64_t batch, sscma_dataset **ds,
                                    sscma_loader **loader)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": %lld}", (long long)n);
    sscma_status st = sscma_dataset_open(ctx, cfg, ds);
    if (st != SSCMA_OK)
        return st;
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": %lld, \"pipeline\": [{\"type\": \"Resize\", \"size\": [%d, %d]},"
             " {\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}]}",
             (long long)batch, (int)size, (int)size);
    st = sscma_loader_create(ctx, *ds, cfg, loader);
    if (st != SSCMA_OK) {
        sscma_dataset_destroy(*ds);
        *ds = NULL;
    }
    return st;
}
