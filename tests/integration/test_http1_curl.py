#!/usr/bin/python3
"""HTTP/1.x basics through curl: the built-in routes, methods, keep-alive."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402


def fetch(ctx, path, *extra, method=None):
    """curl one URL; returns (status, [(name, value)], body bytes, http_version)."""
    with tempfile.TemporaryDirectory(prefix="rw-curl-") as d:
        hdr, body = os.path.join(d, "h"), os.path.join(d, "b")
        args = ["-D", hdr, "-o", body, "-w", "%{http_code} %{http_version}"]
        if method:
            args += ["-X", method] if method != "HEAD" else ["-I"]
        cp = ctx.curl(*args, *extra, ctx.url(path))
        code, ver = cp.stdout.split()
        with open(hdr, "rb") as f:
            lines = f.read().decode("latin-1").split("\r\n")
        data = b""
        if os.path.exists(body):
            with open(body, "rb") as f:
                data = f.read()
    headers = []
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers.append((k.strip(), v.strip()))
    return int(code), headers, data, ver


def hget(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return vals[0] if vals else None


@test
def plaintext(ctx):
    code, h, body, ver = fetch(ctx, "/plaintext")
    check_eq(code, 200, "status")
    check_eq(ver, "1.1", "http version")
    check_eq(body, b"Hello, World!", "body")
    check_eq(hget(h, "Content-Type"), "text/plain", "Content-Type")
    check_eq(hget(h, "Content-Length"), "13", "Content-Length")
    date = hget(h, "Date")
    check(date is not None and date.endswith(" GMT") and len(date) == 29,
          f"Date header missing or not IMF-fixdate: {date!r}")
    check(hget(h, "Server"), "Server header missing")


@test
def json_route(ctx):
    code, h, body, _ = fetch(ctx, "/json")
    check_eq(code, 200, "status")
    check((hget(h, "Content-Type") or "").startswith("application/json"),
          f"Content-Type {hget(h, 'Content-Type')!r}")
    check_eq(hget(h, "Content-Length"), str(len(body)), "Content-Length")
    check_eq(json.loads(body), {"message": "Hello, World!"}, "json body")


@test
def head_plaintext(ctx):
    code, h, body, _ = fetch(ctx, "/plaintext", method="HEAD")
    check_eq(code, 200, "status")
    # curl -I writes the head itself to -o; nothing may follow the blank line.
    check(body.endswith(b"\r\n\r\n") and body.count(b"\r\n\r\n") == 1, f"HEAD output {body!r}")
    check_eq(hget(h, "Content-Length"), "13", "HEAD Content-Length")
    # The raw view too: no body bytes follow the head on a kept-alive connection.
    with ctx.conn() as c:
        c.send(rwtest.request("HEAD", "/plaintext") + rwtest.request("GET", "/plaintext"))
        r1 = c.read_response(head=True)
        r2 = c.read_response()
        check_eq(r1.status, 200, "raw HEAD status")
        check_eq(r2.body, rwtest.PLAINTEXT_BODY, "GET after HEAD body (HEAD leaked a body?)")


@test
def not_found(ctx):
    code, _, _, _ = fetch(ctx, "/no/such/path")
    check_eq(code, 404, "unknown path status")


@test
def post_plaintext_405(ctx):
    code, h, _, _ = fetch(ctx, "/plaintext", "--data-binary", "abc", method="POST")
    check_eq(code, 405, "POST /plaintext status")
    allow = hget(h, "Allow") or ""
    check("GET" in allow, f"405 without Allow: GET ({allow!r})")


@test
def http10_closes(ctx):
    cp = ctx.curl("--http1.0", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                  ctx.url("/plaintext"), ctx.url("/plaintext"))
    check_eq(cp.stdout.split(), ["1", "1"], "HTTP/1.0 without keep-alive: connects per transfer")
    code, h, body, ver = fetch(ctx, "/plaintext", "--http1.0")
    check_eq(ver, "1.1", "response version (a server answers with its own version)")
    check_eq(body, b"Hello, World!", "HTTP/1.0 body")
    check(hget(h, "Transfer-Encoding") is None, "chunked sent to an HTTP/1.0 client")
    check("keep-alive" not in (hget(h, "Connection") or "").lower(),
          "HTTP/1.0 request without keep-alive answered with Connection: keep-alive")
    # curl closes HTTP/1.0 connections itself; check the server side raw.
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.0\r\n\r\n")
        r = c.read_response()
        check_eq(r.body, rwtest.PLAINTEXT_BODY, "raw HTTP/1.0 body")
        c.expect_closed(3.0, "close after an HTTP/1.0 response")


@test
def http10_keepalive(ctx):
    cp = ctx.curl("--http1.0", "-H", "Connection: keep-alive", "-o", "/dev/null", "-o", "/dev/null",
                  "-w", "%{num_connects}\n", ctx.url("/plaintext"), ctx.url("/json"))
    check_eq(cp.stdout.split(), ["1", "0"], "HTTP/1.0 keep-alive: connects per transfer")


@test
def keepalive_reuse(ctx):
    cp = ctx.curl("-v", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                  "-w", "%{num_connects}\n",
                  ctx.url("/plaintext"), ctx.url("/json"), ctx.url("/nope"))
    check_eq(cp.stdout.split(), ["1", "0", "0"], "HTTP/1.1 keep-alive: connects per transfer")
    check("Re-using existing connection" in cp.stderr, "curl did not re-use the connection")


@test
def stream_chunked(ctx):
    n = 5
    code, h, body, _ = fetch(ctx, f"/stream?n={n}", "--raw")
    check_eq(code, 200, "status")
    check_eq((hget(h, "Transfer-Encoding") or "").lower(), "chunked", "Transfer-Encoding")
    check(hget(h, "Content-Length") is None, "Content-Length together with chunked")
    # Decode the raw chunked stream ourselves (curl --raw keeps the framing).
    pos, chunks, data = 0, [], b""
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            break
        data += body[pos:pos + size]
        chunks.append(size)
        check_eq(body[pos + size:pos + size + 2], b"\r\n", "chunk CRLF")
        pos += size + 2
    check_eq(body[pos:], b"\r\n", "end of the chunked body (no trailers)")
    want = b"".join(b"chunk %d of %d\n" % (i + 1, n) for i in range(n))
    check_eq(data, want, "/stream body")
    check_eq(len(chunks), n, "number of chunks")
    # Same through curl's decoder, with the default count and a large one.
    _, _, body2, _ = fetch(ctx, "/stream")
    check_eq(body2.count(b"\n"), 10, "lines in the default /stream")
    _, _, body3, _ = fetch(ctx, "/stream?n=2000")
    check_eq(body3, b"".join(b"chunk %d of 2000\n" % (i + 1) for i in range(2000)), "/stream?n=2000 body")


if __name__ == "__main__":
    rwtest.main()
