#!/usr/bin/env bash
# Checks that lib/ allocates only through core (docs/architecture.md, "Memory"): outside lib/core/, no C file or
# header calls the C library's allocator (malloc, calloc, realloc, reallocarray, free, strdup, strndup,
# posix_memalign, aligned_alloc, memalign, valloc, asprintf, vasprintf, getline, getdelim, open_memstream) or
# jansson's json_dumps (its text comes from that allocator: use sscma_json_dumps). Comments, string and character
# literals are skipped; member calls (ops->free(...)) and longer names (sscma_malloc) are not matches. Every
# violation is printed as file:line.
#
# PENDING lists the files (relative to LIB_DIR) still being converted by another branch; they are skipped, and
# listing a file that no longer needs it is an error too, so the list only shrinks. Empty since lib/quant was
# converted: nothing in lib/ outside core allocates with the C allocator.
#
#   check-alloc.sh LIB_DIR
set -uo pipefail
lib=${1:?usage: check-alloc.sh LIB_DIR}
[ -d "$lib" ] || { echo "check-alloc: no directory $lib"; exit 1; }

PENDING=()

names='malloc|calloc|realloc|reallocarray|free|strdup|strndup|posix_memalign|aligned_alloc|memalign|valloc'
names+='|asprintf|vasprintf|getline|getdelim|open_memstream|json_dumps'

# Prints "LINE:TEXT" for each call in one file, comments and literals blanked (line numbers kept).
calls_in() {
  perl -0777 -ne '
    s{/\*.*?\*/}{ (my $c = $&) =~ s/[^\n]/ /g; $c }gse;   # block comments, keeping newlines
    s{//[^\n]*}{}g;                                         # line comments
    s{"(?:\\.|[^"\\\n])*"}{""}g;                            # string literals
    s{'"'"'(?:\\.|[^'"'"'\\\n])*'"'"'}{'"'"''"'"'}g;        # character literals
    my $n = 0;
    for my $line (split /\n/, $_, -1) {
      $n++;
      print "$n:$line\n" if $line =~ /(?:^|[^A-Za-z0-9_.>])(?:'"$names"')\s*\(/;
    }' "$1"
}

is_pending() {
  local rel=$1 p
  for p in "${PENDING[@]}"; do [ "$p" = "$rel" ] && return 0; done
  return 1
}

violations=0 checked=0
fail() { echo "$1"; violations=$((violations + 1)); }

while IFS= read -r file; do
  rel=${file#"$lib"/}
  case $rel in core/*) continue ;; esac
  checked=$((checked + 1))
  hits=$(calls_in "$file")
  if is_pending "$rel"; then
    [ -n "$hits" ] || fail "$file: listed in PENDING (tests/scripts/check-alloc.sh) but allocates through core now: remove it from the list"
    continue
  fi
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    line=${hit%%:*} text=${hit#*:}
    name=$(grep -oE "(^|[^A-Za-z0-9_.>])($names)[[:space:]]*\(" <<<"$text" | head -1 | grep -oE "($names)")
    fail "$file:$line: calls $name() outside lib/core: allocate through the context (sscma_alloc, sscma_malloc, ... in lib/core/internal.h)"
  done <<<"$hits"
done < <(find "$lib" -type f \( -name '*.c' -o -name '*.h' \) | sort)

for p in "${PENDING[@]}"; do
  [ -f "$lib/$p" ] || fail "$lib/$p: listed in PENDING (tests/scripts/check-alloc.sh) but does not exist"
done

if [ "$violations" -gt 0 ]; then
  echo "$violations problem(s): lib/ outside lib/core allocates with the C allocator"
  exit 1
fi
echo "ok: $checked files in $lib allocate through core (${#PENDING[@]} pending: ${PENDING[*]})"
