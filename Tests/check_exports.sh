#!/usr/bin/env bash
# Checks the shared library's ABI surface: its exported functions are exactly the functions
# declared in the header, it carries the SONAME, and it needs no Swift toolchain library.
set -euo pipefail
lib=$1 header=$2
fail=0
exported=$(nm -D --defined-only --extern-only "$lib" | awk '{print $3}' | sort -u)
declared=$(grep -v '^ \*\|^/\*' "$header" | grep -oE '\bavpgan_[a-z0-9_]+[[:space:]]*\(' | tr -d '( \t' | sort -u)
if [ "$exported" != "$declared" ]; then
    echo "FAIL exports: the library and $header disagree:"
    diff <(echo "$declared") <(echo "$exported") | sed 's/^</  declared only:/; s/^>/  exported only:/' | grep only || true
    fail=1
else
    echo "ok   exports: $(echo "$exported" | wc -l) functions, exactly the header's"
fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = "libavpgan.so.0" ]; then echo "ok   soname: $soname"; else echo "FAIL soname: '$soname', expected libavpgan.so.0"; fail=1; fi
swiftdeps=$(readelf -d "$lib" | grep NEEDED | grep -i swift || true)
if [ -z "$swiftdeps" ]; then echo "ok   needed: no Swift runtime libraries"; else echo "FAIL needed: $swiftdeps"; fail=1; fi
if [ $fail = 0 ]; then echo "exports: 3 passed, 0 failed"; else echo "exports: checks failed"; fi
exit $fail
