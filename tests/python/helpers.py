"""What the Python tests share: the package from this source tree, a key,
cookie helpers, and a store written in Python."""
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "python"))
import csession as cs  # noqa: E402

KEY = bytes(range(64))


def cookie_pair(set_cookie):
    """The name=value part of a Set-Cookie value, as a browser sends it back."""
    return set_cookie.split(";", 1)[0]


def attributes(set_cookie):
    return [a.strip() for a in set_cookie.split(";")[1:]]


def flip(value, i):
    return value[:i] + ("B" if value[i] == "A" else "A") + value[i + 1:]


def make_manager(store="memory", **settings):
    cfg = cs.Config().set_secure(False).add_key(KEY)
    for name, value in settings.items():
        getattr(cfg, "set_" + name)(value)
    st = {"memory": cs.MemoryStore, "cookie": cs.CookieStore, "python": DictStore}[store]()
    mgr = cs.Manager(cfg, st)
    cfg.close()  # the manager keeps its own copy
    return mgr


class DictStore(cs.PythonStore):
    """A store written in Python: a dict under a lock, no expiry."""

    def __init__(self):
        super().__init__()
        self.data = {}
        self.lock = threading.Lock()
        self.calls = []
        self.released = False

    def load(self, key):
        self.calls.append("load")
        with self.lock:
            return self.data.get(key)

    def save(self, state, ttl):
        self.calls.append("save")
        assert ttl >= 1
        key = cs.new_session_key()
        with self.lock:
            self.data[key] = state
        return key

    def update(self, key, state, ttl):
        self.calls.append("update")
        with self.lock:
            if key not in self.data:
                key = cs.new_session_key()
            self.data[key] = state
        return key

    def update_ttl(self, key, ttl):
        self.calls.append("update_ttl")

    def remove(self, key):
        self.calls.append("remove")
        with self.lock:
            self.data.pop(key, None)

    def release(self):
        self.released = True


def run_threads(target, n):
    """Runs target(i) for i in range(n) on n threads at once; returns when
    all have ended."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def commit_fails(test, mgr, error_class):
    """Commits a new session with a value in it, which must raise
    `error_class`; returns the exception."""
    with mgr.load() as s:
        s["a"] = 1
        with test.assertRaises(error_class) as ctx:
            mgr.commit(s)
    return ctx.exception


def run(module_name):
    """unittest.main() for a test file, listing each test and why one is skipped."""
    unittest.main(module=module_name, verbosity=2)
