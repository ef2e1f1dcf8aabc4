#!/usr/bin/env bash
# Checks that libsscma.so exports exactly the symbols listed in the version script, all with the sscma_ prefix,
# and that the version script lists exactly the functions the public headers declare with SSCMA_API.
set -euo pipefail
lib=$1 map=$2 include=$3
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | grep -v '^LIBSSCMA_' | sort -u)
listed=$(sed 's#/\*.*\*/##' "$map" | grep -oE '^\s*[A-Za-z_][A-Za-z0-9_]*;' | tr -d ' \t;' | grep -v '^local$' | sort -u)
status=0
bad=$(grep -v '^sscma_' <<<"$exported" || true)
if [ -n "$bad" ]; then
  echo "exported without the sscma_ prefix:"; echo "$bad"; status=1
fi
missing=$(comm -13 <(echo "$exported") <(echo "$listed"))
extra=$(comm -23 <(echo "$exported") <(echo "$listed"))
if [ -n "$missing" ]; then
  echo "listed in $map but not defined in $lib:"; echo "$missing"; status=1
fi
if [ -n "$extra" ]; then
  echo "exported by $lib but not listed in $map:"; echo "$extra"; status=1
fi
declared=$(cat "$include"/sscma/*.h | grep -oE 'SSCMA_API[^;(]*[^A-Za-z0-9_]sscma_[a-z0-9_]+ *\(' \
  | grep -oE 'sscma_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
undeclared=$(comm -13 <(echo "$declared") <(echo "$listed"))
unlisted=$(comm -23 <(echo "$declared") <(echo "$listed"))
if [ -n "$unlisted" ]; then
  echo "declared SSCMA_API in include/sscma but missing from $map (applications could not link them):"
  echo "$unlisted"; status=1
fi
if [ -n "$undeclared" ]; then
  echo "listed in $map but declared in no public header:"; echo "$undeclared"; status=1
fi
count=$(wc -l <<<"$exported")
[ $status -eq 0 ] && echo "ok: $count sscma_ symbols exported, exactly those of the version script and the public headers"
exit $status
