#!/usr/bin/python3
"""A static file that is truncated or rewritten in place while it is being
sent costs at most that response, never the process.

Files above RW_STATIC_COPY_MAX (16 KiB) are mmapped. A slow reader takes a
little of an 8 MiB file, the file shrinks (truncate, or `cp` of a shorter
file over it), then the reader continues: its response must end short (or
its stream be reset) instead of hanging, the server must still be alive,
and other clients must still be served, over userspace TLS (--ktls off,
HTTP/1.1 and HTTP/2) and over plain HTTP (HTTP/1.1 and h2c)."""

import hashlib
import os
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

import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.errors  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402

BIG_SIZE = 8 << 20          # mmapped (above RW_STATIC_COPY_MAX), more than the socket buffers hold
SHORT_SIZE = 1 << 20        # what `cp` leaves behind
FIRST_READ = 64 << 10       # body bytes the slow reader takes before the file changes
RCVBUF = 8192               # the slow reader's socket receive buffer
END_TIMEOUT = 20.0          # the changed response must end within this
OTHER = os.urandom(1 << 20) # what bystanders fetch
OTHER_SHA = hashlib.sha256(OTHER).hexdigest()


def _make_cert(d):
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "c.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


CERT_DIR = tempfile.mkdtemp(prefix="rw-fchg-")
CERT, KEY = _make_cert(CERT_DIR)
TLS_ARGS = ["--tls-cert", CERT, "--tls-key", KEY, "--ktls", "off"]


# ---- clients -----------------------------------------------------------------

def slow_socket(port, tls, alpn=None):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)  # before connect: fixes the window
    raw.settimeout(END_TIMEOUT)
    raw.connect((HOST, port))
    if not tls:
        return raw
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn or "http/1.1"])
    try:
        return ctx.wrap_socket(raw, server_hostname="localhost")
    except Exception:
        raw.close()
        raise


def recv_some(s):
    """bytes, or b"" at EOF, a reset or a TLS error (all mean: the server ended it)."""
    try:
        return s.recv(65536)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return b""


class H1Reader:
    """GET path, read the head and FIRST_READ body bytes, then pause."""

    def __init__(self, port, path, tls):
        self.s = slow_socket(port, tls)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        buf = b""
        end = time.monotonic() + END_TIMEOUT
        while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < FIRST_READ:
            check(time.monotonic() < end, f"timeout before {FIRST_READ} body bytes")
            d = recv_some(self.s)
            check(d, f"EOF before {FIRST_READ} body bytes: {short(buf)}")
            buf += d
        head, _, self.body = buf.partition(b"\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 200"), f"status line: {short(head)}")
        self.length = int([ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                           if ln.lower().startswith(b"content-length:")][0])
        check_eq(self.length, BIG_SIZE, "Content-Length")

    def finish(self):
        """Reads on; the response must end short with the connection closed."""
        end = time.monotonic() + END_TIMEOUT
        try:
            while len(self.body) < self.length:
                check(time.monotonic() < end,
                      f"response hung at {len(self.body)} of {self.length} bytes")
                try:
                    d = recv_some(self.s)
                except socket.timeout:
                    raise TestFailure(f"response hung at {len(self.body)} of {self.length} bytes")
                if not d:
                    return  # closed short: what we want
                self.body += d
            raise TestFailure(f"all {self.length} bytes arrived although the file shrank")
        finally:
            self.s.close()


