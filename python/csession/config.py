"""How sessions are kept: the cookie, its protection and the lifecycle
(include/csession/config.h, include/csession/cookie_security.h)."""
import enum

from . import _native
from ._native import L, check, cstring, text
from .errors import EUNSUPPORTED


# TTL of both lifecycles by default, and the longest accepted, in seconds.
DEFAULT_TTL = 86400
MAX_TTL = 34560000


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


def security_supported(mode):
    """True when this machine can use the cookie protection `mode` (a Security)."""
    return _native.check_or(L().csession_cookie_security_check(int(mode)), EUNSUPPORTED)


class Config(_native.Handle):
    """How sessions are kept. Starts with actix-session's defaults; every
    setter returns the Config so that calls can be chained."""
    _free_fn = "csession_config_free"

    def __init__(self):
        super().__init__()
        self._ptr = _native.new_handle("csession_config_new")

    def _set(self, fn, *args):
        check(getattr(L(), fn)(self._p(), *args))
        return self

    def add_key(self, key):
        """Adds a 64-byte master key; the first one added seals new cookies."""
        k = bytes(key)
        return self._set("csession_config_add_key", k, len(k))

    def add_key_text(self, key_text):
        """Adds a master key written as hex or base64; the decoded key stays
        in the library."""
        t = text(key_text, "key text")
        return self._set("csession_config_add_key_text", t, len(t))

    @property
    def key_count(self):
        return L().csession_config_key_count(self._p())

    def set_cookie_name(self, name):
        return self._set("csession_config_set_cookie_name", cstring(name, "cookie name"))

    def set_path(self, path):
        return self._set("csession_config_set_path", cstring(path, "path"))

    def set_domain(self, domain):
        """The Domain attribute, or None for a host-only cookie."""
        d = None if domain is None else cstring(domain, "domain")
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
