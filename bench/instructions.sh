#!/bin/sh
# Instructions per request of csession-bench figures, counted by callgrind:
# reproducible where timings are not, and what the speed-ups in
# docs/performance.md were measured with.
# usage: bench/instructions.sh BUILD_DIR [figure...]
set -eu
build=${1:?usage: bench/instructions.sh BUILD_DIR [figure...]}
shift
[ $# -gt 0 ] || set -- cookie_signed_full cookie_signed_read cookie_xchacha_full \
    cookie_xchacha_read memory_full bare_signed_full bare_xchacha_full
n=2000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in "$@"; do
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=timed_loop \
        "$build/bench/csession-bench" --run "$f" --iterations "$n" >/dev/null 2>&1
    ir=$(sed -n 's/^summary: //p' "$out")
    printf '%-24s %8d instructions/request\n' "$f" $((ir / n))
done
