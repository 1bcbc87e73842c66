"""Shared harness for ringwire's integration tests (stdlib only).

Each tests/integration/test_*.py file registers test functions with
@rwtest.test and ends with rwtest.main(...).  main() parses
`--binary PATH --backend uring|epoll`, starts one server for the file (with
optional extra flags and a temporary --root), runs every test, checks after
each one that the server is still alive and still serves /plaintext, stops
the server with SIGTERM (it must exit 0 within a bound), prints
`PASS name` / `FAIL name: reason` lines and `N passed, M failed`, and exits 1
when anything failed.

Tests receive a Context: ctx.port, ctx.server, ctx.conn() (raw HTTP/1.1
client), ctx.get(), ctx.curl(), ctx.start_server() (a private server for
tests that restart or kill it).
"""

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HOST = "127.0.0.1"
READY_TIMEOUT = 10.0       # seconds for a fresh server to accept a connection
STOP_TIMEOUT = 10.0        # seconds for SIGTERM to end the process
IO_TIMEOUT = 5.0           # default per-response read bound
CMD_TIMEOUT = 30.0         # default bound for helper commands (curl, wrk)
MAX_HEAD = 64 * 1024       # a response head larger than this is a server bug
STDERR_TAIL = 4000         # bytes of server stderr shown on failure

PLAINTEXT_BODY = b"Hello, World!"


class TestFailure(AssertionError):
    pass


class TestSkip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure(f"{what}: got {got!r}, want {want!r}")


def short(b, n=200):
    r = repr(b)
    return r if len(r) <= n else r[:n] + "...(%d bytes)" % len(b)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def run_cmd(argv, timeout=CMD_TIMEOUT, check_rc=True, input_bytes=None):
    """Runs argv with a bound; returns CompletedProcess (text output)."""
    try:
        cp = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure(f"command timed out after {timeout}s: {' '.join(argv)}")
    except FileNotFoundError:
        raise TestFailure(f"command not found: {argv[0]} (run tools/install-deps.sh)")
    cp.stdout = cp.stdout.decode("utf-8", "replace")
    cp.stderr = cp.stderr.decode("utf-8", "replace")
    if check_rc and cp.returncode != 0:
        raise TestFailure(f"{' '.join(argv)} exited {cp.returncode}: {cp.stderr.strip()[-800:]}")
    return cp


# --------------------------------------------------------------------------
# HTTP/1.1 response reading over a raw socket

class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []        # [(name, value)] as received (str)
        self.body = b""
        self.chunks = []         # chunk sizes when chunked
        self.trailers = []
        self.chunked = False
        self.interim = []        # 1xx responses received before this one
        self.raw_head = b""

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has_token(self, name, token):
        token = token.lower()
        for v in self.header_all(name):
            if token in [t.strip().lower() for t in v.split(",")]:
                return True
        return False

    def wants_close(self):
        return self.has_token("Connection", "close")

    def __repr__(self):
        return f"<{self.version} {self.status} {self.reason} {self.headers} body={short(self.body, 80)}>"


