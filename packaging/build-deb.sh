#!/usr/bin/env bash
# make deb: the four Debian packages of libavpgan from the release build, with dpkg-deb.
#   packaging/build-deb.sh VERSION OUTDIR
# libavpgan0        /usr/lib/<multiarch>/libavpgan.so.VERSION, its SONAME link, the default model
# libavpgan-dev     avpgan.h, the libavpgan.so link, avpgan.pc, the CMake package config
# avpgan-tools      /usr/bin/avpgan and its manual page
# avpgan-converters avpgan-convert-face, -gfpgan, -torch: the model-file converters
# python3-avpgan    the ctypes package (finds libavpgan.so.0 through the dynamic loader)
# Depends of the binary packages come from dpkg-shlibdeps on the real files.
set -euo pipefail
version=$1
out=$2
debversion="$version-1"
major=${version%%.*}
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage"
rm -f "$out"/*.deb

for f in "$root/build/lib/libavpgan.so.$version" "$root/build/bin/avpgan" "$root/models/default.safetensors" \
         "$root/models/default-enhancer.safetensors"; do
    [ -e "$f" ] || { echo "build-deb: $f is missing (run make build)" >&2; exit 1; }
done

# dpkg-shlibdeps wants to run in a source tree: give it a minimal one.
shlib_tree=$(mktemp -d)
trap 'rm -rf "$shlib_tree"' EXIT
mkdir -p "$shlib_tree/debian"
printf 'Source: libavpgan\n\nPackage: libavpgan0\nArchitecture: any\n' > "$shlib_tree/debian/control"

# depends FILE...: the Depends dpkg-shlibdeps computes for these ELF files.
depends() {
    local files=() f
    for f in "$@"; do files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
    (cd "$shlib_tree" && dpkg-shlibdeps -O --warnings=0 "${files[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# docs PKG: copyright and changelog.Debian.gz, as Debian policy asks of every package.
docs() {
    local d="$stage/$1/usr/share/doc/$1"
    install -d "$d"
    install -m644 "$here/debian/copyright" "$d/copyright"
    sed "s/@DEBVERSION@/$debversion/" "$here/debian/changelog" | gzip -9n > "$d/changelog.Debian.gz"
}

# control PKG ARCH SECTION DEPENDS [EXTRA FIELDS] < description: DEBIAN/control, md5sums, deb.
finish() {
    local pkg=$1 pkgarch=$2 section=$3 deps=$4 extra=${5:-}
    local p="$stage/$pkg"
    install -d "$p/DEBIAN"
    local size
    size=$(du -sk --exclude=DEBIAN "$p" | cut -f1)
    {
        echo "Package: $pkg"
        echo "Source: libavpgan"
        echo "Version: $debversion"
        echo "Architecture: $pkgarch"
        echo "Maintainer: libavpgan developers <libavpgan@example.org>"
        echo "Installed-Size: $size"
        [ -n "$deps" ] && echo "Depends: $deps"
        [ -n "$extra" ] && printf '%b\n' "$extra"
        echo "Section: $section"
        echo "Priority: optional"
        cat   # the Description field, from stdin
    } > "$p/DEBIAN/control"
    (cd "$p" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs -r md5sum > DEBIAN/md5sums)
    chmod 644 "$p/DEBIAN/"*
    find "$p" -type d -exec chmod 755 {} +
    dpkg-deb --root-owner-group -Zxz --build "$p" "$out/${pkg}_${debversion}_${pkgarch}.deb" >/dev/null
    echo "wrote $out/${pkg}_${debversion}_${pkgarch}.deb"
}

libdir="usr/lib/$multiarch"

# ---- libavpgan0 ----
p="$stage/libavpgan0"
install -d "$p/$libdir" "$p/usr/share/avpgan"
install -m644 "$root/build/lib/libavpgan.so.$version" "$p/$libdir/libavpgan.so.$version"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$p/$libdir/libavpgan.so.$version"
ln -s "libavpgan.so.$version" "$p/$libdir/libavpgan.so.$major"
install -m644 "$root/models/default.safetensors" "$p/usr/share/avpgan/default.safetensors"
install -m644 "$root/models/default-enhancer.safetensors" "$p/usr/share/avpgan/default-enhancer.safetensors"
docs libavpgan0
install -d "$p/DEBIAN"
echo "libavpgan $major libavpgan0 (>= $version)" > "$p/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$p/DEBIAN/triggers"
finish libavpgan0 "$arch" libs "$(depends "$p/$libdir/libavpgan.so.$version")" "Multi-Arch: same" <<'DESC'
Description: voice portraits: a face image from a voice recording (library)
 libavpgan implements the AVP-GAN voice-portrait networks and their Voice2Face
 baseline on OpenBLAS: audio decoding, voice activity detection, log-mel
 features, voice encoder and face generator, behind a stable C API with opaque
 handles and caller-owned buffers.
 .
 This package holds the shared library and the default model, trained on
 synthetic data (it is not a model of real faces).
DESC

# ---- libavpgan-dev ----
p="$stage/libavpgan-dev"
"$here/install-dev-files.sh" "$p" /usr "lib/$multiarch" "$version"
docs libavpgan-dev
install -m644 "$root/docs/api.md" "$p/usr/share/doc/libavpgan-dev/api.md"
install -d "$p/usr/share/doc/libavpgan-dev/examples/c" "$p/usr/share/doc/libavpgan-dev/examples/python"
install -m644 "$root"/examples/c/*.c "$root/examples/c/CMakeLists.txt" "$p/usr/share/doc/libavpgan-dev/examples/c/"
install -m644 "$root/examples/python/portrait.py" "$p/usr/share/doc/libavpgan-dev/examples/python/"
gzip -9nc "$root/CHANGELOG.md" > "$p/usr/share/doc/libavpgan-dev/changelog.gz"
finish libavpgan-dev "$arch" libdevel "libavpgan0 (= $debversion)" "Multi-Arch: same" <<'DESC'
Description: voice portraits: a face image from a voice recording (development files)
 libavpgan implements the AVP-GAN voice-portrait networks and their Voice2Face
 baseline behind a stable C API.
 .
 This package holds the header avpgan.h, the libavpgan.so link, the pkg-config
 file (pkg-config --cflags --libs avpgan), the CMake package configuration
 (find_package(avpgan), target avpgan::avpgan), the API reference (api.md)
 and the C and Python examples.
DESC

# ---- avpgan-tools ----
p="$stage/avpgan-tools"
install -d "$p/usr/bin" "$p/usr/share/man/man1"
install -m755 "$root/build/bin/avpgan" "$p/usr/bin/avpgan"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$p/usr/bin/avpgan"
python3 "$here/make-manpage.py" "$root/build/bin/avpgan" "$version" "$(date -u -d "@$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)" +%Y-%m-%d)" \
    | gzip -9n > "$p/usr/share/man/man1/avpgan.1.gz"
docs avpgan-tools
finish avpgan-tools "$arch" science "$(depends "$p/usr/bin/avpgan")" "Recommends: libavpgan0 (>= $version)" <<'DESC'
Description: voice portraits: a face image from a voice recording (command-line tool)
 The avpgan command turns recordings into portraits (PNG with provenance),
 computes features and embeddings, makes synthetic data sets, trains and
 evaluates models, and measures their speed. It uses the default model of
 libavpgan0 when no model is given.
DESC

# ---- avpgan-converters ----
# The model-file converters users run, as commands: each a small wrapper around its script in
# /usr/share/avpgan/tools, with the numpy-only file writers beside it.
p="$stage/avpgan-converters"
install -d "$p/usr/bin" "$p/usr/share/avpgan/tools"
# The converters' room of the source tree, tools/converters/, whole: its scripts and their modules.
for f in "$root"/tools/converters/*.py; do
    install -m644 "$f" "$p/usr/share/avpgan/tools/$(basename "$f")"
done
for c in face gfpgan torch vgg; do
    printf '#!/bin/sh\n# avpgan-convert-%s: see /usr/share/avpgan/tools/convert_%s.py\nexec /usr/bin/python3 /usr/share/avpgan/tools/convert_%s.py "$@"\n' \
        "$c" "$c" "$c" > "$p/usr/bin/avpgan-convert-$c"
    chmod 755 "$p/usr/bin/avpgan-convert-$c"
done
install -d "$p/usr/share/man/man1"
mandate=$(date -u -d "@$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)" +%Y-%m-%d)
for spec in "face:face-recognition weights to a libavpgan face model" "gfpgan:a GFPGAN checkpoint to a libavpgan enhancer" \
            "torch:AVP-GAN PyTorch state_dicts to a libavpgan model" \
            "vgg:torchvision VGG-19 weights to the enhancer losses' feature network"; do
    c=${spec%%:*}
    python3 "$here/make-manpage.py" --converter "avpgan-convert-$c" "${spec#*:}" "$version" "$mandate" \
        python3 "$root/tools/converters/convert_$c.py" | gzip -9n > "$p/usr/share/man/man1/avpgan-convert-$c.1.gz"
done
docs avpgan-converters
finish avpgan-converters all science "python3:any, python3-numpy" "Suggests: libavpgan0, avpgan-tools" <<'DESC'
Description: voice portraits: converters of model files to libavpgan's format
 Commands that turn weights from other tools into the safetensors files that
 libavpgan loads:
  avpgan-convert-face    face-recognition networks (MobileFaceNet, ArcFace
                         IResNet) from ONNX or a PyTorch state_dict;
  avpgan-convert-gfpgan  GFPGAN v1.2-v1.4 checkpoints to enhancer files;
  avpgan-convert-torch   AVP-GAN / Voice2Face PyTorch state_dicts to models;
  avpgan-convert-vgg     torchvision VGG-19 weights to the feature network of
                         the enhancer's training losses.
 avpgan-convert-face, -gfpgan and -vgg need only numpy (PyTorch files are
 read without torch);
 avpgan-convert-torch needs PyTorch (pip install torch) and the reference
 network definitions (--reference).
DESC

# ---- python3-avpgan ----
p="$stage/python3-avpgan"
install -d "$p/usr/lib/python3/dist-packages/avpgan"
install -m644 "$root"/bindings/python/avpgan/*.py "$p/usr/lib/python3/dist-packages/avpgan/"
[ -f "$root/bindings/python/avpgan/py.typed" ] && install -m644 "$root/bindings/python/avpgan/py.typed" "$p/usr/lib/python3/dist-packages/avpgan/"
docs python3-avpgan
finish python3-avpgan all python "python3:any, python3-numpy, libavpgan0 (>= $version)" <<'DESC'
Description: voice portraits: a face image from a voice recording (Python 3)
 ctypes and numpy bindings of libavpgan: avpgan.Model (portraits, embeddings,
 faces), avpgan.Trainer, avpgan.FaceModel (evaluation with a face-recognition
 network), audio decoding and features. No compiler is needed; the library is
 found through the dynamic loader (or $AVPGAN_LIBRARY).
DESC
