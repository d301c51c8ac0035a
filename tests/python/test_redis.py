"""Tests of csession.RedisStore against real redis-servers that the tests
start (one server, a Unix socket, a Sentinel, a one-node Cluster).

    CSESSION_LIBRARY=build/libcsession.so python3 tests/python/test_redis.py

Exits with 77 (skipped) when redis-server is not installed.
"""
import sys
import time
import unittest

from helpers import KEY, commit_fails, cookie_pair, cs, run, run_threads
import redis_support
from redis_support import RedisServer

PASSWORD = "p@ss word"


def manager(url, **options):
    return cs.Manager(cs.Config().set_secure(False).add_key(KEY), cs.RedisStore(url, **options))


def visit(mgr, cookie, change):
    """One request: load, change(session), commit; returns (result, cookie to
    send next time)."""
    with mgr.load(cookie) as s:
        result = change(s)
        sc = mgr.commit(s)
    return result, (cookie_pair(sc) if sc else cookie)


def session_keys(server, db=0, password=None):
    """The Redis keys holding sessions, without any prefix."""
    return sorted(k.decode() for k in
                  redis_support.command(server.port, ("SELECT", db), ("KEYS", "*"),
                                        password=password))


class RedisStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = RedisServer(unix_socket=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        self.server.command("FLUSHALL")

    def flow(self, url, server=None, db=0, password=None, **options):
        """Counter, login (new key), logout; checks what Redis holds after
        each step. Returns the Redis key of the logged-in session."""
        def keys():
            return session_keys(server or self.server, db, password)

        def count(s):
            s["n"] = s.get("n", 0) + 1
            return s["n"]

        def login(s):
            s.renew()
            s["user"] = "alice"

        mgr = manager(url, **options)
        n, cookie = visit(mgr, None, count)
        self.assertEqual(n, 1)
        first = keys()
        self.assertEqual(len(first), 1)
        n, cookie = visit(mgr, cookie, count)
        self.assertEqual(n, 2)
        self.assertEqual(keys(), first)  # updated in place
        _, cookie = visit(mgr, cookie, login)
        second = keys()
        self.assertEqual(len(second), 1)
        self.assertNotEqual(second, first)  # the old key was deleted
        self.assertEqual(visit(mgr, cookie, lambda s: (s["user"], s["n"]))[0], ("alice", 2))
        _, cookie = visit(mgr, cookie, lambda s: s.purge())
        self.assertEqual(keys(), [])
        self.assertEqual(visit(mgr, cookie, len)[0], 0)
        mgr.close()
        return second[0]

    def test_tcp(self):
        key = self.flow(self.server.url)
        self.assertTrue(cs.session_key_valid(key.encode()))  # the session key itself

    def test_unix_socket(self):
        self.flow("unix://" + self.server.socket)

    def test_db_and_password(self):
        with RedisServer("--requirepass", PASSWORD, unix_socket=True) as r:
            self.flow("redis://:p%%40ss%%20word@127.0.0.1:%d/3" % r.port, r, 3, PASSWORD)
            self.flow("unix://%s?db=2&password=p%%40ss%%20word" % r.socket, r, 2, PASSWORD)
            self.assertEqual(session_keys(r, 0, PASSWORD), [])
            mgr = manager("redis://:wrong-password@127.0.0.1:%d" % r.port)
            self.assertNotIn("wrong-password", commit_fails(self, mgr, cs.StoreError).message)
            mgr.close()

    def test_key_prefix(self):
        key = self.flow(self.server.url, key_prefix="session:")
        self.assertTrue(key.startswith("session:"))

    def test_key_mapper(self):
        calls = []

        def mapper(key):
            calls.append(key)
            return b"tenant-7/" + key

        key = self.flow(self.server.url, key_mapper=mapper)
        self.assertTrue(key.startswith("tenant-7/"))
        self.assertTrue(all(cs.session_key_valid(k) for k in calls))

    def test_key_mapper_failures(self):
        def broken(key):
            raise LookupError("no tenant for this key")

        mgr = manager(self.server.url, key_mapper=broken)
        self.assertIn("no tenant for this key", commit_fails(self, mgr, cs.StoreError).message)
        mgr.close()

        def refusing(key):
            raise cs.TooBig(cs.ETOOBIG, "tenant over quota")

        mgr = manager(self.server.url, key_mapper=refusing)
        self.assertEqual(commit_fails(self, mgr, cs.TooBig).message, "tenant over quota")
        mgr.close()
        self.assertEqual(session_keys(self.server), [])

    def test_key_mapper_outlives_the_store_object(self):
        # The manager keeps the callback: the RedisStore object and the
        # caller's function are gone long before the requests.
        store = cs.RedisStore(self.server.url, key_mapper=lambda k: b"m:" + k)
        mgr = cs.Manager(cs.Config().set_secure(False).add_key(KEY), store)
        del store
        import gc
        gc.collect()
        visit(mgr, None, lambda s: s.__setitem__("a", 1))
        self.assertEqual(len(session_keys(self.server)), 1)
        self.assertTrue(session_keys(self.server)[0].startswith("m:"))
        mgr.close()

    def test_max_state_bytes(self):
        mgr = manager(self.server.url, max_state_bytes=64)
        with mgr.load() as s:
            s["blob"] = "x" * 100
            with self.assertRaises(cs.TooBig):
                mgr.commit(s)
        mgr.close()

    def test_invalid_urls_and_options(self):
        for url in ("rediss://127.0.0.1?tls_verify=2", "http://127.0.0.1", "redis://127.0.0.1:0",
                    "redis://user@127.0.0.1", "unix://relative/path",
                    "redis+cluster://127.0.0.1/2", "redis+sentinel://127.0.0.1",
                    "redis://secret-user:hunter2@127.0.0.1:99999", "redis://a\0b"):
            with self.assertRaises(cs.InvalidArgument, msg=url) as ctx:
                cs.RedisStore(url)
            self.assertNotIn("hunter2", ctx.exception.message)
            self.assertNotIn("secret-user", ctx.exception.message)
        for options in ({"pool_size": 5000}, {"connect_timeout_ms": 10 ** 6},
                        {"command_timeout_ms": 10 ** 6}, {"pool_wait_timeout_ms": 10 ** 6},
                        {"max_state_bytes": 2 ** 40}, {"key_prefix": "k" * 300},
                        {"key_prefix": "p:", "key_mapper": lambda k: k}):
            with self.assertRaises(cs.InvalidArgument, msg=options):
                cs.RedisStore(self.server.url, **options)
        # no I/O at creation: every URL form is accepted without a server
        for url in ("redis://[::1]:1/5", "unix:///nonexistent/redis.sock?db=1",
                    "redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/1?sentinel_password=x",
                    "redis+cluster://127.0.0.1:1,127.0.0.1:2?wait_replicas=1"):
            cs.RedisStore(url).close()

    def test_server_down(self):
        with RedisServer() as r:
            mgr = manager(r.url, connect_timeout_ms=1000)
            _, cookie = visit(mgr, None, lambda s: s.__setitem__("a", 1))
            r.stop()
            with self.assertRaises(cs.StoreError) as ctx:
                mgr.load(cookie)  # the state cannot be read
            self.assertNotIsInstance(ctx.exception, cs.StoreTimeout)
            commit_fails(self, mgr, cs.StoreError)  # no cookie: nothing to read
            mgr.close()

    def test_timeout_bounds_the_wait(self):
        with RedisServer() as r:
            mgr = manager(r.url, command_timeout_ms=300, pool_size=4)
            _, cookie = visit(mgr, None, lambda s: s.__setitem__("a", 1))
            r.pause()
            try:
                errors = []

                def request(i):
                    try:
                        mgr.load(cookie).close()
                    except cs.StoreTimeout as e:
                        errors.append(e)

                # Four requests wait on the stopped server at once: the calls
                # release the interpreter, so the four waits overlap.
                started = time.monotonic()
                run_threads(request, 4)
                elapsed = time.monotonic() - started
            finally:
                r.resume()
            self.assertEqual(len(errors), 4)
            self.assertIsInstance(errors[0], TimeoutError)
            self.assertGreaterEqual(elapsed, 0.3)
            self.assertLess(elapsed, 1.0, "the waits did not overlap")  # 1.2 s one after another
            self.assertEqual(visit(mgr, cookie, lambda s: s["a"])[0], 1)  # back once resumed
            mgr.close()

    def test_threads_share_a_manager(self):
        mgr = manager(self.server.url)
        errors = []

        def visitor(n):
            try:
                cookie = None
                for _ in range(20):
                    _, cookie = visit(mgr, cookie, lambda s: s.update(
                        who=n, count=s.get("count", 0) + 1))
                if visit(mgr, cookie, lambda s: (s["who"], s["count"]))[0] != (n, 20):
                    errors.append(n)
            except Exception as e:  # reported below
                errors.append((n, e))

        run_threads(visitor, 6)
        self.assertEqual(errors, [])
        self.assertEqual(len(session_keys(self.server)), 6)
        mgr.close()


class RedisTopologyTest(unittest.TestCase):
    def test_sentinel(self):
        with RedisServer() as master, redis_support.sentinel_for(master) as sentinel:
            mgr = manager("redis+sentinel://127.0.0.1:%d/mymaster/4" % sentinel.port)
            _, cookie = visit(mgr, None, lambda s: s.__setitem__("user", "alice"))
            self.assertEqual(len(session_keys(master, 4)), 1)  # on the master it named
            self.assertEqual(visit(mgr, cookie, lambda s: s["user"])[0], "alice")
            mgr.close()

    def test_cluster(self):
        with redis_support.one_node_cluster() as node:
            mgr = manager("redis+cluster://127.0.0.1:%d" % node.port)
            cookies = [visit(mgr, None, lambda s: s.__setitem__("i", i))[1] for i in range(5)]
            self.assertEqual(len(session_keys(node)), 5)
            for i, cookie in enumerate(cookies):
                self.assertEqual(visit(mgr, cookie, lambda s: s["i"])[0], i)
            mgr.close()


if __name__ == "__main__":
    if not redis_support.REDIS_SERVER:
        print("skipped: " + redis_support.SKIP_REASON)
        sys.exit(77)
    run("__main__")
