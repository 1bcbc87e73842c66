#!/usr/bin/python3
"""Graceful shutdown (in-flight responses complete, idle connections close,
exit 0 in bounded time) and --max-conns refusal/recovery. Each test runs
its own server so it can stop it."""
import hashlib
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import PLAINTEXT_BODY, check, check_eq, request, short, test  # noqa: E402

BIG_SIZE = 24 << 20           # large enough to be in flight across SIGTERM
BIG = os.urandom(BIG_SIZE)
STREAM_N = 10000              # /stream?n=: the builtin maximum
SHUTDOWN_BOUND = 10.0         # seconds from SIGTERM to exit
MAX_CONNS = 4


@test
def sigterm_completes_file_in_flight(ctx):
    with ctx.start_server(root_files={"big.bin": BIG}, stop=False) as s:
        with rwtest.Conn(s.port, timeout=15) as c:
            c.send(request("GET", "/big.bin"))
            # Read only the start, so most of the file is still queued.
            c._fill(time.monotonic() + 5, "first bytes")
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            time.sleep(0.2)
            r = c.read_response(timeout=15)
            check_eq(r.status, 200, "status")
            check(hashlib.sha256(r.body).digest() == hashlib.sha256(BIG).digest(),
                  f"file cut short by SIGTERM: {len(r.body)} of {BIG_SIZE} bytes")
            c.expect_closed(SHUTDOWN_BOUND, "close after the drained response")
        s.wait_exit(SHUTDOWN_BOUND)
        check(time.monotonic() - t0 < SHUTDOWN_BOUND, "shutdown too slow")


@test
def sigterm_completes_stream_in_flight(ctx):
    with ctx.start_server(stop=False) as s:
        with rwtest.Conn(s.port, timeout=15) as c:
            c.send(request("GET", f"/stream?n={STREAM_N}"))
            c._fill(time.monotonic() + 5, "first bytes")
            s.signal(signal.SIGTERM)
            r = c.read_response(timeout=15)
            check_eq(r.status, 200, "status")
            check(r.chunked, "/stream not chunked")
            want = b"".join(b"chunk %d of %d\n" % (i + 1, STREAM_N) for i in range(STREAM_N))
            check(r.body == want, f"stream body cut/garbled by SIGTERM ({len(r.body)} of {len(want)} bytes)")
            c.expect_closed(SHUTDOWN_BOUND)
        s.wait_exit(SHUTDOWN_BOUND)


@test
def sigterm_closes_idle_keepalive(ctx):
    with ctx.start_server(stop=False) as s:
        conns = [rwtest.Conn(s.port) for _ in range(3)]
        try:
            for c in conns:
                c.send(request("GET", "/plaintext"))
                check_eq(c.read_response().body, PLAINTEXT_BODY, "request before SIGTERM")
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            for i, c in enumerate(conns):
                data = c.wait_closed(5.0)
                check_eq(data, b"", f"idle connection {i} got data at shutdown")
            dt = time.monotonic() - t0
            check(dt < 5.0, f"idle connections closed only after {dt:.1f}s")
            s.wait_exit(SHUTDOWN_BOUND)
        finally:
            for c in conns:
                c.close()


@test
def sigterm_refuses_new_connections(ctx):
    with ctx.start_server(stop=False) as s:
        with rwtest.Conn(s.port) as busy:
            # A request that is still being sent keeps the server draining.
            busy.send(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n")
            s.signal(signal.SIGTERM)
            time.sleep(0.5)
            try:
                with rwtest.Conn(s.port, timeout=3) as c:
                    c.send(request("GET", "/plaintext"))
                    data = c.wait_closed(3.0)
                    check(data == b"" or data.startswith(b"HTTP/1.1 503"),
                          f"new connection after SIGTERM was served: {short(data)}")
            except (ConnectionRefusedError, ConnectionResetError):
                pass
            # The half-sent request may be finished or dropped, but the
            # process must still end within the bound.
            send_ignoring_errors(busy, b"\r\n")
        s.wait_exit(SHUTDOWN_BOUND)


def send_ignoring_errors(c, data):
    try:
        c.send(data)
    except OSError:
        pass


@test
def shutdown_bounded_with_stuck_reader(ctx):
    # A client that never reads must not hold the process beyond
    # --shutdown-timeout.
    with ctx.start_server(extra_args=["--shutdown-timeout", "1"], root_files={"big.bin": BIG},
                          stop=False) as s:
        c = rwtest.Conn(s.port)
        try:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.send(request("GET", "/big.bin"))
            time.sleep(0.3)
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            s.wait_exit(1 + 5.0)
            check(time.monotonic() - t0 < 6.0, "shutdown exceeded --shutdown-timeout + slack")
        finally:
            c.close()


def refused(port):
    """True when a connection over the limit is refused cleanly: a 503 (then
    close) or a close/reset without a response, within 3 s."""
    try:
        c = rwtest.Conn(port, timeout=3)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    with c:
        try:
            c.send(request("GET", "/plaintext"))
        except (BrokenPipeError, ConnectionResetError):
            return True
        data = c.wait_closed(3.0)
        if data == b"" or data.startswith(b"HTTP/1.1 503"):
            return True
        raise rwtest.TestFailure(f"connection over --max-conns got {short(data)}")


def open_served(port, bound=5.0):
    """A new connection that got a 200 for /plaintext. Retries while slots
    are still held by connections the server has not yet seen close (e.g.
    the harness's readiness probe)."""
    deadline = time.monotonic() + bound
    last = None
    while time.monotonic() < deadline:
        c = None
        try:
            c = rwtest.Conn(port, timeout=3)
            c.send(request("GET", "/plaintext"))
            r = c.read_response()
            if r.status == 200 and r.body == PLAINTEXT_BODY:
                return c
            last = f"status {r.status}"
        except (OSError, rwtest.TestFailure) as e:
            last = str(e)
        if c:
            c.close()
        time.sleep(0.1)
    raise rwtest.TestFailure(f"no connection slot within {bound}s under --max-conns {MAX_CONNS} ({last})")


@test
def max_conns(ctx):
    with ctx.start_server(extra_args=["--max-conns", str(MAX_CONNS)]) as s:
        first = []
        try:
            for _ in range(MAX_CONNS):
                first.append(open_served(s.port))
            for i in range(MAX_CONNS + 1, 11):
                check(refused(s.port), f"connection {i} not refused")
            check(s.alive(), "server died refusing connections")
            for i, c in enumerate(first):
                c.send(request("GET", "/json"))
                check_eq(c.read_response().status, 200, f"first connection {i} after refusals")
            # Free two slots; new connections are accepted again.
            for c in first[:2]:
                c.close()
            first += [open_served(s.port), open_served(s.port)]
            for i, c in enumerate(first[2:]):
                c.send(request("GET", "/plaintext"))
                check_eq(c.read_response().body, PLAINTEXT_BODY, f"connection {i} after recovery")
            check(refused(s.port), "limit no longer enforced after recovery")
        finally:
            for c in first:
                c.close()


if __name__ == "__main__":
    rwtest.main()
