"""Destruction order (docs/reliability.md, "Lifetimes"): a garbage collector may finalize the members of a reference
cycle in any order, so every order of closing a context, a dataset, a loader, a model, a trainer and a quantized
model must be safe. Under the sanitized build (tests/run --sanitize runs this file through tests/sanitize/run-host)
a use after free or a leak in any order fails the run; without it, the C library's poisoned-memory test
(test_core) covers the same orders."""
import gc
import itertools
import struct

import numpy as np
import pytest

import sscma

CLASSIFIER = {"type": "ImageClassifier", "input_size": [16, 16],
              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35, "in_channels": 1, "out_indices": [1]},
              "head": {"type": "LinearClsHead", "num_classes": 4}}
PIPELINE = [{"type": "Normalize", "mean": [64], "std": [64]}]
NAMES = ("context", "dataset", "loader", "model", "trainer", "qmodel")


def write_idx(root):
    """Eight 16x16 images of four classes as MNIST's IDX files."""
    pixels = bytes((i * 7) % 256 for i in range(8 * 16 * 16))
    (root / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 8, 16, 16) + pixels)
    (root / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, 8) + bytes(i % 4 for i in range(8)))


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("idx")
    write_idx(root)
    return root


def family(root, quantized):
    ctx = sscma.Context(threads=2, seed=3)
    data = sscma.Dataset(ctx, {"type": "MNIST", "data_root": str(root)})
    loader = sscma.Loader(ctx, data, {"batch_size": 4, "num_workers": 1, "pipeline": PIPELINE})
    model = sscma.Model(ctx, CLASSIFIER)
    trainer = sscma.Trainer(model, loader, loader, {"max_epochs": 1, "work_dir": str(root / "work"),
                                                   "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.01}},
                                                   "val_evaluator": {"type": "Accuracy", "topk": [1]}})
    q = sscma.quantize(model, loader, calib_batches=1) if quantized else sscma.QModel.from_model(model)
    return dict(zip(NAMES, (ctx, data, loader, model, trainer, q)))


def use(objs):
    """Calls that need only the object itself (not its Context wrapper): they work whatever was closed before."""
    if "dataset" in objs:
        assert len(objs["dataset"]) == 8
    if "model" in objs:
        assert objs["model"].stats()[0] > 0
    if "trainer" in objs:
        assert objs["trainer"].position() == (0, 0)
    if "qmodel" in objs:
        assert objs["qmodel"].memory()[0] > 0


def test_every_order_of_close(data_root):
    """720 orders of close(); the quantized model is PTQ's in one order of six and the float one otherwise."""
    for n, order in enumerate(itertools.permutations(NAMES)):
        objs = family(data_root, quantized=n % 6 == 0)
        for name in order:
            objs.pop(name).close()
            use(objs)
            if name == "context" and objs:
                with pytest.raises(sscma.SscmaError, match="Context is closed"):
                    sscma.Model(next(iter(objs.values())).ctx, CLASSIFIER)


def test_a_closed_object_in_use_waits_for_its_users(data_root):
    objs = family(data_root, quantized=False)
    objs["dataset"].close()
    with pytest.raises(sscma.SscmaError, match="Dataset is closed"):
        len(objs["dataset"])
    assert objs["dataset"]._ptr, "the loader still uses the C dataset"
    objs["loader"].close()
    assert objs["dataset"]._ptr, "the trainer still uses the loader, which uses the dataset"
    objs["trainer"].close()
    assert not objs["loader"]._ptr and not objs["dataset"]._ptr


def test_every_order_of_finalization_in_a_cycle(data_root):
    """The wrappers in one reference cycle, collected by the garbage collector: for each order, the finalizers run in
    that order (each member's __del__ is called by hand, as the collector would, then the cycles are collected)."""
    for n, order in enumerate(itertools.permutations(NAMES)):
        objs = family(data_root, quantized=False)
        for name in NAMES:
            objs[name].cycle = objs  # every wrapper reaches every other
        for name in order:
            objs[name].__del__()
        del objs
        if n % 120 == 119:  # the collector finalizes them again (a no-op) and frees them
            gc.collect()


def test_children_keep_their_context_wrapper(data_root):
    objs = family(data_root, quantized=False)
    ctx = objs["context"]
    assert all(objs[k].ctx is ctx for k in NAMES[1:])
    del objs["context"], ctx
    q = objs["qmodel"]
    out = q.run(np.zeros((1, 16, 16, 1), dtype=np.float32))  # needs the Context wrapper: still open
    assert out.shape == (1, 4)
