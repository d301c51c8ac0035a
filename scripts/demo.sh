#!/usr/bin/env bash
# Installs what is missing, builds the library and runs the demo program.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSESSION_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$root/build" -j "$(nproc 2>/dev/null || echo 2)" --target session_demo >/dev/null
exec "$root/build/examples/session_demo" "$@"
