"""The shared library: finding and loading it, the C types and signatures
this package uses, and the helpers that turn return codes into exceptions.

Not part of the public API except load_library() and version(), which the
package re-exports.
"""
import ctypes
import ctypes.util
import os
import threading

from .errors import EINVAL, ENOMEM, ERROR, ESTORE, CsessionError, error_class

c_int, c_uint, c_size_t, c_int64 = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t, ctypes.c_int64
c_double, c_char_p, c_void_p = ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p
P = ctypes.POINTER


class Buf(ctypes.Structure):
    """csession_buf."""
    _fields_ = [("ptr", c_void_p), ("size", c_size_t), ("capacity", c_size_t)]


# Option structs carry a version first; each mirrors the version named
# here, and the library fills the fields of that version's defaults.
MEMORY_OPTIONS_VERSION = 1
REDIS_OPTIONS_VERSION = 1
# The layout of struct csession_store that StoreStruct mirrors. It is what a
# store written in Python declares, whatever version the library is at.
STORE_VERSION = 1


class MemoryOptions(ctypes.Structure):
    """csession_store_memory_options, version 1."""
    _fields_ = [("version", c_uint), ("max_sessions", c_size_t),
                ("max_state_bytes", c_size_t), ("shards", c_uint)]


# csession_store_redis_key_mapper: the session key is bytes with a length.
KEY_MAPPER_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, P(Buf), c_void_p)


class RedisOptions(ctypes.Structure):
    """csession_store_redis_options, version 1."""
    _fields_ = [("version", c_uint), ("connect_timeout_ms", c_uint),
                ("command_timeout_ms", c_uint), ("pool_size", c_uint),
                ("pool_wait_timeout_ms", c_uint), ("max_state_bytes", c_size_t),
                ("key_prefix", c_char_p), ("key_mapper", KEY_MAPPER_FN),
                ("key_mapper_payload", c_void_p)]


# Store callbacks (include/csession/sys/store.h). Keys and states are byte
# ranges, not C strings, so they cross as void pointers with lengths.
LOAD_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, P(Buf))
SAVE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_int64, P(Buf))
UPDATE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, c_int64,
                             P(Buf))
UPDATE_TTL_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_int64)
REMOVE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
FREE_FN = ctypes.CFUNCTYPE(None, c_void_p)


class StoreStruct(ctypes.Structure):
    """struct csession_store, version 1."""
    _fields_ = [("version", c_uint), ("load", LOAD_FN), ("save", SAVE_FN),
                ("update", UPDATE_FN), ("update_ttl", UPDATE_TTL_FN),
                ("remove", REMOVE_FN), ("free", FREE_FN), ("payload", c_void_p)]


_PTR = P(c_void_p)
_BUF = P(Buf)

# name: (restype, argtypes). Every function this package calls is declared.
SIGNATURES = {
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
    "csession_keyring_new": (c_int, [_PTR, c_uint]),
    "csession_keyring_free": (None, [c_void_p]),
    "csession_keyring_add": (c_int, [c_void_p, c_char_p, c_size_t]),
    "csession_keyring_add_text": (c_int, [c_void_p, c_char_p, c_size_t]),
    "csession_keyring_add_derived": (c_int, [c_void_p, c_char_p, c_size_t]),
    "csession_keyring_count": (c_size_t, [c_void_p]),
    "csession_keyring_locked": (c_int, [c_void_p]),
    # cookie_security.h
    "csession_cookie_security_check": (c_int, [c_int]),
    "csession_cookie_security_name": (c_char_p, [c_int]),
    # config.h
    "csession_config_default_ttl": (c_int64, []),
    "csession_config_max_ttl": (c_int64, []),
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
    # sys/store.h, store_memory.h, store_cookie.h, store_redis.h
    "csession_store_version": (c_uint, []),
    "csession_store_free": (None, [c_void_p]),
    "csession_set_error": (c_int, [c_int, c_char_p]),
    "csession_session_key_length": (c_size_t, []),
    "csession_session_key_generate": (c_int, [c_void_p, c_size_t]),
    "csession_session_key_valid": (c_int, [c_char_p, c_size_t]),
    "csession_store_memory_options_version": (c_uint, []),
    "csession_store_memory_options_init": (c_int, [P(MemoryOptions), c_uint]),
    "csession_store_memory_new": (c_int, [_PTR, P(MemoryOptions)]),
    "csession_store_cookie_new": (c_int, [_PTR]),
    "csession_store_redis_options_init": (c_int, [P(RedisOptions), c_uint]),
    "csession_store_redis_new": (c_int, [_PTR, c_char_p, P(RedisOptions)]),
}

_lib = None
_lib_lock = threading.Lock()


