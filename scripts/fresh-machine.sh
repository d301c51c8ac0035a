#!/usr/bin/env bash
# Checks README.md on a fresh Debian 12 machine: makes a minimal Debian 12
# root (debootstrap --variant=minbase bookworm), copies the working tree in
# and runs the README's commands inside it with chroot, as written:
#
#   root   as root: ./scripts/demo.sh, in the background until it answers
#          GET /, the README's curl lines against it, then ./scripts/test.sh
#   user   as a user with passwordless sudo: the "Building against it"
#          lines (packages, build, install, a program linked through
#          pkg-config, shared and static, run without LD_LIBRARY_PATH),
#          then ./scripts/test.sh and ./scripts/demo.sh, in the other order
#   docs   (only when asked for: it takes a quarter of an hour) as that
#          user, ./scripts/test.sh, README's install lines, then every ```sh
#          block of README.md's Performance section and of docs/*.md, each
#          as written
#
# Each phase gets a root of its own, so each starts from nothing. Prints how
# long each step took. Needs root (chroot, mount); installs debootstrap when
# it is missing. Mounts are undone on exit, also after a failure or Ctrl-C.
#
# usage: scripts/fresh-machine.sh [--phase root|user|docs] [--keep]
#   --phase P   run only that phase (default: root, then user)
#   --keep      leave the roots (unmounted) and logs in the work directory
#
# The minimal root is made once and kept as a tarball in
# ${XDG_CACHE_HOME:-~/.cache}/csession-fresh/ (or $CSESSION_FRESH_CACHE),
# beside the Debian packages the roots download, so that a rerun on the same
# machine fetches nothing it already has. The mirror is the one this
# machine's apt uses. As in any chroot, packages do not start services
# (policy-rc.d); the tests start their own redis-server, and the chroot
# shares this machine's network, so everything listens on free ports.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
phases="root user"
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --phase)
            case "${2:-}" in root | user | docs) phases=$2 ;; *) echo "--phase root|user|docs" >&2; exit 2 ;; esac
            shift ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: run as root (it uses chroot and mount)" >&2; exit 1; }

# shellcheck source=scripts/deps.sh
. "$repo/scripts/deps.sh"

cache=${CSESSION_FRESH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/csession-fresh}
base="$cache/bookworm-minbase.tar.gz"
mkdir -p "$cache/apt-archives/partial"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/csession-fresh.XXXXXX")
started=$SECONDS
summary=""

say() { echo "fresh-machine: $*" >&2; }
# note TEXT: a line of the summary printed at the end.
note() { summary="$summary$*"$'\n'; say "$*"; }

# ---- cleaning up: processes in the roots, mounts, the work directory --------

# PIDs of the processes whose root directory is inside the work directory:
# only those this script started in its chroots.
root_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$work"/*) echo "${p#/proc/}" ;; esac
    done
}

