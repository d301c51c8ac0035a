"""Error codes of the C library and the exceptions that carry them.

Every failure raises a CsessionError subclass that is also the matching
built-in exception where there is one: NotFound is a KeyError, WrongType a
TypeError, InvalidArgument/TooBig/FormatError/OutOfRange are ValueErrors,
OutOfMemory a MemoryError, StoreTimeout a TimeoutError.
"""

# The values are part of the C ABI (include/csession/errors.h): they never
# change, new ones are only appended.
OK = 0
ERROR = -1
ENOMEM = -2
EINVAL = -3
ENOTFOUND = -4
ETYPE = -5
ERANGE = -6
ETOOBIG = -7
EFORMAT = -8
EPURGED = -9
ESTORE = -10
ETIMEOUT = -11
EINVALIDCOOKIE = -12
EUNSUPPORTED = -13
ECONFLICT = -14
EGONE = -15


class CsessionError(Exception):
    """A failed csession call: .code is the CSESSION_E* code (negative),
    .message the library's per-thread message."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self):
        from ._native import strerror
        return "%s (%s)" % (self.message, strerror(self.code))


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
    """The session store failed (I/O, a server's error reply)."""


class StoreTimeout(StoreError, TimeoutError):
    """The session store did not answer in time."""


class InvalidCookie(CsessionError):
    pass


class Unsupported(CsessionError):
    pass


class Conflict(CsessionError):
    """A commit met another request's change of the same session keys:
    load the session again and redo the request's changes."""


class Gone(CsessionError):
    """Another request ended the session (logout, renewal) while this one
    had it loaded."""


_BY_CODE = {
    EINVAL: InvalidArgument, ENOMEM: OutOfMemory, ENOTFOUND: NotFound, ETYPE: WrongType,
    ERANGE: OutOfRange, ETOOBIG: TooBig, EFORMAT: FormatError, EPURGED: Purged,
    ESTORE: StoreError, ETIMEOUT: StoreTimeout, EINVALIDCOOKIE: InvalidCookie,
    EUNSUPPORTED: Unsupported, ECONFLICT: Conflict, EGONE: Gone,
}


def error_class(code):
    """The exception class that stands for `code`; CsessionError for a code
    this module does not know (a newer library's)."""
    return _BY_CODE.get(code, CsessionError)
