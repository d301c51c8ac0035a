#!/usr/bin/env bash
# Installs what is missing, builds the library and starts the demo web server
# (examples/server) on the in-memory store, printing its URL and curl lines.
#
# usage: scripts/demo.sh [SERVER FLAGS...]    e.g. --port 9000, --store cookie
#
# The server listens on http://127.0.0.1 in plain HTTP, so it runs with
# --insecure: without it, cookies carry the Secure attribute and clients only
# send them back over HTTPS. Never use --insecure behind a public address.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES curl
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSESSION_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$root/build" -j "$(nproc 2>/dev/null || echo 2)" --target session_server >/dev/null
echo "demo: plain http on localhost, hence --insecure (cookies without the Secure attribute)" >&2
exec "$root/build/examples/server/session_server" --store memory --insecure "$@"