stop_root_processes() {
    local pids _
    pids=$(root_pids)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [ -n "$(root_pids)" ] || return 0
        sleep 0.1
    done
    pids=$(root_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

# Mount points under the work directory, deepest first.
work_mounts() { awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r; }

unmount_all() {
    local m
    for m in $(work_mounts); do
        umount "$m" 2>/dev/null || umount -l "$m" || say "cannot unmount $m"
    done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_root_processes
    unmount_all
    if [ -n "$(work_mounts)" ]; then
        say "mounts remain under $work: left in place"
    elif [ "$keep" -eq 1 ]; then
        say "roots and logs kept in $work"
    else
        rm -rf --one-file-system "$work"
    fi
    [ -z "$summary" ] || printf '\n== fresh-machine summary\n%s' "$summary" >&2
    if [ "$rc" -eq 0 ]; then
        say "all steps passed in $((SECONDS - started)) s"
    else
        say "FAILED (exit $rc) after $((SECONDS - started)) s"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the minimal root --------------------------------------------------------

# The first Debian bookworm mirror of this machine's apt sources.
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             { uris = ""; suites = ""
               for (i = 1; i <= NF; i++) {
                   if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                   if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
               }
               if (uris != "" && (" " suites " ") ~ / bookworm /) { split(uris, u, " "); print u[1]; exit } }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                           if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
    done
}

make_base() {
    if [ -s "$base" ]; then
        note "minimal root: cached ($base)"
        return 0
    fi
    local mirror t=$SECONDS
    mirror=$(apt_mirror | head -n 1)
    : "${mirror:=http://deb.debian.org/debian}"
    command -v debootstrap >/dev/null 2>&1 || ensure_packages debootstrap
    say "debootstrap --variant=minbase bookworm from $mirror"
    if ! debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1; then
        cat "$work/debootstrap.log" >&2
        say "debootstrap failed"
        return 1
    fi
    unmount_all # debootstrap may leave its own mounts behind
    tar --numeric-owner -C "$work/bootstrap" -czf "$base.tmp" .
    mv "$base.tmp" "$base"
    rm -rf --one-file-system "$work/bootstrap"
    note "minimal root: made by debootstrap in $((SECONDS - t)) s ($base)"
}

# new_root NAME: unpacks a fresh root, mounts what a chroot needs, and copies
# the working tree (tracked and untracked files that git does not ignore, so
# no build directories) to /src; prints the root's path.
new_root() {
    local r="$work/$1"
    mkdir -p "$r"
    tar --numeric-owner -C "$r" -xzf "$base"
    cp -L /etc/resolv.conf "$r/etc/resolv.conf"
    grep -q "[[:space:]]$(hostname)\$" "$r/etc/hosts" 2>/dev/null ||
        echo "127.0.1.1 $(hostname)" >>"$r/etc/hosts"
    printf '#!/bin/sh\n# no services are started in this chroot\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mount --bind /dev "$r/dev"
    mount --bind /dev/pts "$r/dev/pts"
    mount --bind "$cache/apt-archives" "$r/var/cache/apt/archives"
    mkdir -p "$r/src"
    if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
            done | tar --null -T - -cf -) | tar -C "$r/src" -xf -
    else
        tar -C "$repo" --exclude='./build*' -cf - . | tar -C "$r/src" -xf -
    fi
    echo "$r"
}

# ---- running commands in a root ----------------------------------------------

user=dev
# in_root ROOT WHO: sets `run` to the command line that runs bash in /src of
# ROOT, as root or as the user, with a clean environment.
in_root() {
    local r=$1 who=$2 spec=() home=/root
    if [ "$who" != root ]; then
        spec=(--userspec="$(chroot "$r" id -u "$who"):$(chroot "$r" id -g "$who")"
              --groups="$(chroot "$r" id -g "$who")")
        home=/home/$who
    fi
    run=(chroot "${spec[@]}" "$r" /usr/bin/env -i HOME="$home" USER="$who" LOGNAME="$who"
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb
         /bin/bash -c)
}

# as ROOT WHO COMMAND: runs COMMAND in /src of ROOT, without standard input.
as() {
    local run
    in_root "$1" "$2"
    "${run[@]}" "cd /src && $3" </dev/null
}

# step PHASE LABEL ROOT WHO COMMAND: runs it with its output in a log
# ($step_log), shows the log when it fails, and notes how long it took.
steps=0
step() {
    local phase=$1 label=$2 r=$3 who=$4 cmd=$5 t=$SECONDS
    step_log="$work/$phase-step$((++steps)).log"
    say "[$phase] $label ..."
    if ! as "$r" "$who" "$cmd" >"$step_log" 2>&1; then
        cat "$step_log" >&2
        note "[$phase] $label: FAILED after $((SECONDS - t)) s"
        return 1
    fi
    note "[$phase] $label: $((SECONDS - t)) s"
}

# doc_block FILE HEADING N: the Nth ```sh block of FILE's section HEADING
# (up to the next heading), or of the whole file when HEADING is "".
doc_block() {
    awk -v h="$2" -v n="$3" '
        BEGIN { inside = (h == "") }
        /^```/ { if (fence) { fence = 0; if (want) exit; next }
                 fence = 1; if (inside && $0 ~ /^```sh[ \t]*$/ && ++count == n) want = 1; next }
        fence { if (want) print; next }
        /^#+ / && h != "" { t = $0; sub(/^#+ /, "", t); if (inside) exit; if (t == h) inside = 1 }
    ' "$repo/$1"
}
readme_block() { doc_block README.md "$1" "$2"; }

