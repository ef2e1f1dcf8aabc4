#!/usr/bin/env bash
# Compiles every public header alone: as C99 with -pedantic and as C++17, warnings as errors.
set -uo pipefail
cc=$1 cxx=$2 src_include=$3 build_include=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0 count=0
for h in "$src_include"/sscma/*.h "$build_include"/sscma/*.h; do
  [ -e "$h" ] || continue
  name=$(basename "$h")
  printf '#include <sscma/%s>\n#include <sscma/%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
  printf '#include <sscma/%s>\nint main() { return 0; }\n' "$name" > "$tmp/t.cpp"
  if ! $cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$src_include" -I"$build_include" -c "$tmp/t.c" -o "$tmp/t.o"; then
    echo "FAIL: $name as C99"; status=1
  fi
  if ! $cxx -std=c++17 -Wall -Wextra -pedantic -Werror -I"$src_include" -I"$build_include" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
    echo "FAIL: $name as C++17"; status=1
  fi
  count=$((count + 1))
done
[ $count -ge 5 ] || { echo "only $count headers found"; status=1; }
[ $status -eq 0 ] && echo "ok: $count headers compile alone as C99 and C++17"
exit $status
