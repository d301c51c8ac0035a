#!/usr/bin/env python3
"""Parallel requests on one session, over real HTTP against examples/server.

usage: test_concurrency.py PATH/TO/session_server [STORE...]

STORE is memory, sqlite, redis, sentinel or cluster (default: all but sqlite
that can run here; the Redis ones start their own servers). For each store:
- 16 clients send 200 POST /do_something each with one cookie, at once: the
  final counter equals the number of 200 answers, and every answer is 200;
- 20 rounds of a logout in the middle of a flood of requests on the same
  cookie: after the logout nothing of the session loads again, not with the
  old cookie and not with any cookie handed out during the flood.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_servers  # noqa: E402
import test_server as e2e  # noqa: E402
from test_server import Failure, Server, check  # noqa: E402

CLIENTS = 16
REQUESTS = 200
ROUNDS = 20
FLOODERS = 6


class Client:
    """A keep-alive HTTP connection that sends a fixed cookie."""

    def __init__(self, port, cookie):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = cookie

    def request(self, method, path, body=None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read().decode()
        return r.status, r.getheader("Set-Cookie"), data

    def close(self):
        self.conn.close()


def pair(set_cookie):
    return set_cookie.split(";", 1)[0]


def session_cookie(port):
    c = Client(port, None)
    status, set_cookie, _ = c.request("POST", "/do_something")
    c.close()
    check(status == 200 and set_cookie, "first request: %d %r" % (status, set_cookie))
    return pair(set_cookie)


def run_threads(n, target):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # reported by the main thread
            errors.append(e)
    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise Failure("client thread: %r" % errors[0])


def counter_of(port, cookie):
    c = Client(port, cookie)
    status, _, body = c.request("GET", "/")
    c.close()
    check(status == 200, "GET /: %d %r" % (status, body))
    return json.loads(body)


def increments(srv):
    cookie = session_cookie(srv.port)  # counter 1
    statuses = {}
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(_):
        c = Client(srv.port, cookie)
        start.wait()
        mine = {}
        for _ in range(REQUESTS):
            status, _, _ = c.request("POST", "/do_something")
            mine[status] = mine.get(status, 0) + 1
        c.close()
        with lock:
            for k, v in mine.items():
                statuses[k] = statuses.get(k, 0) + v
    run_threads(CLIENTS, client)
    ok = statuses.get(200, 0)
    final = counter_of(srv.port, cookie)["counter"]
    print("   %d x %d increments: %r, final counter %d" % (CLIENTS, REQUESTS, statuses, final))
    check(final == 1 + ok, "counter %d after %d acknowledged increments (+1)" % (final, ok))
    check(ok == CLIENTS * REQUESTS, "not every answer was 200: %r" % statuses)


def logout_during_flood(srv):
    for rnd in range(ROUNDS):
        c = Client(srv.port, None)
        status, set_cookie, _ = c.request("POST", "/login", '{"user_id": "alice"}')
        c.close()
        check(status == 200, "login: %d" % status)
        cookie = pair(set_cookie)
        handed_out = set()
        seen = {}
        lock = threading.Lock()
        logged_out = threading.Event()
        started = threading.Barrier(FLOODERS + 1)

        def flooder(_):
            f = Client(srv.port, cookie)
            started.wait()
            after = 0
            mine = {}
            # Until the logout has answered, and a few requests more.
            while after < 5:
                if logged_out.is_set():
                    after += 1
                status, sc, _ = f.request("POST", "/do_something")
                mine[status] = mine.get(status, 0) + 1
                if sc and "Max-Age=0" not in sc:
                    with lock:
                        handed_out.add(pair(sc))
            f.close()
            with lock:
                for k, v in mine.items():
                    seen[k] = seen.get(k, 0) + v

        def logout():
            started.wait()
            lo = Client(srv.port, cookie)
            for _ in range(3):  # while the flood runs
                lo.request("GET", "/protected/count")
            status, _, _ = lo.request("POST", "/logout")
            lo.close()
            check(status == 200, "logout: %d" % status)
            logged_out.set()

        threads = [threading.Thread(target=flooder, args=(i,)) for i in range(FLOODERS)]
        for t in threads:
            t.start()
        try:
            logout()
        finally:
            logged_out.set()
            for t in threads:
                t.join()
        check(set(seen) <= {200, 401}, "round %d: answers %r" % (rnd, seen))
        for ck in [cookie] + sorted(handed_out):
            state = counter_of(srv.port, ck)
            check(state["user_id"] is None,
                  "round %d: a logged-out session came back under %s: %r" % (rnd, ck[:12], state))
    print("   %d rounds of logout during a flood: never undone" % ROUNDS)


def run(store_name, url):
    print("== parallel requests: store %s" % store_name)
    srv = Server("--store", url, "--insecure", "--threads", "8")
    try:
        increments(srv)
        logout_during_flood(srv)
    finally:
        err = srv.stop()
    check("session=conflict" not in err, "a request ran out of retries:\n" + err[-2000:])


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    e2e.SERVER = os.path.abspath(sys.argv[1])
    e2e.WORK = tempfile.mkdtemp(prefix="csession-e2e-par-")
    stores = sys.argv[2:] or ["memory", "redis", "sentinel", "cluster"]
    try:
        for name in stores:
            if name == "memory":
                run(name, "memory")
                continue
            if name == "sqlite":
                run(name, "sqlite:" + os.path.join(e2e.WORK, "concurrency.db"))
                continue
            if not redis_servers.available():
                print("== %s: skipped (redis-server or redis-cli missing)" % name)
                continue
            topo = {"redis": redis_servers.Single, "sentinel": redis_servers.SentinelGroup,
                    "cluster": redis_servers.Cluster}[name]()
            try:
                run(name, topo.url)
            finally:
                topo.stop()
    except (Failure, OSError, subprocess.SubprocessError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(e2e.WORK, ignore_errors=True)
    print("parallel requests: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
