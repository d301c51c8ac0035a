"""Real Redis servers for the end-to-end tests: a single server, a Sentinel
group (master, replica, three sentinels) and a three-master Cluster, each
process on a free 127.0.0.1 port in a temporary directory, stopped by its
PID. Standard library only; needs redis-server and redis-cli."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def _bindable(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _free_port(cluster=False):
    """A port the kernel considers free; for a Cluster node one whose bus
    port (+10000) is free too and exists (Redis refuses ports above 55535)."""
    for _ in range(1000):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not cluster or (port <= 55535 and _bindable(port + 10000)):
            return port
    raise OSError("no free port")


def command(port, *args, timeout=5):
    """One command over RESP; returns the decoded reply (bytes, int, list,
    or an Exception for an error reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        req = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            req += b"$%d\r\n%s\r\n" % (len(a), a)
        s.sendall(req)
        f = s.makefile("rb")
        return _read(f)


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b"-":
        return Exception(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise OSError("bad reply %r" % line)


class RedisProcess:
    """redis-server (or a sentinel) with a log file; start() waits until the
    log says it is ready, so that another test's server cannot stand in."""

    def __init__(self, args=(), sentinel_conf=None):
        self.dir = tempfile.mkdtemp(prefix="csession-redis-")
        self.port = _free_port(cluster="--cluster-enabled" in args)
        self.log = os.path.join(self.dir, "redis.log")
        argv = ["redis-server"]
        ready = "Ready to accept connections"
        if sentinel_conf is not None:
            conf = os.path.join(self.dir, "sentinel.conf")
            with open(conf, "w") as f:
                f.write(sentinel_conf)
            argv = ["redis-server", conf, "--sentinel"]
            ready = "Sentinel ID is"
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                 "--logfile", self.log, "--save", "", "--appendonly", "no", *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise OSError("redis-server exited: %s" % self._log_tail())
            try:
                with open(self.log, errors="replace") as f:
                    if ready in f.read():
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise OSError("redis-server did not start: %s" % self._log_tail())
            time.sleep(0.02)  # polling a log file: there is no event to wait on

    def _log_tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_for(what, probe, timeout=30):
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise OSError("%s: timed out" % what)
        time.sleep(0.05)


class Single:
    def __init__(self):
        self.servers = [RedisProcess()]
        self.url = "redis://127.0.0.1:%d" % self.servers[0].port

    def stop(self):
        for s in self.servers:
            s.stop()


class SentinelGroup:
    NAME = "e2emaster"

    def __init__(self):
        self.servers = []
        try:
            master = RedisProcess()
            self.servers.append(master)
            self.servers.append(RedisProcess(("--replicaof", "127.0.0.1", str(master.port))))
            conf = ("sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s 1000\n"
                    "sentinel failover-timeout %s 5000\n" % (self.NAME, master.port,
                                                             self.NAME, self.NAME))
            sentinels = [RedisProcess(sentinel_conf=conf) for _ in range(3)]
            self.servers += sentinels

            def settled():
                for s in sentinels:
                    r = command(s.port, "SENTINEL", "get-master-addr-by-name", self.NAME)
                    if not isinstance(r, list) or int(r[1]) != master.port:
                        return False
                return True
            _wait_for("sentinels agree on the master", settled)
            hosts = ",".join("127.0.0.1:%d" % s.port for s in sentinels)
            self.url = "redis+sentinel://%s/%s" % (hosts, self.NAME)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for s in reversed(self.servers):
            s.stop()


class Cluster:
    def __init__(self):
        self.servers = []
        try:
            args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000")
            self.servers = [RedisProcess(args) for _ in range(3)]
            addrs = ["127.0.0.1:%d" % s.port for s in self.servers]
            subprocess.run(["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas",
                            "0", "--cluster-yes"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)

            def ok():
                return all(b"cluster_state:ok" in command(s.port, "CLUSTER", "INFO")
                           for s in self.servers)
            _wait_for("cluster_state:ok", ok)
            self.url = "redis+cluster://" + ",".join(addrs)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for s in self.servers:
            s.stop()


def available():
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None
