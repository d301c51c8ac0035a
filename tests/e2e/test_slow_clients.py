#!/usr/bin/env python3
"""Slow clients cannot starve examples/server.

usage: test_slow_clients.py PATH/TO/session_server

A slow client opens a connection, sends part of a request and then waits,
holding a connection (and a file descriptor) of the server. The server must
go on serving a normal client (from 127.0.0.1) within a short deadline:

- many slow connections from one address: the server keeps no more than
  --max-conns-per-ip of them and closes the rest, while other addresses are
  served (and that address is refused);
- many slow connections spread over 127.0.0.0/8, each address under the
  per-address limit: the server holds every one of them, more than
  select()'s FD_SETSIZE and more than a soft limit of 1024 open files (it is
  started under one), and still serves;
- idle connections are closed after --idle-timeout seconds.

Slow connections are bound to 127.0.0.2 and up (Linux routes all of
127.0.0.0/8 to the loopback interface). Standard library only; waits are
for events (a reply, a closed connection) with deadlines, never sleeps.
"""
import http.client
import os
import resource
import select
import socket
import sys
import tempfile
import time
import shutil
import subprocess

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as e2e  # noqa: E402  (the Server process helper)

# More connections than libmicrohttpd's default limit (FD_SETSIZE - 4 = 1020)
# and than a default soft limit of 1024 open files.
SLOW = 1200
# A normal request must be answered within this many seconds.
DEADLINE = 5.0
# Partial request: the headers never end.
PARTIAL = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Wait: "

check = e2e.check
Failure = e2e.Failure


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, need))
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        raise Failure("this test needs %d open files; the hard limit is %d" % (need, hard))


def start_server(*args, soft_nofile=None):
    """The server, started under a soft open-files limit of soft_nofile (as
    a default system would give it) when not None."""
    if soft_nofile is None:
        return e2e.Server("--insecure", *args)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft_nofile, hard))
    try:
        return e2e.Server("--insecure", *args)  # inherits the lower limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_slow(port, sources):
    """One slow connection per entry of sources (a source address)."""
    conns = []
    for src in sources:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(PARTIAL)
        except OSError:
            pass  # closed by the server already: counted as closed below
        conns.append(s)
    return conns


def closed_by_server(s):
    """True once the server closed s (EOF or reset); never blocks."""
    try:
        return s.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_closed(conns, want, deadline):
    """Waits until at least `want` of conns are closed by the server, or the
    deadline passes; returns the set of closed ones."""
    closed = set()
    end = time.monotonic() + deadline
    while len(closed) < want:
        left = end - time.monotonic()
        if left <= 0:
            break
        pending = [s for s in conns if s not in closed]
        # select() takes at most FD_SETSIZE descriptors: poll instead.
        p = select.poll()
        for s in pending:
            p.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
        by_fd = {s.fileno(): s for s in pending}
        for fd, _ in p.poll(left * 1000):
            if closed_by_server(by_fd[fd]):
                closed.add(by_fd[fd])
    return closed


def still_open(conns):
    p = select.poll()
    for s in conns:
        p.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
    ready = {fd for fd, _ in p.poll(0)}
    return [s for s in conns if s.fileno() not in ready]


def normal_request(port, source="127.0.0.1"):
    """A complete GET / from `source`, answered within DEADLINE seconds."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE,
                                      source_address=(source, 0))
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise Failure("a normal client from %s was not served within %.0f s: %r"
                      % (source, DEADLINE, e))
    finally:
        conn.close()
    took = time.monotonic() - start
    check(resp.status == 200, "GET / answered %d: %r" % (resp.status, body))
    check(took < DEADLINE, "GET / took %.2f s" % took)
    return took


def refused(port, source):
    """True when the server closes a connection from source without a reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(DEADLINE)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return s.recv(4096) == b""
    except socket.timeout:
        raise Failure("no answer and no close for %s within %.0f s" % (source, DEADLINE))
    except OSError:
        return True
    finally:
        s.close()


def close_all(conns):
    for s in conns:
        s.close()


def open_fds(pid):
    path = "/proc/%d/fd" % pid
    return len(os.listdir(path)) if os.path.isdir(path) else None


