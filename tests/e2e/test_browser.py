#!/usr/bin/env python3
"""End-to-end test of examples/server in a real browser.

usage: test_browser.py PATH/TO/session_server

Headless Chromium uses the demo's page /app as a person would: it loads the
page, presses its buttons, types a user name and reads the answers the page
shows. It checks that the browser keeps the session cookie and sends it
back, that a login keeps the data under a new cookie value, that a logout
makes the browser drop the cookie, that document.cookie cannot see the
HttpOnly cookie, what a browser restart on the same profile does to a
browser-session cookie and to a persistent one, and that Chromium keeps and
sends Secure cookies over plain http to localhost and 127.0.0.1.

Chromium is driven through chromedriver's W3C WebDriver HTTP API with the
standard library only, like the curl test next to it: Debian's chromium and
chromium-driver packages are all it needs, no browser download and no
package outside the distribution. Exits 77 (skipped) when either is missing.
"""
import contextlib
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as demo  # noqa: E402  (the server harness: Server, check, Failure)
from test_server import Failure, check  # noqa: E402

SKIPPED = 77

# Chromium as root, headless, on a machine without outside network: without
# the background-networking switches its own connections are refused and
# slow everything down.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WAIT = 30  # seconds: the most any single browser step may take

CHROMIUM = None
WORK = None
PROFILES = 0


