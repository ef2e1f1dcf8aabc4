#!/usr/bin/python3
"""Golden values for SSCMA's anomaly Vae_Model (ModelAssistant main: sscma/models/detectors/anomaly.py,
sscma/models/layers/encode.py, decode.py, Conv_block2D), written from scratch here in float64 with SSCMA's module
names, so that its state_dict keys are libsscma's parameter names.

Weights: gen_models.py's weights_for fill (test_zoo.c's fill_reference is its C twin), freeze_randn included (a
parameter of SSCMA's model when set, as here: eps is fixed, so the training forward is deterministic). Writes
tests/golden/vae.bin with, for x_size 32, in_channel 3, out_channel 8, batch 2 (input seed 2112): the input in
libsscma's layout ([N, 32, 32, 6] NHWC, x then c), the parameter count (193,504 without freeze_randn), in training
mode x_recon and c_recon (NHWC), mu, logvar, mu_c, logvar_c, the loss (MSE means + KL summed over the latent and
averaged over the batch), every parameter's gradient (conv weights OHWI; of a
weight over 4096 values its first rows), the batch norms' running statistics after
that forward; in evaluation mode the outputs with eps = freeze_randn, and without freeze_randn (eps = 0:
libsscma's choice for evaluation and export, where SSCMA would draw).

Run: /usr/bin/python3 tests/golden/gen_vae.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_models import add, load_weights, records, to_ohwi  # noqa: E402
from golden_io import write_golden  # noqa: E402

torch.set_default_dtype(torch.float64)
LATENT, MIDDLE = 64, 32


class ConvBlock2D(nn.Module):
    """Conv_block2D(i, o, layer_num=1): conv_block.0 = Conv2d(3x3, pad 1) + BN + ReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv_block = nn.ModuleList([nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU())])

    def forward(self, x):
        return self.conv_block[0](x)


class DownSample(nn.Module):
    """Channel groups by (row, col) offset (0,0), (1,0), (0,1), (1,1), then Conv2d(4c, c) + BN + ReLU."""

    def __init__(self, c):
        super().__init__()
        self.down_sample = nn.Sequential(nn.Conv2d(4 * c, c, 3, 1, 1), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x):
        parts = [x[:, :, dy::2, dx::2] for dx in (0, 1) for dy in (0, 1)]
        return self.down_sample(torch.cat(parts, 1))


class UpSample(nn.Module):
    """Conv2d(c, 4c), channel group g to offset (g % 2, g // 2) (row, col), then trans = Conv2d + BN + ReLU."""

    def __init__(self, c):
        super().__init__()
        self.up_sample = nn.Sequential(nn.Conv2d(c, 4 * c, 3, 1, 1))
        self.trans = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.up_sample(x)
        out = torch.zeros(b, c, 2 * h, 2 * w, dtype=y.dtype)
        for g in range(4):
            dy, dx = g % 2, g // 2
            out[:, :, dy::2, dx::2] = y[:, g * c:(g + 1) * c]
        return self.trans(out)


