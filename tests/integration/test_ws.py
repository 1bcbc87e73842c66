#!/usr/bin/python3
"""WebSocket over HTTP/1.1 Upgrade (/ws/echo, /ws/chat): echo of text and
binary messages of every length class with and without permessage-deflate,
fragmentation, ping/pong, the closing handshake, protocol errors on raw
sockets (1002/1007/1009), bad handshakes (400/426) and the slow-consumer
policy (1008). Real client: Debian's python3-websockets (asyncio API)."""
import asyncio
import time
import subprocess
import base64
import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

try:
    import websockets  # noqa: E402
except ImportError:  # pragma: no cover
    websockets = None

MAX_MESSAGE = 2 << 20      # --ws-max-message
WS_FRAME_HEADER_MAX = 14   # RW_WS_MAX_HEADER_LEN: the queue's allowance per frame
MAX_QUEUE = MAX_MESSAGE + WS_FRAME_HEADER_MAX  # --ws-max-queue: the smallest accepted
TIMEOUT = 10.0             # per client operation
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20]


def need_ws():
    if websockets is None:
        raise rwtest.TestSkip("python3-websockets missing (tools/install-deps.sh)")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT * 3))


def url(ctx, path="/ws/echo"):
    return f"ws://{rwtest.HOST}:{ctx.port}{path}"


def payload(n, binary):
    if binary:
        return bytes((i * 7 + 3) & 0xff for i in range(n))
    return "".join("abcdéfgh€"[i % 9] for i in range(n))[:n] if n else ""


# ---- raw client -------------------------------------------------------------

KEY = base64.b64encode(b"0123456789abcdef").decode()


def handshake_request(path="/ws/echo", headers=None, drop=()):
    h = {"Host": "localhost", "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "13"}
    for k in drop:
        h.pop(k, None)
    h.update(headers or {})
    lines = [f"GET {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(op, data=b"", fin=True, rsv=0, mask=True, length=None):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(data) if length is None else length
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, mbit | n])
    elif n < 65536:
        hdr = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return hdr + data
    key = b"\x11\x22\x33\x44"
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(data))


