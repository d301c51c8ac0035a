"""Tests of csession.wsgi.SessionMiddleware: through wsgiref's validator (which
checks both sides of PEP 3333), through a real wsgiref server over HTTP, and
on a Redis store whose server the test stops.

    CSESSION_LIBRARY=build/libcsession.so python3 tests/python/test_wsgi.py
"""
import http.client
import io
import sys
import threading
import unittest
import wsgiref.simple_server
import wsgiref.util
import wsgiref.validate

from helpers import (KEY, DictStore, attributes, cookie_pair, cs, flip, make_manager, run,
                     run_threads)
import redis_support
import csession.wsgi


def call(app, cookie=None, path="/"):
    """Runs one request through `app` as a server would; returns (status,
    headers, body bytes, what went to wsgi.errors)."""
    errors = io.StringIO()
    environ = {"SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "", "wsgi.errors": errors}
    wsgiref.util.setup_testing_defaults(environ)
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    started = {}
    written = []

    def start_response(status, headers, exc_info=None):
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started.update(status=status, headers=headers)
        return written.append

    body = app(environ, start_response)
    try:
        for chunk in body:
            written.append(chunk)
    finally:
        if hasattr(body, "close"):
            body.close()
    return started["status"], started["headers"], b"".join(written), errors.getvalue()


def set_cookie(headers):
    values = [v for k, v in headers if k.lower() == "set-cookie"]
    assert len(values) <= 1, values
    return values[0] if values else None


def validated(app, manager, **kw):
    """The middleware with wsgiref's validator on both sides of it."""
    return wsgiref.validate.validator(
        csession.wsgi.SessionMiddleware(wsgiref.validate.validator(app), manager, **kw))


class Site:
    """An application with a counter, login and logout; it remembers the
    sessions it saw so that tests can check they were freed."""

    def __init__(self):
        self.sessions = []

    def __call__(self, environ, start_response):
        s = environ["csession.session"]
        self.sessions.append(s)
        path = environ["PATH_INFO"]
        if path == "/count":
            s["n"] = s.get("n", 0) + 1
        elif path == "/login":
            s.renew()
            s["user"] = "alice"
        elif path == "/logout":
            s.purge()
        body = ("%s %s" % (s.get("user"), s.get("n", 0))).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]


class MiddlewareTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.manager = make_manager("memory")
        self.app = validated(self.site, self.manager)

    def tearDown(self):
        self.manager.close()

    def request(self, path, cookie=None):
        status, headers, body, _ = call(self.app, cookie, path)
        self.assertEqual(status, "200 OK")
        return body.decode(), set_cookie(headers)

    def test_login_counter_logout(self):
        body, sc = self.request("/")
        self.assertEqual((body, sc), ("None 0", None))  # nothing to keep, no cookie
        body, sc = self.request("/count")
        self.assertEqual(body, "None 1")
        cookie = cookie_pair(sc)
        self.assertIn("HttpOnly", attributes(sc))
        self.assertEqual(self.request("/count", cookie)[0], "None 2")
        self.assertEqual(self.request("/", cookie), ("None 2", None))  # unchanged: no header
        body, sc = self.request("/login", cookie)
        self.assertEqual(body, "alice 2")
        self.assertNotEqual(cookie_pair(sc), cookie)  # a new key on login
        old, cookie = cookie, cookie_pair(sc)
        self.assertEqual(self.request("/", old)[0], "None 0")  # the old key is gone
        self.assertEqual(self.request("/count", cookie)[0], "alice 3")
        body, sc = self.request("/logout", cookie)
        self.assertTrue(sc.startswith("id=;"), sc)
        self.assertIn("Max-Age=0", attributes(sc))
        self.assertEqual(self.request("/", cookie)[0], "None 0")
        for s in self.site.sessions:
            self.assertIsInstance(s, cs.Session)
            self.assertIsNone(s._ptr)  # freed once the response was closed

    def test_tampered_cookie_gives_a_fresh_session(self):
        cookie = cookie_pair(self.request("/count")[1])
        name, value = cookie.split("=", 1)
        for i in (0, len(value) // 2, len(value) - 1):
            body, sc = self.request("/count", "%s=%s" % (name, flip(value, i)))
            self.assertEqual(body, "None 1")
            self.assertNotEqual(cookie_pair(sc), cookie)
        self.assertEqual(self.request("/count", "x=1; " + cookie + "; y=2")[0], "None 2")

    def test_oversized_cookie_header(self):
        status, headers, body, errors = call(self.app, "id=" + "x" * 9000, "/count")
        self.assertEqual(status, "431 Request Header Fields Too Large")
        self.assertEqual(self.site.sessions, [])  # the application did not run
        self.assertIn("cannot load the session", errors)

    def test_other_environ_key(self):
        def app(environ, start_response):
            environ["my.session"]["a"] = 1
            start_response("204 No Content", [])
            return []

        status, headers, _, _ = call(validated(app, self.manager, environ_key="my.session"))
        self.assertEqual(status, "204 No Content")
        self.assertIsNotNone(set_cookie(headers))

    def test_commit_after_the_application_returned(self):
        # Changes made after start_response(), before returning, are saved.
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            environ["csession.session"]["n"] = 5
            return [b"ok"]

        status, headers, body, _ = call(validated(app, self.manager))
        self.assertEqual(self.request("/", cookie_pair(set_cookie(headers)))[0], "None 5")

    def test_generator_application(self):
        # start_response() only once the body is iterated: the commit waits
        # for it, and sees what was changed before.
        def app(environ, start_response):
            environ["csession.session"]["n"] = 7
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"a"
            yield b"b"

        status, headers, body, _ = call(validated(app, self.manager))
        self.assertEqual((status, body), ("200 OK", b"ab"))
        self.assertEqual(self.request("/", cookie_pair(set_cookie(headers)))[0], "None 7")

    def test_write_callable(self):
        def app(environ, start_response):
            environ["csession.session"]["n"] = 3
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"written ")
            return [b"returned"]

        # (the validator refuses write() together with a returned body; the
        # middleware alone then)
        status, headers, body, _ = call(csession.wsgi.SessionMiddleware(app, self.manager))
        self.assertEqual(body, b"written returned")
        self.assertEqual(self.request("/", cookie_pair(set_cookie(headers)))[0], "None 3")

    def test_error_page_replaces_the_started_response(self):
        def app(environ, start_response):
            environ["csession.session"]["n"] = 1
            start_response("200 OK", [("Content-Type", "text/plain")])
            try:
                raise ValueError("while rendering")
            except ValueError:
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                               sys.exc_info())
            return [b"oops"]

        status, headers, body, _ = call(validated(app, self.manager))
        self.assertEqual((status, body), ("500 Internal Server Error", b"oops"))
        self.assertIsNotNone(set_cookie(headers))

    def test_application_raising(self):
        store = DictStore()
        mgr = cs.Manager(cs.Config().add_key(KEY).set_secure(False), store)
        seen = []

        def app(environ, start_response):
            seen.append(environ["csession.session"])
            environ["csession.session"]["n"] = 1
            raise KeyError("bug in the view")

        with self.assertRaises(KeyError):
            call(csession.wsgi.SessionMiddleware(app, mgr))
        self.assertEqual(store.calls, [])  # not committed
        self.assertIsNone(seen[0]._ptr)  # but freed

        closed = []

        class Body:
            def __iter__(self):
                yield b"first"
                raise OSError("disk gone")

            def close(self):
                closed.append(True)

        def streaming(environ, start_response):
            seen.append(environ["csession.session"])
            start_response("200 OK", [])
            return Body()

        with self.assertRaises(OSError):
            call(csession.wsgi.SessionMiddleware(streaming, mgr))
        self.assertEqual(closed, [True])
        self.assertIsNone(seen[1]._ptr)
        mgr.close()

    def test_store_failure_gives_500(self):
        class Broken(DictStore):
            fail = False

            def load(self, key):
                if self.fail:
                    raise ConnectionError("backend down")
                return super().load(key)

            def save(self, state, ttl):
                if self.fail:
                    raise cs.StoreTimeout(cs.ETIMEOUT, "backend too slow")
                return super().save(state, ttl)

        store = Broken()
        mgr = cs.Manager(cs.Config().add_key(KEY).set_secure(False), store)
        closed = []

        class Body(list):
            def close(self):
                closed.append(True)

        def app(environ, start_response):
            environ["csession.session"]["n"] = 1
            start_response("200 OK", [("Content-Type", "text/plain")])
            return Body([b"never sent"])

        app_ = validated(app, mgr)
        cookie = cookie_pair(set_cookie(call(app_)[1]))
        store.fail = True
        status, headers, body, errors = call(app_, cookie)  # load fails
        self.assertEqual((status, body), ("500 Internal Server Error", b"session store error\n"))
        self.assertIn("backend down", errors)
        status, headers, body, errors = call(app_)  # commit fails
        self.assertEqual(status, "500 Internal Server Error")
        self.assertIsNone(set_cookie(headers))
        self.assertIn("backend too slow", errors)
        self.assertEqual(closed, [True, True])  # the application's body was closed
        mgr.close()

    def test_over_http_with_threads(self):
        # A real server (wsgiref, a thread per request) and HTTP clients.
        class Server(wsgiref.simple_server.WSGIServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                threading.Thread(target=self.process_request_thread,
                                 args=(request, client_address)).start()

            def process_request_thread(self, request, client_address):
                try:
                    self.finish_request(request, client_address)
                finally:
                    self.shutdown_request(request)

        class Quiet(wsgiref.simple_server.WSGIRequestHandler):
            def log_message(self, *args):
                pass

        server = wsgiref.simple_server.make_server(
            "127.0.0.1", 0, csession.wsgi.SessionMiddleware(Site(), self.manager),
            server_class=Server, handler_class=Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        errors = []

        def visitor(i):
            try:
                cookie = None
                for n in range(1, 11):
                    conn = http.client.HTTPConnection("127.0.0.1", server.server_port)
                    conn.request("GET", "/count", headers={"Cookie": cookie} if cookie else {})
                    r = conn.getresponse()
                    body = r.read().decode()
                    sc = r.getheader("Set-Cookie")
                    cookie = cookie_pair(sc) if sc else cookie
                    conn.close()
                    if body != "None %d" % n:
                        errors.append(body)
            except Exception as e:  # reported below
                errors.append(e)

        run_threads(visitor, 4)
        server.shutdown()
        server.server_close()
        self.assertEqual(errors, [])


@unittest.skipUnless(redis_support.REDIS_SERVER, redis_support.SKIP_REASON)
class RedisDownTest(unittest.TestCase):
    def test_stopped_server_gives_500(self):
        with redis_support.RedisServer() as r:
            mgr = cs.Manager(cs.Config().add_key(KEY).set_secure(False), cs.RedisStore(r.url))
            app = validated(Site(), mgr)
            status, headers, body, _ = call(app, None, "/count")
            self.assertEqual((status, body), ("200 OK", b"None 1"))
            cookie = cookie_pair(set_cookie(headers))
            self.assertEqual(call(app, cookie, "/count")[2], b"None 2")
            r.stop()
            for c in (cookie, None):  # the load fails; the save fails
                status, headers, body, errors = call(app, c, "/count")
                self.assertEqual(status, "500 Internal Server Error")
                self.assertIsNone(set_cookie(headers))
                self.assertIn("Redis", errors)
            mgr.close()


if __name__ == "__main__":
    run("__main__")
