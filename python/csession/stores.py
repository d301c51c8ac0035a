"""Session stores: memory, cookie and Redis, and stores written in Python
(include/csession/store_*.h, include/csession/sys/store.h).

A store is handed to a Manager, which then owns it: the Store object can no
longer be used, and the manager frees it with itself. Stores are
thread-safe: requests on any number of threads use one store at once.
"""
import ctypes
import threading

from . import _native
from ._native import L, bytes_at, check, cstring, fill_buf
from .errors import ENOTFOUND, OK


class Store(_native.Handle):
    """A session store. Handing it to a Manager transfers it: the manager
    frees it, and this object can no longer be used."""
    _free_fn = "csession_store_free"

    def __init__(self):
        super().__init__()
        # Python objects the C store calls into: they must outlive it, so
        # whoever ends up freeing the store (this object or a manager)
        # keeps them until then.
        self._keep = ()

    def _hand_over(self):
        """Gives up the C store; returns what must live as long as it."""
        ptr, keep = self._p(), self._keep
        self._ptr, self._keep = None, ()
        return ptr, keep


class MemoryStore(Store):
    """The in-memory store (this process only). Zero means the default."""

    def __init__(self, max_sessions=0, max_state_bytes=0, shards=0):
        super().__init__()
        opts = _native.MemoryOptions()
        check(L().csession_store_memory_options_init(ctypes.byref(opts),
                                                      _native.MEMORY_OPTIONS_VERSION))
        opts.max_sessions, opts.max_state_bytes = max_sessions, max_state_bytes
        opts.shards = shards
        self._ptr = _native.new_handle("csession_store_memory_new", ctypes.byref(opts))


class CookieStore(Store):
    """The state travels sealed in the cookie itself."""

    def __init__(self):
        super().__init__()
        self._ptr = _native.new_handle("csession_store_cookie_new")


class RedisStore(Store):
    """Sessions in Redis (csession_store_redis_new), with actix-session's
    keys, commands and stored bytes.

    `url` is one of (docs/store-redis.md has every rule):
        redis://[[user]:password@]host[:port][/db]
        unix:///path/to/redis.sock[?db=N][&password=P][&user=U]
        redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db][?query]
        redis+cluster://[[user]:password@]host[:port][,host[:port]...][?query]
    The options are the fields of csession_store_redis_options; 0 or None
    takes the library's default (timeouts of 2000 ms, 16 connections, 1 MiB
    states). `key_prefix` goes in front of every session key; `key_mapper`,
    a callable from the session key (bytes) to the Redis key (bytes or str),
    replaces it: it runs for every operation, on the request's thread,
    concurrently, and must always map a key to the same Redis key. An
    exception it raises fails the operation with StoreError (a CsessionError
    keeps its code).

    No connection is made here: a server that is down is reported by the
    first request that needs it (StoreError, or StoreTimeout when it does
    not answer). Every operation blocks the calling thread (not the
    interpreter: ctypes releases the GIL) for up to the timeouts.
    InvalidArgument for an invalid URL or option; the message never repeats
    a password.
    """

    def __init__(self, url, *, connect_timeout_ms=0, command_timeout_ms=0, pool_size=0,
                 pool_wait_timeout_ms=0, max_state_bytes=0, key_prefix=None, key_mapper=None):
        super().__init__()
        opts = _native.RedisOptions()
        check(L().csession_store_redis_options_init(ctypes.byref(opts),
                                                     _native.REDIS_OPTIONS_VERSION))
        opts.connect_timeout_ms = connect_timeout_ms
        opts.command_timeout_ms = command_timeout_ms
        opts.pool_size = pool_size
        opts.pool_wait_timeout_ms = pool_wait_timeout_ms
        opts.max_state_bytes = max_state_bytes
        if key_prefix is not None:
            opts.key_prefix = cstring(key_prefix, "key prefix")  # copied by the library
        keep = ()
        if key_mapper is not None:
            callback = _native.KEY_MAPPER_FN(_key_mapper(key_mapper))
            opts.key_mapper = callback
            keep = (callback,)
        self._ptr = _native.new_handle("csession_store_redis_new", cstring(url, "URL"),
                                       ctypes.byref(opts))
        self._keep = keep


def _key_mapper(fn):
    """The C key mapper that calls `fn(session_key) -> redis_key`."""
    def mapper(key, key_len, out, payload):
        try:
            return fill_buf(out, fn(bytes_at(key, key_len)))
        except BaseException as e:  # never let an exception unwind into C
            return _native.report(e)
    return mapper


# Stores written in Python: the C struct is filled with these module-level
# trampolines, which find the Python object by the struct's address. Being
# module-level, they outlive every store, including during its own `free`.
_PY_STORES = {}
_PY_STORES_LOCK = threading.Lock()


def _py_store(addr):
    with _PY_STORES_LOCK:
        return _PY_STORES[addr]


def _store_call(fn):
    """Turns Python outcomes into store return codes: exceptions become
    CSESSION_ESTORE (or their own code) with the message set."""
    def wrapper(store, *args):
        try:
            return fn(_py_store(store), *args)
        except BaseException as e:  # never let an exception unwind into C
            return _native.report(e)
    return wrapper


@_native.LOAD_FN
@_store_call
def _tramp_load(self, key, key_len, out):
    state = self.load(bytes_at(key, key_len))
    if state is None:
        return ENOTFOUND
    return fill_buf(out, state)


@_native.SAVE_FN
@_store_call
def _tramp_save(self, state, state_len, ttl, key_out):
    return fill_buf(key_out, self.save(bytes_at(state, state_len), ttl))


@_native.UPDATE_FN
@_store_call
def _tramp_update(self, key, key_len, state, state_len, ttl, key_out):
    return fill_buf(key_out, self.update(bytes_at(key, key_len), bytes_at(state, state_len), ttl))


@_native.UPDATE_TTL_FN
@_store_call
def _tramp_update_ttl(self, key, key_len, ttl):
    self.update_ttl(bytes_at(key, key_len), ttl)
    return OK


@_native.REMOVE_FN
@_store_call
def _tramp_remove(self, key, key_len):
    self.remove(bytes_at(key, key_len))
    return OK


@_native.FREE_FN
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
        self._struct = _native.StoreStruct(_native.STORE_VERSION, _tramp_load, _tramp_save,
                                           _tramp_update, _tramp_update_ttl, _tramp_remove,
                                           _tramp_free, None)
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
