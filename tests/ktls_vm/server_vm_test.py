"""ringwire serving HTTPS with kernel TLS, for real: runs INSIDE the kvm-run
VM (Debian 6.1 kernel with the tls module) via run_server_vm.sh, with the
host's python3/curl/openssl visible (--hostfs).

For each backend: starts ringwire --ktls on --log-level debug, then
  - TLS 1.3 x 3 suites and TLS 1.2 x 3 ciphers (openssl s_client), HTTP/1.1
  - curl --http1.1 and --http2 (ALPN h2), a 1 MiB file by sha256
  - three requests on one connection (records decrypted by the kernel)
  - a client KeyUpdate (s_client 'k'): the server must close cleanly
and checks the server log says kTLS was installed on those connections.
Functional only: the VM is 40-100x slower than the host (never benchmark)."""

import argparse
import hashlib
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
PORT = 18443
READY_TIMEOUT = 60.0
IO_TIMEOUT = 60.0
BODY = b"Hello, World!"
SUITES13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
CIPHERS12 = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
             "ECDHE-ECDSA-CHACHA20-POLY1305"]
REQ_CLOSE = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

failures = []
passes = 0


def check(cond, what):
    global passes
    if cond:
        passes += 1
        print(f"ok   {what}", flush=True)
    else:
        failures.append(what)
        print(f"FAIL {what}", flush=True)
    return cond


def run(argv, data=b"", timeout=IO_TIMEOUT):
    cp = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


def s_client(*args, data=REQ_CLOSE):
    return run(["openssl", "s_client", "-connect", f"{HOST}:{PORT}", "-ign_eof"] + list(args),
               data)


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise OSError(f"EOF before the head: {buf[:200]!r}")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise OSError("EOF inside the body")
        rest += d
    return head.split(b" ")[1], rest[:n]


def keepalive_three(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    raw = socket.create_connection((HOST, PORT), timeout=IO_TIMEOUT)
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        got = []
        for _ in range(3):
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
            got.append(read_response(s))
    return got == [(b"200", BODY)] * 3


def key_update():
    """s_client sends a request, reads the answer, then a KeyUpdate ('k'):
    the 6.1 kernel cannot follow it, so the server must close (close_notify +
    FIN) instead of hanging or resetting. Returns (closed_in_time, output)."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"{HOST}:{PORT}", "-tls1_3"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    try:
        p.stdin.write(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        p.stdin.flush()
        end = time.monotonic() + IO_TIMEOUT
        while BODY not in out and time.monotonic() < end:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if r:
                d = os.read(p.stdout.fileno(), 65536)
                if not d:
                    break
                out += d
        if BODY not in out:
            return False, out.decode("utf-8", "replace")
        p.stdin.write(b"k\n")
        p.stdin.flush()
        # --keepalive-timeout is 120 s: only the KeyUpdate can end it sooner.
        end = time.monotonic() + 45
        while time.monotonic() < end:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if r:
                d = os.read(p.stdout.fileno(), 65536)
                if not d:
                    break
                out += d
        p.stdin.close()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return False, out.decode("utf-8", "replace")
        return True, out.decode("utf-8", "replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def one_backend(binary, backend, tmp, cert, key):
    root = os.path.join(tmp, "root")
    os.makedirs(root, exist_ok=True)
    big = os.urandom(1 << 20)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    logp = os.path.join(tmp, f"server-{backend}.log")
    logf = open(logp, "wb")
    srv = subprocess.Popen([binary, "--listen", f"{HOST}:{PORT}", "--backend", backend,
                            "--threads", "1", "--root", root, "--tls-cert", cert, "--tls-key", key,
                            "--ktls", "on", "--log-level", "debug", "--keepalive-timeout", "120",
                            "--header-timeout", "60"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
    try:
        end = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < end and srv.poll() is None:
            try:
                socket.create_connection((HOST, PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        if not check(srv.poll() is None, f"[{backend}] server started with --ktls on"):
            return
        for suite in SUITES13:
            rc, out = s_client("-tls1_3", "-ciphersuites", suite)
            check(BODY.decode() in out and f"Cipher is {suite}" in out,
                  f"[{backend}] TLS 1.3 {suite}" + ("" if BODY.decode() in out else out[-500:]))
        for cipher in CIPHERS12:
            rc, out = s_client("-tls1_2", "-cipher", cipher)
            check(BODY.decode() in out and f"Cipher is {cipher}" in out,
                  f"[{backend}] TLS 1.2 {cipher}" + ("" if BODY.decode() in out else out[-500:]))
        url = f"https://{HOST}:{PORT}"
        rc, out = run(["curl", "-sk", "--http1.1", "-w", "|%{http_version}", url + "/plaintext"])
        check(out == "Hello, World!|1.1", f"[{backend}] curl HTTP/1.1: {out[-300:]}")
        rc, out = run(["curl", "-sk", "--http2", "-w", "|%{http_version}", url + "/plaintext"])
        check(out == "Hello, World!|2", f"[{backend}] curl HTTP/2 via ALPN: {out[-300:]}")
        for proto in ("--http1.1", "--http2"):
            dst = os.path.join(tmp, "big.out")
            rc, out = run(["curl", "-sk", proto, "-o", dst, url + "/big.bin"], timeout=120)
            ok = rc == 0 and hashlib.sha256(open(dst, "rb").read()).digest() == \
                hashlib.sha256(big).digest()
            check(ok, f"[{backend}] 1 MiB file sha256 over {proto} {out[-300:]}")
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            check(keepalive_three(v), f"[{backend}] three requests on one {v.name} connection")
        closed, out = key_update()
        check(closed and "KEYUPDATE" in out,
              f"[{backend}] client KeyUpdate -> clean close" + ("" if closed else out[-600:]))
        check(keepalive_three(ssl.TLSVersion.TLSv1_3), f"[{backend}] still serving afterwards")
        srv.terminate()
        rc = srv.wait(timeout=60)
        check(rc == 0, f"[{backend}] clean shutdown (exit {rc})")
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        logf.close()
    log = open(logp, "rb").read().decode("utf-8", "replace")
    n_ktls = log.count("kTLS on (")
    # 4 curl + 3 keep-alive + KeyUpdate connections must have switched; the
    # 6 s_client ones (Connection: close) may be answered before the switch.
    check(n_ktls >= 8, f"[{backend}] kTLS installed on {n_ktls} connections (want >= 8)")
    check("handshake record under kTLS (KeyUpdate)" in log,
          f"[{backend}] KeyUpdate seen as a control record")
    check("kernel TLS available" in log, f"[{backend}] probe line logged")
    if failures:
        print(log[-3000:], flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--backend", action="append", default=[])
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rw-ktls-vm-")
    cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost", "-days",
                    "1", "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for b in a.backend or ["uring", "epoll"]:
        one_backend(a.binary, b, tmp, cert, key)
    print(f"{passes} passed, {len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
