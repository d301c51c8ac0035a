"""Tests of the ctypes binding (the csession package in python/).

Needs the built shared library: CSESSION_LIBRARY=/path/to/libcsession.so
(ctest sets it). Standard library only:

    CSESSION_LIBRARY=build/libcsession.so python3 tests/python/test_csession.py
"""
import os
import unittest

from helpers import (KEY, DictStore, attributes, cookie_pair, cs, flip, make_manager, run,
                     run_threads)
from csession import _native


class LibraryTest(unittest.TestCase):
    def test_version_and_loading(self):
        self.assertRegex(cs.version(), r"^\d+\.\d+\.\d+$")
        lib = cs.load_library(os.environ["CSESSION_LIBRARY"])
        self.assertEqual(lib.csession_key_bytes(), 64)
        with self.assertRaises(OSError):
            cs.load_library("/nonexistent/libcsession.so")
        self.assertIs(cs.load_library(), lib)  # the library loaded before stays

    def test_every_function_is_declared(self):
        lib = cs.load_library()
        for name in _native.SIGNATURES:
            self.assertIsNotNone(getattr(lib, name).argtypes, name)

    def test_constants_match_the_library(self):
        lib = _native.L()
        self.assertEqual((cs.KEY_BYTES, cs.KEY_SECRET_MIN_BYTES, cs.KEYRING_MAX_KEYS),
                         (lib.csession_key_bytes(), lib.csession_key_secret_min_bytes(),
                          lib.csession_keyring_max_keys()))
        self.assertEqual((cs.DEFAULT_TTL, cs.MAX_TTL),
                         (lib.csession_config_default_ttl(), lib.csession_config_max_ttl()))
        # the option layouts mirrored here are ones the library knows
        self.assertGreaterEqual(lib.csession_store_memory_options_version(),
                                _native.MEMORY_OPTIONS_VERSION)
        self.assertGreaterEqual(lib.csession_store_version(), _native.STORE_VERSION)

    def test_error_classes(self):
        s = cs.Session()
        with self.assertRaises(KeyError) as ctx:
            s.get_int("missing")
        e = ctx.exception
        self.assertIsInstance(e, cs.NotFound)
        self.assertEqual(e.code, cs.ENOTFOUND)
        self.assertIn("missing", e.message)
        self.assertIn("missing", str(e))
        s["name"] = "alice"
        with self.assertRaises(TypeError) as ctx:
            s.get_int("name")
        self.assertIsInstance(ctx.exception, cs.WrongType)
        self.assertEqual(ctx.exception.code, cs.ETYPE)
        with self.assertRaises(cs.OutOfRange):
            s["big"] = 2 ** 53
        with self.assertRaises(cs.OutOfRange):
            s["huge"] = 2 ** 70
        with self.assertRaises(cs.OutOfRange):
            s["nan"] = float("nan")
        with self.assertRaises(cs.FormatError):
            s.insert_json("j", "{bad")
        with self.assertRaises(cs.InvalidArgument):
            s["a\0b"] = 1
        with self.assertRaises(cs.InvalidArgument):
            s["k"] = "nul\0inside"
        with self.assertRaises(cs.InvalidArgument):
            s["\ud800"] = 1  # not UTF-8
        with self.assertRaises(cs.TooBig):
            s["k" * 257] = 1
        with self.assertRaises(cs.TooBig):
            s.insert_json("deep", "[" * 40 + "]" * 40)
        self.assertEqual(s.to_dict(), {"name": "alice"})  # failures change nothing
        s.close()

    def test_conflict_and_gone(self):
        # The codes a store reports for a commit that met another request's
        # change, or the end of the session, reach Python as their classes.
        for code, cls, text in ((cs.ECONFLICT, cs.Conflict, "changed by another request"),
                                (cs.EGONE, cs.Gone, "ended by another request")):
            class Refusing(DictStore):
                def update(self, key, state, ttl):
                    raise cls(code, "refused by the store")

            mgr = cs.Manager(cs.Config().add_key(KEY).set_secure(False), Refusing())
            with mgr.load() as s:
                s["a"] = 1
                sc = mgr.commit(s)
            with mgr.load(cookie_pair(sc)) as s:
                s["a"] = 2
                with self.assertRaises(cls) as ctx:
                    mgr.commit(s)
            e = ctx.exception
            self.assertIsInstance(e, cs.CsessionError)
            self.assertEqual(e.code, code)
            self.assertEqual(e.message, "refused by the store")
            self.assertIn(text, str(e))  # the library's own description of the code
            mgr.close()
        self.assertIs(cs.errors.error_class(-99), cs.CsessionError)  # a newer library's code


