#!/usr/bin/env bash
# Runs the export fixture into a temporary directory, then checks its files in the real runtimes with the Python of
# the virtual environment that tools/install-deps prepares (onnx, onnxruntime, ai-edge-litert).
# Usage: run-checks.sh EXPORT_FIXTURE CHECK_SCRIPT
set -euo pipefail
fixture=$1
script=$2
python=${SSCMA_PYTHON:-${SSCMA_VENV:-$HOME/.cache/libsscma/venv}/bin/python}
if [ ! -x "$python" ]; then
  echo "1..1"
  echo "not ok 1 - export runtimes: no Python environment at $python (run tools/install-deps)"
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fixture" "$dir" "${SSCMA_EXPORT_SAMPLES:-32}" >&2
"$python" "$script" "$dir"
