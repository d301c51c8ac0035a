"""csession for Python: the C library's public API through ctypes.

Standard library only. The shared library is found from, in order: the
path given to load_library(), the CSESSION_LIBRARY environment variable,
and ctypes.util.find_library("csession").

    import csession
    cfg = csession.Config().set_secure(False).add_key(csession.generate_key())
    mgr = csession.Manager(cfg, csession.MemoryStore())   # the manager takes the store
    with mgr.load(request_cookie_header) as s:            # None when there is none
        s["counter"] = s.get("counter", 0) + 1
        set_cookie = mgr.commit(s)                        # a Set-Cookie value, or None

Every failure raises CsessionError (code and the library's message), through a
subclass that is also the matching Python exception: NotFound is a KeyError,
WrongType a TypeError, InvalidArgument/TooBig/FormatError/OutOfRange are
ValueErrors, OutOfMemory a MemoryError.

Objects own C memory and free it in close(), on leaving a `with` block, or
when garbage-collected. A Manager and its Config may be shared by threads
(ctypes releases the GIL during calls); a Session belongs to one thread.
Key bytes handed to Python cannot be wiped from memory: prefer add_key_text()
with a key read from the environment, or keep keys out of Python entirely.
"""
import ctypes
import ctypes.util
import enum
import json
import os
import threading

__all__ = [
    "load_library", "version", "CsessionError", "InvalidArgument", "OutOfMemory", "NotFound",
    "WrongType", "OutOfRange", "TooBig", "FormatError", "Purged", "StoreError", "StoreTimeout",
    "InvalidCookie", "Unsupported", "Status", "ValueType", "SameSite", "Security", "TtlPolicy",
    "TokenAction", "Session", "Config", "Manager", "Store", "MemoryStore", "CookieStore",
    "PythonStore", "generate_key", "derive_key", "key_from_text", "key_to_text",
    "security_supported", "new_session_key", "session_key_valid",
]

# ---- constants (their values are part of the C ABI) ----------------------

OK = 0
ERROR, ENOMEM, EINVAL, ENOTFOUND, ETYPE, ERANGE, ETOOBIG, EFORMAT = range(-1, -9, -1)
EPURGED, ESTORE, ETIMEOUT, EINVALIDCOOKIE, EUNSUPPORTED = range(-9, -14, -1)


class Status(enum.IntEnum):
    UNCHANGED = 0
    CHANGED = 1
    RENEWED = 2
    PURGED = 3


class ValueType(enum.IntEnum):
    NULL = 0
    BOOL = 1
    NUMBER = 2
    STRING = 3
    ARRAY = 4
    OBJECT = 5


class SameSite(enum.IntEnum):
    OMIT = 0
    STRICT = 1
    LAX = 2
    NONE = 3


class Security(enum.IntEnum):
    SIGNED = 1
    PRIVATE_AES256GCM = 2
    PRIVATE_XCHACHA20POLY1305 = 3


class TtlPolicy(enum.IntEnum):
    ON_STATE_CHANGES = 0
    ON_EVERY_REQUEST = 1


class TokenAction(enum.IntEnum):
    KEEP = 0
    SET = 1
    CLEAR = 2


# The memory store's options struct layout version this module mirrors.
_MEMORY_OPTIONS_VERSION = 1

# ---- errors ----------------------------------------------------------------


