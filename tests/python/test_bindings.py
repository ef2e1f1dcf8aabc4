"""The Python package (bindings/python) over the built library: handles, numpy views, quantization, export and the
int8 runtime from Python, errors as exceptions. Run by the `python` suite: SSCMA_LIBRARY names the built library."""
import json
import os

import numpy as np
import pytest

import sscma

FASHION = "/usr/share/datasets/fashion-mnist"
CLASSIFIER = {"type": "ImageClassifier", "input_size": [32, 32],
              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35, "in_channels": 1},
              "head": {"type": "LinearClsHead", "num_classes": 10}}
PIPELINE = [{"type": "Pad", "padding": 2}, {"type": "Normalize", "mean": [72.94], "std": [90.02]}]


@pytest.fixture(scope="module")
def ctx():
    return sscma.Context(threads=2, seed=1)


def test_version_and_model_views(ctx):
    assert sscma.version().count(".") == 2
    m = sscma.Model(ctx, CLASSIFIER)
    params, macs = m.stats()
    assert params > 100_000 and macs > 1_000_000
    m.prepare(4)
    x = m.input("image")
    assert x.shape == (4, 32, 32, 1) and x.dtype == np.float32
    x[:] = np.random.default_rng(0).standard_normal(x.shape)
    m.forward()
    logits = m.output("logits")
    assert logits.shape == (4, 10) and np.all(np.isfinite(logits))


def test_errors_carry_the_library_message(ctx):
    with pytest.raises(sscma.SscmaError) as e:
        sscma.Model(ctx, {"type": "Yolo"})
    assert e.value.name == "SSCMA_ERR_CONFIG" and 'model.type: expected one of: ImageClassifier, Fomo, PFLD, YOLODetector, RTMDet, AccelerometerClassifier, Vae_Model, Audio_classify, got "Yolo"' in str(e.value)
    m = sscma.Model(ctx, CLASSIFIER)
    with pytest.raises(sscma.SscmaError, match="call sscma_model_prepare"):
        m.input("image")


def test_quantize_export_and_run_tflite(ctx, tmp_path):
    assert os.path.isdir(FASHION), "Fashion-MNIST is not installed (tools/install-deps)"
    m = sscma.Model(ctx, CLASSIFIER)
    data = sscma.Dataset(ctx, {"type": "FashionMNIST", "split": "test", "indices": 128})
    assert len(data) == 128
    loader = sscma.Loader(ctx, data, {"batch_size": 32, "pipeline": PIPELINE})
    f = sscma.QModel.from_model(m)
    q = sscma.quantize(m, loader, observer="minmax", calib_batches=4)
    assert q.is_int8 and not f.is_int8
    q.set_meta("classes", '["a", "b"]')
    path = tmp_path / "model.tflite"
    q.export_tflite(path)
    q.export_onnx(tmp_path / "model.onnx")
    q.export_c_array(tmp_path / "m.h", tmp_path / "m.c", "m")
    back = sscma.QModel.load_tflite(ctx, path)
    assert back.meta("classes") == '["a", "b"]' and back.meta("family") == "ImageClassifier"
    images = np.random.default_rng(1).standard_normal((5, 32, 32, 1)).astype(np.float32)
    p1, p2, pf = q.run(images), back.run(images), f.run(images)
    assert p1.shape == (5, 10)
    assert np.array_equal(p1, p2)                      # the file computes what the model does
    assert np.allclose(p1.sum(axis=1), 1.0, atol=0.05)  # softmax outputs on the 1/256 grid
    assert np.abs(p1 - pf).max() < 0.1                 # int8 follows float
    report = q.verify(path, loader)
    assert report["samples"] == 128 and report["values_differing"] == 0
    assert report["metric"] == "accuracy/top1" and report["metric_model"] == report["metric_file"]
    with pytest.raises(ValueError):
        sscma.quantize(m, loader, observer="median")


