"""redis-server for the Python tests: each server of its own, on a free
127.0.0.1 port in a temporary directory, stopped and removed afterwards.

A server is ready when its log (read from its stdout as it is written) says
so; nothing here waits for a fixed time.

    with RedisServer() as r:
        store = csession.RedisStore(r.url)
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading

REDIS_SERVER = shutil.which("redis-server")
SKIP_REASON = "redis-server is not installed (apt-get install redis-server)"


def free_port():
    """A port the kernel considers free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
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
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError("unexpected reply %r" % line)


def command(port, *commands, password=None):
    """Sends each command (a tuple of arguments) on one connection and
    returns the reply of the last one. AUTH first when `password` is given."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s, s.makefile("rb") as f:
        if password is not None:
            commands = (("AUTH", password),) + commands
        s.sendall(b"".join(_encode(c) for c in commands))
        replies = [_read_reply(f) for _ in commands]
        return replies[-1]


class RedisServer:
    """One redis-server (or, with sentinel_conf, one Sentinel)."""

    def __init__(self, *args, sentinel_conf=None, unix_socket=False):
        if not REDIS_SERVER:
            raise RuntimeError(SKIP_REASON)
        self.dir = tempfile.mkdtemp(prefix="csession-py-redis-")
        self.socket = os.path.join(self.dir, "redis.sock") if unix_socket else None
        self.args = list(args)
        self.sentinel = sentinel_conf is not None
        if self.sentinel:
            self.conf = os.path.join(self.dir, "sentinel.conf")
            with open(self.conf, "w") as f:
                f.write(sentinel_conf)
        self.proc = None
        self.lines = []
        self.changed = threading.Condition()
        self._start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def _argv(self):
        argv = [REDIS_SERVER]
        if self.sentinel:
            argv += [self.conf, "--sentinel"]
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                 "--logfile", ""]
        if not self.sentinel:
            argv += ["--save", "", "--appendonly", "no"]
        if self.socket:
            argv += ["--unixsocket", self.socket, "--unixsocketperm", "700"]
        return argv + self.args

    def _drain(self, proc, lines):
        # Keeps reading the log so that the server never blocks on a full
        # pipe, and tells waiters about each line and about the end (None).
        with proc.stdout:
            for line in proc.stdout:
                with self.changed:
                    lines.append(line)
                    self.changed.notify_all()
        with self.changed:
            lines.append(None)
            self.changed.notify_all()

    def wait_log(self, text, start=0, timeout=30):
        """Waits until a log line from index `start` on contains `text`;
        False if the server exits (or the timeout passes) first."""
        with self.changed:
            lines, i = self.lines, start
            while True:
                while i < len(lines):
                    line = lines[i]
                    if line is None:
                        return False
                    if text in line:
                        return True
                    i += 1
                if not self.changed.wait(timeout):
                    return False

    def _start(self):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)  # a sanitizer runtime preloaded for the tests
        ready = "Sentinel ID is" if self.sentinel else "Ready to accept connections"
        for _ in range(10):
            self.port = free_port()
            with self.changed:
                self.lines = []  # each process logs into a list of its own
            self.proc = subprocess.Popen(self._argv(), stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, text=True, errors="replace")
            threading.Thread(target=self._drain, args=(self.proc, self.lines),
                             daemon=True).start()
            if self.wait_log(ready):
                return
            self._kill()  # the port was taken meanwhile, most likely
        raise RuntimeError("could not start redis-server; its log:\n" +
                           "".join(line for line in self.lines if line))

    def command(self, *args, password=None):
        return command(self.port, args, password=password)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def stop(self):
        """Stops the server; its port refuses connections afterwards."""
        self._kill()

    def close(self):
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sentinel_for(master, name="mymaster"):
    """A Sentinel watching `master` (a RedisServer) under `name`."""
    return RedisServer(sentinel_conf="sentinel monitor %s 127.0.0.1 %d 1\n"
                                     "sentinel down-after-milliseconds %s 60000\n"
                                     % (name, master.port, name))


def one_node_cluster():
    """A Redis Cluster of one master that serves every hash slot."""
    r = RedisServer("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    mark = len(r.lines)
    r.command("CLUSTER", "ADDSLOTS", *range(16384))
    if not r.wait_log("Cluster state changed: ok", start=mark):
        r.close()
        raise RuntimeError("the one-node cluster did not come up")
    return r
