/*
 * Vae_Model (SSCMA's sscma.Vae_Model, ModelAssistant main: sscma/models/detectors/anomaly.py, layers/encode.py,
 * layers/decode.py): the anomaly detector's variational auto-encoder over an image x and a condition image c
 * (SSCMA's accelerometer CWT and MTF images), with Vae_Encode / Vae_Decode built from Conv_block2D.
 *
 * Input: image [N, S, S, 2 C] (f32, NHWC): channels 0..C-1 are x, C..2C-1 are c (S = x_size, C = in_channel; SSCMA
 * feeds x and c as the two rows of a batch of 2 instead). Outputs: x_recon, c_recon [N, S, S, C], mu, logvar,
 * mu_c, logvar_c [N, 64], loss [], score [N]. Loss = MSE(x_recon, x) + MSE(c_recon, c) + KL(mu, logvar) + KL(mu_c, logvar_c),
 * each MSE the mean over every element, each KL summed over the 64 latent dimensions and averaged over the batch
 * (SSCMA sums, with its batch of one). score is the anomaly score per sample, MSE(x_recon, x) + MSE(c_recon, c)
 * with each mean over that sample's elements (SSCMA's Vae_Model.forward in predict mode and postprocess's
 * sscma_pp_anomaly_score): AnomalyMetric's input; not deployed (lib/quant/lower.c keeps the reconstructions).
 *
 * Layers (O = out_channel, parameter names as SSCMA's state_dict): Conv_block2D(i, o) = conv_block.0.0 Conv2d(i, o,
 * 3, pad 1) + conv_block.0.1 BN + ReLU; Down_sample(o) = space_to_depth (SSCMA's channel order) + down_sample.0
 * Conv2d(4 o, o, 3) + down_sample.1 BN + ReLU; up_sample(o) = up_sample.0 Conv2d(o, 4 o, 3) + depth_to_space (same
 * order) + trans.0 Conv2d(o, o, 3) + trans.1 BN + ReLU. Flattening and viewing follow PyTorch's NCHW order (a
 * transpose before the flatten and after the view), so fc weights load from SSCMA's checkpoints unchanged.
 *   encode: x: patch_embed (C->C, 3x3) = res_x1; conv1 (C->O); down_sample = res_x2; + conv2; down_sample2 = res_x3;
 *           flatten; fc1 + ReLU; fc2_mu, fc2_logvar.  c: patch_embed_c (C->O, 1x1); conv1_c; down_sample_c;
 *           + conv2_c; flatten; fc_c1 + ReLU; the same fc2_mu, fc2_logvar. lnorm (LayerNorm) is created upstream
 *           but never applied: kept as two untrained parameters so that checkpoints and counts match.
 *   reparameterize: z = mu + eps exp(logvar / 2) (ops/latent.c): eps from the step seed in training, the
 *           freeze_randn buffer when the config gives one, 0 in evaluation and in exported models.
 *   decode: x: fc1 + ReLU, fc2 + ReLU, view [O, S/4, S/4], + res_x3, up_sample2, + conv1, + res_x2, up_sample,
 *           conv2 (O->C), + res_x1, patch_debed (3x3) + bn, patch_debed2 (1x1) = x_recon.
 *           c: the same fc1 + ReLU, fc_c2 + ReLU, view [O, S/2, S/2], + conv_c_1, up_sample_c, conv_c_2 (O->C),
 *           patch_debed_c (1x1) = c_recon.
 * Weights start as PyTorch's defaults (SSCMA sets no init): conv and linear weights and biases U(+-1/sqrt(fan_in)),
 * batch norms 1 and 0.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

#define VAE_LATENT 64 /* Vae_Encode's latent_dim and middle_dim, fixed upstream */
#define VAE_MIDDLE 32

typedef struct vae_model_cfg {
    float freeze_randn[VAE_LATENT];
    int32_t n_freeze_randn;
} vae_model_cfg;

static const sscma_field model_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("encode"),
    SSCMA_FIELD_KEY("decode"),
    SSCMA_FIELD_KEY("loss"),
    SSCMA_FIELD_LIST_AS("freeze_randn", vae_model_cfg, freeze_randn, offsetof(vae_model_cfg, n_freeze_randn),
                        VAE_LATENT, 0, -INFINITY, INFINITY, 0),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