def test_train_with_callback_and_metric(ctx):
    m = sscma.Model(ctx, CLASSIFIER)
    data = sscma.Dataset(ctx, {"type": "FashionMNIST", "split": "test", "indices": 256})
    train = sscma.Loader(ctx, data, {"batch_size": 32, "shuffle": True, "pipeline": PIPELINE})
    seen = []
    t = sscma.Trainer(m, train, train, {"max_epochs": 1, "optim_wrapper": {"optimizer": {"type": "Adam", "lr": 0.001}},
                                        "val_evaluator": {"type": "Accuracy"}},
                      callback=lambda p: seen.append(p) and False)
    t.train()
    assert [p["iter"] for p in seen] == list(range(1, 9)) and all(np.isfinite(p["loss"]) for p in seen)
    assert t.position() == (1, 8)
    results = t.validate()
    assert 0.0 <= results["accuracy/top1"] <= 100.0
    # a callback returning True cancels
    t2 = sscma.Trainer(m, train, None, {"max_epochs": 2, "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.01}}},
                       callback=lambda p: p["iter"] == 3)
    with pytest.raises(sscma.SscmaError) as e:
        t2.train()
    assert e.value.name == "SSCMA_ERR_CANCELLED"
    metric = sscma.Metric(ctx, {"type": "Accuracy"})
    metric.update(np.eye(4, dtype=np.float32), np.array([0, 1, 2, 0], dtype=np.int32))
    assert metric.results()["accuracy/top1"] == 75.0


def test_config_overrides_and_references(tmp_path):
    base = tmp_path / "base.json"
    base.write_text('{"imgsz": [96, 96], "model": {"input_size": "${imgsz}"}}')
    cfg = sscma.Config.parse('{"_base_": "base.json", "epochs": 3}', base_dir=tmp_path)
    cfg.set("imgsz=[64,64]")
    cfg.resolve()
    assert cfg.get("model.input_size") == [64, 64] and cfg.get("epochs") == 3
    with pytest.raises(sscma.SscmaError) as e:
        cfg.get("model.missing")
    assert e.value.name == "SSCMA_ERR_NOT_FOUND"


@pytest.mark.parametrize("family", ["fomo", "pfld"])
def test_qat_converts_every_family(ctx, family):
    configs = {
        "fomo": ({"type": "Fomo", "input_size": [64, 64],
                  "backbone": {"type": "MobileNetv2", "widen_factor": 0.35, "out_indices": [2], "in_channels": 1},
                  "head": {"type": "FomoHead", "input_channels": [16], "num_classes": 3, "middle_channel": 48}},
                 "probs"),
        "pfld": ({"type": "PFLD", "input_size": [64, 64], "backbone": {"type": "PfldMobileNetV2", "inchannel": 1},
                  "head": {"type": "PFLDhead", "num_point": 4}}, "keypoints"),
    }
    cfg, out = configs[family]
    m = sscma.Model(ctx, cfg)
    sscma.qat_prepare(m)
    m.prepare(8, training=True)  # training forwards initialise the observers
    x = m.input("image")
    for i in range(3):
        x[:] = np.random.default_rng(i).standard_normal(x.shape) * 0.5
        m.forward()
    q = sscma.qat_convert(m)
    assert q.is_int8
    m.prepare(8, training=False)
    x = m.input("image")
    x[:] = np.random.default_rng(7).standard_normal(x.shape) * 0.5
    m.forward()
    simulated = m.output(out).copy()
    converted = q.run(x.copy())
    assert converted.shape == simulated.shape
    assert np.abs(converted - simulated).max() < 0.01  # the int8 model computes what QAT simulated


CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")


def _fmnist_recipe(tmp_path):
    cfg = sscma.Config.load(os.path.join(CONFIGS, "classification", "mobnetv2_0.35_fmnist.json"))
    for o in ("epochs=1", "train_dataloader.dataset.indices=512", "val_dataloader.dataset.indices=256",
              f"work_dir={tmp_path / 'wd'}"):
        cfg.set(o)
    cfg.resolve()
    return cfg


def test_runner_trains_evaluates_and_deploys(ctx, tmp_path):
    runner = sscma.Runner(ctx, _fmnist_recipe(tmp_path))
    assert [t["type"] for t in runner.loader_config("train")["pipeline"]] == ["ToGray", "Pad", "RandomFlip",
                                                                             "Normalize"]
    assert runner.dataset("val").classes[0] == "T-shirt/top" and len(runner.dataset("test")) == 256
    seen = []
    trainer = runner.trainer(callback=lambda p: seen.append(p["iter"]) and False)
    assert runner.trainer().handle.value == trainer.handle.value
    trainer.train()
    assert seen == list(range(1, 9))
    assert runner.evaluate("val") == trainer.validate()  # no EMA: the same pass
    assert (tmp_path / "wd" / "log.jsonl").exists()
    q = sscma.quantize(runner.model, runner.loader("val"), calib_batches=1)
    runner.set_meta(q)
    assert json.loads(q.meta("classes"))[9] == "Ankle boot" and json.loads(q.meta("std")) == [90.02]
    w8, a8 = q.memory()
    w32, a32 = sscma.QModel.from_model(runner.model).memory()
    assert a8 < a32 <= 4 * a8 and w8 < w32 / 3  # the planned arenas: each block rounded up to 64 bytes
    # device prediction: the top class is the argmax of the runtime's output on the same pixels
    img = (np.arange(32 * 32, dtype=np.int64).reshape(32, 32, 1) * 7 % 256).astype(np.uint8)
    q.set_meta("mean", "[0]")
    q.set_meta("std", "[1]")
    top = q.predict(img, top_k=3)
    probs = q.run(img[None].astype(np.float32))[0]
    assert len(top) == 3 and top[0]["class"] == int(np.argmax(probs)) and top[0]["score"] == pytest.approx(
        float(probs.max()), abs=1e-6)
    with pytest.raises(sscma.SscmaError) as e:
        runner.loader("valid")
    assert "unknown split 'valid'" in str(e.value)


def test_optimizer_and_scheduler_by_hand(ctx):
    model = sscma.Model(ctx, {"type": "ImageClassifier", "input_size": [32, 32],
                              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35, "in_channels": 1},
                              "neck": {"type": "GlobalAveragePooling"},
                              "head": {"type": "LinearClsHead", "num_classes": 10}})
    opt = sscma.Optimizer(model, {"type": "SGD", "lr": 0.01, "momentum": 0.9})
    sched = sscma.Scheduler(opt, [{"type": "LinearLR", "start_factor": 0.5, "by_epoch": False, "end": 2}])
    assert opt.lr == pytest.approx(0.005)  # the warm-up's step 0
    model.prepare(4, training=True)
    rng = np.random.default_rng(0)
    model.input("image")[...] = rng.standard_normal((4, 32, 32, 1)).astype(np.float32)
    model.input("target")[...] = np.array([0, 1, 2, 3], dtype=np.int32)
    losses = []
    for _ in range(5):
        model.zero_grad()
        model.forward()
        losses.append(float(model.output("loss")[()]))
        model.backward()
        opt.step()
        sched.step_iter()
        assert opt.grad_norm > 0
    assert opt.lr == pytest.approx(0.01) and opt.momentum == pytest.approx(0.9)
    assert losses[-1] < losses[0]
    with pytest.raises(sscma.SscmaError) as e:
        sscma.Optimizer(model, {"type": "Lion"})
    assert e.value.name == "SSCMA_ERR_CONFIG"


