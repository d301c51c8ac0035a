#!/usr/bin/env bash
# The redis-server shared by the Redis tests (a ctest fixture).
#
# usage: fixture.sh start STATE_DIR   start redis-server on a free 127.0.0.1 port
#                                     in a new temporary directory; write the port
#                                     to STATE_DIR/port once it answers PING
#        fixture.sh stop STATE_DIR    stop it and remove the temporary directory
set -euo pipefail

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { sed -n '4,8p' "$0" >&2; exit 2; }

stop() {
    [ -f "$state/dir" ] || return 0
    dir=$(cat "$state/dir")
    if [ -f "$dir/redis.pid" ]; then
        pid=$(cat "$dir/redis.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    rm -f "$state/dir" "$state/port"
}

# Something already listens on the port (bash's /dev/tcp connects).
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
    mkdir -p "$state"
    stop # a server left over by an interrupted run
    # Physical path: the server reports its directory with symlinks resolved.
    dir=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/csession-redis.XXXXXX")" && pwd -P)
    echo "$dir" >"$state/dir"
    for _ in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        port_busy "$port" && continue
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
            --logfile "$dir/redis.log" || continue
        for _ in $(seq 100); do
            # Ours answers with our directory; another server that won the
            # port meanwhile would not.
            if [ "$(redis-cli -p "$port" --raw CONFIG GET dir 2>/dev/null | sed -n 2p)" = "$dir" ]; then
                echo "$port" >"$state/port"
                echo "redis-server on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"), dir $dir)"
                return 0
            fi
            sleep 0.05
        done
        [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    done
    echo "could not start redis-server; its log:" >&2
    cat "$dir/redis.log" >&2 || true
    exit 1
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "unknown command: $cmd" >&2; exit 2 ;;
esac
