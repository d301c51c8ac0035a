"""Cookie master keys, the key ring, and session keys (include/csession/keys.h,
include/csession/sys/store.h).

A master key is 64 bytes (the Rust cookie crate's Key). Key bytes handed to
Python cannot be wiped from memory: prefer Config.add_key_text() or
KeyRing.add_text() with a key read from the environment, so that the
decoded key never leaves the library.
"""
import ctypes

from . import _native
from ._native import L, check, text

# Size of a master key in bytes, and the shortest secret derive_key() takes.
KEY_BYTES = 64
KEY_SECRET_MIN_BYTES = 32
# Most keys a ring (and a Config) holds.
KEYRING_MAX_KEYS = 16
# Flags of KeyRing(): lock the keys' pages into RAM (best effort), or fail
# adding a key whose memory cannot be locked.
KEYRING_MLOCK = 0x1
KEYRING_MLOCK_REQUIRED = 0x2


def _key_out(fn, *args):
    """Runs `fn(key, key_len, args...)` of the library into a key-sized
    buffer and returns the key, wiping the buffer."""
    n = L().csession_key_bytes()
    buf = ctypes.create_string_buffer(n)
    try:
        check(getattr(L(), fn)(buf, n, *args))
        return buf.raw
    finally:
        ctypes.memset(buf, 0, n)


def generate_key():
    """A new random 64-byte master key."""
    return _key_out("csession_key_generate")


def derive_key(secret):
    """The master key the Rust cookie crate derives from `secret` (>= 32 random bytes)."""
    s = bytes(secret)
    return _key_out("csession_key_derive", s, len(s))


def key_from_text(key_text):
    """Decodes a master key written as 128 hex digits or base64."""
    t = text(key_text, "key text")
    return _key_out("csession_key_from_text", t, len(t))


def key_to_text(key):
    """A master key as 128 lowercase hex digits."""
    k = bytes(key)
    return _native.into_buf(lambda out: L().csession_key_to_text(out, k, len(k))).decode()


class KeyRing(_native.Handle):
    """A set of master keys (csession_keyring): the first one added is the
    current key, every one is tried when opening. `flags` is 0,
    KEYRING_MLOCK or KEYRING_MLOCK_REQUIRED. Keys are copied into the
    library's memory, wiped when the ring is closed. Built by one thread;
    afterwards it is read-only and may be shared."""
    _free_fn = "csession_keyring_free"

    def __init__(self, flags=0):
        super().__init__()
        self._ptr = _native.new_handle("csession_keyring_new", int(flags))

    def _add(self, fn, data):
        check(getattr(L(), fn)(self._p(), data, len(data)))
        return self

    def add(self, key):
        """Adds a copy of a 64-byte master key; returns the ring. InvalidArgument
        for a wrong size or a key already in the ring, TooBig past 16 keys,
        Unsupported when KEYRING_MLOCK_REQUIRED could not lock it."""
        return self._add("csession_keyring_add", bytes(key))

    def add_text(self, key_text):
        """Adds a key written as hex or base64; the decoded key stays in the library."""
        return self._add("csession_keyring_add_text", text(key_text, "key text"))

    def add_derived(self, secret):
        """Adds the key derive_key(secret) makes, without handing it to Python."""
        return self._add("csession_keyring_add_derived", bytes(secret))

    def __len__(self):
        return L().csession_keyring_count(self._p())

    @property
    def locked(self):
        """True when the ring was made with a lock flag and every key in it
        is locked into RAM."""
        return L().csession_keyring_locked(self._p()) == 1


def new_session_key():
    """A fresh 64-character session key, for stores written in Python."""
    n = L().csession_session_key_length() + 1
    buf = ctypes.create_string_buffer(n)
    check(L().csession_session_key_generate(buf, n))
    return buf.value


def session_key_valid(key):
    """True when `key` (bytes) has the shape of a key new_session_key() makes."""
    key = bytes(key)
    return L().csession_session_key_valid(key, len(key)) == 1
