#!/usr/bin/env bash
# Compares the freshly built library's ABI with the committed baseline. Any difference fails: a removed or changed
# function or type, and also an addition, which must come with an updated baseline (ninja abi-baseline).
set -uo pipefail
lib=$1 baseline=$2 src_include=$3 build_include=$4
command -v abidiff >/dev/null || { echo "abidiff not installed (Debian: abigail-tools): skipped"; exit 77; }
[ -f "$baseline" ] || { echo "no baseline $baseline: create it with ninja -C <build> abi-baseline"; exit 1; }
# The baseline was written with the private types already dropped (update-abi-baseline.sh), so only the new
# library is filtered here; libabigail 2.2's abidiff asserts when --hd1 filters an abixml file as well.
out=$(abidiff --no-show-locs --drop-private-types \
  --hd2 "$src_include/sscma" --hd2 "$build_include/sscma" \
  "$baseline" "$lib" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  echo "$out"
  echo
  echo "abidiff exit status $rc: the ABI differs from $baseline."
  echo "If the change is intended (an addition), update the baseline in the same commit: ninja -C <build> abi-baseline"
  exit 1
fi
echo "ok: ABI identical to $(basename "$baseline")"