# run_blocks PHASE ROOT WHO FILE HEADING: runs each ```sh block of the
# section (or file) as written, with `set -ex`, as a step of its own; stops
# at the first that fails, unless keep_going is 1 (then fails at the end).
keep_going=0
run_blocks() {
    local phase=$1 r=$2 who=$3 file=$4 heading=$5 n=1 block failed=0
    while block=$(doc_block "$file" "$heading" "$n") && [ -n "$block" ]; do
        # shellcheck disable=SC2016 # the quotes are text; $heading expands
        if ! step "$phase" "$file${heading:+ '$heading'}, block $n" "$r" "$who" "set -ex
$block"; then
            failed=1
            [ "$keep_going" -eq 1 ] || return 1
        fi
        n=$((n + 1))
    done
    [ "$failed" -eq 0 ] || return 1
    # shellcheck disable=SC2016
    [ "$n" -gt 1 ] || { note "[$phase] $file${heading:+ '$heading'} has no sh block"; return 1; }
}

# A free TCP port on 127.0.0.1 (nothing accepts a connection on it).
free_port() {
    local p i
    for i in $(seq 0 999); do
        p=$((21000 + (RANDOM + i) % 1000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# http_ok PORT: whether GET / on the port answers 200.
http_ok() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        IFS= read -r -t 10 line <&3 || exit 1
        case "$line" in "HTTP/1."?" 200"*) exit 0 ;; *) exit 1 ;; esac
    ) 2>/dev/null
}

demo_pid=""
# demo_start PHASE ROOT WHO COMMAND PORT: starts the demo command in the
# background and waits until it answers GET / (installing and building
# come first), it exits, or 20 minutes pass.
demo_start() {
    local phase=$1 r=$2 who=$3 cmd=$4 port=$5 t=$SECONDS deadline log run
    log="$work/$phase-demo.log"
    deadline=$((SECONDS + 1200))
    say "[$phase] $cmd --port $port (in the background) ..."
    in_root "$r" "$who"
    # chroot, env, bash and the script each exec the next: the PID is the server's.
    "${run[@]}" "cd /src && exec $cmd --port $port" </dev/null >"$log" 2>&1 &
    demo_pid=$!
    until http_ok "$port"; do
        if ! kill -0 "$demo_pid" 2>/dev/null; then
            cat "$log" >&2
            note "[$phase] $cmd: exited without answering GET / ($((SECONDS - t)) s)"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            cat "$log" >&2
            note "[$phase] $cmd: no answer to GET / within $((deadline - t)) s"
            return 1
        fi
        sleep 1
    done
    note "[$phase] $cmd: answered GET / on port $port after $((SECONDS - t)) s"
}

demo_stop() {
    [ -n "$demo_pid" ] || return 0
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
    demo_pid=""
}

