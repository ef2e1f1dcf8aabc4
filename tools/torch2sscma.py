#!/usr/bin/python3
"""Converts a PyTorch state_dict of a libsscma reference architecture into a libsscma checkpoint.

    torch2sscma.py STATE_DICT.pth MODEL_CONFIG.json OUT.ckpt [--compress]

STATE_DICT.pth: a file saved with torch.save(model.state_dict()) — or an mmengine/SSCMA checkpoint, whose
"state_dict" entry is used. Parameter names must be those of the reference implementations in
tests/golden/ref_models.py (the same names libsscma uses, e.g. backbone.features.0.0.weight, head.fc.weight).
Convolution weights are transposed from OIHW to libsscma's OHWI (Conv1d's [O, I, k] to [O, 1, k, I]);
num_batches_tracked buffers are dropped, and so are SSCMA's RepConv1x1 fuse_conv.weight / .bias (MobileNetv2 with
rep=True: rep() recomputes them from the branches at eval(); libsscma fuses the branches when it exports).
MODEL_CONFIG.json: the model config the checkpoint will be loaded into (stored in the checkpoint header).

The output follows docs/file-formats.md and is written atomically (temporary file, then rename).
"""
import argparse
import json
import os
import struct
import sys
import tempfile
import zlib

import numpy as np


def load_state_dict(path):
    import torch

    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise SystemExit(f"torch2sscma: {path}: not a state_dict (a dict of tensors)")
    out = {}
    for name, value in obj.items():
        if name.endswith("num_batches_tracked") or name.endswith((".fuse_conv.weight", ".fuse_conv.bias")):
            continue
        if not hasattr(value, "detach"):
            raise SystemExit(f"torch2sscma: {path}: entry '{name}' is not a tensor")
        array = value.detach().cpu().numpy().astype(np.float32)
        if array.ndim == 4:  # OIHW -> OHWI
            array = np.ascontiguousarray(array.transpose(0, 2, 3, 1))
        elif array.ndim == 3:  # Conv1d [O, I, k] (and SoundNet's filt [C, 1, k]) -> [O, 1, k, I]
            array = np.ascontiguousarray(array.transpose(0, 2, 1)[:, None, :, :])
        out[name] = array
    return out


def write_checkpoint(path, tensors, config, family, compress=False):
    entries, blobs, offset = [], [], 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        stored = zlib.compress(raw, 6) if compress and raw else raw
        entries.append({"name": f"model/{name}", "dtype": "f32", "shape": list(array.shape), "offset": offset,
                        "bytes": len(raw), "stored_bytes": len(stored), "crc32": zlib.crc32(stored)})
        blobs.append(stored)
        offset += len(stored)
    header = {"format": "sscma-checkpoint", "library": "torch2sscma", "config": config,
              "state": {"family": family}, "tensors": entries}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = b"SSCMACKP" + struct.pack("<IIQ", 1, 1 if compress else 0, len(text)) + text
    body += struct.pack("<I", zlib.crc32(text)) + b"".join(blobs)
    body += struct.pack("<I", zlib.crc32(body)) + b"SSCMAEND"
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("state_dict")
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--compress", action="store_true", help="deflate the tensors (zlib)")
    a = p.parse_args()
    with open(a.config) as f:
        config = json.load(f)
    tensors = load_state_dict(a.state_dict)
    write_checkpoint(a.out, tensors, config, config.get("type", ""), a.compress)
    print(f"torch2sscma: wrote {a.out}: {len(tensors)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