class WebDriver:
    """One chromedriver on a port of its choosing, for the whole run."""

    def __init__(self, binary):
        env = dict(os.environ)
        # Chromium writes a little outside its profile (dconf, NSS): keep it here.
        home = os.path.join(WORK, "home")
        os.makedirs(home, exist_ok=True)
        env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        self.log = os.path.join(WORK, "chromedriver.log")
        self.proc = subprocess.Popen([binary, "--port=0", "--log-path=" + self.log],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.port = self._read_port()

    def _read_port(self):
        """chromedriver prints the port it listens on once it is ready."""
        deadline = time.monotonic() + WAIT
        buf = b""
        marker = b"started successfully on port "
        fd = self.proc.stdout.fileno()
        while marker not in buf or not buf.split(marker, 1)[1].count(b"."):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.proc.kill()
                raise Failure("chromedriver did not start: %r" % buf)
            if select.select([fd], [], [], left)[0]:
                buf += os.read(fd, 4096)
        return int(buf.split(marker, 1)[1].split(b".", 1)[0])

    def call(self, method, path, body=None):
        """One WebDriver command; returns its "value" or raises Failure."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT * 2)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Content-Type": "application/json; charset=utf-8"})
            r = conn.getresponse()
            reply = json.loads(r.read() or b"{}")
        finally:
            conn.close()
        value = reply.get("value")
        if r.status != 200:
            err = value if isinstance(value, dict) else {}
            raise Failure("WebDriver %s %s: %s: %s" % (method, path, err.get("error", r.status),
                                                       err.get("message", "")[:500]))
        return value

    def stop(self):
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def new_profile():
    """A fresh, empty --user-data-dir."""
    global PROFILES
    PROFILES += 1
    path = os.path.join(WORK, "profile%d" % PROFILES)
    os.mkdir(path)
    return path


class Answer(demo.Response):
    """What the page shows after a button: "METHOD PATH STATUS" and the body
    (no headers: a page's script does not show them), and the page's view of
    document.cookie."""

    def __init__(self, shown, jar):
        self.line, _, body = shown.partition("\n")
        parts = self.line.split(" ")
        status = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
        super().__init__(status, [], body)
        self.jar = jar

    def __repr__(self):
        return "%s %r" % (self.line, self.body)


# Waits, inside the page, until it has shown answer number `want`: the page
# counts them in #out's data-answers. An observer is woken by the change
# itself, so nothing polls.
WAIT_FOR_ANSWER = """
const [want, done] = arguments;
const out = document.getElementById("out");
const finish = () => done([out.textContent, document.getElementById("jar").textContent]);
if (Number(out.dataset.answers) >= want) {
  finish();
} else {
  new MutationObserver((_, observer) => {
    if (Number(out.dataset.answers) >= want) {
      observer.disconnect();
      finish();
    }
  }).observe(out, { attributes: true, attributeFilter: ["data-answers"] });
}
"""


class Browser:
    """One Chromium, started by chromedriver on the profile directory
    `profile`; a context manager that closes it."""

    def __init__(self, driver, profile):
        self.driver = driver
        self.profile = profile
        options = {"binary": CHROMIUM, "args": CHROMIUM_FLAGS + ["--user-data-dir=" + profile]}
        value = driver.call("POST", "/session",
                            {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.sid = value["sessionId"]
        self.call("POST", "/timeouts", {"script": WAIT * 1000, "pageLoad": WAIT * 1000})

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self.sid is None:
            return
        if kind is None:
            self.close()
        else:
            with contextlib.suppress(Failure, OSError):
                self.driver.call("DELETE", "/session/" + self.sid)

    def call(self, method, path, body=None):
        return self.driver.call(method, "/session/%s%s" % (self.sid, path), body)

    def script(self, source, *args):
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def element(self, css):
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))  # the one member is the element reference

    def open(self, url):
        self.call("POST", "/url", {"url": url})
        title = self.call("GET", "/title")
        check(title == "csession demo", "%s: page title %r" % (url, title))

    def press(self, button):
        """Clicks a button and returns the answer the page shows for it."""
        shown = int(self.script("return document.getElementById('out').dataset.answers"))
        self.call("POST", "/element/%s/click" % self.element("#" + button), {})
        text, jar = self.call("POST", "/execute/async",
                              {"script": WAIT_FOR_ANSWER, "args": [shown + 1]})
        return Answer(text, jar)

    def type_user(self, name):
        field = self.element("#user")
        self.call("POST", "/element/%s/clear" % field, {})
        self.call("POST", "/element/%s/value" % field, {"text": name})

    def cookies(self):
        """The cookies of the page's URL by name, HttpOnly ones included
        (WebDriver's Get All Cookies)."""
        return {c["name"]: c for c in self.call("GET", "/cookie")}

    def cookie_store(self):
        """Every cookie of the browser, for any host, as CDP's
        Storage.getCookies sees them: what it kept, before any page loads."""
        got = self.call("POST", "/goog/cdp/execute", {"cmd": "Storage.getCookies", "params": {}})
        return {(c["domain"], c["name"]): c for c in got["cookies"]}

    def add_cookie(self, **cookie):
        self.call("POST", "/cookie", {"cookie": cookie})

    def _pid(self):
        # The browser process names itself in the profile's lock:
        # SingletonLock -> "<hostname>-<pid>".
        target = os.readlink(os.path.join(self.profile, "SingletonLock"))
        return int(target.rsplit("-", 1)[1])

    def close(self):
        """Quits and waits for the browser process to exit. Chromium writes
        its cookie database at most every 30 seconds and at a clean exit, so
        a restart test has to close the browser cleanly and wait for the end
        of the process: a killed browser forgets its newest cookies."""
        pidfd = os.pidfd_open(self._pid())
        try:
            self.driver.call("DELETE", "/session/" + self.sid)
            self.sid = None
            check(select.select([pidfd], [], [], WAIT)[0], "chromium did not exit")
        finally:
            os.close(pidfd)
        check(not os.path.lexists(os.path.join(self.profile, "SingletonLock")),
              "chromium exited without releasing its profile: not a clean shutdown")


@contextlib.contextmanager
def server(*args):
    """A demo server; stopped at the end, where it must exit 0."""
    srv = demo.Server(*args)
    try:
        yield srv
    except BaseException:
        srv.proc.kill()
        srv.proc.wait()
        srv.proc.stdout.close()
        raise
    srv.stop()


def expect(answer, status, user, counter, what):
    check(answer.status == status, "%s: the page shows %r" % (what, answer))
    got = answer.json()
    check(got == {"user_id": user, "counter": counter},
          "%s: expected user %r counter %r, the page shows %r" % (what, user, counter, got))


def jar_names(answer):
    """The cookie names in what the page shows of document.cookie."""
    if answer.jar == "(nothing)":
        return []
    return [part.split("=", 1)[0].strip() for part in answer.jar.split(";")]


# ---- the scenarios ----------------------------------------------------------

def visitor(driver, srv, store):
    """A person's visit: counter, HttpOnly, login, protected page, logout."""
    app = srv.base + "/app"
    with Browser(driver, new_profile()) as b:
        b.open(app)
        check(b.cookies() == {}, "%s: loading the page set a cookie: %r" % (store, b.cookies()))
        expect(b.press("state"), 200, None, 0, "%s: first look" % store)
        check("id" not in b.cookies(), "%s: an empty session set a cookie" % store)

        # The counter goes up only if the browser stored the cookie and sent it back.
        for n in (1, 2, 3):
            expect(b.press("do_something"), 200, None, n, "%s: do_something #%d" % (store, n))
        cookie = b.cookies().get("id")
        check(cookie is not None, "%s: the browser kept no session cookie" % store)
        check(cookie["httpOnly"] and not cookie["secure"] and cookie["sameSite"] == "Lax" and
              cookie["path"] == "/" and "expiry" not in cookie,
              "%s: cookie attributes %r" % (store, cookie))

        # The page itself never touches the session, in the browser or over HTTP.
        b.open(app)
        check(b.cookies()["id"]["value"] == cookie["value"], "%s: reloading /app changed "
              "the cookie" % store)
        r = demo.raw_get(srv.port, "/app", "id=" + cookie["value"])
        check(r.status == 200 and r.header("content-type") == "text/html; charset=utf-8" and
              not r.set_cookies(), "%s: GET /app: %r" % (store, r))
        r = demo.curl(app, method="POST")
        check(r.status == 405 and r.header("allow") == "GET, HEAD", "%s: POST /app: %r" %
              (store, r))

        # document.cookie shows a cookie scripts may see, never the session's.
        b.add_cookie(name="probe", value="visible", path="/")
        answer = b.press("state")
        expect(answer, 200, None, 3, "%s: after reloading the page" % store)
        check(jar_names(answer) == ["probe"], "%s: document.cookie shows %r (the page should "
              "see the probe and not the HttpOnly session cookie)" % (store, answer.jar))

        check(b.press("count").status == 401, "%s: protected page before login" % store)
        b.type_user("bob")
        expect(b.press("login"), 200, "bob", 3, "%s: login" % store)
        after_login = b.cookies().get("id")
        check(after_login is not None and after_login["value"] != cookie["value"],
              "%s: login kept the cookie value" % store)
        if store != "cookie":
            # A new session key: the cookie from before the login opens nothing
            # (in the cookie store the state is the cookie, so it cannot be revoked).
            r = demo.raw_get(srv.port, "/", "id=" + cookie["value"])
            check(r.status == 200 and r.json() == {"user_id": None, "counter": 0},
                  "%s: the cookie from before the login still works: %r" % (store, r))
        expect(b.press("count"), 200, "bob", 3, "%s: protected page after login" % store)
        expect(b.press("do_something"), 200, "bob", 4, "%s: do_something after login" % store)

        answer = b.press("logout")
        check(answer.status == 200 and answer.body == "Logged out: bob\n",
              "%s: logout: %r" % (store, answer))
        left = b.cookies()
        check("id" not in left, "%s: the browser kept the cookie after logout: %r" %
              (store, left.get("id")))
        check("probe" in left, "%s: logout removed another cookie" % store)
        check(b.press("count").status == 401, "%s: protected page after logout" % store)
        expect(b.press("state"), 200, None, 0, "%s: after logout" % store)


def restart(driver, srv, persistent, ttl=None):
    """The browser quits and starts again on the same profile. A browser-
    session cookie is gone (a persistent cookie added alongside shows that
    the profile itself was kept); a persistent one survives with its session."""
    what = "persistent" if persistent else "browser-session"
    profile = new_profile()
    with Browser(driver, profile) as b:
        b.open(srv.base + "/app")
        expect(b.press("do_something"), 200, None, 1, what)
        expect(b.press("do_something"), 200, None, 2, what)
        cookie = b.cookies()["id"]
        if persistent:
            # Max-Age = the session's TTL; the clock may move a little meanwhile.
            left = cookie.get("expiry", 0) - time.time()
            check(ttl - 60 < left <= ttl + 1, "%s: the cookie expires in %ds, not %ds" %
                  (what, left, ttl))
        else:
            check("expiry" not in cookie, "%s: the cookie has an expiry: %r" % (what, cookie))
            b.add_cookie(name="kept", value="yes", path="/", expiry=int(time.time()) + 3600)
        b.close()

    with Browser(driver, profile) as b:
        kept = b.cookie_store()
        host = srv.base.split("//", 1)[1].split(":", 1)[0]
        if persistent:
            check(kept.get((host, "id"), {}).get("value") == cookie["value"],
                  "%s: the cookie did not survive the restart: %r" % (what, kept))
        else:
            check((host, "kept") in kept, "%s: the restarted browser lost the persistent "
                  "cookie too (was the profile kept?): %r" % (what, kept))
            check((host, "id") not in kept, "%s: the session cookie survived the restart" % what)
        b.open(srv.base + "/app")
        expect(b.press("state"), 200, None, 2 if persistent else 0, "%s: after restart" % what)
        expect(b.press("do_something"), 200, None, 3 if persistent else 1,
               "%s: do_something after restart" % what)


def secure_on_loopback(driver, srv):
    """Without --insecure the cookie is Secure; Chromium counts http://localhost
    and http://127.0.0.1 as secure origins, so it still keeps and sends it."""
    with Browser(driver, new_profile()) as b:
        for host in ("localhost", "127.0.0.1"):
            base = "http://%s:%d" % (host, srv.port)
            b.open(base + "/app")
            expect(b.press("do_something"), 200, None, 1, "Secure over %s" % base)
            cookie = b.cookies().get("id")
            check(cookie is not None and cookie["secure"],
                  "Secure over %s: the browser did not store the cookie: %r" % (base, cookie))
            expect(b.press("do_something"), 200, None, 2,
                   "Secure over %s: the browser did not send the cookie back" % base)


def main():
    global CHROMIUM, WORK
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    CHROMIUM = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if not CHROMIUM or not chromedriver:
        print("test_browser: skipped: needs chromium and chromedriver "
              "(apt-get install chromium chromium-driver)")
        return SKIPPED
    demo.SERVER = os.path.abspath(sys.argv[1])
    demo.WORK = WORK = tempfile.mkdtemp(prefix="csession-browser-")
    started = time.monotonic()
    driver = None
    try:
        driver = WebDriver(chromedriver)
        with server("--insecure") as srv:
            visitor(driver, srv, "memory")
            print("== memory: visitor ok")
            restart(driver, srv, persistent=False)
            print("== browser-session cookie: gone after a restart")
        with server("--insecure", "--store", "cookie") as srv:
            visitor(driver, srv, "cookie")
            print("== cookie store: visitor ok")
        with server("--insecure", "--persistent", "--ttl", "600") as srv:
            restart(driver, srv, persistent=True, ttl=600)
            print("== persistent cookie: survives a restart")
        with server() as srv:
            secure_on_loopback(driver, srv)
            print("== Secure cookie: kept and sent over http://localhost and http://127.0.0.1")
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        if driver and os.path.exists(driver.log):
            with open(driver.log, errors="replace") as f:
                print("chromedriver log (end):\n" + f.read()[-3000:], file=sys.stderr)
        return 1
    finally:
        if driver:
            driver.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    print("browser e2e: all passed (%s, %.1fs)" % (CHROMIUM, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
