#!/usr/bin/python3
"""The per-worker SO_REUSEPORT listeners form a group that any process of the
same user can join. A stranger that binds the port with SO_REUSEPORT and
listens after ringwire must get none of the new connections (the group's
classic-BPF selector only returns ringwire's own sockets), while ringwire
answers all of them, spread over its workers."""
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

N_CONNS = 200
THREADS = 4


def foreign_listener(family, host, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(N_CONNS * 2)
    s.setblocking(False)
    return s


def drain_accepts(lst):
    got = []
    while True:
        try:
            c, _ = lst.accept()
        except BlockingIOError:
            return got
        got.append(c)


def open_and_count(family, host, port, lst):
    """Connects N_CONNS clients (the handshakes complete in the kernel, so a
    stolen one is already in the stranger's accept queue), then counts what
    the stranger can accept and asks ringwire on every other connection."""
    clients = []
    try:
        for _ in range(N_CONNS):
            c = socket.socket(family, socket.SOCK_STREAM)
            c.settimeout(rwtest.IO_TIMEOUT)
            c.connect((host, port))
            clients.append(c)
        time.sleep(0.2)
        stolen = drain_accepts(lst)
        # Every stolen connection is an established socket in the stranger's
        # queue; mark which clients they are by their port.
        stolen_ports = {s.getpeername()[1] for s in stolen}
        for s in stolen:
            s.close()
        answered = 0
        for c in clients:
            if c.getsockname()[1] in stolen_ports:
                continue
            c.sendall(rwtest.request("GET", "/plaintext", headers=[("Connection", "close")]))
            data = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
            if data.startswith(b"HTTP/1.1 200") and data.endswith(rwtest.PLAINTEXT_BODY):
                answered += 1
        return len(stolen), answered
    finally:
        for c in clients:
            c.close()


def per_worker_accepts(srv):
    """accepted= of every stats[thread N] line of a SIGUSR1 dump."""
    before = srv.stderr_text().count("stats[thread")
    srv.signal(signal.SIGUSR1)
    deadline = time.monotonic() + 3
    while srv.stderr_text().count("stats[thread") < before + THREADS and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [ln for ln in srv.stderr_text().splitlines() if "stats[thread" in ln][-THREADS:]
    return [int(re.search(r" accepted=(\d+)", ln).group(1)) for ln in lines]


def check_group(srv, family, host, port):
    lst = foreign_listener(family, host, port)
    try:
        stolen, answered = open_and_count(family, host, port, lst)
    finally:
        lst.close()
    print(f"# {host}: foreign listener accepted {stolen} of {N_CONNS}, "
          f"ringwire answered {answered}", flush=True)
    check_eq(stolen, 0, f"connections taken by the foreign listener of {N_CONNS}")
    check_eq(answered, N_CONNS, "connections ringwire answered")
    accepts = per_worker_accepts(srv)
    print(f"# accepted per worker: {accepts}", flush=True)
    check(len(accepts) == THREADS and min(accepts) > 0,
          f"new connections not spread over the workers: {accepts}")


@test
def foreign_reuseport_listener_gets_nothing_v4(ctx):
    with ctx.start_server([], threads=THREADS) as srv:
        check_group(srv, socket.AF_INET, rwtest.HOST, srv.port)


class V6Server(rwtest.Server):
    """rwtest.Server on [::1]: Server.start() waits on IPv4."""

    def argv(self):
        return [self.binary, "--listen", f"[::1]:{self.port}", "--backend", self.backend,
                "--threads", str(self.threads)]

    def _wait_ready(self):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise rwtest.TestFailure(f"server exited: {self.stderr_tail()}")
            try:
                socket.create_connection(("::1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise rwtest.TestFailure(f"IPv6 server did not start: {self.stderr_tail()}")


@test
def foreign_reuseport_listener_gets_nothing_v6(ctx):
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        print("# no IPv6 loopback here: the IPv4 case only", flush=True)
        return
    srv = V6Server(ctx.binary, ctx.backend, threads=THREADS)
    srv.start()  # free_port() is an IPv4 port; it is free on ::1 too or start retries
    try:
        check_group(srv, socket.AF_INET6, "::1", srv.port)
        srv.stop()
    finally:
        srv.cleanup()


if __name__ == "__main__":
    rwtest.main()
