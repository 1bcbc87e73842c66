#!/usr/bin/python3
"""Writes the seed corpus of fuzz_h2_conn (tests/fuzz/corpus/h2_conn/).

Each seed is a valid HTTP/2 client session after the preface, wrapped in the
harness's record format (see fuzz_h2_conn.c): one byte saying where the
preface is split, then records [ctrl][len][len bytes]. Header blocks use
plain HPACK literals (no Huffman, no dynamic table) so they stay readable.
Usage: gen_h2_conn_corpus.py [OUTDIR]
"""
import os
import struct
import sys

PREFACE_LEN = 24
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONT = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 0x01, 0x01, 0x04
RECORD_MAX = 255


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def lit(name_index, value):
    """Literal without indexing, indexed name (RFC 7541 6.2.2)."""
    v = value.encode()
    assert name_index < 15 and len(v) < 127
    return bytes([name_index, len(v)]) + v


def lit_new(name, value):
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def request(method, path, extra=()):
    block = bytes([0x82 if method == "GET" else 0x83])  # :method GET / POST
    block += b"\x86"                                       # :scheme http
    block += lit(4, path) + lit(1, "example.test")        # :path, :authority
    for k, v in extra:
        block += lit_new(k, v)
    return block


BROWSER = [("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
           ("accept", "text/html,application/xhtml+xml"),
           ("accept-language", "en-US,en;q=0.5"),
           ("accept-encoding", "gzip, deflate, br"),
           ("cookie", "session=0123456789abcdef0123456789")]


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def wrap(stream, ctrls=None, split=PREFACE_LEN):
    """Cuts the byte stream into records; ctrls cycles the per-record ctrl."""
    ctrls = ctrls or [0]
    out = bytearray([split])
    for i, pos in enumerate(range(0, len(stream), RECORD_MAX)):
        piece = stream[pos:pos + RECORD_MAX]
        out += bytes([ctrls[i % len(ctrls)], len(piece)]) + piece
    out += bytes([0, 0])  # a last drain
    return bytes(out)


def seeds():
    hello = settings() + frame(SETTINGS, ACK, 0)
    get = request("GET", "/plaintext")
    yield "get_plaintext", wrap(hello + frame(HEADERS, END_HEADERS | END_STREAM, 1, get))
    yield "get_json_browser", wrap(hello + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                 request("GET", "/json", BROWSER)))
    big = request("GET", "/plaintext", BROWSER)
    cut = len(big) // 3
    yield "continuation", wrap(hello + frame(HEADERS, END_STREAM, 1, big[:cut]) +
                               frame(CONT, 0, 1, big[cut:2 * cut]) +
                               frame(CONT, END_HEADERS, 1, big[2 * cut:]))
    post = request("POST", "/echo", [("content-length", "11")])
    yield "post_data", wrap(hello + frame(HEADERS, END_HEADERS, 1, post) +
                            frame(DATA, 0, 1, b"hello ") + frame(DATA, END_STREAM, 1, b"world"))
    yield "rst", wrap(hello + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                    request("GET", "/slow")) +
                      frame(RST, 0, 1, struct.pack(">I", 8)) +
                      frame(HEADERS, END_HEADERS | END_STREAM, 3, get))
    yield "ping", wrap(hello + frame(PING, 0, 0, b"12345678") +
                       frame(HEADERS, END_HEADERS | END_STREAM, 1, get) +
                       frame(PING, 0, 0, b"abcdefgh"))
    # Small windows: the 70000-byte /big and /stream wait for WINDOW_UPDATEs.
    yield "window_updates", wrap(
        settings((4, 100), (5, 16384)) + frame(SETTINGS, ACK, 0) +
        frame(HEADERS, END_HEADERS | END_STREAM, 1, request("GET", "/big")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 3, request("GET", "/stream?n=20")) +
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100000)) +
        frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 50000)) +
        frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 1000)) +
        frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 50000)),
        ctrls=[2, 1 | 4 << 2, 0x20])
    yield "push_goaway", wrap(hello + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                            request("GET", "/pushy")) +
                              frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)), ctrls=[3])
    many = b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1,
                          request("GET", "/plaintext" if i % 2 else "/slow"))
                    for i in range(12))
    yield "many_streams_split_preface", wrap(hello + many, ctrls=[1, 2, 0x20, 3], split=10)
    padded = bytes([5]) + b"hello" + bytes(5)
    yield "padded_priority_trailers", wrap(
        hello + frame(HEADERS, END_HEADERS | 0x20, 1, struct.pack(">IB", 0, 15) +
                      request("POST", "/echo")) +
        frame(DATA, 0x08, 1, padded) + frame(2, 0, 3, struct.pack(">IB", 1, 7)) +
        frame(HEADERS, END_HEADERS | END_STREAM, 1, lit_new("x-trailer", "yes")))
    yield "sse_metrics_ticks", wrap(
        hello + frame(HEADERS, END_HEADERS | END_STREAM, 1, request("GET", "/events")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 3, request("GET", "/metrics")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 5, request("GET", "/_status")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 7, request("GET", "/realtime")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 9, request("GET", "/missing")) +
        frame(HEADERS, END_HEADERS | END_STREAM, 11, b"\x02\x04HEAD\x86" +
              lit(4, "/plaintext") + lit(1, "example.test")),
        ctrls=[0x20, 0x20 | 1, 0x20])
    yield "timeout_eof", wrap(hello + frame(HEADERS, END_HEADERS, 1, request("POST", "/echo")),
                              ctrls=[0x40 | 0x80])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "h2_conn")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