class Raw:
    def __init__(self, port, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(TIMEOUT)
        self.s.connect((rwtest.HOST, port))
        self.buf = b""

    def close(self):
        self.s.close()

    def upgrade(self, path="/ws/echo"):
        self.s.sendall(handshake_request(path))
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            check(d, "connection closed during the handshake")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101 "), f"no 101: {head[:200]!r}")
        return head

    def _need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(1 << 20)
            if not d:
                return False
            self.buf += d
        return True

    def read_frame(self):
        """(fin, rsv, op, payload) or None at EOF."""
        if not self._need(2):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        check(not (b1 & 0x80), "server frame is masked")
        n, off = b1 & 0x7f, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        check(self._need(off + n), "EOF inside a frame")
        data = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x70, b0 & 0x0f, data

    def expect_close(self, code):
        """Reads until a close frame; checks its code and that EOF follows."""
        while True:
            f = self.read_frame()
            check(f is not None, f"EOF without a close frame (want {code})")
            if f[2] == 8:
                break
        got = struct.unpack("!H", f[3][:2])[0] if len(f[3]) >= 2 else None
        check_eq(got, code, "close code")
        self.s.settimeout(5)
        try:
            rest = self.s.recv(65536)
        except ConnectionResetError:
            rest = b""
        check_eq(rest, b"", "bytes after the close frame (want EOF)")


def raw_violation(ctx, data, code):
    r = Raw(ctx.port)
    try:
        r.upgrade()
        r.s.sendall(data)
        r.expect_close(code)
    finally:
        r.close()


# ---- echo via websockets ------------------------------------------------------

async def echo_all(ctx, compression):
    async with websockets.connect(url(ctx), compression=compression, max_size=None,
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        for binary in (False, True):
            for n in SIZES:
                m = payload(n, binary)
                await ws.send(m)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                check(got == m, f"echo of {n} {'binary' if binary else 'text'} bytes differs "
                                f"(got {len(got)} {type(got).__name__})")
        return ext


@test
def echo_no_deflate(ctx):
    need_ws()
    ext = run(echo_all(ctx, None))
    check_eq(ext, None, "Sec-WebSocket-Extensions without an offer")


@test
def echo_deflate(ctx):
    need_ws()
    ext = run(echo_all(ctx, "deflate"))
    check(ext and ext.startswith("permessage-deflate"), f"deflate not negotiated: {ext!r}")


@test
def deflate_compresses_on_the_wire(ctx):
    # A compressible 100 KiB text must come back in far fewer bytes.
    r = Raw(ctx.port)
    try:
        r.s.sendall(handshake_request(headers={
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}))
        while b"\r\n\r\n" not in r.buf:
            r.buf += r.s.recv(65536)
        head, r.buf = r.buf.split(b"\r\n\r\n", 1)
        check(b"permessage-deflate" in head.lower(), f"no deflate in {head!r}")
        r.s.sendall(frame(1, b"a" * 100000))
        fin, rsv, op, data = r.read_frame()
        check(fin and op == 1 and rsv == 0x40, f"want a compressed text frame: {rsv:#x} {op}")
        check(len(data) < 2000, f"100000 'a' compressed to {len(data)} bytes")
        import zlib
        d = zlib.decompressobj(-15)
        out = d.decompress(data + b"\x00\x00\xff\xff")
        check_eq(out, b"a" * 100000, "inflated echo")
    finally:
        r.close()


@test
def fragmented_messages(ctx):
    need_ws()

    async def go():
        async with websockets.connect(url(ctx), compression=None, max_size=None) as ws:
            parts = ["frag", "mented ", "tëxt", ""]
            await ws.send(iter(parts))
            check_eq(await asyncio.wait_for(ws.recv(), TIMEOUT), "".join(parts), "text")
            bparts = [b"\x00" * 70000, b"\x01", b"\x02" * 1000]
            await ws.send(iter(bparts))
            check_eq(await asyncio.wait_for(ws.recv(), TIMEOUT), b"".join(bparts), "binary")
    run(go())


@test
def ping_pong_and_interleaved_control(ctx):
    need_ws()

    async def go():
        async with websockets.connect(url(ctx), compression=None) as ws:
            waiter = await ws.ping(b"are you there")
            await asyncio.wait_for(waiter, TIMEOUT)
    run(go())
    # raw: a ping between two fragments is answered, the message still arrives
    r = Raw(ctx.port)
    try:
        r.upgrade()
        r.s.sendall(frame(1, b"ab", fin=False) + frame(9, b"pp") + frame(0, b"cd"))
        f1 = r.read_frame()
        check_eq((f1[2], f1[3]), (0xA, b"pp"), "pong first")
        f2 = r.read_frame()
        check_eq((f2[2], f2[3]), (1, b"abcd"), "reassembled message")
    finally:
        r.close()


@test
def close_handshake_echoes_code(ctx):
    need_ws()

    async def go():
        ws = await websockets.connect(url(ctx), compression=None)
        await ws.close(4001, "bye")
        check_eq(ws.close_code, 4001, "close code echoed by the server")
    run(go())
    r = Raw(ctx.port)
    try:
        r.upgrade()
        r.s.sendall(frame(8, b""))  # no status: answered with an empty close
        f = r.read_frame()
        check_eq((f[2], f[3]), (8, b""), "empty close echoed")
        check_eq(r.read_frame(), None, "EOF after the close")
    finally:
        r.close()


@test
def subprotocol_and_accept_key(ctx):
    r = Raw(ctx.port)
    try:
        r.s.sendall(handshake_request(headers={"Sec-WebSocket-Protocol": "chat, echo"}))
        while b"\r\n\r\n" not in r.buf:
            r.buf += r.s.recv(65536)
        head = r.buf.split(b"\r\n\r\n", 1)[0].decode().lower()
        want = base64.b64encode(hashlib.sha1(KEY.encode() + GUID).digest()).decode().lower()
        check(f"sec-websocket-accept: {want}" in head, f"accept key wrong: {head}")
        check("sec-websocket-protocol: echo" in head, f"subprotocol not chosen: {head}")
    finally:
        r.close()


@test
def invalid_utf8_is_1007(ctx):
    raw_violation(ctx, frame(1, b"ok \xff\xfe"), 1007)
    raw_violation(ctx, frame(1, b"\xe2\x82", fin=False) + frame(0, b"\x28"), 1007)


@test
def too_big_is_1009(ctx):
    # The header alone announces more than --ws-max-message: closed at once.
    raw_violation(ctx, frame(2, b"", length=MAX_MESSAGE + 1)[:14], 1009)
    # A fragmented message passing the limit.
    chunk = b"z" * (1 << 20)
    raw_violation(ctx, frame(2, chunk, fin=False) + frame(0, chunk, fin=False) +
                  frame(0, b"zz", fin=False), 1009)


@test
def too_big_via_client_is_1009(ctx):
    need_ws()

    async def go():
        async with websockets.connect(url(ctx), compression=None, max_size=None) as ws:
            try:  # the server may close while the client is still sending
                await ws.send(b"q" * (MAX_MESSAGE + 10))
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except websockets.ConnectionClosed:
                pass
            check_eq(ws.close_code, 1009, "close code")
    run(go())


@test
def echo_of_max_size_message(ctx):
    """A message of exactly --ws-max-message comes back whole, with the queue
    at the smallest size the CLI accepts (message + frame header)."""
    need_ws()

    async def go(compression):
        async with websockets.connect(url(ctx), compression=compression, max_size=None) as ws:
            for msg in (payload(MAX_MESSAGE, True), "x" * MAX_MESSAGE):
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                check(got == msg, f"echo of {len(msg)} bytes came back as {len(got)} "
                                  f"(close {ws.close_code})")
    run(go(None))
    run(go("deflate"))


@test
def echo_above_old_queue_default(ctx):
    """With the default flags a 4 MiB + 1 message (over the old 4m queue, under
    the 16m message limit) is echoed, not closed with 1008."""
    need_ws()
    with ctx.start_server([], threads=1) as srv:
        async def go():
            async with websockets.connect(f"ws://{rwtest.HOST}:{srv.port}/ws/echo",
                                          compression=None, max_size=None) as ws:
                msg = payload((4 << 20) + 1, True)
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                check(got == msg, f"echo of {len(msg)} bytes came back as {len(got)}")
        run(go())


@test
def queue_smaller_than_message_is_refused(ctx):
    """The relation is checked at start-up: exit 2 with one clear line."""
    for args, want in (
            (["--ws-max-message", str(MAX_MESSAGE), "--ws-max-queue", str(MAX_QUEUE - 1)],
             f"needs at least {MAX_QUEUE} bytes"),
            (["--ws-max-queue", "4m"], "--ws-max-message 16m")):
        p = subprocess.run([ctx.binary, "--listen", f"{rwtest.HOST}:{rwtest.free_port()}",
                            *args],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        err = p.stderr.decode(errors="replace")
        check_eq(p.returncode, 2, f"exit code for {args}")
        check("--ws-max-queue" in err and want in err, f"{args}: stderr {err!r}")


@test
def protocol_errors_are_1002(ctx):
    raw_violation(ctx, frame(1, b"hi", mask=False), 1002)           # unmasked client frame
    raw_violation(ctx, frame(3, b"x"), 1002)                        # reserved opcode
    raw_violation(ctx, frame(0xB, b""), 1002)                       # reserved control opcode
    raw_violation(ctx, frame(1, b"x", rsv=0x20), 1002)              # RSV2
    raw_violation(ctx, frame(1, b"x", rsv=0x40), 1002)              # RSV1 without deflate
    raw_violation(ctx, frame(9, b"p", fin=False), 1002)             # fragmented ping
    raw_violation(ctx, frame(9, b"p" * 126), 1002)                  # control payload > 125
    raw_violation(ctx, frame(0, b"x"), 1002)                        # continuation, no message
    raw_violation(ctx, frame(1, b"a", fin=False) + frame(1, b"b"), 1002)  # new msg in frag.
    raw_violation(ctx, frame(8, b"\x03\xed"), 1002)                 # close code 1005 on wire
    raw_violation(ctx, frame(8, b"\x03"), 1002)                     # 1-byte close body


@test
def bad_handshakes(ctx):
    def status_of(req):
        with ctx.conn() as c:
            c.send(req)
            return c.read_response()
    r = status_of(handshake_request(drop=("Sec-WebSocket-Key",)))
    check_eq(r.status, 400, "missing key")
    r = status_of(handshake_request(headers={"Sec-WebSocket-Version": "8"}))
    check_eq(r.status, 426, "version 8")
    check_eq(r.header("Sec-WebSocket-Version"), "13", "426 advertises version 13")
    r = status_of(handshake_request(drop=("Upgrade",)))
    check_eq(r.status, 426, "no Upgrade header")
    r = status_of(handshake_request(headers={"Sec-WebSocket-Key": "short"}))
    check_eq(r.status, 400, "malformed key")
    r = status_of(handshake_request(headers={"Connection": "keep-alive"}))
    check_eq(r.status, 400, "Connection without upgrade")
    # The connection keeps serving HTTP after a refused upgrade.
    with ctx.conn() as c:
        c.send(handshake_request(drop=("Sec-WebSocket-Key",)) +
               rwtest.request("GET", "/plaintext"))
        check_eq(c.read_response().status, 400, "refused upgrade")
        check_eq(c.read_response().status, 200, "next request on the same connection")


@test
def frames_right_after_the_handshake(ctx):
    # Frames sent in the same segment as the upgrade request are not lost.
    r = Raw(ctx.port)
    try:
        r.s.sendall(handshake_request() + frame(1, b"early") + frame(2, b"\x00\x01"))
        while b"\r\n\r\n" not in r.buf:
            r.buf += r.s.recv(65536)
        r.buf = r.buf.split(b"\r\n\r\n", 1)[1]
        check_eq(r.read_frame()[3], b"early", "first echo")
        check_eq(r.read_frame()[3], b"\x00\x01", "second echo")
    finally:
        r.close()


@test
def many_small_messages_in_one_write(ctx):
    r = Raw(ctx.port)
    try:
        r.upgrade()
        msgs = [(b"m%d" % i) * (i % 50) for i in range(2000)]
        r.s.sendall(b"".join(frame(2, m) for m in msgs))
        for i, m in enumerate(msgs):
            f = r.read_frame()
            check(f is not None and f[3] == m, f"message {i} lost or wrong")
    finally:
        r.close()


@test
def slow_consumer_is_closed_1008(ctx):
    need_ws()
    # One thread keeps the slow member and the sender on the same worker.
    with ctx.start_server(["--ws-max-queue", "1m", "--ws-max-message", "512k"],
                          threads=1) as srv:
        slow = Raw(srv.port, rcvbuf=4096)
        try:
            slow.upgrade("/ws/chat")

            async def go():
                async with websockets.connect(f"ws://{rwtest.HOST}:{srv.port}/ws/chat",
                                              compression=None, max_size=None) as ws:
                    msg = "s" * 65536
                    for _ in range(160):  # 10 MiB: far past the slow member's queue
                        await ws.send(msg)
                        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                        check(got == msg, "broadcast to the sender differs")
            run(go())
            slow.expect_close(1008)
        finally:
            slow.close()


@test
def chat_broadcast(ctx):
    need_ws()
    with ctx.start_server([], threads=1) as srv:
        async def go():
            u = f"ws://{rwtest.HOST}:{srv.port}/ws/chat"
            async with websockets.connect(u) as a, websockets.connect(u) as b:
                await a.send("hello from a")
                check_eq(await asyncio.wait_for(b.recv(), TIMEOUT), "hello from a", "b got")
                check_eq(await asyncio.wait_for(a.recv(), TIMEOUT), "hello from a", "a got")
        run(go())


@test
def chat_broadcast_across_threads(ctx):
    """/ws/chat is a channel: members on different workers all get every
    message. 16 clients over 2 workers (SO_REUSEPORT spreads them; all on one
    worker has probability 2^-15)."""
    need_ws()
    n = 16
    with ctx.start_server([], threads=2) as srv:
        async def go():
            u = f"ws://{rwtest.HOST}:{srv.port}/ws/chat"
            clients = [await websockets.connect(u) for _ in range(n)]
            try:
                # Every member has joined once its connection is open; a
                # round trip through the room proves it before the real run.
                await clients[0].send("sync")
                for c in clients:
                    check_eq(await asyncio.wait_for(c.recv(), TIMEOUT), "sync", "sync message")
                for i, c in enumerate(clients):
                    await c.send(f"m{i}")
                want = {f"m{i}" for i in range(n)}
                for j, c in enumerate(clients):
                    got = set()
                    while len(got) < n:
                        got.add(await asyncio.wait_for(c.recv(), TIMEOUT))
                    check(got == want, f"client {j} got {sorted(got)}")
            finally:
                for c in clients:
                    await c.close()
        run(go())


@test
def chat_reaches_sse_members(ctx):
    """A channel mixes WebSocket and SSE members: a chat message arrives on
    /ws/chat/events as `event: chat` (curl, on either worker)."""
    need_ws()
    with ctx.start_server([], threads=2) as srv:
        curls = [subprocess.Popen(["curl", "-sN", "--max-time", "5",
                                   f"http://{rwtest.HOST}:{srv.port}/ws/chat/events"],
                                  stdout=subprocess.PIPE) for _ in range(4)]
        try:
            time.sleep(0.5)  # the streams have joined the room

            async def go():
                async with websockets.connect(f"ws://{rwtest.HOST}:{srv.port}/ws/chat") as ws:
                    await ws.send("to everyone")
                    check_eq(await asyncio.wait_for(ws.recv(), TIMEOUT), "to everyone",
                             "ws member")
            run(go())
        finally:
            outs = []
            for p in curls:
                try:
                    out, _ = p.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, _ = p.communicate()
                outs.append(out.decode(errors="replace"))
        for i, out in enumerate(outs):
            check("event: chat\ndata: to everyone\n" in out, f"sse member {i} got {out!r}")


if __name__ == "__main__":
    rwtest.main(server_args=["--ws-max-message", str(MAX_MESSAGE),
                             "--ws-max-queue", str(MAX_QUEUE)])
