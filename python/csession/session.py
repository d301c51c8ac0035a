"""The session: a map of str keys to JSON values with a status
(include/csession/session.h, include/csession/state.h)."""
import collections.abc
import ctypes
import enum
import json

from . import _native
from ._native import L, c_char_p, c_double, c_int, c_int64, c_size_t, c_void_p, check, fail, text
from .errors import EINVAL, ENOTFOUND, ERANGE, ETYPE, NotFound, OutOfRange


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


def _key(key):
    """A session key as the C string the library wants."""
    if not isinstance(key, str):
        raise TypeError("session keys are str, not %s" % type(key).__name__)
    if "\0" in key:
        fail(EINVAL, "key contains a NUL character")
    # Lone surrogates go through as the bytes they are; the library refuses
    # them as invalid UTF-8.
    return key.encode("utf-8", "surrogatepass")


class Session(_native.Handle, collections.abc.MutableMapping):
    """A session: a map of str keys to JSON values, with a status.

    Session() makes a standalone one (tests, or the map on its own);
    Manager.load() makes the ones a request uses. Integral numbers read back
    as int, others as float; arrays and objects as lists and dicts. It is a
    MutableMapping: pop(), setdefault(), update() and values() work as on a
    dict. A session belongs to one request, used by one thread at a time.
    """
    _free_fn = "csession_free"

    def __init__(self, _ptr=None, _manager=None):
        super().__init__()
        self._ptr = _native.new_handle("csession_new") if _ptr is None else _ptr
        self._manager = _manager  # keeps the manager alive while the session is

    @classmethod
    def decode(cls, data):
        """A session from a stored state ({"v":1,"state":{...}} and older forms)."""
        d = text(data, "state")
        return cls(_native.new_handle("csession_decode", d, len(d)))

    def encode(self):
        """The stored form of the values, as str."""
        p = self._p()
        return _native.into_buf(lambda out: L().csession_encode(p, out)).decode()

    @property
    def status(self):
        return Status(L().csession_status(self._p()))

    def __len__(self):
        return L().csession_count(self._p())

    def __contains__(self, key):
        return isinstance(key, str) and L().csession_contains(self._p(), _key(key)) == 1

    def keys(self):
        """The keys, in insertion order."""
        out = []
        k = c_char_p()
        for i in range(len(self)):
            check(L().csession_key_at(self._p(), i, ctypes.byref(k)))
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
        check(L().csession_type(self._p(), _key(key), ctypes.byref(t)))
        return ValueType(t.value)

    # typed getters: NotFound when absent, WrongType for another type
    def get_int(self, key):
        v = c_int64()
        check(L().csession_get_int64(self._p(), _key(key), ctypes.byref(v)))
        return v.value

    def get_float(self, key):
        v = c_double()
        check(L().csession_get_double(self._p(), _key(key), ctypes.byref(v)))
        return v.value

    def get_bool(self, key):
        v = c_int()
        check(L().csession_get_bool(self._p(), _key(key), ctypes.byref(v)))
        return bool(v.value)

    def get_str(self, key):
        ptr, n = c_void_p(), c_size_t()
        check(L().csession_get_string(self._p(), _key(key), ctypes.byref(ptr), ctypes.byref(n)))
        return ctypes.string_at(ptr.value, n.value).decode() if n.value else ""

    def is_null(self, key):
        """True for JSON null, False for another type; NotFound when absent."""
        return _native.check_or(L().csession_get_null(self._p(), _key(key)), ETYPE)

    def get_json(self, key):
        """The value as compact JSON text."""
        p, k = self._p(), _key(key)
        return _native.into_buf(lambda out: L().csession_get_json(p, k, out)).decode()

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
        k, p, lib = _key(key), self._p(), L()
        if value is None:
            rc = lib.csession_insert_null(p, k)
        elif isinstance(value, bool):
            rc = lib.csession_insert_bool(p, k, 1 if value else 0)
        elif isinstance(value, int):
            if not -(2 ** 63) <= value < 2 ** 63:
                fail(ERANGE, "integer %d does not fit in 64 bits" % value)
            rc = lib.csession_insert_int64(p, k, value)
        elif isinstance(value, float):
            rc = lib.csession_insert_double(p, k, value)
        elif isinstance(value, str):
            b = value.encode("utf-8", "surrogatepass")
            rc = lib.csession_insert_string_n(p, k, b, len(b))
        else:
            try:
                doc = json.dumps(value, allow_nan=False, ensure_ascii=False)
            except (TypeError, ValueError) as e:
                raise TypeError("cannot store %s: %s" % (type(value).__name__, e)) from None
            return self.insert_json(key, doc)
        check(rc)

    __setitem__ = insert

    def insert_json(self, key, text):
        """Stores the one JSON value written in `text`."""
        b = _native.text(text, "JSON text")
        check(L().csession_insert_json(self._p(), _key(key), b, len(b)))

    def remove(self, key):
        """Removes `key`; True when it was there. The status changes either way."""
        return _native.check_or(L().csession_remove(self._p(), _key(key)), ENOTFOUND)

    def __delitem__(self, key):
        if not self.remove(key):
            fail(ENOTFOUND, "no key \"%s\"" % key)

    def clear(self):
        check(L().csession_clear(self._p()))

    def purge(self):
        """Logout: clears the state; committing deletes it and removes the cookie."""
        check(L().csession_purge(self._p()))

    def renew(self):
        """Login: same state, new session key at commit."""
        check(L().csession_renew(self._p()))

    def __repr__(self):
        if self._ptr is None:
            return "<csession.Session closed>"
        return "<csession.Session %s %r>" % (self.status.name.lower(), self.to_dict())
