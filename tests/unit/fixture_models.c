/* Models and data shared by the quantization and export tests (fixture_models.h). */
#include <stdio.h>
#include <stdlib.h>
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

bool fixture_have_fashion(void)
{
    FILE *f = fopen(FIXTURE_FASHION, "rb");
    if (f != NULL)
        fclose(f);
    return f != NULL;
}

sscma_context *fixture_context(void)
{
    sscma_context *ctx = NULL;
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = 2;
    o.seed = 7;
    return sscma_context_create(&o, &ctx) == SSCMA_OK ? ctx : NULL;
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

sscma_status fixture_acts_model(sscma_context *ctx, sscma_model **out)
{
    sscma_model *m = NULL;
    sscma_status st = sscma_model_create_empty(ctx, &m);
    const int64_t image[4] = {1, 32, 32, 1}, w1[4] = {8, 3, 3, 1}, w2[4] = {8, 1, 1, 8}, c8[1] = {8},
                  fc[2] = {64, 8}, c10[1] = {64};
    if (st == SSCMA_OK)
        st = sscma_model_add_input(m, "image", SSCMA_DTYPE_F32, 4, image, 0);
    const char *const bn[2] = {"b1", "b2"};
    for (int k = 0; k < 2 && st == SSCMA_OK; k++) {
        char name[64];
        const char *const leaf[4] = {"weight", "bias", "running_mean", "running_var"};
        const char *const init[4] = {"ones", "zeros", "zeros", "ones"};
        const uint32_t flags[4] = {SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM,
                                   SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM | SSCMA_PARAM_BIAS, SSCMA_PARAM_BUFFER,
                                   SSCMA_PARAM_BUFFER};
        for (int j = 0; j < 4 && st == SSCMA_OK; j++) {
            snprintf(name, sizeof name, "%s.%s", bn[k], leaf[j]);
            st = sscma_model_add_param(m, name, 1, c8, flags[j], init[j]);
        }
    }
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "c1.weight", 4, w1, SSCMA_PARAM_TRAINABLE, "kaiming_normal");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "c2.weight", 4, w2, SSCMA_PARAM_TRAINABLE, "kaiming_normal");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "fc.weight", 2, fc, SSCMA_PARAM_TRAINABLE, "normal:0.5");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "fc.bias", 1, c10, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros");
    struct {
        const char *name, *op, *attrs;
        const char *in[5];
        int n;
    } layers[] = {
        {"c1", "conv2d", "{\"stride_h\": 2, \"stride_w\": 2, \"pad_top\": 1, \"pad_left\": 1, \"pad_bottom\": 1,"
                         " \"pad_right\": 1}", {"image", "c1.weight"}, 2},
        {"b1", "batch_norm", NULL, {"c1", "b1.weight", "b1.bias", "b1.running_mean", "b1.running_var"}, 5},
        {"s1", "sigmoid", NULL, {"b1"}, 1},
        {"c2", "conv2d", NULL, {"s1", "c2.weight"}, 2},
        {"b2", "batch_norm", NULL, {"c2", "b2.weight", "b2.bias", "b2.running_mean", "b2.running_var"}, 5},
        {"h1", "hardswish", NULL, {"b2"}, 1},
        {"gap", "global_avg_pool", NULL, {"h1"}, 1},
        {"flat", "reshape", "{\"dims\": [-1, 8]}", {"gap"}, 1},
        {"fc", "linear", NULL, {"flat", "fc.weight", "fc.bias"}, 3},
    };
    for (size_t k = 0; k < sizeof layers / sizeof layers[0] && st == SSCMA_OK; k++)
        st = sscma_model_add_layer(m, layers[k].name, layers[k].op, layers[k].attrs, layers[k].in, layers[k].n);
    if (st == SSCMA_OK)
        st = sscma_model_add_output(m, "logits", "fc", 0);
    if (st != SSCMA_OK) {
        sscma_model_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}

void fixture_release(fixture_quantized *f)
{
    sscma_qmodel_destroy(f->q);
    sscma_loader_destroy(f->loader);
    sscma_dataset_destroy(f->dataset);
    sscma_model_destroy(f->model);
    memset(f, 0, sizeof *f);
}

sscma_status fixture_quantize(sscma_context *ctx, const char *config, int32_t size, int64_t n, int64_t batch,
                              fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = config != NULL ? sscma_model_create(ctx, config, &out->model) : fixture_acts_model(ctx, &out->model);
    if (st == SSCMA_OK) {
        fixture_randomize(out->model);
        st = fixture_fashion_loader(ctx, size, n, batch, &out->dataset, &out->loader);
    }
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

static bool write_idx(const char *path, uint32_t magic, const uint32_t *dims, int n_dims, const void *data,
                      size_t bytes)
{
    unsigned char head[16];
    for (int i = 0; i < 4; i++)
        head[i] = (unsigned char)(magic >> (24 - 8 * i));
    for (int d = 0; d < n_dims; d++)
        for (int i = 0; i < 4; i++)
            head[4 + 4 * d + i] = (unsigned char)(dims[d] >> (24 - 8 * i));
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(head, 1, (size_t)(4 + 4 * n_dims), f) == (size_t)(4 + 4 * n_dims) &&
              fwrite(data, 1, bytes, f) == bytes;
    return fclose(f) == 0 && ok;
}

bool fixture_quadrant_split(const char *dir, const char *prefix, int n, int side, uint32_t seed)
{
    uint8_t *pixels = malloc((size_t)n * (size_t)(side * side) + 1), *labels = malloc((size_t)n + 1);
    bool ok = pixels != NULL && labels != NULL && side >= 12 && side <= 64;
    uint32_t s = seed;
    for (int i = 0; ok && i < n; i++) {
        int c = i % 4, oy = (c / 2) * (side / 2) + 1, ox = (c % 2) * (side / 2) + 1;
        labels[i] = (uint8_t)c;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                s = s * 1664525u + 1013904223u;
                int v = (int)(s >> 26) + (y >= oy && y < oy + 5 && x >= ox && x < ox + 5 ? 150 : 0);
                pixels[(size_t)i * (size_t)(side * side) + (size_t)(y * side + x)] = (uint8_t)v;
            }
    }
    char path[512];
    const uint32_t idims[3] = {(uint32_t)n, (uint32_t)side, (uint32_t)side}, ldims[1] = {(uint32_t)n};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    ok = ok && write_idx(path, 0x803, idims, 3, pixels, (size_t)n * (size_t)(side * side));
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    ok = ok && write_idx(path, 0x801, ldims, 1, labels, (size_t)n);
    free(pixels), free(labels);
    return ok;
}
