#!/usr/bin/env bash
# The Python package as a user gets it: pip install ./bindings/python into a new virtualenv, then
# the bindings' test suite against that installed copy (AVPGAN_TEST_INSTALLED=1: conftest.py
# refuses to run if `import avpgan` resolves to the checkout), then py.typed and docstrings.
#
#   Tests/python_package_test.sh                   # library: the checkout's build/lib (make build)
#   Tests/python_package_test.sh --system-library  # library: whatever the dynamic loader finds
#                                                  # (e.g. the Debian package libavpgan0)
#
# Run from anywhere; it works in the checkout this script belongs to. Needs python3 with venv
# (PYTHON3=python3.9 to try another interpreter) and PyPI, or pip's cache, for numpy and pytest.
# Extra arguments after the option go to pytest (e.g. -k 'not trainer').
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON3=${PYTHON3:-python3}
SYSTEM_LIBRARY=0
if [ "${1:-}" = "--system-library" ]; then
    SYSTEM_LIBRARY=1
    shift
fi

if [ "$SYSTEM_LIBRARY" = 1 ]; then
    unset AVPGAN_LIBRARY
    library="the system's libavpgan.so.0"
else
    export AVPGAN_LIBRARY="$REPO/build/lib/libavpgan.so.0"
    if [ ! -e "$AVPGAN_LIBRARY" ]; then
        echo "python_package_test: $AVPGAN_LIBRARY is missing (make build)" >&2
        exit 1
    fi
    library=$AVPGAN_LIBRARY
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/avpgan-pypkg.XXXXXX")
# setuptools builds in the source tree; these are its leftovers (also in bindings/python/.gitignore).
# Removed before, so that no stale file from an earlier build reaches the wheel, and after.
clean_tree() { rm -rf "$REPO/bindings/python/build" "$REPO/bindings/python/avpgan.egg-info"; }
cleanup() { clean_tree; rm -rf "$TMP"; }
trap cleanup EXIT
clean_tree

# Nothing from the caller's environment may put the checkout's package on the path.
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
export PYTHONNOUSERSITE=1
PIP=(--disable-pip-version-check -q)

start=$SECONDS
"$PYTHON3" -m venv "$TMP/venv"
PY="$TMP/venv/bin/python"
cd "$REPO"
"$PY" -m pip install "${PIP[@]}" numpy pytest ./bindings/python
clean_tree
echo "python_package_test: venv with $("$PY" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])') and" \
    "$("$PY" -m pip list --disable-pip-version-check 2>/dev/null | awk '$1=="avpgan"||$1=="numpy"{printf "%s%s %s", sep, $1, $2; sep=", "}')" \
    "in $((SECONDS - start)) s"

# The installed files: the package (not the checkout's), with py.typed listed in its RECORD.
files=$("$PY" -m pip show -f avpgan --disable-pip-version-check)
if ! grep -qx '  avpgan/py.typed' <<<"$files"; then
    echo "python_package_test: the installed avpgan has no py.typed:" >&2
    echo "$files" >&2
    exit 1
fi
installed=$(cd "$TMP" && "$PY" -c 'import avpgan, pathlib; p = pathlib.Path(avpgan.__file__).parent; assert (p / "py.typed").is_file(), p; print(p)')
case "$installed" in
    "$TMP/venv/"*) ;;
    *) echo "python_package_test: import avpgan gives $installed, not the venv's copy" >&2; exit 1 ;;
esac

# Installed from this checkout, the copy finds the checkout's build by itself (setup.py records
# the checkout), as a notebook user who ran `pip install ./bindings/python` and `make build` expects.
if [ "$SYSTEM_LIBRARY" = 0 ]; then
    found=$(cd "$TMP" && env -u AVPGAN_LIBRARY -u LD_LIBRARY_PATH "$PY" -c 'from avpgan import _lib; print(_lib.get()._name)')
    if [ "$found" != "$REPO/build/lib/libavpgan.so.0" ]; then
        echo "python_package_test: the installed copy loaded '$found', not the checkout's build/lib/libavpgan.so.0" >&2
        exit 1
    fi
    echo "python_package_test: without AVPGAN_LIBRARY the installed copy finds $found"
fi

# help() shows the docstrings: the class's and those of its methods.
help=$(cd "$TMP" && "$PY" -c "import avpgan; help(avpgan.Model)")
grep -q '^class Model' <<<"$help" || { echo "python_package_test: help(avpgan.Model) shows no class Model" >&2; exit 1; }
grep -q 'A loaded libavpgan model' <<<"$help" || {
    echo "python_package_test: help(avpgan.Model) shows no class docstring:" >&2; head -20 <<<"$help" >&2; exit 1; }
for method in close embed generate generate_raw portrait; do
    # The line after " |  method(self, ...)" is the first line of its docstring.
    doc=$(grep -A1 "^ |  $method(self" <<<"$help" | sed -n 2p)
    if ! grep -Eq '^ \|      [^ ]' <<<"$doc"; then
        echo "python_package_test: help(avpgan.Model) shows no docstring for $method" >&2
        exit 1
    fi
done
echo "python_package_test: installed at $installed with py.typed; help(avpgan.Model) shows docstrings"

# The bindings' suite against the installed package, from the checkout (for its fixtures).
echo "python_package_test: pytest bindings/python/tests against $library"
AVPGAN_TEST_INSTALLED=1 "$PY" -m pytest -q -p no:cacheprovider bindings/python/tests "$@"
echo "python_package_test: passed in $((SECONDS - start)) s"