class Conn:
    """A raw client connection with a receive buffer and a response parser."""

    def __init__(self, port, host=HOST, timeout=IO_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_slowly(self, data, step=1, delay=0.0):
        if isinstance(data, str):
            data = data.encode("latin-1")
        for i in range(0, len(data), step):
            self.sock.sendall(data[i:i + step])
            if delay:
                time.sleep(delay)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def abort(self):
        """Closes with an RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()

    def _fill(self, deadline, what):
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TestFailure(f"timed out waiting for {what}; have {short(bytes(self.buf))}")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise TestFailure(f"timed out waiting for {what}; have {short(bytes(self.buf))}")
        except ConnectionResetError:
            self.reset = True
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _read_line(self, deadline, what, limit=MAX_HEAD):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if b"\n" in self.buf:
                raise TestFailure(f"bare LF in server output while reading {what}: {short(bytes(self.buf))}")
            if len(self.buf) > limit:
                raise TestFailure(f"line longer than {limit} while reading {what}")
            if not self._fill(deadline, what):
                raise TestFailure(f"connection closed while reading {what}; have {short(bytes(self.buf))}")

    def _read_exact(self, n, deadline, what):
        while len(self.buf) < n:
            if not self._fill(deadline, what):
                raise TestFailure(f"connection closed after {len(self.buf)} of {n} bytes of {what}")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _read_head(self, deadline, resp):
        line = self._read_line(deadline, "status line")
        raw = [line]
        parts = line.split(b" ", 2)
        check(len(parts) >= 2 and parts[0] in (b"HTTP/1.1", b"HTTP/1.0"),
              f"bad status line {short(line)}")
        check(len(parts[1]) == 3 and parts[1].isdigit(), f"bad status code in {short(line)}")
        resp.version = parts[0].decode()
        resp.status = int(parts[1])
        resp.reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
        total = len(line)
        while True:
            h = self._read_line(deadline, "header line")
            raw.append(h)
            total += len(h) + 2
            check(total <= MAX_HEAD, "response head too large")
            if h == b"":
                break
            name, sep, value = h.partition(b":")
            check(sep and name and name == name.strip() and b" " not in name,
                  f"malformed response header line {short(h)}")
            resp.headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        resp.raw_head = b"\r\n".join(raw) + b"\r\n"

    def _read_chunked(self, deadline, resp):
        body = bytearray()
        while True:
            line = self._read_line(deadline, "chunk size")
            size_txt = line.split(b";", 1)[0].strip()
            try:
                size = int(size_txt, 16)
            except ValueError:
                raise TestFailure(f"bad chunk size line {short(line)}")
            if size == 0:
                break
            resp.chunks.append(size)
            body += self._read_exact(size, deadline, "chunk data")
            crlf = self._read_exact(2, deadline, "chunk CRLF")
            check(crlf == b"\r\n", f"chunk not followed by CRLF: {short(crlf)}")
        while True:
            t = self._read_line(deadline, "trailer")
            if t == b"":
                break
            name, _, value = t.partition(b":")
            resp.trailers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        resp.body = bytes(body)

    def read_response(self, head=False, timeout=None, interim=False):
        """Reads one response. head=True: the request was HEAD (no body).
        interim=True returns a 1xx response as is; otherwise 1xx responses
        are collected in .interim and the final response is returned."""
        deadline = time.monotonic() + (timeout or self.timeout)
        pending = []
        while True:
            resp = Response()
            self._read_head(deadline, resp)
            if 100 <= resp.status < 200 and resp.status != 101:
                check(resp.header("Content-Length") is None and resp.header("Transfer-Encoding") is None,
                      f"1xx response with framing headers: {resp.raw_head!r}")
                if interim:
                    return resp
                pending.append(resp)
                continue
            break
        resp.interim = pending
        te = resp.header("Transfer-Encoding")
        cl_all = resp.header_all("Content-Length")
        if te is not None:
            check(not cl_all, f"response has both Transfer-Encoding and Content-Length: {resp.raw_head!r}")
            check(resp.version == "HTTP/1.1", "chunked response in HTTP/1.0")
        check(len(set(cl_all)) <= 1, f"conflicting Content-Length in response: {cl_all}")
        if cl_all:
            check(cl_all[0].isdigit(), f"bad response Content-Length {cl_all[0]!r}")
        if head or resp.status in (204, 304):
            return resp
        if te is not None:
            check(te.strip().lower() == "chunked", f"unexpected response Transfer-Encoding {te!r}")
            resp.chunked = True
            self._read_chunked(deadline, resp)
        elif cl_all:
            resp.body = self._read_exact(int(cl_all[0]), deadline, "body")
        else:
            # Close-delimited body.
            while self._fill(deadline, "close-delimited body"):
                pass
            resp.body = bytes(self.buf)
            self.buf.clear()
        return resp

    def read_responses(self, n, heads=None, timeout=None):
        return [self.read_response(head=bool(heads and heads[i]), timeout=timeout) for i in range(n)]

    def expect_closed(self, timeout=3.0, what="connection close"):
        """Asserts the server closes the connection within timeout without
        sending anything more."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if self.buf:
                raise TestFailure(f"unexpected data while waiting for {what}: {short(bytes(self.buf))}")
            try:
                self._fill(deadline, what)
            except TestFailure:
                raise TestFailure(f"server did not close the connection within {timeout}s")
        check(not self.buf, f"unexpected data before close: {short(bytes(self.buf))}")

    def wait_closed(self, timeout):
        """Returns the bytes received until the server closed the connection;
        fails if it did not close within timeout."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                self._fill(deadline, "close")
            except TestFailure:
                raise TestFailure(f"server did not close the connection within {timeout}s "
                                  f"(received {short(bytes(self.buf))})")
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def expect_open(self, wait=0.3):
        """Asserts nothing arrives and the connection is not closed for `wait` s."""
        deadline = time.monotonic() + wait
        try:
            self._fill(deadline, "idle")
        except TestFailure:
            return
        if self.eof:
            raise TestFailure("server closed the connection unexpectedly")
        raise TestFailure(f"unexpected data: {short(bytes(self.buf))}")


def request(method, path, headers=None, body=b"", version="HTTP/1.1", host=True):
    """Builds raw request bytes. headers: list of (name, value)."""
    lines = [f"{method} {path} {version}"]
    if host:
        lines.append("Host: localhost")
    for k, v in headers or []:
        lines.append(f"{k}: {v}")
    if isinstance(body, str):
        body = body.encode()
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --------------------------------------------------------------------------
# server process control

class Server:
    def __init__(self, binary, backend, extra_args=(), root_files=None, threads=2, env=None):
        self.binary = binary
        self.backend = backend
        self.extra_args = list(extra_args)
        self.threads = threads
        self.env = env
        self.proc = None
        self.port = None
        self.root = None
        self._own_root = False
        self.stderr_path = None
        if root_files is not None:
            self.root = make_root(root_files)
            self._own_root = True

    def argv(self):
        a = [self.binary, "--listen", f"{HOST}:{self.port}", "--backend", self.backend,
             "--threads", str(self.threads)]
        if self.root:
            a += ["--root", self.root]
        return a + self.extra_args

    def start(self):
        for attempt in range(3):
            self.port = free_port()
            fd, self.stderr_path = tempfile.mkstemp(prefix="rw-stderr-", suffix=".log")
            with os.fdopen(fd, "wb") as errf:
                self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=errf,
                                             env=self.env)
            try:
                self._wait_ready()
                return self
            except TestFailure:
                err = self.stderr_text()
                if self.proc.poll() is not None and "in use" in err and attempt < 2:
                    continue  # lost the port race with another process
                self.kill()
                raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TestFailure(f"server exited with {self.proc.returncode} during startup: "
                                  f"{self.stderr_tail()}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TestFailure(f"server did not accept connections within {READY_TIMEOUT}s: {self.stderr_tail()}")

    def stderr_text(self):
        if not self.stderr_path:
            return ""
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_tail(self):
        t = self.stderr_text()
        t = t[-STDERR_TAIL:] if len(t) > STDERR_TAIL else t
        return "\n--- server stderr ---\n" + t + "--- end stderr ---" if t else "(server stderr empty)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, path="/"):
        return f"http://{HOST}:{self.port}{path}"

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to end; asserts exit code 0 within timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure(f"server did not exit within {timeout}s of SIGTERM: {self.stderr_tail()}")
        if rc != 0:
            raise TestFailure(f"server exited with {rc} (want 0): {self.stderr_tail()}")

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; asserts a clean exit (code 0) within timeout."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.cleanup()
            raise TestFailure(f"server had already exited with {rc}: {self.stderr_tail()}")
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.wait_exit(timeout)
        finally:
            self.cleanup()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)

    def cleanup(self):
        self.kill()
        if self._own_root and self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        if self.stderr_path:
            with contextlib.suppress(OSError):
                os.unlink(self.stderr_path)
            self.stderr_path = None

    def health_check(self):
        """The server is alive and answers GET /plaintext on a new connection."""
        if not self.alive():
            raise TestFailure(f"server died (exit {self.proc.returncode}): {self.stderr_tail()}")
        try:
            with Conn(self.port) as c:
                c.send(request("GET", "/plaintext"))
                r = c.read_response()
        except (OSError, TestFailure) as e:
            raise TestFailure(f"server no longer serves /plaintext: {e} {self.stderr_tail()}")
        check(r.status == 200 and r.body == PLAINTEXT_BODY,
              f"health check: /plaintext gave {r.status} {short(r.body)}")


def make_root(files):
    """Creates a temp directory from {relpath: bytes}; a relpath ending in
    '/' makes an (empty) directory."""
    root = tempfile.mkdtemp(prefix="rw-root-")
    for rel, data in files.items():
        p = os.path.join(root, rel)
        if rel.endswith("/"):
            os.makedirs(p, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return root


# --------------------------------------------------------------------------
# per-test context and the registry

class Context:
    def __init__(self, args, server):
        self.args = args
        self.binary = args.binary
        self.backend = args.backend
        self.server = server

    @property
    def port(self):
        return self.server.port

    def url(self, path="/"):
        return self.server.url(path)

    def conn(self, timeout=IO_TIMEOUT, port=None):
        return Conn(port or self.port, timeout=timeout)

    def get(self, path, method="GET", headers=None, body=b"", port=None):
        """One request on a fresh connection; returns the Response."""
        with self.conn(port=port) as c:
            c.send(request(method, path, headers=headers, body=body))
            return c.read_response(head=(method == "HEAD"))

    def curl(self, *args, timeout=CMD_TIMEOUT, check_rc=True):
        return run_cmd(["curl", "-sS", "--max-time", str(int(timeout))] + list(args),
                       timeout=timeout + 5, check_rc=check_rc)

    @contextlib.contextmanager
    def start_server(self, extra_args=(), root_files=None, threads=2, stop=True):
        """A private server for this test; stopped (and checked for a clean
        exit) at the end unless the test already stopped it."""
        s = Server(self.binary, self.backend, extra_args, root_files, threads)
        s.start()
        try:
            yield s
            if stop and s.proc is not None and s.proc.returncode is None:
                s.stop()
        finally:
            s.cleanup()


_TESTS = []


def test(fn):
    _TESTS.append(fn)
    return fn


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--backend", required=True, choices=["uring", "epoll"])
    ap.add_argument("--only", action="append", default=[],
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("--port", type=int, default=0,
                    help="use an already running server on this port instead of starting one")
    return ap.parse_args(argv)


class _External:
    """Stands in for Server when --port points at a server started by hand."""

    def __init__(self, port):
        self.port = port
        self.root = None
        self.proc = None

    def url(self, path="/"):
        return f"http://{HOST}:{self.port}{path}"

    def alive(self):
        return True

    def health_check(self):
        with Conn(self.port) as c:
            c.send(request("GET", "/plaintext"))
            r = c.read_response()
        check(r.status == 200 and r.body == PLAINTEXT_BODY, f"health check failed: {r}")

    def stderr_tail(self):
        return ""

    def stop(self, timeout=0):
        pass

    def cleanup(self):
        pass

    def start(self):
        return self


def main(server_args=(), root_files=None, threads=2):
    args = parse_args()
    args.binary = os.path.abspath(args.binary)
    if not args.port and not os.access(args.binary, os.X_OK):
        print(f"FAIL setup: {args.binary} is not an executable", flush=True)
        print("0 passed, 1 failed", flush=True)
        sys.exit(1)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    t_start = time.monotonic()
    passed = failed = 0

    def new_server():
        if args.port:
            return _External(args.port)
        return Server(args.binary, args.backend, server_args, root_files, threads).start()

    try:
        server = new_server()
    except TestFailure as e:
        print(f"FAIL setup: {e}", flush=True)
        print("0 passed, 1 failed", flush=True)
        sys.exit(1)
    ctx = Context(args, server)
    tests = [t for t in _TESTS if not args.only or any(o in t.__name__ for o in args.only)]
    for fn in tests:
        name = fn.__name__
        t0 = time.monotonic()
        try:
            fn(ctx)
            ctx.server.health_check()
        except TestSkip as e:
            # A skip counts as a failure so that a missing dependency (a
            # client, a Python module) never looks green.
            print(f"FAIL {name}: skipped: {e}", flush=True)
            failed += 1
        except TestFailure as e:
            print(f"FAIL {name}: {e}", flush=True)
            failed += 1
        except Exception as e:  # a crash in the test itself or a socket error
            tb = traceback.format_exc(limit=6)
            print(f"FAIL {name}: {type(e).__name__}: {e}\n{tb}", flush=True)
            failed += 1
        else:
            print(f"PASS {name} ({time.monotonic() - t0:.2f}s)", flush=True)
            passed += 1
            continue
        # After a failure make sure the next test gets a working server.
        if not ctx.server.alive() or not _quiet_health(ctx.server):
            print(f"  (restarting the server){ctx.server.stderr_tail()}", flush=True)
            ctx.server.cleanup()
            try:
                ctx.server = new_server()
            except TestFailure as e:
                print(f"FAIL restart: {e}", flush=True)
                failed += 1
                break
    # A clean SIGTERM shutdown of the shared server is itself a test.
    try:
        ctx.server.stop()
        print("PASS clean_shutdown", flush=True)
        passed += 1
    except TestFailure as e:
        print(f"FAIL clean_shutdown: {e}", flush=True)
        failed += 1
    finally:
        ctx.server.cleanup()
    print(f"# backend {args.backend}, {time.monotonic() - t_start:.1f}s", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


def _quiet_health(server):
    try:
        server.health_check()
        return True
    except (TestFailure, OSError):
        return False
