#!/usr/bin/env python3
"""A client that goes away mid-request, against examples/server_h2o.

usage: test_abandon.py PATH/TO/session_server_h2o

On one loop thread with a Redis store, Redis is stopped (SIGSTOP) for a
second. Meanwhile a client sends a request on its session and closes its
connection before any answer. The server must drop the request (its log
line says "session=abandoned", status 0), keep serving, keep the session
consistent (its counter is 1 or 2: an operation already sent may still
take effect) and exit 0 on SIGTERM - under AddressSanitizer that includes
no use of the dropped request's memory and no leak.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_servers  # noqa: E402
import test_server as e2e  # noqa: E402
from test_server import Failure, check, raw_get  # noqa: E402
from test_healthz import request, server_on_redis  # noqa: E402

SKIP = 77


def send_and_close(port, cookie, linger):
    """POST /do_something over HTTP/2 (h2c, prior knowledge) with curl, which
    gives up and closes the connection `linger` s later. HTTP/2, as h2o 2.2
    reads an HTTP/1 connection only between requests: there a client that
    went away is noticed when the answer is written, after the store's work
    is done, and nothing is left to abandon."""
    p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", str(linger),
                        "-X", "POST", "-H", "Cookie: " + cookie,
                        "http://127.0.0.1:%d/do_something" % port],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 28, "curl did not time out: %d %r" % (p.returncode, p.stdout))


def abandoned_request():
    print("== a client closes while its request waits for Redis", flush=True)
    redis, srv, cookie = server_on_redis()
    pid = redis.servers[0].proc.pid
    stopped = False
    try:
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        t0 = time.monotonic()
        send_and_close(srv.port, cookie, 0.3)
        # Redis comes back before the store's command timeout (2 s).
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        os.kill(pid, signal.SIGCONT)
        stopped = False

        status, _, body = request(srv.port, "GET", "/healthz")
        check(status == 200 and body == "ok\n", "/healthz after the abandon: %d" % status)
        r = raw_get(srv.port, "/", cookie)
        check(r.status == 200, "the session after the abandon: %r" % r)
        counter = r.json()["counter"]
        check(counter in (1, 2), "counter after the abandon: %r" % counter)
        # The session still takes changes.
        status, _, body = request(srv.port, "POST", "/do_something", {"Cookie": cookie})
        check(status == 200 and '"counter": %d' % (counter + 1) in body,
              "after the abandon: %d %r" % (status, body))
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        try:
            err = srv.stop()
        finally:
            redis.stop()
    check(re.search(r"^POST /do_something 0 [0-9.]+ms session=abandoned$", err, re.M),
          "no log line of an abandoned request:\n" + err[-2000:])
    print("   the request was abandoned; the session's counter is %d" % counter)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not redis_servers.available():
        print("abandon: skipped (redis-server or redis-cli missing)")
        return SKIP
    e2e.SERVER = os.path.abspath(sys.argv[1])
    e2e.WORK = tempfile.mkdtemp(prefix="csession-e2e-abandon-")
    try:
        abandoned_request()
    except (Failure, OSError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(e2e.WORK, ignore_errors=True)
    print("abandon: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
