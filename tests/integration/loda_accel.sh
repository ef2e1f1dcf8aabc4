#!/usr/bin/env bash
# LODA on tools/gen_accel.py's synthetic gestures at their default size (20 + 8 takes per gesture, seed 2112; a
# few seconds: smaller sets leave idle's tilts and drifts out of the training ranges):
#   loda_accel.sh PYTHON GEN_ACCEL TEST_ANOMALY
set -euo pipefail
dir=$(mktemp -d /tmp/sscma-loda-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$1" "$2" "$dir/accel" >/dev/null
echo "1..2"
# raw windows: idle as the only normal class against every motion must reach 0.95
"$3" --accel "$dir/accel" | sed -e '/^1\.\.1$/d' -e 's/^\(not \)\{0,1\}ok 1 - /&raw windows: /'
# the recipe of configs/anomaly/loda_accel_heldout.json: per-axis spectra; each motion held out must reach 0.95 too
"$3" --accel "$dir/accel" 30 20 400 '{"type": "Spectrum"}' |
    sed -e '/^1\.\.1$/d' -e 's/^\(not \)\{0,1\}ok 1 - /\1ok 2 - spectrum: /'
