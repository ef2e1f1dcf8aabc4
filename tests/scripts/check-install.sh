#!/usr/bin/env bash
# Installs the build into a scratch DESTDIR and builds the hello example outside the tree against it, as an
# application would: with the example's Makefile and pkg-config only (C and C++), then statically linked.
set -euo pipefail
host=$(cd "$(dirname "$0")/.." && pwd)/sanitize/run-host # the sanitized library in an uninstrumented program
src=$1 build=$2 prefix=$3 libdir=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
case $libdir in /*) lib=$root$libdir ;; *) lib=$root$prefix/$libdir ;; esac

for h in sscma.h common.h core.h tensor.h version.h; do
  [ -f "$root$prefix/include/sscma/$h" ] || { echo "not installed: include/sscma/$h"; exit 1; }
done
[ -f "$lib/libsscma.a" ] || { echo "not installed: libsscma.a"; exit 1; }
[ -L "$lib/libsscma.so" ] || { echo "not installed: libsscma.so (link)"; exit 1; }
[ -f "$lib/pkgconfig/sscma.pc" ] || { echo "not installed: sscma.pc"; exit 1; }
# `sscma config convert` runs the converter found beside the installed program.
[ -x "$root$prefix/bin/sscma-config-convert" ] || { echo "not installed: bin/sscma-config-convert"; exit 1; }
printf 'x = dict(a=(1, 2))\n' >"$tmp/c.py"
out=$(LD_LIBRARY_PATH=$lib "$root$prefix/bin/sscma" config convert "$tmp/c.py" 2>&1) &&
  grep -q '"a": \[' <<<"$out" || { echo "installed sscma config convert failed: $out"; exit 1; }

# sscma.pc is relocatable (its prefix is relative to the .pc file), so the DESTDIR copy works as it is.
pc=pkg-config
export PKG_CONFIG_PATH=$lib/pkgconfig
version=$($pc --modversion sscma)
cp -r "$src/examples/hello" "$tmp/hello"
make -s -C "$tmp/hello" clean all

for exe in hello hello_cpp; do
  readelf -d "$tmp/hello/$exe" | grep -q 'NEEDED.*\[libsscma.so.1\]' || { echo "$exe does not link libsscma.so.1"; exit 1; }
  out=$(LD_LIBRARY_PATH=$lib "$host" "$tmp/hello/$exe")
  echo "$out" | sed "s/^/$exe: /"
  grep -q "^libsscma $version (headers $version)" <<<"$out" || { echo "$exe printed no matching version line"; exit 1; }
done

# Static: libsscma.a plus the private dependencies that pkg-config --static lists.
cc -std=c11 $($pc --cflags sscma) "$tmp/hello/hello.c" -o "$tmp/hello_static" \
  "$lib/libsscma.a" ${SSCMA_SANITIZER_LDFLAGS:-} $($pc --static --libs sscma | sed 's/ -lsscma\b//')
if readelf -d "$tmp/hello_static" | grep -q 'libsscma'; then echo "hello_static still needs libsscma.so"; exit 1; fi
"$tmp/hello_static" | grep -q "^libsscma $version" || { echo "static hello printed no version"; exit 1; }
# The C++ RAII example (examples/cpp: sscma.hpp) through its Makefile; the installed command line runs.
cp -r "$src/examples/cpp" "$tmp/cpp"
make -s -C "$tmp/cpp" clean train_and_deploy
usage=$(LD_LIBRARY_PATH=$lib "$host" "$tmp/cpp/train_and_deploy" 2>&1 || true) # no arguments: its usage, exit 2
grep -q '^usage: train_and_deploy' <<<"$usage" || { echo "train_and_deploy built from the Makefile does not run"; exit 1; }
for h in runner.h predict.h; do
  [ -f "$root$prefix/include/sscma/$h" ] || { echo "not installed: include/sscma/$h"; exit 1; }
done
sscma_bin=$(find "$root" -path '*/bin/sscma' -type f | head -1)
[ -n "$sscma_bin" ] || { echo "not installed: bin/sscma"; exit 1; }
LD_LIBRARY_PATH=$lib "$host" "$sscma_bin" --version | grep -q "^sscma $version" || { echo "the installed sscma does not run"; exit 1; }
echo "ok: installed headers, libraries, sscma.pc and the sscma command ($version); C, C++ (hello, RAII example) and static consumers built and ran"