class SessionTest(unittest.TestCase):
    def setUp(self):
        self.s = cs.Session()

    def tearDown(self):
        self.s.close()

    def test_values_round_trip(self):
        s = self.s
        values = {"str": "h\u00e9llo \u2603", "int": -42, "max": 2 ** 53 - 1, "float": 2.5,
                  "true": True, "false": False, "none": None, "list": [1, "a", None, [2.5]],
                  "dict": {"x": {"y": [True]}}, "empty": ""}
        for k, v in values.items():
            s[k] = v
        self.assertEqual(len(s), len(values))
        self.assertEqual(s.keys(), list(values))  # insertion order
        for k, v in values.items():
            self.assertEqual(s[k], v, k)
            self.assertIs(type(s[k]), type(v), k)
        self.assertEqual(s.get_str("str"), "h\u00e9llo \u2603")
        self.assertEqual(s.get_int("int"), -42)
        self.assertEqual(s.get_float("int"), -42.0)
        self.assertEqual(s.get_float("float"), 2.5)
        self.assertIs(s.get_bool("true"), True)
        self.assertTrue(s.is_null("none"))
        self.assertFalse(s.is_null("int"))
        self.assertEqual(s.get_json("dict"), '{"x":{"y":[true]}}')
        self.assertEqual(s.type("list"), cs.ValueType.ARRAY)
        self.assertEqual(s.type("dict"), cs.ValueType.OBJECT)
        self.assertEqual(s.type("float"), cs.ValueType.NUMBER)
        self.assertEqual(s.get("absent", 7), 7)
        self.assertIn("int", s)
        self.assertNotIn("absent", s)
        self.assertNotIn(3, s)
        with self.assertRaises(cs.OutOfRange):
            s.get_int("float")  # never converted
        with self.assertRaises(TypeError):
            s["obj"] = object()

    def test_mapping_methods(self):
        s = self.s
        s.update({"a": 1, "b": [2]}, c="three")
        self.assertEqual(s.setdefault("a", 9), 1)
        self.assertEqual(s.setdefault("d", None), None)
        self.assertEqual(s.pop("c"), "three")
        self.assertEqual(s.pop("c", "gone"), "gone")
        with self.assertRaises(KeyError):
            s.pop("c")
        self.assertEqual(list(s.values()), [1, [2], None])
        self.assertEqual(s, {"a": 1, "b": [2], "d": None})
        self.assertNotEqual(s, {"a": 1})
        self.assertEqual(dict(s), s.to_dict())
        self.assertEqual(s.status, cs.Status.CHANGED)

    def test_insert_json(self):
        self.s.insert_json("roles", ' ["reader", "editor"] ')
        self.assertEqual(self.s["roles"], ["reader", "editor"])
        self.s.insert_json("n", b"12")
        self.assertEqual(self.s["n"], 12)

    def test_status_rules(self):
        s = self.s
        self.assertEqual(s.status, cs.Status.UNCHANGED)
        s["a"] = 1
        self.assertEqual(s.status, cs.Status.CHANGED)
        s.renew()
        self.assertEqual(s.status, cs.Status.RENEWED)
        s["b"] = 2
        self.assertEqual(s.status, cs.Status.RENEWED)  # renewed stays
        self.assertTrue(s.remove("a"))
        self.assertFalse(s.remove("a"))
        with self.assertRaises(KeyError):
            del s["a"]
        del s["b"]
        self.assertEqual(len(s), 0)
        s["c"] = 3
        s.clear()
        self.assertEqual(len(s), 0)
        s["d"] = 4
        s.purge()
        self.assertEqual(s.status, cs.Status.PURGED)
        self.assertEqual(len(s), 0)
        with self.assertRaises(cs.Purged):
            s["e"] = 5
        with self.assertRaises(cs.Purged):
            s.renew()
        self.assertEqual(len(s), 0)

    def test_encode_decode(self):
        self.s["user_id"] = "alice"
        self.s["counter"] = 3
        text = self.s.encode()
        self.assertEqual(text, '{"v":1,"state":{"user_id":"alice","counter":3}}')
        with cs.Session.decode(text) as t:
            self.assertEqual(t.to_dict(), {"user_id": "alice", "counter": 3})
            self.assertEqual(t.status, cs.Status.UNCHANGED)
        # actix-session's older map of JSON-encoded strings
        with cs.Session.decode('{"counter":"1","user":"\\"bob\\""}') as t:
            self.assertEqual(t.to_dict(), {"counter": 1, "user": "bob"})
        with self.assertRaises(cs.FormatError):
            cs.Session.decode("[1]")
        with self.assertRaises(cs.FormatError):
            cs.Session.decode('{"v":2,"state":{}}')

    def test_close(self):
        s = cs.Session()
        s["a"] = 1
        s.close()
        s.close()  # twice is fine
        with self.assertRaises(ValueError):
            s["a"]
        self.assertIn("closed", repr(s))
        with cs.Session() as t:
            t["x"] = 1
        with self.assertRaises(ValueError):
            len(t)
        for _ in range(1000):  # dropped without close(): __del__ frees
            u = cs.Session()
            u["k"] = "v" * 100
        del u