class CsessionError(Exception):
    """A failed csession call: .code is the CSESSION_E* code (negative),
    .message the library's per-thread message."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self):
        return "%s (%s)" % (self.message, _strerror(self.code))


class InvalidArgument(CsessionError, ValueError):
    pass


class OutOfMemory(CsessionError, MemoryError):
    pass


class NotFound(CsessionError, KeyError):
    pass


class WrongType(CsessionError, TypeError):
    pass


class OutOfRange(CsessionError, ValueError):
    pass


class TooBig(CsessionError, ValueError):
    pass


class FormatError(CsessionError, ValueError):
    pass


class Purged(CsessionError):
    pass


class StoreError(CsessionError):
    pass


class StoreTimeout(StoreError, TimeoutError):
    pass


class InvalidCookie(CsessionError):
    pass


class Unsupported(CsessionError):
    pass


_ERRORS = {
    EINVAL: InvalidArgument, ENOMEM: OutOfMemory, ENOTFOUND: NotFound, ETYPE: WrongType,
    ERANGE: OutOfRange, ETOOBIG: TooBig, EFORMAT: FormatError, EPURGED: Purged,
    ESTORE: StoreError, ETIMEOUT: StoreTimeout, EINVALIDCOOKIE: InvalidCookie,
    EUNSUPPORTED: Unsupported,
}

# ---- the library -----------------------------------------------------------

c_int, c_uint, c_size_t, c_int64 = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t, ctypes.c_int64
c_double, c_char_p, c_void_p = ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p
P = ctypes.POINTER


class _Buf(ctypes.Structure):
    """csession_buf."""
    _fields_ = [("ptr", c_void_p), ("size", c_size_t), ("capacity", c_size_t)]


class _MemoryOptions(ctypes.Structure):
    """csession_store_memory_options, version 1."""
    _fields_ = [("version", c_uint), ("max_sessions", c_size_t),
                ("max_state_bytes", c_size_t), ("shards", c_uint)]


# Store callbacks (include/csession/sys/store.h). Keys and states are byte
# ranges, not C strings, so they cross as void pointers with lengths.
_LOAD_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, P(_Buf))
_SAVE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_int64, P(_Buf))
_UPDATE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, c_int64,
                              P(_Buf))
_UPDATE_TTL_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_int64)
_REMOVE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
_FREE_FN = ctypes.CFUNCTYPE(None, c_void_p)


class _StoreStruct(ctypes.Structure):
    """struct csession_store, version 1."""
    _fields_ = [("version", c_uint), ("load", _LOAD_FN), ("save", _SAVE_FN),
                ("update", _UPDATE_FN), ("update_ttl", _UPDATE_TTL_FN),
                ("remove", _REMOVE_FN), ("free", _FREE_FN), ("payload", c_void_p)]


_PTR = P(c_void_p)
_BUF = P(_Buf)

# name: (restype, argtypes). Every function this module calls is declared.
_SIGNATURES = {
    # errors.h, library.h, buf.h
    "csession_strerror": (c_char_p, [c_int]),
    "csession_last_error": (c_char_p, []),
    "csession_last_error_code": (c_int, []),
    "csession_clear_error": (None, []),
    "csession_init": (c_int, []),
    "csession_version": (c_char_p, []),
    "csession_version_number": (c_int, []),
    "csession_buf_init": (None, [_BUF]),
    "csession_buf_dispose": (None, [_BUF]),
    "csession_buf_set": (c_int, [_BUF, c_void_p, c_size_t]),
    # session.h
    "csession_max_key_bytes": (c_size_t, []),
    "csession_max_depth": (c_int, []),
    "csession_new": (c_int, [_PTR]),
    "csession_free": (None, [c_void_p]),
    "csession_status": (c_int, [c_void_p]),
    "csession_status_name": (c_char_p, [c_int]),
    "csession_count": (c_size_t, [c_void_p]),
    "csession_contains": (c_int, [c_void_p, c_char_p]),
    "csession_type": (c_int, [c_void_p, c_char_p, P(c_int)]),
    "csession_key_at": (c_int, [c_void_p, c_size_t, P(c_char_p)]),
    "csession_get_int64": (c_int, [c_void_p, c_char_p, P(c_int64)]),
    "csession_get_double": (c_int, [c_void_p, c_char_p, P(c_double)]),
    "csession_get_bool": (c_int, [c_void_p, c_char_p, P(c_int)]),
    "csession_get_null": (c_int, [c_void_p, c_char_p]),
    "csession_get_string": (c_int, [c_void_p, c_char_p, _PTR, P(c_size_t)]),
    "csession_get_json": (c_int, [c_void_p, c_char_p, _BUF]),
    "csession_insert_int64": (c_int, [c_void_p, c_char_p, c_int64]),
    "csession_insert_double": (c_int, [c_void_p, c_char_p, c_double]),
    "csession_insert_bool": (c_int, [c_void_p, c_char_p, c_int]),
    "csession_insert_null": (c_int, [c_void_p, c_char_p]),
    "csession_insert_string": (c_int, [c_void_p, c_char_p, c_char_p]),
    "csession_insert_string_n": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t]),
    "csession_insert_json": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t]),
    "csession_remove": (c_int, [c_void_p, c_char_p]),
    "csession_clear": (c_int, [c_void_p]),
    "csession_purge": (c_int, [c_void_p]),
    "csession_renew": (c_int, [c_void_p]),
    # state.h
    "csession_max_state_bytes": (c_size_t, []),
    "csession_encode": (c_int, [c_void_p, _BUF]),
    "csession_decode": (c_int, [_PTR, c_char_p, c_size_t]),
    # keys.h
    "csession_key_bytes": (c_size_t, []),
    "csession_key_secret_min_bytes": (c_size_t, []),
    "csession_keyring_max_keys": (c_size_t, []),
    "csession_key_generate": (c_int, [c_void_p, c_size_t]),
    "csession_key_derive": (c_int, [c_void_p, c_size_t, c_char_p, c_size_t]),
    "csession_key_from_text": (c_int, [c_void_p, c_size_t, c_char_p, c_size_t]),
    "csession_key_to_text": (c_int, [_BUF, c_char_p, c_size_t]),
    # cookie_security.h
    "csession_cookie_security_check": (c_int, [c_int]),
    "csession_cookie_security_name": (c_char_p, [c_int]),
    # config.h
    "csession_config_new": (c_int, [_PTR]),
    "csession_config_free": (None, [c_void_p]),
    "csession_config_add_key": (c_int, [c_void_p, c_char_p, c_size_t]),
    "csession_config_add_key_text": (c_int, [c_void_p, c_char_p, c_size_t]),
    "csession_config_key_count": (c_size_t, [c_void_p]),
    "csession_config_set_cookie_name": (c_int, [c_void_p, c_char_p]),
    "csession_config_set_path": (c_int, [c_void_p, c_char_p]),
    "csession_config_set_domain": (c_int, [c_void_p, c_char_p]),
    "csession_config_set_secure": (c_int, [c_void_p, c_int]),
    "csession_config_set_http_only": (c_int, [c_void_p, c_int]),
    "csession_config_set_same_site": (c_int, [c_void_p, c_int]),
    "csession_config_set_partitioned": (c_int, [c_void_p, c_int]),
    "csession_config_set_security": (c_int, [c_void_p, c_int]),
    "csession_config_set_browser_session": (c_int, [c_void_p, c_int64]),
    "csession_config_set_persistent": (c_int, [c_void_p, c_int64]),
    "csession_config_set_ttl_policy": (c_int, [c_void_p, c_int]),
    # manager.h
    "csession_manager_new": (c_int, [_PTR, c_void_p, c_void_p]),
    "csession_manager_free": (None, [c_void_p]),
    "csession_manager_load": (c_int, [c_void_p, c_char_p, c_size_t, _PTR]),
    "csession_manager_commit": (c_int, [c_void_p, c_void_p, _BUF]),
    "csession_manager_load_token": (c_int, [c_void_p, c_char_p, c_size_t, _PTR]),
    "csession_manager_commit_token": (c_int, [c_void_p, c_void_p, _BUF, P(c_int)]),
    # sys/store.h, store_memory.h, store_cookie.h
    "csession_store_version": (c_uint, []),
    "csession_store_free": (None, [c_void_p]),
    "csession_set_error": (c_int, [c_int, c_char_p]),
    "csession_session_key_length": (c_size_t, []),
    "csession_session_key_generate": (c_int, [c_void_p, c_size_t]),
    "csession_session_key_valid": (c_int, [c_char_p, c_size_t]),
    "csession_store_memory_options_init": (c_int, [P(_MemoryOptions), c_uint]),
    "csession_store_memory_new": (c_int, [_PTR, P(_MemoryOptions)]),
    "csession_store_cookie_new": (c_int, [_PTR]),
}

_lib = None
_lib_lock = threading.Lock()


def load_library(path=None):
    """Loads libcsession (once) and returns the ctypes handle. `path` wins
    over $CSESSION_LIBRARY, which wins over ctypes.util.find_library()."""
    global _lib
    with _lib_lock:
        if _lib is not None and path is None:
            return _lib
        name = path or os.environ.get("CSESSION_LIBRARY") or ctypes.util.find_library("csession")
        if not name:
            raise OSError("libcsession not found: install it, or set CSESSION_LIBRARY to the "
                          "path of libcsession.so")
        lib = ctypes.CDLL(name)
        for fn, (restype, argtypes) in _SIGNATURES.items():
            f = getattr(lib, fn)
            f.restype = restype
            f.argtypes = argtypes
        if lib.csession_init() != OK:
            raise CsessionError(ERROR, lib.csession_last_error().decode())
        _lib = lib
        return lib


def _L():
    return _lib if _lib is not None else load_library()


def _strerror(code):
    try:
        return _L().csession_strerror(code).decode()
    except Exception:  # while the interpreter shuts down
        return "error %d" % code


def _raise(code):
    message = _L().csession_last_error().decode("utf-8", "replace")
    raise _ERRORS.get(code, CsessionError)(code, message)


def _check(rc):
    if rc < 0:
        _raise(rc)
    return rc


def _fail(code, message):
    """Raises like the library would, for a refusal made on this side."""
    raise _ERRORS.get(code, CsessionError)(code, message)


def _key(key):
    """A session key as the C string the library wants."""
    if not isinstance(key, str):
        raise TypeError("session keys are str, not %s" % type(key).__name__)
    if "\0" in key:
        _fail(EINVAL, "key contains a NUL character")
    # Lone surrogates go through as the bytes they are; the library refuses
    # them as invalid UTF-8.
    return key.encode("utf-8", "surrogatepass")


def _text(value, what):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError("%s must be str or bytes" % what)


def _cstring(value, what):
    b = _text(value, what)
    if b"\0" in b:
        _fail(EINVAL, "%s contains a NUL character" % what)
    return b


def _take_buf(buf):
    """The bytes of a filled csession_buf; the buf is disposed (wiped)."""
    try:
        return ctypes.string_at(buf.ptr, buf.size) if buf.ptr else b""
    finally:
        _L().csession_buf_dispose(ctypes.byref(buf))


def version():
    """The C library's version string."""
    return _L().csession_version().decode()


