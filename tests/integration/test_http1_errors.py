#!/usr/bin/python3
"""Malformed and oversized HTTP/1 requests: every rejection gets the right
status and Connection: close, the connection is closed, and a pipelined
follow-up request on it is never answered (no request smuggling)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, request, short, test  # noqa: E402

MAX_LINE = 1024
MAX_HEAD = 4096
MAX_HEADERS = 20
MAX_BODY = 10000
LIMIT_FLAGS = ["--max-request-line", str(MAX_LINE), "--max-header-bytes", str(MAX_HEAD),
               "--max-headers", str(MAX_HEADERS), "--max-body", str(MAX_BODY)]

FOLLOW_UP = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"


def rejected(ctx, raw, statuses, what, follow_up=True):
    """Sends raw (+ a pipelined GET), expects one error response with a
    status in statuses and Connection: close, then a close with nothing more."""
    if isinstance(statuses, int):
        statuses = (statuses,)
    with ctx.conn() as c:
        c.send(raw + (FOLLOW_UP if follow_up else b""))
        try:
            r = c.read_response()
        except rwtest.TestFailure as e:
            if c.reset:
                raise rwtest.TestFailure(f"{what}: connection reset before the error response "
                                         "(server closed with unread input: needs a lingering close)")
            raise rwtest.TestFailure(f"{what}: {e}")
        check(r.status in statuses, f"{what}: status {r.status}, want {statuses} ({short(raw, 120)})")
        check(r.wants_close(), f"{what}: {r.status} without Connection: close")
        cl = r.header("Content-Length")
        check(cl is not None or r.chunked, f"{what}: error response without framing")
        c.expect_closed(3.0, f"close after {what}")  # an RST after the response counts as a close
        check(not c.buf, f"{what}: data after the error response")
    return r


def bad_head(*lines, version="HTTP/1.1", method="GET", path="/plaintext"):
    head = f"{method} {path} {version}\r\n".encode() + b"".join(
        (ln.encode("latin-1") if isinstance(ln, str) else ln) + b"\r\n" for ln in lines)
    return head + b"\r\n"


@test
def request_line_too_long(ctx):
    rejected(ctx, b"GET /" + b"a" * (MAX_LINE + 50) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "long request line")
    # Just under the limit is fine (404: no such path).
    target = b"/" + b"b" * (MAX_LINE - 40)
    with ctx.conn() as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check_eq(c.read_response().status, 404, "request line just under the limit")


@test
def too_many_headers(ctx):
    hs = [f"X-H{i}: v" for i in range(MAX_HEADERS + 5)]
    rejected(ctx, bad_head("Host: x", *hs), 431, "too many headers")
    with ctx.conn() as c:
        c.send(bad_head("Host: x", *[f"X-H{i}: v" for i in range(MAX_HEADERS - 2)]))
        check_eq(c.read_response().status, 200, f"{MAX_HEADERS - 1} headers")


@test
def head_too_large(ctx):
    hs = [f"X-Big{i}: " + "v" * 600 for i in range(8)]
    rejected(ctx, bad_head("Host: x", *hs), 431, "head larger than --max-header-bytes")
    # One header line longer than the whole head limit.
    rejected(ctx, bad_head("Host: x", "X-Huge: " + "v" * (MAX_HEAD + 100)), 431, "single huge header")


@test
def chunk_size_over_max_body_refused_at_the_size_line(ctx):
    """A chunk-size that alone (or with the chunks before it) passes
    --max-body is answered 413 at once: the data is never sent."""
    head = bad_head("Host: x", "Transfer-Encoding: chunked", method="POST")
    for body, what in ((b"%x\r\n" % (MAX_BODY + 1), "first chunk-size one over --max-body"),
                       (b"ffffffffffffffff\r\n", "64-bit chunk-size"),
                       (b"%x" % (MAX_BODY + 1), "size digits alone, no line end yet"),
                       (b"1000\r\n" + b"c" * 0x1000 + b"\r\n" + b"%x\r\n" % (MAX_BODY - 0x1000 + 1),
                        "second chunk-size passing the sum")):
        with ctx.conn(timeout=2.0) as c:
            c.send(head + body)
            r = c.read_response(timeout=2.0)
            check_eq(r.status, 413, f"{what}: status")
            check(r.wants_close(), f"{what}: 413 without Connection: close")
            c.expect_closed(3.0, f"close after {what}")
    # A chunk-size exactly at the limit waits for its data, then is served.
    with ctx.conn() as c:
        c.send(head + b"%x\r\n" % MAX_BODY)
        c.expect_open(0.5)
        c.send(b"d" * MAX_BODY + b"\r\n0\r\n\r\n" + FOLLOW_UP)
        check_eq(c.read_response().status, 405, "chunked body of exactly --max-body")
        check_eq(c.read_response().status, 200, "request after it")


@test
def body_too_large(ctx):
    rejected(ctx, bad_head("Host: x", f"Content-Length: {MAX_BODY + 1}", method="POST"), 413,
             "Content-Length over --max-body", follow_up=False)
    rejected(ctx, bad_head("Host: x", "Content-Length: 99999999999999", method="POST"), 413,
             "huge Content-Length", follow_up=False)
    # Chunked bodies are counted as they arrive.
    chunks = (b"1000\r\n" + b"c" * 0x1000 + b"\r\n") * 3
    rejected(ctx, bad_head("Host: x", "Transfer-Encoding: chunked", method="POST") + chunks, 413,
             "chunked body over --max-body", follow_up=False)
    # Exactly at the limit is accepted (405: /plaintext is GET only).
    with ctx.conn() as c:
        c.send(request("POST", "/plaintext", body=b"x" * MAX_BODY) + FOLLOW_UP)
        check_eq(c.read_response().status, 405, "body of exactly --max-body")
        check_eq(c.read_response().status, 200, "request after a max-size body")


@test
def smuggling_cl_te(ctx):
    raw = (b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    rejected(ctx, raw, 400, "Content-Length + Transfer-Encoding")
    raw = (b"POST /plaintext HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Length: 40\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    rejected(ctx, raw, 400, "Transfer-Encoding + Content-Length")


@test
def content_length_errors(ctx):
    rejected(ctx, bad_head("Host: x", "Content-Length: 5", "Content-Length: 6", method="POST") + b"hello!",
             400, "two differing Content-Length")
    rejected(ctx, bad_head("Host: x", "Content-Length: 5, 6", method="POST") + b"hello!",
             400, "Content-Length list with differing values")
    for bad in ("+5", "5a", " 1 2", "-1", "0x5", "5.0", ""):
        rejected(ctx, bad_head("Host: x", f"Content-Length: {bad}", method="POST") + b"hello",
                 400, f"Content-Length {bad!r}")
    rejected(ctx, bad_head("Host: x", "Content-Length: 184467440737095516160", method="POST"),
             (400, 413), "Content-Length overflowing 64 bits")


@test
def transfer_encoding_errors(ctx):
    for te, want in (("gzip", (400, 501)), ("chunked, gzip", (400, 501)), ("gzip, chunked", (400, 501)),
                     ("chunked, chunked", (400, 501)), ("xchunked", (400, 501)), ("chunked\x0b", (400, 501))):
        rejected(ctx, bad_head("Host: x", f"Transfer-Encoding: {te}", method="POST") + b"0\r\n\r\n",
                 want, f"Transfer-Encoding {te!r}")
    rejected(ctx, bad_head("Transfer-Encoding: chunked", method="POST", version="HTTP/1.0") + b"0\r\n\r\n",
             400, "HTTP/1.0 with chunked")


@test
def header_syntax_errors(ctx):
    cases = [
        (bad_head("Host: x", "X-A: one", " folded"), "obs-fold (space)"),
        (bad_head("Host: x", "X-A: one", "\tfolded"), "obs-fold (tab)"),
        (bad_head("Host : x"), "space before colon"),
        (bad_head("Host: x", "X-A\t: y"), "tab before colon"),
        (bad_head("Host: x", b"X-A: a\rb"), "bare CR in value"),
        (bad_head("Host: x", b"X-A: a\x00b"), "NUL in value"),
        (bad_head("Host: x", b"X-\x00A: b"), "NUL in name"),
        (bad_head("Host: x", "X A: b"), "space in name"),
        (bad_head("Host: x", ": novalue"), "empty header name"),
        (bad_head("Host: x", "NoColon"), "header without colon"),
        (bad_head("Host: x", b"X-A: \x7f"), "DEL in value"),
        (b"GET /plaintext HTTP/1.1\rHost: x\r\n\r\n", "bare CR after request line"),
    ]
    for raw, what in cases:
        rejected(ctx, raw, 400, what)


@test
def chunk_errors(ctx):
    def chunked(body):
        return bad_head("Host: x", "Transfer-Encoding: chunked", method="POST") + body
    rejected(ctx, chunked(b"zz\r\nhello\r\n0\r\n\r\n"), 400, "non-hex chunk size")
    rejected(ctx, chunked(b"\r\nhello\r\n0\r\n\r\n"), 400, "empty chunk size")
    rejected(ctx, chunked(b"-5\r\nhello\r\n0\r\n\r\n"), 400, "negative chunk size")
    rejected(ctx, chunked(b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), (400, 413), "chunk size overflow")
    rejected(ctx, chunked(b"5\r\nhelloXX0\r\n\r\n"), 400, "chunk data not followed by CRLF")
    rejected(ctx, chunked(b"5\nhello\r\n0\r\n\r\n"), 400, "bare LF after chunk size")


@test
def host_errors(ctx):
    rejected(ctx, bad_head("X-A: b"), 400, "HTTP/1.1 without Host")
    rejected(ctx, bad_head("Host: a", "Host: b"), 400, "two Host headers")
    rejected(ctx, bad_head("Host: a", "Host: a"), 400, "two identical Host headers")
    # HTTP/1.0 without Host is fine.
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.0\r\n\r\n")
        check_eq(c.read_response().status, 200, "HTTP/1.0 without Host")


@test
def version_errors(ctx):
    rejected(ctx, bad_head("Host: x", version="HTTP/1.2x"), (400, 505), "version HTTP/1.2x")
    rejected(ctx, bad_head("Host: x", version="HTTP/2.0"), (400, 505), "version HTTP/2.0")
    rejected(ctx, bad_head("Host: x", version="HTTP/3.0"), (400, 505), "version HTTP/3.0")
    rejected(ctx, bad_head("Host: x", version="http/1.1"), 400, "lowercase version")
    rejected(ctx, bad_head("Host: x", version="HTTP/11"), 400, "version HTTP/11")
    rejected(ctx, bad_head("Host: x", version="HTTP/1.1 "), 400, "trailing space after version")


@test
def request_line_errors(ctx):
    for line, what in (
        (b"GET  /plaintext HTTP/1.1", "double space"),
        (b"GET /plaintext", "no version"),
        (b"GET", "method only"),
        (b"GET plaintext HTTP/1.1", "target without a slash"),
        (b"G(T /plaintext HTTP/1.1", "bad method character"),
        (b" GET /plaintext HTTP/1.1", "leading space"),
        (b"GET /plain text HTTP/1.1", "space in target"),
        (b"GET /plain\x00text HTTP/1.1", "NUL in target"),
        (b"GET /plain\x7ftext HTTP/1.1", "DEL in target"),
    ):
        rejected(ctx, line + b"\r\nHost: x\r\n\r\n", 400, f"request line: {what}")


@test
def garbage_does_not_hurt(ctx):
    # Binary junk and a TLS ClientHello on the plaintext port.
    rejected(ctx, bytes(range(256)) + b"\r\n\r\n", 400, "binary junk", follow_up=False)
    hello = bytes.fromhex("16030100a5010000a10303") + b"\x00" * 32 + b"\r\n\r\n"
    with ctx.conn() as c:
        c.send(hello)
        data = c.wait_closed(5.0)
        check(data == b"" or data.startswith(b"HTTP/1.1 400"), f"TLS hello answered with {short(data)}")


if __name__ == "__main__":
    rwtest.main(server_args=LIMIT_FLAGS)