class KeysTest(unittest.TestCase):
    def test_generate(self):
        a, b = cs.generate_key(), cs.generate_key()
        self.assertEqual(len(a), 64)
        self.assertNotEqual(a, b)

    def test_text(self):
        text = cs.key_to_text(KEY)
        self.assertEqual(text, KEY.hex())
        self.assertEqual(cs.key_from_text(text), KEY)
        self.assertEqual(cs.key_from_text("  " + text.upper() + "\n"), KEY)
        import base64
        self.assertEqual(cs.key_from_text(base64.b64encode(KEY).decode()), KEY)
        self.assertEqual(cs.key_from_text(base64.urlsafe_b64encode(KEY).rstrip(b"=")), KEY)
        with self.assertRaises(cs.FormatError):
            cs.key_from_text("abc")
        with self.assertRaises(cs.InvalidArgument):
            cs.key_to_text(b"short")

    def test_derive_vector(self):
        # the Rust cookie crate's Key::derive_from(&[7; 32])
        self.assertEqual(cs.derive_key(b"\x07" * 32).hex(),
                         "8447a478d0c4d1f3294ede771f05831a606d0b51ff313e92c356ff7305cecbe5"
                         "e56b3b166df671fe50c5aeac792d394a63fcdb06eb208b35d188a4d33c87a69a")
        with self.assertRaises(cs.InvalidArgument):
            cs.derive_key(b"short")

    def test_key_ring(self):
        with cs.KeyRing() as ring:
            self.assertEqual(len(ring), 0)
            self.assertIs(ring.add(KEY), ring)
            ring.add_text(cs.key_to_text(bytes(64))).add_derived(b"\x07" * 32)
            self.assertEqual(len(ring), 3)
            self.assertFalse(ring.locked)  # made without a lock flag
            with self.assertRaises(cs.InvalidArgument):
                ring.add(KEY)  # already there
            with self.assertRaises(cs.InvalidArgument):
                ring.add(cs.derive_key(b"\x07" * 32))  # the key add_derived() added
            with self.assertRaises(cs.InvalidArgument):
                ring.add(b"short")
            with self.assertRaises(cs.FormatError):
                ring.add_text("not a key")
            with self.assertRaises(cs.InvalidArgument):
                ring.add_derived(b"short secret")
            for i in range(cs.KEYRING_MAX_KEYS - 3):
                ring.add(cs.generate_key())
            with self.assertRaises(cs.TooBig):
                ring.add(cs.generate_key())
            self.assertEqual(len(ring), cs.KEYRING_MAX_KEYS)
        with self.assertRaises(ValueError):
            len(ring)  # closed
        with self.assertRaises(cs.InvalidArgument):
            cs.KeyRing(0x80)  # unknown flag
        with cs.KeyRing(cs.KEYRING_MLOCK) as ring:
            ring.add(KEY)  # best effort: added whether or not the lock held
            self.assertEqual(len(ring), 1)
            self.assertIsInstance(ring.locked, bool)

    def test_security_and_session_keys(self):
        self.assertTrue(cs.security_supported(cs.Security.PRIVATE_XCHACHA20POLY1305))
        self.assertTrue(cs.security_supported(cs.Security.SIGNED))
        with self.assertRaises(cs.InvalidArgument):
            cs.security_supported(99)
        k = cs.new_session_key()
        self.assertEqual(len(k), 64)
        self.assertTrue(k.isalnum())
        self.assertTrue(cs.session_key_valid(k))
        self.assertFalse(cs.session_key_valid(k[:-1] + b"-"))