def _installed_paths():
    """Where `cmake --install` put the shared library, when this package was
    installed by it (it writes _paths.py beside this file): the place
    relative to the package first, so that a moved prefix still works."""
    try:
        from . import _paths
    except ImportError:  # used from a source tree
        return []
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.normpath(os.path.join(here, _paths.LIBRARY_DIR_FROM_PACKAGE,
                                          _paths.LIBRARY_FILE)),
            os.path.join(_paths.LIBRARY_DIR, _paths.LIBRARY_FILE)]


def library_path():
    """The shared library load_library() loads when given no path: the
    CSESSION_LIBRARY environment variable, else the library installed beside
    this package, else what ctypes.util.find_library("csession") finds.
    None when there is none."""
    env = os.environ.get("CSESSION_LIBRARY")
    if env:
        return env
    for path in _installed_paths():
        if os.path.exists(path):
            return path
    return ctypes.util.find_library("csession")


def load_library(path=None):
    """Loads libcsession (once) and returns the ctypes handle. `path` wins
    over library_path(). Raises OSError when the library cannot be found or
    loaded."""
    global _lib
    with _lib_lock:
        if _lib is not None and path is None:
            return _lib
        name = path or library_path()
        if not name:
            raise OSError("libcsession not found: install it, or set CSESSION_LIBRARY to the "
                          "path of libcsession.so")
        lib = ctypes.CDLL(name)
        for fn, (restype, argtypes) in SIGNATURES.items():
            f = getattr(lib, fn)
            f.restype = restype
            f.argtypes = argtypes
        if lib.csession_init() != 0:
            raise CsessionError(ERROR, lib.csession_last_error().decode())
        _lib = lib
        return lib


def L():
    """The loaded library, loading it on first use."""
    return _lib if _lib is not None else load_library()


def strerror(code):
    try:
        return L().csession_strerror(code).decode()
    except Exception:  # while the interpreter shuts down
        return "error %d" % code


def fail(code, message):
    """Raises what the library's `code` stands for, with `message`."""
    raise error_class(code)(code, message)


def check(rc):
    """Raises for a negative return code, with the library's message."""
    if rc < 0:
        fail(rc, L().csession_last_error().decode("utf-8", "replace"))
    return rc


def report(exc):
    """Records a Python exception as the calling thread's csession error, for
    callbacks the library makes into Python, and returns its code: a
    CsessionError keeps its own, a MemoryError is CSESSION_ENOMEM, anything
    else CSESSION_ESTORE."""
    if isinstance(exc, CsessionError):
        return L().csession_set_error(exc.code, str(exc.message).encode()[:511])
    if isinstance(exc, MemoryError):
        return L().csession_set_error(ENOMEM, None)
    msg = ("python: %s: %s" % (type(exc).__name__, exc)).encode("utf-8", "replace")
    return L().csession_set_error(ESTORE, msg[:511])


def text(value, what):
    """str (as UTF-8, lone surrogates kept) or bytes, as bytes."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError("%s must be str or bytes" % what)


def cstring(value, what):
    """text() that refuses NUL characters, for C strings."""
    b = text(value, what)
    if b"\0" in b:
        fail(EINVAL, "%s contains a NUL character" % what)
    return b


def bytes_at(ptr, n):
    return ctypes.string_at(ptr, n) if n else b""


def check_or(rc, code):
    """True for success, False for the expected outcome `code`; raises for
    any other failure."""
    if rc == code:
        return False
    check(rc)
    return True


def take_buf(buf):
    """The bytes of a filled csession_buf; the buf is disposed (wiped)."""
    try:
        return ctypes.string_at(buf.ptr, buf.size) if buf.ptr else b""
    finally:
        L().csession_buf_dispose(ctypes.byref(buf))


def into_buf(call):
    """The bytes a library function writes into a csession_buf: `call`
    receives the buf's pointer and returns the function's code, which raises
    when negative. The buf is disposed either way."""
    out = Buf()
    rc = call(ctypes.byref(out))
    data = take_buf(out)
    check(rc)
    return data


def fill_buf(buf, data):
    """csession_buf_set() with `data` (bytes-like, or str as UTF-8), for callbacks."""
    data = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    return L().csession_buf_set(buf, data, len(data))


def new_handle(fn, *args):
    """Calls a constructor `fn(&out, args...)` of the library and returns out."""
    out = c_void_p()
    check(getattr(L(), fn)(ctypes.byref(out), *args))
    return out.value


def version():
    """The C library's version string."""
    return L().csession_version().decode()


class Handle:
    """An owned C pointer released by `_free_fn` (a library function name).
    Usable as a context manager; close() is idempotent and runs on garbage
    collection too."""
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
            getattr(L(), self._free_fn)(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # the module may be half torn down at exit
            pass
