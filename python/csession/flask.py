"""Flask sessions kept by csession: flask.session is a csession Session.

    import csession, csession.flask, flask
    manager = csession.Manager(config, csession.RedisStore("redis://127.0.0.1:6379"))
    app = flask.Flask(__name__)
    app.session_interface = csession.flask.CsessionInterface(manager)

    @app.post("/login")
    def login():
        flask.session.renew()                  # a new session key, same data
        flask.session["user"] = request.form["user"]
        ...
    @app.post("/logout")
    def logout():
        flask.session.purge()                  # deleted from the store, cookie removed

flask.session is then a FlaskSession: a csession.Session (get, [], del,
clear, pop, setdefault, update, renew(), purge()) with the attributes Flask
and its extensions read. Values are JSON; reading one gives a copy, so a
list or dict changed in place must be stored again (session["cart"] = cart).

The cookie is csession's: its name, attributes and lifetime come from the
csession.Config of the manager, and Flask's SESSION_COOKIE_* settings,
SECRET_KEY and permanent_session_lifetime are not used.

Failures: a store that fails while the session is loaded or committed
raises the CsessionError (StoreError, StoreTimeout, ...) inside Flask,
which answers 500 (through an errorhandler(500) if the application has
one), or, with TESTING or DEBUG on, lets it propagate as it does any
exception. As with Flask's own sessions, the session is committed with
every response Flask makes for the request, error pages included.
"""
import flask.sessions

from .session import Session, Status


class FlaskSession(Session, flask.sessions.SessionMixin):
    """flask.session: a csession.Session with Flask's session attributes."""

    # Set by reading a value, for the Vary: Cookie header.
    accessed = False
    _committed = False

    @property
    def modified(self):
        """True once the session was changed (its status is not UNCHANGED).
        Setting it does nothing: every change is tracked already."""
        return self._ptr is not None and self.status != Status.UNCHANGED

    @modified.setter
    def modified(self, value):
        pass


def _reading(name):
    read = getattr(Session, name)

    def reader(self, *args):
        self.accessed = True
        return read(self, *args)
    reader.__name__ = name
    reader.__doc__ = read.__doc__
    return reader


# Every read of the map goes through one of these.
for _name in ("__getitem__", "__contains__", "__len__", "keys", "type", "get_int", "get_float",
              "get_bool", "get_str", "is_null", "get_json"):
    setattr(FlaskSession, _name, _reading(_name))


class CsessionInterface(flask.sessions.SessionInterface):
    """A Flask SessionInterface over a csession.Manager (used, not owned:
    close the manager when the application is done). The manager is shared
    by every request and thread; each request gets a session of its own,
    freed when its response is closed."""

    session_class = FlaskSession

    def __init__(self, manager):
        self.manager = manager

    def open_session(self, app, request):
        return self.manager.load(request.environ.get("HTTP_COOKIE"),
                                 session_class=self.session_class)

    def save_session(self, app, session, response):
        if not isinstance(session, Session) or session._ptr is None:
            return  # opening it failed: there is nothing to save
        response.call_on_close(session.close)
        if session._committed:
            return  # the error page Flask makes after a failed commit
        session._committed = True
        set_cookie = self.manager.commit(session)
        if set_cookie is not None:
            response.headers.add("Set-Cookie", set_cookie)
        if set_cookie is not None or session.accessed:
            response.vary.add("Cookie")