class ConfigTest(unittest.TestCase):
    def test_setters(self):
        with cs.Config() as cfg:
            self.assertEqual(cfg.key_count, 0)
            self.assertIs(cfg.add_key(KEY), cfg)
            cfg.add_key_text(cs.key_to_text(bytes(64)))
            self.assertEqual(cfg.key_count, 2)
            (cfg.set_cookie_name("sid").set_path("/app").set_domain("example.com")
             .set_domain(None).set_secure(True).set_http_only(False)
             .set_same_site(cs.SameSite.STRICT).set_partitioned(False)
             .set_security(cs.Security.SIGNED).set_browser_session(60).set_persistent(120)
             .set_ttl_policy(cs.TtlPolicy.ON_EVERY_REQUEST))

    def test_refusals(self):
        cfg = cs.Config()
        for call in (lambda: cfg.add_key(b"x" * 63), lambda: cfg.add_key_text("zz"),
                     lambda: cfg.set_cookie_name("a b"), lambda: cfg.set_path("app"),
                     lambda: cfg.set_domain(""), lambda: cfg.set_same_site(9),
                     lambda: cfg.set_security(0), lambda: cfg.set_browser_session(0),
                     lambda: cfg.set_persistent(10 ** 9), lambda: cfg.set_ttl_policy(5),
                     lambda: cfg.set_cookie_name("a\0b")):
            with self.assertRaises((cs.InvalidArgument, cs.FormatError)):
                call()
        cfg.add_key(KEY)
        with self.assertRaises(cs.InvalidArgument):
            cfg.add_key(KEY)  # duplicate
        cfg.close()

    def test_manager_checks_combinations(self):
        with cs.Config() as cfg:
            with self.assertRaises(cs.InvalidArgument) as ctx:
                cs.Manager(cfg)
            self.assertIn("key", ctx.exception.message)
            cfg.add_key(KEY).set_secure(False).set_same_site(cs.SameSite.NONE)
            store = cs.MemoryStore()
            with self.assertRaises(cs.InvalidArgument):
                cs.Manager(cfg, store)
            cs.Manager(cfg.set_secure(True), store).close()  # now it may
            with self.assertRaises(ValueError):
                cs.Manager(cfg, store)  # handed over already

    def test_memory_store_options(self):
        with self.assertRaises(cs.InvalidArgument):
            cs.MemoryStore(shards=3)
        cs.MemoryStore(max_sessions=10, max_state_bytes=1024, shards=4).close()


