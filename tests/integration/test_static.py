#!/usr/bin/python3
"""Static files under --root: exact bytes, types, validators, ranges,
directories, traversal attempts."""
import atexit
import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, request, short, test  # noqa: E402

SECRET = b"RW-SECRET-OUTSIDE-ROOT-7f3a"
FILES = {
    "index.html": b"<!doctype html><title>rw</title><p>root index</p>\n",
    "small.txt": bytes((i * 7 + 3) % 95 + 32 for i in range(4096)),
    "big.bin": os.urandom(1 << 20),
    "style.css": b"body { color: red }\n",
    "data.json": b'{"a": 1}\n',
    "noext": b"no extension here\n",
    "sub/index.html": b"<p>sub index</p>\n",
    "sub/deeper/file.txt": b"deep file\n",
    "with space.txt": b"space in name\n",
}

# Layout: TOP/www is the root; TOP/secret.txt sits right outside it.
TOP = tempfile.mkdtemp(prefix="rw-static-")
ROOT = os.path.join(TOP, "www")
atexit.register(shutil.rmtree, TOP, True)
for rel, data in FILES.items():
    p = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
os.makedirs(os.path.join(ROOT, "emptydir"))
with open(os.path.join(TOP, "secret.txt"), "wb") as f:
    f.write(SECRET)

BIG = FILES["big.bin"]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def get(ctx, path, headers=None, method="GET"):
    with ctx.conn(timeout=10) as c:
        c.send(request(method, path, headers=headers))
        return c.read_response(head=(method == "HEAD"))


@test
def exact_bytes(ctx):
    for rel, data in FILES.items():
        path = "/" + rel.replace(" ", "%20")
        r = get(ctx, path)
        check_eq(r.status, 200, f"status of {path}")
        check_eq(r.header("Content-Length"), str(len(data)), f"Content-Length of {path}")
        check_eq(sha(r.body), sha(data), f"sha256 of {path}")
    # The 1 MiB file through curl as well.
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "big")
        ctx.curl("-f", "-o", out, ctx.url("/big.bin"))
        with open(out, "rb") as f:
            check_eq(sha(f.read()), sha(BIG), "sha256 of /big.bin via curl")


@test
def content_types(ctx):
    for path, want in (("/index.html", "text/html"), ("/small.txt", "text/plain"),
                       ("/big.bin", "application/octet-stream"), ("/style.css", "text/css"),
                       ("/data.json", "application/json"), ("/noext", "application/octet-stream")):
        r = get(ctx, path, method="HEAD")
        ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        check_eq(ct, want, f"Content-Type of {path}")


@test
def etag_304(ctx):
    r = get(ctx, "/small.txt")
    etag = r.header("ETag")
    check(etag and etag.endswith('"'), f"missing/malformed ETag {etag!r}")
    r2 = get(ctx, "/small.txt", headers=[("If-None-Match", etag)])
    check_eq(r2.status, 304, "If-None-Match with the current ETag")
    check_eq(r2.body, b"", "304 body")
    check_eq(r2.header("ETag"), etag, "ETag on the 304")
    r3 = get(ctx, "/small.txt", headers=[("If-None-Match", f'"nope", {etag}')])
    check_eq(r3.status, 304, "If-None-Match list containing the ETag")
    r4 = get(ctx, "/small.txt", headers=[("If-None-Match", '"something-else"')])
    check_eq(r4.status, 200, "If-None-Match with another ETag")
    check_eq(r4.body, FILES["small.txt"], "body after a non-matching If-None-Match")
    other = get(ctx, "/big.bin", method="HEAD").header("ETag")
    check(other and other != etag, f"different files share ETag {etag!r}")


@test
def last_modified_304(ctx):
    r = get(ctx, "/index.html")
    lm = r.header("Last-Modified")
    check(lm and lm.endswith(" GMT") and len(lm) == 29, f"missing/malformed Last-Modified {lm!r}")
    r2 = get(ctx, "/index.html", headers=[("If-Modified-Since", lm)])
    check_eq(r2.status, 304, "If-Modified-Since = Last-Modified")
    check_eq(r2.body, b"", "304 body")
    r3 = get(ctx, "/index.html", headers=[("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")])
    check_eq(r3.status, 200, "If-Modified-Since in 1994")
    check_eq(r3.body, FILES["index.html"], "body after old If-Modified-Since")
    r4 = get(ctx, "/index.html", headers=[("If-Modified-Since", "garbage")])
    check_eq(r4.status, 200, "unparsable If-Modified-Since is ignored")


@test
def ranges(ctx):
    n = len(BIG)
    for spec, lo, hi in (("bytes=0-99", 0, 99), ("bytes=-100", n - 100, n - 1),
                         ("bytes=100-", 100, n - 1), ("bytes=5-5", 5, 5),
                         ("bytes=1000-99999999", 1000, n - 1)):
        r = get(ctx, "/big.bin", headers=[("Range", spec)])
        check_eq(r.status, 206, f"status for Range {spec}")
        check_eq(r.header("Content-Range"), f"bytes {lo}-{hi}/{n}", f"Content-Range for {spec}")
        check_eq(r.header("Content-Length"), str(hi - lo + 1), f"Content-Length for {spec}")
        check(r.body == BIG[lo:hi + 1], f"wrong bytes for Range {spec}")
    for spec in ("bytes=2000000-3000000", f"bytes={n}-"):
        r = get(ctx, "/big.bin", headers=[("Range", spec)])
        check_eq(r.status, 416, f"unsatisfiable Range {spec}")
        check_eq(r.header("Content-Range"), f"bytes */{n}", f"Content-Range on 416 for {spec}")
    # Syntactically invalid ranges are ignored: the whole file.
    r = get(ctx, "/small.txt", headers=[("Range", "bytes=abc")])
    check(r.status in (200, 416), f"invalid Range gave {r.status}")
    if r.status == 200:
        check_eq(r.body, FILES["small.txt"], "body for an ignored Range")


