"""HTTPS: the TLS stage of the connection layer (userspace TLS on this
machine; tests/ktls_vm/server_vm_test.py covers kernel TLS in the VM).

The shared server runs with --tls-cert/--tls-key and a second certificate
for SNI; the harness health check is replaced by one over TLS."""

import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import HOST, PLAINTEXT_BODY, TestFailure, check, check_eq, short  # noqa: E402

BIG = os.urandom(1 << 20)
BIG_SHA = hashlib.sha256(BIG).hexdigest()
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256"]
TLS12_CIPHERS = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                 "ECDHE-RSA-CHACHA20-POLY1305"]
SNI_HOST = "other.test"


def _make_cert(d, name, cn):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=" + cn, "-days", "1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


CERT_DIR = tempfile.mkdtemp(prefix="rw-tls-")
CERT, KEY = _make_cert(CERT_DIR, "main", "localhost")
CERT2, KEY2 = _make_cert(CERT_DIR, "other", SNI_HOST)
TLS_ARGS = ["--tls-cert", CERT, "--tls-key", KEY, "--tls-sni", f"{SNI_HOST}:{CERT2}:{KEY2}"]


def client_ctx(alpn=None, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def tls_connect(port, alpn=None, version=None, sni="localhost", timeout=rwtest.IO_TIMEOUT):
    raw = socket.create_connection((HOST, port), timeout=timeout)
    try:
        return client_ctx(alpn, version).wrap_socket(raw, server_hostname=sni)
    except Exception:
        raw.close()
        raise


def read_response(s, deadline=rwtest.IO_TIMEOUT):
    """One HTTP/1.1 response with Content-Length; returns (status, headers, body).
    Bytes read past it (pipelined responses) wait on the socket object."""
    buf = getattr(s, "_rw_rest", b"")
    end = time.monotonic() + deadline
    while b"\r\n\r\n" not in buf:
        check(time.monotonic() < end, "timeout reading the head")
        d = s.recv(65536)
        check(d, f"EOF before the response head: {short(buf)}")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        check(time.monotonic() < end, "timeout reading the body")
        d = s.recv(65536)
        check(d, f"EOF inside the body ({len(rest)} of {n})")
        rest += d
    s._rw_rest = rest[n:]
    return status, hdrs, rest[:n]


def tls_get(port, path, **kw):
    with tls_connect(port, **kw) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        return read_response(s)


def _tls_health(self):
    if not self.alive():
        raise TestFailure(f"server died (exit {self.proc.returncode}): {self.stderr_tail()}")
    try:
        st, _, body = tls_get(self.port, "/plaintext")
    except (OSError, ssl.SSLError, TestFailure) as e:
        raise TestFailure(f"server no longer serves /plaintext over TLS: {e} {self.stderr_tail()}")
    check(st == 200 and body == PLAINTEXT_BODY, f"health check: {st} {short(body)}")


rwtest.Server.health_check = _tls_health


def curl(ctx, *args):
    return ctx.curl("-k", *args)


def s_client(port, *args, request=None, timeout=20):
    """openssl s_client; with request, sends it and waits for the server's close."""
    argv = ["openssl", "s_client", "-connect", f"{HOST}:{port}"] + list(args)
    if request is not None:
        argv.append("-ign_eof")
    data = request if request is not None else b""
    cp = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


CLOSE_REQ = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


@rwtest.test
def https_http11_plaintext(ctx):
    url = f"https://{HOST}:{ctx.port}/plaintext"
    out = curl(ctx, "--http1.1", "-w", "\n%{http_version}", url).stdout
    body, _, ver = out.rpartition("\n")
    check_eq(body.encode(), PLAINTEXT_BODY, "body")
    check_eq(ver, "1.1", "http_version")


@rwtest.test
def https_h2_via_alpn(ctx):
    url = f"https://{HOST}:{ctx.port}/plaintext"
    out = curl(ctx, "--http2", "-w", "\n%{http_version}", url).stdout
    body, _, ver = out.rpartition("\n")
    check_eq(body.encode(), PLAINTEXT_BODY, "body")
    check_eq(ver, "2", "http_version (ALPN h2)")


@rwtest.test
def https_big_file_sha256(ctx):
    for proto in ("--http1.1", "--http2"):
        with tempfile.NamedTemporaryFile() as f:
            curl(ctx, proto, "-o", f.name, f"https://{HOST}:{ctx.port}/big.bin")
            got = hashlib.sha256(open(f.name, "rb").read()).hexdigest()
            check_eq(got, BIG_SHA, f"sha256 of /big.bin over {proto}")


@rwtest.test
def https_keepalive_reuse(ctx):
    url = f"https://{HOST}:{ctx.port}/plaintext"
    out = curl(ctx, "--http1.1", "-w", "|%{num_connects}\n", url, url, url).stdout
    parts = [p for p in out.strip().split("\n") if p]
    check_eq(len(parts), 3, "responses")
    check_eq([p.split("|")[1] for p in parts], ["1", "0", "0"], "new connections per request")
    # the same, raw: three requests on one TLS connection
    with tls_connect(ctx.port) as s:
        for _ in range(3):
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
            st, _, body = read_response(s)
            check_eq((st, body), (200, PLAINTEXT_BODY), "keep-alive response")


@rwtest.test
def alpn_selection(ctx):
    for offer, want in (("h2,http/1.1", "h2"), ("http/1.1", "http/1.1"),
                        ("http/1.1,h2", "h2")):
        rc, out = s_client(ctx.port, "-alpn", offer, "-servername", "localhost")
        check(f"ALPN protocol: {want}" in out, f"-alpn {offer}: want {want}: {out[-600:]}")
    with tls_connect(ctx.port, alpn=["h2", "http/1.1"]) as s:
        check_eq(s.selected_alpn_protocol(), "h2", "python ssl ALPN")
    rc, out = s_client(ctx.port, "-alpn", "spdy/3")
    check("No ALPN negotiated" in out, f"unknown ALPN only: {out[-600:]}")
    # and the connection still speaks HTTP/1.1 without ALPN
    st, _, body = tls_get(ctx.port, "/plaintext")
    check_eq((st, body), (200, PLAINTEXT_BODY), "no ALPN")


@rwtest.test
def tls13_each_suite(ctx):
    for suite in TLS13_SUITES:
        rc, out = s_client(ctx.port, "-tls1_3", "-ciphersuites", suite, request=CLOSE_REQ)
        check("Hello, World!" in out, f"{suite}: no body: {out[-800:]}")
        check(f"Cipher is {suite}" in out and "TLSv1.3" in out, f"{suite}: {out[-800:]}")


@rwtest.test
def tls12_each_cipher(ctx):
    for cipher in TLS12_CIPHERS:
        rc, out = s_client(ctx.port, "-tls1_2", "-cipher", cipher, request=CLOSE_REQ)
        check("Hello, World!" in out, f"{cipher}: no body: {out[-800:]}")
        check(f"Cipher is {cipher}" in out and "TLSv1.2" in out, f"{cipher}: {out[-800:]}")
    for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        st, _, body = tls_get(ctx.port, "/plaintext", version=ver)
        check_eq((st, body), (200, PLAINTEXT_BODY), f"python ssl {ver}")


def _peer_cn(port, sni):
    with tls_connect(port, sni=sni) as s:
        der = s.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    cp = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem.encode(),
                        stdout=subprocess.PIPE, check=True)
    m = re.search(r"CN\s*=\s*([^,/\n]+)", cp.stdout.decode())
    return m.group(1).strip() if m else cp.stdout.decode()