class ManagerFlowTest(unittest.TestCase):
    """A visitor's whole flow through the manager, on each store."""

    def flow(self, store):
        server_side = store != "cookie"
        mgr = make_manager(store)

        def request(cookie, handler):
            with mgr.load(cookie) as s:
                result = handler(s)
                return result, mgr.commit(s)

        def view(s):
            return s.get("user_id"), s.get("counter", 0)

        def bump(s):
            s["counter"] = s.get("counter", 0) + 1
            return view(s)

        def login(s):
            s["user_id"] = "alice"
            s.renew()
            return view(s)

        # anonymous: nothing is stored or sent until there is something to keep
        self.assertEqual(request(None, view), ((None, 0), None))
        r, sc = request(None, bump)
        self.assertEqual(r, (None, 1))
        self.assertEqual(attributes(sc), ["HttpOnly", "SameSite=Lax", "Path=/"])
        cookie = cookie_pair(sc)
        r, sc = request(cookie, bump)
        self.assertEqual(r, (None, 2))
        cookie = cookie_pair(sc) if sc else cookie
        self.assertEqual(request(cookie, view), ((None, 2), None))

        # login renews the key and keeps the data
        pre_login = cookie
        r, sc = request(cookie, login)
        self.assertEqual(r, ("alice", 2))
        self.assertIsNotNone(sc)
        cookie = cookie_pair(sc)
        self.assertNotEqual(cookie, pre_login)
        self.assertEqual(request(cookie, view)[0], ("alice", 2))
        stale = request(pre_login, view)
        self.assertEqual(stale, (((None, 0), None) if server_side else ((None, 2), None)))

        r, sc = request(cookie, bump)
        self.assertEqual(r, ("alice", 3))
        cookie = cookie_pair(sc) if sc else cookie
        logged_in = cookie

        # tampering gives a fresh session, never an error
        value = cookie.split("=", 1)[1]
        for i in range(len(value)):
            if value[i].isalnum():
                self.assertEqual(request("id=" + flip(value, i), view), ((None, 0), None), i)
        for junk in ("id=", "id=garbage", "id=" + "A" * 5000, "x=1; id=%ZZ", "id", "=;=;",
                     "id=" + value[::-1]):
            self.assertEqual(request(junk, view), ((None, 0), None), junk)
        with self.assertRaises(cs.TooBig):
            mgr.load("id=" + "x" * 9000)

        # logout: purge, removal cookie, nothing left
        r, sc = request(cookie, lambda s: (s.get("user_id"), s.purge()))
        self.assertEqual(r[0], "alice")
        self.assertTrue(sc.startswith("id=;"), sc)
        self.assertIn("Max-Age=0", attributes(sc))
        self.assertIn("Path=/", attributes(sc))
        self.assertEqual(request(None, view), ((None, 0), None))
        replay = request(logged_in, view)[0]
        self.assertEqual(replay, (None, 0) if server_side else ("alice", 3))
        mgr.close()

    def test_memory_store(self):
        self.flow("memory")

    def test_cookie_store(self):
        self.flow("cookie")

    def test_python_store(self):
        self.flow("python")

    def test_python_store_calls_and_release(self):
        store = DictStore()
        mgr = cs.Manager(cs.Config().add_key(KEY), store)
        with mgr.load() as s:
            s["a"] = 1
            sc = mgr.commit(s)
        self.assertEqual(store.calls, ["save"])
        self.assertEqual(len(store.data), 1)
        with mgr.load(cookie_pair(sc)) as s:
            s.renew()
            mgr.commit(s)
        # a renewal saves the new key before it removes the old one
        self.assertEqual(store.calls, ["save", "load", "save", "remove"])
        self.assertEqual(len(store.data), 1)
        self.assertFalse(store.released)
        mgr.close()
        self.assertTrue(store.released)

    def test_python_store_declares_its_layout(self):
        # The struct mirrors version 1 of the vtable; it must say so even when
        # the library knows later versions with more members.
        lib = _native.L()
        real = lib.csession_store_version
        lib.csession_store_version = lambda: 2  # a later library
        try:
            store = DictStore()
        finally:
            lib.csession_store_version = real
        self.assertEqual(store._struct.version, 1)
        mgr = cs.Manager(cs.Config().add_key(KEY), store)  # a version-1 store is accepted
        mgr.close()
        self.assertTrue(store.released)

    def test_python_store_failures(self):
        class Broken(DictStore):
            def load(self, key):
                raise ConnectionError("backend down")

            def save(self, state, ttl):
                raise cs.StoreTimeout(cs.ETIMEOUT, "too slow")

        mgr = cs.Manager(cs.Config().add_key(KEY), Broken())
        with mgr.load() as s:
            s["a"] = 1
            with self.assertRaises(cs.StoreTimeout) as ctx:
                mgr.commit(s)
            self.assertIn("too slow", ctx.exception.message)
            self.assertIsInstance(ctx.exception, TimeoutError)
            self.assertEqual(s.status, cs.Status.CHANGED)  # left as it was
        # a cookie that opens reaches the store, whose failure is reported
        other = make_manager("python")
        with other.load() as s:
            s["a"] = 1
            sc = other.commit(s)
        with self.assertRaises(cs.StoreError) as ctx:
            mgr.load(cookie_pair(sc))
        self.assertIn("backend down", ctx.exception.message)
        mgr.close()
        other.close()

    def test_cookie_settings(self):
        mgr = make_manager("memory", cookie_name="sid", path="/app", domain="example.com",
                           same_site=cs.SameSite.STRICT, persistent=600)
        with mgr.load() as s:
            s["a"] = 1
            sc = mgr.commit(s)
        self.assertTrue(sc.startswith("sid="))
        attrs = attributes(sc)
        for a in ("HttpOnly", "SameSite=Strict", "Path=/app", "Domain=example.com",
                  "Max-Age=600"):
            self.assertIn(a, attrs)
        with mgr.load(cookie_pair(sc)) as s:
            s.purge()
            removal = mgr.commit(s)
        self.assertTrue(removal.startswith("sid=;"))
        self.assertIn("Path=/app", attributes(removal))
        self.assertIn("Domain=example.com", attributes(removal))
        self.assertIn("Max-Age=0", attributes(removal))
        mgr.close()

    def test_key_rotation_reissues(self):
        old = make_manager("cookie")
        with old.load() as s:
            s["a"] = 1
            sc = old.commit(s)
        cfg = cs.Config().set_secure(False).add_key(cs.generate_key()).add_key(KEY)
        new = cs.Manager(cfg, cs.CookieStore())
        with new.load(cookie_pair(sc)) as s:
            self.assertEqual(s["a"], 1)  # opened with the old key
            again = new.commit(s)  # unchanged, but re-sealed with the new key
        self.assertIsNotNone(again)
        with old.load(cookie_pair(again)) as s:
            self.assertEqual(len(s), 0)  # the old key alone cannot open it
        old.close()
        new.close()

    def test_cookie_store_state_too_big(self):
        mgr = make_manager("cookie")
        with mgr.load() as s:
            s["blob"] = "x" * 5000
            with self.assertRaises(cs.TooBig):
                mgr.commit(s)
            self.assertEqual(s.status, cs.Status.CHANGED)
            self.assertEqual(len(s["blob"]), 5000)
        mgr.close()

    def test_tokens(self):
        mgr = make_manager("memory")
        with mgr.load_token(None) as s:
            self.assertEqual(mgr.commit_token(s), (cs.TokenAction.KEEP, None))
            s["user_id"] = "bob"
            action, token = mgr.commit_token(s)
        self.assertEqual(action, cs.TokenAction.SET)
        self.assertNotIn("%", token)
        with mgr.load_token(token) as s:
            self.assertEqual(s["user_id"], "bob")
            self.assertEqual(mgr.commit_token(s), (cs.TokenAction.KEEP, None))
            s.purge()
            self.assertEqual(mgr.commit_token(s), (cs.TokenAction.CLEAR, None))
        with mgr.load_token(token) as s:
            self.assertEqual(len(s), 0)
        with mgr.load_token("garbage") as s:
            self.assertEqual(len(s), 0)
        mgr.close()

    def test_session_belongs_to_its_manager(self):
        a, b = make_manager(), make_manager()
        with a.load() as s:
            with self.assertRaises(cs.InvalidArgument):
                b.commit(s)
        with self.assertRaises(cs.InvalidArgument):
            a.commit(cs.Session())
        a.close()
        b.close()
        with self.assertRaises(ValueError):
            a.load()

    def test_threads_share_a_manager(self):
        mgr = make_manager("memory")
        errors = []

        def visitor(n):
            try:
                cookie = None
                for i in range(50):
                    with mgr.load(cookie) as s:
                        s["counter"] = s.get("counter", 0) + 1
                        s["who"] = n
                        sc = mgr.commit(s)
                    cookie = cookie_pair(sc) if sc else cookie
                with mgr.load(cookie) as s:
                    if (s["who"], s["counter"]) != (n, 50):
                        errors.append((n, s.to_dict()))
            except Exception as e:  # reported below
                errors.append((n, e))

        run_threads(visitor, 8)
        self.assertEqual(errors, [])
        mgr.close()


if __name__ == "__main__":
    run("__main__")
