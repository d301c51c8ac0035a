#!/usr/bin/env python3
"""The Redis store's non-blocking request rate against redis-benchmark.

One request of the store is two commands: the read (GETRANGE) and the
conditional write (EVALSHA of the write script). This script starts its own
redis-server, records the two commands exactly as the store sends them
(MONITOR during a short run of csession-bench-redis-async), then, in
alternating repetitions on the same server:

  - redis-benchmark -c 64 sending each of the two commands (the write with
    its "any revision" mode, so that every run of it writes, as a write at
    the right revision does); a request's worth is one of each, so the
    baseline rate is 1 / (1/rate_read + 1/rate_write);
  - csession-bench-redis-async: one loop thread with 1, 16 and 64 requests
    in flight, and the blocking calls from 8 threads.

and prints the medians and the ratios: non-blocking at 64 in flight against
the redis-benchmark baseline and against the blocking 8-thread figure.

Usage: bench/redis_baseline.py BUILD_DIR [REPS [REQUESTS]]
  BUILD_DIR: a build with -DCSESSION_BUILD_BENCH=ON (Release).
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unescape(arg):
    """A MONITOR argument: C-like escapes inside double quotes."""
    out, i = bytearray(), 0
    while i < len(arg):
        c = arg[i]
        if c == "\\" and i + 1 < len(arg):
            n = arg[i + 1]
            if n == "x":
                out.append(int(arg[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}.get(
                n, n.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def monitor_args(line):
    body = line.split("] ", 1)[1]
    return [unescape(m) for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]


def rps(output):
    m = re.findall(r"([\d.]+) requests per second", output)
    if not m:
        sys.exit("redis-benchmark said: " + output)
    return float(m[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    bench = os.path.join(build, "bench", "csession-bench-redis-async")
    work = tempfile.mkdtemp(prefix="csession-baseline-")
    port = free_port()
    url = "redis://127.0.0.1:%d" % port
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", work],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        mon = subprocess.Popen(["redis-cli", "-p", str(port), "monitor"], stdout=subprocess.PIPE,
                               text=True)
        time.sleep(0.3)
        subprocess.run([bench, url, "200"], check=True, stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        mon.terminate()
        lines = mon.communicate()[0].splitlines()
        read = next(monitor_args(l) for l in lines if '"GETRANGE"' in l)
        write = next(monitor_args(l) for l in lines if '"EVALSHA"' in l)
        write[4] = b"a"  # any revision: every run writes
        # The key must hold a state for both commands to do their work.
        key = write[3].decode()
        subprocess.run(["redis-cli", "-p", str(port), "SET", key, "x"], check=True,
                       stdout=subprocess.DEVNULL)

        figures = {"read": [], "write": [], "pair": [], "1": [], "16": [], "64": [], "threads": []}
        for _ in range(reps):
            for name, cmd in (("read", read), ("write", write)):
                out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "64", "-n",
                                      str(n * 5), "-q"] + [a.decode("latin-1") for a in cmd],
                                     capture_output=True, text=True).stdout
                figures[name].append(rps(out))
            figures["pair"].append(1 / (1 / figures["read"][-1] + 1 / figures["write"][-1]))
            out = subprocess.run([bench, url, str(n)], capture_output=True, text=True,
                                 check=True).stdout
            for flight in ("1", "16", "64"):
                figures[flight].append(float(re.search(
                    r"%s in flight:\s+(\d+)" % flight, out).group(1)))
            figures["threads"].append(float(re.search(r"8 threads.*?:\s+(\d+)", out).group(1)))
        med = {k: statistics.median(v) for k, v in figures.items()}
        print("Redis server %s, %d repetitions, medians (requests/s):" % (url, reps))
        print("  redis-benchmark -c 64, the read (GETRANGE):     %9.0f" % med["read"])
        print("  redis-benchmark -c 64, the write (EVALSHA):     %9.0f" % med["write"])
        print("  redis-benchmark -c 64, one of each per request: %9.0f" % med["pair"])
        print("  csession, one loop thread,  1 in flight:        %9.0f" % med["1"])
        print("  csession, one loop thread, 16 in flight:        %9.0f" % med["16"])
        print("  csession, one loop thread, 64 in flight:        %9.0f" % med["64"])
        print("  csession, blocking, 8 threads:                  %9.0f" % med["threads"])
        r1 = statistics.median(a / b for a, b in zip(figures["64"], figures["pair"]))
        r2 = statistics.median(a / b for a, b in zip(figures["64"], figures["threads"]))
        print("  64 in flight / redis-benchmark:  %.2fx (median of the runs' ratios)" % r1)
        print("  64 in flight / 8 blocking threads: %.2fx" % r2)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
