#!/usr/bin/env python3
"""End-to-end test of examples/server: real HTTP, curl and a cookie jar.

usage: test_server.py PATH/TO/session_server

Starts the server on a free port with each store in turn (memory, cookie,
and Redis when CSESSION_TEST_REDIS_URL names one) and drives the whole flow
of a visitor: anonymous counter, login with session renewal, protected page,
logout, tampered and garbage cookies. Also checks the flags. Standard
library only; every server is stopped by its PID with SIGTERM and must exit
with status 0 (under AddressSanitizer that includes the leak check).
"""
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SERVER = None
WORK = None
CURL_COUNT = 0


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name):
        values = [v for n, v in self.headers if n == name]
        return values[0] if values else None

    def set_cookies(self):
        return [v for n, v in self.headers if n == "set-cookie"]

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failure("not JSON: %r" % self.body)

    def __repr__(self):
        return "HTTP %d %r %r" % (self.status, self.headers, self.body)


class Server:
    """One session_server process on a free loopback port."""

    def __init__(self, *args, env=None):
        self.log = tempfile.NamedTemporaryFile(dir=WORK, prefix="server-", suffix=".log",
                                               delete=False)
        full_env = dict(os.environ)
        full_env.pop("CSESSION_KEY", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen([SERVER, "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=self.log, env=full_env)
        self.banner = self._read_banner()
        port = self.banner.split("http://127.0.0.1:", 1)[1].split("/", 1)[0]
        self.base = "http://127.0.0.1:%d" % int(port)
        self.port = int(port)

    def _read_banner(self):
        deadline = time.monotonic() + 15
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"Stop it with" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.proc.kill()
                raise Failure("server did not start: %r\n%s" % (buf, self.stderr()))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                buf += chunk
        text = buf.decode()
        check("listening on http://127.0.0.1:" in text, "no URL in banner: %r" % text)
        check("curl -b jar.txt -c jar.txt" in text, "no curl lines in banner: %r" % text)
        return text

    def stderr(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM by PID; the server must free everything and exit 0."""
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("server ignored SIGTERM")
        self.proc.stdout.close()
        err = self.stderr()
        check(rc == 0, "server exited with %d:\n%s" % (rc, err[-4000:]))
        check("SIGTERM, shutting down" in err, "no shutdown message")
        return err


def curl(url, jar=None, method="GET", data=None, cookie=None, headers=()):
    """One request with curl; the jar (if any) is read and written."""
    global CURL_COUNT
    CURL_COUNT += 1
    head = os.path.join(WORK, "head")
    body = os.path.join(WORK, "body")
    args = ["curl", "-sS", "--max-time", "15", "-o", body, "-D", head, "-w", "%{http_code}",
            "-X", method]
    if jar:
        args += ["-b", jar, "-c", jar]
    if cookie is not None:
        args += ["-H", "Cookie: " + cookie]
    if data is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", data]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True)
    check(out.returncode == 0, "curl failed (%d): %s" % (out.returncode, out.stderr))
    hdrs = []
    with open(head, encoding="latin-1") as f:
        for line in f.read().splitlines()[1:]:
            if ":" in line:
                n, v = line.split(":", 1)
                hdrs.append((n.strip().lower(), v.strip()))
    with open(body, "rb") as f:
        text = f.read().decode("utf-8")
    return Response(int(out.stdout), hdrs, text)


def jar_cookie(jar, name="id"):
    """The value of cookie `name` in a curl cookie jar, or None."""
    if not os.path.exists(jar):
        return None
    with open(jar) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#HttpOnly_"):
                line = line[len("#HttpOnly_"):]
            elif line.startswith("#") or not line:
                continue
            fields = line.split("\t")
            if len(fields) == 7 and fields[5] == name:
                return fields[6]
    return None


def cookie_value(set_cookie):
    """The value part of a Set-Cookie header."""
    first = set_cookie.split(";", 1)[0]
    check(first.startswith("id="), "unexpected cookie %r" % set_cookie)
    return first[3:]


def expect_state(resp, user, counter, what):
    check(resp.status == 200, "%s: status %d %r" % (what, resp.status, resp.body))
    check(resp.header("content-type") == "application/json", "%s: content type" % what)
    got = resp.json()
    check(got == {"user_id": user, "counter": counter},
          "%s: expected user %r counter %r, got %r" % (what, user, counter, got))


def flip(value, i):
    c = value[i]
    repl = "B" if c == "A" else "A"
    return value[:i] + repl + value[i + 1:]


def raw_get(port, path, cookie):
    """A quick GET without curl, for the many tampered cookies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie is not None else {})
        r = conn.getresponse()
        return Response(r.status, [(n.lower(), v) for n, v in r.getheaders()],
                        r.read().decode())
    finally:
        conn.close()


# ---- the flow -------------------------------------------------------------

def long_flow(store, server_side, extra=()):
    """The visitor's flow. server_side: the store keeps state (memory, Redis)
    rather than the cookie, so dropped keys stop working."""
    name = "%s%s" % (store if "://" not in store else "redis", "".join(" " + e for e in extra))
    print("== flow: store %s" % name, flush=True)
    srv = Server("--insecure", "--store", store, *extra)
    try:
        b = srv.base
        jar = os.path.join(WORK, "jar.txt")
        if os.path.exists(jar):
            os.remove(jar)

        r = curl(b + "/", jar)
        expect_state(r, None, 0, "first GET /")
        check(r.set_cookies() == [], "GET / created a session: %r" % r.set_cookies())
        check(jar_cookie(jar) is None, "cookie stored after GET /")

        r = curl(b + "/protected/count", jar)
        check(r.status == 401, "protected before login: %r" % r)

        r = curl(b + "/do_something", jar, "POST")
        expect_state(r, None, 1, "do_something 1")
        check(len(r.set_cookies()) == 1, "do_something 1 sets one cookie")
        sc = r.set_cookies()[0]
        check("HttpOnly" in sc and "SameSite=Lax" in sc and "Path=/" in sc, "attributes: " + sc)
        check("Secure" not in sc, "--insecure still sent Secure: " + sc)
        if "--persistent" in extra:
            check("Max-Age=86400" in sc, "persistent cookie without Max-Age: " + sc)
        else:
            check("Max-Age" not in sc, "browser-session cookie has Max-Age: " + sc)
        r = curl(b + "/do_something", jar, "POST")
        expect_state(r, None, 2, "do_something 2")
        expect_state(curl(b + "/", jar), None, 2, "GET / after two")

        r = curl(b + "/protected/count", jar)
        check(r.status == 401, "protected before login: %r" % r)

        pre_login = jar_cookie(jar)
        check(pre_login, "no cookie in the jar before login")
        pre_jar = os.path.join(WORK, "pre_login_jar.txt")
        shutil.copy(jar, pre_jar)

        r = curl(b + "/login", jar, "POST", data='{"user_id": "alice"}')
        expect_state(r, "alice", 2, "login")
        check(len(r.set_cookies()) == 1, "login sets the cookie")
        new_value = cookie_value(r.set_cookies()[0])
        check(new_value and new_value != pre_login, "login did not renew the cookie")
        check(jar_cookie(jar) == new_value, "jar not updated by login")

        expect_state(curl(b + "/", jar), "alice", 2, "GET / after login")
        r = curl(b + "/protected/count", jar)
        expect_state(r, "alice", 2, "protected after login")

        # The cookie from before the login: renewal deleted its state on a
        # server-side store; the cookie store cannot reach the client's copy.
        r = curl(b + "/", pre_jar)
        if server_side:
            expect_state(r, None, 0, "pre-login cookie after renewal")
            check(r.set_cookies() == [], "stale cookie answered with a cookie")
        else:
            expect_state(r, None, 2, "pre-login cookie on the cookie store")

        r = curl(b + "/do_something", jar, "POST")
        expect_state(r, "alice", 3, "do_something after login")
        logged_in = jar_cookie(jar)

        # Tampering: every single-character change of the cookie, and garbage.
        flips = 0
        for i in range(len(logged_in)):
            if not logged_in[i].isalnum():
                continue
            r = raw_get(srv.port, "/", "id=" + flip(logged_in, i))
            expect_state(r, None, 0, "cookie flipped at %d" % i)
            check(r.header("set-cookie") is None, "tampered cookie answered with a cookie")
            flips += 1
        check(flips > 20, "too few positions flipped")
        r = curl(b + "/do_something", None, "POST", cookie="id=" + flip(logged_in, 10))
        expect_state(r, None, 1, "do_something with a tampered cookie")
        garbage = ["id=garbage", "id=", "id", "id=%%%%", "id=\"\"", "id=" + "A" * 5000,
                   "id=" + "%41" * 1300, "other=1; id=!!!; id=%FF%FE", "id=" + logged_in[:-3],
                   "id=" + logged_in + "x", "=; ;;id", "id=" + logged_in[::-1]]
        for g in garbage:
            r = raw_get(srv.port, "/", g)
            expect_state(r, None, 0, "garbage cookie %.40r" % g)
        r = curl(b + "/", None, cookie="id=" + "x" * 9000)
        check(r.status == 431, "oversized Cookie header: %r" % r.status)
        # The real cookie, next to garbage with the same name, still works.
        r = raw_get(srv.port, "/", "id=garbage; id=" + logged_in)
        expect_state(r, "alice", 3, "real cookie after a bad duplicate")

        # Bad requests never touch the session.
        for body in ["", "xx", "[]", '{"user_id": 5}', '{"user_id": ""}', '{"name": "x"}',
                     '{"user_id": "a"} x', '{"user_id": "%s"}' % ("x" * 129)]:
            r = curl(b + "/login", jar, "POST", data=body)
            check(r.status == 400, "login body %r: %r" % (body, r))
            check(r.set_cookies() == [], "400 with a cookie")
        r = curl(b + "/login", jar, "POST", data='{"user_id": "' + "x" * 5000 + '"}')
        check(r.status == 413, "big body: %r" % r.status)
        check(curl(b + "/nope", jar).status == 404, "404")
        r = curl(b + "/", jar, "DELETE")
        check(r.status == 405 and r.header("allow") == "GET, HEAD", "405 on /: %r" % r)
        r = curl(b + "/login", jar, "GET")
        check(r.status == 405 and r.header("allow") == "POST", "405 on /login: %r" % r)
        expect_state(curl(b + "/", jar), "alice", 3, "state after the bad requests")

        r = curl(b + "/logout", jar, "POST")
        check(r.status == 200 and r.body == "Logged out: alice\n", "logout: %r" % r)
        check(len(r.set_cookies()) == 1, "logout sets one cookie")
        sc = r.set_cookies()[0]
        check(sc.startswith("id=;"), "removal cookie has a value: " + sc)
        check("Max-Age=0" in sc and "Path=/" in sc, "removal cookie attributes: " + sc)
        check(jar_cookie(jar) is None, "jar still holds the cookie after logout")

        r = curl(b + "/", jar)
        expect_state(r, None, 0, "GET / after logout")
        check(r.set_cookies() == [], "GET / after logout set a cookie")
        check(curl(b + "/protected/count", jar).status == 401, "protected after logout")

        # Replaying the logged-in cookie after logout.
        r = raw_get(srv.port, "/", "id=" + logged_in)
        if server_side:
            expect_state(r, None, 0, "logged-in cookie replayed after logout")
        else:
            expect_state(r, "alice", 3, "cookie store: old cookie lives until it expires")

        concurrent_visitors(srv)
    finally:
        err = srv.stop()
    lines = [l for l in err.splitlines() if l.startswith(("GET ", "POST ", "DELETE "))]
    check(any(l.startswith("POST /login 200 ") and "session=renewed cookie=set" in l
              for l in lines), "no log line for the login:\n" + err[-2000:])
    check(any(l.startswith("POST /logout 200 ") and "session=purged cookie=removed" in l
              for l in lines), "no log line for the logout")
    check("session store error" not in err and " 500 " not in err, "a 500 was answered:\n" + err)


def concurrent_visitors(srv, threads=8, requests=25):
    """Many visitors at once: each keeps its own counter (one manager, many threads)."""
    errors = []

    def visitor(n):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
            cookie = None
            for i in range(requests):
                conn.request("POST", "/do_something", headers={"Cookie": cookie} if cookie else {})
                r = conn.getresponse()
                body = json.loads(r.read())
                if r.status != 200 or body["counter"] != i + 1:
                    errors.append("visitor %d request %d: %d %r" % (n, i, r.status, body))
                    return
                sc = r.getheader("Set-Cookie")
                if sc:
                    cookie = sc.split(";", 1)[0]
            conn.close()
        except Exception as e:  # reported below
            errors.append("visitor %d: %r" % (n, e))

    ts = [threading.Thread(target=visitor, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errors, "concurrent visitors: %s" % errors[:3])


# ---- flags and settings ------------------------------------------------------

def bad_flags():
    print("== flags", flush=True)
    for args in (["--bogus"], ["--port", "abc"], ["--port", "70000"], ["--port"],
                 ["--store", "nope"], ["--ttl", "0"], ["--cipher", "des"], ["--insecure=1"],
                 ["--signed", "--cipher", "aes256gcm"], ["--threads", "0"], ["extra"],
                 ["--store", "cookie", "--max-sessions", "5"], ["--max-sessions", "0"]):
        p = subprocess.run([SERVER, *args], capture_output=True, text=True, timeout=15)
        check(p.returncode == 2, "%s: exit %d, expected 2" % (args, p.returncode))
        check("usage:" in p.stderr, "%s: no usage on stderr" % args)
        check(p.stdout == "", "%s: wrote to stdout" % args)
    p = subprocess.run([SERVER, "--help"], capture_output=True, text=True, timeout=15)
    check(p.returncode == 0 and "usage:" in p.stdout, "--help")
    keyfile = os.path.join(WORK, "bad.key")
    with open(keyfile, "w") as f:
        f.write("not a key\n")
    p = subprocess.run([SERVER, "--port", "0", "--key-file", keyfile], capture_output=True,
                       text=True, timeout=15)
    check(p.returncode == 1 and "key file" in p.stderr, "bad key file: %d %r" % (p.returncode,
                                                                             p.stderr))


def settings():
    print("== settings: Secure, persistent, keys", flush=True)
    srv = Server()  # no --insecure: Secure is on
    try:
        check("random key" in srv.stderr(), "no warning about the random key")
        r = curl(srv.base + "/do_something", None, "POST")
        sc = r.set_cookies()[0]
        check("; Secure" in sc, "Secure missing by default: " + sc)
    finally:
        srv.stop()

    srv = Server("--insecure", "--persistent", "--ttl", "120")
    try:
        r = curl(srv.base + "/do_something", None, "POST")
        sc = r.set_cookies()[0]
        check("Max-Age=120" in sc and "Expires=" in sc, "persistent cookie: " + sc)
    finally:
        srv.stop()

    # A key from a file and from the environment: the cookie store's sessions
    # then survive a restart, and a different key refuses them.
    key = "00" * 64
    keyfile = os.path.join(WORK, "good.key")
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    jar = os.path.join(WORK, "restart_jar.txt")
    srv = Server("--insecure", "--store", "cookie", "--key-file", keyfile)
    try:
        check("random key" not in srv.stderr(), "warned despite --key-file")
        expect_state(curl(srv.base + "/do_something", jar, "POST"), None, 1, "before restart")
    finally:
        srv.stop()
    srv = Server("--insecure", "--store", "cookie", env={"CSESSION_KEY": key})
    try:
        expect_state(curl(srv.base + "/do_something", jar, "POST"), None, 2, "after restart")
    finally:
        srv.stop()
    srv = Server("--insecure", "--store", "cookie", env={"CSESSION_KEY": "11" * 64})
    try:
        expect_state(curl(srv.base + "/", jar), None, 0, "other key")
    finally:
        srv.stop()


def store_failure():
    """A store that refuses to save answers 500, and the server carries on.
    With --max-sessions 4, visitors who have not logged in may hold 2."""
    print("== store failure: a full memory store", flush=True)
    srv = Server("--insecure", "--max-sessions", "4")
    try:
        jars = [os.path.join(WORK, "full%d.txt" % i) for i in range(5)]
        expect_state(curl(srv.base + "/do_something", jars[0], "POST"), None, 1, "visitor 1")
        expect_state(curl(srv.base + "/do_something", jars[1], "POST"), None, 1, "visitor 2")
        r = curl(srv.base + "/do_something", jars[2], "POST")
        check(r.status == 500 and r.body == "session store error\n", "anonymous budget: %r" % r)
        check(r.set_cookies() == [], "500 with a cookie")
        expect_state(curl(srv.base + "/do_something", jars[0], "POST"), None, 2,
                     "a stored session still updates")
        # The rest of the store is kept for logins: visitors who log in,
        # with a session (renewed) or on their first request, get in.
        r = curl(srv.base + "/login", jars[1], "POST", data='{"user_id": "bob"}')
        expect_state(r, "bob", 1, "login while the anonymous budget is full")
        r = curl(srv.base + "/login", jars[3], "POST", data='{"user_id": "carol"}')
        expect_state(r, "carol", 0, "login on a first visit")
        # bob's login gave back his anonymous place
        expect_state(curl(srv.base + "/do_something", jars[2], "POST"), None, 1,
                     "a place freed by a login")
        # now the whole store is full: a login is refused, the visitor keeps
        # what he had (the new key is stored before the old one is retired)
        r = curl(srv.base + "/login", jars[0], "POST", data='{"user_id": "dave"}')
        check(r.status == 500 and r.set_cookies() == [], "login in a full store: %r" % r)
        expect_state(curl(srv.base + "/do_something", jars[0], "POST"), None, 3,
                     "the session of a refused login is intact")
        check(curl(srv.base + "/logout", jars[3], "POST").status == 200, "logout")
        r = curl(srv.base + "/login", jars[0], "POST", data='{"user_id": "dave"}')
        expect_state(r, "dave", 3, "a place freed by logout")
    finally:
        err = srv.stop()
    check("memory store is full" in err, "the store's message is not logged:\n" + err)
    check("have not logged in" in err, "the anonymous budget's message is not logged:\n" + err)
    check("POST /do_something 500 " in err and "session=save-failed" in err, "no 500 log line")


def aes_supported():
    """Whether the server starts with AES-256-GCM: it prints its banner, or
    exits at once where the CPU lacks AES-NI. Waits for one or the other, not
    for a fixed time, as a sanitizer build on a busy machine starts slowly."""
    p = subprocess.Popen([SERVER, "--port", "0", "--cipher", "aes256gcm"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    while b"Stop it with" not in out:
        chunk = p.stdout.readline()
        if not chunk:  # end of output: the server has exited
            p.communicate(timeout=20)
            return False
        out += chunk
    os.kill(p.pid, signal.SIGTERM)
    p.communicate(timeout=20)
    return True



def redis_url():
    """The Redis server to use: CSESSION_TEST_REDIS_URL, else the one the
    ctest fixture started (its port is in CSESSION_TEST_REDIS_STATE/port)."""
    url = os.environ.get("CSESSION_TEST_REDIS_URL")
    if url:
        return url
    state = os.environ.get("CSESSION_TEST_REDIS_STATE")
    if state:
        try:
            with open(os.path.join(state, "port")) as f:
                return "redis://127.0.0.1:%d" % int(f.read().strip())
        except (OSError, ValueError):
            return None
    return None

def main():
    global SERVER, WORK
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    SERVER = os.path.abspath(sys.argv[1])
    if not shutil.which("curl"):
        print("curl is needed (apt-get install curl)", file=sys.stderr)
        return 1
    WORK = tempfile.mkdtemp(prefix="csession-e2e-")
    try:
        bad_flags()
        long_flow("memory", server_side=True)
        long_flow("cookie", server_side=False)
        long_flow("memory", server_side=True, extra=("--signed",))
        long_flow("cookie", server_side=False, extra=("--signed", "--persistent"))
        if aes_supported():
            long_flow("memory", server_side=True, extra=("--cipher", "aes256gcm"))
        else:
            print("== aes256gcm: skipped (no AES-NI on this CPU)")
        redis = redis_url()
        if redis:
            long_flow(redis, server_side=True)
        else:
            print("== redis: skipped (no CSESSION_TEST_REDIS_URL and no redis fixture)")
        settings()
        store_failure()
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print("e2e: all passed (%d curl requests)" % CURL_COUNT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
