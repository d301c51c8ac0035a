"""Sessions for any WSGI application (PEP 3333).

    import csession, csession.wsgi
    manager = csession.Manager(config, csession.RedisStore("redis://127.0.0.1:6379"))
    app = csession.wsgi.SessionMiddleware(app, manager)

    def view(environ, start_response):         # inside the application
        session = environ["csession.session"]  # a csession.Session
        session["counter"] = session.get("counter", 0) + 1

For each request the middleware loads the session from the Cookie header,
puts it in environ["csession.session"] (ENVIRON_KEY; another key can be
given: PEP 3333 keeps names without a dot for CGI variables, which are
strings, and wsgiref.validate refuses anything else under them), runs the
application, commits the session once the application has
returned and named its status, and adds the Set-Cookie header that the
commit asks for. A store that fails (down, too slow) gives 500 instead of
the application's response, a Cookie header over 8192 bytes 431; the reason
goes to environ["wsgi.errors"]. When the application raises, the session is
neither committed nor kept and the exception goes on to the server. The
session is freed when the server closes the response.

Changes made after the commit, while the body is being sent, are not saved.
An application that calls start_response() only when its body is iterated
(a generator) is run up to its first chunk before the commit.

Threads: the middleware and its manager serve any number of requests at
once; each request has a session of its own. load and commit block the
request's thread while the store works (a Redis store for up to its
timeouts), not the other threads.
"""
import sys

from .errors import CsessionError, TooBig

ENVIRON_KEY = "csession.session"

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _close(iterable):
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


class SessionMiddleware:
    """Wraps the WSGI application `app` with sessions from `manager` (a
    csession.Manager, which the middleware uses but does not own)."""

    def __init__(self, app, manager, environ_key=ENVIRON_KEY):
        self.app = app
        self.manager = manager
        self.environ_key = environ_key

    def __call__(self, environ, start_response):
        try:
            session = self.manager.load(environ.get("HTTP_COOKIE"))
        except CsessionError as e:
            status, headers, body = self.error_response(environ, e, "load")
            start_response(status, headers)
            return [body]
        environ[self.environ_key] = session
        response = _Response(self, environ, session, start_response)
        try:
            return response.run(self.app(environ, response.start_response))
        except BaseException:
            session.close()
            raise

    def error_response(self, environ, error, stage):
        """The response that replaces the application's when loading
        (`stage` "load") or committing ("commit") the session failed with
        `error`: (status, headers, body bytes). It also writes the reason to
        wsgi.errors. Override it for a page of your own."""
        errors = environ.get("wsgi.errors") or sys.stderr
        errors.write("csession: cannot %s the session: %s\n" % (stage, error))
        if stage == "load" and isinstance(error, TooBig):
            status, body = "431 Request Header Fields Too Large", b"Cookie header too large\n"
        else:
            status, body = "500 Internal Server Error", b"session store error\n"
        return status, _TEXT + [("Content-Length", str(len(body)))], body


class _Response:
    """One request's response, held back from the server until the session
    is committed, since the commit decides a header."""

    def __init__(self, middleware, environ, session, start_response):
        self.middleware = middleware
        self.environ = environ
        self.session = session
        self.server_start_response = start_response
        self.status = self.headers = self.exc_info = None  # as the application started it
        self.server_write = None  # set once the headers went to the server
        self.failure = None  # the error body sent instead of the application's

    def start_response(self, status, headers, exc_info=None):
        if self.server_write is not None:
            # Too late to change the headers: the server re-raises exc_info.
            return self.server_start_response(status, headers, exc_info)
        if self.status is not None and exc_info is None:
            raise RuntimeError("start_response() called again without exc_info")
        self.status, self.headers, self.exc_info = status, list(headers), exc_info
        return self.write

    def write(self, data):
        """The write() callable of PEP 3333, for applications that use it."""
        self.send_headers()
        if self.failure is None:
            self.server_write(data)

    def send_headers(self):
        """Commits the session and starts the server's response: the
        application's, with the Set-Cookie header, or the error one."""
        if self.server_write is not None:
            return
        try:
            set_cookie = self.middleware.manager.commit(self.session)
        except CsessionError as e:
            status, headers, self.failure = self.middleware.error_response(self.environ, e,
                                                                           "commit")
            self.server_write = self.server_start_response(status, headers)
            return
        headers = self.headers
        if set_cookie is not None:
            headers = headers + [("Set-Cookie", set_cookie)]
        self.server_write = self.server_start_response(self.status, headers, self.exc_info)

    def run(self, app_iter):
        """What the server gets for the application's return value."""
        try:
            chunks = iter(app_iter)
            head = []
            while self.status is None:  # it starts the response while iterated
                chunk = next(chunks, None)
                if chunk is None:
                    raise RuntimeError("the application did not call start_response()")
                head.append(chunk)
            self.send_headers()
        except BaseException:
            _close(app_iter)
            raise
        if self.failure is not None:
            _close(app_iter)
            self.session.close()
            return [self.failure]
        return _Body(head, chunks, app_iter, self.session)


class _Body:
    """The application's body; closing it closes the application's and frees
    the session."""

    def __init__(self, head, rest, app_iter, session):
        self.head, self.rest, self.app_iter, self.session = head, rest, app_iter, session

    def __iter__(self):
        yield from self.head
        yield from self.rest

    def close(self):
        try:
            _close(self.app_iter)
        finally:
            self.session.close()
