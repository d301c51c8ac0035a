#!/usr/bin/env python3
"""The demo server on the SQLite store: several server processes, one file.

usage: test_sqlite_demo.py PATH/TO/session_server

- two servers on one database file (and one cookie key): a login on one is
  seen by the other, and so are its changes and its logout;
- both servers at once, 8 clients each, incrementing one session: every
  answer 200 and no increment lost;
- a restart of every server keeps the sessions;
- the file is created with mode 0600;
- a path that cannot be opened stops the server with a clear message.
Standard library only; servers are stopped by PID (test_server.Server).
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_concurrency as par  # noqa: E402  (Client, run_threads, pair, counter_of)
import test_server as demo  # noqa: E402  (the server harness: Server, check, Failure)
from test_server import Failure, Server, check  # noqa: E402

CLIENTS = 8
REQUESTS = 100


def request(port, method, path, cookie=None, body=None):
    c = par.Client(port, cookie)
    try:
        return c.request(method, path, body)
    finally:
        c.close()


state = par.counter_of
pair = par.pair


def start(db, key, *extra):
    return Server("--store", "sqlite:" + db, "--insecure", *extra, env={"CSESSION_KEY": key})


def shared_login(a, b):
    status, set_cookie, _ = request(a.port, "POST", "/login", body='{"user_id": "alice"}')
    check(status == 200 and set_cookie, "login on A: %d" % status)
    cookie = pair(set_cookie)
    s = state(b.port, cookie)
    check(s["user_id"] == "alice", "B does not see A's login: %r" % s)
    for _ in range(3):
        status, sc, _ = request(b.port, "POST", "/do_something", cookie)
        check(status == 200, "increment on B: %d" % status)
        if sc:
            cookie = pair(sc)
    s = state(a.port, cookie)
    check(s == {"user_id": "alice", "counter": 3}, "A does not see B's increments: %r" % s)
    print("   a login on one server is seen by the other, and so are its changes")
    return cookie


def parallel_increments(servers, cookie):
    before = state(servers[0].port, cookie)["counter"]
    statuses = {}
    lock = threading.Lock()
    start_line = threading.Barrier(CLIENTS * len(servers))

    def client(i):
        c = par.Client(servers[i % len(servers)].port, cookie)
        start_line.wait()
        mine = {}
        for _ in range(REQUESTS):
            status, _, _ = c.request("POST", "/do_something")
            mine[status] = mine.get(status, 0) + 1
        c.close()
        with lock:
            for k, v in mine.items():
                statuses[k] = statuses.get(k, 0) + v

    par.run_threads(CLIENTS * len(servers), client)
    ok = statuses.get(200, 0)
    after = state(servers[1].port, cookie)["counter"]
    print("   %d processes x %d clients x %d increments on one session: %r, counter %d -> %d"
          % (len(servers), CLIENTS, REQUESTS, statuses, before, after))
    check(ok == len(servers) * CLIENTS * REQUESTS, "not every answer was 200: %r" % statuses)
    check(after == before + ok, "counter %d after %d acknowledged increments from %d"
          % (after, ok, before))
    return after


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    demo.SERVER = os.path.abspath(sys.argv[1])
    demo.WORK = tempfile.mkdtemp(prefix="csession-e2e-sqlite-")
    db = os.path.join(demo.WORK, "sessions.db")
    key = os.urandom(64).hex()
    servers = []
    try:
        print("== two demo servers on one SQLite file")
        servers = [start(db, key, "--threads", "4"), start(db, key, "--threads", "4")]
        a, b = servers
        check(stat.S_IMODE(os.stat(db).st_mode) == 0o600,
              "database file mode %o" % stat.S_IMODE(os.stat(db).st_mode))
        cookie = shared_login(a, b)
        counter = parallel_increments(servers, cookie)
        for srv in servers:
            err = srv.stop()
            check("session=conflict" not in err, "a request ran out of retries:\n" + err[-2000:])
        servers = []

        print("== after a restart")
        servers = [start(db, key)]
        s = state(servers[0].port, cookie)
        check(s == {"user_id": "alice", "counter": counter},
              "the session did not survive the restart: %r" % s)
        servers.append(start(db, key))
        status, _, _ = request(servers[1].port, "POST", "/logout", cookie)
        check(status == 200, "logout: %d" % status)
        for srv in servers:
            s = state(srv.port, cookie)
            check(s["user_id"] is None and s["counter"] == 0,
                  "a logout on one server is not final on all: %r" % s)
        print("   sessions survive a restart; a logout on one server ends them on all")
        for srv in servers:
            srv.stop()
        servers = []

        print("== a database file that cannot be opened")
        try:
            srv = start(os.path.join(demo.WORK, "missing", "dir", "x.db"), key)
            servers.append(srv)
            raise Failure("the server started on a path it cannot open")
        except Failure as e:
            check("cannot open or create the file" in str(e), "unclear message: %s" % e)
        print("   the server refuses to start and says why")
    except (Failure, OSError, subprocess.SubprocessError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        for srv in servers:
            try:
                srv.stop()
            except Failure:
                pass
        shutil.rmtree(demo.WORK, ignore_errors=True)
    print("sqlite demo: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
