#!/usr/bin/env bash
# Installs what is missing, builds the library and starts the demo web server
# (examples/server) on the in-memory store, printing its URL and curl lines.
#
# usage: scripts/demo.sh [--h2o] [SERVER FLAGS...]    e.g. --port 9000, --store cookie
#
# --h2o starts session_server_h2o (examples/server_h2o) instead: the same
# routes and flags on h2o and libuv, one event loop per --threads, every
# request on csession's non-blocking calls.
#
# The server listens on http://127.0.0.1 in plain HTTP, so it runs with
# --insecure: without it, cookies carry the Secure attribute and clients only
# send them back over HTTPS. Never use --insecure behind a public address.
#
# Only what the demo needs is installed and built (no tests, so no cmocka);
# the build goes to build-demo/. A step that fails shows its own output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES curl

build="$root/build-demo"
mkdir -p "$build"
log="$build/demo-setup.log"
# step WHAT COMMAND...: runs COMMAND with its output in the log, and shows
# the log when the command fails.
step() {
    local what=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "demo: $what failed ($*):" >&2
        cat "$log" >&2
        exit 1
    fi
}
step "configuring" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCSESSION_BUILD_TESTS=OFF -DCSESSION_BUILD_EXAMPLES=ON
server=session_server
dir=server
if [ "${1:-}" = "--h2o" ]; then
    shift
    server=session_server_h2o
    dir=server_h2o
fi
step "building the demo server" cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
    --target "$server"
echo "demo: plain http on localhost, hence --insecure (cookies without the Secure attribute)" >&2
exec "$build/examples/$dir/$server" --store memory --insecure "$@"