@test
def directories(ctx):
    r = get(ctx, "/")
    check_eq((r.status, r.body), (200, FILES["index.html"]), "/ serves index.html")
    check((r.header("Content-Type") or "").startswith("text/html"), "index.html Content-Type")
    r = get(ctx, "/sub/")
    check_eq((r.status, r.body), (200, FILES["sub/index.html"]), "/sub/ serves sub/index.html")
    r = get(ctx, "/sub")
    check(r.status in (200, 301, 302, 307, 308), f"/sub gave {r.status}")
    if r.status == 200:
        check_eq(r.body, FILES["sub/index.html"], "/sub body")
    else:
        check((r.header("Location") or "").endswith("/sub/"), f"/sub redirect to {r.header('Location')!r}")
    r = get(ctx, "/emptydir/")
    check(r.status in (403, 404), f"directory without index.html gave {r.status}")
    r = get(ctx, "/sub/deeper/missing.txt")
    check_eq(r.status, 404, "missing file")


@test
def final_dot_segment_names_a_directory(ctx):
    """"/." is the root (its index, never a redirect to "//"); "/index.html/."
    names a directory that does not exist (404), as "/index.html/" does."""
    for path, status, body in (("/.", 200, FILES["index.html"]),
                               ("/%2e", 200, FILES["index.html"]),
                               ("/sub/.", 200, FILES["sub/index.html"]),
                               ("/index.html/.", 404, None),
                               ("/data.json/%2E", 404, None)):
        r = get(ctx, path)
        check_eq(r.status, status, f"status of {path}")
        if body is not None:
            check_eq(r.body, body, f"body of {path}")
        check(not (r.header("Location") or "").startswith("//"),
              f"{path} redirects off-site to {r.header('Location')!r}")


@test
def traversal(ctx):
    attempts = [
        "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
        "/a/../../secret.txt", "/sub/../../secret.txt", "/sub/..%2f..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt", "/.%2e/secret.txt", "/..\\secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
        "/../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2f..%2f..%2fetc/passwd", "/a/../../../../etc/passwd", "//etc/passwd",
        "/%2fetc/passwd", "/index.html%00.txt", "/sub/%00", "/..%00/secret.txt", "/%252e%252e/secret.txt",
    ]
    for path in attempts:
        r = get(ctx, path)
        check(SECRET not in r.body and b"root:" not in r.body,
              f"{path} leaked a file outside the root ({r.status})")
        check(r.status in (400, 403, 404), f"{path} gave {r.status}, want 400/403/404")
    # curl --path-as-is too.
    cp = ctx.curl("--path-as-is", "-o", "-", "-w", "\n%{http_code}", ctx.url("/../../../../etc/passwd"))
    check("root:" not in cp.stdout, "curl --path-as-is read /etc/passwd")
    # Inside the root, dot segments that stay inside may be normalized or rejected.
    r = get(ctx, "/sub/../index.html")
    check(r.status in (200, 400, 403, 404), f"/sub/../index.html gave {r.status}")
    if r.status == 200:
        check_eq(r.body, FILES["index.html"], "/sub/../index.html body")


@test
def head_big(ctx):
    with ctx.conn(timeout=10) as c:
        c.send(request("HEAD", "/big.bin") + request("GET", "/small.txt"))
        r = c.read_response(head=True)
        check_eq(r.status, 200, "HEAD /big.bin")
        check_eq(r.header("Content-Length"), str(len(BIG)), "HEAD Content-Length")
        r2 = c.read_response()
        check_eq(r2.status, 200, "GET after HEAD")
        check(r2.body == FILES["small.txt"], f"HEAD leaked body bytes: next body starts {short(r2.body[:40])}")


@test
def keepalive_after_big(ctx):
    with ctx.conn(timeout=15) as c:
        c.send(request("GET", "/big.bin") + request("GET", "/small.txt") + request("GET", "/big.bin",
               headers=[("Range", "bytes=-10")]) + request("GET", "/plaintext"))
        check(c.read_response().body == BIG, "pipelined big file")
        check_eq(c.read_response().body, FILES["small.txt"], "pipelined small file")
        check_eq(c.read_response().body, BIG[-10:], "pipelined range")
        check_eq(c.read_response().body, rwtest.PLAINTEXT_BODY, "builtin route with --root")


@test
def static_methods(ctx):
    r = get(ctx, "/small.txt", method="POST")
    check(r.status in (404, 405), f"POST to a static file gave {r.status}")
    r = get(ctx, "/small.txt", method="DELETE")
    check(r.status in (404, 405, 501), f"DELETE of a static file gave {r.status}")
    check(os.path.exists(os.path.join(ROOT, "small.txt")), "DELETE removed the file")


if __name__ == "__main__":
    rwtest.main(server_args=["--root", ROOT])
