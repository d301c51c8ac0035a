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
#                         csession's Redis figures); one request at a time
#                         (against csession on one connection) and 8 in
#                         flight (against csession's 8 threads)
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
# A shared machine moves a figure by up to a third from one minute to the
# next, so the figures are taken in rounds: in each round every csession
# figure is measured right next to the peers it is compared with (csession
# first in odd rounds, last in even ones, so that a drift does not always
# favour the same side), and each round gives its own peer / csession ratio.
# The table shows the median ratio over the rounds with its range, and the
# targets are judged on that median (and counted per round).
#
# usage: bench/peers/run.sh [--quick] [--rounds N] [--json FILE] [--redis URL]
#                           [--no-redis] [--build DIR]
#   --quick      shorter runs (csession-bench --quick, wrk 3 s), 2 rounds
#   --rounds N   rounds to run (default 3; 2 with --quick)
#   --json FILE  also write every round's figures, the medians and the
#                verdicts to FILE as one JSON document
#   --redis URL  use this Redis server instead of starting one
#   --no-redis   skip the Redis figures
#   --build DIR  where to build csession-bench (default build-peers)
# Takes about 1.5 minutes per round (30 s with --quick) after the build.
# Installs what it needs: Debian packages through scripts/deps.sh, npm
# packages into bench/peers/node_modules (versions fixed by package.json).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quick=""
rounds=""
json_out=""
redis_url=""
no_redis=0
build="$root/build-peers"
usage() { sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;/^set -eu/d' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=--quick ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --json) json_out=${2:?--json needs a file}; shift ;;
    --redis) redis_url=${2:?--redis needs a URL}; shift ;;
    --no-redis) no_redis=1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    *) usage ;;
    esac
    shift
done
case "$rounds" in
"") rounds=3; [ -n "$quick" ] && rounds=2 ;;
*[!0-9]* | 0*) usage ;;
esac
started=$(date +%s)

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

# ---- set-up: csession-bench, Redis, npm packages, Apache -------------------
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

log "npm packages (bench/peers/node_modules)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
    npm install --no-audit --no-fund --loglevel=error >/dev/null)

log "apache mod_session_crypto on 127.0.0.1"
apache_port=$(free_port)
apache_conf="$work/httpd.conf"
sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$apache_port|g" "$here/apache/httpd.conf.in" >"$apache_conf"
cp "$here/apache/handler.lua" "$work/handler.lua"
apache2 -f "$apache_conf" -k start
cookie=$(/usr/bin/python3 - "$apache_port" <<'EOF'
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
apache_header="Cookie: _ga=GA1.2.1234567890.1700000000; $cookie; theme=dark"
wrk_duration=10s
[ -n "$quick" ] && wrk_duration=3s

# ---- the steps of a round: each appends its figures to $results ------------
csession() { # the csession-bench figures whose name contains $1; $2: with Redis
    # shellcheck disable=SC2086
    "$build/bench/csession-bench" --json $quick --only "$1" \
        ${2:+${redis_url:+--redis "$redis_url"}} >>"$results"
}
node_peers() { # the Node figures whose name contains $1
    # shellcheck disable=SC2086
    node "$here/node_peers.js" $quick --only "$1" ${redis_url:+--redis "$redis_url"} >>"$results"
}
itsdangerous() {
    # shellcheck disable=SC2086
    /usr/bin/python3 "$here/itsdangerous_peer.py" $quick >>"$results"
}
apache() { # wrk against /full, /read and /plain
    for path in full read plain; do
        # One wrk thread, four connections: Apache gets the other core.
        rate=$(wrk -t1 -c4 -d"$wrk_duration" -H "$apache_header" \
            "http://127.0.0.1:$apache_port/$path" | sed -n 's/^Requests\/sec: *//p')
        errors=$(grep -c 'error' "$work/error.log" || true)
        [ "$errors" -eq 0 ] || { log "apache logged errors:"; cat "$work/error.log" >&2; exit 1; }
        name=apache_session_crypto_$path
        [ "$path" = plain ] && name=apache_no_session_plain
        /usr/bin/python3 -c 'import json,sys; r=float(sys.argv[2]); print(json.dumps({"name": sys.argv[1], "ns_per_op": round(1e9/r, 1), "ops_per_sec": round(r), "baseline": None, "ratio": None}))' \
            "$name" "$rate" >>"$results"
    done
}

# Runs the steps given (each a command line without ';') in that order in
# odd rounds and in reverse order in even ones.
steps() {
    order=""
    for step in "$@"; do
        if [ $((round % 2)) -eq 1 ]; then order="$order$step;"; else order="$step;$order"; fi
    done
    log "round $round/$rounds: $(printf '%s' "${order%;}" | sed 's/;/, /g')"
    eval "$order"
}

# ---- the rounds -------------------------------------------------------------
# The load averages before and after tell how busy the machine was.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
round=1
round_files=""
while [ "$round" -le "$rounds" ]; do
    results="$work/round-$round.jsonl"
    round_files="$round_files $results"
    steps "csession cookie_signed" "node_peers cookie_session" "itsdangerous"
    if [ -n "$redis_url" ]; then
        # All Redis figures, raw GET + SET included: the most a session
        # library could reach against express-session is judged by them.
        steps "csession redis redis" "node_peers express_session"
    fi
    steps "csession cookie_xchacha" "csession cookie_aes" "apache"
    steps "csession bare_" "csession memory_"
    round=$((round + 1))
done

# ---- the comparison --------------------------------------------------------
# shellcheck disable=SC2086
/usr/bin/python3 "$here/compare.py" ${json_out:+--json "$json_out"} $round_files
elapsed=$(($(date +%s) - started))
log ""
log "$rounds round(s) in $((elapsed / 60)) min $((elapsed % 60)) s, set-up included${json_out:+; JSON in $json_out}"
log "load average (1, 5, 15 min): $load_before before the rounds, $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') after"
