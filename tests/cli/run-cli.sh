#!/usr/bin/env bash
# End-to-end tests of the `sscma` command line (TAP): compose a detection set, check it, train the shipped FOMO
# recipe briefly, resume, evaluate, export in every format with verification, run inference, and the errors a user
# meets (exit status and the one-line message naming the key or the file).
# The examples deploy_int8 and cpp/train_and_deploy, when given, run on the same files.
#   run-cli.sh SSCMA_BINARY SOURCE_DIR [DEPLOY_INT8 TRAIN_AND_DEPLOY]
set -u
SSCMA=$(readlink -f "$1")
SRC=$(readlink -f "$2")
DEPLOY=${3:+$(readlink -f "$3")}
CPP=${4:+$(readlink -f "$4")}
FOMO=$SRC/configs/fomo/fomo_mobnetv2_0.35_x8_coco.json
FMNIST=$SRC/configs/classification/mobnetv2_0.35_fmnist.json
WORK=$(mktemp -d /tmp/sscma-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
n=0
failed=0

. "$SRC/tests/cli/tap.sh"

# fails NAME STATUS NEEDLE COMMAND...: the command exits with STATUS and prints one stderr line containing NEEDLE
fails() {
    local name=$1 want=$2 needle=$3
    shift 3
    n=$((n + 1))
    "$@" >"$WORK/stdout.$n" 2>"$WORK/stderr.$n"
    local got=$?
    local lines
    lines=$(wc -l <"$WORK/stderr.$n")
    if [ "$got" -eq "$want" ] && grep -qF -- "$needle" "$WORK/stderr.$n" && { [ "$want" -eq 2 ] || [ "$lines" -eq 1 ]; }; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name (exit $got, expected $want; stderr lines $lines; wanted '$needle')"
        sed 's/^/# /' "$WORK/stderr.$n" | head -5
        failed=$((failed + 1))
    fi
}

json() { # json FILE PYTHON-EXPRESSION-ON-d: true when the expression holds for the JSON object in FILE
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

O=(--cfg-options data_root=det num_classes=4 in_channels=1)

ok "dataset compose from the Fashion-MNIST folder" \
    "$SSCMA" dataset compose --from /usr/share/datasets/fashion-mnist --out det --count 300 --seed 1 \
    --cfg-options 'classes=[0,1,7,8]' 'objects=[1,5]' 'scale=[0.8,1.2]'
ok "the composed set is COCO in Roboflow's layout" test -s det/train/_annotations.coco.json -a -s det/valid/_annotations.coco.json
"$SSCMA" dataset stats "$FOMO" "${O[@]}" --json >stats.json 2>/dev/null
ok "dataset stats: 300 samples, 4 classes, boxes per class" \
    json stats.json "d['samples'] == 300 and d['num_classes'] == 4 and sum(c['boxes'] for c in d['classes']) >= 300"
"$SSCMA" dataset check "$FOMO" "${O[@]}" --split val --json >check.json 2>/dev/null
ok "dataset check: the valid split has no problem" json check.json "d['samples'] == 60 and d['problems'] == 0"
# Every defect in one pass: a Roboflow export with a negative box, an unknown category, a missing and a truncated
# image, a duplicate image id and a box outside its image; one check lists all six, each with file and record.
cp -r det bad
/usr/bin/python3 - <<'PY'
import json
p = 'bad/valid/_annotations.coco.json'
d = json.load(open(p))
im, an = d['images'], d['annotations']
an[0]['bbox'][2] = -5                      # a negative box
an[1]['category_id'] = 999                 # an unknown category
im[2]['file_name'] = 'missing.png'         # a missing image
open('bad/valid/' + im[3]['file_name'], 'r+b').truncate(40)  # a truncated image
for a in an:                               # a duplicate image id (its boxes follow it)
    if a['image_id'] == im[5]['id']:
        a['image_id'] = im[4]['id']
im[5]['id'] = im[4]['id']
a = next(a for a in an if a['image_id'] == im[6]['id'])
a['bbox'][0] = im[6]['width'] - 2          # a box that leaves its image
json.dump(d, open(p, 'w'))
PY
"$SSCMA" dataset check "$FOMO" --cfg-options data_root=bad num_classes=4 in_channels=1 --split val --json \
    >badcheck.json 2>/dev/null
ok "dataset check exits 1 on a set with defects" test $? -eq 1
ok "dataset check lists the six defects of the set in one run, each with its file and record" json badcheck.json \
    "d['problems'] == 6 and all(any(w in l for l in d['report']) for w in ('annotations[0] (id', 'box of non-positive', \
     'unknown category_id 999', 'missing.png is missing', 'duplicate id', 'leaves image', \
     'valid/' + json.load(open('bad/valid/_annotations.coco.json'))['images'][3]['file_name']))"
fails "training on the same set still fails at its first defect" 1 "missing.png is missing" \
    "$SSCMA" train "$FOMO" --cfg-options data_root=bad num_classes=4 in_channels=1 --quiet
# Class folders: names are UTF-8 in JSON and in the exported model; a folder named with byte 0xff is refused at open,
# named with the byte escaped (it used to print "(null)", write "classes": [] and export empty names).
FOLDER=$SRC/configs/classification/mobnetv2_0.35_folder.json
/usr/bin/python3 - <<'PY'
import os, struct, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
def png(rows):  # one image per class, told apart by `sscma dataset check`'s duplicate search
    raw = b''.join(b'\0' + bytes(r) for r in rows)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 8, 8, 8, 0, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
images = {b'cat': png([range(8 * y, 8 * y + 8) for y in range(8)]),             # brighter right and down
          'caf\u00e9'.encode(): png([range(64 - 8 * y, 56 - 8 * y, -1) for y in range(8)])}  # left and up
for split in (b'train', b'valid'):
    for name, image in images.items():
        os.makedirs(os.path.join(b'names', split, name), exist_ok=True)
        open(os.path.join(b'names', split, name, b'a.png'), 'wb').write(image)
PY
"$SSCMA" dataset stats "$FOLDER" --cfg-options data_root=names --json >names.json 2>/dev/null
ok "dataset stats: class folders with non-ASCII UTF-8 names keep them" \
    json names.json "[c['name'] for c in d['classes']] == ['caf\u00e9', 'cat']"
mkdir -p names/train/$'caf\xff' && cp names/train/cat/a.png names/train/$'caf\xff'/
NOT_UTF8="names/train/: class folder 'caf\xff': its name is not valid UTF-8"
fails "dataset stats: a class folder named with byte 0xff is refused and named" 1 "$NOT_UTF8" \
    "$SSCMA" dataset stats "$FOLDER" --cfg-options data_root=names
fails "dataset stats --json: the same refusal, no \"classes\": []" 1 "$NOT_UTF8" \
    "$SSCMA" dataset stats "$FOLDER" --cfg-options data_root=names --json
fails "dataset check: the same refusal" 1 "$NOT_UTF8" "$SSCMA" dataset check "$FOLDER" --cfg-options data_root=names
ok "dataset check: the other split still opens" "$SSCMA" dataset check "$FOLDER" --cfg-options data_root=names --split val
"$SSCMA" info "$FOMO" "${O[@]}" --json >info.json 2>/dev/null
ok "info: params, MACs, shapes, int8 sizes, loaders" \
    json info.json "d['params'] > 10000 and d['macs'] > 10**6 and d['input'] == [1, 96, 96, 1] and \
list(d['outputs'].values())[0] == [1, 12, 12, 5] and 0 < d['int8']['weight_bytes'] < d['float32']['weight_bytes'] \
and d['loaders']['train']['target'] == {'type': 'FomoTarget', 'stride': 8}"

"$SSCMA" info "$FOMO" --cfg-options data_root=det num_classes=4 'imgsz=[64,64]' in_channels=3 --json >info64.json 2>/dev/null
ok "--cfg-options imgsz=[64,64] in_channels=3 reaches the model and both loaders" \
    json info64.json "d['input'] == [1, 64, 64, 3] and list(d['outputs'].values())[0] == [1, 8, 8, 5] and \
all(l['pipeline'][0] == {'type': 'ToRGB'} and l['pipeline'][1]['scale'] == [64, 64] for l in d['loaders'].values())"

ok "train FOMO 2 epochs" "$SSCMA" train "$FOMO" --work-dir wd "${O[@]}" epochs=2 --quiet
for f in config.json log.jsonl last.ckpt epoch_2.ckpt last_checkpoint curves.svg predictions.png; do
    ok "work dir has $f" test -s "wd/$f"
done
# pretrained weights (docs/training.md): load_from and init_cfg read as mmengine, non-strict, mismatches warned
ok "load_from a 4-class FOMO checkpoint into 3 classes: the head is skipped with mmengine's message" \
    bash -c '"$0" info "$1" --cfg-options data_root=det num_classes=3 in_channels=1 load_from=wd/last.ckpt \
      --json >/dev/null 2>lf.err && grep -qF "size mismatch for head.convs_pred.0.weight: copying a param with shape \
torch.Size([5, 48, 1, 1]) from checkpoint, the shape in current model is torch.Size([4, 48, 1, 1])." lf.err' "$SSCMA" "$FOMO"
ok "init_cfg Pretrained with prefix backbone. on the backbone loads without a warning" \
    bash -c '"$0" info "$1" --cfg-options data_root=det num_classes=4 in_channels=1 \
      "model.backbone.init_cfg={\"type\":\"Pretrained\",\"checkpoint\":\"wd/last.ckpt\",\"prefix\":\"backbone.\"}" \
      --json >/dev/null 2>ic.err && ! grep -q warning ic.err' "$SSCMA" "$FOMO"
printf 'not a model' >garbage.onnx
fails "load_from a file that is neither a checkpoint nor ONNX: named, one line" 1 \
    "load_from: garbage.onnx: not an ONNX model" "$SSCMA" info "$FOMO" "${O[@]}" load_from=garbage.onnx
ok "curves.svg is an SVG with three panels" \
    /usr/bin/python3 -c "import xml.etree.ElementTree as E; r=E.parse('wd/curves.svg').getroot(); \
import sys; sys.exit(0 if r.tag.endswith('svg') and len(r.findall('{http://www.w3.org/2000/svg}g')) == 3 else 1)"
# The curves' axes: 1-2-5 ticks (not a constant learning rate drawn from 0.001 to 1.001 with ticks like 25.75),
# the best epoch marked; rendered by librsvg as a browser would (text, not only lines).
cat >ticks.py <<'PY'
import math, re, sys, xml.etree.ElementTree as E
ns = '{http://www.w3.org/2000/svg}'
panels = E.parse(sys.argv[1]).getroot().findall(ns + 'g')
def ticks(g, anchor):
    return [float(t.text) for t in g.findall(ns + 'text')
            if t.get('text-anchor') == anchor and re.fullmatch(r'-?[0-9.]+(e-?[0-9]+)?', t.text or '')]
def nice(v):
    steps = [round(b - a, 12) for a, b in zip(v, v[1:])]
    if len(v) < 2 or max(steps) - min(steps) > 1e-9 * max(abs(x) for x in v + [1e-30]):
        return False
    m = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    return any(abs(m - k) < 1e-6 for k in (1, 2, 5))
lr = ticks(panels[1], 'end')
want = float(sys.argv[2]) if len(sys.argv) > 2 else None
ok = nice(lr) and nice(ticks(panels[2], 'middle')) and \
    (want is None or (lr[0] < want < lr[-1] and lr[-1] - lr[0] <= 0.5 * want)) and \
    any('best' in (t.text or '') for t in panels[2].findall(ns + 'text'))
print(lr, ticks(panels[2], 'middle'))
sys.exit(0 if ok else 1)
PY
ok "curves.svg: learning rate and epoch axes on 1-2-5 ticks, the best epoch marked" /usr/bin/python3 ticks.py wd/curves.svg
ok "a constant learning rate is drawn around its value" sh -c '"$0" train "$1" --work-dir const --quiet "$2" "$3" "$4" \
    "$5" epochs=2 "param_scheduler=[]" && /usr/bin/python3 ticks.py const/curves.svg 0.001' "$SSCMA" "$FOMO" "${O[@]}"
if command -v rsvg-convert >/dev/null; then
    ok "rsvg-convert renders curves.svg with its words" sh -c 'rsvg-convert wd/curves.svg -o curves.png &&
        /usr/bin/python3 "$0" curves.png --em 11 --present iteration epoch loss \
        --absent Trouser Sandal' "$SRC/tests/cli/picture_text.py"
else
    n=$((n + 1)); echo "ok $n - rsvg-convert renders curves.svg # SKIP rsvg-convert is not installed (librsvg2-bin)"
fi
ok "config.json is the resolved config" json wd/config.json "d['model']['head']['num_classes'] == 4 and d['work_dir'] == 'wd'"
ok "log.jsonl has training and validation lines" /usr/bin/python3 -c "
import json
lines = [json.loads(l) for l in open('wd/log.jsonl')]
assert [l['epoch'] for l in lines if l['mode'] == 'val'] == [1, 2]
assert all('loss' in l and 'lr' in l for l in lines if l['mode'] == 'train')"
# TensorBoard: each validation's predictions picture as an image summary at the validation's step, read with
# PyPI tensorboard's own event reader (the venv's, as tests/python uses it)
TBPY=${SSCMA_VENV:-$HOME/.cache/libsscma/venv}/bin/python
if [ -x "$TBPY" ] && "$TBPY" -c "import tensorboard, PIL" 2>/dev/null; then
    ok "the event file holds the predictions picture of each validation" "$TBPY" -c "
import glob, io
from PIL import Image
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, LegacyEventFileLoader
path = glob.glob('wd/events.out.tfevents.*')[0]
images = [(e.step, v.tag, v.image) for e in LegacyEventFileLoader(path).Load() for v in e.summary.value
          if v.HasField('image')]
assert [(s, t) for s, t, _ in images] == [(1, 'val/predictions'), (2, 'val/predictions')], images
# what TensorBoard shows: its loader turns them into its images plugin's tensors (width, height, PNG)
shown = [(e.step, v.tensor.string_val) for e in EventFileLoader(path).Load() for v in e.summary.value
         if v.metadata.plugin_data.plugin_name == 'images']
assert [(s, list(t)) for s, t in shown] == [(s, [str(i.width).encode(), str(i.height).encode(),
                                                 i.encoded_image_string]) for s, _, i in images]
for _, _, im in images:
    pic = Image.open(io.BytesIO(im.encoded_image_string))
    assert pic.format == 'PNG' and pic.size == (im.width, im.height) and im.colorspace == 3, pic
last = Image.open(io.BytesIO(images[-1][2].encoded_image_string)).convert('RGB')
assert last.size == Image.open('wd/predictions.png').size"
else
    n=$((n + 1)); echo "ok $n - the event file holds the predictions picture # SKIP no venv with tensorboard and PIL"
fi

ok "resume: epochs=3 continues from the work dir's last checkpoint" \
    "$SSCMA" train "$FOMO" --work-dir wd "${O[@]}" epochs=3 --resume --quiet
ok "resume trained exactly one more epoch" /usr/bin/python3 -c "
import json
lines = [json.loads(l) for l in open('wd/log.jsonl')]
assert [l['epoch'] for l in lines if l['mode'] == 'val'] == [1, 2, 3], lines"

# Ctrl-C saves last.ckpt and prints a command that resumes in the same work dir with the same overrides.
"$SSCMA" train "$FOMO" --work-dir 'wd int' "${O[@]}" epochs=50 --quiet 2>int.err &
pid=$!
for _ in $(seq 600); do [ -s 'wd int/log.jsonl' ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
int_rc=$?
ok "Ctrl-C: exit 130, last.ckpt saved" test "$int_rc" -eq 130 -a -s 'wd int/last.ckpt'
ok "Ctrl-C: the printed command names the work dir, the overrides and last.ckpt" /usr/bin/python3 -c "
import shlex, sys
line = open('int.err').read().strip().splitlines()[-1]
cmd = shlex.split(line.split('continue with: ', 1)[1][:-1])
want = ['sscma', 'train', sys.argv[1], '--work-dir', 'wd int', '--cfg-options', 'data_root=det', 'num_classes=4',
        'in_channels=1', 'epochs=50', '--resume', 'wd int/last.ckpt']
assert cmd == want, (cmd, want)" "$FOMO"

# An output never replaces an input.
sha_before=$(sha256sum wd/last.ckpt)
fails "export --out onto the checkpoint is refused" 2 "is the input" \
    "$SSCMA" export "$FOMO" wd/last.ckpt --format tflite --out wd/last.ckpt "${O[@]}"
ok "the checkpoint is unchanged" test "$(sha256sum wd/last.ckpt)" = "$sha_before"
cp wd/last.ckpt ck.c
fails "export --format c whose .c is the checkpoint is refused" 2 "is the input" \
    "$SSCMA" export "$FOMO" ck.c --format c --out ck "${O[@]}"
ok "that checkpoint is unchanged and no header appeared" test ! -e ck.h -a "$(sha256sum <ck.c)" = "$(sha256sum <wd/last.ckpt)"

"$SSCMA" eval "$FOMO" wd/last.ckpt "${O[@]}" --json >eval.json 2>/dev/null
ok "eval: FomoMetric on 60 images" json eval.json "d['samples'] == 60 and 0 <= d['metrics']['F1'] <= 1"

"$SSCMA" export "$FOMO" wd/last.ckpt --format tflite --verify "${O[@]}" --json >tflite.json 2>/dev/null
ok "export tflite int8 --verify: every value equal" \
    json tflite.json "d['precision'] == 'int8' and d['verify']['values_differing'] == 0 and \
d['verify']['samples'] == 60 and d['verify']['metric_model'] == d['verify']['metric_file']"
ok "the default file name is beside the checkpoint" test -s wd/last_int8.tflite
"$SSCMA" export "$FOMO" wd/last.ckpt --format tflite --precision float32 --out f32.tflite --verify "${O[@]}" \
    --json >f32.json 2>/dev/null
ok "export tflite float32 --verify" json f32.json "d['file'] == 'f32.tflite' and d['verify']['max_abs_diff'] < 1e-5"
ok "export onnx" "$SSCMA" export "$FOMO" wd/last.ckpt --format onnx --out model.onnx "${O[@]}"
ok "the ONNX file starts with the ir_version field" /usr/bin/python3 -c "
import sys; b = open('model.onnx', 'rb').read(); sys.exit(0 if b[0] == 0x08 and len(b) > 10000 else 1)"
ok "export c --verify" "$SSCMA" export "$FOMO" wd/last.ckpt --format c --out fomo_model.c --verify "${O[@]}"
ok "the C array pair compiles" cc -c -o fomo_model.o fomo_model.c
ok "the C array's header declares the symbol" grep -q 'extern const unsigned char fomo_model\[\]' fomo_model.h

# Channel pruning: the pruned config + checkpoint fine-tune, report their reduction and export exactly.
"$SSCMA" prune "$FOMO" wd/last.ckpt --ratio 0.5 --out pr --json "${O[@]}" >prune.json 2>/dev/null
ok "prune: 50% L1 writes a smaller model" json prune.json \
    "d['after']['params'] < 0.8 * d['before']['params'] and d['after']['macs'] < 0.7 * d['before']['macs']"
ok "the pruned config lists the backbone's widths and loads the pruned weights" json pr/config.json \
    "len(d['model']['backbone']['channels']) == 12 and d['load_from'] == 'pr/pruned.ckpt' and d['prune'] is None"
"$SSCMA" info pr/config.json --json >prinfo.json 2>/dev/null
ok "info on the pruned config: the sizes prune reported and the reduction" /usr/bin/python3 -c "
import json; p = json.load(open('prune.json')); i = json.load(open('prinfo.json'))
assert i['params'] == p['after']['params'] and i['macs'] == p['after']['macs']
assert i['pruned_from']['from_params'] == p['before']['params']
assert abs(i['pruned_from']['macs_reduction'] - (1 - p['after']['macs'] / p['before']['macs'])) < 1e-6"
ok "fine-tune the pruned model 1 epoch" "$SSCMA" train pr/config.json --work-dir prwd --quiet \
    --cfg-options train_cfg.max_epochs=1
"$SSCMA" export pr/config.json prwd/last.ckpt --format tflite --verify --json >prtflite.json 2>/dev/null
ok "the pruned model exports to int8 TFLite exactly" json prtflite.json "d['verify']['values_differing'] == 0"
fails "prune refuses an --out that would overwrite its config" 2 "would overwrite an input" \
    "$SSCMA" prune pr/config.json pr/pruned.ckpt --out pr
fails "prune: an unknown criterion" 2 "--criterion expects l1, l2, bn_scale or fpgm" \
    "$SSCMA" prune "$FOMO" wd/last.ckpt --out pr2 --criterion l3
ok "export with QAT" "$SSCMA" export "$FOMO" wd/last.ckpt --format tflite --qat-epochs 1 --out qat.tflite "${O[@]}" --quiet
# --format vela: the int8 file, then Arm's Vela (the venv's, as the export suite uses it) into <stem>_vela.tflite;
# Vela's other files stay in its scratch folder, which goes.
VELA=${SSCMA_VENV:-$HOME/.cache/libsscma/venv}/bin/vela
if [ -x "$VELA" ]; then
    mkdir -p vela
    SSCMA_VELA=$VELA "$SSCMA" export "$FOMO" wd/last.ckpt --format vela --out vela/fomo_int8.tflite \
        --accelerator-config ethos-u55-128 "${O[@]}" --json >vela.json 2>/dev/null
    ok "export --format vela: every operator on the NPU, Vela's SRAM and time reported" json vela.json \
        "d['vela']['file'] == 'vela/fomo_int8_vela.tflite' and d['vela']['accelerator'] == 'ethos-u55-128' and \
d['vela']['cpu_operators'] == 0 and d['vela']['npu_operators'] > 0 and d['vela']['sram_kib'] > 0 and \
d['vela']['inference_ms'] > 0"
    ok "export --format vela leaves only the int8 file and Vela's" \
        test "$(ls -A vela | tr '\n' ' ')" = "fomo_int8.tflite fomo_int8_vela.tflite "
    ok "the Vela file holds Vela's ethos-u operator" grep -q ethos-u vela/fomo_int8_vela.tflite
else
    for t in "export --format vela" "export --format vela leaves only its files" "the Vela file"; do
        n=$((n + 1)); echo "ok $n - $t # SKIP no Vela at $VELA (pip install ethos-u-vela)"
    done
fi
fails "--format vela without Vela says how to install it" 1 "pip install ethos-u-vela" \
    env SSCMA_VELA=/nonexistent/vela "$SSCMA" export "$FOMO" wd/last.ckpt --format vela "${O[@]}"
fails "--format vela of a float model is refused" 2 "--precision int8" \
    "$SSCMA" export "$FOMO" wd/last.ckpt --format vela --precision float32 "${O[@]}"

"$SSCMA" infer wd/last_int8.tflite det/valid/000000.png det/valid/000001.png --json --threshold 0 --draw pred.png \
    >infer.json 2>/dev/null
ok "infer a .tflite: objects with classes and centres" \
    json infer.json "d['family'] == 'Fomo' and len(d['results']) == 2 and len(d['results'][0]['objects']) > 0 and \
all(o['name'] in ('T-shirt/top', 'Trouser', 'Sneaker', 'Bag') and (o['x'] - 4) % 8 == 0 and o['w'] == 8 \
    for o in d['results'][0]['objects']) and \
[o['score'] for o in d['results'][0]['objects']] == sorted((o['score'] for o in d['results'][0]['objects']), reverse=True)"
ok "infer --draw writes a PNG grid of the two images" /usr/bin/python3 -c "
import struct, sys; b = open('pred.png', 'rb').read(24)
sys.exit(0 if b[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>I', b[16:20])[0] > 2 * 2 * 96 else 1)"
ok "infer --draw labels the objects with their class names, and a legend names the classes" \
    /usr/bin/python3 "$SRC/tests/cli/picture_text.py" pred.png --present T-shirt/top Trouser Sneaker Bag \
    --absent Pullover Sandal
ok "infer from a config and a checkpoint" "$SSCMA" infer "$FOMO" wd/last.ckpt det/valid/000002.png "${O[@]}"

# Swift-YOLO through SSCMA's recipe (Mosaic, YOLOv5RandomAffine, Albu, HSV; YOLOv5 loss; CocoMetric), exported int8
# with SSCMA's in-graph decode, and run by infer with SSCMA-Micro's YOLO post-processing.
SY=$SRC/configs/swift_yolo/swift_yolo_tiny_1xb16_300e_coco.json
Y=(--cfg-options data_root=det num_classes=4 height=96 width=96 'affine_border=[-48,-48]')
ok "the Swift-YOLO recipe trains one epoch" "$SSCMA" train "$SY" --work-dir sy "${Y[@]}" epochs=1 val_interval=1 --quiet
ok "its validation logs CocoMetric's numbers" /usr/bin/python3 -c "
import json, sys; v = [d for d in map(json.loads, open('sy/log.jsonl')) if d.get('mode') == 'val']
sys.exit(0 if v and 0 <= v[-1]['coco/bbox_mAP_50'] <= 1 and v[-1]['coco/bbox_mAP_l'] == -1 else 1)"
ok "its predictions are drawn" test -s sy/predictions.png
ok "predictions.png shows the ground truth beside the prediction, with class names" \
    /usr/bin/python3 "$SRC/tests/cli/picture_text.py" sy/predictions.png --present "ground truth" prediction \
    T-shirt/top Trouser Sneaker Bag --absent Pullover Sandal
"$SSCMA" export "$SY" sy/last.ckpt --format tflite --verify "${Y[@]}" --json >sy.json 2>/dev/null
ok "Swift-YOLO int8 export --verify: the file gives the model's values and mAP50" \
    json sy.json "d['verify']['values_differing'] == 0 and d['verify']['metric'] == 'coco/bbox_mAP_50' and \
d['verify']['metric_model'] == d['verify']['metric_file']"
ok "the file ends in SSCMA's decode: one output [1, 567, 9] (3 x (12^2 + 6^2 + 3^2) rows, 5 + 4 columns)" \
    grep -q 'output     output int8 \[1, 567, 9\]' <("$SSCMA" info sy/last_int8.tflite)
"$SSCMA" infer sy/last_int8.tflite det/valid/000000.png --json --threshold 0 >syi.json 2>/dev/null
ok "infer on the Swift-YOLO file gives boxes" \
    json syi.json "d['family'] == 'YOLODetector' and d['task'] == 'yolo' and len(d['results'][0]['objects']) > 0"

# PipelineSwitchHook with its switch_pipeline written as SSCMA writes it (loading and packing steps, scopes): the
# runner maps it as it maps the dataset's pipeline, and the second epoch trains on it.
cat >sy_switch.json <<EOF
{"_base_": "$SY",
 "custom_hooks": [{"type": "mmdet.PipelineSwitchHook", "switch_epoch": 1, "switch_pipeline": [
   {"type": "LoadImageFromFile"}, {"type": "LoadAnnotations", "with_bbox": true},
   {"type": "YOLOv5KeepRatioResize", "scale": [96, 96]},
   {"type": "LetterResize", "scale": [96, 96], "allow_scale_up": true, "pad_val": {"img": 114}},
   {"type": "mmdet.RandomFlip", "prob": 0.5}, {"type": "mmdet.PackDetInputs"}]}]}
EOF
# RTMDet-nano from SSCMA's recipe as it is (Mosaic, RandomResize, mmdet's RandomCrop, HSV, flip, Pad, MixUp, then
# the stage-2 pipeline from switch_epoch; QualityFocalLoss + GIoU with the batch dynamic soft-label assigner, AdamW,
# EMA; CocoMetric after test_cfg's min_bbox_size and NMS), two epochs on the composed set. Only the scheduler is
# replaced: the recipe's cosine starts at epoch 150.
cat >rtm.json <<EOF
{"_base_": "$SRC/configs/rtmdet/rtmdet_nano_8xb32_300e_coco_relu.json",
 "param_scheduler": [{"type": "LinearLR", "start_factor": 1e-05, "by_epoch": false, "begin": 0, "end": 20}]}
EOF
R=(--cfg-options data_root=det num_classes=4 height=96 width=96 double_height=192 double_width=192 interval=1
   train_ann_file=train/_annotations.coco.json train_img_prefix=train/ val_ann_file=valid/_annotations.coco.json
   val_img_prefix=valid/ batch_size=8 val_batch_size=8 switch_epoch=1)
ok "the RTMDet-nano recipe trains two epochs, switching pipelines" "$SSCMA" train rtm.json --work-dir rtm "${R[@]}" \
    epochs=2 --quiet
ok "its log has a finite loss and CocoMetric's numbers" /usr/bin/python3 -c "
import json, math, sys; d = list(map(json.loads, open('rtm/log.jsonl')))
t = [x for x in d if x.get('mode') == 'train']; v = [x for x in d if x.get('mode') == 'val']
sys.exit(0 if t and all(math.isfinite(x['loss']) and x['loss'] > 0 for x in t) and v and
         0 <= v[-1]['coco/bbox_mAP_50'] <= 1 else 1)"
ok "its predictions are drawn" test -s rtm/predictions.png
"$SSCMA" export rtm.json rtm/last.ckpt --format tflite --verify "${R[@]}" --json >rtmx.json 2>/dev/null
ok "RTMDet int8 export --verify: every output value and the mAP50 of the file are the model's" \
    json rtmx.json "d['verify']['values_differing'] == 0 and d['verify']['metric'] == 'coco/bbox_mAP_50' and \
d['verify']['metric_model'] == d['verify']['metric_file'] and d['verify']['values'] == 60 * 189 * 8"
ok "the file ends in SSCMA's six raw head maps: class logits [1, 144, 4] and distances [1, 144, 4] at stride 8" \
    bash -c 'grep -q "output     cls_0 int8 \[1, 144, 4\]" <("$0" info rtm/last_int8.tflite) &&
             grep -q "output     dist_2 int8 \[1, 9, 4\]" <("$0" info rtm/last_int8.tflite)' "$SSCMA"
"$SSCMA" infer rtm/last_int8.tflite det/valid/000000.png --json --threshold 0.01 >rtmi.json 2>/dev/null
ok "infer on the RTMDet file gives boxes at or above the threshold, best first" \
    json rtmi.json "d['family'] == 'RTMDet' and d['task'] == 'rtmdet' and len(d['results'][0]['objects']) > 0 and \
all(o['score'] >= 0.01 and o['name'] for o in d['results'][0]['objects']) and \
[o['score'] for o in d['results'][0]['objects']] == sorted([o['score'] for o in d['results'][0]['objects']], reverse=True)"
ok "PipelineSwitchHook in SSCMA's form switches the pipeline for the second epoch" \
    "$SSCMA" train sy_switch.json --work-dir sysw "${Y[@]}" epochs=2 val_interval=2 --quiet

ok "the Fashion-MNIST recipe trains (one epoch on 2,000 images)" "$SSCMA" train "$FMNIST" --work-dir fm --quiet \
    --cfg-options epochs=1 train_dataloader.dataset.indices=2000 val_dataloader.dataset.indices=500
ok "a classifier's work dir has confusion.png and predictions.png" test -s fm/confusion.png -a -s fm/predictions.png
ok "confusion.png names the classes on both axes" /usr/bin/python3 "$SRC/tests/cli/picture_text.py" \
    fm/confusion.png --present predicted T-shirt/top Pullover "Ankle boot" Sandal --absent Swift Mosaic
ok "predictions.png gives each image's true class" /usr/bin/python3 "$SRC/tests/cli/picture_text.py" \
    fm/predictions.png --present "true:" "pred:" --absent Swift Mosaic
# The work dir's pictures are replaced together: when one of them cannot be (predictions.png is a directory here),
# the others keep their previous content, and no temporary file stays behind.
mkdir -p pic/predictions.png && echo old >pic/confusion.png && echo old >pic/curves.svg
"$SSCMA" train "$FMNIST" --work-dir pic --cfg-options epochs=1 train_dataloader.dataset.indices=300 \
    val_dataloader.dataset.indices=100 >/dev/null 2>pic.err
ok "a picture that cannot be replaced keeps the others as they were" \
    test "$(cat pic/confusion.png)" = old -a "$(cat pic/curves.svg)" = old -a -d pic/predictions.png
ok "the training still ends well, with a warning naming the work dir" grep -q "cannot replace the pictures in pic" pic.err
ok "no temporary file stays in the work dir" test -z "$(ls pic | grep tmp)"
"$SSCMA" export "$FMNIST" fm/last.ckpt --format tflite --out fm.tflite --cfg-options val_dataloader.dataset.indices=500 \
    --quiet >/dev/null 2>&1
/usr/bin/python3 - <<'EOF'
import struct, zlib
# a 28x28 gray PNG for the classifier
raw = b''.join(b'\x00' + bytes((x * 9 + y * 3) % 256 for x in range(28)) for y in range(28))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open('gray.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, 8, 0, 0, 0, 0))
                             + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
EOF
"$SSCMA" infer fm.tflite gray.png --json --topk 3 >cls.json 2>/dev/null
ok "infer a classifier: top 3 named classes, best first" \
    json cls.json "[len(r['classes']) for r in d['results']] == [3] and \
d['results'][0]['classes'][0]['score'] >= d['results'][0]['classes'][1]['score'] and \
all(c['name'] for c in d['results'][0]['classes'])"

# SSCMA-Micro files without libsscma metadata (hand-made by test_predict --write): a Swift-YOLO [1, 63, 7] output is
# recognised by its layout and decoded as the device decodes it (4 boxes after the 0.25 threshold and NMS at 0.45;
# tests/unit/test_predict.c says which); --classes names the classes, --task says a layout that is not recognised.
if [ -n "${SSCMA_PREDICT_FIXTURE:-}" ]; then
    mkdir -p micro && "$SSCMA_PREDICT_FIXTURE" --write micro
    "$SSCMA" infer micro/yolo.tflite gray.png --json --classes cat,dog --draw yolo.png >yolo.json 2>/dev/null
    ok "infer a Swift-YOLO file without metadata: recognised, NMS, named by --classes" json yolo.json \
        "d['task'] == 'yolo' and d['family'] == '' and [o['name'] for o in d['results'][0]['objects']] == \
['dog', 'cat', 'dog', 'dog'] and d['results'][0]['objects'][0]['x'] == 7.0 and \
d['results'][0]['objects'][0]['w'] == 7.0"
    ok "infer --draw draws YOLO boxes" test -s yolo.png
    "$SSCMA" infer micro/yolo.tflite gray.png --classes cat,dog >yolo.txt 2>/dev/null
    ok "infer prints a YOLO box's centre and size" grep -qF "  dog (1) 0.900 at (7.0, 7.0) size 7.0 x 7.0" yolo.txt
    "$SSCMA" infer micro/yolo.tflite gray.png --json --iou 0.8 >yolo8.json 2>/dev/null
    ok "infer --iou 0.8 keeps the box NMS dropped at 0.45" json yolo8.json "len(d['results'][0]['objects']) == 5"
    fails "--task pfld on a YOLO output names both shapes" 1 "output is [1, 63, 7]; expected [1, 2 x points]" \
        "$SSCMA" infer micro/yolo.tflite gray.png --task pfld
    fails "a layout SSCMA-Micro does not recognise points to --task" 1 "say which with --task cls|fomo|pfld|yolo|rtmdet" \
        "$SSCMA" infer micro/odd.tflite gray.png
    "$SSCMA" infer micro/odd.tflite gray.png --task yolo --json >odd.json 2>/dev/null
    ok "infer --task yolo decodes a layout the shapes do not give" json odd.json \
        "d['task'] == 'yolo' and len(d['results'][0]['objects']) == 1"
    fails "an unknown --task is a usage error" 2 "--task expects cls, fomo, pfld, yolo or rtmdet" \
        "$SSCMA" infer micro/yolo.tflite gray.png --task ssd
fi

# sscma eval CONFIG MODEL.tflite: the exported int8 file on the val split with the task's metric, near the checkpoint's
"$SSCMA" eval "$FMNIST" fm.tflite --json --cfg-options val_dataloader.dataset.indices=500 >evtfl.json 2>/dev/null
"$SSCMA" eval "$FMNIST" fm/last.ckpt --json --cfg-options val_dataloader.dataset.indices=500 >evckpt.json 2>/dev/null
ok "eval of the exported .tflite: 500 samples, top-1 within 3 points of the checkpoint's" /usr/bin/python3 -c "
import json, sys; f = json.load(open('evtfl.json')); c = json.load(open('evckpt.json'))
a, b = f['metrics']['accuracy/top1'], c['metrics']['accuracy/top1']
sys.exit(0 if f['samples'] == 500 and f['family'] == 'ImageClassifier' and 'accuracy/top1' in c['metrics'] and abs(a - b) <= 3 else 1)"
cp model.onnx notflite.tflite
fails "eval of a file that is no TFLite file names it" 1 "notflite.tflite" "$SSCMA" eval "$FMNIST" notflite.tflite

# sscma info on a .tflite file: inputs with their quantization, operators by count, memory, metadata, and whether
# libsscma runs it (a file it cannot run is described too: test_tflite_ops)
"$SSCMA" info fm.tflite --json >fminfo.json 2>/dev/null
ok "info on a .tflite file: int8 input, operators, weights, arena, metadata, it loads" json fminfo.json \
    "d['inputs'][0]['type'] == 'int8' and d['inputs'][0]['shape'] == [1, 32, 32, 1] and 'scale' in d['inputs'][0] \
and any(o['name'] == 'CONV_2D' and o['count'] > 1 and o['supported'] for o in d['operators']) and \
d['unsupported'] == [] and d['weight_bytes'] > 10000 and d['arena_bytes'] > 0 and \
d['metadata']['family'] == 'ImageClassifier' and d['loads'] is True and d['error'] is None"
"$SSCMA" info fm.tflite >fminfo.txt 2>/dev/null
ok "info on a .tflite file prints one line per part" grep -q "^libsscma   runs it" fminfo.txt
cp model.onnx notflite.tflite
fails "info on a file that is no TFLite file names it" 1 "notflite.tflite: not a TFLite file" \
    "$SSCMA" info notflite.tflite

if [ -n "$DEPLOY" ]; then
    "$DEPLOY" wd/last_int8.tflite det/valid/000000.png >deploy.txt 2>&1
    ok "examples/deploy_int8 runs the exported file" grep -q '^wd/last_int8.tflite: Fomo, int8, input 96 x 96 x 1' deploy.txt
    ok "examples/deploy_int8 prints the input quantization" grep -q '^input quantization: q = round' deploy.txt
fi
if [ -n "$CPP" ]; then
    ok "examples/cpp/train_and_deploy trains, exports and verifies (0 values differ)" "$CPP" "$FMNIST" cpp.tflite \
        epochs=1 train_dataloader.dataset.indices=1000 val_dataloader.dataset.indices=256 -- gray.png
fi

# errors: exit 1 with the library's one-line message, exit 2 for usage errors
fails "a missing config names the file" 1 "nope.json" "$SSCMA" train nope.json
fails "a bad override names it" 1 "override 'foo'" "$SSCMA" train "$FOMO" --cfg-options foo
fails "a missing data_root names the annotation file" 1 "nowhere/train/_annotations.coco.json" \
    "$SSCMA" train "$FOMO" --cfg-options data_root=nowhere --quiet
fails "a class count mismatch names num_classes" 1 "num_classes=4" \
    "$SSCMA" train "$FOMO" --cfg-options data_root=det --quiet
fails "a bad batch size names the key" 1 "train_dataloader.batch_size" \
    "$SSCMA" train "$FOMO" "${O[@]}" train_dataloader.batch_size=0 --quiet
fails "an undefined reference names the key" 1 "model.input_size" \
    "$SSCMA" info "$FOMO" --cfg-options 'model.input_size=${nope}'
fails "a reference cycle names its chain" 1 "work_dir: reference cycle: work_dir -> work_dir" \
    "$SSCMA" info "$FOMO" --cfg-options 'work_dir=x${work_dir}'
fails "an imgsz that is no multiple of 8 names FOMO's stride 8" 1 "30x30 is not a multiple of FOMO's stride 8" \
    "$SSCMA" info "$FOMO" --cfg-options 'imgsz=[30,30]'
fails "max_epochs and epochs both overridden and differing name both keys" 1 \
    "max_epochs: 2, but train_cfg.max_epochs is 3" "$SSCMA" train "$FOMO" "${O[@]}" max_epochs=2 epochs=3 --quiet
fails "a wrong type names the file and the JSON path" 1 \
    "fomo_mobnetv2_0.35_x8_coco.json: model.head.num_classes: expected an integer 1..1000, got \"3\"" \
    "$SSCMA" info "$FOMO" --cfg-options 'model.head.num_classes="3"'
fails "a bad hook value names the file and the JSON path" 1 \
    "fomo_mobnetv2_0.35_x8_coco.json: default_hooks.checkpoint.interval: expected an integer >= 1, got 0" \
    "$SSCMA" train "$FOMO" "${O[@]}" default_hooks.checkpoint.interval=0 --quiet
fails "a missing checkpoint names the file" 1 "missing.ckpt" "$SSCMA" eval "$FOMO" missing.ckpt "${O[@]}"
fails "a checkpoint of another model names the tensor" 1 "fm/last.ckpt" "$SSCMA" eval "$FOMO" fm/last.ckpt "${O[@]}"
fails "a missing image names the file" 1 "x.png" "$SSCMA" infer wd/last_int8.tflite x.png
cp model.onnx bad.tflite
fails "not a TFLite file names it" 1 "bad.tflite" "$SSCMA" infer bad.tflite det/valid/000000.png
fails "--resume without a checkpoint" 1 "last_checkpoint" "$SSCMA" train "$FOMO" --work-dir empty "${O[@]}" --resume --quiet
"$SSCMA" infer fm.tflite gray.png --json --draw cls.png >clsdraw.json 2>/dev/null
ok "infer --draw of a classifier writes its best class under the image" sh -c '/usr/bin/python3 "$0" cls.png \
    --present "$(/usr/bin/python3 -c "import json; print(json.load(open(\"clsdraw.json\"))[\"results\"][0][\"classes\"][0][\"name\"])")" \
    --absent Swift Mosaic' "$SRC/tests/cli/picture_text.py"
ok "with SSCMA_FONT=none, --draw writes its text in the built-in font" sh -c 'SSCMA_FONT=none "$0" \
    infer fm.tflite gray.png --draw nofont.png --quiet && test -s nofont.png' "$SSCMA"
# Accelerometer gestures (issue 21): tools/gen_accel.py's seeded Edge Impulse export, the shipped recipe trained
# briefly, evaluated, exported int8 with verification, and run on a JSON and a CSV recording.
ACC=$SRC/configs/accelerometer/3axes_accelerometer_62.5Hz_1s_classify.json
A=(--cfg-options data_root=accel)
ok "gen_accel.py writes a seeded Edge Impulse export" /usr/bin/python3 "$SRC/tools/gen_accel.py" accel --train 6 --test 3
"$SSCMA" dataset stats "$ACC" "${A[@]}" --json >accstats.json 2>/dev/null
ok "dataset stats: SensorDataset windows of 3 axes x 62 steps, four gestures in first-appearance order" json \
    accstats.json "d['num_classes'] == 4 and [c['name'] for c in d['classes']] == ['idle', 'shake', 'circle', 'updown'] and d['height'] == [3, 3] and d['width'] == [62, 62] and d['samples'] > 100"
ok "train the accelerometer recipe 4 epochs" "$SSCMA" train "$ACC" --work-dir accwd "${A[@]}" epochs=4 val_interval=2 --quiet
ok "its work dir has curves.svg and confusion.png, no predictions.png (windows are no images)" \
    test -s accwd/curves.svg -a -s accwd/confusion.png -a ! -e accwd/predictions.png
"$SSCMA" eval "$ACC" accwd/last.ckpt "${A[@]}" --json >acceval.json 2>/dev/null
ok "eval: accuracy on the testing category" json acceval.json "d['samples'] > 30 and d['metrics']['accuracy/top1'] >= 80"
"$SSCMA" export "$ACC" accwd/last.ckpt --format tflite --verify --out acc.tflite --json "${A[@]}" >accexp.json 2>/dev/null
ok "export tflite int8 --verify: every value equal" json accexp.json "d['verify']['values_differing'] == 0"
"$SSCMA" infer "$ACC" accwd/last.ckpt accel/testing/shake.000.json --topk 2 --json "${A[@]}" >accinfer.json 2>/dev/null
ok "infer a JSON recording: two classes per window, best first" json accinfer.json \
    "d['family'] == 'AccelerometerClassifier' and len(d['results']) >= 5 and all(len(r['classes']) == 2 and r['classes'][0]['score'] >= r['classes'][1]['score'] for r in d['results'])"
/usr/bin/python3 -c "
import json
p = json.load(open('accel/testing/updown.000.json'))['payload']
with open('updown.csv', 'w') as f:
    f.write('timestamp,accX,accY,accZ\n')
    for i, r in enumerate(p['values']):
        f.write('%g,%g,%g,%g\n' % (i * p['interval_ms'], *r))
"
ok "infer a CSV recording prints a class per window" sh -c '"$0" infer "$1" accwd/last.ckpt updown.csv --topk 1 \
    --cfg-options data_root=accel | grep -c "^  " | grep -qv "^0$"' "$SSCMA" "$ACC"
printf 'timestamp,accX,accY,accZ\n0,1,2,3\n16,1,2\n' >ragged.csv
fails "a ragged CSV recording names the file and the row" 1 "ragged.csv: row 2: 3 columns, the header has 4" \
    "$SSCMA" infer "$ACC" accwd/last.ckpt ragged.csv "${A[@]}"
fails "a sensor recording with a .tflite asks for the config" 2 "a sensor file needs CONFIG CHECKPOINT" \
    "$SSCMA" infer acc.tflite updown.csv
# Keyword spotting (issue 21): SSCMA's KWS recipe builds its model; WAV files are for Audio_classify models only
KWS=$SRC/configs/audio_classify/ali_classiyf_small_8k_8192.json
"$SSCMA" info "$KWS" --json >kwsinfo.json 2>kwsinfo.err
ok "info of the KWS recipe: SSCMA's 23,953 parameters on [1, 1, 8192, 1] clips, 35 probabilities, AudioAugs the training loader's one step" \
    json kwsinfo.json "d['model'] == 'Audio_classify' and d['params'] == 23953 and d['input'] == [1, 1, 8192, 1] and d['outputs']['probs'] == [1, 35] and [t['type'] for t in d['loaders']['train']['pipeline']] == ['AudioAugs'] and d['loaders']['val']['pipeline'] == []"
ok "the KWS recipe's ETADataPreprocessor is named as not implemented" grep -q "ETADataPreprocessor (batch mixing and resampling) is not implemented; ignored" kwsinfo.err
printf 'RIFF' >clip.wav
fails "a WAV file through a model of another family is refused" 2 "clip.wav: a WAV file, but the model's family is AccelerometerClassifier" \
    "$SSCMA" infer acc.tflite clip.wav
# The anomaly VAE on the same gestures (CwtMtf features), circle held out: AnomalyMetric's auc, the int8 file's
# "threshold" metadata, and one score and decision per window from sscma infer.
VAE=$SRC/configs/anomaly/vae_accel_heldout.json
V=(--cfg-options data_root=accel 'abnormal_classes=["circle"]')
"$SSCMA" train "$VAE" --work-dir vaewd "${V[@]}" epochs=2 --json >vaetrain.json 2>vaetrain.err
ok "train the VAE recipe 2 epochs: AnomalyMetric's auc, the training set without circle" sh -c \
    'grep -q "Vae_Model: training on the [0-9]* normal windows" vaetrain.err && /usr/bin/python3 -c "import json, sys; \
d = json.load(open(\"vaetrain.json\")); sys.exit(not 0 <= d[\"metrics\"][\"auc\"] <= 1)"'
"$SSCMA" export "$VAE" vaewd/last.ckpt --format tflite --out vae.tflite "${V[@]}" >/dev/null 2>vaeexp.err
ok "export int8 logs the deployable model's auc and its threshold metadata" grep -q '"threshold" metadata' vaeexp.err
"$SSCMA" infer "$VAE" vaewd/last.ckpt accel/testing/circle.000.json --json "${V[@]}" >vaeinfer.json 2>/dev/null
ok "infer a recording with the VAE: a score and a decision per window" json vaeinfer.json \
    "len(d['results']) >= 5 and all(r['score'] >= 0 and r['anomaly'] in (True, False) for r in d['results'])"
fails "a VAE whose abnormal_classes are every class has nothing to learn" 1 \
    "train_dataloader.dataset: all 203 training windows are of val_evaluator.abnormal_classes" \
    "$SSCMA" train "$VAE" --quiet --cfg-options data_root=accel 'abnormal_classes=["idle","shake","circle","updown"]' epochs=1
/usr/bin/python3 -c "
import json
d = json.load(open('accel/info.labels'))
d['files'].insert(3, {'path': d['files'][0]['path'], 'category': 'training', 'label': {'type': 'label', 'label': 'wave'}})
json.dump(d, open('accel/bad.labels', 'w'))
"
"$SSCMA" dataset check "$ACC" "${A[@]}" 'train_dataloader.dataset.classes=["idle","shake","circle","updown"]' \
    'train_dataloader.dataset.ann_file=bad.labels' >badacc.txt 2>/dev/null
ok "dataset check lists an unknown gesture label with the info.labels entry" \
    grep -qF "bad.labels: files[3] (training/idle.000.json): unknown label 'wave' (not in classes)" badacc.txt
# LODA (issue 21): the shipped local recipe on the same gestures, idle normal and every motion abnormal: fitted by one
# counting pass, its state checkpointed, evaluated with AnomalyMetric (auc, threshold at fpr 0.05, tpr, fpr).
LODA=$SRC/configs/anomaly/loda_accel_idle.json
"$SSCMA" train "$LODA" --work-dir lodawd "${A[@]}" --json >lodatrain.json 2>lodatrain.err
ok "train LODA: one epoch of one counting pass (125 idle windows), last.ckpt and log.jsonl in the work dir" json \
    lodatrain.json "d['epochs'] == 1 and d['iterations'] == 125 and all(__import__('os').path.getsize(p) > 0 for p in \
    ('lodawd/last.ckpt', 'lodawd/log.jsonl'))"
"$SSCMA" eval "$LODA" lodawd/last.ckpt "${A[@]}" --json >lodaeval.json 2>/dev/null
ok "eval LODA: auc, threshold, tpr, fpr on the testing category (idle against motion)" json lodaeval.json \
    "sorted(d['metrics']) == ['auc', 'fpr', 'threshold', 'tpr'] and d['metrics']['auc'] >= 0.8 and d['samples'] > 100"
ok "the checkpoint's state scores as the fitted one: eval's metrics are train's" /usr/bin/python3 -c "import json; \
    a, b = (json.load(open(p))['metrics'] for p in ('lodatrain.json', 'lodaeval.json')); exit(a != b or len(a) != 4)"
fails "LODA: an unknown abnormal class names the key and lists the classes" 1 \
    "val_evaluator.abnormal_classes[0]: unknown class 'shak'; the dataset's classes: idle, shake, circle, updown" \
    "$SSCMA" train "$LODA" --work-dir lodabad --quiet "${A[@]}" 'val_evaluator.abnormal_classes=["shak"]'
fails "LODA: num_bins 0 is refused with the key" 1 "model.num_bins: expected an integer 1..4096, got 0" \
    "$SSCMA" train "$LODA" --work-dir lodabad --quiet "${A[@]}" model.num_bins=0
fails "LODA: SSCMA's Accuracy evaluator is refused before the fit" 1 'val_evaluator.type: expected "AnomalyMetric"' \
    "$SSCMA" train "$LODA" --work-dir lodabad --quiet "${A[@]}" 'val_evaluator={"type": "mmcls.Accuracy", "topk": 1}'
fails "LODA: a checkpoint of another family is refused" 1 "a checkpoint of AccelerometerClassifier, not of a LODA" \
    "$SSCMA" eval "$LODA" accwd/last.ckpt "${A[@]}"
# infer with the LODA checkpoint (sscma_runner_anomaly_score): each full window's score against numpy scoring the
# same rows (the 10 ms recording resampled to the recipe's 62.5 Hz by np.interp) with the exported loda.json; the
# decision is score > threshold_; the motion's windows are anomalies
"$SSCMA" infer "$LODA" lodawd/last.ckpt updown.csv --json "${A[@]}" >lodainfer.json 2>/dev/null
ok "infer LODA --json: per window the score numpy gives with loda.json, score > threshold_, updown flagged" \
    /usr/bin/python3 -c "
import json, numpy as np
d, m = json.load(open('lodainfer.json')), json.load(open('lodawd/loda.json'))
raw = np.loadtxt('updown.csv', delimiter=',', skiprows=1)
t = np.arange(0, raw[-1, 0] + 1e-9, 16.0)
rows = np.stack([np.interp(t, raw[:, 0], raw[:, a]) for a in (1, 2, 3)], axis=1)
P = np.array(m['projections']).reshape(m['num_cuts'], m['dim'])
nld = np.array(m['neg_log_density']).reshape(m['num_cuts'], m['num_bins'])
full = [r for r in d['results'] if r['first_row'] + 30 <= len(rows)]
for r in full:
    v = P @ rows[r['first_row']:r['first_row'] + 30].T.reshape(-1)
    b = np.clip(np.floor((v - np.array(m['lo'])) / np.array(m['width'])), 0, m['num_bins'] - 1).astype(int)
    assert abs(nld[np.arange(m['num_cuts']), b].mean() - r['score']) < 1e-4, r
assert d['family'] == 'LODA' and d['task'] == 'anomaly' and len(full) >= 5
assert all(r['anomaly'] == (r['score'] > r['threshold']) and abs(r['threshold'] - m['threshold']) < 1e-6 for r in d['results'])
assert sum(r['anomaly'] for r in d['results']) >= 0.9 * len(d['results'])
"
ok "infer LODA prints a score and a decision per window" sh -c '"$0" infer "$1" lodawd/last.ckpt updown.csv \
    --cfg-options data_root=accel | grep -cE "$2" | grep -qv "^0$"' "$SSCMA" "$LODA" \
    "^updown.csv window [0-9]+ \(rows from [0-9]+\): score [0-9.]+ \(threshold [0-9.]+\): (anomaly|normal)$"
fails "LODA: infer takes sensor files only" 2 "x.png: LODA scores sensor windows" \
    "$SSCMA" infer "$LODA" lodawd/last.ckpt x.png "${A[@]}"
fails "LODA: infer with a detector of other windows (raw 30 x 3, the config's spectra 54) names both sizes" 1 \
    "updown.csv: runner: LODA: the window has 54 f32 values, the detector takes 90 f32" \
    "$SSCMA" infer "$SRC/configs/anomaly/loda_accel_heldout.json" lodawd/last.ckpt updown.csv "${A[@]}"
fails "export needs --format" 2 "--format" "$SSCMA" export "$FOMO" wd/last.ckpt
fails "--verify of ONNX is refused" 2 "onnxruntime" "$SSCMA" export "$FOMO" wd/last.ckpt --format onnx --verify
fails "an unknown option" 2 "unknown option '--bogus'" "$SSCMA" train "$FOMO" --bogus
fails "an unknown command" 2 "unknown command" "$SSCMA" bogus
fails "a missing argument" 2 "usage: sscma eval" "$SSCMA" eval "$FOMO"
for c in train eval export infer info dataset; do
    ok "sscma $c --help" "$SSCMA" "$c" --help
done
ok "sscma --version" "$SSCMA" --version

echo "1..$n"
[ "$failed" -eq 0 ]
