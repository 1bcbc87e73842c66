"""What every tests/abuse/ file shares (stdlib only, on top of rwtest).

An abuse test starts its own server (ctx.start_server) with small, explicit
limits, opens many hostile connections, and checks two things: the server
keeps serving others, and its memory stays inside the budget the operator
set. Memory is read two ways: the process's RSS (/proc/PID/status VmRSS)
and the server's own account of buffered request data (/metrics).
"""

import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import rwtest  # noqa: E402
from rwtest import HOST, check  # noqa: E402,F401

MIB = 1 << 20


def raise_nofile(want):
    """Raises this process's open-file soft limit toward want; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid):
    """Resident set size of pid in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise rwtest.TestFailure(f"no VmRSS for pid {pid}")


def metrics(port, path="/metrics"):
    """Unlabelled samples of the server's /metrics as {name: int}
    (the server must run with --metrics)."""
    with rwtest.Conn(port) as c:
        c.send(rwtest.request("GET", path))
        r = c.read_response()
    check(r.status == 200, f"GET {path}: {r.status}")
    out = {}
    for line in r.body.decode().splitlines():
        if line.startswith("#") or "{" in line or not line.strip():
            continue
        name, _, value = line.partition(" ")
        out[name] = int(float(value))
    return out


def buffered_bytes(port):
    return metrics(port)["ringwire_buffered_request_bytes"]


def open_many(port, n, first=b"", timeout=10.0):
    """n connected sockets, each having sent `first`. Connects in small
    bursts so the listen backlog never overflows."""
    socks = []
    deadline = time.monotonic() + timeout
    for i in range(n):
        s = socket.create_connection((HOST, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if first:
            s.sendall(first)
        socks.append(s)
        if time.monotonic() > deadline:
            close_all(socks)
            raise rwtest.TestFailure(f"opening {n} connections took over {timeout}s (at {i})")
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    socks.clear()


def wait_for(pred, timeout, what, step=0.1):
    """Polls pred() until true; TestFailure naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise rwtest.TestFailure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def report(name, **figures):
    """One greppable line of measured figures (docs/hardening.md quotes them)."""
    print("FIGURES " + name + " " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