class Encode(nn.Module):
    def __init__(self, s, ci, co):
        super().__init__()
        self.patch_embed = nn.Conv2d(ci, ci, 3, 1, 1)
        self.conv1 = ConvBlock2D(ci, co)
        self.down_sample = DownSample(co)
        self.conv2 = ConvBlock2D(co, co)
        self.down_sample2 = DownSample(co)
        self.lnorm = nn.LayerNorm((s // 4) ** 2 * co)  # never applied, as upstream
        self.fc1 = nn.Linear((s // 4) ** 2 * co, MIDDLE)
        self.fc2_mu = nn.Linear(MIDDLE, LATENT)
        self.fc2_logvar = nn.Linear(MIDDLE, LATENT)
        self.patch_embed_c = nn.Conv2d(ci, co, 1)
        self.conv1_c = ConvBlock2D(co, co)
        self.down_sample_c = DownSample(co)
        self.conv2_c = ConvBlock2D(co, co)
        self.fc_c1 = nn.Linear((s // 2) ** 2 * co, MIDDLE)

    def forward(self, x, c):
        x = self.patch_embed(x)
        res_x1 = x
        x = self.down_sample(self.conv1(x))
        res_x2 = x
        x = self.down_sample2(x + self.conv2(x))
        res_x3 = x
        x = F.relu(self.fc1(x.reshape(x.shape[0], -1)))
        c = self.down_sample_c(self.conv1_c(self.patch_embed_c(c)))
        c = c + self.conv2_c(c)
        c = F.relu(self.fc_c1(c.reshape(c.shape[0], -1)))
        return self.fc2_mu(x), self.fc2_mu(c), self.fc2_logvar(x), self.fc2_logvar(c), res_x1, res_x2, res_x3


class Decode(nn.Module):
    def __init__(self, s, co, ci):
        super().__init__()
        self.s, self.co = s, co
        self.fc1 = nn.Linear(LATENT, MIDDLE)
        self.fc2 = nn.Linear(MIDDLE, (s // 4) ** 2 * co)
        self.up_sample2 = UpSample(co)
        self.conv1 = ConvBlock2D(co, co)
        self.up_sample = UpSample(co)
        self.conv2 = ConvBlock2D(co, ci)
        self.patch_debed = nn.Conv2d(ci, ci, 3, 1, 1)
        self.bn = nn.BatchNorm2d(ci)
        self.patch_debed2 = nn.Conv2d(ci, ci, 1)
        self.conv_c_1 = ConvBlock2D(co, co)
        self.up_sample_c = UpSample(co)
        self.conv_c_2 = ConvBlock2D(co, ci)
        self.fc_c2 = nn.Linear(MIDDLE, (s // 4) ** 2 * co * 4)
        self.patch_debed_c = nn.Conv2d(ci, ci, 1)

    def forward(self, z1, z2, res_x1, res_x2, res_x3):
        q = self.s // 4
        x = F.relu(self.fc2(F.relu(self.fc1(z1)))).reshape(-1, self.co, q, q) + res_x3
        x = self.up_sample2(x)
        x = self.conv1(x) + x + res_x2
        x = self.conv2(self.up_sample(x)) + res_x1
        x = self.patch_debed2(self.bn(self.patch_debed(x)))
        c = F.relu(self.fc_c2(F.relu(self.fc1(z2)))).reshape(-1, self.co, 2 * q, 2 * q)
        c = self.conv_c_1(c) + c
        c = self.patch_debed_c(self.conv_c_2(self.up_sample_c(c)))
        return x, c


class VaeModel(nn.Module):
    def __init__(self, s=32, ci=3, co=8, freeze=True):
        super().__init__()
        if freeze:
            self.freeze_randn = nn.Parameter(torch.zeros(LATENT), requires_grad=False)
        else:
            self.freeze_randn = None
        self.encode = Encode(s, ci, co)
        self.decode = Decode(s, co, ci)

    def reparameterize(self, mu, logvar):
        eps = self.freeze_randn if self.freeze_randn is not None else torch.zeros_like(mu)
        return mu + eps * torch.exp(0.5 * logvar)

    def forward(self, x, c):
        mu, mu_c, logvar, logvar_c, r1, r2, r3 = self.encode(x, c)
        xr, cr = self.decode(self.reparameterize(mu, logvar), self.reparameterize(mu_c, logvar_c), r1, r2, r3)
        n = x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp()) / n
        kl_c = -0.5 * torch.sum(1 + logvar_c - mu_c * mu_c - logvar_c.exp()) / n
        loss = F.mse_loss(xr, x) + F.mse_loss(cr, c) + kl + kl_c
        return xr, cr, mu, logvar, mu_c, logvar_c, loss


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy()


def record_outputs(prefix, outs):
    xr, cr, mu, logvar, mu_c, logvar_c, loss = outs
    add(f"{prefix}/x_recon", nhwc(xr))
    add(f"{prefix}/c_recon", nhwc(cr))
    for name, t in (("mu", mu), ("logvar", logvar), ("mu_c", mu_c), ("logvar_c", logvar_c), ("loss", loss)):
        add(f"{prefix}/{name}", t.detach().numpy())


def main():
    rng = np.random.default_rng(2112)
    image = rng.standard_normal((2, 32, 32, 6)).astype(np.float32)
    add("vae/image", image)
    t = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
    x, c = t[:, :3].contiguous(), t[:, 3:].contiguous()

    model = VaeModel()
    load_weights(model)
    add("vae/params", np.array([sum(p.numel() for n, p in model.named_parameters() if n != "freeze_randn")],
                               dtype=np.int32))
    model.train()
    outs = model(x, c)
    record_outputs("vae/train", outs)
    outs[-1].backward()
    for name, p in model.named_parameters():
        if name == "freeze_randn":
            continue
        g = p.grad if p.grad is not None else torch.zeros_like(p)  # lnorm: unused, no gradient
        g = to_ohwi(g).numpy()
        rows = max(1, 4096 // (g.size // g.shape[0]))  # the large linear layers: their first rows (a small file)
        add(f"vae/grad/{name}", g[:rows])
    for name, b in model.named_buffers():
        if "running" in name:
            add(f"vae/stats/{name}", b.numpy())

    load_weights(model)
    model.eval()
    with torch.no_grad():
        record_outputs("vae/eval", model(x, c))
        plain = VaeModel(freeze=False)
        load_weights(plain)
        plain.eval()
        record_outputs("vae/eval_noeps", plain(x, c))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vae.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    sys.exit(main())