@rwtest.test
def sni_picks_certificate(ctx):
    check_eq(_peer_cn(ctx.port, SNI_HOST), SNI_HOST, "certificate for SNI other.test")
    check_eq(_peer_cn(ctx.port, "localhost"), "localhost", "certificate for SNI localhost")
    check_eq(_peer_cn(ctx.port, "unknown.example"), "localhost", "unknown SNI: default")
    rc, out = s_client(ctx.port, "-servername", SNI_HOST)
    check(f"CN = {SNI_HOST}" in out or f"CN={SNI_HOST}" in out, f"s_client: {out[-600:]}")


def _expect_closed(s, timeout=3.0):
    s.settimeout(timeout)
    end = time.monotonic() + timeout
    got = b""
    while time.monotonic() < end:
        try:
            d = s.recv(4096)
        except ConnectionResetError:
            return got
        except socket.timeout:
            break
        if not d:
            return got
        got += d
        check(len(got) < 4096, f"server keeps talking to garbage: {short(got)}")
    raise TestFailure(f"connection not closed within {timeout}s")


@rwtest.test
def garbage_instead_of_clienthello(ctx):
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(600),
                 b"\x16\x03\x01\x00\x05hello" + os.urandom(64), b"\x15\x03\x03\x00\x02\x02\x28"):
        with socket.create_connection((HOST, ctx.port), timeout=5) as s:
            s.sendall(junk)
            got = _expect_closed(s)
            # a TLS alert (content type 21) or nothing; never an HTTP answer
            check(not got.startswith(b"HTTP/"), f"plaintext HTTP answer to {short(junk)}")
    # a truncated record after a good handshake
    with tls_connect(ctx.port) as s:
        s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        check_eq(read_response(s)[0], 200, "before the bad record")
        sock = socket.socket(fileno=os.dup(s.fileno()))
        sock.sendall(b"\x17\x03\x03\x00\x40" + os.urandom(20))  # header says 64, 20 sent
        sock.shutdown(socket.SHUT_WR)
        _expect_closed(sock)
        sock.close()
    st, _, body = tls_get(ctx.port, "/plaintext")
    check_eq((st, body), (200, PLAINTEXT_BODY), "others still served")


