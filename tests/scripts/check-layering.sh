#!/usr/bin/env bash
# Checks that no include in lib/ goes up a module rank (docs/architecture.md, "Module ranks"):
#
#   core < tensor < config, io < ops < graph < data, zoo < quant, anomaly < train < export < runner, micro
#
# A file in lib/<module>/ may include its own module's headers and those of lower ranks, never a higher rank and
# never a peer of the same rank (config/io, data/zoo: peers stay independent). Public headers count as the module
# that implements them (sscma/model.h is graph's). Includes without a folder ("onnx.pb-c.h") and system headers
# are not checked. Every violation is printed as file:line; a folder with no rank is an error too, so a new
# module must be placed in the table below.
#
#   check-layering.sh LIB_DIR
set -uo pipefail
lib=${1:?usage: check-layering.sh LIB_DIR}
[ -d "$lib" ] || { echo "check-layering: no directory $lib"; exit 1; }

declare -A rank=(
  [core]=0 [tensor]=1 [config]=2 [io]=2 [ops]=3 [graph]=4 [data]=5 [zoo]=5
  [quant]=6 [anomaly]=6 [train]=7 [export]=8 [runner]=9 [micro]=9
)
# Public header (include/sscma/<name>) -> the module that implements it.
declare -A public=(
  [common.h]=core [core.h]=core [version.h]=core [tensor.h]=tensor [config.h]=config
  [model.h]=graph [experimental.h]=graph [data.h]=data [quant.h]=quant [predict.h]=quant
  [optim.h]=train [train.h]=train [metrics.h]=train [export.h]=export [runner.h]=runner [sscma.h]=runner [micro.h]=micro
)

violations=0 checked=0
fail() { echo "$1"; violations=$((violations + 1)); }

for dir in "$lib"/*/; do
  module=$(basename "$dir")
  if [ -z "${rank[$module]+x}" ]; then
    fail "$lib/$module/: module '$module' has no rank; add it to tests/scripts/check-layering.sh and docs/architecture.md"
    continue
  fi
  while IFS= read -r hit; do
    file=${hit%%:*} rest=${hit#*:}
    line=${rest%%:*} text=${rest#*:}
    target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([^">]*)[">].*/\1/' <<<"$text")
    case $target in */*) ;; *) continue ;; esac
    top=${target%%/*}
    if [ "$top" = sscma ]; then
      dep=${public[${target#sscma/}]:-}
      [ -n "$dep" ] || { fail "$file:$line: includes $target, a public header with no module in check-layering.sh"; continue; }
    elif [ -n "${rank[$top]+x}" ]; then
      dep=$top
    elif [ -d "$lib/$top" ]; then
      continue # reported above as a module without a rank
    else
      continue # not a lib/ module (a generated or third-party header)
    fi
    checked=$((checked + 1))
    [ "$dep" = "$module" ] && continue
    if [ "${rank[$dep]}" -gt "${rank[$module]}" ]; then
      fail "$file:$line: $module (rank ${rank[$module]}) includes $target of $dep (rank ${rank[$dep]}): includes never go up a rank"
    elif [ "${rank[$dep]}" -eq "${rank[$module]}" ]; then
      fail "$file:$line: $module includes $target of $dep, a module of the same rank (${rank[$module]}): peers stay independent"
    fi
  done < <(grep -rnE --include='*.c' --include='*.h' '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$dir" | sort -t: -k1,1 -k2,2n)
done

if [ "$violations" -gt 0 ]; then
  echo "$violations problem(s) with the module ranks (docs/architecture.md, \"Module ranks\")"
  exit 1
fi
echo "ok: $checked module includes in $lib follow the ranks"
