#!/usr/bin/env bash
# The C ABI of libavpgan against the committed baseline (abi/README.md).
#
#   check_abi.sh LIB HEADER BASELINE                   check: exit 1 on an incompatible change
#   check_abi.sh --write-baseline [--force] LIB HEADER BASELINE
#       (re)write BASELINE: after a compatible change or a major bump; --force also over an
#       incompatible change within the same major version
#
# The library is Swift: its DWARF says nothing about the C header's types. So the ABI that
# abigail compares is that of a stub shared object compiled with -g from the header itself
# (Tests/abi_tool.py stub: every declared function defined with the header's own prototype,
# a marker function per public type and per integer macro), linked with the library's
# SONAME. The stub's exported functions must be exactly the library's (name and symbol type),
# which ties the description to the real binary. Fields appended to structs that start with
# `size_t struct_size` are cut off before the comparison (Tests/abi_tool.py project), so that
# they pass while every other change to such a struct still fails.
set -uo pipefail

mode=check force=0
while [ $# -gt 0 ]; do
    case $1 in
    --write-baseline) mode=write; shift ;;
    --force) force=1; shift ;;
    *) break ;;
    esac
done
if [ $# -ne 3 ]; then
    echo "usage: $0 [--write-baseline [--force]] LIB HEADER BASELINE" >&2
    exit 2
fi
lib=$1 header=$2 baseline=$3
here=$(cd "$(dirname "$0")" && pwd)
tool="$here/abi_tool.py"
CC=${CC:-cc}
export CC

for prog in abidw abidiff; do
    if ! command -v $prog >/dev/null; then
        echo "FAIL abi: $prog not found: install the Debian package abigail-tools" \
             "(apt-get install abigail-tools; make deps does it)" >&2
        exit 2
    fi
done
for prog in python3 "$CC" readelf nm; do
    command -v "$prog" >/dev/null || { echo "FAIL abi: $prog not found" >&2; exit 2; }
done
[ -f "$lib" ] || { echo "FAIL abi: no library $lib (make build)" >&2; exit 2; }
[ -f "$header" ] || { echo "FAIL abi: no header $header" >&2; exit 2; }

fail=0 passed=0
ok()   { echo "ok   abi: $*"; passed=$((passed + 1)); }
bad()  { echo "FAIL abi: $*"; fail=1; }
summary() {
    if [ $fail = 0 ]; then echo "abi: $passed passed, 0 failed"; else echo "abi: checks failed"; fi
    exit $fail
}

# 1. SONAME major == AVPGAN_VERSION_MAJOR.
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
soname_major=$(sed -n 's/^.*\.so\.\([0-9][0-9]*\)$/\1/p' <<<"$soname")
header_major=$("$CC" -E -dM -x c "$header" | awk '$2 == "AVPGAN_VERSION_MAJOR" { print $3 }')
if [ -z "$soname_major" ]; then
    bad "the library's SONAME '$soname' has no major number (libavpgan.so.N)"
elif [ "$soname_major" != "$header_major" ]; then
    bad "SONAME $soname (major $soname_major) but AVPGAN_VERSION_MAJOR is '$header_major' in $header"
else
    ok "SONAME $soname matches AVPGAN_VERSION_MAJOR $header_major"
fi
[ $fail = 0 ] || summary

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 2. The stub: the header's C ABI as DWARF, in a shared object with the library's SONAME.
if ! python3 "$tool" stub "$(cd "$(dirname "$header")" && pwd)/$(basename "$header")" \
        "$tmp/stub.map" >"$tmp/avpgan_abi_stub.c" 2>"$tmp/stub.log"; then
    bad "could not generate the stub from $header:"; sed 's/^/    /' "$tmp/stub.log"; summary
fi
# Compiled in $tmp under a fixed name, so that nothing of the temporary path reaches the ABI file.
if ! (cd "$tmp" && "$CC" -std=gnu2x -g -O0 -fPIC -shared -Wl,-soname,"$soname" \
        -Wl,--version-script,stub.map -o stub.so avpgan_abi_stub.c) >"$tmp/cc.log" 2>&1; then
    bad "the stub does not compile:"; sed 's/^/    /' "$tmp/cc.log"; summary
fi

# 3. The stub describes the real library: same exported functions, same symbol types.
exports() { nm -D --defined-only --extern-only "$1" | awk '{ print $3, $2 }' | sort -u; }
exports "$lib" >"$tmp/lib.syms"
exports "$tmp/stub.so" | grep -v '^abi_\(type\|macro\)__' >"$tmp/stub.syms"
if ! cmp -s "$tmp/lib.syms" "$tmp/stub.syms"; then
    bad "the library's exported symbols are not the header's functions:"
    diff "$tmp/stub.syms" "$tmp/lib.syms" | sed -n 's/^</    header only:/p; s/^>/    library only:/p'
    summary
fi
ok "the library's $(wc -l <"$tmp/lib.syms") exported functions are the header's ($(sed 's/.*: //' "$tmp/stub.log"))"

# 4. The ABI description. Locations are left out (they change with every comment); type ids
#    are hashes, so that a regenerated baseline differs only where the ABI does.
abidw_opts=(--no-show-locs --no-corpus-path --no-comp-dir-path --type-id-style hash)
if ! abidw "${abidw_opts[@]}" --out-file "$tmp/current.abi" "$tmp/stub.so" 2>"$tmp/abidw.log"; then
    bad "abidw failed:"; sed 's/^/    /' "$tmp/abidw.log"; summary
fi
corpus_attr() { sed -n "1s/.*$1='\\([^']*\\)'.*/\\1/p" "$2"; }

# 5. Compare with the baseline: verdict none | compatible | incompatible | bump | missing.
compare() {
    verdict=missing
    [ -f "$baseline" ] || return 0
    base_soname=$(corpus_attr soname "$baseline")
    local base_arch cur_arch rc
    base_arch=$(corpus_attr architecture "$baseline")
    cur_arch=$(corpus_attr architecture "$tmp/current.abi")
    if [ "$base_arch" != "$cur_arch" ]; then
        echo "note abi: the baseline was made on $base_arch, this is $cur_arch; architecture ignored"
    fi
    # A different SONAME in the baseline is a deliberate major bump: reported, never a failure.
    if [ "$base_soname" != "$soname" ]; then verdict=bump; return 0; fi
    # The gate: fields appended to struct_size structs cut off; added functions (and marker
    # functions of added types and macros) ignored (--no-added-syms); harmless changes (added
    # enumerators, renamed parameters and fields) filtered by abidiff's defaults. Whatever
    # abidiff still reports -- exit bit 4 ABIDIFF_ABI_CHANGE, with or without bit 8
    # ABIDIFF_ABI_INCOMPATIBLE_CHANGE -- is an incompatible change.
    if ! python3 "$tool" project "$baseline" "$tmp/current.abi" "$tmp/projected.abi" \
            >"$tmp/appended.txt" 2>"$tmp/project.log"; then
        bad "could not read the ABI files:"; sed 's/^/    /' "$tmp/project.log"; summary
    fi
    abidiff -l --no-default-suppression --no-added-syms --no-architecture "$baseline" "$tmp/projected.abi" >"$tmp/gate.txt" 2>&1
    rc=$?
    if [ $((rc & 3)) != 0 ]; then
        bad "abidiff failed (exit $rc):"; sed 's/^/    /' "$tmp/gate.txt"; summary
    fi
    if [ $rc != 0 ]; then verdict=incompatible; gate_rc=$rc; return 0; fi
    # The full comparison, harmless changes shown: what was added, for the record.
    abidiff -l --no-default-suppression --harmless --no-architecture "$baseline" "$tmp/current.abi" >"$tmp/info.txt" 2>&1
    rc=$?
    if [ $((rc & 3)) != 0 ]; then
        bad "abidiff failed (exit $rc):"; sed 's/^/    /' "$tmp/info.txt"; summary
    fi
    # (-l prints its summary lines even when a harmless change, e.g. an added const, has no
    # leaf to show.)
    if grep -q . "$tmp/appended.txt" || { grep -q . "$tmp/info.txt" \
            && ! grep -q '^Leaf changes summary: 0 artifact' "$tmp/info.txt"; }; then
        verdict=compatible
    else
        verdict=none
    fi
}

report() {
    case $verdict in
    missing)
        bad "no baseline $baseline (make abi-baseline writes it)" ;;
    bump)
        echo "################################################################################"
        echo "## MAJOR BUMP: $baseline is the ABI of $base_soname, the library is $soname."
        echo "## Incompatible changes are allowed across the bump and are NOT checked now."
        echo "## Record the new ABI with make abi-baseline and commit $baseline."
        echo "################################################################################"
        abidiff -l --no-default-suppression --stat --no-architecture --ignore-soname "$baseline" "$tmp/current.abi" | sed 's/^/    /'
        ok "major bump $base_soname -> $soname (compatibility not checked)" ;;
    incompatible)
        bad "INCOMPATIBLE with $baseline ($base_soname); abidiff (exit $gate_rc) reports:"
        sed 's/^/    /' "$tmp/gate.txt"
        echo "    Within one major version only additions are allowed: new functions, new enum values,"
        echo "    new fields at the end of struct_size structs. Undo the change, or bump the major"
        echo "    version (AVPGAN_VERSION_MAJOR, SONAME) and run make abi-baseline (abi/README.md)." ;;
    none)
        ok "compatible with $baseline ($base_soname): no changes" ;;
    compatible)
        ok "compatible with $baseline ($base_soname); compatible changes found:"
        sed -n '/summary:/s/^/    /p' "$tmp/info.txt"
        sed 's/^/    appended: /' "$tmp/appended.txt"
        sed '1,/^Removed\/Changed\/Added variables summary/d; /^$/d; s/^/    | /' "$tmp/info.txt" ;;
    esac
}

compare
if [ $mode = check ]; then
    report
    [ $verdict = compatible ] && echo "note abi: record the additions in the baseline: make abi-baseline"
    summary
fi

# --write-baseline: only a compatible change, a major bump, a first baseline or --force.
if [ $verdict = missing ]; then
    echo "note abi: no baseline yet at $baseline"
else
    report
fi
if [ $verdict = incompatible ]; then
    if [ $force = 0 ]; then
        echo "refusing to write $baseline over an incompatible change: bump the major version," \
             "or pass --force (abi/README.md)"
        summary
    fi
    echo "note abi: --force: writing $baseline over an incompatible change"
    fail=0
fi
mkdir -p "$(dirname "$baseline")"
cp "$tmp/current.abi" "$baseline"
ok "wrote $baseline for $soname ($(corpus_attr architecture "$baseline"))"
summary
