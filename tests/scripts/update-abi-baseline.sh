#!/usr/bin/env bash
# Rewrites the committed ABI baseline from a fresh build of libsscma.so.
set -euo pipefail
lib=$1 baseline=$2 src_include=$3 build_include=$4
tmp=$(mktemp "${baseline}.XXXXXX")
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types \
  --headers-dir "$src_include/sscma" --headers-dir "$build_include/sscma" \
  --out-file "$tmp" "$lib"
mv "$tmp" "$baseline"
echo "wrote $baseline"
