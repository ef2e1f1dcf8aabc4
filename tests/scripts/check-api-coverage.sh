#!/usr/bin/env bash
# Every exported function must be exercised by the unit tests with bad input: each symbol of the version script
# appears in a CHECK_FAILS(...) line of tests/unit/*.c, except the functions that cannot fail (listed below),
# which must at least be called there.
set -euo pipefail
map=$1 tests=$2
cannot_fail='^(sscma_status_string|sscma_last_error|sscma_clear_error|sscma_version|sscma_version_number|sscma_dtype_name|sscma_[a-z0-9_]+_destroy)$'
listed=$(sed 's#/\*.*\*/##' "$map" | grep -oE '^\s*[A-Za-z_][A-Za-z0-9_]*;' | tr -d ' \t;' | grep -v '^local$' | sort -u)
status=0
for sym in $listed; do
  if grep -Eq "$cannot_fail" <<<"$sym"; then
    grep -q "\b$sym(" "$tests"/*.c || { echo "$sym is never called by the unit tests"; status=1; }
  elif ! grep -q "CHECK_FAILS($sym(" "$tests"/*.c; then
    echo "$sym has no CHECK_FAILS test (NULL handle or invalid argument) in $tests"; status=1
  fi
done
[ $status -eq 0 ] && echo "ok: $(wc -w <<<"$listed") exported functions, each tested with bad input (or unable to fail)"
exit $status