@rwtest.test
def stalled_handshake_times_out(ctx):
    with ctx.start_server(TLS_ARGS + ["--header-timeout", "1"]) as srv:
        # A ClientHello record header promising 512 bytes, then 40 of them.
        with socket.create_connection((HOST, srv.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(29))
            t0 = time.monotonic()
            _expect_closed(s, timeout=4.0)
            took = time.monotonic() - t0
            check(0.7 <= took <= 3.5, f"closed after {took:.2f}s, want ~1s (--header-timeout)")
        # a complete handshake then silence is an idle keep-alive, not an error
        st, _, body = tls_get(srv.port, "/plaintext")
        check_eq((st, body), (200, PLAINTEXT_BODY), "after the stalled client")


def _start_fails(ctx, args, want):
    argv = [ctx.binary, "--listen", f"{HOST}:{rwtest.free_port()}", "--backend",
            ctx.backend] + args
    cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    err = cp.stderr.decode("utf-8", "replace")
    check_eq(cp.returncode, 1, f"exit code for {args}: {err[-400:]}")
    check(want in err, f"want {want!r} in stderr: {err[-400:]}")


@rwtest.test
def bad_cert_or_key_exits_1(ctx):
    missing = os.path.join(CERT_DIR, "nope.pem")
    _start_fails(ctx, ["--tls-cert", missing, "--tls-key", KEY], missing)
    _start_fails(ctx, ["--tls-cert", CERT, "--tls-key", KEY2], "does not match")
    _start_fails(ctx, ["--tls-cert", KEY, "--tls-key", KEY], "not a PEM certificate")
    _start_fails(ctx, ["--tls-cert", CERT], "--tls-key")


@rwtest.test
def min_version_13(ctx):
    with ctx.start_server(TLS_ARGS + ["--tls-min-version", "1.3"]) as srv:
        st, _, body = tls_get(srv.port, "/plaintext", version=ssl.TLSVersion.TLSv1_3)
        check_eq((st, body), (200, PLAINTEXT_BODY), "TLS 1.3 client")
        try:
            tls_get(srv.port, "/plaintext", version=ssl.TLSVersion.TLSv1_2)
        except (ssl.SSLError, OSError):
            pass
        else:
            raise TestFailure("a TLS 1.2 client was accepted with --tls-min-version 1.3")


@rwtest.test
def ktls_off_and_auto_log(ctx):
    # auto (the default) logs what it found; off says so; on fails without kernel support
    check("kernel TLS" in ctx.server.stderr_text(), "no kTLS line in the log")
    with ctx.start_server(TLS_ARGS + ["--ktls", "off"]) as srv:
        check_eq(tls_get(srv.port, "/plaintext")[2], PLAINTEXT_BODY, "--ktls off")
    probe_ok = "kernel TLS available" in ctx.server.stderr_text()
    if not probe_ok:
        _start_fails(ctx, TLS_ARGS + ["--ktls", "on"], "--ktls on")


@rwtest.test
def many_handshakes_and_resumption(ctx):
    sess = None
    reused = 0
    cctx = client_ctx(version=ssl.TLSVersion.TLSv1_2)
    for _ in range(20):
        raw = socket.create_connection((HOST, ctx.port), timeout=5)
        with cctx.wrap_socket(raw, server_hostname="localhost", session=sess) as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
            check_eq(read_response(s)[2], PLAINTEXT_BODY, "body")
            reused += s.session_reused
            sess = s.session
    check(reused >= 18, f"TLS 1.2 ticket resumption: {reused} of 20 resumed")


@rwtest.test
def pipelined_burst_and_stream(ctx):
    n = 300  # more than --max-pipeline: the engine pauses, input waits decrypted
    with tls_connect(ctx.port) as s:
        s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n" * n)
        for i in range(n):
            st, _, body = read_response(s)
            check_eq((st, body), (200, PLAINTEXT_BODY), f"pipelined response {i}")
    out = curl(ctx, "--http1.1", f"https://{HOST}:{ctx.port}/stream").stdout
    plain = subprocess.run(["curl", "-sS", "--max-time", "20", "-k", "--http2",
                            f"https://{HOST}:{ctx.port}/stream"], stdout=subprocess.PIPE,
                           check=True).stdout.decode()
    check(len(out) > 0 and out == plain, f"/stream over h1 and h2 differ: {len(out)} vs {len(plain)}")


@rwtest.test
def slow_reader_big_file(ctx):
    # the client reads 1 MiB slowly: output backs up in the TLS layer, then drains
    with tls_connect(ctx.port, timeout=20) as s:
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.5)
        st, _, body = read_response(s, deadline=20)
        check_eq(st, 200, "status")
        check_eq(hashlib.sha256(body).hexdigest(), BIG_SHA, "sha256")
        s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        check_eq(read_response(s)[2], PLAINTEXT_BODY, "next request on the same connection")


if __name__ == "__main__":
    try:
        rwtest.main(server_args=TLS_ARGS, root_files={"big.bin": BIG})
    finally:
        shutil.rmtree(CERT_DIR, ignore_errors=True)
