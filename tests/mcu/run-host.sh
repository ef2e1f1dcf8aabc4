#!/usr/bin/env bash
# The micro runtime built for the host (tests/mcu/micro_host.c) on the tiny FOMO, classifier, PFLD, Swift-YOLO,
# accelerometer classifier, RTMDet, keyword-spotter (SoundNetRaw) and anomaly VAE models of export_fixture: every
# output equal to libsscma's (RTMDet: all six; the VAE: both), the reported arena size sufficient and minimal, bad
# calls refused; RTMDet's and the VAE's sscma_micro_predict lines equal to host sscma_predict's
# (tests/mcu/predict_host.c) on the same int8 inputs: boxes, classes and scores (the VAE: score and decision), so
# that the micro decode cannot drift from the host one; and the library needs nothing of the C library beyond memory and string
# functions, qsort, snprintf and libm: no allocator, threads, files or environment (what a microcontroller without an OS
# lacks).
# Usage: run-host.sh EXPORT_FIXTURE MICRO_HOST LIBSSCMA_MICRO.a PREDICT_HOST
set -uo pipefail
fixture=$1 micro=$2 lib=$3 predict=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0
# (the sanitizers' run-time entry points are allowed: tests/run --sanitize instruments this host build too; the
# cross build that firmware links has none)
allowed='^(mem(chr|cmp|cpy|move|set)|str(cmp|cpy|len|nlen)|qsort|v?snprintf|(exp|log|tanh|ceil|floor|fmax|fmin|round|rint|lrint)f?|frexp|__aeabi_[a-z0-9]+|_GLOBAL_OFFSET_TABLE_|__cpu_(indicator_init|model)|__stack_chk_(fail|guard)|__(asan|ubsan|sanitizer)_[A-Za-z0-9_]+)$'
needed=$(comm -23 <(nm -u "$lib" | awk '{print $2}' | sort -u) \
                  <(nm --defined-only "$lib" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u))
extra=$(grep -Ev "$allowed" <<<"$needed" || true)
if [ -n "$extra" ]; then
  echo "FAIL: $lib needs symbols a freestanding target may lack:"; echo "$extra"; status=1
else
  echo "ok: $lib needs only $(wc -w <<<"$needed") C library symbols (memory, strings, qsort, snprintf, libm)"
fi
"$fixture" "$tmp" 20 tiny >/dev/null || { echo "FAIL: export_fixture"; exit 1; }
for f in fomo classifier pfld yolo axes rtmdet audio vae; do
  "$micro" "$tmp/${f}_int8.tflite" "$tmp/${f}_int8_input.bin" "$tmp/${f}_int8_output.bin" "$tmp/${f}_f32.tflite" \
    || status=1
done
# RTMDet and the anomaly VAE: host sscma_predict (RTMDet: on u8 images made from the inputs; the VAE: on the inputs'
# f32 values) against the micro library on the int8 inputs it ran
for f in rtmdet vae; do
  if ! "$predict" "$tmp/${f}_int8.tflite" "$tmp/${f}_int8_input.bin" "$tmp/${f}_ran_input.bin" \
       "$tmp/${f}_ran_output.bin" "$tmp/${f}_host_predict.txt"; then
    echo "FAIL: $f: predict_host"; status=1; continue
  elif ! "$micro" "$tmp/${f}_int8.tflite" "$tmp/${f}_ran_input.bin" "$tmp/${f}_ran_output.bin" "$tmp/${f}_f32.tflite" \
         "$tmp/${f}_micro_predict.txt"; then
    echo "FAIL: $f: micro_host on the inputs sscma_predict ran"; status=1; continue
  elif ! diff "$tmp/${f}_host_predict.txt" "$tmp/${f}_micro_predict.txt"; then
    echo "FAIL: $f: sscma_micro_predict's predictions differ from host sscma_predict's (< host, > micro)"; status=1
    continue
  fi
  lines=$(wc -l <"$tmp/${f}_micro_predict.txt")
  distinct=$(sed 's/^image [0-9]*//' "$tmp/${f}_micro_predict.txt" | sort -u | wc -l)
  if [ $f = rtmdet ]; then
    boxes=$(grep -c ' size ' "$tmp/${f}_micro_predict.txt")
    if [ "$lines" -lt 20 ] || [ "$boxes" -lt 10 ] || [ "$distinct" -lt 10 ]; then
      echo "FAIL: $f: $lines prediction lines, $boxes with boxes, $distinct distinct: too few to compare the decodes"
      status=1
    else
      echo "ok: $f: sscma_micro_predict = host sscma_predict on $lines images ($boxes with boxes, $distinct distinct lines)"
    fi
  else
    # the threshold metadata (the median score) splits the windows: both decisions occur
    abnormal=$(grep -c ': class 1 score' "$tmp/${f}_micro_predict.txt")
    normal=$(grep -c ': class 0 score' "$tmp/${f}_micro_predict.txt")
    if [ "$lines" -lt 20 ] || [ "$abnormal" -lt 5 ] || [ "$normal" -lt 5 ] || [ "$distinct" -lt 15 ]; then
      echo "FAIL: $f: $lines prediction lines, $abnormal abnormal, $normal normal, $distinct distinct: too few to compare"
      status=1
    else
      echo "ok: $f: sscma_micro_predict = host sscma_predict on $lines windows (score and decision; $abnormal abnormal," \
        "$normal normal, $distinct distinct lines)"
    fi
  fi
done
exit $status
