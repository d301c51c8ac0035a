"""Cookie master keys and session keys (include/csession/keys.h,
include/csession/sys/store.h).

A master key is 64 bytes (the Rust cookie crate's Key). Key bytes handed to
Python cannot be wiped from memory: prefer Config.add_key_text()
with a key read from the environment, so that the
decoded key never leaves the library.
"""
import ctypes

from . import _native
from ._native import L, check, text

# Size of a master key in bytes, and the shortest secret derive_key() takes.
KEY_BYTES = 64
KEY_SECRET_MIN_BYTES = 32
# Most keys a Config holds.
KEYRING_MAX_KEYS = 16


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
    out = _native.Buf()
    k = bytes(key)
    rc = L().csession_key_to_text(ctypes.byref(out), k, len(k))
    data = _native.take_buf(out)
    check(rc)
    return data.decode()


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
