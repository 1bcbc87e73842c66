#!/usr/bin/python3
"""HTTP/2 abuse resistance: rapid reset, CONTINUATION floods, HPACK bombs,
SETTINGS/PING/empty-DATA floods, zero-window stalls, tiny-window trickle,
and graceful drain (GOAWAY) with a stream still waiting for window. Each
test checks that another connection is still served afterwards."""
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import PLAINTEXT_BODY, check, check_eq, test  # noqa: E402
from h2wire import (CONTINUATION, DATA, END_HEADERS, END_STREAM, H2Conn, HEADERS,  # noqa: E402
                    PING, S_INITIAL_WINDOW_SIZE, SETTINGS, block, frame, hpack_int, literal,
                    request_fields, rst, window_update)

# Engine thresholds (src/http2/h2_session.h): the floods below exceed them.
MAX_RESETS = 200
MAX_PINGS = 100
MAX_SETTINGS = 100
MAX_EMPTY_DATA = 100
MAX_CONTINUATIONS = 64

SMALL = os.urandom(300)
ROOT = {"big.bin": os.urandom(300000), "small.bin": SMALL}


def h2_serves(port):
    with H2Conn(port) as c:
        c.get(1)
        status, _, body = c.response(1)
        check_eq((status, body), (200, PLAINTEXT_BODY), "a new h2 connection is served")


@test
def rapid_reset(ctx):
    with H2Conn(ctx.port) as c:
        out = b""
        for i in range(MAX_RESETS + 50):
            sid = 1 + 2 * i
            out += frame(HEADERS, END_HEADERS | END_STREAM, sid, block(request_fields())) + \
                rst(sid, 8)
        c.send(out)
        c.expect_goaway("ENHANCE_YOUR_CALM", what="rapid reset")
    h2_serves(ctx.port)


@test
def continuation_flood(ctx):
    b = block(request_fields())
    with H2Conn(ctx.port) as c:
        data = frame(HEADERS, END_STREAM, 1, b)
        data += b"".join(frame(CONTINUATION, 0, 1, b"") for _ in range(MAX_CONTINUATIONS + 10))
        c.send(data)
        c.expect_goaway("ENHANCE_YOUR_CALM", what="empty CONTINUATION flood")
    with H2Conn(ctx.port) as c:
        # Big header block in many CONTINUATIONs: bounded by the header list limit.
        data = frame(HEADERS, END_STREAM, 1, b)
        chunk = literal("x-pad", "p" * 8000)
        data += b"".join(frame(CONTINUATION, 0, 1, chunk) for _ in range(10))
        c.send(data)
        c.expect_goaway("ENHANCE_YOUR_CALM", what="oversized header block")
    h2_serves(ctx.port)


@test
def hpack_bomb(ctx):
    with H2Conn(ctx.port) as c:
        # One 4000-byte entry added to the dynamic table, then referenced 30
        # times at one byte each: 120 KB decoded from ~4 KB on the wire.
        name, value = b"x-bomb", b"b" * 4000
        add = b"\x40" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value
        refs = b"\xbe" * 30  # indexed field 62: the newest dynamic entry
        c.headers(1, None, raw=block(request_fields()) + add + refs)
        try:
            status, _, _ = c.response(1)
            check_eq(status, 431, "decoded header list over the limit")
        except rwtest.TestFailure as e:
            check("RST_STREAM" in str(e), f"431 or RST_STREAM expected: {e}")
        # The dynamic table stays in sync: the same connection still works.
        c.get(3)
        status, _, body = c.response(3)
        check_eq((status, body), (200, PLAINTEXT_BODY), "connection usable after the bomb")
    h2_serves(ctx.port)


