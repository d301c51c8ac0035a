#!/bin/sh
# csession beside the session libraries people pick instead, on one workload
# (the typical session of csession-bench; a full request: parse the Cookie:
# header, verify or decrypt, read two keys, write one, seal again, emit
# Set-Cookie), in one invocation on one machine:
#
#   csession              csession-bench --json, in-process
#   Node cookie-session   in-process: its middleware called with fake req/res
#   Node express-session  in-process, the same way; state in Redis through
#     + connect-redis     connect-redis (the same local redis-server as
#                         csession's Redis figures)
#   Python itsdangerous   in-process, URLSafeTimedSerializer as Flask's
#                         SecureCookieSessionInterface sets it up
#   Apache                over HTTP: httpd with mod_session, mod_session_cookie
#     mod_session_crypto  and mod_session_crypto on 127.0.0.1, a mod_lua
#                         handler, driven by wrk (Apache is a server: there
#                         is no in-process way); /plain, the same handler
#                         without a session, shows what HTTP alone costs
#
# and prints each peer's figure beside csession's as a ratio.
#
# usage: bench/peers/run.sh [--quick] [--redis URL] [--no-redis] [--build DIR]
#   --quick      shorter runs (csession-bench --quick, wrk 3 s)
#   --redis URL  use this Redis server instead of starting one
#   --no-redis   skip the Redis figures
#   --build DIR  where to build csession-bench (default build-peers)
# Installs what it needs: Debian packages through scripts/deps.sh, npm
# packages into bench/peers/node_modules (versions fixed by package.json).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quick=""
redis_url=""
no_redis=0
build="$root/build-peers"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=--quick ;;
    --redis) redis_url=${2:?--redis needs a URL}; shift ;;
    --no-redis) no_redis=1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;/^set -eu/d' >&2; exit 2 ;;
    esac
    shift
done

. "$root/scripts/deps.sh"
# shellcheck disable=SC2086
ensure_packages $CSESSION_BUILD_PACKAGES redis-server apache2 wrk python3-itsdangerous
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm

work=$(mktemp -d)
chmod 755 "$work" # Apache's workers (user nobody) read the handler from here
redis_pid=""
apache_conf=""
cleanup() {
    if [ -n "$apache_conf" ] && [ -f "$work/httpd.pid" ]; then
        apache2 -f "$apache_conf" -k stop >/dev/null 2>&1 || true
        sleep 1
    fi
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log() { printf '%s\n' "$*" >&2; }

# ---- csession ------------------------------------------------------------
log "building csession-bench in $build"
cmake -S "$root" -B "$build" -DCSESSION_BUILD_BENCH=ON -DCSESSION_BUILD_TESTS=OFF \
    -DCSESSION_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target csession-bench -j2 >/dev/null

if [ "$no_redis" -eq 0 ] && [ -z "$redis_url" ]; then
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$work" --daemonize no >"$work/redis.log" 2>&1 &
    redis_pid=$!
    redis_url="redis://127.0.0.1:$port/0"
    i=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 50 ] || { log "redis-server did not start"; exit 1; }
        sleep 0.1
    done
fi

results="$work/results.jsonl"
log "csession-bench $quick ${redis_url:+--redis $redis_url}"
# shellcheck disable=SC2086
"$build/bench/csession-bench" --json $quick ${redis_url:+--redis "$redis_url"} >>"$results"

# ---- Node ------------------------------------------------------------------
log "npm packages (bench/peers/node_modules)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
    npm install --no-audit --no-fund --loglevel=error >/dev/null)
log "node cookie-session, express-session + connect-redis"
# shellcheck disable=SC2086
node "$here/node_peers.js" $quick ${redis_url:+--redis "$redis_url"} >>"$results"

# ---- Python ----------------------------------------------------------------
log "python itsdangerous"
/usr/bin/python3 "$here/itsdangerous_peer.py" $quick >>"$results"

