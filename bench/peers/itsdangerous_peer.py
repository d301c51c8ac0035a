"""Flask's cookie session (itsdangerous) on csession's workload, in-process.

Flask's SecureCookieSessionInterface signs the session with
itsdangerous.URLSafeTimedSerializer(secret_key, salt="cookie-session",
serializer=<compact JSON>, signer_kwargs={"key_derivation": "hmac",
"digest_method": hashlib.sha1}) and checks its age with max_age on load.
Flask's TaggedJSONSerializer adds tags only for non-JSON types (tuples,
bytes, dates...); this session has none, so compact json.dumps gives the
same bytes.

A request: find the cookie in the Cookie: header, loads() (base64, HMAC-SHA1
verify, timestamp check, JSON), read user_id and counter, write counter + 1,
dumps() and format the Set-Cookie header as Werkzeug's dump_cookie would
(the value needs no quoting: URL-safe base64). The Cookie: header is split
by hand, which is cheaper than Werkzeug's parser: it favours the peer.

Output: one JSON object per line per figure, like csession-bench --json.
Usage: /usr/bin/python3 itsdangerous_peer.py [--quick]
"""
import hashlib
import json
import statistics
import sys
import time

from itsdangerous import URLSafeTimedSerializer

QUICK = "--quick" in sys.argv
REPS = 5 if QUICK else 7
MIN_REP_NS = 100e6 if QUICK else 250e6

SESSION = {
    "user_id": "u-4f1c2a9e-7b3d-4c1e-9a57-d2a0",
    "counter": 7,
    "roles": ["reader", "editor"],
    "csrf": "b1946ac92492d2347c6235b4d2611184",
}


class CompactJSON:
    """The serializer shape itsdangerous expects, writing JSON as Flask does."""

    @staticmethod
    def loads(s):
        return json.loads(s)

    @staticmethod
    def dumps(obj):
        return json.dumps(obj, separators=(",", ":"))


serializer = URLSafeTimedSerializer(
    "k1-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e",
    salt="cookie-session",
    serializer=CompactJSON,
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
)
MAX_AGE = 31 * 24 * 3600  # Flask's PERMANENT_SESSION_LIFETIME default

HEADER = ("_ga=GA1.2.1234567890.1700000000; session=" + serializer.dumps(SESSION)
          + "; theme=dark")
sink = 0


def cookie_value(header, name):
    for pair in header.split(";"):
        k, _, v = pair.strip().partition("=")
        if k == name:
            return v
    return None


def request(write):
    global sink
    value = cookie_value(HEADER, "session")
    s = serializer.loads(value, max_age=MAX_AGE)
    sink += len(s["user_id"]) + s["counter"]
    if not write:
        return None
    s["counter"] = s["counter"] + 1
    return ("session=" + serializer.dumps(s)
            + "; HttpOnly; Path=/; SameSite=Lax")


def measure(name, fn):
    iters = 8
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            fn()
        t = time.perf_counter_ns() - t0
        if t >= MIN_REP_NS / 8:
            iters = int(MIN_REP_NS * 1.1 / (t / iters)) + 1
            break
        iters *= 4
    samples = []
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter_ns() - t0) / iters)
    ns = statistics.median(samples)
    print(json.dumps({"name": name, "ns_per_op": round(ns, 1),
                      "ops_per_sec": round(1e9 / ns), "baseline": None, "ratio": None}),
          flush=True)


if request(True) is None:
    raise SystemExit("no Set-Cookie")
measure("python_itsdangerous_full", lambda: request(True))
measure("python_itsdangerous_read", lambda: request(False))
