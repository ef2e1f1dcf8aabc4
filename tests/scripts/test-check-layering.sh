#!/usr/bin/env bash
# Shows that check-layering.sh catches what it claims to: on a small fixture tree it must fail on an upward
# include, a peer include and an upward public header, each named by file:line, and on a module with no rank;
# it must pass once they are gone. (The real tree is checked by the test "layering".)
#
#   test-check-layering.sh CHECK_LAYERING_SH
set -uo pipefail
check=${1:?usage: test-check-layering.sh CHECK_LAYERING_SH}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
lib=$tmp/lib
failures=0
expect() { # expect DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}

mkdir -p "$lib"/{core,graph,train,data,zoo,ops}
printf '#include <stdio.h>\n#include "sscma/core.h"\n' >"$lib/core/file.c"
printf '/* model */\n#include "graph/graph.h"\n#include "train/state.h"\n' >"$lib/graph/model.c"
printf '#include "zoo/zoo.h"\n' >"$lib/data/compose.c"
printf '#include "ops/op.h"\n\n#include <sscma/runner.h>\n' >"$lib/ops/conv.c"
printf '#include "graph/graph.h"\n#include "sscma/model.h"\n#include "onnx.pb-c.h"\n#include "core/file.h"\n' \
  >"$lib/zoo/builder.c"
printf '#include "zoo/zoo.h"\n#include "io/checkpoint.h"\n' >"$lib/train/state.h"

out=$(bash "$check" "$lib"); rc=$?
echo "$out"
expect "fails on the violations" test "$rc" -ne 0
expect "names the upward include" grep -q "lib/graph/model.c:3: graph (rank 4) includes train/state.h of train (rank 7)" <<<"$out"
expect "names the peer include" grep -q "lib/data/compose.c:1: data includes zoo/zoo.h of zoo, a module of the same rank" <<<"$out"
expect "names the upward public header" grep -q "lib/ops/conv.c:3: ops (rank 3) includes sscma/runner.h of runner" <<<"$out"
expect "counts exactly those three" grep -q "^3 problem(s) with the module ranks" <<<"$out"

sed -i '/train\/state.h/d' "$lib/graph/model.c"
rm "$lib/data/compose.c"
sed -i '/sscma\/runner.h/d' "$lib/ops/conv.c"
out=$(bash "$check" "$lib"); rc=$?
echo "$out"
expect "passes without them" test "$rc" -eq 0

mkdir "$lib/widgets" && printf '#include "core/file.h"\n' >"$lib/widgets/w.c"
out=$(bash "$check" "$lib"); rc=$?
echo "$out"
expect "fails on a module with no rank" test "$rc" -ne 0
expect "names that module" grep -q "module 'widgets' has no rank" <<<"$out"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "ok: check-layering.sh catches upward, peer and unranked includes"
