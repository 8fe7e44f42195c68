# Sourced by Tests/package_test.sh and Tests/install_test.sh: a C/C++ developer's first build
# against an installed libavpgan. Needs the caller's `check WHAT CMD...`, $work and $here.
#   consumer_checks PKG_CONFIG_DIR CMAKE_PREFIX LIBRARY_DIR MODEL HEADER [PKG_CONFIG_SYSROOT]
# - a C program that is not in the repository, built with `pkg-config --cflags --libs avpgan`,
#   run against the installed library and MODEL;
# - examples/c built with CMake's find_package(avpgan 0.1), run; find_package(avpgan 1.0) refused.
consumer_checks() {
    local pcdir=$1 cmake_prefix=$2 libdir=$3 model=$4 header=$5 sysroot=${6:-}
    cat > "$work/version.c" <<'C'
#include <avpgan.h>
#include <stdio.h>
int main(int argc, char **argv) {
    avpgan_model *m = NULL;
    if (!AVPGAN_VERSION_COMPATIBLE()) return 3;
    if (argc > 1 && avpgan_model_load_file(argv[1], NULL, &m) != AVPGAN_OK) { puts(avpgan_last_error()); return 1; }
    avpgan_model_info info = { .struct_size = sizeof info };
    if (m && avpgan_model_get_info(m, &info) != AVPGAN_OK) return 2;
    printf("libavpgan %s, model %s\n", avpgan_version(), m ? info.arch_name : "-");
    avpgan_model_free(m);
    return 0;
}
C
    local pc=(env PKG_CONFIG_PATH="$pcdir")
    [ -n "$sysroot" ] && pc+=(PKG_CONFIG_SYSROOT_DIR="$sysroot")
    local flags version
    flags=$("${pc[@]}" pkg-config --cflags --libs avpgan)
    version=$("${pc[@]}" pkg-config --modversion avpgan)
    check "pkg-config --modversion avpgan = $version" \
        test "$version" = "$(sed -n 's/#define AVPGAN_VERSION_STRING "\(.*\)"/\1/p' "$header")"
    check "cc \$(pkg-config --cflags --libs avpgan): a program not in the repository" \
        cc -std=c99 -Wall -Werror "$work/version.c" -o "$work/version" $flags
    check "it runs against the installed library and model" env LD_LIBRARY_PATH="$libdir" "$work/version" "$model"

    if ! command -v cmake >/dev/null; then check "cmake is installed" false; return; fi
    check "cmake: find_package(avpgan) configures examples/c" \
        cmake -S "$here/examples/c" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$cmake_prefix" -DCMAKE_BUILD_TYPE=Release
    check "cmake: examples/c builds" cmake --build "$work/cmake"
    check "the CMake-built examples/c/generate runs" \
        env LD_LIBRARY_PATH="$libdir" "$work/cmake/generate" "$model" "$work/face.ppm" 3
    mkdir -p "$work/v1"
    printf 'cmake_minimum_required(VERSION 3.16)\nproject(v1 C)\nfind_package(avpgan 1.0 REQUIRED)\n' > "$work/v1/CMakeLists.txt"
    check "find_package(avpgan 1.0) is refused (another major version)" \
        bash -c "! cmake -S '$work/v1' -B '$work/v1b' -DCMAKE_PREFIX_PATH='$cmake_prefix' >/dev/null 2>&1"
}