def one_address():
    """SLOW connections from 127.0.0.2: all but --max-conns-per-ip are closed."""
    limit = 16
    print("== %d slow connections from one address, --max-conns-per-ip %d" % (SLOW, limit))
    started = time.monotonic()
    srv = start_server("--max-conns-per-ip", str(limit), "--idle-timeout", "120")
    conns = []
    stopped = False
    try:
        conns = open_slow(srv.port, ["127.0.0.2"] * SLOW)
        closed = wait_closed(conns, SLOW - limit, 30)
        kept = still_open(conns)
        check(len(closed) >= SLOW - limit,
              "only %d of %d connections from 127.0.0.2 were refused" % (len(closed), SLOW))
        check(len(kept) == limit, "%d connections from 127.0.0.2 kept, want %d"
              % (len(kept), limit))
        took = normal_request(srv.port)
        check(refused(srv.port, "127.0.0.2"), "127.0.0.2 was served past its limit")
        close_all(conns)
        log = srv.stop()
        stopped = True
        # libmicrohttpd writes a line per refused connection: the server
        # lets through at most 20 a second (and a count of the others).
        seconds = int(time.monotonic() - started) + 1
        lines = sum(1 for line in log.splitlines() if "libmicrohttpd:" in line)
        check(lines <= 21 * (seconds + 1), "%d lines of libmicrohttpd messages in %d s"
              % (lines, seconds))
        check("messages dropped" in log, "no count of dropped messages in the log")
        print("   kept %d, closed %d; 127.0.0.1 served in %.3f s; 127.0.0.2 refused; "
              "%d log lines" % (len(kept), len(closed), took, lines))
    finally:
        close_all(conns)
        if not stopped:
            srv.stop()


def many_addresses():
    """SLOW connections over 127.0.0.2..: all held, under a soft limit of 1024."""
    per = 20
    sources = ["127.0.0.%d" % (2 + i // per) for i in range(SLOW)]
    print("== %d slow connections from %d addresses, server started with a soft limit "
          "of 1024 open files" % (SLOW, SLOW // per))
    srv = start_server("--idle-timeout", "120", soft_nofile=1024)
    conns = []
    try:
        conns = open_slow(srv.port, sources)
        took = normal_request(srv.port)
        kept = still_open(conns)
        check(len(kept) == SLOW, "the server closed %d of the %d slow connections"
              % (SLOW - len(kept), SLOW))
        fds = open_fds(srv.proc.pid)
        if fds is not None:
            check(fds > SLOW, "the server has %d descriptors open, want over %d" % (fds, SLOW))
        took_again = normal_request(srv.port)
        print("   all %d held (server descriptors: %s); 127.0.0.1 served in %.3f s, %.3f s"
              % (len(kept), fds, took, took_again))
    finally:
        close_all(conns)
        srv.stop()


def idle_timeout():
    """Idle connections are closed after --idle-timeout seconds."""
    n = 50
    print("== %d idle connections, --idle-timeout 1" % n)
    srv = start_server("--idle-timeout", "1")
    conns = []
    try:
        start = time.monotonic()
        conns = open_slow(srv.port, ["127.0.0.3"] * n)
        closed = wait_closed(conns, n, 15)
        took = time.monotonic() - start
        check(len(closed) == n, "%d of %d idle connections closed within 15 s"
              % (len(closed), n))
        check(took >= 0.9, "idle connections closed after %.2f s, before the timeout" % took)
        normal_request(srv.port)
        print("   all closed after %.2f s" % took)
    finally:
        close_all(conns)
        srv.stop()


def flags():
    """The new flags are checked and documented."""
    print("== flags")
    for bad in (["--max-conns-per-ip", "0"], ["--max-conns-per-ip", "x"],
                ["--max-conns", "0"], ["--max-conns", "-5"],
                ["--idle-timeout", "0"], ["--idle-timeout", "100000"]):
        p = subprocess.run([e2e.SERVER, *bad], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2, "%s: exit %d, want 2" % (bad, p.returncode))
        check(bad[0] in p.stderr, "%s: message %r" % (bad, p.stderr))
    p = subprocess.run([e2e.SERVER, "--help"], capture_output=True, text=True, timeout=30)
    for flag in ("--max-conns-per-ip", "--max-conns ", "--idle-timeout"):
        check(flag in p.stdout, "--help does not mention %s" % flag)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    e2e.SERVER = os.path.abspath(sys.argv[1])
    e2e.WORK = tempfile.mkdtemp(prefix="csession-slow-")
    try:
        raise_nofile(SLOW + 256)
        flags()
        one_address()
        many_addresses()
        idle_timeout()
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(e2e.WORK, ignore_errors=True)
    print("slow clients: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
