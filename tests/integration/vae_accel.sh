#!/usr/bin/env bash
# Vae_Model end to end on tools/gen_accel.py's synthetic gestures, reduced: 10 + 5 takes per gesture (seed 2112),
# HELD ("shake" in tests/meson.build) as the abnormal class, configs/anomaly/vae_accel_heldout.json for EPOCHS epochs;
# asserts the float ROC-AUC, the int8 model's distance from it and that the int8 model was calibrated on normal
# windows only (tests/unit/test_vae.c, --accel):
#   vae_accel.sh PYTHON GEN_ACCEL TEST_VAE CONFIG HELD EPOCHS MIN_AUC MAX_GAP
set -euo pipefail
dir=$(mktemp -d /tmp/sscma-vae-accel-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$1" "$2" "$dir/accel" --train 10 --test 5 >/dev/null
"$3" --accel "$4" "$dir/accel" "$5" "$6" "$7" "$8"