@test
def control_frame_floods(ctx):
    cases = [
        ("PING flood", frame(PING, 0, 0, b"12345678"), MAX_PINGS),
        ("SETTINGS flood", frame(SETTINGS, 0, 0, b""), MAX_SETTINGS),
    ]
    for what, f, limit in cases:
        with H2Conn(ctx.port) as c:
            c.send(f * (limit + 20))
            c.expect_goaway("ENHANCE_YOUR_CALM", what=what)
    with H2Conn(ctx.port) as c:
        c.headers(1, request_fields("POST"), end_stream=False)
        c.send(frame(DATA, 0, 1, b"") * (MAX_EMPTY_DATA + 20))
        c.expect_goaway("ENHANCE_YOUR_CALM", what="empty DATA flood")
    # Below the thresholds nothing happens.
    with H2Conn(ctx.port) as c:
        c.send(frame(PING, 0, 0, b"12345678") * (MAX_PINGS // 2))
        c.get(1)
        status, _, _ = c.response(1)
        check_eq(status, 200, "a few PINGs are fine")
    h2_serves(ctx.port)


@test
def zero_window_stall(ctx):
    # A client that never opens its window must not hold the stream (and the
    # file it references) forever: the busy timer closes the connection.
    with ctx.start_server(["--keepalive-timeout", "1"], root_files=ROOT) as s:
        with H2Conn(s.port, client_settings=[(S_INITIAL_WINDOW_SIZE, 0)]) as c:
            c.get(1, "/big.bin")
            t0 = time.monotonic()
            c.expect_closed(timeout=5, what="stalled connection")
            check(time.monotonic() - t0 < 4, "closed by the busy timer")
        # PINGs keep the connection busy, but the stalled response is noticed.
        with H2Conn(s.port, client_settings=[(S_INITIAL_WINDOW_SIZE, 0)]) as c:
            c.get(1, "/big.bin")
            t0 = time.monotonic()
            while c.goaway is None and not c.closed and time.monotonic() - t0 < 5:
                c.send(frame(PING, 0, 0, b"12345678"))
                try:
                    while c.read_frame(time.monotonic() + 0.3) is not None and c.goaway is None:
                        pass
                except rwtest.TestFailure:
                    pass  # nothing more within 0.3 s: ping again
            check(c.goaway is not None and c.goaway[1] == 11,
                  f"GOAWAY ENHANCE_YOUR_CALM for a stalled window, got {c.goaway}")
        h2_serves(s.port)


@test
def tiny_window_trickle(ctx):
    # 1-byte windows: every byte needs its own WINDOW_UPDATE; the response
    # must come out whole and in order, and other connections are served.
    with H2Conn(ctx.port, client_settings=[(S_INITIAL_WINDOW_SIZE, 1)]) as c:
        c.get(1, "/small.bin")
        got = b""
        deadline = time.monotonic() + 10
        while True:
            f = c.read_frame(deadline)
            check(f is not None, "closed during trickle")
            t, fl, sid, payload = f
            if t == DATA and sid == 1:
                check(len(payload) <= 1, f"DATA of {len(payload)} bytes with a 1-byte window")
                got += payload
                if fl & END_STREAM:
                    break
                c.send(window_update(1, 1) + window_update(0, 1))
        check_eq(got, SMALL, "trickled body")
        h2_serves(ctx.port)


@test
def graceful_drain(ctx):
    with ctx.start_server(root_files=ROOT) as s:
        with H2Conn(s.port, client_settings=[(S_INITIAL_WINDOW_SIZE, 0)]) as c:
            c.get(1, "/small.bin")
            time.sleep(0.2)
            s.signal(signal.SIGTERM)
            deadline = time.monotonic() + 5
            status = None
            while c.goaway is None:
                f = c.read_frame(deadline)
                check(f is not None, "closed before GOAWAY")
                if f[0] == HEADERS and f[2] == 1:
                    status = int(dict(c.last_decoded)[":status"])
            check_eq(c.goaway, (1, 0), "GOAWAY(last=1, NO_ERROR) on shutdown")
            # The open stream still completes once the window opens.
            c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 65535)))
            st2, _, body = c.response(1)
            check_eq(status or st2, 200, "status of the draining stream")
            check(body == SMALL, f"stream finished during drain ({len(body)} bytes)")
            c.expect_closed(what="closed after the last stream")
        s.wait_exit()


if __name__ == "__main__":
    rwtest.main(root_files=ROOT)