def test_tensorboard_reads_the_event_file(ctx, tmp_path):
    """The trainer's events.out.tfevents.* file, read with PyPI tensorboard's own event reader."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, LegacyEventFileLoader
    import zlib, struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(b"\x00" + b"\x10" * 9 + b"\x00" + b"\x20" * 9)) + chunk(b"IEND", b""))
    runner = sscma.Runner(ctx, _fmnist_recipe(tmp_path))
    trainer = runner.trainer()
    seen = []

    def on_val(epoch, results):
        seen.append((epoch, sorted(results)))
        trainer.log_image("val/mine", png)
    trainer.set_val_callback(on_val)
    trainer.train()
    assert seen and seen[0][0] == 1 and "accuracy/top1" in seen[0][1]
    with pytest.raises(sscma.SscmaError) as e:
        trainer.log_image("val/bad", b"not a png, clearly not a png file")
    assert e.value.name == "SSCMA_ERR_FORMAT"
    files = list((tmp_path / "wd").glob("events.out.tfevents.*"))
    assert len(files) == 1
    events = list(EventFileLoader(str(files[0])).Load())
    assert events[0].file_version == "brain.Event:2"
    scalars = {}
    # the image summary as written, and as TensorBoard's loader hands it to the images plugin
    raw = [(e.step, v.tag, v.image) for e in LegacyEventFileLoader(str(files[0])).Load() for v in e.summary.value
           if v.HasField("image")]
    assert [(s, t) for s, t, _ in raw] == [(1, "val/mine")]
    assert (raw[0][2].width, raw[0][2].height, raw[0][2].colorspace) == (3, 2, 3)
    assert raw[0][2].encoded_image_string == png
    shown = [list(v.tensor.string_val) for e in events[1:] for v in e.summary.value
             if v.metadata.plugin_data.plugin_name == "images"]
    assert shown == [[b"3", b"2", png]]
    for e in events[1:]:
        for v in e.summary.value:
            if v.metadata.plugin_data.plugin_name == "images":
                continue
            # the loader upgrades simple_value summaries to rank-0 tensors
            value = v.simple_value if v.HasField("simple_value") else float(v.tensor.float_val[0])
            scalars.setdefault(v.tag, []).append((e.step, value))
    log = [json.loads(line) for line in open(tmp_path / "wd" / "log.jsonl")]
    train = [entry for entry in log if entry["mode"] == "train"]
    val = [entry for entry in log if entry["mode"] == "val"]
    assert [s for s, _ in scalars["loss"]] == [entry["iter"] for entry in train]
    assert [v for _, v in scalars["loss"]] == pytest.approx([entry["loss"] for entry in train], rel=1e-6)
    assert scalars["accuracy/top1"] == [(1, pytest.approx(val[0]["accuracy/top1"], rel=1e-6))]
    assert "lr" in scalars and "momentum" in scalars


def test_predict_on_a_file_without_metadata(ctx):
    """A TensorFlow-made FOMO file (no libsscma metadata, a 16-px input SSCMA-Micro does not recognise): refused
    until told, then results carry boxes."""
    path = os.path.join(os.path.dirname(__file__), "..", "tflite", "models", "fomo_int8.tflite")
    q = sscma.QModel.load_tflite(ctx, path)
    img = (np.arange(16 * 16 * 3, dtype=np.int64).reshape(16, 16, 3) * 5 % 256).astype(np.uint8)
    with pytest.raises(sscma.SscmaError) as e:
        q.predict(img)
    assert "--task" in str(e.value)
    found = q.predict(img, score_threshold=0.0, task="fomo")
    assert all(set(r) == {"class", "score", "x", "y", "w", "h"} for r in found)
    assert all(r["w"] == pytest.approx(4.0) and r["h"] == pytest.approx(4.0) for r in found)  # 16 px / 4 cells
    with pytest.raises(sscma.SscmaError) as e:  # told a layout the output does not have
        q.predict(img, task="cls")
    assert "expected [1, classes]" in str(e.value)
    with pytest.raises(sscma.SscmaError) as e:
        q.predict(img, task="ssd")
    assert "unknown task 'ssd'" in str(e.value)


def test_predict_on_a_sensor_window(ctx):
    """An AccelerometerClassifier takes a float window [axes, window_size]: the probabilities are the softmax of the
    model's logits on the window flattened axis after axis."""
    m = sscma.Model(ctx, {"type": "AccelerometerClassifier",
                          "backbone": {"type": "AxesNet", "num_axes": 3, "window_size": 8, "num_classes": 4},
                          "head": {"type": "AxesClsHead"}})
    window = np.random.default_rng(5).standard_normal((3, 8)).astype(np.float32) * 3
    m.prepare(1, training=False)
    m.input("image")[...] = window.reshape(1, 1, 1, 24)
    m.forward()
    z = m.output("logits")[0].astype(np.float64)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    q = sscma.QModel.from_model(m)
    found = q.predict(window, top_k=4)
    assert [r["class"] for r in found] == list(np.argsort(-p))
    assert np.allclose([r["score"] for r in found], np.sort(p)[::-1], atol=1e-5)


