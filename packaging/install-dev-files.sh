#!/usr/bin/env bash
# The development files of libavpgan under a prefix, as both `make install` and `make deb` lay
# them out: the header, the libavpgan.so link, avpgan.pc and the CMake package configuration.
#   packaging/install-dev-files.sh STAGE PREFIX LIBDIR VERSION
# STAGE is prepended to every path written (a package's staging root, or make's DESTDIR, or
# empty); PREFIX is where the files will live at run time (/usr, /usr/local, $HOME/.local);
# LIBDIR is the library folder relative to PREFIX (lib/x86_64-linux-gnu for Debian, lib).
set -euo pipefail
stage=$1 prefix=$2 libdir=$3 version=$4
major=${version%%.*}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
lib="$stage$prefix/$libdir"
install -d "$stage$prefix/include" "$lib/pkgconfig" "$lib/cmake/avpgan"
install -m644 "$root/include/avpgan.h" "$stage$prefix/include/avpgan.h"
ln -sfn "libavpgan.so.$major" "$lib/libavpgan.so"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@VERSION@|$version|" \
    "$here/avpgan.pc.in" > "$lib/pkgconfig/avpgan.pc"
install -m644 "$here/cmake/avpganConfig.cmake" "$lib/cmake/avpgan/avpganConfig.cmake"
sed -e "s/@VERSION@/$version/" -e "s/@MAJOR@/$major/" "$here/cmake/avpganConfigVersion.cmake.in" \
    > "$lib/cmake/avpgan/avpganConfigVersion.cmake"