class H2Reader:
    """One stream GET path with huge windows (TCP alone holds the server
    back), FIRST_READ body bytes read, then pause."""

    def __init__(self, port, path, tls):
        self.s = slow_socket(port, tls, alpn="h2")
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1,
                                   h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.conn.increment_flow_control_window((1 << 31) - 1 - 65535)
        self.scheme = "https" if tls else "http"
        self.port = port
        self.body = {}
        self.ended, self.reset, self.closed = set(), {}, False
        self.request(1, path)
        self.pump(lambda: len(self.body.get(1, b"")) >= FIRST_READ, "first bytes")

    def request(self, sid, path):
        self.conn.send_headers(sid, [(":method", "GET"), (":path", path),
                                     (":scheme", self.scheme),
                                     (":authority", f"{HOST}:{self.port}")], end_stream=True)
        self.s.sendall(self.conn.data_to_send())

    def pump(self, done, what):
        end = time.monotonic() + END_TIMEOUT
        while not done():
            check(time.monotonic() < end, f"timeout waiting for {what}")
            try:
                d = recv_some(self.s)
            except socket.timeout:
                raise TestFailure(f"timeout waiting for {what}")
            if not d:
                self.closed = True
                return
            for ev in self.conn.receive_data(d):
                if isinstance(ev, h2.events.DataReceived):
                    self.body[ev.stream_id] = self.body.get(ev.stream_id, b"") + ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.ended.add(ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    self.reset[ev.stream_id] = ev.error_code
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    self.closed = True
                    return
            out = self.conn.data_to_send()
            if out:
                try:
                    self.s.sendall(out)
                except OSError:
                    self.closed = True
                    return

    def finish(self, tls):
        """The stream must not end complete. Over TLS the server resets just
        that stream and the connection keeps serving; over plain HTTP the
        kernel's failed copy may end the whole connection."""
        try:
            self.pump(lambda: 1 in self.ended or 1 in self.reset, "the changed stream to end")
            check(1 not in self.ended,
                  f"stream ended normally with {len(self.body.get(1, b''))} bytes")
            if tls:
                check(not self.closed, "connection closed instead of RST_STREAM")
                check_eq(self.reset.get(1), h2.errors.ErrorCodes.INTERNAL_ERROR,
                         "RST_STREAM error code")
                self.request(3, "/other.bin")
                self.pump(lambda: 3 in self.ended or 3 in self.reset, "stream 3")
                check(3 in self.ended and not self.closed, "stream 3 on the same connection")
                check_eq(hashlib.sha256(self.body.get(3, b"")).hexdigest(), OTHER_SHA,
                         "stream 3 body")
            else:
                check(self.closed or 1 in self.reset, "neither reset nor closed")
        finally:
            self.s.close()


# ---- file changes and bystanders ---------------------------------------------

def put_big(root, name):
    with open(os.path.join(root, name), "wb") as f:
        f.write(os.urandom(BIG_SIZE))
    return "/" + name


def truncate(root, name):
    os.truncate(os.path.join(root, name), 0)


def cp_shorter(root, name):
    src = os.path.join(root, "src-" + name)
    with open(src, "wb") as f:
        f.write(os.urandom(SHORT_SIZE))
    # cp opens the existing file with O_TRUNC and writes: the inode is rewritten in place
    subprocess.run(["cp", src, os.path.join(root, name)], check=True)
    os.unlink(src)


def check_alive(server):
    time.sleep(0.1)  # a dying process would be gone by now
    check(server.alive(), f"server died (exit {server.proc.returncode}): {server.stderr_tail()}")


def tls_bystanders(ctx):
    raw = socket.create_connection((HOST, ctx.port), timeout=rwtest.IO_TIMEOUT)
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    with c.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET /other.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), f"TLS HTTP/1.1 bystander: {short(head)}")
    check_eq(hashlib.sha256(body).hexdigest(), OTHER_SHA, "TLS HTTP/1.1 bystander body")
    out = subprocess.run(["curl", "-sS", "-k", "--http2", "--max-time", "20",
                          f"https://{HOST}:{ctx.port}/other.bin"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check_eq(out.returncode, 0, f"curl --http2 bystander ({out.stderr!r})")
    check_eq(hashlib.sha256(out.stdout).hexdigest(), OTHER_SHA, "TLS HTTP/2 bystander body")


def plain_bystanders(port):
    with rwtest.Conn(port) as c:
        c.send(rwtest.request("GET", "/other.bin"))
        r = c.read_response()
    check_eq((r.status, hashlib.sha256(r.body).hexdigest()), (200, OTHER_SHA),
             "plain HTTP/1.1 bystander")
    out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "20",
                          f"http://{HOST}:{port}/other.bin"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check_eq(out.returncode, 0, f"curl h2c bystander ({out.stderr!r})")
    check_eq(hashlib.sha256(out.stdout).hexdigest(), OTHER_SHA, "h2c bystander body")


def run_case(server, reader_cls, name, change, tls, bystanders):
    path = put_big(server.root, name)
    r = reader_cls(server.port, path, tls)
    change(server.root, name)
    if reader_cls is H2Reader:
        r.finish(tls)
    else:
        r.finish()
    check_alive(server)
    bystanders()


# ---- over userspace TLS (the shared server) -----------------------------------

@rwtest.test
def tls_h1_truncate(ctx):
    run_case(ctx.server, H1Reader, "t1.bin", truncate, True, lambda: tls_bystanders(ctx))


@rwtest.test
def tls_h1_cp_in_place(ctx):
    run_case(ctx.server, H1Reader, "t2.bin", cp_shorter, True, lambda: tls_bystanders(ctx))


@rwtest.test
def tls_h2_truncate(ctx):
    run_case(ctx.server, H2Reader, "t3.bin", truncate, True, lambda: tls_bystanders(ctx))


@rwtest.test
def tls_h2_cp_in_place(ctx):
    run_case(ctx.server, H2Reader, "t4.bin", cp_shorter, True, lambda: tls_bystanders(ctx))


# ---- over plain HTTP (a private server) ----------------------------------------

@rwtest.test
def plain_h1_and_h2c(ctx):
    with ctx.start_server(root_files={"other.bin": OTHER}) as srv:
        for reader, tag in ((H1Reader, "p1"), (H2Reader, "p2")):
            for change, kind in ((truncate, "trunc"), (cp_shorter, "cp")):
                try:
                    run_case(srv, reader, f"{tag}-{kind}.bin", change, False,
                             lambda: plain_bystanders(srv.port))
                except TestFailure as e:
                    raise TestFailure(f"{reader.__name__} {kind}: {e}")


@rwtest.test
def plain_h1_send_zc(ctx):
    # SEND_ZC pins the mapped pages instead of copying them (io_uring; epoll ignores the flag)
    with ctx.start_server(extra_args=["--send-zc-threshold", "65536"],
                          root_files={"other.bin": OTHER}) as srv:
        run_case(srv, H1Reader, "zc.bin", truncate, False, lambda: plain_bystanders(srv.port))


def _tls_health(self):
    if not self.alive():
        raise TestFailure(f"server died (exit {self.proc.returncode}): {self.stderr_tail()}")
    raw = socket.create_connection((HOST, self.port), timeout=rwtest.IO_TIMEOUT)
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    try:
        with c.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            buf = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
    except (OSError, ssl.SSLError) as e:
        raise TestFailure(f"server no longer serves /plaintext over TLS: {e} {self.stderr_tail()}")
    check(buf.startswith(b"HTTP/1.1 200") and buf.endswith(PLAINTEXT_BODY),
          f"health check: {short(buf)}")


# The shared server speaks TLS (the harness checks only the shared server).
rwtest.Server.health_check = _tls_health


if __name__ == "__main__":
    try:
        rwtest.main(server_args=TLS_ARGS, root_files={"other.bin": OTHER})
    finally:
        shutil.rmtree(CERT_DIR, ignore_errors=True)