def test_predict_on_an_audio_clip(ctx):
    """An Audio_classify model takes a float clip [1, segment_length]: the top-k classes with the softmax of the
    model's logits on the clip as [1, 1, L, 1]."""
    m = sscma.Model(ctx, {"type": "Audio_classify", "n_cls": 5, "segment_length": 1024,
                          "backbone": {"type": "SoundNetRaw", "nf": 2, "factors": [4, 4, 4], "out_channel": 36},
                          "head": {"type": "Audio_head", "in_channels": 36, "n_classes": 5, "drop": 0.2}})
    clip = np.random.default_rng(6).standard_normal((1, 1024)).astype(np.float32)
    m.prepare(1, training=False)
    m.input("image")[...] = clip.reshape(1, 1, 1024, 1)
    m.forward()
    z = m.output("logits")[0].astype(np.float64)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    q = sscma.QModel.from_model(m)
    found = q.predict(clip, top_k=3)
    assert [r["class"] for r in found] == list(np.argsort(-p)[:3])
    assert np.allclose([r["score"] for r in found], np.sort(p)[::-1][:3], atol=1e-5)


def test_read_audio_clip(ctx, tmp_path):
    """sscma_audio_clip_read through ctypes: a 16-bit 8 kHz WAV written here becomes float32 [1, 8192], peak 1, the
    written samples over their peak and zeros behind; a missing file raises SSCMA_ERR_IO naming it."""
    import wave
    n = 5000
    pcm = (np.round(0.4 * np.sin(2 * np.pi * 440 * np.arange(n) / 8000) * 32767)).astype("<i2")
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    clip = sscma.read_audio_clip(ctx, path, 8000, 8192, lower_volume=False)
    assert clip.shape == (1, 8192) and clip.dtype == np.float32
    want = pcm.astype(np.float64) / np.abs(pcm.astype(np.float64)).max()
    assert np.allclose(clip[0, :n], want, atol=1e-6) and not clip[0, n:].any()
    with pytest.raises(sscma.SscmaError) as e:
        sscma.read_audio_clip(ctx, tmp_path / "none.wav")
    assert e.value.name == "SSCMA_ERR_IO" and "none.wav" in str(e.value)
