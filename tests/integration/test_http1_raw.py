#!/usr/bin/python3
"""HTTP/1.1 over raw sockets: pipelining, split reads, half-close, resets,
request bodies, Expect: 100-continue, keep-alive rules."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import PLAINTEXT_BODY, check, check_eq, request, test  # noqa: E402

JSON_BODY = {"message": "Hello, World!"}


def check_route(resp, path, i=""):
    """Asserts resp is the right answer for GET path."""
    if path == "/plaintext":
        check_eq((resp.status, resp.body), (200, PLAINTEXT_BODY), f"response {i} to {path}")
    elif path == "/json":
        check_eq(resp.status, 200, f"status {i} for {path}")
        check_eq(json.loads(resp.body), JSON_BODY, f"body {i} for {path}")
    else:
        check_eq(resp.status, 404, f"status {i} for {path}")


@test
def pipelining_16(ctx):
    paths = ["/plaintext", "/json", "/missing-%d"] * 6
    paths = [p % i if "%" in p else p for i, p in enumerate(paths)][:16]
    with ctx.conn() as c:
        c.send(b"".join(request("GET", p) for p in paths))
        for i, p in enumerate(paths):
            check_route(c.read_response(), p, i)
        # Still usable afterwards.
        c.send(request("GET", "/json"))
        check_route(c.read_response(), "/json", "after batch")


@test
def pipelining_deep(ctx):
    # Far more than max_pipeline (64) in one write: the server must apply
    # backpressure, not drop or reorder requests.
    n = 300
    paths = ["/plaintext" if i % 3 else "/json" for i in range(n)]
    with ctx.conn(timeout=15) as c:
        c.send(b"".join(request("GET", p) for p in paths))
        for i, p in enumerate(paths):
            check_route(c.read_response(), p, i)


@test
def byte_at_a_time(ctx):
    req = request("GET", "/plaintext", headers=[("User-Agent", "rwtest"), ("Accept", "*/*")])
    with ctx.conn() as c:
        c.send_slowly(req, step=1, delay=0.002)
        check_route(c.read_response(), "/plaintext")
        # A second one on the same connection, bytes of a chunked POST.
        body = b"4\r\nabcd\r\n0\r\n\r\n"
        post = request("POST", "/plaintext", headers=[("Transfer-Encoding", "chunked")], body=body)
        c.send_slowly(post + request("GET", "/json"), step=1, delay=0.001)
        check_eq(c.read_response().status, 405, "chunked POST sent byte by byte")
        check_route(c.read_response(), "/json")


@test
def split_at_every_offset(ctx):
    get = request("GET", "/plaintext", headers=[("X-Pad", "abc")])
    post = request("POST", "/plaintext", headers=[("Transfer-Encoding", "chunked")],
                   body=b"3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n")
    with ctx.conn() as c:
        for req, want in ((get, 200), (post, 405)):
            for i in range(1, len(req)):
                c.send(req[:i])
                time.sleep(0.004)
                c.send(req[i:])
                r = c.read_response()
                check_eq(r.status, want, f"status with split at offset {i} of {req[:20]!r}")
                if want == 200:
                    check_eq(r.body, PLAINTEXT_BODY, f"body with split at {i}")


@test
def half_close(ctx):
    with ctx.conn() as c:
        c.send(request("GET", "/plaintext") + request("GET", "/json"))
        c.shutdown_write()
        check_route(c.read_response(), "/plaintext")
        check_route(c.read_response(), "/json")
        c.expect_closed(3.0, "close after the client's FIN")
    # FIN in the middle of a request head: no response, just a close.
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n")
        c.shutdown_write()
        data = c.wait_closed(3.0)
        check(data == b"" or data.startswith(b"HTTP/1.1 400"),
              f"truncated request answered with {rwtest.short(data)}")


@test
def client_reset_mid_response(ctx):
    many = request("GET", "/plaintext") * 200 + request("GET", "/stream") * 4
    for _ in range(10):
        c = ctx.conn()
        c.send(many)
        time.sleep(0.01)
        c.abort()
    # Also reset before anything was read from a half-sent request.
    for _ in range(5):
        c = ctx.conn()
        c.send(b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        c.abort()
    time.sleep(0.1)
    ctx.server.health_check()


@test
def post_content_length_consumed(ctx):
    body = b"0123456789" * 300
    with ctx.conn() as c:
        c.send(request("POST", "/plaintext", body=body) + request("GET", "/plaintext"))
        r = c.read_response()
        check_eq(r.status, 405, "POST /plaintext")
        check(not r.wants_close(), "405 closed the connection: the body should be consumed instead")
        check_route(c.read_response(), "/plaintext", "after POST with Content-Length body")
        # Body arriving in a separate segment after the head.
        c.send(b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        time.sleep(0.05)
        c.send(b"hello world" + request("GET", "/json"))
        check_eq(c.read_response().status, 405, "POST with late body")
        check_route(c.read_response(), "/json", "after late body")


@test
def post_chunked_with_trailers(ctx):
    body = (b"5;ext=1\r\nhello\r\n"
            b"1A\r\n" + b"z" * 26 + b"\r\n"
            b"0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n")
    req = request("POST", "/plaintext", headers=[("Transfer-Encoding", "chunked")], body=body)
    with ctx.conn() as c:
        c.send(req + request("GET", "/json") + req + request("GET", "/plaintext"))
        check_eq(c.read_response().status, 405, "chunked POST")
        check_route(c.read_response(), "/json", "after chunked POST")
        check_eq(c.read_response().status, 405, "second chunked POST")
        check_route(c.read_response(), "/plaintext", "after second chunked POST")


@test
def expect_100_continue(ctx):
    with ctx.conn() as c:
        c.send(b"POST /plaintext HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        r = c.read_response(interim=True, timeout=3)
        check_eq(r.status, 100, "interim status before the body was sent")
        check_eq(r.version, "HTTP/1.1", "interim version")
        c.send(b"hello" + request("GET", "/plaintext"))
        final = c.read_response()
        check_eq(final.status, 405, "final status after 100 Continue")
        check_eq(final.interim, [], "second 100 Continue")
        check_route(c.read_response(), "/plaintext", "after Expect request")
        # Body sent together with the head: a 100 is optional, the final answer is not.
        c.send(b"POST /plaintext HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: 3\r\n\r\nabc" + request("GET", "/json"))
        check_eq(c.read_response().status, 405, "Expect with body already sent")
        check_route(c.read_response(), "/json", "after Expect with body")
    # HTTP/1.0 clients never get a 100 (RFC 9110 10.1.1).
    with ctx.conn() as c:
        c.send(b"POST /plaintext HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        c.expect_open(0.4)
        c.send(b"abcd")
        r = c.read_response()
        check_eq(r.interim, [], "100 Continue sent to an HTTP/1.0 client")
        check_eq(r.status, 405, "HTTP/1.0 POST status")


@test
def http10_keepalive_rules(ctx):
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.0\r\n\r\n")
        r = c.read_response()
        check_route(r, "/plaintext")
        check_eq(r.version, "HTTP/1.1", "response version (servers answer with their own)")
        c.expect_closed(3.0, "close after HTTP/1.0 without keep-alive")
    with ctx.conn() as c:
        for i in range(3):
            c.send(b"GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
            check_route(r, "/json", i)
            check(r.has_token("Connection", "keep-alive"),
                  f"HTTP/1.0 keep-alive response lacks Connection: keep-alive: {r.headers}")
            check(r.header("Content-Length") is not None, "HTTP/1.0 keep-alive needs Content-Length")
        c.send(b"GET /plaintext HTTP/1.0\r\n\r\n")
        check_route(c.read_response(), "/plaintext")
        c.expect_closed(3.0, "close after the last HTTP/1.0 request without keep-alive")
    # /stream to an HTTP/1.0 client: no chunked; close-delimited (or Content-Length).
    with ctx.conn() as c:
        c.send(b"GET /stream HTTP/1.0\r\n\r\n")
        r = c.read_response()
        check_eq(r.status, 200, "HTTP/1.0 /stream status")
        check(r.header("Transfer-Encoding") is None, "chunked response to HTTP/1.0")
        check(len(r.body) > 0, "empty /stream body for HTTP/1.0")
        if r.header("Content-Length") is not None:
            c.expect_closed(3.0)


@test
def connection_close_honored(ctx):
    with ctx.conn() as c:
        c.send(request("GET", "/plaintext", headers=[("Connection", "close")]) + request("GET", "/json"))
        r = c.read_response()
        check_route(r, "/plaintext")
        check(r.wants_close(), f"no Connection: close in the response: {r.headers}")
        c.expect_closed(3.0, "close after Connection: close (the pipelined request must not be answered)")
    # Token lists and case: "Connection: Keep-Alive, CLOSE".
    with ctx.conn() as c:
        c.send(request("GET", "/json", headers=[("connection", "Keep-Alive, CLOSE")]))
        check_route(c.read_response(), "/json")
        c.expect_closed(3.0)
    # HTTP/1.1 default is keep-alive.
    with ctx.conn() as c:
        for i in range(5):
            c.send(request("GET", "/plaintext"))
            r = c.read_response()
            check_route(r, "/plaintext", i)
            check(not r.wants_close(), "HTTP/1.1 response closed without reason")
        c.expect_open(0.2)


@test
def header_case_and_whitespace(ctx):
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.1\r\nhOsT:   localhost  \r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n")
        check_route(c.read_response(), "/plaintext")
        c.send(b"GET /plaintext?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n")
        check_route(c.read_response(), "/plaintext", "with a query string")


if __name__ == "__main__":
    rwtest.main()
