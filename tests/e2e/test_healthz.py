#!/usr/bin/env python3
"""GET /healthz on a demo server (examples/server or examples/server_h2o).

usage: test_healthz.py PATH/TO/SERVER            the route itself
       test_healthz.py PATH/TO/SERVER --stalled   while Redis is stopped

The route: 200 "ok" as text/plain, HEAD too, 405 for other methods, no
Set-Cookie whatever the request carries, and no store call: it answers on a
Redis store whose server does not exist, where a session route answers 500.

--stalled (for a server on an event loop): a real Redis server is stopped
with SIGSTOP for 3 s while a session request waits for it on the server's
only loop thread. /healthz must keep answering within 50 ms all along (the
worst time is printed), and the session request must end with 500 once the
store's command timeout passes. A store that blocks the loop (one without
non-blocking members) holds /healthz until the session request has failed:
then the test says so and exits 77 (skipped), as that build cannot pass it.
"""
import http.client
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_servers  # noqa: E402
import test_server as e2e  # noqa: E402
from test_server import Failure, Server, check, raw_get  # noqa: E402

STALL_SECONDS = 3.0
WORST_MS = 50.0
SKIP = 77


def request(port, method, path, headers=None, timeout=15):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((n.lower(), v) for n, v in r.getheaders()), r.read().decode()
    finally:
        conn.close()


def server_on_redis():
    """A Redis server of its own, a demo server on it with one loop thread,
    and the cookie of a session made there (counter 1)."""
    redis = redis_servers.Single()
    srv = None
    try:
        srv = Server("--insecure", "--store", redis.url, "--threads", "1")
        status, headers, _ = request(srv.port, "POST", "/do_something")
        check(status == 200, "first request: %d" % status)
        return redis, srv, headers["set-cookie"].split(";", 1)[0]
    except BaseException:
        try:
            if srv:
                srv.stop()
        finally:
            redis.stop()
        raise


def dead_port():
    """A loopback port nothing listens on (bound and released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def the_route():
    print("== /healthz: answer, methods, no cookie", flush=True)
    srv = Server("--insecure")
    try:
        status, headers, body = request(srv.port, "GET", "/healthz")
        check(status == 200 and body == "ok\n", "GET /healthz: %d %r" % (status, body))
        check(headers.get("content-type", "").startswith("text/plain"),
              "content type: %r" % headers.get("content-type"))
        check("set-cookie" not in headers, "GET /healthz set a cookie")
        status, headers, body = request(srv.port, "HEAD", "/healthz")
        check(status == 200 and body == "", "HEAD /healthz: %d %r" % (status, body))
        status, headers, _ = request(srv.port, "POST", "/healthz")
        check(status == 405 and headers.get("allow") == "GET, HEAD", "POST /healthz: %d" % status)
        # A live session's cookie is neither read nor re-sent.
        status, headers, _ = request(srv.port, "POST", "/do_something")
        cookie = headers["set-cookie"].split(";", 1)[0]
        r = raw_get(srv.port, "/healthz", cookie)
        check(r.status == 200 and r.header("set-cookie") is None, "/healthz with a cookie: %r" % r)
    finally:
        err = srv.stop()
    check(any(l.startswith("GET /healthz 200 ") and l.endswith(" session=-")
              for l in err.splitlines()), "no log line for /healthz:\n" + err[-2000:])

    print("== /healthz: no store call (Redis store, no Redis server)", flush=True)
    srv = Server("--insecure", "--store", "redis://127.0.0.1:%d" % dead_port())
    try:
        status, _, body = request(srv.port, "GET", "/healthz")
        check(status == 200 and body == "ok\n", "/healthz without a store: %d %r" % (status, body))
        status, _, _ = request(srv.port, "POST", "/do_something", timeout=30)
        check(status == 500, "a session route without its store answered %d" % status)
    finally:
        srv.stop()


def stalled_store():
    """Returns 0 (passed) or SKIP; raises Failure."""
    if not redis_servers.available():
        print("== stalled store: skipped (redis-server or redis-cli missing)")
        return SKIP
    print("== /healthz while Redis is stopped for %.0f s" % STALL_SECONDS, flush=True)
    redis, srv, cookie = server_on_redis()
    pid = redis.servers[0].proc.pid
    stopped = False
    try:
        outcome = {}

        def session_request():
            t0 = time.monotonic()
            try:
                outcome["status"] = request(srv.port, "GET", "/", {"Cookie": cookie}, 60)[0]
            except Exception as e:  # reported below
                outcome["error"] = repr(e)
            outcome["seconds"] = time.monotonic() - t0
            outcome["ended"] = time.monotonic()

        os.kill(pid, signal.SIGSTOP)
        stopped = True
        stall_end = time.monotonic() + STALL_SECONDS
        t = threading.Thread(target=session_request)
        t.start()
        # Let the session request reach the loop before measuring.
        time.sleep(0.2)
        times = []
        answered_at = []
        while time.monotonic() < stall_end:
            t0 = time.monotonic()
            status, _, body = request(srv.port, "GET", "/healthz", timeout=30)
            t1 = time.monotonic()
            check(status == 200 and body == "ok\n", "/healthz during the stall: %d" % status)
            times.append((t1 - t0) * 1000.0)
            answered_at.append(t1)
            time.sleep(0.05)
        t.join(60)
        os.kill(pid, signal.SIGCONT)
        stopped = False
        check("error" not in outcome, "session request: %s" % outcome.get("error"))
        worst = max(times)
        print("   /healthz: %d requests during the stall, worst %.1f ms; session request: %d "
              "after %.2f s" % (len(times), worst, outcome["status"], outcome["seconds"]))
        if worst > 1000.0 and answered_at[0] >= outcome["ended"] - 0.05:
            print("   SKIP: /healthz waited for the session request: this build's store "
                  "blocks the event loop (it needs the non-blocking Redis store)")
            return SKIP
        check(outcome["status"] == 500, "the stalled session request answered %d, not 500"
              % outcome["status"])
        check(worst <= WORST_MS, "/healthz took %.1f ms during the stall (at most %.0f)"
              % (worst, WORST_MS))
        # Redis is back: the session is still there.
        status, _, body = request(srv.port, "GET", "/", {"Cookie": cookie})
        check(status == 200 and '"counter": 1' in body, "after the stall: %d %r" % (status, body))
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        try:
            srv.stop()
        finally:
            redis.stop()
    return 0


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--stalled"):
        print(__doc__, file=sys.stderr)
        return 2
    e2e.SERVER = os.path.abspath(sys.argv[1])
    e2e.WORK = tempfile.mkdtemp(prefix="csession-e2e-healthz-")
    try:
        if len(sys.argv) == 3:
            rc = stalled_store()
        else:
            the_route()
            rc = 0
    except (Failure, OSError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(e2e.WORK, ignore_errors=True)
    if rc == 0:
        print("healthz: all passed")
    return rc


if __name__ == "__main__":
    sys.exit(main())
