#!/usr/bin/env bash
# LODA on tools/gen_accel.py's synthetic gestures at their default size (20 + 8 takes per gesture, seed 2112; a
# few seconds: smaller sets leave idle's tilts and drifts out of the training ranges):
#   loda_accel.sh PYTHON GEN_ACCEL TEST_ANOMALY
set -euo pipefail
dir=$(mktemp -d /tmp/sscma-loda-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$1" "$2" "$dir/accel" >/dev/null
"$3" --accel "$dir/accel"
