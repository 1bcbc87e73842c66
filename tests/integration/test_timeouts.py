#!/usr/bin/python3
"""Header (slowloris) and keep-alive idle timeouts; other clients keep being
served meanwhile."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import PLAINTEXT_BODY, check, check_eq, request, short, test  # noqa: E402

HEADER_TIMEOUT = 2      # seconds (--header-timeout)
KEEPALIVE_TIMEOUT = 1   # seconds (--keepalive-timeout)
SLACK = 2.0             # timer granularity + scheduling (sanitizer builds are slow)


def trickle_until_closed(port, head_prefix, interval, bound):
    """Sends head_prefix, then one more header byte every interval seconds.
    Returns (seconds until the server closed, bytes it sent before closing);
    fails if still open after bound seconds."""
    s = socket.create_connection((rwtest.HOST, port), timeout=5)
    got = b""
    t0 = time.monotonic()
    try:
        s.sendall(head_prefix)
        filler = b"X-Slow: " + b"a" * 10000
        i = 0
        while time.monotonic() - t0 < bound:
            s.settimeout(interval)
            try:
                data = s.recv(4096)
                if not data:
                    return time.monotonic() - t0, got
                got += data
                continue
            except socket.timeout:
                pass
            except ConnectionResetError:
                return time.monotonic() - t0, got
            try:
                s.send(filler[i % len(filler):i % len(filler) + 1])
                i += 1
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - t0, got
        raise rwtest.TestFailure(f"slow client still connected after {bound}s "
                                 f"({i} bytes trickled; got {short(got)})")
    finally:
        s.close()


def served_quickly(port, n, errors):
    """Background client: n sequential requests on fresh connections, each
    must be answered within 1.5 s."""
    try:
        for _ in range(n):
            t0 = time.monotonic()
            with rwtest.Conn(port, timeout=3) as c:
                c.send(request("GET", "/plaintext"))
                r = c.read_response()
            dt = time.monotonic() - t0
            if r.body != PLAINTEXT_BODY or dt > 1.5:
                errors.append(f"request took {dt:.2f}s / body {short(r.body)}")
            time.sleep(0.1)
    except Exception as e:  # reported by the main thread
        errors.append(f"{type(e).__name__}: {e}")


@test
def slowloris_header_timeout(ctx):
    errors = []
    bg = threading.Thread(target=served_quickly, args=(ctx.port, 20, errors))
    bg.start()
    try:
        dt, got = trickle_until_closed(ctx.port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\n", 0.5,
                                       HEADER_TIMEOUT + SLACK + 1)
    finally:
        bg.join(timeout=30)
    check(dt >= HEADER_TIMEOUT - 0.5, f"closed after {dt:.2f}s, before the {HEADER_TIMEOUT}s header timeout")
    check(got == b"" or got.startswith(b"HTTP/1.1 408"), f"slow client got {short(got)} (want 408 or nothing)")
    check(not errors, f"other clients not served during slowloris: {errors[:3]}")


@test
def silent_connection_closed(ctx):
    # Connects and never sends a byte.
    with ctx.conn() as c:
        t0 = time.monotonic()
        data = c.wait_closed(HEADER_TIMEOUT + SLACK + 1)
        dt = time.monotonic() - t0
        check(data == b"" or data.startswith(b"HTTP/1.1 408"), f"idle new connection got {short(data)}")
        check(dt >= min(HEADER_TIMEOUT, KEEPALIVE_TIMEOUT) - 0.5, f"closed too early ({dt:.2f}s)")


@test
def keepalive_idle_close(ctx):
    with ctx.conn() as c:
        c.send(request("GET", "/plaintext"))
        check_eq(c.read_response().body, PLAINTEXT_BODY, "first response")
        t0 = time.monotonic()
        data = c.wait_closed(KEEPALIVE_TIMEOUT + SLACK)
        dt = time.monotonic() - t0
        check(data == b"", f"idle keep-alive connection got {short(data)}")
        check(dt >= KEEPALIVE_TIMEOUT - 0.5, f"closed after {dt:.2f}s, before the keep-alive timeout")


@test
def active_connection_not_cut(ctx):
    # Requests every 0.5 s for longer than both timeouts: must stay open.
    with ctx.conn() as c:
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < HEADER_TIMEOUT + 1.0:
            c.send(request("GET", "/json"))
            r = c.read_response()
            check_eq(r.status, 200, f"request {i} on an active connection")
            check(not r.wants_close(), f"request {i}: server announced a close")
            i += 1
            time.sleep(0.5)
        # A request head sent slowly but within the header timeout is fine.
        c.send_slowly(request("GET", "/plaintext"), step=8, delay=0.05)
        check_eq(c.read_response().body, PLAINTEXT_BODY, "slow-but-in-time request")


@test
def partial_body_timeout_does_not_hang(ctx):
    # Head complete, body never finishes: the connection must still be closed
    # eventually (by the header/keep-alive or a body timeout), not held forever.
    with ctx.conn() as c:
        c.send(b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        data = c.wait_closed(HEADER_TIMEOUT + KEEPALIVE_TIMEOUT + SLACK + 2)
        check(data == b"" or data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.1 400"),
              f"stalled body got {short(data)}")


if __name__ == "__main__":
    rwtest.main(server_args=["--header-timeout", str(HEADER_TIMEOUT),
                             "--keepalive-timeout", str(KEEPALIVE_TIMEOUT)])
