#!/usr/bin/python3
"""Weights trained elsewhere load into libsscma and give the same outputs: a PyTorch reference model with random
weights and updated batch-norm statistics is saved as a state_dict, converted with tools/torch2sscma.py, loaded with
sscma_model_load (through ctypes), and run on the same images in evaluation mode; logits must match within 1e-4.

    torch_roundtrip.py LIBSSCMA_SO SOURCE_ROOT        (exit 77 = skipped: no torch)
"""
import ctypes
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError:
    print("torch or numpy missing: skipped")
    sys.exit(77)


def main():
    lib_path, root = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(root, "tests", "golden"))
    from ref_models import ImageClassifier

    torch.manual_seed(3)
    ref = ImageClassifier(widen_factor=0.35, in_channels=3, num_classes=7)
    ref.train()
    with torch.no_grad():  # move the running statistics away from 0 / 1
        for _ in range(3):
            ref(torch.randn(8, 3, 48, 48) * 2 + 0.5)
    ref.eval()
    images = np.random.default_rng(0).standard_normal((5, 48, 48, 3)).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(images).permute(0, 3, 1, 2)).numpy()
    config = {"type": "ImageClassifier", "input_size": [48, 48],
              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35},
              "head": {"type": "LinearClsHead", "num_classes": 7}}
    with tempfile.TemporaryDirectory() as tmp:
        sd, cfg, ckpt = (os.path.join(tmp, n) for n in ("ref.pth", "model.json", "model.ckpt"))
        torch.save(ref.state_dict(), sd)
        with open(cfg, "w") as f:
            json.dump(config, f)
        subprocess.run([sys.executable, os.path.join(root, "tools", "torch2sscma.py"), sd, cfg, ckpt, "--compress"],
                       check=True)
        lib = ctypes.CDLL(lib_path)
        vp = ctypes.c_void_p
        lib.sscma_last_error.restype = ctypes.c_char_p
        ctx, model, tensor, data = vp(), vp(), vp(), vp()

        def ok(status, what):
            if status != 0:
                raise SystemExit(f"{what}: {lib.sscma_last_error().decode()}")

        ok(lib.sscma_context_create(None, ctypes.byref(ctx)), "context")
        ok(lib.sscma_model_create(ctx, json.dumps(config).encode(), ctypes.byref(model)), "model")
        ok(lib.sscma_model_load(model, ckpt.encode()), "load")
        ok(lib.sscma_model_prepare(model, ctypes.c_int64(5), 0), "prepare")
        ok(lib.sscma_model_input(model, b"image", ctypes.byref(tensor)), "input")
        ok(lib.sscma_tensor_data(tensor, ctypes.byref(data)), "data")
        ctypes.memmove(data, images.ctypes.data, images.nbytes)
        ok(lib.sscma_model_forward(model), "forward")
        ok(lib.sscma_model_output(model, b"logits", ctypes.byref(tensor)), "output")
        ok(lib.sscma_tensor_data(tensor, ctypes.byref(data)), "data")
        got = np.ctypeslib.as_array(ctypes.cast(data, ctypes.POINTER(ctypes.c_float)), shape=expected.shape).copy()
        lib.sscma_model_destroy(model)
        lib.sscma_context_destroy(ctx)
    err = np.abs(got - expected) / (np.abs(expected) + np.sqrt((expected ** 2).mean()))
    print(f"logits: max relative error {err.max():.2e} over {expected.size} values")
    if err.max() > 1e-4:
        print("FAIL: libsscma's logits differ from PyTorch's beyond 1e-4")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