# check_curl PHASE ROOT WHO PORT: runs the README's curl lines one by one
# against the demo and compares each answer with the JSON its comment shows.
check_curl() {
    local phase=$1 r=$2 who=$3 port=$4 line cmd expect out n=0 t=$SECONDS
    as "$r" "$who" 'rm -f /tmp/jar.txt'
    while IFS= read -r line; do
        cmd=${line%%[[:space:]]#[[:space:]]*}
        expect=""
        [ "$cmd" = "$line" ] || expect=${line#*[[:space:]]#[[:space:]]}
        cmd=${cmd//127.0.0.1:8080/127.0.0.1:$port}
        out=$(as "$r" "$who" "cd /tmp && $cmd" 2>"$work/curl.err") || {
            cat "$work/curl.err" >&2
            note "[$phase] README curl line failed: $cmd"
            return 1
        }
        case "$expect" in
            "{"*) if [ "$out" != "$expect" ]; then
                      note "[$phase] README curl line: $cmd answered '$out', README says '$expect'"
                      return 1
                  fi ;;
        esac
        n=$((n + 1))
    done < <(readme_block "Try it" 2 | awk '{ if (sub(/\\[ \t]*$/, "")) { held = held $0; next } print held $0; held = "" }')
    [ "$n" -gt 0 ] || { note "[$phase] README has no curl lines under 'Try it'"; return 1; }
    note "[$phase] README's $n curl lines: answers as the README shows ($((SECONDS - t)) s)"
}

# The README's two set-up commands, in its order.
mapfile -t setup < <(readme_block "Try it" 1 | sed 's/[[:space:]]*#.*$//' | grep -v '^[[:space:]]*$')
if [ "${#setup[@]}" -ne 2 ] || [ "${setup[0]}" != ./scripts/demo.sh ] ||
    [ "${setup[1]}" != ./scripts/test.sh ]; then
    say "README's first block under 'Try it' is not './scripts/demo.sh' then './scripts/test.sh':"
    printf '  %s\n' "${setup[@]}" >&2
    exit 1
fi

phase_root() {
    local r port
    r=$(new_root root)
    port=$(free_port)
    demo_start root "$r" root "${setup[0]}" "$port"
    # The demo needs no test packages: cmocka is not there yet.
    if as "$r" root "dpkg-query -W -f='\${Status}' libcmocka-dev 2>/dev/null | grep -q 'install ok installed'"; then
        note "[root] ${setup[0]} installed the test packages (libcmocka-dev)"
        return 1
    fi
    note "[root] ${setup[0]} installed no test package (no libcmocka-dev)"
    check_curl root "$r" root "$port"
    demo_stop
    step root "${setup[1]}" "$r" root "${setup[1]}"
    grep -E '^[0-9]+% tests passed' "$step_log" >&2 || true
}

# add_user PHASE ROOT: sudo, and the user with passwordless sudo owning /src.
add_user() {
    step "$1" "sudo and a user '$user' with passwordless sudo" "$2" root \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null &&
         useradd -m -s /bin/bash $user && echo '$user ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/$user &&
         chmod 440 /etc/sudoers.d/$user && chown -R $user: /src"
}

phase_user() {
    local r port
    r=$(new_root user)
    add_user user "$r"
    run_blocks user "$r" "$user" README.md "Building against it"
    step user "${setup[1]}" "$r" "$user" "${setup[1]}"
    grep -E '^[0-9]+% tests passed' "$step_log" >&2 || true
    port=$(free_port)
    demo_start user "$r" "$user" "${setup[0]}" "$port"
    demo_stop
}

phase_docs() {
    local r f failed=0
    r=$(new_root docs)
    add_user docs "$r"
    step docs "${setup[1]}" "$r" "$user" "${setup[1]}"
    # Every block is tried, so that one failure does not hide the others.
    keep_going=1
    # docs/ assume README's install too (docs/other-languages.md).
    run_blocks docs "$r" "$user" README.md "Building against it" || failed=1
    run_blocks docs "$r" "$user" README.md "Performance" || failed=1
    for f in "$repo"/docs/*.md; do
        f=docs/${f##*/}
        grep -q '^```sh' "$repo/$f" || continue
        run_blocks docs "$r" "$user" "$f" "" || failed=1
    done
    keep_going=0
    [ "$failed" -eq 0 ]
}

make_base
for phase in $phases; do
    "phase_$phase"
    stop_root_processes
    unmount_all
    # A root takes a few GB once built: the next phase does not need it.
    if [ "$keep" -eq 0 ] && [ -z "$(work_mounts)" ]; then
        rm -rf --one-file-system "${work:?}/$phase"
    fi
done
