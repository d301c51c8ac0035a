#!/usr/bin/env python3
"""The demo server's --redis-tls-* flags reach the Redis store's TLS options.

usage: test_redis_tls_flags.py PATH/TO/session_server tls|notls

Creating the store reads the CA, certificate and key files but connects to
nothing, so the server's start tells whether the flags arrived: a missing
CA file, or a key that does not match its certificate, stops it with the
store's message; good files let it start (and it is stopped again). The
flags without a rediss:// store are refused. Without TLS in the build every
rediss:// store is refused. Certificates are made with the openssl command.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(work):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
            "-subj", "/CN=csession-test-ca", cwd=work)
    openssl("req", "-x509", *key, "-keyout", "client.key", "-out", "client.crt", "-days", "30",
            "-subj", "/CN=csession-client", cwd=work)
    return {n: os.path.join(work, n) for n in ("ca.crt", "ca.key", "client.crt", "client.key")}


def start(server, *args):
    """(exit code, stderr) of a server that stopped at start, or (None, '')
    for one that started and was stopped again."""
    p = subprocess.Popen([server, "--port", "0", "--insecure", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # the port, once it listens
    if not line:
        err = p.stderr.read()
        return p.wait(timeout=30), err
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    return None, ""


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("tls", "notls"):
        print(__doc__, file=sys.stderr)
        return 2
    server, built = os.path.abspath(sys.argv[1]), sys.argv[2] == "tls"
    work = tempfile.mkdtemp(prefix="csession-tlsflags-")
    try:
        c = make_certs(work)
        url = "rediss://127.0.0.1:1"
        for args in (["--redis-tls-ca", c["ca.crt"]],
                     ["--store", "redis://127.0.0.1:1", "--redis-tls-server-name", "r"],
                     ["--store", url, "--redis-tls-cert", c["client.crt"]],
                     ["--store", url, "--redis-tls-ca="]):
            rc, err = start(server, *args)
            check(rc == 2 and "usage:" in err, "%s: exit %r %r" % (args, rc, err))
        rc, err = start(server, "--store", url, "--redis-tls-ca", os.path.join(work, "none.pem"))
        if not built:
            check(rc == 1 and "no TLS" in err, "no TLS in the build: exit %r %r" % (rc, err))
            print("redis tls flags (no TLS in the build): all passed")
            return 0
        check(rc == 1 and "cannot read the CA file" in err, "missing CA: %r %r" % (rc, err))
        check(work not in err, "the message names the file: %r" % err)
        rc, err = start(server, "--store", url, "--redis-tls-ca", c["ca.crt"],
                        "--redis-tls-cert", c["client.crt"], "--redis-tls-key", c["ca.key"])
        check(rc == 1 and "does not match" in err, "mismatched key: %r %r" % (rc, err))
        rc, err = start(server, "--store", url, "--redis-tls-ca", c["ca.crt"],
                        "--redis-tls-cert", c["client.crt"], "--redis-tls-key", c["client.key"],
                        "--redis-tls-server-name", "redis.example.com")
        check(rc is None, "good files: exit %r %r" % (rc, err))
        rc, err = start(server, "--store=rediss+cluster://127.0.0.1:1",
                        "--redis-tls-ca=" + c["ca.crt"])
        check(rc is None, "cluster with --flag=value: exit %r %r" % (rc, err))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("redis tls flags: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
