#!/usr/bin/env bash
# The Debian packages as a user gets them: unpacked into a scratch root (dpkg -x), then
#  - their contents and metadata (dpkg-deb -I/-c) and lintian (no errors);
#  - a C program compiled with `pkg-config --cflags --libs avpgan`, and examples/c built
#    with CMake's find_package(avpgan), both run against the packaged library and model;
#  - the packaged avpgan command;
#  - the Python example with the packaged python3-avpgan and library.
#   Tests/package_test.sh DEB_DIR [PYTHON (with numpy; default python3)]
set -euo pipefail
debs=$1
python=${2:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
lib="$root/usr/lib/$multiarch"
fail=0 passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; fail=1; }
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$work/out" | tail -20; fi; }

for p in libavpgan0 libavpgan-dev avpgan-tools avpgan-converters python3-avpgan; do
    deb=$(ls "$debs"/${p}_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { bad "$p: no package in $debs"; continue; }
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -I "$deb" > "$work/$p.info"
    dpkg-deb -c "$deb" > "$work/$p.list"
    grep -q "^ Package: $p$" "$work/$p.info" && ok "$p: control names the package" || bad "$p: control"
    grep -q "usr/share/doc/$p/copyright" "$work/$p.list" && grep -q "usr/share/doc/$p/changelog.Debian.gz" "$work/$p.list" \
        && ok "$p: copyright and changelog" || bad "$p: copyright or changelog missing"
done
grep -q "^ Depends: .*libopenblas0" "$work/libavpgan0.info" && grep -q "libsndfile1" "$work/libavpgan0.info" \
    && ! grep -qi swift "$work/libavpgan0.info" && ok "libavpgan0: Depends from the real linkage, no Swift toolchain" \
    || bad "libavpgan0: Depends: $(grep Depends "$work/libavpgan0.info")"
[ "$(readlink "$lib/libavpgan.so.0")" = "$(basename "$(ls "$lib"/libavpgan.so.0.*)")" ] && ok "libavpgan0: libavpgan.so.0 -> the versioned file" \
    || bad "libavpgan0: SONAME link"
soname=$(readelf -d "$lib/libavpgan.so.0" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libavpgan.so.0 ] && ok "libavpgan0: SONAME $soname" || bad "libavpgan0: SONAME '$soname'"
[ -s "$root/usr/share/avpgan/default.safetensors" ] && ok "libavpgan0: the default model" || bad "libavpgan0: no default model"
[ -s "$root/usr/share/avpgan/default-enhancer.safetensors" ] && ok "libavpgan0: the default enhancer" || bad "libavpgan0: no default enhancer"
[ "$(readlink "$lib/libavpgan.so")" = libavpgan.so.0 ] && [ -f "$root/usr/include/avpgan.h" ] && ok "libavpgan-dev: header and link" \
    || bad "libavpgan-dev: header or libavpgan.so link"
for f in api.md examples/c/generate.c examples/c/portrait.c examples/c/CMakeLists.txt examples/python/portrait.py; do
    [ -s "$root/usr/share/doc/libavpgan-dev/$f" ] && ok "libavpgan-dev: /usr/share/doc/libavpgan-dev/$f" \
        || bad "libavpgan-dev: no /usr/share/doc/libavpgan-dev/$f"
done
# The manual page: a section per command, the usual sections, and at most 80 columns on screen.
man_page="$root/usr/share/man/man1/avpgan.1.gz"
if command -v man >/dev/null && [ -s "$man_page" ]; then
    MANWIDTH=80 man -l "$man_page" > "$work/man.txt" 2> "$work/man.err" || true
    [ ! -s "$work/man.err" ] && ok "avpgan(1) renders without warnings" || bad "avpgan(1): $(head -3 "$work/man.err")"
    wide=$(awk 'length > 80' "$work/man.txt" | head -3)
    [ -z "$wide" ] && ok "avpgan(1): at most 80 columns" || bad "avpgan(1) has lines over 80 columns: $wide"
    missing=""
    for s in NAME SYNOPSIS COMMANDS ENVIRONMENT FILES EXAMPLES "EXIT STATUS" "SEE ALSO"; do grep -q "^$s" "$work/man.txt" || missing="$missing $s"; done
    for c in $("$root/usr/bin/avpgan" help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do grep -q "^   $c\$" "$work/man.txt" || missing="$missing command:$c"; done
    [ -z "$missing" ] && ok "avpgan(1): every section and a section per command" || bad "avpgan(1) lacks:$missing"
else
    bad "avpgan(1): no manual page, or no man command to render it"
fi
if command -v lintian >/dev/null; then
    check "lintian: no errors" lintian --fail-on error "$debs"/*.deb
else
    bad "lintian is not installed"
fi

# A C program built with pkg-config and examples/c with CMake, against the unpacked packages.
. "$here/Tests/consumer_checks.sh"
consumer_checks "$lib/pkgconfig" "$root/usr" "$lib" "$root/usr/share/avpgan/default.safetensors" \
    "$root/usr/include/avpgan.h" "$root"

# The converters: each command runs its script from the package (numpy only for face, gfpgan and vgg).
for c in face gfpgan torch vgg; do
    sed -i "s|/usr/share/avpgan/tools|$root/usr/share/avpgan/tools|" "$root/usr/bin/avpgan-convert-$c"
    check "avpgan-converters: avpgan-convert-$c --help" "$root/usr/bin/avpgan-convert-$c" --help
done
printf 'not a checkpoint' > "$work/bogus.pth"
check "avpgan-convert-gfpgan refuses a file that is not a checkpoint, in one line, exit 2" bash -c \
    "'$root/usr/bin/avpgan-convert-gfpgan' '$work/bogus.pth' -o '$work/e.safetensors' 2>'$work/conv.err'; test \$? = 2 && test \$(wc -l < '$work/conv.err') = 1 && test ! -e '$work/e.safetensors'"
check "avpgan-convert-vgg refuses a file that is not a checkpoint, in one line, exit 2" bash -c \
    "'$root/usr/bin/avpgan-convert-vgg' '$work/bogus.pth' -o '$work/v.safetensors' 2>'$work/conv.err'; test \$? = 2 && test \$(wc -l < '$work/conv.err') = 1 && test ! -e '$work/v.safetensors'"

# The packaged command and the Python package.
check "avpgan-tools: avpgan version" "$root/usr/bin/avpgan" version
espeak-ng -w "$work/voice.wav" "The packaged library turns this voice into a face." 2>/dev/null
check "avpgan-tools: a portrait with the packaged model" "$root/usr/bin/avpgan" portrait --model "$root/usr/share/avpgan/default.safetensors" "$work/voice.wav" -o "$work/cli.png"
check "avpgan-tools: portrait --enhance finds the packaged enhancer beside the command (128 px)" bash -c \
    "env -u AVPGAN_ENHANCER '$root/usr/bin/avpgan' portrait --model '$root/usr/share/avpgan/default.safetensors' --enhance '$work/voice.wav' -o '$work/cli128.png' && [ \"\$(od -An -tu1 -j16 -N8 '$work/cli128.png' | xargs)\" = '0 0 0 128 0 0 0 128' ]"
check "python3-avpgan: imported from the package, library from the package" env -u PYTHONPATH PYTHONPATH="$root/usr/lib/python3/dist-packages" \
    AVPGAN_LIBRARY="$lib/libavpgan.so.0" "$python" -c "
import avpgan, sys
assert avpgan.__file__.startswith('$root'), avpgan.__file__
print(avpgan.version(), avpgan.__file__)"
check "python3-avpgan: examples/python/portrait.py" env PYTHONPATH="$root/usr/lib/python3/dist-packages" AVPGAN_LIBRARY="$lib/libavpgan.so.0" \
    "$python" "$here/examples/python/portrait.py" "$root/usr/share/avpgan/default.safetensors" "$work/voice.wav" "$work/py.png"

check "python3-avpgan: the bindings' test suite against the packaged library and package" env -u AVPGAN_LIBRARY \
    AVPGAN_TEST_INSTALLED=1 PYTHONPATH="$root/usr/lib/python3/dist-packages" LD_LIBRARY_PATH="$lib" \
    "$python" -m pytest -q -p no:cacheprovider "$here/bindings/python/tests"

echo "package: $passed passed, $fail failed"
exit $fail
