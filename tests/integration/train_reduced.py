#!/usr/bin/python3
"""Integration tests: the training recipes of docs/training.md, reduced to fit the suite.

    train_reduced.py fashion-mnist <examples/train_fashion_mnist executable>
        3 epochs on the first 12,000 training images, all 10,000 test images, with a work_dir: top-1 above a floor,
        the checkpoint hook kept one epoch file and one best file, last_checkpoint names the epoch file.
    train_reduced.py fomo <examples/train_fomo executable>
        composes the detection set (1,000 + 200 images of 4 Fashion-MNIST classes), the full 30-epoch recipe of
        docs/training.md: FomoMetric F1 above 0.80, the issue's bar for that recipe. (A 15-epoch cut ran until
        2026-12-07; its step-down at epoch 10 can land in an oscillating phase of the training that the full recipe
        leaves behind: on an AMD EPYC it ended at F1 0.7502, where the full recipe reaches 0.9211.)
    train_reduced.py pfld <examples/train_pfld executable>
        composes the keypoint set (600 + 200 images, one object each; centre and top-left corner), 10 epochs: NME of
        both points and SSCMA's keypoint/Acc against floors (predicting the mean position gives NME about 0.15).

    train_reduced.py swift-yolo <examples/train_swift_yolo executable>
        composes a 96x96 detection set (800 + 200 images, 4 classes, 1-6 objects whose sizes vary 4x), trains
        Swift-YOLO-tiny 20 epochs, exports int8 (PTQ) and verifies it: CocoMetric mAP50 of the float model and of the
        int8 file against floors, and the file scoring exactly what the in-memory int8 model scores.

    train_reduced.py accelerometer <examples/train_accelerometer executable>
        tools/gen_accel.py's synthetic gestures (seed 2112, 20 + 8 takes per gesture: 681 + 268 windows), SSCMA's
        accelerometer recipe 10 epochs: float top-1 at least 95% (the issue's bar), the int8 file at most 0.5 point
        below it, and the file giving the in-memory int8 model's integers.

    train_reduced.py kws <examples/train_kws executable> <configs/audio_classify/espeak_kws_8k_8192.json>
        tools/gen_kws.py's espeak-ng keywords (seed 2113, 160 clips per keyword, 80 per unknown word: 1,994 training
        and 246 test clips with silence), SSCMA's KWS recipe for the espeak-ng set 60 epochs (AudioAugs on): float top-1
        and the int8 file's top-1 (percentile observer) against floors, and the file giving the in-memory int8 model's integers. The issue's bars (90%,
        at most 1 point) are for the full set (400 clips per keyword; docs/models.md, "Audio_classify").

TAP output; exit 77 (skip) only when Debian's dataset-fashion-mnist is missing (not needed by accelerometer) or,
for kws, espeak-ng. Floors sit well under the measured
values (docs/training.md) and far above what a broken trainer reaches (10% top-1, F1 near 0).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

FASHION_FLOOR = 60.0  # top-1 %, measured 70.12
FOMO_FLOOR = 0.80     # F1, measured 0.9245 (Xeon), 0.9211 (AMD EPYC)
PFLD_NME_CEIL = 0.09  # measured 0.0575
PFLD_ACC_FLOOR = 0.15  # measured 0.2807
YOLO_FLOOR = 0.55      # mAP50, measured 0.7020 (AMD EPYC); a model that learned nothing scores about 0.01
YOLO_INT8_FLOOR = 0.50  # mAP50 of the int8 file, measured 0.6722
ACCEL_FLOOR = 95.0      # top-1 %, the bar; measured 100.00 (seeds 0, 1, 2)
ACCEL_INT8_DROP = 0.5   # points, the bar; measured 0.00
KWS_FLOOR = 75.0        # top-1 %, measured 85.37 (a model that learned nothing: 8-20%)
KWS_INT8_DROP = 5.0     # points, percentile observer: measured 2.44 on this small set (0.49 on the full one)


def run(cmd):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout.strip().splitlines()[-1]), ""


def fashion(exe, work):
    print("1..3")
    result, err = run([exe, "--epochs", "3", "--train", "12000", "--threads", "2", "--quiet", "--work-dir", work])
    if result is None:
        print(f"not ok 1 - training ran\n# {err}\nnot ok 2 - accuracy\nnot ok 3 - checkpoints")
        return 1
    print("ok 1 - training ran")
    ok = result["top1"] >= FASHION_FLOOR and result["iterations"] == 3 * 188
    print(f"{'ok' if ok else 'not ok'} 2 - top-1 {result['top1']:.2f}% >= {FASHION_FLOOR}% after "
          f"{result['iterations']} iterations ({result['seconds']:.1f} s)")
    names = sorted(os.listdir(work))
    with open(os.path.join(work, "last_checkpoint")) as f:
        last = f.read()
    ckpt_ok = (names.count("epoch_3.ckpt") == 1 and "epoch_2.ckpt" not in names and
               len([n for n in names if n.startswith("best_accuracy_top1_epoch_")]) == 1 and
               last == os.path.join(work, "epoch_3.ckpt"))
    print(f"{'ok' if ckpt_ok else 'not ok'} 3 - checkpoints kept: {', '.join(names)}")
    return 0 if ok and ckpt_ok else 1


def fomo(exe, work):
    print("1..2")
    data = os.path.join(work, "data")
    result, err = run([exe, "--data", data, "--train", "1000", "--valid", "200", "--epochs", "30", "--threads", "2",
                       "--quiet"])
    if result is None:
        print(f"not ok 1 - training ran\n# {err}\nnot ok 2 - F1")
        return 1
    print("ok 1 - composed the detection set and trained")
    ok = result["F1"] >= FOMO_FLOOR
    print(f"{'ok' if ok else 'not ok'} 2 - F1 {result['F1']:.4f} >= {FOMO_FLOOR} (P {result['P']:.4f}, "
          f"R {result['R']:.4f}, {result['seconds']:.1f} s)")
    return 0 if ok else 1


def pfld(exe, work):
    print("1..2")
    data = os.path.join(work, "data")
    result, err = run([exe, "--data", data, "--train", "600", "--valid", "200", "--epochs", "10", "--threads", "2",
                       "--quiet"])
    if result is None:
        print(f"not ok 1 - training ran\n# {err}\nnot ok 2 - keypoints")
        return 1
    print("ok 1 - composed the keypoint set and trained")
    ok = result["nme"] <= PFLD_NME_CEIL and result["acc"] >= PFLD_ACC_FLOOR
    print(f"{'ok' if ok else 'not ok'} 2 - NME {result['nme']:.4f} <= {PFLD_NME_CEIL}, keypoint/Acc "
          f"{result['acc']:.4f} >= {PFLD_ACC_FLOOR} ({result['seconds']:.1f} s)")
    return 0 if ok else 1


def swift_yolo(exe, work):
    print("1..3")
    data, out = os.path.join(work, "data"), os.path.join(work, "out")
    os.makedirs(out)
    result, err = run([exe, "--size", "96", "--data", data, "--train", "800", "--valid", "200", "--epochs", "20",
                       "--threads", "2", "--quiet", "--work-dir", out])
    if result is None:
        print(f"not ok 1 - training ran\n# {err}\nnot ok 2 - mAP50\nnot ok 3 - int8")
        return 1
    print("ok 1 - composed the detection set, trained, exported")
    ok = result["mAP50"] >= YOLO_FLOOR
    print(f"{'ok' if ok else 'not ok'} 2 - mAP50 {result['mAP50']:.4f} >= {YOLO_FLOOR} (mAP {result['mAP']:.4f}, "
          f"{result['seconds']:.1f} s)")
    ok8 = result["int8_tflite"] >= YOLO_INT8_FLOOR and result["int8_tflite"] == result["int8_model"]
    print(f"{'ok' if ok8 else 'not ok'} 3 - int8 file mAP50 {result['int8_tflite']:.4f} >= {YOLO_INT8_FLOOR}, equal "
          f"to the in-memory int8 model's {result['int8_model']:.4f}")
    return 0 if ok and ok8 else 1


def accelerometer(exe, work):
    print("1..3")
    data, out = os.path.join(work, "gestures"), os.path.join(work, "out")
    os.makedirs(out)
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "gen_accel.py")
    r = subprocess.run([sys.executable, gen, data], capture_output=True, text=True)
    result, err = run([exe, "--data", data, "--threads", "2", "--quiet", "--work-dir", out]) if r.returncode == 0 \
        else (None, r.stderr.strip())
    if result is None:
        print(f"not ok 1 - generated the gestures and trained\n# {err}\nnot ok 2 - top-1\nnot ok 3 - int8")
        return 1
    print(f"ok 1 - generated the gestures and trained ({result['train_windows']} + {result['test_windows']} windows)")
    ok = result["top1"] >= ACCEL_FLOOR
    print(f"{'ok' if ok else 'not ok'} 2 - top-1 {result['top1']:.2f}% >= {ACCEL_FLOOR}% ({result['seconds']:.1f} s)")
    ok8 = result["top1"] - result["top1_int8"] <= ACCEL_INT8_DROP and result["file_values_differing"] == 0
    print(f"{'ok' if ok8 else 'not ok'} 3 - int8 top-1 {result['top1_int8']:.2f}%, at most {ACCEL_INT8_DROP} point "
          f"below float; the file's outputs equal the model's")
    return 0 if ok and ok8 else 1


def kws(exe, work, config):
    import shutil
    if shutil.which("espeak-ng") is None:
        print("1..0 # SKIP espeak-ng is not installed (tools/install-deps installs it)")
        return 77
    print("1..3")
    data, out = os.path.join(work, "kws"), os.path.join(work, "out")
    os.makedirs(out)
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "gen_kws.py")
    r = subprocess.run([sys.executable, gen, data, "--per-word", "160"], capture_output=True, text=True)
    result, err = run([exe, "--data", data, "--config", config, "--threads", "2", "--quiet", "--work-dir", out]) \
        if r.returncode == 0 else (None, r.stderr.strip())
    if result is None:
        print(f"not ok 1 - generated the keywords and trained\n# {err}\nnot ok 2 - top-1\nnot ok 3 - int8")
        return 1
    print(f"ok 1 - generated the keywords and trained ({result['epochs']} epochs, {result['seconds']:.1f} s)")
    ok = result["top1"] >= KWS_FLOOR
    print(f"{'ok' if ok else 'not ok'} 2 - top-1 {result['top1']:.2f}% >= {KWS_FLOOR}%")
    ok8 = result["top1"] - result["top1_int8"] <= KWS_INT8_DROP and result["file_values_differing"] == 0
    print(f"{'ok' if ok8 else 'not ok'} 3 - int8 top-1 {result['top1_int8']:.2f}%, at most {KWS_INT8_DROP} points "
          f"below float; the file's outputs equal the model's")
    return 0 if ok and ok8 else 1


def main():
    mode, exe = sys.argv[1], sys.argv[2]
    if mode == "kws":
        with tempfile.TemporaryDirectory() as work:
            return kws(exe, work, sys.argv[3])
    if mode == "accelerometer":
        with tempfile.TemporaryDirectory() as work:
            return accelerometer(exe, work)
    if not glob.glob("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte*"):
        print("1..0 # SKIP Debian's dataset-fashion-mnist is not installed")
        return 77
    with tempfile.TemporaryDirectory() as work:
        return {"fashion-mnist": fashion, "fomo": fomo, "pfld": pfld, "swift-yolo": swift_yolo}[mode](exe, work)


if __name__ == "__main__":
    sys.exit(main())
