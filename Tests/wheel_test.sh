#!/usr/bin/env bash
# The wheel as a user gets it (make wheel): pip install it into a new virtualenv outside the
# checkout, with no AVPGAN_LIBRARY and no LD_LIBRARY_PATH, then check that
#  - avpgan loads the library inside the wheel, not the checkout's build nor a system copy;
#  - every library that one needs is inside the wheel, but for those of the manylinux policy
#    (glibc, libstdc++, libgcc_s, zlib);
#  - the default model comes with it (avpgan.Model() with no path);
#  - a portrait works from a directory outside the checkout;
#  - the bindings' test suite passes against the installed wheel.
#   Tests/wheel_test.sh WHEEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
wheel=$(ls "$1"/avpgan-*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || { echo "wheel_test: no avpgan-*.whl in $1 (make wheel)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/avpgan-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP AVPGAN_LIBRARY LD_LIBRARY_PATH
export PYTHONNOUSERSITE=1
fail=0 passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; fail=1; }
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$work/out" | tail -20; fi; }

python3 -m venv "$work/venv"
py="$work/venv/bin/python"
check "pip install $(basename "$wheel") (with numpy and pytest from PyPI)" \
    "$py" -m pip install -q --disable-pip-version-check "$wheel" numpy pytest
site=$(cd "$work" && "$py" -c 'import avpgan, pathlib; print(pathlib.Path(avpgan.__file__).parent.parent)')
loaded=$(cd "$work" && "$py" -c '
import avpgan, ctypes
from avpgan import _lib
lib = _lib.get()
print(lib._name)')
[ "$loaded" = "$site/avpgan/_libs/libavpgan.so.0" ] && ok "avpgan loads the wheel's own library" \
    || bad "avpgan loaded '$loaded', not $site/avpgan/_libs/libavpgan.so.0"

# What the wheel's library needs: inside the wheel, or in the manylinux set every system has.
outside=$(ldd "$site/avpgan/_libs/libavpgan.so.0" | awk '/=>/ {print $1, $3}' | while read -r name path; do
    case "$(realpath "$path")" in "$(realpath "$site")/avpgan.libs/"*) continue ;; esac
    case "$name" in libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libz.so.*) continue ;; esac
    echo "$name => $path"
done)
[ -z "$outside" ] && ok "every library it needs comes with the wheel (glibc, libstdc++, libgcc_s, zlib aside)" \
    || bad "libraries from outside the wheel: $outside"

check "the wheel's default model: avpgan.Model() with no path and no \$AVPGAN_MODEL" bash -c "cd '$work' && env -u AVPGAN_MODEL '$py' -c '
import avpgan, pathlib
path = pathlib.Path(avpgan.default_model())
assert path == pathlib.Path(\"$site\") / \"avpgan/share/avpgan/default.safetensors\", path
with avpgan.Model() as m:
    assert m.info.image_size == 64
print(path)'"
check "the wheel's default enhancer: avpgan.Enhancer() with no path and no \$AVPGAN_ENHANCER" bash -c "cd '$work' && env -u AVPGAN_ENHANCER '$py' -c '
import avpgan, pathlib
path = pathlib.Path(avpgan.default_enhancer())
assert path == pathlib.Path(\"$site\") / \"avpgan/share/avpgan/default-enhancer.safetensors\", path
with avpgan.Enhancer() as e:
    assert e.info.size == 128, e.info.size
print(path)'"
espeak-ng -w "$work/voice.wav" "This wheel carries its own library." 2>/dev/null
check "a portrait from outside the checkout" bash -c "cd '$work' && '$py' -c '
import avpgan
m = avpgan.Model(\"$here/models/default.safetensors\")
face = m.portrait(\"voice.wav\")
assert face.shape == (64, 64, 3), face.shape
print(face.mean())'"
check "the bindings' test suite against the installed wheel" env AVPGAN_TEST_INSTALLED=1 \
    "$py" -m pytest -q -p no:cacheprovider "$here/bindings/python/tests"
echo "wheel: $passed passed, $fail failed"
exit $fail
