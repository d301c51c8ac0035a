#!/usr/bin/env bash
# The two demo servers side by side under wrk on a Redis store:
# session_server (libmicrohttpd, worker threads, blocking calls) and
# session_server_h2o (h2o, event loops, non-blocking calls).
#
# usage: bench/wrk_demo.sh [BUILD_DIR]     (default: build)
#
# Environment: CONNS (64), THREADS (2: server threads and wrk threads),
# DURATION (10s), PORT_BASE (33700: Redis on it, the servers on the next two).
#
# It starts its own redis-server (no persistence) in a temporary directory
# and each server with --store redis://, then runs two loads per server:
#   read   GET / with one session's cookie: one Redis read per request;
#   write  POST /do_something without a cookie: a new session, one write.
# Printed: requests/s and the 99th percentile latency of each, one line per
# load with both servers. Needs wrk, redis-server and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
conns=${CONNS:-64}
threads=${THREADS:-2}
duration=${DURATION:-10s}
base=${PORT_BASE:-33700}
mhd="$build/examples/server/session_server"
h2o="$build/examples/server_h2o/session_server_h2o"
for tool in wrk redis-server curl; do
    command -v "$tool" >/dev/null || { echo "wrk_demo: $tool is needed" >&2; exit 1; }
done
for bin in "$mhd" "$h2o"; do
    [ -x "$bin" ] || { echo "wrk_demo: $bin is not built" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

redis-server --port "$base" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$work/redis.log" 2>&1 &
pids+=($!)
url="redis://127.0.0.1:$base"

# start NAME BINARY PORT [FLAGS...]: the server in the background, once it
# listens.
start() {
    local name=$1 bin=$2 port=$3
    shift 3
    "$bin" --port "$port" --store "$url" --insecure --threads "$threads" "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "Stop it with" "$work/$name.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "wrk_demo: $name did not start:" >&2
    cat "$work/$name.log" >&2
    exit 1
}

# load NAME PORT KIND: "<requests/s> <p99>" of one wrk run.
load() {
    local target="http://127.0.0.1:$2"
    local args=(-c "$conns" -t "$threads" -d "$duration" --latency)
    if [ "$3" = read ]; then
        local cookie
        cookie=$(curl -s -D - -o /dev/null -X POST "$target/do_something" |
                 sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
        wrk "${args[@]}" -H "Cookie: $cookie" "$target/" >"$work/wrk.out"
    else
        printf 'wrk.method = "POST"\n' >"$work/post.lua"
        wrk "${args[@]}" -s "$work/post.lua" "$target/do_something" >"$work/wrk.out"
    fi
    local rps p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
    errors=$(awk '/Non-2xx|Socket errors/' "$work/wrk.out")
    [ -z "$errors" ] || echo "wrk_demo: $1 $3: $errors" >&2
    echo "$rps $p99"
}

# wrk's connections all come from one address: lift session_server's limit
# per address (32), which would close the others at once.
start session_server "$mhd" $((base + 1)) --max-conns-per-ip $((conns * 2))
start session_server_h2o "$h2o" $((base + 2))
echo "wrk -c $conns -t $threads -d $duration, servers with --threads $threads, Redis $(redis-server --version | awk '{print $3}')"
printf '%-6s  %28s  %28s\n' load "session_server (req/s, p99)" "session_server_h2o (req/s, p99)"
for kind in read write; do
    read -r m_rps m_p99 <<<"$(load session_server $((base + 1)) "$kind")"
    read -r h_rps h_p99 <<<"$(load session_server_h2o $((base + 2)) "$kind")"
    printf '%-6s  %18s %9s  %18s %9s\n' "$kind" "$m_rps" "$m_p99" "$h_rps" "$h_p99"
done
