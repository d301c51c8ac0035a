#!/usr/bin/env python3
"""Session lifetimes over HTTP against the demo server (examples/server):
--absolute-ttl, --touch-after, --rotate-every, --rotate-grace, "remember": true
at POST /login, and GET /session with the public id and times.

Usage: test_lifetimes.py path/to/session_server

Timeouts here run on the real clock, so they are a few seconds long: a test
waits for the clock to pass a deadline, never for the server.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as demo  # noqa: E402  (the server harness: Server, check, curl)
from test_server import Failure, check, cookie_value, curl  # noqa: E402

LOGIN = json.dumps({"user_id": "alice"})
REMEMBER = json.dumps({"user_id": "alice", "remember": True})


def wait_until(deadline):
    """Lets the wall clock pass `deadline` (time.time() seconds)."""
    while time.time() < deadline:
        time.sleep(min(0.1, max(0.0, deadline - time.time())))


def max_age(set_cookie):
    for part in set_cookie.split(";"):
        part = part.strip()
        if part.startswith("Max-Age="):
            return int(part[len("Max-Age="):])
    return None


def login(srv, body=LOGIN):
    r = curl(srv.base + "/login", None, "POST", data=body)
    check(r.status == 200, "login: %d %s" % (r.status, r.body))
    sc = r.set_cookies()
    check(len(sc) == 1, "login sets one cookie: %r" % sc)
    return sc[0]


def session(srv, cookie):
    return curl(srv.base + "/session", None, cookie=cookie)


def bad_flags():
    print("== lifetime flags: refused values", flush=True)
    for flag in ("--absolute-ttl", "--touch-after", "--rotate-every", "--rotate-grace"):
        for value in ("abc", "-1", "34560001"):
            try:
                demo.Server("--insecure", flag, value)
            except Failure:
                continue
            raise Failure("%s %s was accepted" % (flag, value))


def public_id_and_remember_me():
    print("== GET /session, remember me", flush=True)
    srv = demo.Server("--insecure")
    try:
        r = curl(srv.base + "/session")
        check(r.status == 401 and r.json()["id"] is None, "no session: %d %s" % (r.status, r.body))
        before = int(time.time())
        plain = login(srv)
        check(max_age(plain) is None, "browser session by default: " + plain)
        s = session(srv, "id=" + cookie_value(plain)).json()
        check(len(s["id"]) == 22 and s["persistent"] is False, "plain session: %r" % s)
        check(before <= s["created"] <= time.time() and s["last_seen"] >= s["created"],
              "times: %r" % s)
        check(s["id"] not in plain, "the public id is not in the cookie")
        remembered = login(srv, REMEMBER)
        check(max_age(remembered) == 2592000, "remember me: " + remembered)
        t = session(srv, "id=" + cookie_value(remembered)).json()
        check(t["persistent"] is True and t["id"] != s["id"], "remembered session: %r" % t)
        # a later change keeps the choice
        r = curl(srv.base + "/do_something", None, "POST",
                 cookie="id=" + cookie_value(remembered))
        check(max_age(r.set_cookies()[0]) == 2592000, "later commit: %r" % r.set_cookies())
    finally:
        srv.stop()
    srv = demo.Server("--insecure", "--absolute-ttl", "100")
    try:
        check(max_age(login(srv, REMEMBER)) == 100, "remember me capped by --absolute-ttl")
    finally:
        srv.stop()


def start_of_second():
    """Waits for the wall clock's next second to begin: the server counts
    lifetimes in whole seconds, so a scenario started just before a second
    boundary would see a second pass at once."""
    wait_until(int(time.time()) + 1.02)


def absolute_timeout():
    print("== --absolute-ttl", flush=True)
    srv = demo.Server("--insecure", "--absolute-ttl", "2")
    try:
        start_of_second()
        made = time.time()
        cookie = "id=" + cookie_value(login(srv))
        check(session(srv, cookie).status == 200, "alive at first")
        wait_until(made + 2.5)
        check(session(srv, cookie).status == 401, "alive past --absolute-ttl")
    finally:
        srv.stop()


def throttled_touch(store):
    print("== --touch-after (%s)" % store, flush=True)
    srv = demo.Server("--insecure", "--persistent", "--touch-after", "60", "--store", store)
    try:
        r = curl(srv.base + "/do_something", None, "POST")
        cookie = "id=" + cookie_value(r.set_cookies()[0])
        for _ in range(3):
            r = curl(srv.base + "/", None, cookie=cookie)
            check(r.status == 200 and r.json()["counter"] == 1, "read: %s" % r.body)
            check(r.set_cookies() == [], "Set-Cookie within the touch interval: %r"
                  % r.set_cookies())
    finally:
        srv.stop()


def rotation():
    print("== --rotate-every, --rotate-grace", flush=True)
    srv = demo.Server("--insecure", "--rotate-every", "1", "--rotate-grace", "2")
    try:
        start_of_second()
        made = time.time()
        old = "id=" + cookie_value(login(srv))
        first = session(srv, old).json()
        wait_until(made + 1.2)
        r = session(srv, old)
        check(r.status == 200 and len(r.set_cookies()) == 1, "rotation: %r" % r.set_cookies())
        new = "id=" + cookie_value(r.set_cookies()[0])
        check(new != old and r.json()["id"] == first["id"], "same session, new key")
        retired = time.time()
        r = curl(srv.base + "/do_something", None, "POST", cookie=new)
        check(r.json()["counter"] == 1, "write with the new key")
        r = curl(srv.base + "/", None, cookie=old)  # within grace: the latest state
        check(r.json()["counter"] == 1 and r.json()["user_id"] == "alice",
              "old key within grace: %s" % r.body)
        wait_until(retired + 2.5)
        check(session(srv, old).status == 401, "old key after grace")
        check(session(srv, new).status == 401, "new key after theft detection")
    finally:
        srv.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    demo.SERVER = os.path.abspath(sys.argv[1])
    if not shutil.which("curl"):
        print("curl is needed (apt-get install curl)", file=sys.stderr)
        return 1
    demo.WORK = tempfile.mkdtemp(prefix="csession-e2e-lifetimes-")
    try:
        bad_flags()
        public_id_and_remember_me()
        absolute_timeout()
        throttled_touch("memory")
        throttled_touch("cookie")
        rotation()
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(demo.WORK, ignore_errors=True)
    print("e2e lifetimes: all passed (%d curl requests)" % demo.CURL_COUNT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
