#!/usr/bin/env bash
# The micro runtime built for the host (tests/mcu/micro_host.c) on the tiny FOMO, classifier, PFLD, Swift-YOLO and
# accelerometer classifier models of export_fixture: every output equal to libsscma's, the reported arena size
# sufficient and minimal, bad calls refused; and the library needs nothing of the C library beyond memory and string
# functions, qsort, snprintf and libm: no allocator, threads, files or environment (what a microcontroller without an OS
# lacks).
# Usage: run-host.sh EXPORT_FIXTURE MICRO_HOST LIBSSCMA_MICRO.a
set -uo pipefail
fixture=$1 micro=$2 lib=$3
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
for f in fomo classifier pfld yolo axes; do
  "$micro" "$tmp/${f}_int8.tflite" "$tmp/${f}_int8_input.bin" "$tmp/${f}_int8_output.bin" "$tmp/${f}_f32.tflite" \
    || status=1
done
exit $status
