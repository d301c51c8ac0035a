"""csession for Python: the C library's public API through ctypes.

Standard library only. The shared library is found from, in order: the
path given to load_library(), the CSESSION_LIBRARY environment variable,
the library installed beside this package by `cmake --install`, and
ctypes.util.find_library("csession").

    import csession
    cfg = csession.Config().set_secure(False).add_key(csession.generate_key())
    mgr = csession.Manager(cfg, csession.MemoryStore())   # the manager takes the store
    with mgr.load(request_cookie_header) as s:            # None when there is none
        s["counter"] = s.get("counter", 0) + 1
        set_cookie = mgr.commit(s)                        # a Set-Cookie value, or None

Stores: MemoryStore, CookieStore, RedisStore (redis://, unix://,
redis+sentinel://, redis+cluster://) and PythonStore for your own. Any WSGI
application gets sessions through csession.wsgi.SessionMiddleware, a Flask
one through csession.flask.CsessionInterface (imported on its own, so that
`import csession` needs no framework).

Every failure raises CsessionError (code and the library's message), through a
subclass that is also the matching Python exception: NotFound is a KeyError,
WrongType a TypeError, InvalidArgument/TooBig/FormatError/OutOfRange are
ValueErrors, OutOfMemory a MemoryError, StoreTimeout a TimeoutError.

Objects own C memory and free it in close(), on leaving a `with` block, or
when garbage-collected. A Manager and its Config may be shared by threads
(ctypes releases the GIL during calls); a Session belongs to one request.
Key bytes handed to Python cannot be wiped from memory: prefer add_key_text()
with a key read from the environment, or keep keys out of Python entirely.
"""
from ._native import library_path, load_library, version
from .config import (DEFAULT_TTL, MAX_TTL, Config, SameSite, Security, TtlPolicy,
                     security_supported)
from .errors import (ECONFLICT, EFORMAT, EGONE, EINVAL, EINVALIDCOOKIE, ENOMEM, ENOTFOUND,
                     EPURGED, ERANGE, ERROR, ESTORE, ETIMEOUT, ETOOBIG, ETYPE, EUNSUPPORTED, OK,
                     Conflict, CsessionError, FormatError, Gone, InvalidArgument, InvalidCookie,
                     NotFound, OutOfMemory, OutOfRange, Purged, StoreError, StoreTimeout, TooBig,
                     Unsupported, WrongType)
from .keys import (KEY_BYTES, KEY_SECRET_MIN_BYTES, KEYRING_MAX_KEYS, KEYRING_MLOCK,
                   KEYRING_MLOCK_REQUIRED, KeyRing, derive_key, generate_key, key_from_text,
                   key_to_text, new_session_key, session_key_valid)
from .manager import Manager, TokenAction
from .session import Session, Status, ValueType
from .stores import CookieStore, MemoryStore, PythonStore, RedisStore, Store

__all__ = [
    "load_library", "library_path", "version", "CsessionError", "InvalidArgument",
    "OutOfMemory", "NotFound", "WrongType", "OutOfRange", "TooBig", "FormatError", "Purged",
    "StoreError", "StoreTimeout", "InvalidCookie", "Unsupported", "Conflict", "Gone", "Status",
    "ValueType", "SameSite", "Security", "TtlPolicy", "TokenAction", "Session", "Config",
    "Manager", "Store", "MemoryStore", "CookieStore", "RedisStore", "PythonStore", "KeyRing",
    "generate_key", "derive_key", "key_from_text", "key_to_text", "security_supported",
    "new_session_key", "session_key_valid", "KEY_BYTES", "KEY_SECRET_MIN_BYTES",
    "KEYRING_MAX_KEYS", "KEYRING_MLOCK", "KEYRING_MLOCK_REQUIRED", "DEFAULT_TTL", "MAX_TTL",
    # the codes of include/csession/errors.h
    "OK", "ERROR", "ENOMEM", "EINVAL", "ENOTFOUND", "ETYPE", "ERANGE", "ETOOBIG", "EFORMAT",
    "EPURGED", "ESTORE", "ETIMEOUT", "EINVALIDCOOKIE", "EUNSUPPORTED", "ECONFLICT", "EGONE",
]
