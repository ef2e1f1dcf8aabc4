#!/usr/bin/env bash
# Runs the Python package's tests with the virtual environment's pytest against the built library.
# Usage: run-pytest.sh LIBSSCMA_SO PACKAGE_DIR TEST_DIR
set -euo pipefail
python=${SSCMA_PYTHON:-${SSCMA_VENV:-$HOME/.cache/libsscma/venv}/bin/python}
if [ ! -x "$python" ]; then
  echo "no Python environment at $python (run tools/install-deps)" >&2
  exit 1
fi
export SSCMA_LIBRARY=$1
export PYTHONPATH=$2${PYTHONPATH:+:$PYTHONPATH}
exec "$(dirname "$0")/../sanitize/run-host" "$python" -m pytest -q -p no:cacheprovider "$3"
