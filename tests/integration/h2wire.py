"""A minimal HTTP/2 client over a raw socket for the test_h2_*.py files:
hand-built frames (so tests can send what real clients refuse to), HPACK
literals written by hand (upper-case names, garbage), and the hpack module's
decoder for what the server answers."""
import socket
import struct
import time

from hpack import Decoder

from rwtest import HOST, TestFailure, check

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
          "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
          "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY",
          "HTTP_1_1_REQUIRED"]
CODE = {name: i for i, name in enumerate(ERRORS)}

S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, S_INITIAL_WINDOW_SIZE, \
    S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE = range(1, 7)


def err_name(code):
    return ERRORS[code] if code < len(ERRORS) else f"0x{code:x}"


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid & 0x7fffffff) + payload


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def window_update(sid, inc):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", inc))


def rst(sid, code):
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code))


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def literal(name, value):
    """Literal header field without indexing, new name, no Huffman."""
    if isinstance(name, str):
        name = name.encode()
    if isinstance(value, str):
        value = value.encode()
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def block(fields):
    return b"".join(literal(n, v) for n, v in fields)


def request_fields(method="GET", path="/plaintext", authority="127.0.0.1", extra=()):
    f = [(":method", method), (":scheme", "http")]
    if path is not None:
        f.append((":path", path))
    f.append((":authority", authority))
    return f + list(extra)


class H2Conn:
    def __init__(self, port, preface=True, client_settings=(), timeout=5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.dec = Decoder()
        self.buf = b""
        self.timeout = timeout
        self.server_settings = {}
        self.goaway = None      # (last_stream_id, code)
        self.closed = False
        self.last_decoded = []
        if preface:
            self.send(PREFACE + settings(*client_settings))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def headers(self, sid, fields, end_stream=True, end_headers=True, raw=None):
        payload = raw if raw is not None else block(fields)
        flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        self.send(frame(HEADERS, flags, sid, payload))

    def get(self, sid, path="/plaintext", method="GET", extra=(), end_stream=True):
        self.headers(sid, request_fields(method, path, extra=extra), end_stream=end_stream)

    def read_frame(self, deadline):
        """Next frame (type, flags, sid, payload), or None on EOF/reset."""
        while True:
            if len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + n:
                    t, fl = self.buf[3], self.buf[4]
                    sid = int.from_bytes(self.buf[5:9], "big") & 0x7fffffff
                    payload = self.buf[9:9 + n]
                    self.buf = self.buf[9 + n:]
                    self._note(t, fl, sid, payload)
                    return t, fl, sid, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("timed out waiting for a frame")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TestFailure("timed out waiting for a frame")
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk

    def _note(self, t, fl, sid, payload):
        # Every field block goes through the decoder, read or skipped by the
        # test, so the dynamic table stays in sync.
        if t in (HEADERS, PUSH_PROMISE):
            self.last_decoded = self.dec.decode(payload[4:] if t == PUSH_PROMISE else payload)
        elif t == SETTINGS and not fl & ACK:
            for i in range(0, len(payload) - 5, 6):
                k, v = struct.unpack(">HI", payload[i:i + 6])
                self.server_settings[k] = v
            self.send(frame(SETTINGS, ACK, 0))
        elif t == GOAWAY:
            self.goaway = struct.unpack(">II", payload[:8])
            self.goaway = (self.goaway[0] & 0x7fffffff, self.goaway[1])

    def expect_goaway(self, code, timeout=5.0, what=""):
        """Reads until GOAWAY; asserts its code and that the server closes."""
        deadline = time.monotonic() + timeout
        while self.goaway is None:
            f = self.read_frame(deadline)
            if f is None:
                raise TestFailure(f"{what}: connection closed without GOAWAY ({err_name(CODE[code])} expected)")
        got = self.goaway[1]
        check(got == CODE[code], f"{what}: GOAWAY {err_name(got)}, want {code}")
        while True:
            f = self.read_frame(deadline)
            if f is None:
                return
            # Frames after GOAWAY are allowed only until the close.

    def expect_rst(self, sid, code, timeout=5.0, what=""):
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(deadline)
            if f is None:
                raise TestFailure(f"{what}: connection closed, want RST_STREAM {code} on {sid}")
            t, fl, s, payload = f
            if t == GOAWAY:
                raise TestFailure(f"{what}: GOAWAY {err_name(self.goaway[1])}, want RST_STREAM {code}")
            if t == RST_STREAM and s == sid:
                got = struct.unpack(">I", payload)[0]
                check(got == CODE[code], f"{what}: RST_STREAM {err_name(got)}, want {code}")
                return

    def response(self, sid, timeout=None, refill=True, others=None):
        """Reads the response on sid: (status, headers dict, body). Frames of
        other streams go to others[sid] (dict of dicts) when given."""
        deadline = time.monotonic() + (timeout or self.timeout)
        status, hdrs, body = None, {}, b""
        while True:
            f = self.read_frame(deadline)
            if f is None:
                raise TestFailure(f"connection closed before the response on stream {sid} ended")
            t, fl, s, payload = f
            if t == GOAWAY:
                raise TestFailure(f"GOAWAY {err_name(self.goaway[1])} while waiting for stream {sid}")
            if t in (HEADERS, PUSH_PROMISE, CONTINUATION):
                decoded = self.last_decoded
                if t == PUSH_PROMISE:
                    if others is not None:
                        others.setdefault("promises", []).append(dict(decoded))
                    continue
                if s != sid:
                    if others is not None:
                        others.setdefault(s, {}).update(dict(decoded))
                    if fl & END_STREAM and others is not None:
                        others.setdefault("ended", []).append(s)
                    continue
                for k, v in decoded:
                    if k == ":status":
                        status = int(v)
                    else:
                        hdrs[k] = v
                if fl & END_STREAM:
                    return status, hdrs, body
            elif t == DATA:
                if refill and payload:
                    self.send(window_update(0, len(payload)) + window_update(s, len(payload)))
                if s == sid:
                    body += payload
                    if fl & END_STREAM:
                        return status, hdrs, body
                elif others is not None:
                    d = others.setdefault(s, {})
                    d["body"] = d.get("body", b"") + payload
                    if fl & END_STREAM:
                        others.setdefault("ended", []).append(s)
            elif t == RST_STREAM and s == sid:
                raise TestFailure(f"RST_STREAM {err_name(struct.unpack('>I', payload)[0])} on stream {sid}")

    def expect_closed(self, timeout=5.0, what=""):
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.read_frame(deadline)
            except TestFailure:
                raise TestFailure(f"{what}: connection still open after {timeout}s")
            if f is None:
                return
