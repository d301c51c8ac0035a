"""Tests of csession.flask.CsessionInterface through Flask's own test client:
the login/counter/logout flow on the memory, cookie and Redis stores, a
tampered cookie, a Redis server stopped under the application.

    CSESSION_LIBRARY=build/libcsession.so python3 tests/python/test_flask.py

Exits with 77 (skipped) when Flask is not installed (Debian: python3-flask).
"""
import sys
import unittest

from helpers import KEY, DictStore, cookie_pair, cs, flip, make_manager, run
import redis_support

try:
    import flask
except ImportError:
    flask = None
else:
    import csession.flask


def make_app(manager, **config):
    app = flask.Flask(__name__)
    app.config.update(config)
    app.session_interface = csession.flask.CsessionInterface(manager)
    app.logger.disabled = True  # the 500s below are expected
    seen = app.seen = []

    @app.after_request
    def remember(response):
        # The request context's own attribute: Flask 3.1 counts a use of
        # flask.session as reading the session.
        ctx = flask.globals.request_ctx._get_current_object()
        seen.append(ctx._session if hasattr(ctx, "_session") else ctx.session)
        return response

    @app.get("/")
    def whoami():
        return {"user": flask.session.get("user"), "n": flask.session.get("n", 0)}

    @app.post("/count")
    def count():
        flask.session["n"] = flask.session.get("n", 0) + 1
        return whoami()

    @app.post("/login")
    def login():
        flask.session.renew()
        flask.session["user"] = flask.request.form["user"]
        flask.session.setdefault("roles", ["reader"])
        return whoami()

    @app.post("/forget")
    def forget():
        del flask.session["n"]
        return {"n": flask.session.pop("n", None), "roles": flask.session.get("roles")}

    @app.post("/logout")
    def logout():
        flask.session.purge()
        return whoami()

    @app.post("/clear")
    def clear():
        flask.session.clear()
        return whoami()

    @app.get("/static-like")
    def static_like():
        return "no session here"

    return app


def jar_value(client, name="id"):
    """The value of cookie `name` in the test client's jar, or None."""
    if hasattr(client, "get_cookie"):  # Werkzeug 2.3 and later
        c = client.get_cookie(name)
        return c.value if c else None
    for c in client.cookie_jar:
        if c.name == name:
            return c.value
    return None


def set_cookies(response):
    return response.headers.getlist("Set-Cookie")


@unittest.skipIf(flask is None, "Flask is not installed")
class FlaskTest(unittest.TestCase):
    store = "memory"

    def setUp(self):
        self.manager = make_manager(self.store)
        self.app = make_app(self.manager)
        self.client = self.app.test_client()

    def tearDown(self):
        self.manager.close()

    def test_login_counter_logout(self):
        c = self.client
        r = c.get("/")
        self.assertEqual(r.json, {"user": None, "n": 0})
        self.assertEqual(set_cookies(r), [])  # nothing to keep
        self.assertEqual(c.post("/count").json["n"], 1)
        first = jar_value(c)
        self.assertIsNotNone(first)
        self.assertEqual(c.post("/count").json["n"], 2)
        r = c.post("/login", data={"user": "alice"})
        self.assertEqual(r.json, {"user": "alice", "n": 2})
        self.assertNotEqual(jar_value(c), first)  # renewed: a new key
        self.assertIn("Cookie", r.headers.get("Vary", ""))
        self.assertEqual(c.post("/count").json, {"user": "alice", "n": 3})
        self.assertEqual(c.post("/forget").json, {"n": None, "roles": ["reader"]})
        self.assertEqual(c.get("/").json, {"user": "alice", "n": 0})
        r = c.post("/logout")
        removal = set_cookies(r)
        self.assertEqual(len(removal), 1)
        self.assertTrue(removal[0].startswith("id=;"), removal)
        self.assertIn("Max-Age=0", removal[0])
        self.assertIsNone(jar_value(c))  # the client dropped it
        self.assertEqual(c.get("/").json, {"user": None, "n": 0})
        self.assertEqual(c.post("/count").json["n"], 1)  # a new visitor
        for s in self.app.seen:
            self.assertIsInstance(s, cs.Session)
            self.assertIsInstance(s, csession.flask.FlaskSession)

    def test_old_cookie_after_login_and_logout(self):
        if self.store == "cookie":
            self.skipTest("a cookie store keeps nothing on the server to revoke")
        c = self.client
        c.post("/count")
        before_login = jar_value(c)
        c.post("/login", data={"user": "alice"})
        logged_in = jar_value(c)
        c.post("/logout")
        replay = self.app.test_client(use_cookies=False)
        for value in (before_login, logged_in):
            r = replay.get("/", headers={"Cookie": "id=" + value})
            self.assertEqual(r.json, {"user": None, "n": 0})

    def test_tampered_cookie_gives_a_fresh_session(self):
        c = self.client
        c.post("/login", data={"user": "alice"})
        value = jar_value(c)
        other = self.app.test_client(use_cookies=False)
        self.assertEqual(other.get("/", headers={"Cookie": "id=" + value}).json["user"], "alice")
        for i in (0, len(value) // 3, len(value) - 1):
            r = other.post("/count", headers={"Cookie": "id=" + flip(value, i)})
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json, {"user": None, "n": 1})  # fresh, not an error
            self.assertNotEqual(cookie_pair(set_cookies(r)[0]), "id=" + value)
        for junk in ("id=", "id=garbage", "id=%ZZ; x=1"):
            self.assertEqual(other.get("/", headers={"Cookie": junk}).json["user"], None)

    def test_oversized_cookie_header(self):
        client = self.app.test_client(use_cookies=False)
        r = client.get("/", headers={"Cookie": "id=" + "x" * 9000})
        self.assertEqual(r.status_code, 500)
        self.assertEqual(self.app.seen, [None])  # only the error page ran, without a session

    def test_unchanged_session_sends_no_cookie(self):
        c = self.client
        c.post("/count")
        r = c.get("/")
        self.assertEqual(set_cookies(r), [])
        self.assertIn("Cookie", r.headers.get("Vary", ""))  # it read the session
        r = c.get("/static-like")
        self.assertNotIn("Cookie", r.headers.get("Vary", ""))  # it did not

    def test_clear(self):
        c = self.client
        c.post("/login", data={"user": "alice"})
        self.assertEqual(c.post("/clear").json, {"user": None, "n": 0})
        self.assertEqual(c.get("/").json, {"user": None, "n": 0})

    def test_session_freed_with_the_response(self):
        r = self.client.post("/count")
        s = self.app.seen[-1]
        self.assertIsNotNone(s._ptr)  # the body may still be read
        r.close()
        self.assertIsNone(s._ptr)

    def test_session_transaction(self):
        with self.client.session_transaction() as s:
            self.assertIsInstance(s, csession.flask.FlaskSession)
            s["user"] = "bob"
        self.assertEqual(self.client.get("/").json["user"], "bob")


