#!/usr/bin/env bash
# Checks the shared library's SONAME.
set -euo pipefail
lib=$1 expected=$2
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "$expected" ]; then
  echo "SONAME of $lib is '$soname', expected '$expected'"; exit 1
fi
echo "ok: SONAME $soname"