/* Vae_Encode(x_size, in_channel, out_channel, conv) and Vae_Decode(x_size, out_channel, in_channel, conv) */
typedef struct vae_part_cfg {
    int64_t x_size, in_channel, out_channel;
    const char *conv;
} vae_part_cfg;

static const sscma_field part_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("x_size", vae_part_cfg, x_size, 32, true, 4, 1024, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("in_channel", vae_part_cfg, in_channel, 3, true, 1, 256, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("out_channel", vae_part_cfg, out_channel, 8, true, 1, 256, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_STRING(vae_part_cfg, conv, "Conv_block2D"),
    SSCMA_FIELD_END,
};

static const sscma_field loss_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_END,
};

static const char *const encode_types[] = {"Vae_Encode", "sscma.Vae_Encode", NULL};
static const char *const decode_types[] = {"Vae_Decode", "sscma.Vae_Decode", NULL};
static const char *const loss_types[] = {"MSELoss", "nn.MSELoss", "torch.nn.MSELoss", NULL};

/* PyTorch's default init of the node just added (conv2d or linear): U(+-1/sqrt(fan_in)) on weight and bias. */
static void torch_default_init(zoo *z, int32_t y)
{
    if (z->st != SSCMA_OK || y < 0)
        return;
    const sscma_node *nd = &z->g->nodes[z->g->n_nodes - 1];
    const sscma_desc *w = zoo_desc(z, nd->in[1]);
    int64_t fan_in = 1;
    for (int32_t d = 1; d < w->rank; d++)
        fan_in *= w->dims[d];
    for (int32_t k = 1; k < nd->n_in; k++) {
        z->g->values[nd->in[k]].init = SSCMA_INIT_UNIFORM;
        z->g->values[nd->in[k]].init_scale = (float)(1.0 / sqrt((double)fan_in));
    }
}

/* "<a><b>" into buf: layer names are short literals, well within the buffers */
static const char *join(char *buf, size_t size, const char *a, const char *b)
{
    if (snprintf(buf, size, "%s%s", a, b) >= (int)size)
        buf[0] = '\0';
    return buf;
}

static int32_t conv(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k)
{
    int32_t y = zoo_conv(z, name, x, cout, k, 1, 1, true);
    torch_default_init(z, y);
    return y;
}

static int32_t linear(zoo *z, const char *name, int32_t x, int64_t out)
{
    int32_t y = zoo_linear(z, name, x, out);
    torch_default_init(z, y);
    return y;
}

/* A second use of the linear layer that produced `like` (SSCMA calls one nn.Linear on both paths): same weights. */
static int32_t shared_linear(zoo *z, const char *name, int32_t x, int32_t like)
{
    if (z->st != SSCMA_OK || x < 0 || like < 0)
        return -1;
    const sscma_node *src = &z->g->nodes[z->g->values[like].producer];
    const int32_t in[3] = {x, src->in[1], src->in[2]};
    const sscma_linear_attrs lin = {0};
    return zoo_op(z, name, "linear", &lin, in, 3);
}

static int32_t relu(zoo *z, const char *name, int32_t x)
{
    const sscma_act_attrs none = {0.0f};
    return zoo_op(z, name, "relu", &none, &x, 1);
}

/* Conv2d(3x3, pad 1, bias) at name.0, BatchNorm2d at name.1, ReLU */
static int32_t conv_bn_relu(zoo *z, const char *name, int32_t x, int64_t cout)
{
    char n[200];
    x = conv(z, join(n, sizeof n, name, ".0"), x, cout, 3);
    return zoo_bn(z, join(n, sizeof n, name, ".1"), x, SSCMA_ACT_RELU);
}

/* Conv_block2D(i, o, layer_num=1) */
static int32_t conv_block(zoo *z, const char *name, int32_t x, int64_t cout)
{
    char n[200];
    return conv_bn_relu(z, join(n, sizeof n, name, ".conv_block.0"), x, cout);
}

static int32_t down_sample(zoo *z, const char *name, int32_t x)
{
    char n[200];
    const sscma_space_depth_attrs a = {2, SSCMA_BLOCK_ORDER_SSCMA};
    int32_t y = zoo_op(z, join(n, sizeof n, name, ".space_to_depth"), "space_to_depth", &a, &x, 1);
    return conv_bn_relu(z, join(n, sizeof n, name, ".down_sample"), y, x < 0 ? 0 : zoo_desc(z, x)->dims[3]);
}

static int32_t up_sample(zoo *z, const char *name, int32_t x)
{
    char n[200];
    const sscma_space_depth_attrs a = {2, SSCMA_BLOCK_ORDER_SSCMA};
    const int64_t c = x < 0 ? 0 : zoo_desc(z, x)->dims[3];
    int32_t y = conv(z, join(n, sizeof n, name, ".up_sample.0"), x, 4 * c, 3);
    y = zoo_op(z, join(n, sizeof n, name, ".depth_to_space"), "depth_to_space", &a, &y, 1);
    return conv_bn_relu(z, join(n, sizeof n, name, ".trans"), y, c);
}

static int32_t add(zoo *z, const char *name, int32_t a, int32_t b)
{
    const int32_t in[2] = {a, b};
    return zoo_op(z, name, "add", NULL, in, 2);
}

/* NHWC [N, H, W, C] to PyTorch's x.view(N, -1) of the NCHW tensor: [N, C H W] */
static int32_t flatten_nchw(zoo *z, const char *name, int32_t x)
{
    char n[200];
    const sscma_transpose_attrs to_nchw = {4, {0, 3, 1, 2}};
    int32_t y = zoo_op(z, join(n, sizeof n, name, ".to_nchw"), "transpose", &to_nchw, &x, 1);
    const sscma_reshape_attrs flat = {2, {-1, y < 0 ? 0 : zoo_desc(z, y)->dims[1] * zoo_desc(z, y)->dims[2] *
                                                              zoo_desc(z, y)->dims[3]}};
    return zoo_op(z, join(n, sizeof n, name, ".flatten"), "reshape", &flat, &y, 1);
}

/* [N, C H W] viewed as NCHW [N, C, H, W] (PyTorch's view), returned as NHWC */
static int32_t view_nhwc(zoo *z, const char *name, int32_t x, int64_t c, int64_t h, int64_t w)
{
    char n[200];
    const sscma_reshape_attrs view = {4, {-1, c, h, w}};
    int32_t y = zoo_op(z, join(n, sizeof n, name, ".view"), "reshape", &view, &x, 1);
    const sscma_transpose_attrs to_nhwc = {4, {0, 2, 3, 1}};
    return zoo_op(z, join(n, sizeof n, name, ".to_nhwc"), "transpose", &to_nhwc, &y, 1);
}

/* [N]: the mean over each sample's elements of (recon - target)^2 (mse_loss without reduction, then averaged) */
static int32_t sample_mse(zoo *z, const char *name, int32_t recon, int32_t target)
{
    char n[200];
    const sscma_regression_loss_attrs none = {SSCMA_REDUCTION_NONE, 1.0f};
    const int32_t pair[2] = {recon, target};
    int32_t y = zoo_op(z, join(n, sizeof n, name, ".squared"), "mse_loss", &none, pair, 2);
    const sscma_desc *d = y < 0 ? NULL : zoo_desc(z, y);
    const sscma_reshape_attrs rows = {4, {-1, d == NULL ? 1 : d->dims[1] * d->dims[2] * d->dims[3], 1, 1}};
    y = zoo_op(z, join(n, sizeof n, name, ".rows"), "reshape", &rows, &y, 1);
    y = zoo_op(z, join(n, sizeof n, name, ".mean"), "global_avg_pool", NULL, &y, 1);
    const sscma_reshape_attrs flat = {1, {-1}};
    return zoo_op(z, join(n, sizeof n, name, ".flat"), "reshape", &flat, &y, 1);
}

static bool read_part(zoo *z, json_t *cfg, const char *key, const char *const *types, vae_part_cfg *out)
{
    int which = 0;
    char path[64];
    snprintf(path, sizeof path, "model.%s", key);
    json_t *part = zoo_part(z, cfg, "model", key, types, false, &which);
    if (!zoo_read(z, part_fields, part, types[0], path, out))
        return false;
    if (strcmp(out->conv, "Conv_block2D") != 0 && strcmp(out->conv, "sscma.Conv_block2D") != 0)
        return zoo_fail(z, types[0], path, "conv", "expected \"Conv_block2D\" (the only 2-D block), got \"%s\"",
                        out->conv) == SSCMA_OK;
    if (out->x_size % 4 != 0)
        return zoo_fail(z, types[0], path, "x_size", "expected a multiple of 4 (two 2x down-samplings), got %lld",
                        (long long)out->x_size) == SSCMA_OK;
    return true;
}

sscma_status zoo_build_vae(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    vae_model_cfg m;
    vae_part_cfg e, d;
    int which = 0;
    if (!zoo_read(z, model_fields, cfg, "Vae_Model", "model", &m) ||
        !read_part(z, cfg, "encode", encode_types, &e) || !read_part(z, cfg, "decode", decode_types, &d))
        return z->st;
    json_t *loss = zoo_part(z, cfg, "model", "loss", loss_types, false, &which);
    if (!zoo_read(z, loss_fields, loss, "MSELoss", "model.loss", &which))
        return z->st;
    if (d.x_size != e.x_size || d.in_channel != e.in_channel || d.out_channel != e.out_channel) {
        char want[96];
        snprintf(want, sizeof want, "x_size %lld, in_channel %lld, out_channel %lld as model.encode",
                 (long long)e.x_size, (long long)e.in_channel, (long long)e.out_channel);
        return zoo_expected(z, "Vae_Decode", "model", "decode", want, json_object_get(cfg, "decode"));
    }
    const int64_t s = e.x_size, ci = e.in_channel, co = e.out_channel;

    const int64_t input_dims[4] = {1, s, s, 2 * ci};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, input_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    const sscma_axis_attrs halves = {-1, 2, {ci, ci}};
    int32_t xc[SSCMA_OP_MAX_OUTPUTS], n_xc = 0;
    if ((z->st = sscma_graph_add_node(z->g, "split_x_c", "split", &halves, &io->image, 1, xc, &n_xc)) != SSCMA_OK)
        return z->st;
    const int32_t x_in = xc[0], c_in = xc[1];

    /* Vae_Encode */
    int32_t x = conv(z, "encode.patch_embed", x_in, ci, 3);
    const int32_t res_x1 = x;
    x = conv_block(z, "encode.conv1", x, co);
    x = down_sample(z, "encode.down_sample", x);
    const int32_t res_x2 = x;
    x = add(z, "encode.add_conv2", x, conv_block(z, "encode.conv2", x, co));
    x = down_sample(z, "encode.down_sample2", x);
    const int32_t res_x3 = x;
    const int64_t ln_dims = co * (s / 4) * (s / 4);
    int32_t unused;
    if ((z->st = sscma_graph_add_param(z->g, "encode.lnorm.weight", SSCMA_VALUE_PARAM, 1, &ln_dims, 0,
                                       SSCMA_INIT_ONES, 0.0f, &unused)) != SSCMA_OK ||
        (z->st = sscma_graph_add_param(z->g, "encode.lnorm.bias", SSCMA_VALUE_PARAM, 1, &ln_dims, 0,
                                       SSCMA_INIT_ZEROS, 0.0f, &unused)) != SSCMA_OK)
        return z->st;
    x = relu(z, "encode.relu_x_fc1", linear(z, "encode.fc1", flatten_nchw(z, "encode.x", x), VAE_MIDDLE));
    const int32_t mu = linear(z, "encode.fc2_mu", x, VAE_LATENT);
    const int32_t logvar = linear(z, "encode.fc2_logvar", x, VAE_LATENT);

    int32_t c = conv(z, "encode.patch_embed_c", c_in, co, 1);
    c = conv_block(z, "encode.conv1_c", c, co);
    c = down_sample(z, "encode.down_sample_c", c);
    c = add(z, "encode.add_conv2_c", c, conv_block(z, "encode.conv2_c", c, co));
    c = relu(z, "encode.relu_c_fc1", linear(z, "encode.fc_c1", flatten_nchw(z, "encode.c", c), VAE_MIDDLE));
    /* the x path's heads, shared */
    const int32_t mu_c = shared_linear(z, "encode.fc2_mu.c", c, mu);
    const int32_t logvar_c = shared_linear(z, "encode.fc2_logvar.c", c, logvar);

    /* reparameterize: eps from freeze_randn when given (an untrained parameter, as SSCMA registers it) */
    int32_t eps = -1;
    if (m.n_freeze_randn > 0) {
        const int64_t eps_dims = VAE_LATENT;
        if ((z->st = sscma_graph_add_param(z->g, "freeze_randn", SSCMA_VALUE_PARAM, 1, &eps_dims, 0,
                                           SSCMA_INIT_ZEROS, 0.0f, &eps)) != SSCMA_OK ||
            (z->st = sscma_graph_set_init_offset(z->g, eps, m.freeze_randn)) != SSCMA_OK)
            return z->st;
    }
    int32_t rin[3] = {mu, logvar, eps};
    const int32_t zx = zoo_op(z, "reparameterize", "reparameterize", NULL, rin, eps >= 0 ? 3 : 2);
    rin[0] = mu_c, rin[1] = logvar_c;
    const int32_t zc = zoo_op(z, "reparameterize_c", "reparameterize", NULL, rin, eps >= 0 ? 3 : 2);

    /* Vae_Decode */
    const int32_t dec_fc1 = linear(z, "decode.fc1", zx, VAE_MIDDLE);
    x = relu(z, "decode.relu_x_fc1", dec_fc1);
    x = relu(z, "decode.relu_x_fc2", linear(z, "decode.fc2", x, co * (s / 4) * (s / 4)));
    x = add(z, "decode.add_res_x3", view_nhwc(z, "decode.x", x, co, s / 4, s / 4), res_x3);
    x = up_sample(z, "decode.up_sample2", x);
    x = add(z, "decode.add_conv1", conv_block(z, "decode.conv1", x, co), x);
    x = add(z, "decode.add_res_x2", x, res_x2);
    x = up_sample(z, "decode.up_sample", x);
    x = conv_block(z, "decode.conv2", x, ci);
    x = add(z, "decode.add_res_x1", x, res_x1);
    x = zoo_bn(z, "decode.bn", conv(z, "decode.patch_debed", x, ci, 3), SSCMA_ACT_NONE);
    const int32_t x_recon = conv(z, "decode.patch_debed2", x, ci, 1);

    c = relu(z, "decode.relu_c_fc1", shared_linear(z, "decode.fc1.c", zc, dec_fc1));
    c = relu(z, "decode.relu_c_fc2", linear(z, "decode.fc_c2", c, co * (s / 2) * (s / 2)));
    c = view_nhwc(z, "decode.c", c, co, s / 2, s / 2);
    c = add(z, "decode.add_conv_c_1", conv_block(z, "decode.conv_c_1", c, co), c);
    c = up_sample(z, "decode.up_sample_c", c);
    c = conv_block(z, "decode.conv_c_2", c, ci);
    const int32_t c_recon = conv(z, "decode.patch_debed_c", c, ci, 1);

    /* loss: the two reconstructions' mean squared errors and the two KL terms */
    const sscma_regression_loss_attrs mse = {SSCMA_REDUCTION_MEAN, 1.0f};
    int32_t pair[2] = {x_recon, x_in};
    const int32_t loss_x = zoo_op(z, "loss_x", "mse_loss", &mse, pair, 2);
    pair[0] = c_recon, pair[1] = c_in;
    const int32_t loss_c = zoo_op(z, "loss_c", "mse_loss", &mse, pair, 2);
    pair[0] = mu, pair[1] = logvar;
    const int32_t kl_x = zoo_op(z, "kl_x", "gaussian_kl", NULL, pair, 2);
    pair[0] = mu_c, pair[1] = logvar_c;
    const int32_t kl_c = zoo_op(z, "kl_c", "gaussian_kl", NULL, pair, 2);
    const int32_t total = add(z, "loss_sum", add(z, "loss_mse", loss_x, loss_c), add(z, "loss_kl", kl_x, kl_c));
    /* the anomaly score per sample (no gradient flows through it: the loss does not read it) */
    const int32_t score = add(z, "score", sample_mse(z, "score_x", x_recon, x_in), sample_mse(z, "score_c", c_recon, c_in));
    if (z->st != SSCMA_OK)
        return z->st;

    const int32_t outs[8] = {x_recon, c_recon, mu, logvar, mu_c, logvar_c, total, score};
    static const char *const names[8] = {"x_recon", "c_recon", "mu", "logvar", "mu_c", "logvar_c", "loss", "score"};
    for (int i = 0; i < 8; i++)
        io->outputs[i] = outs[i], io->output_names[i] = names[i];
    io->n_outputs = 8;
    io->loss = total;
    return SSCMA_OK;
}
