#!/usr/bin/env bash
# Data hygiene of the command line (TAP): `sscma dataset check` finds exact and near duplicate images within and
# across the train/val splits, `sscma dataset stats` finds outliers (boxes, image size, brightness, rare classes),
# each named by its file; a clean composed set gives no finding at all, and two different Fashion-MNIST items of one
# class are not near duplicates. The planted set comes from tests/cli/plant_hygiene.py (Pillow), which also writes
# what must be found (planted.json): the findings must be exactly those.
#   run-hygiene.sh SSCMA_BINARY SOURCE_DIR
set -u
SSCMA=$(readlink -f "$1")
SRC=$(readlink -f "$2")
FOMO=$SRC/configs/fomo/fomo_mobnetv2_0.35_x8_coco.json
WORK=$(mktemp -d /tmp/sscma-hygiene-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
n=0
failed=0

. "$SRC/tests/cli/tap.sh"

json() { # json FILE PYTHON-EXPRESSION-ON-d (and p, planted.json when present): true when it holds
    /usr/bin/python3 -c "import json,sys,os; d=json.load(open(sys.argv[1])); \
p=json.load(open('set/planted.json')) if os.path.exists('set/planted.json') else None; \
files=lambda l: sorted(sorted(f['file'] for f in g['files']) for g in l); \
found=lambda l: sorted([f['file'], f['reason']] for f in l); \
r=($2); print(json.dumps(d)[:3000]) if not r else None; sys.exit(0 if r else 1)" "$1"
}

"$SSCMA" dataset compose --from /usr/share/datasets/fashion-mnist --out set --count 300 --seed 1 --quiet \
    --cfg-options 'classes=[0,1,7,8]' 'objects=[1,5]' 'scale=[0.8,1.2]' >/dev/null 2>&1
O=(--cfg-options data_root=set num_classes=4 in_channels=1)

# The clean set: no finding.
"$SSCMA" dataset check "$FOMO" "${O[@]}" --json >clean.json 2>/dev/null
ok "check of the clean set exits 0" test $? -eq 0
ok "check of the clean set: train and val compared, no duplicate" json clean.json \
    "d['duplicates']['splits'] == {'train': 300, 'val': 60} and d['duplicates']['findings'] == 0 \
     and d['duplicates']['threshold_bits'] == 22 and d['duplicates']['hash_bits'] == 128"
for split in train val; do
    "$SSCMA" dataset stats "$FOMO" "${O[@]}" --split $split --json >clean-$split.json 2>/dev/null
    ok "stats of the clean set's $split split: no outlier" json clean-$split.json \
        "d['outliers']['findings'] == 0 and d['outliers']['rules']['mode_height'] == 96"
done

# The planted set.
ok "planting duplicates and outliers" /usr/bin/python3 "$SRC/tests/cli/plant_hygiene.py" set /usr/share/datasets/fashion-mnist
"$SSCMA" dataset check "$FOMO" "${O[@]}" --json >dirty.json 2>/dev/null
ok "check of the planted set exits 1" test $? -eq 1
ok "check: exactly the three exact-duplicate groups, within train and across train/val" json dirty.json \
    "files(d['duplicates']['exact']) == p['exact']"
ok "check: identical files told from the same pixels in other bytes" json dirty.json \
    "all(g['identical_files'] == p['identical_files'][min(f['file'] for f in g['files'])] \
         for g in d['duplicates']['exact'])"
ok "check: exactly the four near duplicates (resized, JPEG quality 50, 4% crop across; blurred within train)" \
    json dirty.json "files(d['duplicates']['near']) == p['near']"
ok "check: five findings cross the splits (leakage), each marked" json dirty.json \
    "d['duplicates']['across_splits'] == p['across'] and \
     all(g['across_splits'] == (len({f['split'] for f in g['files']}) > 1) \
         for g in d['duplicates']['exact'] + d['duplicates']['near'])"
ok "check: two different T-shirts of Fashion-MNIST are not near duplicates" json dirty.json \
    "not any(f['file'] in p['not_near'] for g in d['duplicates']['near'] for f in g['files'])"
"$SSCMA" dataset check "$FOMO" "${O[@]}" >dirty.txt 2>/dev/null
ok "check (text): each finding on one line with its files" sh -c \
    'grep -q "^exact duplicate across splits (same pixels): train set/train/000020.png = val set/valid/leak_pixels.png$" dirty.txt &&
     grep -q "^near duplicate across splits (dHash distance [0-9]* of 128): train set/train/000060.png ~ val set/valid/near_crop.png$" dirty.txt &&
     grep -q "^duplicates: train 304, val 65, 3 exact groups, 4 near pairs (threshold 22 of 128 bits), 5 across splits$" dirty.txt'
"$SSCMA" dataset stats "$FOMO" "${O[@]}" --json >dirty-train.json 2>/dev/null
ok "stats train: exactly the tiny, huge and extreme-aspect boxes, each with its file" json dirty-train.json \
    "found(d['outliers']['boxes']) == p['train_boxes']"
ok "stats train: exactly the dark image" json dirty-train.json "found(d['outliers']['images']) == p['train_images']"
ok "stats train: exactly the rare class (2 images, fewer than max(5, 10% of the median))" json dirty-train.json \
    "[c['name'] for c in d['outliers']['classes']] == p['train_classes'] and d['outliers']['classes'][0]['images'] == 2 \
     and d['outliers']['findings'] == 5"
"$SSCMA" dataset stats "$FOMO" "${O[@]}" --split val --json >dirty-val.json 2>/dev/null
ok "stats val: exactly the 80 x 80 and the 92 x 92 image among 96 x 96 ones" json dirty-val.json \
    "found(d['outliers']['images']) == p['val_images'] and d['outliers']['findings'] == 2"
"$SSCMA" dataset stats "$FOMO" "${O[@]}" >dirty-train.txt 2>/dev/null
ok "stats (text): the findings with their files" sh -c \
    'grep -q "^outlier box (tiny): set/train/000100.png box [0-9]*, class 0, \[10.0 10.0 13.0 13.0\]" dirty-train.txt &&
     grep -q "^outlier image (dark): set/train/000110.png has mean brightness" dirty-train.txt &&
     grep -q "^rare class: 4 (Rare) has 2 images, fewer than" dirty-train.txt && grep -q "^outliers: 5$" dirty-train.txt'

# Class folders (CustomDataset): files named from the folders as the library lists them.
mkdir -p folders/train/a folders/train/b folders/valid/a folders/valid/b
cp set/train/000001.png set/train/000002.png folders/train/a/ && cp set/train/000003.png folders/train/b/
cp set/train/000004.png folders/valid/a/ && cp set/train/000002.png folders/valid/b/leak.png
"$SSCMA" dataset check "$SRC/configs/classification/mobnetv2_0.35_folder.json" --cfg-options data_root=folders \
    --json >folders.json 2>/dev/null
ok "check of class folders: the copy across splits, named by its files" json folders.json \
    "files(d['duplicates']['exact']) == [['folders/train//a/000002.png', 'folders/valid//b/leak.png']] \
     and d['duplicates']['near'] == []"

echo "1..$n"
[ "$failed" -eq 0 ]
