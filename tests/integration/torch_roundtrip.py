#!/usr/bin/python3
"""Weights trained elsewhere load into libsscma and give the same outputs: a PyTorch reference model with random
weights and updated batch-norm statistics is saved as a state_dict, converted with tools/torch2sscma.py, loaded with
sscma_model_load (through ctypes), and run on the same images in evaluation mode; logits must match within 1e-4.
The same for Swift-YOLO-tiny (mmyolo's YOLOv5 state_dict names; the raw maps p3, p4, p5), which also checks that
every tensor of the PyTorch state_dict has its libsscma parameter (the loader rejects a missing or extra name), and
for SSCMA's RTMDet-nano (relu variant: channel attention, split max pools; outputs cls_l and reg_l) and SSCMA's
keyword spotter (Audio_classify: Conv1d weights and the AADownsample `filt` buffers under SSCMA's names).

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


def roundtrip(lib_path, root, ref, config, images, outputs):
    """PyTorch's outputs (NCHW maps as NHWC) and libsscma's after torch2sscma, for each output name."""
    ref.eval()
    with torch.no_grad():
        result = ref(torch.from_numpy(images).permute(0, 3, 1, 2))
    result = result if isinstance(result, (list, tuple)) else [result]
    result = [r for x in result for r in (x if isinstance(x, (list, tuple)) else [x])]  # RTMDet: (cls, reg) lists
    expected = [r.permute(0, 2, 3, 1).numpy() if r.dim() == 4 else r.numpy() for r in result]
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
        ok(lib.sscma_model_prepare(model, ctypes.c_int64(images.shape[0]), 0), "prepare")
        ok(lib.sscma_model_input(model, b"image", ctypes.byref(tensor)), "input")
        ok(lib.sscma_tensor_data(tensor, ctypes.byref(data)), "data")
        ctypes.memmove(data, images.ctypes.data, images.nbytes)
        ok(lib.sscma_model_forward(model), "forward")
        got = []
        for name, want in zip(outputs, expected):
            ok(lib.sscma_model_output(model, name.encode(), ctypes.byref(tensor)), "output")
            ok(lib.sscma_tensor_data(tensor, ctypes.byref(data)), "data")
            got.append(np.ctypeslib.as_array(ctypes.cast(data, ctypes.POINTER(ctypes.c_float)),
                                             shape=want.shape).copy())
        lib.sscma_model_destroy(model)
        lib.sscma_context_destroy(ctx)
    failed = 0
    for name, want, have in zip(outputs, expected, got):
        err = np.abs(have - want) / (np.abs(want) + np.sqrt((want ** 2).mean()))
        print(f"{config['type']} {name}: max relative error {err.max():.2e} over {want.size} values")
        if err.max() > 1e-4:
            print(f"FAIL: libsscma's {name} differs from PyTorch's beyond 1e-4")
            failed = 1
    return failed


def warm_statistics(ref, shape):
    """A few training-mode forwards move the running statistics away from 0 / 1."""
    ref.train()
    with torch.no_grad():
        for _ in range(3):
            ref(torch.randn(*shape) * 2 + 0.5)


def main():
    lib_path, root = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(root, "tests", "golden"))
    from ref_models import AudioClassify, RTMDet, ImageClassifier, SwiftYOLO

    torch.manual_seed(3)
    ref = ImageClassifier(widen_factor=0.35, in_channels=3, num_classes=7)
    warm_statistics(ref, (8, 3, 48, 48))
    images = np.random.default_rng(0).standard_normal((5, 48, 48, 3)).astype(np.float32)
    config = {"type": "ImageClassifier", "input_size": [48, 48],
              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35},
              "head": {"type": "LinearClsHead", "num_classes": 7}}
    failed = roundtrip(lib_path, root, ref, config, images, ["logits"])

    # Swift-YOLO-tiny, 2 classes, random weights (PyTorch's default init) with mmyolo's head bias priors
    torch.manual_seed(19)
    yolo = SwiftYOLO(num_classes=2, deepen_factor=0.33, widen_factor=0.15)
    yolo.bbox_head.head_module.init_weights()
    warm_statistics(yolo, (4, 3, 96, 96))
    images = np.random.default_rng(1).uniform(0, 1, (2, 96, 96, 3)).astype(np.float32)
    relu = {"type": "ReLU", "inplace": True}
    bn = {"type": "BN", "momentum": 0.03, "eps": 0.001}
    config = {"type": "YOLODetector", "input_size": [96, 96],
              "backbone": {"type": "YOLOv5CSPDarknet", "deepen_factor": 0.33, "widen_factor": 0.15,
                           "norm_cfg": bn, "act_cfg": relu},
              "neck": {"type": "YOLOv5PAFPN", "deepen_factor": 0.33, "widen_factor": 0.15,
                       "in_channels": [256, 512, 1024], "out_channels": [256, 512, 1024], "num_csp_blocks": 3,
                       "norm_cfg": bn, "act_cfg": relu},
              "bbox_head": {"type": "YOLOv5Head",
                            "head_module": {"type": "YOLOv5HeadModule", "num_classes": 2,
                                            "in_channels": [256, 512, 1024], "widen_factor": 0.15}}}
    failed |= roundtrip(lib_path, root, yolo, config, images, ["p3", "p4", "p5"])

    # RTMDet-nano as SSCMA's rtmdet_nano_8xb32_300e_coco_relu builds it, 3 classes, PyTorch's default init
    torch.manual_seed(20)
    rtm = RTMDet(num_classes=3)
    warm_statistics(rtm, (4, 3, 64, 96))
    images = np.random.default_rng(2).uniform(0, 1, (2, 64, 96, 3)).astype(np.float32)
    bn = {"type": "BatchNorm2d"}
    config = {"type": "RTMDet", "input_size": [64, 96],
              "backbone": {"type": "CSPNeXt", "deepen_factor": 0.33, "widen_factor": 0.25, "channel_attention": True,
                           "split_max_pool_kernel": True, "norm_cfg": bn, "act_cfg": relu},
              "neck": {"type": "CSPNeXtPAFPN", "deepen_factor": 0.33, "widen_factor": 0.25,
                       "in_channels": [256, 512, 1024], "out_channels": 256, "num_csp_blocks": 3,
                       "norm_cfg": bn, "act_cfg": relu},
              "bbox_head": {"type": "RTMDetHead",
                            "head_module": {"type": "RTMDetSepBNHeadModule", "num_classes": 3, "in_channels": 256,
                                            "feat_channels": 256, "widen_factor": 0.25, "share_conv": False,
                                            "norm_cfg": bn, "act_cfg": relu},
                            "prior_generator": {"type": "MlvlPointGenerator", "offset": 0, "strides": [8, 16, 32]}}}
    failed |= roundtrip(lib_path, root, rtm, config, images, ["cls_0", "cls_1", "cls_2", "reg_0", "reg_1", "reg_2"])

    # Audio_classify (SoundNetRaw + Audio_head) as SSCMA's KWS recipe builds it, 6 classes, clips of 1024 samples,
    # its conv weights N(0, 0.3) so that the logits depend on the clip
    torch.manual_seed(21)
    kws = AudioClassify(6, drop=0.2)
    with torch.no_grad():
        for name, p in kws.named_parameters():
            if p.dim() == 3:
                p.normal_(0.0, 0.3)
    warm_statistics(kws, (4, 1, 1024))
    images = np.random.default_rng(3).standard_normal((3, 1, 1024, 1)).astype(np.float32)
    config = {"type": "Audio_classify", "n_cls": 6, "segment_length": 1024,
              "loss": {"type": "LabelSmoothCrossEntropyLoss", "reduction": "sum", "smoothing": 0.1},
              "backbone": {"type": "SoundNetRaw", "nf": 2, "clip_length": 64, "factors": [4, 4, 4], "out_channel": 36},
              "head": {"type": "Audio_head", "in_channels": 36, "n_classes": 6, "drop": 0.2}}
    failed |= roundtrip(lib_path, root, kws, config, images, ["logits"])
    return failed


if __name__ == "__main__":
    sys.exit(main())
