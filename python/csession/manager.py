"""The request flow (include/csession/manager.h): Cookie header -> Session
-> Set-Cookie value."""
import ctypes
import enum

from . import _native
from ._native import L, check, fail, text
from .errors import EINVAL
from .session import Session


class TokenAction(enum.IntEnum):
    KEEP = 0
    SET = 1
    CLEAR = 2


class Manager(_native.Handle):
    """The request flow: load(Cookie header) -> Session, commit(Session) ->
    Set-Cookie value. Takes the store (None: a memory store with defaults);
    the Config is copied and may be closed afterwards.

    One manager serves a whole application: it is immutable once made and
    its methods may run on any number of threads at once (ctypes releases
    the GIL during each call). load() and commit() block the calling thread
    while the store works: a Redis store for up to its timeouts. close() it
    when no request uses it any more; it frees the store too."""
    _free_fn = "csession_manager_free"

    def __init__(self, config, store=None):
        super().__init__()
        self._keep = ()
        out = ctypes.c_void_p()
        sp = store._p() if store is not None else None
        check(L().csession_manager_new(ctypes.byref(out), config._p(), sp))
        self._ptr = out.value
        if store is not None:
            _, self._keep = store._hand_over()  # what the store calls, alive as long as we are

    def close(self):
        super().close()
        self._keep = ()

    def _session(self, out, session_class):
        return session_class(out.value, _manager=self)

    def load(self, cookie_header=None, session_class=Session):
        """The session of a request, from its Cookie header value (str, bytes
        or None), as a `session_class` (a Session subclass, for
        integrations). A missing, invalid or tampered cookie gives a fresh
        session. TooBig for a header over 8192 bytes (answer 431),
        StoreError/StoreTimeout when the store fails (answer 500)."""
        h = b"" if cookie_header is None else text(cookie_header, "Cookie header")
        out = ctypes.c_void_p()
        check(L().csession_manager_load(self._p(), h, len(h), ctypes.byref(out)))
        return self._session(out, session_class)

    def _own(self, session):
        if session._manager is not self:
            fail(EINVAL, "the session was not loaded by this manager")
        return session._p()

    def commit(self, session):
        """Writes the session back; returns the Set-Cookie value due, or None.
        On failure (StoreError, StoreTimeout, TooBig, Conflict, Gone, ...) the
        session is left as it was."""
        p, s = self._p(), self._own(session)
        data = _native.into_buf(lambda out: L().csession_manager_commit(p, s, out))
        return data.decode() if data else None

    def load_token(self, token=None, session_class=Session):
        """The session carried by a token (e.g. from an Authorization header)."""
        t = b"" if token is None else text(token, "token")
        out = ctypes.c_void_p()
        check(L().csession_manager_load_token(self._p(), t, len(t), ctypes.byref(out)))
        return self._session(out, session_class)

    def commit_token(self, session):
        """Writes the session back; returns (TokenAction, token or None)."""
        p, s, action = self._p(), self._own(session), ctypes.c_int()
        data = _native.into_buf(
            lambda out: L().csession_manager_commit_token(p, s, out, ctypes.byref(action)))
        act = TokenAction(action.value)
        return act, (data.decode() if act == TokenAction.SET else None)
