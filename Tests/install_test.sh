#!/usr/bin/env bash
# `make install PREFIX=...` as a C/C++ developer uses it from a built checkout: install into a
# scratch prefix, check what is there, then build against it with pkg-config and with CMake's
# find_package(avpgan) and run the results (Tests/consumer_checks.sh).
#   Tests/install_test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fail=0 passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; fail=1; }
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$work/out" | tail -20; fi; }

check "make install PREFIX=$prefix" make -C "$here" --no-print-directory install PREFIX="$prefix"
for f in include/avpgan.h lib/libavpgan.so lib/libavpgan.so.0 lib/pkgconfig/avpgan.pc \
         lib/cmake/avpgan/avpganConfig.cmake lib/cmake/avpgan/avpganConfigVersion.cmake \
         bin/avpgan share/avpgan/default.safetensors share/avpgan/default-enhancer.safetensors; do
    [ -e "$prefix/$f" ] && ok "installed $f" || bad "missing $f"
done
grep -qx "prefix=$prefix" "$prefix/lib/pkgconfig/avpgan.pc" && ok "avpgan.pc names the prefix" \
    || bad "avpgan.pc: $(head -1 "$prefix/lib/pkgconfig/avpgan.pc")"

. "$here/Tests/consumer_checks.sh"
consumer_checks "$prefix/lib/pkgconfig" "$prefix" "$prefix/lib" "$prefix/share/avpgan/default.safetensors" \
    "$prefix/include/avpgan.h"
check "the installed avpgan command runs" env LD_LIBRARY_PATH="$prefix/lib" "$prefix/bin/avpgan" version

# DESTDIR stages without touching PREFIX, as packagers use it.
check "make install DESTDIR=... PREFIX=/opt/avpgan" make -C "$here" --no-print-directory install DESTDIR="$work/stage" PREFIX=/opt/avpgan
grep -qx "prefix=/opt/avpgan" "$work/stage/opt/avpgan/lib/pkgconfig/avpgan.pc" && [ ! -e /opt/avpgan ] \
    && ok "DESTDIR: files staged, avpgan.pc names the final prefix" || bad "DESTDIR staging"

echo "install: $passed passed, $fail failed"
exit $fail
