#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, -sanitize=fuzzer,address, scratch path .build-fuzz) and
# runs each for SECONDS: first every committed seed and regression input once
# (Fuzz/corpus/<target>, Fuzz/regressions/<target>), then fuzzing from them, new inputs going to
# build/fuzz/corpus/<target>. Fails on a crash, a leak of the library's own (third-party leaks
# are in Tests/sanitizers/lsan.supp with their reasons), a timeout (-timeout, per input) or an
# RSS above the limit; the input that did it is left in build/fuzz/artifacts/<target>/ and
# belongs in Fuzz/regressions/<target>/ once fixed.
#
#   bash Fuzz/run.sh SECONDS [TARGET...]      (default: every target)
set -euo pipefail
seconds=$1; shift
cd "$(dirname "$0")/.."
root=$PWD
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-model-files fuzz-audio fuzz-images fuzz-c-abi)
build=(swift build -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address)
for t in "${targets[@]}"; do AVPGAN_FUZZ=1 "${build[@]}" --product "$t" 2>&1 | grep -v '^\[' || true; done
bin=$(AVPGAN_FUZZ=1 "${build[@]}" --show-bin-path)
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:allocator_may_return_null=1
export LSAN_OPTIONS=suppressions=$root/Tests/sanitizers/lsan.supp:print_suppressions=0
export SWIFT_BACKTRACE=enable=no
# The C-API target loads the tiny fixture model.
export AVPGAN_FUZZ_MODEL=$root/Tests/Fixtures/golden/avpgan/model.safetensors
status=0
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "fuzz: $bin/$t was not built" >&2; exit 1; }
    corpus=build/fuzz/corpus/$t artifacts=build/fuzz/artifacts/$t log=build/fuzz/$t.log
    mkdir -p "$corpus" "$artifacts"
    inputs=(Fuzz/corpus/"$t"/*)
    [ -d "Fuzz/regressions/$t" ] && inputs+=(Fuzz/regressions/"$t"/*)
    if ! "$bin/$t" -runs=1 "${inputs[@]}" >"$log" 2>&1; then
        tail -n 60 "$log"; echo "fuzz: $t fails on a committed seed or regression input (log: $log)" >&2; status=1; continue
    fi
    if "$bin/$t" "$corpus" "Fuzz/corpus/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz: $t clean for ${seconds} s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs, corpus $(ls "$corpus" | wc -l) files"
    else
        tail -n 60 "$log"
        echo "fuzz: $t FAILED; the input is in $artifacts/ (log: $log)" >&2
        status=1
    fi
done
exit $status
