#!/usr/bin/python3
"""RFC 9113 MUSTs one by one over hand-built frames: every case checks the
exact GOAWAY or RST_STREAM code, and that the connection (or, for stream
errors, the next request on it) behaves afterwards."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import PLAINTEXT_BODY, check, check_eq, test  # noqa: E402
from h2wire import (CONTINUATION, DATA, END_HEADERS, END_STREAM, GOAWAY, H2Conn,  # noqa: E402
                    HEADERS, PING, PRIORITY, S_INITIAL_WINDOW_SIZE, SETTINGS, block, frame,
                    request_fields, rst, window_update)


def conn(ctx, **kw):
    return H2Conn(ctx.port, **kw)


def still_serves(c, sid):
    c.get(sid)
    status, _, body = c.response(sid)
    check_eq((status, body), (200, PLAINTEXT_BODY), f"stream {sid} after a stream error")


def conn_error(ctx, data, code, what):
    with conn(ctx) as c:
        c.send(data)
        c.expect_goaway(code, what=what)


@test
def preface_and_settings(ctx):
    with conn(ctx) as c:
        c.get(1)
        status, hdrs, body = c.response(1)
        check_eq((status, body), (200, PLAINTEXT_BODY), "GET over raw h2")
        check_eq(c.server_settings.get(3), 100, "MAX_CONCURRENT_STREAMS")
        check_eq(c.server_settings.get(5), 16384, "MAX_FRAME_SIZE")
        c.send(frame(PING, 0, 0, b"abcdefgh"))
        import time
        deadline = time.monotonic() + 5
        while True:
            f = c.read_frame(deadline)
            check(f is not None, "closed instead of PING ACK")
            if f[0] == PING:
                check_eq((f[1], f[3]), (1, b"abcdefgh"), "PING ACK with same data")
                break


@test
def wrong_preface(ctx):
    with conn(ctx, preface=False) as c:
        c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
        c.expect_goaway("PROTOCOL_ERROR", what="wrong preface")


@test
def frame_level_connection_errors(ctx):
    cases = [
        ("DATA on stream 0", frame(DATA, 0, 0, b"x"), "PROTOCOL_ERROR"),
        ("SETTINGS on stream 1", frame(SETTINGS, 0, 1, b""), "PROTOCOL_ERROR"),
        ("SETTINGS bad length", frame(SETTINGS, 0, 0, b"12345"), "FRAME_SIZE_ERROR"),
        ("SETTINGS ACK with payload", frame(SETTINGS, 1, 0, b"\0\3\0\0\0\1"), "FRAME_SIZE_ERROR"),
        ("PING wrong length", frame(PING, 0, 0, b"1234"), "FRAME_SIZE_ERROR"),
        ("WINDOW_UPDATE 0 on connection", window_update(0, 0), "PROTOCOL_ERROR"),
        ("connection window overflow", window_update(0, 0x7fffffff), "FLOW_CONTROL_ERROR"),
        ("CONTINUATION without HEADERS", frame(CONTINUATION, END_HEADERS, 1, b""),
         "PROTOCOL_ERROR"),
        ("HEADERS on even stream", frame(HEADERS, END_HEADERS | END_STREAM, 2,
                                         block(request_fields())), "PROTOCOL_ERROR"),
        ("HPACK garbage", frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\xff\xff\xff\xff\xff"),
         "COMPRESSION_ERROR"),
        ("HPACK index out of range", frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xfe"),
         "COMPRESSION_ERROR"),
        ("frame over MAX_FRAME_SIZE", frame(HEADERS, END_HEADERS, 1, b"\0" * 16385),
         "FRAME_SIZE_ERROR"),
        ("RST_STREAM on idle stream", rst(5, 0), "PROTOCOL_ERROR"),
        ("WINDOW_UPDATE on idle stream", window_update(7, 10), "PROTOCOL_ERROR"),
        ("DATA on idle stream", frame(DATA, 0, 9, b"x"), "PROTOCOL_ERROR"),
        ("SETTINGS_INITIAL_WINDOW_SIZE too big", frame(SETTINGS, 0, 0, struct.pack(
            ">HI", S_INITIAL_WINDOW_SIZE, 0x80000000)), "FLOW_CONTROL_ERROR"),
        ("SETTINGS_ENABLE_PUSH 2", frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 2)),
         "PROTOCOL_ERROR"),
        ("PUSH_PROMISE from client", frame(5, END_HEADERS, 1, b"\0\0\0\2"), "PROTOCOL_ERROR"),
    ]
    for what, data, code in cases:
        conn_error(ctx, data, code, what)


@test
def stream_ids(ctx):
    with conn(ctx) as c:
        c.get(5)
        c.response(5)
        c.get(3)  # decreasing
        c.expect_goaway("PROTOCOL_ERROR", what="decreasing stream id")
    with conn(ctx) as c:
        c.get(1)
        c.response(1)
        c.get(1)  # closed stream reused
        c.expect_goaway("STREAM_CLOSED", what="HEADERS on a closed stream")


@test
def continuation_sequence(ctx):
    # HEADERS without END_HEADERS, then another frame: PROTOCOL_ERROR.
    b = block(request_fields())
    with conn(ctx) as c:
        c.send(frame(HEADERS, END_STREAM, 1, b[:5]) + frame(PING, 0, 0, b"12345678"))
        c.expect_goaway("PROTOCOL_ERROR", what="frame inside a header block")
    with conn(ctx) as c:
        c.send(frame(HEADERS, END_STREAM, 1, b[:5]) + frame(CONTINUATION, END_HEADERS, 3, b[5:]))
        c.expect_goaway("PROTOCOL_ERROR", what="CONTINUATION on another stream")
    # Split correctly, it works.
    with conn(ctx) as c:
        c.send(frame(HEADERS, END_STREAM, 1, b[:5]) + frame(CONTINUATION, 0, 1, b[5:9]) +
               frame(CONTINUATION, END_HEADERS, 1, b[9:]))
        status, _, body = c.response(1)
        check_eq((status, body), (200, PLAINTEXT_BODY), "HEADERS + 2 CONTINUATION")


@test
def malformed_requests(ctx):
    cases = [
        ("upper-case header name", request_fields(extra=[("X-Upper", "1")])),
        ("missing :path", request_fields(path=None)),
        ("empty :path", request_fields(path="")),
        ("connection header", request_fields(extra=[("connection", "keep-alive")])),
        ("transfer-encoding header", request_fields(extra=[("transfer-encoding", "chunked")])),
        ("upgrade header", request_fields(extra=[("upgrade", "h2c")])),
        ("te: gzip", request_fields(extra=[("te", "gzip")])),
        ("unknown pseudo-header", request_fields(extra=[(":foo", "x")])),
        ("response pseudo-header", [(":status", "200")] + request_fields()),
        ("duplicate :method", [(":method", "GET")] + request_fields()),
        ("pseudo after regular", [("accept", "*/*")] + request_fields()),
        ("value with newline", request_fields(extra=[("x-a", "a\nb")])),
    ]
    with conn(ctx) as c:
        sid = 1
        for what, fields in cases:
            c.headers(sid, fields)
            c.expect_rst(sid, "PROTOCOL_ERROR", what=what)
            sid += 2
        still_serves(c, sid)


@test
def content_length_and_bodies(ctx):
    with conn(ctx) as c:
        # content-length larger than the DATA sent
        c.headers(1, request_fields("POST", extra=[("content-length", "10")]), end_stream=False)
        c.send(frame(DATA, END_STREAM, 1, b"abc"))
        c.expect_rst(1, "PROTOCOL_ERROR", what="content-length > DATA")
        # more DATA than content-length
        c.headers(3, request_fields("POST", extra=[("content-length", "2")]), end_stream=False)
        c.send(frame(DATA, END_STREAM, 3, b"abc"))
        c.expect_rst(3, "PROTOCOL_ERROR", what="DATA > content-length")
        # matching: the router answers (no builtin POST route: 405)
        c.headers(5, request_fields("POST", extra=[("content-length", "3")]), end_stream=False)
        c.send(frame(DATA, END_STREAM, 5, b"abc"))
        status, _, _ = c.response(5)
        check_eq(status, 405, "POST with a matching body")
        # trailers after DATA
        c.headers(7, request_fields("POST"), end_stream=False)
        c.send(frame(DATA, 0, 7, b"abc"))
        c.headers(7, [("x-trailer", "1")], end_stream=True)
        status, _, _ = c.response(7)
        check_eq(status, 405, "request with trailers")
        # trailers with a pseudo-header
        c.headers(9, request_fields("POST"), end_stream=False)
        c.send(frame(DATA, 0, 9, b"abc"))
        c.headers(9, [(":path", "/x")], end_stream=True)
        c.expect_rst(9, "PROTOCOL_ERROR", what="pseudo-header in trailers")
        # DATA on a half-closed (remote) stream
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 0)))
        c.get(11, "/big.bin")
        c.send(frame(DATA, 0, 11, b"x"))
        c.expect_rst(11, "STREAM_CLOSED", what="DATA on half-closed stream")
        # HEADERS on a half-closed (remote) stream
        c.get(13, "/big.bin")
        c.get(13, "/big.bin")
        c.expect_rst(13, "STREAM_CLOSED", what="HEADERS on half-closed stream")
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 65535)))
        still_serves(c, 15)


@test
def body_over_max_body(ctx):
    with conn(ctx) as c:
        c.headers(1, request_fields("POST", extra=[("content-length", str(2 << 20))]),
                  end_stream=False)
        status, _, _ = c.response(1)
        check_eq(status, 413, "content-length over --max-body")
        still_serves(c, 3)


@test
def priority_self_dependency_on_idle_stream(ctx):
    """§5.3.1: a stream cannot depend on itself. On an idle stream no
    RST_STREAM may be sent (§6.4), so it is a connection error, not dropped."""
    conn_error(ctx, frame(PRIORITY, 0, 5, struct.pack(">IB", 5, 10)), "PROTOCOL_ERROR",
               "PRIORITY on idle stream 5 depending on 5")
    conn_error(ctx, frame(PRIORITY, 0, 9, struct.pack(">IB", 0x80000009, 0)), "PROTOCOL_ERROR",
               "exclusive PRIORITY on idle stream 9 depending on 9")
    # Well-formed (or merely mis-sized) PRIORITY frames on idle streams are fine.
    with conn(ctx) as c:
        c.send(frame(PRIORITY, 0, 5, struct.pack(">IB", 3, 10)))
        c.send(frame(PRIORITY, 0, 7, b"\0\0\0\1"))
        still_serves(c, 1)


@test
def stream_level_frame_errors(ctx):
    with conn(ctx) as c:
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 0)))
        c.get(1, "/big.bin")
        c.send(window_update(1, 0))
        c.expect_rst(1, "PROTOCOL_ERROR", what="WINDOW_UPDATE 0 on a stream")
        c.get(3, "/big.bin")
        c.send(window_update(3, 0x7fffffff) + window_update(3, 0x7fffffff))
        c.expect_rst(3, "FLOW_CONTROL_ERROR", what="stream window overflow")
        c.get(5, "/big.bin")
        c.send(frame(PRIORITY, 0, 5, struct.pack(">IB", 5, 10)))
        c.expect_rst(5, "PROTOCOL_ERROR", what="stream depends on itself")
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 65535)))
        still_serves(c, 7)


@test
def settings_window_change_applies(ctx):
    # Window 0, then SETTINGS raises it: the waiting response completes.
    with conn(ctx, client_settings=[(S_INITIAL_WINDOW_SIZE, 0)]) as c:
        c.get(1)
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", S_INITIAL_WINDOW_SIZE, 100)))
        status, _, body = c.response(1)
        check_eq((status, body), (200, PLAINTEXT_BODY), "response after window raised by SETTINGS")


@test
def max_concurrent_streams(ctx):
    with conn(ctx, client_settings=[(S_INITIAL_WINDOW_SIZE, 0)]) as c:
        for i in range(100):
            c.get(1 + 2 * i, "/big.bin")
        c.get(201, "/big.bin")
        c.expect_rst(201, "REFUSED_STREAM", what="stream 101")


@test
def client_goaway(ctx):
    with conn(ctx) as c:
        c.get(1)
        c.response(1)
        c.send(frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
        c.expect_closed(what="server closes after client GOAWAY")


@test
def priority_urgency(ctx):
    # RFC 9218: both responses wait for the connection window; once it opens
    # the urgent one (u=0) gets it and finishes before the other moves on.
    import time
    with conn(ctx, client_settings=[(S_INITIAL_WINDOW_SIZE, 1 << 20)]) as c:
        c.headers(1, request_fields(path="/big.bin", extra=[("priority", "u=5")]))
        c.headers(3, request_fields(path="/big.bin", extra=[("priority", "u=0, i")]))
        got = {1: 0, 3: 0}
        deadline = time.monotonic() + 5
        while got[1] + got[3] < 65535:  # the initial connection window
            f = c.read_frame(deadline)
            check(f is not None, "closed")
            if f[0] == DATA:
                got[f[2]] += len(f[3])
        c.send(window_update(0, 2 * len(ROOT["big.bin"])))
        order = []
        while len(order) < 2:
            f = c.read_frame(deadline)
            check(f is not None, "closed")
            t, fl, sid, payload = f
            if t == DATA:
                got[sid] += len(payload)
                if fl & END_STREAM:
                    order.append((sid, got[1], got[3]))
        check_eq(order[0][0], 3, f"urgent stream finishes first: {order}")
        check(order[0][1] <= 65535, f"the less urgent stream waited: {order}")
        check_eq((got[1], got[3]), (len(ROOT["big.bin"]),) * 2, "both complete")


ROOT = {"big.bin": os.urandom(300000)}

if __name__ == "__main__":
    rwtest.main(root_files=ROOT)