# ---- Apache ----------------------------------------------------------------
log "apache mod_session_crypto (wrk)"
port=$(free_port)
apache_conf="$work/httpd.conf"
sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$port|g" "$here/apache/httpd.conf.in" >"$apache_conf"
cp "$here/apache/handler.lua" "$work/handler.lua"
apache2 -f "$apache_conf" -k start
cookie=$(/usr/bin/python3 - "$port" <<'EOF'
import http.client, sys, time
for _ in range(50):
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
        c.request("GET", "/login")
        r = c.getresponse()
        r.read()
        print(r.getheader("Set-Cookie").split(";")[0])
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("apache did not answer")
EOF
)
duration=10s
[ -n "$quick" ] && duration=3s
header="Cookie: _ga=GA1.2.1234567890.1700000000; $cookie; theme=dark"
for path in full read plain; do
    # One wrk thread, four connections: Apache gets the other core.
    rate=$(wrk -t1 -c4 -d"$duration" -H "$header" "http://127.0.0.1:$port/$path" |
        sed -n 's/^Requests\/sec: *//p')
    errors=$(grep -c 'error' "$work/error.log" || true)
    [ "$errors" -eq 0 ] || { log "apache logged errors:"; cat "$work/error.log" >&2; exit 1; }
    /usr/bin/python3 -c 'import json,sys; r=float(sys.argv[2]); print(json.dumps({"name": sys.argv[1], "ns_per_op": round(1e9/r, 1), "ops_per_sec": round(r), "baseline": None, "ratio": None}))' \
        "apache_session_crypto_$path" "$rate" >>"$results"
done
sed -i 's/apache_session_crypto_plain/apache_no_session_plain/' "$results"

# ---- the comparison --------------------------------------------------------
/usr/bin/python3 - "$results" <<'EOF'
import json, sys

figures = {}
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            figures[d["name"]] = d

def ns(name):
    return figures[name]["ns_per_op"] if name in figures else None

print("\nall figures (ns per request; in-process unless said otherwise)")
for name, d in figures.items():
    print(f"  {name:34} {d['ns_per_op']:>13.1f} ns {d['ops_per_sec']:>10} /s")

rows = [
    # peer, csession figure, target (x faster), note
    ("node_cookie_session_full", "cookie_signed_full", 10, "stretch 20x"),
    ("node_cookie_session_read", "cookie_signed_read", None, ""),
    ("python_itsdangerous_full", "cookie_signed_full", 10, ""),
    ("python_itsdangerous_read", "cookie_signed_read", None, ""),
    ("apache_session_crypto_full", "cookie_xchacha_full", 100, "Apache over HTTP"),
    ("apache_session_crypto_full", "cookie_aes_full", 100, "Apache over HTTP"),
    ("apache_session_crypto_read", "cookie_xchacha_read", None, "Apache over HTTP"),
    ("apache_no_session_plain", "cookie_xchacha_full", None, "HTTP alone, no session"),
    ("node_express_session_redis_full", "redis_full", 10, "one connection"),
    ("node_express_session_redis_full", "redis_full_8t", 10, "csession 8 threads, aggregate"),
]
print("\npeer / csession: how many times faster csession is (same run, same machine)")
print(f"  {'peer':34} {'csession':22} {'peer ns':>11} {'csession ns':>12} {'ratio':>8}  target")
for peer, ours, target, note in rows:
    p, o = ns(peer), ns(ours)
    if p is None or o is None:
        missing = peer if p is None else ours
        print(f"  {peer:34} {ours:22} {'':>11} {'':>12} {'n/a':>8}  ({missing} not measured)")
        continue
    ratio = p / o
    verdict = ""
    if target:
        verdict = f">= {target}x: " + ("met" if ratio >= target else "MISSED")
        if note.startswith("stretch"):
            verdict += f" ({note}: " + ("met" if ratio >= 20 else "missed") + ")"
            note = ""
    extra = f"  [{note}]" if note else ""
    print(f"  {peer:34} {ours:22} {p:>11.1f} {o:>12.1f} {ratio:>7.1f}x  {verdict}{extra}")
EOF
