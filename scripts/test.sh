#!/usr/bin/env bash
# Installs what is missing, configures, builds (warnings are errors) and runs
# every test.
#
# usage: scripts/test.sh [--sanitize | --tsan | --clang] [--build-dir DIR] [-- CTEST_ARGS...]
#   --sanitize   build and test under AddressSanitizer + UndefinedBehaviorSanitizer
#   --tsan       build and test under ThreadSanitizer
#   --clang      build and test with clang-14 instead of the default compiler
#   default build directories: build/, build-asan/, build-tsan/, build-clang/
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

mode=plain
build_dir=""
ctest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --sanitize) mode=asan ;;
        --tsan) mode=tsan ;;
        --clang) mode=clang ;;
        --build-dir) build_dir=$2; shift ;;
        --) shift; ctest_args=("$@"); break ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES $CSESSION_TEST_PACKAGES
[ "$mode" != clang ] || ensure_packages clang-14

flags=(-DCSESSION_WERROR=ON -DCSESSION_BUILD_TESTS=ON -DCSESSION_BUILD_EXAMPLES=ON)
case "$mode" in
    plain) : "${build_dir:=$root/build}" ;;
    asan) : "${build_dir:=$root/build-asan}"; flags+=(-DCSESSION_SANITIZE=ON) ;;
    tsan) : "${build_dir:=$root/build-tsan}"; flags+=(-DCSESSION_TSAN=ON) ;;
    clang) : "${build_dir:=$root/build-clang}"; flags+=(-DCMAKE_C_COMPILER=clang-14) ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}"
cmake --build "$build_dir" -j "$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"
