#!/usr/bin/env bash
# The micro runtime on a Cortex-M55 in QEMU against libsscma's host runtime (docs/deployment.md, "Microcontrollers"):
# export_fixture makes the tiny FOMO, MobileNetV2 classifier, PFLD, Swift-YOLO, accelerometer, RTMDet, KWS and anomaly
# VAE int8 models
# with N int8 inputs and the host runtime's outputs on them (all of a model's outputs per input: RTMDet's six); a
# cross build (cross/cortex-m55.ini) links one firmware per model (examples/mcu/), QEMU's mps3-an547 runs each on the
# inputs through semihosting, and every output byte must equal the host's; the activation arena the firmware reports must equal `sscma info`'s for the model, and its prediction lines
# (SSCMA-Micro's post-processing in the Cortex-M's float arithmetic) those of the same library built for the host
# (micro_host).
# Usage: run-qemu.sh EXPORT_FIXTURE SOURCE_ROOT N SSCMA_CLI MICRO_HOST. Skipped (77) without arm-none-eabi-gcc or
# qemu-system-arm.
set -uo pipefail
fixture=$1 src=$2 n=$3 cli=$4 micro=$5
for tool in arm-none-eabi-gcc qemu-system-arm meson ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (tools/install-deps installs gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm)"
    exit 77
  fi
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$fixture" "$tmp" "$n" tiny >/dev/null || { echo "FAIL: export_fixture"; exit 1; }
families="fomo classifier pfld yolo axes rtmdet audio vae"
models=$(for f in $families; do printf '%s,' "$tmp/${f}_int8_model.c"; done)
if ! meson setup "$tmp/build" "$src" --cross-file "$src/cross/cortex-m55.ini" -Dmcu_models="${models%,}" -Dwerror=true \
     >"$tmp/setup.log" 2>&1; then
  cat "$tmp/setup.log"; echo "FAIL: meson setup of the Cortex-M55 build"; exit 1
fi
if ! meson compile -C "$tmp/build" >"$tmp/compile.log" 2>&1; then
  cat "$tmp/compile.log"; echo "FAIL: the Cortex-M55 build"; exit 1
fi
status=0
for f in $families; do
  elf="$tmp/build/examples/mcu/${f}_int8_model.elf"
  out="$tmp/${f}_qemu_output.bin"
  log="$tmp/${f}_qemu.log"
  timeout 120 qemu-system-arm -M mps3-an547 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native,arg=fw,arg="$tmp/${f}_int8_input.bin",arg="$out" \
    -kernel "$elf" >"$log" 2>&1
  rc=$?
  images=$(sed -n 's/^images \([0-9]*\);.*/\1/p' "$log")
  if [ $rc -ne 0 ] || [ "$images" != "$n" ]; then
    cat "$log"; echo "FAIL: $f: QEMU exited with $rc after ${images:-no} images (expected $n)"; status=1; continue
  fi
  if ! cmp "$out" "$tmp/${f}_int8_output.bin"; then
    echo "FAIL: $f: the Cortex-M55's outputs differ from the host runtime's"; status=1; continue
  fi
  acts=$(sed -n 's/.*of which activations \([0-9]*\)$/\1/p' "$log")
  info=$("$cli" info --json "$tmp/${f}_int8.tflite" | python3 -c 'import json, sys; print(json.load(sys.stdin)["arena_bytes"])')
  if [ "$acts" != "$info" ]; then
    echo "FAIL: $f: the firmware's activation arena is ${acts:-unknown} bytes, sscma info says $info"; status=1; continue
  fi
  "$micro" "$tmp/${f}_int8.tflite" "$tmp/${f}_int8_input.bin" "$tmp/${f}_int8_output.bin" "$tmp/${f}_f32.tflite" \
    "$tmp/${f}_host_predictions.txt" >/dev/null
  if ! diff <(grep '^image ' "$log") "$tmp/${f}_host_predictions.txt"; then
    echo "FAIL: $f: the Cortex-M55's predictions differ from the host's"; status=1; continue
  fi
  bytes=$(stat -c %s "$out")
  echo "ok: $f: $n inputs, $bytes output bytes identical to the host runtime's, activations = sscma info's $info bytes, same predictions; $(head -1 "$log"); $(tail -1 "$log")"
  arm-none-eabi-size "$elf" | tail -1
done
exit $status
