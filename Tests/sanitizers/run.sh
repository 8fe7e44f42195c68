#!/usr/bin/env bash
# The library under a sanitizer: builds libavpgan.so with -sanitize=address or -sanitize=thread
# in its own scratch path (.build-asan, .build-tsan), builds the C tests with clang and the same
# sanitizer, and runs them against it: the C API suites (Tests/c/test_api.c, test_evaluation.c), the
# hostile-input suite (Tests/c/test_hostile.c), the threaded stress test (Tests/c/test_threads.c)
# and the data-parallel hooks with threads as ranks (Tests/c/test_data_parallel.c, test_voice_data_parallel.c,
# test_enhancer_data_parallel.c, test_prior_data_parallel.c).
# Any sanitizer report fails the run (halt_on_error, and the report's exit code).
#
#   bash Tests/sanitizers/run.sh asan|tsan PYTHON [THREADS PORTRAITS_PER_THREAD]
set -euo pipefail
kind=$1 python=$2 threads=${3:-8} per_thread=${4:-25}
cd "$(dirname "$0")/../.."
root=$PWD
# The toolchain's clang and compiler-rt (the sanitizer runtimes Swift's -sanitize uses).
bin=$(dirname "$(readlink -f "$(command -v swift)")")
clang=$bin/clang
rt=$(ls -d "$bin"/../lib/clang/*/lib/linux | head -n 1)
case $kind in
    asan) flag=address runtime=$rt/libclang_rt.asan-x86_64.so extra=() ;;
    # The thread sanitizer's runtime needs libdispatch (the Swift runtime's) loaded even when the
    # harness itself does not call it, hence --no-as-needed.
    tsan) flag=thread runtime=$rt/libclang_rt.tsan-x86_64.so
          extra=(-Wl,--no-as-needed -L"$bin/../lib/swift/linux" -ldispatch -Wl,--as-needed -Wl,-rpath,"$bin/../lib/swift/linux") ;;
    *) echo "usage: $0 asan|tsan PYTHON [THREADS PORTRAITS_PER_THREAD]" >&2; exit 2 ;;
esac
out=build/$kind
# -z defs needs the sanitizer runtime on the shared library's own link line.
swift build -c release --product avpgan --scratch-path ".build-$kind" -Xswiftc "-sanitize=$flag" \
    -Xlinker "$runtime" -Xlinker -rpath -Xlinker "$rt"
mkdir -p "$out/lib" "$out/tests"
cp ".build-$kind/release/libavpgan.so" "$out/lib/.libavpgan.so.new" && mv -f "$out/lib/.libavpgan.so.new" "$out/lib/libavpgan.so.0"
ln -sf libavpgan.so.0 "$out/lib/libavpgan.so"
for t in test_api test_evaluation test_hostile test_threads test_data_parallel test_voice_data_parallel test_enhancer_data_parallel test_prior_data_parallel; do
    sources=("Tests/c/$t.c")
    # test_api is main plus one file per area of the API (Tests/c/api).
    if [ "$t" = test_api ]; then sources+=(Tests/c/api/*.c); fi
    # The data-parallel tests share their threads-as-ranks harness (Tests/c/thread_ranks.c).
    case $t in test_data_parallel | test_voice_data_parallel) sources+=(Tests/c/thread_ranks.c) ;; esac
    # The enhancer's and the prior's also draw their faces as test_api does (Tests/c/api/drawn_faces.c).
    case $t in test_enhancer_data_parallel | test_prior_data_parallel) sources+=(Tests/c/thread_ranks.c Tests/c/api/drawn_faces.c) ;; esac
    "$clang" -std=c99 -Wall -Wextra -Werror -pedantic -pthread -g -O1 "-fsanitize=$flag" -shared-libsan -Iinclude \
        "${sources[@]}" -o "$out/tests/$t" -L"$out/lib" -lavpgan -lm -Wl,-rpath,"$root/$out/lib" -Wl,-rpath,"$rt" "${extra[@]}"
done
rm -rf "$out/train-data" "$out/hostile" "$out/evaluation" && mkdir -p "$out/hostile" "$out/evaluation"
build/bin/avpgan synth-data -o "$out/train-data" --speakers 3 --utterances 2 --faces 2 --seed 3 >/dev/null
"$python" tools/converters/face_model_file.py --random mobilefacenet --seed 2 -o "$out/face.safetensors"
model=Tests/Fixtures/golden/avpgan/model.safetensors
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export LSAN_OPTIONS=suppressions=$root/Tests/sanitizers/lsan.supp:print_suppressions=0
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/Tests/sanitizers/tsan.supp
export SWIFT_BACKTRACE=enable=no
# Runs one test; prints its last line, or its failures and the sanitizer's report.
run() {
    local log=$out/$(basename "$1").log
    if "$@" >"$log" 2>&1; then tail -n 1 "$log"; else
        grep -v '^ok ' "$log" | tail -n 80; echo "$kind: $1 failed (full log: $log)" >&2; exit 1
    fi
}
run "$out/tests/test_api" "$model" "$out/train-data" "$out/face.safetensors"
run "$out/tests/test_evaluation" "$model" "$out/train-data" "$out/face.safetensors" "$out/evaluation"
run "$out/tests/test_hostile" "$model" "$out/hostile"
run "$out/tests/test_threads" "$model" "$threads" "$per_thread"
run "$out/tests/test_data_parallel" "$model" "$out/train-data"
run "$out/tests/test_voice_data_parallel" "$out/train-data"
run "$out/tests/test_enhancer_data_parallel"
run "$out/tests/test_prior_data_parallel"
echo "$kind: the C API, hostile-input, threaded and data-parallel tests ran clean under -sanitize=$flag"