@unittest.skipIf(flask is None, "Flask is not installed")
class FailingStoreFlaskTest(unittest.TestCase):
    def test_failed_commit_is_not_retried_on_the_error_page(self):
        # Flask saves the session again with the 500 page it makes after a
        # failed save: that must not wait on the store a second time.
        class Slow(DictStore):
            def save(self, state, ttl):
                self.calls.append("save")
                raise cs.StoreTimeout(cs.ETIMEOUT, "no answer in 2000 ms")

        store = Slow()
        mgr = cs.Manager(cs.Config().set_secure(False).add_key(KEY), store)
        app = make_app(mgr)
        r = app.test_client().post("/count")
        self.assertEqual(r.status_code, 500)
        self.assertEqual(set_cookies(r), [])
        self.assertEqual(store.calls, ["save"])
        mgr.close()


class CookieStoreFlaskTest(FlaskTest):
    store = "cookie"


@unittest.skipIf(flask is None, "Flask is not installed")
@unittest.skipUnless(redis_support.REDIS_SERVER, redis_support.SKIP_REASON)
class RedisFlaskTest(FlaskTest):
    def setUp(self):
        self.server = redis_support.RedisServer()
        self.manager = cs.Manager(cs.Config().set_secure(False).add_key(KEY),
                                  cs.RedisStore(self.server.url))
        self.app = make_app(self.manager)
        self.client = self.app.test_client()

    def tearDown(self):
        self.manager.close()
        self.server.close()

    def test_store_down_gives_500(self):
        c = self.client
        self.assertEqual(c.post("/login", data={"user": "alice"}).json["user"], "alice")
        self.server.stop()
        r = c.get("/")  # loading fails
        self.assertEqual(r.status_code, 500)
        self.assertEqual(set_cookies(r), [])
        fresh = self.app.test_client()
        r = fresh.post("/count")  # committing fails
        self.assertEqual(r.status_code, 500)
        self.assertEqual(set_cookies(r), [])
        self.assertIsNone(jar_value(fresh))

    def test_store_errors_propagate_when_testing(self):
        app = make_app(self.manager, TESTING=True)
        self.server.stop()
        with self.assertRaises(cs.StoreError):
            app.test_client().post("/count")


if __name__ == "__main__":
    if flask is None:
        print("skipped: Flask is not installed for %s (Debian: apt-get install python3-flask)"
              % sys.executable)
        sys.exit(77)
    run("__main__")
