#!/usr/bin/env bash
# Builds csession against hiredis 1.x (Debian 12 ships 0.14) and runs the
# unit and Redis tests with it, so both API generations stay supported.
#
# hiredis 1.2 comes from its copy inside the npm package redis-fast-driver
# (the npm registry is reachable where upstream archives may not be); it is
# built into build-hiredis1/prefix and never installed system-wide.
#
# usage: scripts/test-hiredis1.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES $CSESSION_TEST_PACKAGES
command -v npm >/dev/null 2>&1 || ensure_packages npm

carrier=redis-fast-driver@2.2.6   # bundles hiredis 1.2.0 in deps/hiredis
work="$root/build-hiredis1"
prefix="$work/prefix"
if [ ! -f "$prefix/lib/pkgconfig/hiredis.pc" ]; then
    rm -rf "$work/src" && mkdir -p "$work/src"
    (cd "$work/src" && npm pack --silent "$carrier" >/dev/null && tar xzf ./*.tgz)
    # LIBRARY_PATH is hiredis' name for the lib directory; a compiler search
    # path of the same name in the environment must not leak into it.
    make -C "$work/src/package/deps/hiredis" -j "$(nproc)" PREFIX="$prefix" LIBRARY_PATH=lib \
        install >/dev/null
fi
grep -q '^Version: 1\.' "$prefix/lib/pkgconfig/hiredis.pc"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cmake -S "$root" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSESSION_WERROR=ON \
    -DCSESSION_BUILD_EXAMPLES=OFF
cmake --build "$work/build" -j "$(nproc)"
ctest --test-dir "$work/build" --output-on-failure -j "$(nproc)" -L 'unit|redis'
