# Sourced by the other scripts: installs the Debian/Ubuntu packages csession
# needs when they are missing (with sudo when not root).
# usage: . scripts/deps.sh; ensure_packages pkg...

# CSESSION_LIBRARY_PACKAGES build and install the library (README.md's
# "Building against it" lists the same; libsqlite3-dev: the SQLite store,
# built when it is found; zlib1g-dev because Debian's sqlite3.pc names -lz
# for static links, though libsqlite3.a does not use it; libssl-dev: TLS to Redis,
# rediss:// URLs, built when it is found). libmicrohttpd-dev: the demo web
# server (examples/server); libh2o-dev and libuv1-dev: the event-loop demo server
# (examples/server_h2o). libcmocka-dev: the tests; curl and python3: the
# end-to-end and Python binding tests; luajit: the LuaJIT FFI test.
# redis-server also runs the Sentinel tests (redis-server --sentinel: the
# redis-sentinel package is not needed); redis-tools (redis-cli, which
# redis-server pulls in anyway) makes the cluster of the Cluster tests.
# libuv1-dev, libevent-dev and libev-dev: the tests of the event-loop adapters
# (csession/loop_uv.h, loop_event.h, loop_ev.h); the library never links them.
# openssl (the command): the TLS tests make their certificates with it.
CSESSION_LIBRARY_PACKAGES="build-essential cmake pkg-config libsodium-dev libhiredis-dev libcjson-dev libsqlite3-dev zlib1g-dev libssl-dev"
CSESSION_BUILD_PACKAGES="$CSESSION_LIBRARY_PACKAGES libmicrohttpd-dev libh2o-dev libuv1-dev"
CSESSION_TEST_PACKAGES="libcmocka-dev redis-server redis-tools curl python3 python3-flask luajit libevent-dev libev-dev openssl"
# Optional: headless Chromium for the browser test (tests/e2e/test_browser.py),
# which skips itself without them. CI installs them; scripts/test.sh does not.
CSESSION_BROWSER_PACKAGES="chromium chromium-driver"

ensure_packages() {
    missing=""
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $pkg"
        fi
    done
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "csession: missing packages:$missing (install them; this script knows only apt-get)" >&2
        return 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "csession: need root or sudo to install:$missing" >&2; return 1; }
        sudo="sudo"
    fi
    echo "csession: installing$missing" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
}
