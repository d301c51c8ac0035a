#!/usr/bin/env python3
"""End-to-end test of a demo server on the Redis store over TLS.

usage: test_server_tls.py PATH/TO/session_server[_h2o]

Makes a CA and a server certificate for 127.0.0.1 with the openssl command,
starts a redis-server that listens with TLS only (--port 0 --tls-port), and
runs test_server.py's visitor flow against the demo server with
--store rediss://127.0.0.1:<port> --redis-tls-ca <ca>, then with the CA
given by the URL's tls_ca_file parameter. A server that is not told the CA
must refuse to store sessions there: its POST answers 500 and sets no
cookie. Standard library only; needs redis-server, openssl and curl.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import redis_servers  # noqa: E402
import test_server  # noqa: E402
from test_server import Failure, Server, check, curl  # noqa: E402


def make_certs(d):
    """ca.crt, and server.crt/server.key signed by it for 127.0.0.1."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [
        ["openssl", "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
         "-subj", "/CN=csession-e2e-ca"],
        ["openssl", "req", *key, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "30", "-out", "server.crt", "-extfile", "server.ext"],
    ]
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for argv in steps:
        subprocess.run(argv, cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    return {n: os.path.join(d, n) for n in ("ca.crt", "server.crt", "server.key")}


def refused_without_ca(url):
    """No CA given: the system's trust store does not know the test CA."""
    print("== rediss without the CA: refused", flush=True)
    srv = Server("--insecure", "--store", url)
    try:
        jar = os.path.join(test_server.WORK, "refused.txt")
        r = curl(srv.base + "/do_something", jar, "POST")
        check(r.status == 500, "POST without the CA: %r" % r)
        check(r.set_cookies() == [], "a cookie without a store: %r" % r)
    finally:
        err = srv.stop()
    check("unknown CA" in err, "no reason in the log:\n%s" % err[-2000:])


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for tool in ("curl", "openssl", "redis-server"):
        if not shutil.which(tool):
            print("%s is needed" % tool, file=sys.stderr)
            return 1
    test_server.SERVER = os.path.abspath(sys.argv[1])
    test_server.WORK = work = tempfile.mkdtemp(prefix="csession-e2e-tls-")
    redis = None
    try:
        certs = make_certs(work)
        tls_port = redis_servers._free_port()
        redis = redis_servers.RedisProcess(args=(
            "--port", "0", "--tls-port", str(tls_port),
            "--tls-cert-file", certs["server.crt"], "--tls-key-file", certs["server.key"],
            "--tls-ca-cert-file", certs["ca.crt"], "--tls-auth-clients", "no"))
        url = "rediss://127.0.0.1:%d" % tls_port
        test_server.long_flow(url, server_side=True, extra=("--redis-tls-ca", certs["ca.crt"]))
        test_server.long_flow(url + "?tls_ca_file=" + certs["ca.crt"], server_side=True)
        refused_without_ca(url)
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        if redis:
            redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("e2e tls: all passed (%d curl requests)" % test_server.CURL_COUNT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
