#!/bin/sh
# Builds the libFuzzer targets and runs each of them for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 30 per target; TARGET is a fuzzer name such as
# fuzz_cookie_header (or just cookie_header); all fuzz/fuzz_*.c by default.
# Optional fuzz/fuzz_<name>.dict (a libFuzzer dictionary) and
# fuzz/fuzz_<name>.options (extra libFuzzer flags, e.g. -max_len=9000) are used
# when present. The build goes to build-fuzz/ (clang-14, ASan + UBSan + libFuzzer). Each
# target runs on a copy of fuzz/corpus/<name>/ under build-fuzz/corpus/, so
# the seed corpus in the tree is left alone; a crash leaves its input in
# build-fuzz/artifacts/<name>/ and makes the script fail.
#
# Environment: CC (default clang-14), FUZZ_JOBS (build parallelism),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. "-max_len=20000"), FUZZ_BUILD (the
# build directory instead of build-fuzz/).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build="${FUZZ_BUILD:-$root/build-fuzz}"
seconds=30
case "${1:-}" in
    ''|*[!0-9]*) ;;
    *) seconds=$1; shift ;;
esac
: "${CC:=clang-14}"
: "${FUZZ_JOBS:=$(nproc 2>/dev/null || echo 2)}"
: "${FUZZ_FLAGS:=}"

# clang and its libFuzzer/sanitizer runtimes.
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
if command -v dpkg-query >/dev/null 2>&1; then
    ensure_packages clang-14 libclang-rt-14-dev
fi
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz.sh: $CC not found" >&2; exit 1; }

# Which targets: the arguments, else every fuzz/fuzz_*.c.
targets=
if [ $# -gt 0 ]; then
    for t in "$@"; do
        t=${t#fuzz_}
        [ -f "$root/fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no fuzz/fuzz_$t.c" >&2; exit 1; }
        targets="$targets $t"
    done
else
    for src in "$root"/fuzz/fuzz_*.c; do
        [ -f "$src" ] || continue
        t=$(basename "$src" .c)
        targets="$targets ${t#fuzz_}"
    done
fi
[ -n "$targets" ] || { echo "fuzz.sh: no fuzz targets" >&2; exit 1; }

CC="$CC" cmake -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCSESSION_BUILD_FUZZ=ON -DCSESSION_SANITIZE=ON \
    -DCSESSION_BUILD_TESTS=OFF -DCSESSION_BUILD_EXAMPLES=OFF \
    -DCSESSION_BUILD_SHARED=OFF -DCSESSION_WERROR=ON >/dev/null
build_targets=
for t in $targets; do build_targets="$build_targets fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j "$FUZZ_JOBS" --target $build_targets

# Abort on the first sanitizer report, with a stack, so that it counts as a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=
for t in $targets; do
    seeds="$root/fuzz/corpus/$t"
    mkdir -p "$seeds" # a new target may start with no seeds
    work="$build/corpus/$t"
    artifacts="$build/artifacts/$t"
    mkdir -p "$work" "$artifacts"
    # The working corpus keeps what earlier runs found, plus the current seeds.
    cp -R "$seeds/." "$work/" 2>/dev/null || true
    # Optional per-target extras: a dictionary, and libFuzzer flags.
    extra=
    [ -f "$root/fuzz/fuzz_$t.dict" ] && extra="-dict=$root/fuzz/fuzz_$t.dict"
    [ -f "$root/fuzz/fuzz_$t.options" ] && extra="$extra $(grep -v '^#' "$root/fuzz/fuzz_$t.options" | tr '\n' ' ')"
    echo "== fuzz_$t: $seconds s"
    # shellcheck disable=SC2086
    if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$artifacts/" $extra $FUZZ_FLAGS "$work"; then
        echo "fuzz.sh: fuzz_$t FAILED; inputs in $artifacts/" >&2
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz.sh: failing targets:$failed" >&2
    exit 1
fi
echo "fuzz.sh: all targets ran clean"