class _Handle:
    """An owned C pointer released by `_free_fn` (a library function name)."""
    _free_fn = None

    def __init__(self):
        self._ptr = None

    def _p(self):
        if self._ptr is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            getattr(_L(), self._free_fn)(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # the module may be half torn down at exit
            pass


# ---- keys ------------------------------------------------------------------

def generate_key():
    """A new random 64-byte master key."""
    n = _L().csession_key_bytes()
    buf = ctypes.create_string_buffer(n)
    try:
        _check(_L().csession_key_generate(buf, n))
        return buf.raw
    finally:
        ctypes.memset(buf, 0, n)


def derive_key(secret):
    """The master key the Rust cookie crate derives from `secret` (>= 32 random bytes)."""
    n = _L().csession_key_bytes()
    buf = ctypes.create_string_buffer(n)
    try:
        s = bytes(secret)
        _check(_L().csession_key_derive(buf, n, s, len(s)))
        return buf.raw
    finally:
        ctypes.memset(buf, 0, n)


def key_from_text(text):
    """Decodes a master key written as 128 hex digits or base64."""
    n = _L().csession_key_bytes()
    buf = ctypes.create_string_buffer(n)
    t = _text(text, "key text")
    try:
        _check(_L().csession_key_from_text(buf, n, t, len(t)))
        return buf.raw
    finally:
        ctypes.memset(buf, 0, n)


def key_to_text(key):
    """A master key as 128 lowercase hex digits."""
    out = _Buf()
    k = bytes(key)
    rc = _L().csession_key_to_text(ctypes.byref(out), k, len(k))
    text = _take_buf(out)
    _check(rc)
    return text.decode()


def security_supported(mode):
    """True when this machine can use the cookie protection `mode` (a Security)."""
    rc = _L().csession_cookie_security_check(int(mode))
    if rc == EUNSUPPORTED:
        return False
    _check(rc)
    return True


def new_session_key():
    """A fresh 64-character session key, for stores written in Python."""
    n = _L().csession_session_key_length() + 1
    buf = ctypes.create_string_buffer(n)
    _check(_L().csession_session_key_generate(buf, n))
    return buf.value


def session_key_valid(key):
    """True when `key` (bytes) has the shape of a key new_session_key() makes."""
    key = bytes(key)
    return _L().csession_session_key_valid(key, len(key)) == 1


# ---- session ---------------------------------------------------------------

class Session(_Handle):
    """A session: a map of str keys to JSON values, with a status.

    Session() makes a standalone one (tests, or the map on its own);
    Manager.load() makes the ones a request uses. Integral numbers read back
    as int, others as float; arrays and objects as lists and dicts.
    """
    _free_fn = "csession_free"

    def __init__(self, _ptr=None, _manager=None):
        super().__init__()
        if _ptr is None:
            out = c_void_p()
            _check(_L().csession_new(ctypes.byref(out)))
            _ptr = out.value
        self._ptr = _ptr
        self._manager = _manager  # keeps the manager alive while the session is

    @classmethod
    def decode(cls, data):
        """A session from a stored state ({"v":1,"state":{...}} and older forms)."""
        d = _text(data, "state")
        out = c_void_p()
        _check(_L().csession_decode(ctypes.byref(out), d, len(d)))
        return cls(out.value)

    def encode(self):
        """The stored form of the values, as str."""
        out = _Buf()
        rc = _L().csession_encode(self._p(), ctypes.byref(out))
        data = _take_buf(out)
        _check(rc)
        return data.decode()

    @property
    def status(self):
        return Status(_L().csession_status(self._p()))

    def __len__(self):
        return _L().csession_count(self._p())

    def __contains__(self, key):
        return isinstance(key, str) and _L().csession_contains(self._p(), _key(key)) == 1

    def keys(self):
        """The keys, in insertion order."""
        out = []
        k = c_char_p()
        for i in range(len(self)):
            _check(_L().csession_key_at(self._p(), i, ctypes.byref(k)))
            out.append(k.value.decode("utf-8", "surrogatepass"))
        return out

    def __iter__(self):
        return iter(self.keys())

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def to_dict(self):
        return dict(self.items())

    def type(self, key):
        t = c_int()
        _check(_L().csession_type(self._p(), _key(key), ctypes.byref(t)))
        return ValueType(t.value)

    # typed getters: NotFound when absent, WrongType for another type
    def get_int(self, key):
        v = c_int64()
        _check(_L().csession_get_int64(self._p(), _key(key), ctypes.byref(v)))
        return v.value

    def get_float(self, key):
        v = c_double()
        _check(_L().csession_get_double(self._p(), _key(key), ctypes.byref(v)))
        return v.value

    def get_bool(self, key):
        v = c_int()
        _check(_L().csession_get_bool(self._p(), _key(key), ctypes.byref(v)))
        return bool(v.value)

    def get_str(self, key):
        ptr, n = c_void_p(), c_size_t()
        _check(_L().csession_get_string(self._p(), _key(key), ctypes.byref(ptr), ctypes.byref(n)))
        return ctypes.string_at(ptr.value, n.value).decode() if n.value else ""

    def is_null(self, key):
        """True for JSON null, False for another type; NotFound when absent."""
        rc = _L().csession_get_null(self._p(), _key(key))
        if rc == ETYPE:
            return False
        _check(rc)
        return True

    def get_json(self, key):
        """The value as compact JSON text."""
        out = _Buf()
        rc = _L().csession_get_json(self._p(), _key(key), ctypes.byref(out))
        data = _take_buf(out)
        _check(rc)
        return data.decode()

    def __getitem__(self, key):
        t = self.type(key)
        if t == ValueType.NULL:
            return None
        if t == ValueType.BOOL:
            return self.get_bool(key)
        if t == ValueType.STRING:
            return self.get_str(key)
        if t == ValueType.NUMBER:
            try:
                return self.get_int(key)
            except OutOfRange:  # not integral, or beyond 2^53
                return self.get_float(key)
        return json.loads(self.get_json(key))

    def get(self, key, default=None):
        try:
            return self[key]
        except NotFound:
            return default

    # setters
    def insert(self, key, value):
        """Stores `value` (None, bool, int, float, str, or anything json.dumps
        takes) under `key`."""
        k, p, L = _key(key), self._p(), _L()
        if value is None:
            rc = L.csession_insert_null(p, k)
        elif isinstance(value, bool):
            rc = L.csession_insert_bool(p, k, 1 if value else 0)
        elif isinstance(value, int):
            if not -(2 ** 63) <= value < 2 ** 63:
                _fail(ERANGE, "integer %d does not fit in 64 bits" % value)
            rc = L.csession_insert_int64(p, k, value)
        elif isinstance(value, float):
            rc = L.csession_insert_double(p, k, value)
        elif isinstance(value, str):
            b = value.encode("utf-8", "surrogatepass")
            rc = L.csession_insert_string_n(p, k, b, len(b))
        else:
            try:
                text = json.dumps(value, allow_nan=False, ensure_ascii=False)
            except (TypeError, ValueError) as e:
                raise TypeError("cannot store %s: %s" % (type(value).__name__, e)) from None
            return self.insert_json(key, text)
        _check(rc)

    __setitem__ = insert

    def insert_json(self, key, text):
        """Stores the one JSON value written in `text`."""
        b = _text(text, "JSON text")
        _check(_L().csession_insert_json(self._p(), _key(key), b, len(b)))

    def remove(self, key):
        """Removes `key`; True when it was there. The status changes either way."""
        rc = _L().csession_remove(self._p(), _key(key))
        if rc == ENOTFOUND:
            return False
        _check(rc)
        return True

    def __delitem__(self, key):
        if not self.remove(key):
            _fail(ENOTFOUND, "no key \"%s\"" % key)

    def clear(self):
        _check(_L().csession_clear(self._p()))

    def purge(self):
        """Logout: clears the state; committing deletes it and removes the cookie."""
        _check(_L().csession_purge(self._p()))

    def renew(self):
        """Login: same state, new session key at commit."""
        _check(_L().csession_renew(self._p()))

    def __repr__(self):
        if self._ptr is None:
            return "<csession.Session closed>"
        return "<csession.Session %s %r>" % (self.status.name.lower(), self.to_dict())


# ---- configuration -----------------------------------------------------------

class Config(_Handle):
    """How sessions are kept. Starts with actix-session's defaults; every
    setter returns the Config so that calls can be chained."""
    _free_fn = "csession_config_free"

    def __init__(self):
        super().__init__()
        out = c_void_p()
        _check(_L().csession_config_new(ctypes.byref(out)))
        self._ptr = out.value

    def _set(self, fn, *args):
        _check(getattr(_L(), fn)(self._p(), *args))
        return self

    def add_key(self, key):
        """Adds a 64-byte master key; the first one added seals new cookies."""
        k = bytes(key)
        return self._set("csession_config_add_key", k, len(k))

    def add_key_text(self, text):
        """Adds a master key written as hex or base64."""
        t = _text(text, "key text")
        return self._set("csession_config_add_key_text", t, len(t))

    @property
    def key_count(self):
        return _L().csession_config_key_count(self._p())

    def set_cookie_name(self, name):
        return self._set("csession_config_set_cookie_name", _cstring(name, "cookie name"))

    def set_path(self, path):
        return self._set("csession_config_set_path", _cstring(path, "path"))

    def set_domain(self, domain):
        """The Domain attribute, or None for a host-only cookie."""
        d = None if domain is None else _cstring(domain, "domain")
        return self._set("csession_config_set_domain", d)

    def set_secure(self, on):
        return self._set("csession_config_set_secure", 1 if on else 0)

    def set_http_only(self, on):
        return self._set("csession_config_set_http_only", 1 if on else 0)

    def set_same_site(self, same_site):
        return self._set("csession_config_set_same_site", int(same_site))

    def set_partitioned(self, on):
        return self._set("csession_config_set_partitioned", 1 if on else 0)

    def set_security(self, mode):
        return self._set("csession_config_set_security", int(mode))

    def set_browser_session(self, state_ttl_seconds):
        return self._set("csession_config_set_browser_session", int(state_ttl_seconds))

    def set_persistent(self, session_ttl_seconds):
        return self._set("csession_config_set_persistent", int(session_ttl_seconds))

    def set_ttl_policy(self, policy):
        return self._set("csession_config_set_ttl_policy", int(policy))


# ---- stores ------------------------------------------------------------------

class Store(_Handle):
    """A session store. Handing it to a Manager transfers it: the manager
    frees it, and this object can no longer be used."""
    _free_fn = "csession_store_free"

    def _handed_over(self):
        self._ptr = None


class MemoryStore(Store):
    """The in-memory store (this process only). Zero means the default."""

    def __init__(self, max_sessions=0, max_state_bytes=0, shards=0):
        super().__init__()
        opts = _MemoryOptions()
        _check(_L().csession_store_memory_options_init(ctypes.byref(opts),
                                                        _MEMORY_OPTIONS_VERSION))
        opts.max_sessions, opts.max_state_bytes, opts.shards = max_sessions, max_state_bytes, shards
        out = c_void_p()
        _check(_L().csession_store_memory_new(ctypes.byref(out), ctypes.byref(opts)))
        self._ptr = out.value


class CookieStore(Store):
    """The state travels sealed in the cookie itself."""

    def __init__(self):
        super().__init__()
        out = c_void_p()
        _check(_L().csession_store_cookie_new(ctypes.byref(out)))
        self._ptr = out.value


# Stores written in Python: the C struct is filled with these module-level
# trampolines, which find the Python object by the struct's address. Being
# module-level, they outlive every store, including during its own `free`.
_PY_STORES = {}
_PY_STORES_LOCK = threading.Lock()


def _py_store(addr):
    with _PY_STORES_LOCK:
        return _PY_STORES[addr]


def _bytes_at(ptr, n):
    return ctypes.string_at(ptr, n) if n else b""


def _store_call(fn):
    """Turns Python outcomes into store return codes: exceptions become
    CSESSION_ESTORE (or their own code) with the message set."""
    def wrapper(store, *args):
        try:
            return fn(_py_store(store), *args)
        except CsessionError as e:
            return _L().csession_set_error(e.code, str(e.message).encode()[:511])
        except MemoryError:
            return _L().csession_set_error(ENOMEM, None)
        except BaseException as e:  # never let an exception unwind into C
            msg = ("python store: %s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")
            return _L().csession_set_error(ESTORE, msg[:511])
    return wrapper


def _fill(buf, data):
    data = bytes(data)
    return _L().csession_buf_set(buf, data, len(data))


@_LOAD_FN
@_store_call
def _tramp_load(self, key, key_len, out):
    state = self.load(_bytes_at(key, key_len))
    if state is None:
        return ENOTFOUND
    return _fill(out, state)


@_SAVE_FN
@_store_call
def _tramp_save(self, state, state_len, ttl, key_out):
    return _fill(key_out, self.save(_bytes_at(state, state_len), ttl))


@_UPDATE_FN
@_store_call
def _tramp_update(self, key, key_len, state, state_len, ttl, key_out):
    return _fill(key_out, self.update(_bytes_at(key, key_len), _bytes_at(state, state_len), ttl))


@_UPDATE_TTL_FN
@_store_call
def _tramp_update_ttl(self, key, key_len, ttl):
    self.update_ttl(_bytes_at(key, key_len), ttl)
    return OK


@_REMOVE_FN
@_store_call
def _tramp_remove(self, key, key_len):
    self.remove(_bytes_at(key, key_len))
    return OK


@_FREE_FN
def _tramp_free(store):
    with _PY_STORES_LOCK:
        obj = _PY_STORES.pop(store, None)
    if obj is not None:
        try:
            obj.release()
        except Exception:
            pass


class PythonStore(Store):
    """Base class of a store written in Python, through the C vtable.

    Override load(key) -> bytes or None (unknown or expired),
    save(state, ttl) -> new key (bytes; use new_session_key()),
    update(key, state, ttl) -> key (saves under a new key when `key` is gone),
    update_ttl(key, ttl) and remove(key); release() is called when the store
    is freed. Keys and states are bytes; ttl is in seconds. Methods run on
    the thread of the request, concurrently: lock what they share. An
    exception becomes CSESSION_ESTORE (a CsessionError keeps its own code).
    """

    def __init__(self):
        super().__init__()
        # The struct has the version 1 layout: say so, whatever the
        # library's own newest version is.
        self._struct = _StoreStruct(1, _tramp_load, _tramp_save,
                                    _tramp_update, _tramp_update_ttl, _tramp_remove, _tramp_free,
                                    None)
        addr = ctypes.addressof(self._struct)
        with _PY_STORES_LOCK:
            _PY_STORES[addr] = self  # alive until the library frees it
        self._ptr = addr

    def load(self, key):
        raise NotImplementedError

    def save(self, state, ttl):
        raise NotImplementedError

    def update(self, key, state, ttl):
        raise NotImplementedError

    def update_ttl(self, key, ttl):
        raise NotImplementedError

    def remove(self, key):
        raise NotImplementedError

    def release(self):
        pass

    def __del__(self):
        pass  # the registry holds it until csession_store_free() calls free


# ---- manager -----------------------------------------------------------------

class Manager(_Handle):
    """The request flow: load(Cookie header) -> Session, commit(Session) ->
    Set-Cookie value. Takes the store (None: a memory store with defaults);
    the Config is copied and may be closed afterwards."""
    _free_fn = "csession_manager_free"

    def __init__(self, config, store=None):
        super().__init__()
        out = c_void_p()
        sp = store._p() if store is not None else None
        _check(_L().csession_manager_new(ctypes.byref(out), config._p(), sp))
        self._ptr = out.value
        if store is not None:
            store._handed_over()

    def _session(self, out):
        return Session(out.value, _manager=self)

    def load(self, cookie_header=None):
        """The session of a request, from its Cookie header value (str, bytes or None)."""
        h = b"" if cookie_header is None else _text(cookie_header, "Cookie header")
        out = c_void_p()
        _check(_L().csession_manager_load(self._p(), h, len(h), ctypes.byref(out)))
        return self._session(out)

    def _own(self, session):
        if session._manager is not self:
            _fail(EINVAL, "the session was not loaded by this manager")
        return session._p()

    def commit(self, session):
        """Writes the session back; returns the Set-Cookie value due, or None."""
        out = _Buf()
        rc = _L().csession_manager_commit(self._p(), self._own(session), ctypes.byref(out))
        data = _take_buf(out)
        _check(rc)
        return data.decode() if data else None

    def load_token(self, token=None):
        """The session carried by a token (e.g. from an Authorization header)."""
        t = b"" if token is None else _text(token, "token")
        out = c_void_p()
        _check(_L().csession_manager_load_token(self._p(), t, len(t), ctypes.byref(out)))
        return self._session(out)

    def commit_token(self, session):
        """Writes the session back; returns (TokenAction, token or None)."""
        out, action = _Buf(), c_int()
        rc = _L().csession_manager_commit_token(self._p(), self._own(session), ctypes.byref(out),
                                                ctypes.byref(action))
        data = _take_buf(out)
        _check(rc)
        act = TokenAction(action.value)
        return act, (data.decode() if act == TokenAction.SET else None)
