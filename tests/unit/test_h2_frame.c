/* HTTP/2 frame codec: every validation rule of RFC 9113 §4/§6 with its exact
 * error code and class, writer -> decoder round trips for each frame type,
 * padding edges, every-prefix incompleteness, byte-at-a-time stream
 * decoding, and field block splitting at several max frame sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http2/frame.h"

#define MAXF RW_H2_DEFAULT_MAX_FRAME_SIZE
#define BUF_CAP (RW_H2_FRAME_HEADER_LEN + 70000)

static uint8_t buf[BUF_CAP];

/* A frame with header (length = override if >= 0, else plen) and payload. */
static size_t mk(uint8_t *out, long len_override, uint8_t type, uint8_t flags, uint32_t sid,
                 const char *payload, size_t plen)
{
    uint32_t len = len_override >= 0 ? (uint32_t)len_override : (uint32_t)plen;
    out[0] = (uint8_t)(len >> 16);
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    out[3] = type;
    out[4] = flags;
    out[5] = (uint8_t)(sid >> 24);
    out[6] = (uint8_t)(sid >> 16);
    out[7] = (uint8_t)(sid >> 8);
    out[8] = (uint8_t)sid;
    if (plen)
        memcpy(out + 9, payload, plen);
    return 9 + plen;
}

#define P(lit) (lit), (sizeof(lit) - 1)
#define NOP NULL, 0

enum { OK = 0, CONN = RW_H2_FAIL_CONNECTION, STRM = RW_H2_FAIL_STREAM };

typedef struct err_case {
    const char *name;
    long len_override; /* -1: the payload's length */
    uint8_t type, flags;
    uint32_t sid;
    const char *payload;
    size_t plen;
    uint32_t max_frame; /* 0: MAXF */
    int rc;             /* OK (decodes), CONN or STRM */
    uint32_t code;
} err_case;

static const err_case err_cases[] = {
    /* §4.2 size limit: connection error unless DATA/PRIORITY on a stream */
    { "DATA oversize on stream", MAXF + 1, RW_H2_DATA, 0, 1, NOP, 0, STRM, RW_H2_FRAME_SIZE_ERROR },
    { "DATA oversize small max", 11, RW_H2_DATA, 0, 1, P("0123456789a"), 10, STRM, RW_H2_FRAME_SIZE_ERROR },
    { "DATA at max", 10, RW_H2_DATA, 0, 1, P("0123456789"), 10, OK, 0 },
    { "DATA oversize stream 0", MAXF + 1, RW_H2_DATA, 0, 0, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PRIORITY oversize on stream", MAXF + 1, RW_H2_PRIORITY, 0, 3, NOP, 0, STRM, RW_H2_FRAME_SIZE_ERROR },
    { "HEADERS oversize", MAXF + 1, RW_H2_HEADERS, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "CONTINUATION oversize", MAXF + 1, RW_H2_CONTINUATION, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PUSH_PROMISE oversize", MAXF + 1, RW_H2_PUSH_PROMISE, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "SETTINGS oversize", MAXF + 2, RW_H2_SETTINGS, 0, 0, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "RST_STREAM oversize", MAXF + 1, RW_H2_RST_STREAM, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "WINDOW_UPDATE oversize stream", MAXF + 1, RW_H2_WINDOW_UPDATE, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PING oversize", 0xffffff, RW_H2_PING, 0, 0, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "GOAWAY oversize", MAXF + 1, RW_H2_GOAWAY, 0, 0, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "unknown oversize on stream", MAXF + 1, 0x20, 0, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    /* stream id 0 / non-zero */
    { "DATA stream 0", -1, RW_H2_DATA, 0, 0, P("x"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "HEADERS stream 0", -1, RW_H2_HEADERS, 4, 0, P("x"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "PRIORITY stream 0", -1, RW_H2_PRIORITY, 0, 0, P("\0\0\0\1\7"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "RST_STREAM stream 0", -1, RW_H2_RST_STREAM, 0, 0, P("\0\0\0\1"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "PUSH_PROMISE stream 0", -1, RW_H2_PUSH_PROMISE, 4, 0, P("\0\0\0\2"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "CONTINUATION stream 0", -1, RW_H2_CONTINUATION, 4, 0, P("x"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "SETTINGS on stream", -1, RW_H2_SETTINGS, 0, 1, NOP, 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "SETTINGS ACK on stream", -1, RW_H2_SETTINGS, 1, 1, NOP, 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "PING on stream", -1, RW_H2_PING, 0, 1, P("12345678"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "GOAWAY on stream", -1, RW_H2_GOAWAY, 0, 1, P("\0\0\0\0\0\0\0\0"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "WINDOW_UPDATE stream 0 ok", -1, RW_H2_WINDOW_UPDATE, 0, 0, P("\0\0\0\1"), 0, OK, 0 },
    { "unknown type stream 0 ok", -1, 0xff, 0xff, 0, P("abc"), 0, OK, 0 },
    /* padding */
    { "DATA padded length 0", -1, RW_H2_DATA, 8, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "DATA pad = length", -1, RW_H2_DATA, 8, 1, P("\3ab"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "DATA pad 255 short", -1, RW_H2_DATA, 8, 1, P("\377abc"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "DATA pad = length-1", -1, RW_H2_DATA, 8, 1, P("\2ab"), 0, OK, 0 },
    { "DATA pad 0", -1, RW_H2_DATA, 8, 1, P("\0ab"), 0, OK, 0 },
    { "DATA padded pad only", -1, RW_H2_DATA, 8, 1, P("\0"), 0, OK, 0 },
    { "HEADERS padded length 0", -1, RW_H2_HEADERS, 8, 1, NOP, 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "HEADERS pad too big", -1, RW_H2_HEADERS, 8 | 4, 1, P("\3ab"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "HEADERS prio short", -1, RW_H2_HEADERS, 0x20, 1, P("\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "HEADERS pad+prio len 5", -1, RW_H2_HEADERS, 0x28, 1, P("\0\0\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "HEADERS pad+prio pad 1 over", -1, RW_H2_HEADERS, 0x28, 1, P("\1\0\0\0\0\7"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "HEADERS pad+prio exact", -1, RW_H2_HEADERS, 0x28, 1, P("\1\0\0\0\0\7p"), 0, OK, 0 },
    { "PUSH_PROMISE short", -1, RW_H2_PUSH_PROMISE, 4, 1, P("\0\0\2"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PUSH_PROMISE padded short", -1, RW_H2_PUSH_PROMISE, 0xc, 1, P("\0\0\0\2"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PUSH_PROMISE pad over", -1, RW_H2_PUSH_PROMISE, 0xc, 1, P("\1\0\0\0\2"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "PUSH_PROMISE pad exact", -1, RW_H2_PUSH_PROMISE, 0xc, 1, P("\1\0\0\0\2p"), 0, OK, 0 },
    /* fixed lengths */
    { "PRIORITY len 4", -1, RW_H2_PRIORITY, 0, 3, P("\0\0\0\1"), 0, STRM, RW_H2_FRAME_SIZE_ERROR },
    { "PRIORITY len 6", -1, RW_H2_PRIORITY, 0, 3, P("\0\0\0\1\7\0"), 0, STRM, RW_H2_FRAME_SIZE_ERROR },
    { "RST_STREAM len 3", -1, RW_H2_RST_STREAM, 0, 1, P("\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "RST_STREAM len 5", -1, RW_H2_RST_STREAM, 0, 1, P("\0\0\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "SETTINGS ACK len 6", -1, RW_H2_SETTINGS, 1, 0, P("\0\1\0\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "SETTINGS len 5", -1, RW_H2_SETTINGS, 0, 0, P("\0\1\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "SETTINGS len 7", -1, RW_H2_SETTINGS, 0, 0, P("\0\1\0\0\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PING len 7", -1, RW_H2_PING, 0, 0, P("1234567"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "PING len 9", -1, RW_H2_PING, 1, 0, P("123456789"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "WINDOW_UPDATE len 3", -1, RW_H2_WINDOW_UPDATE, 0, 1, P("\0\0\1"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "WINDOW_UPDATE len 5", -1, RW_H2_WINDOW_UPDATE, 0, 0, P("\0\0\0\1\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "GOAWAY len 7", -1, RW_H2_GOAWAY, 0, 0, P("\0\0\0\0\0\0\0"), 0, CONN, RW_H2_FRAME_SIZE_ERROR },
    { "GOAWAY len 8", -1, RW_H2_GOAWAY, 0, 0, P("\0\0\0\0\0\0\0\0"), 0, OK, 0 },
    /* WINDOW_UPDATE increment 0 */
    { "WINDOW_UPDATE 0 on stream", -1, RW_H2_WINDOW_UPDATE, 0, 5, P("\0\0\0\0"), 0, STRM, RW_H2_PROTOCOL_ERROR },
    { "WINDOW_UPDATE 0 on conn", -1, RW_H2_WINDOW_UPDATE, 0, 0, P("\0\0\0\0"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "WINDOW_UPDATE R bit only", -1, RW_H2_WINDOW_UPDATE, 0, 5, P("\200\0\0\0"), 0, STRM, RW_H2_PROTOCOL_ERROR },
    /* SETTINGS values */
    { "ENABLE_PUSH 2", -1, RW_H2_SETTINGS, 0, 0, P("\0\2\0\0\0\2"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "ENABLE_PUSH 1", -1, RW_H2_SETTINGS, 0, 0, P("\0\2\0\0\0\1"), 0, OK, 0 },
    { "INITIAL_WINDOW 2^31", -1, RW_H2_SETTINGS, 0, 0, P("\0\4\200\0\0\0"), 0, CONN, RW_H2_FLOW_CONTROL_ERROR },
    { "INITIAL_WINDOW 2^31-1", -1, RW_H2_SETTINGS, 0, 0, P("\0\4\177\377\377\377"), 0, OK, 0 },
    { "MAX_FRAME 16383", -1, RW_H2_SETTINGS, 0, 0, P("\0\5\0\0\77\377"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "MAX_FRAME 16384", -1, RW_H2_SETTINGS, 0, 0, P("\0\5\0\0\100\0"), 0, OK, 0 },
    { "MAX_FRAME 2^24-1", -1, RW_H2_SETTINGS, 0, 0, P("\0\5\0\377\377\377"), 0, OK, 0 },
    { "MAX_FRAME 2^24", -1, RW_H2_SETTINGS, 0, 0, P("\0\5\1\0\0\0"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "CONNECT_PROTOCOL 2", -1, RW_H2_SETTINGS, 0, 0, P("\0\10\0\0\0\2"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "CONNECT_PROTOCOL 1", -1, RW_H2_SETTINGS, 0, 0, P("\0\10\0\0\0\1"), 0, OK, 0 },
    { "NO_RFC7540_PRIO 2", -1, RW_H2_SETTINGS, 0, 0, P("\0\11\0\0\0\2"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "unknown settings", -1, RW_H2_SETTINGS, 0, 0, P("\0\0\377\377\377\377\0\7\377\377\377\377\377\377\0\0\0\2"), 0, OK, 0 },
    { "bad after good", -1, RW_H2_SETTINGS, 0, 0, P("\0\1\0\0\20\0\0\2\0\0\0\3"), 0, CONN, RW_H2_PROTOCOL_ERROR },
    { "table/streams/list any", -1, RW_H2_SETTINGS, 0, 0, P("\0\1\377\377\377\377\0\3\377\377\377\377\0\6\377\377\377\377"), 0, OK, 0 },
    /* self-dependency */
    { "HEADERS self-dependent", -1, RW_H2_HEADERS, 0x24, 3, P("\0\0\0\3\17ab"), 0, STRM, RW_H2_PROTOCOL_ERROR },
    { "HEADERS self-dep exclusive", -1, RW_H2_HEADERS, 0x24, 3, P("\200\0\0\3\17"), 0, STRM, RW_H2_PROTOCOL_ERROR },
    { "PRIORITY self-dependent", -1, RW_H2_PRIORITY, 0, 7, P("\0\0\0\7\0"), 0, STRM, RW_H2_PROTOCOL_ERROR },
    { "PRIORITY other", -1, RW_H2_PRIORITY, 0, 7, P("\0\0\0\5\0"), 0, OK, 0 },
    /* ignored flags / bits */
    { "PING unknown flags", -1, RW_H2_PING, 0xfe, 0, P("12345678"), 0, OK, 0 },
    { "SETTINGS PADDED ignored", -1, RW_H2_SETTINGS, 0x08, 0, NOP, 0, OK, 0 },
    { "DATA PRIORITY flag ignored", -1, RW_H2_DATA, 0x20, 1, P("\0\0\0\0\0"), 0, OK, 0 },
    { "DATA R bit ignored", -1, RW_H2_DATA, 0, 0x80000001u, P("x"), 0, OK, 0 },
    { "DATA R bit stream 0", -1, RW_H2_DATA, 0, 0x80000000u, P("x"), 0, CONN, RW_H2_PROTOCOL_ERROR },
};

static void test_error_table(void)
{
    rw_h2_frame f;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        size_t n = mk(buf, c->len_override, c->type, c->flags, c->sid, c->payload, c->plen);
        uint32_t maxf = c->max_frame ? c->max_frame : MAXF;
        uint32_t hdlen = c->len_override >= 0 ? (uint32_t)c->len_override : (uint32_t)c->plen;
        int rc = rw_h2_frame_decode(buf, n, maxf, &f);
        if (c->rc == OK) {
            CHECK(rc == (int)n, "%s: rc %d want %zu (%s)", c->name, rc, n,
                  f.error_reason ? f.error_reason : "");
            CHECK(f.error_code == RW_H2_NO_ERROR && f.error_reason == NULL, "%s: error set", c->name);
        } else {
            CHECK(rc == c->rc, "%s: rc %d want %d", c->name, rc, c->rc);
            CHECK(f.error_code == c->code, "%s: code %s want %s", c->name,
                  rw_h2_error_name(f.error_code), rw_h2_error_name(c->code));
            CHECK(f.error_is_stream == (c->rc == STRM), "%s: class", c->name);
            CHECK(f.error_reason != NULL, "%s: no reason", c->name);
        }
        CHECK(f.hd.type == c->type && f.hd.flags == c->flags &&
                  f.hd.stream_id == (c->sid & 0x7fffffffu) && f.hd.length == hdlen,
              "%s: header fields", c->name);
        CHECK(f.frame_len == 9 + hdlen, "%s: frame_len %u", c->name, f.frame_len);
        /* Every prefix: incomplete, or (past the header) the same verdict. */
        for (size_t k = 0; k < n; k++) {
            rw_h2_frame g;
            int r = rw_h2_frame_decode(buf, k, maxf, &g);
            if (k < 9) {
                CHECK(r == RW_H2_INCOMPLETE && g.frame_len == 9, "%s: prefix %zu", c->name, k);
            } else if (r != RW_H2_INCOMPLETE) {
                CHECK(r == c->rc && g.error_code == c->code, "%s: prefix %zu rc %d", c->name, k, r);
            } else {
                CHECK(g.frame_len == 9 + hdlen, "%s: prefix %zu need %u", c->name, k, g.frame_len);
            }
        }
    }
}

/* ---- padding content ----------------------------------------------------- */

static void test_padding_content(void)
{
    rw_h2_frame f;
    /* DATA, pad 0 */
    size_t n = mk(buf, -1, RW_H2_DATA, 8 | 1, 1, P("\0hello"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n, "data pad 0");
    CHECK(f.payload == buf + 10 && f.payload_len == 5 && f.pad_len == 0 &&
              memcmp(f.payload, "hello", 5) == 0 && (f.hd.flags & RW_H2_FLAG_END_STREAM),
          "data pad 0 fields");
    /* DATA, pad 255 with room */
    static uint8_t payload[300];
    payload[0] = 255;
    memcpy(payload + 1, "abc", 3);
    n = mk(buf, -1, RW_H2_DATA, 8, 1, (const char *)payload, 1 + 3 + 255);
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n, "data pad 255");
    CHECK(f.payload_len == 3 && f.pad_len == 255 && memcmp(f.payload, "abc", 3) == 0,
          "data pad 255 fields");
    /* DATA, pad 255, one byte short */
    n = mk(buf, -1, RW_H2_DATA, 8, 1, (const char *)payload, 1 + 254);
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == RW_H2_FAIL_CONNECTION &&
              f.error_code == RW_H2_PROTOCOL_ERROR,
          "data pad 255 too big");
    /* DATA, pad = max (everything but the Pad Length byte) */
    n = mk(buf, -1, RW_H2_DATA, 8, 1, P("\4abcd"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n && f.payload_len == 0 && f.pad_len == 4,
          "data pad max");
    /* HEADERS padded + priority */
    n = mk(buf, -1, RW_H2_HEADERS, 0x28 | 4, 3, P("\2\200\0\0\1\20frag\0\0"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n, "headers pad+prio");
    CHECK(f.has_priority && f.priority.exclusive && f.priority.dependency == 1 &&
              f.priority.weight == 16 && f.pad_len == 2 && f.payload_len == 4 &&
              memcmp(f.payload, "frag", 4) == 0,
          "headers pad+prio fields");
    /* HEADERS padded, fragment empty, pad max */
    n = mk(buf, -1, RW_H2_HEADERS, 0x08, 3, P("\3xyz"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n && f.payload_len == 0 && !f.has_priority,
          "headers pad max");
    /* PUSH_PROMISE padded */
    n = mk(buf, -1, RW_H2_PUSH_PROMISE, 0x0c, 1, P("\1\200\0\0\2blk\0"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n && f.promised_stream_id == 2 &&
              f.payload_len == 3 && memcmp(f.payload, "blk", 3) == 0 && f.pad_len == 1,
          "push_promise padded fields");
    /* unknown frame type: payload is everything */
    n = mk(buf, -1, 0x42, 0x08, 9, P("\377raw"));
    CHECK(rw_h2_frame_decode(buf, n, MAXF, &f) == (int)n && f.payload_len == 4 &&
              f.payload == buf + 9 && !rw_h2_frame_type_known(f.hd.type),
          "unknown type raw payload");
}

/* ---- round trips --------------------------------------------------------- */

/* Decodes buf[0..n) expecting success, and checks every strict prefix is
 * incomplete and asks for the right total. */
static int decode_ok(const char *what, size_t n, uint32_t maxf, rw_h2_frame *f)
{
    for (size_t k = 0; k < n; k++) {
        rw_h2_frame g;
        int r = rw_h2_frame_decode(buf, k, maxf, &g);
        if (r != RW_H2_INCOMPLETE || g.frame_len != (k < 9 ? 9 : n)) {
            CHECK(0, "%s: prefix %zu gave %d need %u", what, k, r, g.frame_len);
            return 0;
        }
    }
    int rc = rw_h2_frame_decode(buf, n, maxf, f);
    CHECK(rc == (int)n, "%s: rc %d want %zu (%s)", what, rc, n,
          f->error_reason ? f->error_reason : "");
    return rc == (int)n;
}

static void test_roundtrip(void)
{
    rw_h2_frame f;
    size_t n;

    static const rw_h2_setting set[] = {
        { RW_H2_SETTINGS_HEADER_TABLE_SIZE, 0 },
        { RW_H2_SETTINGS_ENABLE_PUSH, 0 },
        { RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
        { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, RW_H2_MAX_WINDOW_SIZE },
        { RW_H2_SETTINGS_MAX_FRAME_SIZE, RW_H2_MAX_MAX_FRAME_SIZE },
        { RW_H2_SETTINGS_MAX_HEADER_LIST_SIZE, 0xffffffffu },
        { RW_H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1 },
        { RW_H2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
        { 0xabcd, 0x12345678 },
    };
    size_t nset = sizeof set / sizeof set[0];
    n = rw_h2_write_settings(buf, set, nset);
    CHECK(n == RW_H2_SETTINGS_FRAME_LEN(nset), "settings size");
    if (decode_ok("settings", n, MAXF, &f)) {
        CHECK(f.hd.type == RW_H2_SETTINGS && f.hd.flags == 0 && f.hd.stream_id == 0 &&
                  f.settings_count == nset,
              "settings header");
        size_t pos = 0, i = 0;
        rw_h2_setting s;
        while (rw_h2_settings_next(&f, &pos, &s)) {
            CHECK(i < nset && s.id == set[i].id && s.value == set[i].value, "setting %zu", i);
            i++;
        }
        CHECK(i == nset, "settings iterated %zu", i);
    }
    n = rw_h2_write_settings(buf, NULL, 0);
    if (decode_ok("settings empty", n, MAXF, &f)) {
        size_t pos = 0;
        rw_h2_setting s;
        CHECK(f.settings_count == 0 && !rw_h2_settings_next(&f, &pos, &s), "settings empty");
    }

    n = rw_h2_write_settings_ack(buf);
    if (decode_ok("settings ack", n, MAXF, &f))
        CHECK(f.hd.type == RW_H2_SETTINGS && f.hd.flags == RW_H2_FLAG_ACK && f.hd.length == 0,
              "settings ack");

    static const uint8_t opaque[8] = { 1, 2, 3, 4, 5, 6, 7, 0xff };
    for (int ack = 0; ack < 2; ack++) {
        n = rw_h2_write_ping(buf, ack, opaque);
        CHECK(n == RW_H2_PING_FRAME_LEN, "ping size");
        if (decode_ok("ping", n, MAXF, &f))
            CHECK(f.hd.type == RW_H2_PING && (f.hd.flags == (ack ? RW_H2_FLAG_ACK : 0)) &&
                      memcmp(f.ping, opaque, 8) == 0,
                  "ping fields");
    }

    n = rw_h2_write_goaway(buf, 0x7ffffffd, 0xdeadbeef, "bye", 3);
    CHECK(n == RW_H2_GOAWAY_FRAME_LEN(3), "goaway size");
    if (decode_ok("goaway", n, MAXF, &f))
        CHECK(f.hd.type == RW_H2_GOAWAY && f.goaway.last_stream_id == 0x7ffffffd &&
                  f.goaway.error == 0xdeadbeef && f.payload_len == 3 &&
                  memcmp(f.payload, "bye", 3) == 0,
              "goaway fields");
    n = rw_h2_write_goaway(buf, 0, RW_H2_NO_ERROR, NULL, 0);
    if (decode_ok("goaway no debug", n, MAXF, &f))
        CHECK(f.goaway.last_stream_id == 0 && f.goaway.error == 0 && f.payload_len == 0,
              "goaway no debug fields");
    {
        static uint8_t big[RW_H2_GOAWAY_MAX_DEBUG + 100];
        memset(big, 'd', sizeof big);
        n = rw_h2_write_goaway(buf, 1, 2, big, sizeof big);
        CHECK(n == RW_H2_GOAWAY_FRAME_LEN(RW_H2_GOAWAY_MAX_DEBUG), "goaway debug cut");
        if (decode_ok("goaway big", n, RW_H2_DEFAULT_MAX_FRAME_SIZE, &f))
            CHECK(f.payload_len == RW_H2_GOAWAY_MAX_DEBUG, "goaway big debug");
    }

    n = rw_h2_write_rst_stream(buf, 5, RW_H2_CANCEL);
    CHECK(n == RW_H2_RST_STREAM_FRAME_LEN, "rst size");
    if (decode_ok("rst", n, MAXF, &f))
        CHECK(f.hd.type == RW_H2_RST_STREAM && f.hd.stream_id == 5 && f.rst_error == RW_H2_CANCEL,
              "rst fields");

    n = rw_h2_write_window_update(buf, 0, RW_H2_MAX_WINDOW_SIZE);
    if (decode_ok("window conn", n, MAXF, &f))
        CHECK(f.hd.stream_id == 0 && f.window_increment == RW_H2_MAX_WINDOW_SIZE, "window conn");
    n = rw_h2_write_window_update(buf, 9, 1);
    CHECK(n == RW_H2_WINDOW_UPDATE_FRAME_LEN, "window size");
    if (decode_ok("window stream", n, MAXF, &f))
        CHECK(f.hd.type == RW_H2_WINDOW_UPDATE && f.hd.stream_id == 9 && f.window_increment == 1,
              "window stream");

    rw_h2_priority pr = { .dependency = 0x7fffffff, .weight = 255, .exclusive = true };
    n = rw_h2_write_priority(buf, 11, &pr);
    CHECK(n == RW_H2_PRIORITY_FRAME_LEN, "priority size");
    if (decode_ok("priority", n, MAXF, &f))
        CHECK(f.hd.type == RW_H2_PRIORITY && f.hd.stream_id == 11 && f.has_priority &&
                  f.priority.dependency == 0x7fffffff && f.priority.weight == 255 &&
                  f.priority.exclusive,
              "priority fields");

    n = rw_h2_write_data_header(buf, 13, 5, true);
    memcpy(buf + n, "hello", 5);
    if (decode_ok("data", n + 5, MAXF, &f))
        CHECK(f.hd.type == RW_H2_DATA && f.hd.stream_id == 13 &&
                  f.hd.flags == RW_H2_FLAG_END_STREAM && f.payload == buf + 9 &&
                  f.payload_len == 5 && f.pad_len == 0,
              "data fields");
    n = rw_h2_write_data_header(buf, 13, 0, false);
    if (decode_ok("data empty", n, MAXF, &f))
        CHECK(f.hd.flags == 0 && f.payload_len == 0, "data empty fields");

    rw_h2_priority hp = { .dependency = 1, .weight = 41, .exclusive = false };
    n = rw_h2_write_headers_header(buf, 15, 3, true, true, &hp);
    CHECK(n == RW_H2_HEADERS_HEADER_MAX_LEN, "headers+prio size");
    memcpy(buf + n, "\x82\x86\x84", 3);
    if (decode_ok("headers prio", n + 3, MAXF, &f))
        CHECK(f.hd.type == RW_H2_HEADERS && f.hd.stream_id == 15 &&
                  f.hd.flags == (RW_H2_FLAG_END_STREAM | RW_H2_FLAG_END_HEADERS |
                                 RW_H2_FLAG_PRIORITY) &&
                  f.has_priority && f.priority.dependency == 1 && f.priority.weight == 41 &&
                  !f.priority.exclusive && f.payload_len == 3 &&
                  memcmp(f.payload, "\x82\x86\x84", 3) == 0,
              "headers prio fields");
    n = rw_h2_write_headers_header(buf, 17, 2, false, false, NULL);
    CHECK(n == 9, "headers size");
    memcpy(buf + n, "\x82\x86", 2);
    if (decode_ok("headers", n + 2, MAXF, &f))
        CHECK(f.hd.flags == 0 && !f.has_priority && f.payload == buf + 9 && f.payload_len == 2,
              "headers fields");

    n = rw_h2_write_continuation_header(buf, 17, 2, true);
    memcpy(buf + n, "\x84\x87", 2);
    if (decode_ok("continuation", n + 2, MAXF, &f))
        CHECK(f.hd.type == RW_H2_CONTINUATION && f.hd.stream_id == 17 &&
                  f.hd.flags == RW_H2_FLAG_END_HEADERS && f.payload_len == 2 &&
                  memcmp(f.payload, "\x84\x87", 2) == 0,
              "continuation fields");

    n = rw_h2_write_push_promise_header(buf, 1, 0x7ffffffe, 1, true);
    CHECK(n == RW_H2_PUSH_PROMISE_HEADER_LEN, "push promise size");
    buf[n] = 0x82;
    if (decode_ok("push promise", n + 1, MAXF, &f))
        CHECK(f.hd.type == RW_H2_PUSH_PROMISE && f.hd.stream_id == 1 &&
                  f.hd.flags == RW_H2_FLAG_END_HEADERS && f.promised_stream_id == 0x7ffffffe &&
                  f.payload_len == 1 && f.payload[0] == 0x82,
              "push promise fields");

    /* The writer masks the R bit and stream ids to 31 bits. */
    n = rw_h2_write_frame_header(buf, 0x1234567, 0x77, 0xaa, 0xffffffffu);
    CHECK(n == 9 && buf[0] == 0x23 && buf[1] == 0x45 && buf[2] == 0x67 && buf[5] == 0x7f,
          "frame header truncation");
    rw_h2_frame_header h;
    rw_h2_frame_header_parse(buf, &h);
    CHECK(h.length == 0x234567 && h.type == 0x77 && h.flags == 0xaa && h.stream_id == 0x7fffffff,
          "frame header parse");
}

/* ---- a stream of frames fed one byte at a time ----------------------------- */

static void test_byte_stream(void)
{
    static uint8_t wire[512];
    size_t w = 0;
    static const uint8_t opaque[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
    static const rw_h2_setting set[] = { { RW_H2_SETTINGS_MAX_FRAME_SIZE, 20000 } };
    w += rw_h2_write_settings(wire + w, set, 1);
    w += rw_h2_write_settings_ack(wire + w);
    w += rw_h2_write_headers_header(wire + w, 1, 4, false, true, NULL);
    memcpy(wire + w, "blk!", 4);
    w += 4;
    w += rw_h2_write_data_header(wire + w, 1, 6, true);
    memcpy(wire + w, "body!!", 6);
    w += 6;
    w += mk(wire + w, -1, 0x33, 0, 0, P("ext")); /* unknown: skipped */
    w += rw_h2_write_ping(wire + w, false, opaque);
    w += rw_h2_write_window_update(wire + w, 0, 1000);
    w += rw_h2_write_goaway(wire + w, 1, RW_H2_NO_ERROR, NULL, 0);
    static const uint8_t want[] = { RW_H2_SETTINGS, RW_H2_SETTINGS, RW_H2_HEADERS, RW_H2_DATA,
                                    0x33,           RW_H2_PING,     RW_H2_WINDOW_UPDATE,
                                    RW_H2_GOAWAY };
    size_t nwant = sizeof want;

    /* The engine's loop: buffer bytes as they come, decode from the frame
     * start, drop the frame once consumed. Input arrives 1..4 bytes a time. */
    for (size_t step = 1; step <= 4; step++) {
        static uint8_t rx[512];
        size_t have = 0, in = 0, got = 0;
        bool bad = false;
        while (in < w || have > 0) {
            rw_h2_frame f;
            int rc = rw_h2_frame_decode(rx, have, MAXF, &f);
            if (rc == RW_H2_INCOMPLETE) {
                if (in >= w || f.frame_len <= have) {
                    bad = true;
                    break;
                }
                size_t take = w - in < step ? w - in : step;
                memcpy(rx + have, wire + in, take);
                have += take;
                in += take;
                continue;
            }
            if (rc <= 0 || got >= nwant || f.hd.type != want[got]) {
                bad = true;
                break;
            }
            if (f.hd.type == RW_H2_DATA)
                bad |= f.payload_len != 6 || memcmp(f.payload, "body!!", 6) != 0;
            if (f.hd.type == RW_H2_PING)
                bad |= memcmp(f.ping, opaque, 8) != 0;
            got++;
            memmove(rx, rx + rc, have - (size_t)rc);
            have -= (size_t)rc;
        }
        CHECK(!bad && got == nwant, "byte stream step %zu: %zu frames", step, got);
    }
}

/* ---- field block splitting ----------------------------------------------- */

static uint8_t block[40000];
static uint8_t out[60000];
static uint8_t back[40000];

/* Reads HEADERS/PUSH_PROMISE + CONTINUATION* from out[0..n) back into
 * `back`; checks frame sizes, flags and stream ids. Returns the block length
 * or -1. */
static long reassemble(size_t n, uint32_t max_frame, uint32_t stream, bool push, bool end_stream)
{
    size_t off = 0, blen = 0;
    bool first = true;
    for (;;) {
        rw_h2_frame f;
        int rc = rw_h2_frame_decode(out + off, n - off, max_frame, &f);
        if (rc <= 0 || f.hd.stream_id != stream)
            return -1;
        uint8_t want = first ? (push ? RW_H2_PUSH_PROMISE : RW_H2_HEADERS) : RW_H2_CONTINUATION;
        if (f.hd.type != want || f.hd.length > max_frame)
            return -1;
        bool es = (f.hd.flags & RW_H2_FLAG_END_STREAM) != 0;
        if (f.hd.type == RW_H2_HEADERS ? es != end_stream : (f.hd.flags & ~RW_H2_FLAG_END_HEADERS))
            return -1;
        if (push && first && f.promised_stream_id != 2)
            return -1;
        memcpy(back + blen, f.payload, f.payload_len);
        blen += f.payload_len;
        off += (size_t)rc;
        first = false;
        if (f.hd.flags & RW_H2_FLAG_END_HEADERS)
            return off == n ? (long)blen : -1;
        if (off >= n)
            return -1;
    }
}

static void test_header_block(void)
{
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (uint8_t)(i * 131 + 7);
    static const size_t lens[] = { 0, 1, 4, 5, 99, 100, 101, 16384, 16385, 40000 };
    static const uint32_t maxes[] = { 1, 5, 7, 100, 16384, 16777215, 0xffffffffu };
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
            size_t len = lens[li];
            uint32_t mf = maxes[mi];
            if (mf < 50 && len > 1000)
                continue; /* would need more than `out` holds */
            uint32_t dec_max = mf > RW_H2_MAX_MAX_FRAME_SIZE ? RW_H2_MAX_MAX_FRAME_SIZE : mf;
            for (int push = 0; push < 2; push++) {
                if (push && mf < 4)
                    continue;
                for (int es = 0; es < 2; es++) {
                    if (push && es)
                        continue;
                    size_t need = push ? rw_h2_push_promise_block_size(len, mf)
                                       : rw_h2_header_block_size(len, mf);
                    size_t n = push ? rw_h2_write_push_promise_block(out, sizeof out, 3, 2, block,
                                                                      len, mf)
                                    : rw_h2_write_header_block(out, sizeof out, 3, block, len, mf,
                                                               es);
                    CHECK(n == need && n > 0, "block len %zu max %u push %d: n %zu need %zu", len,
                          mf, push, n, need);
                    long got = reassemble(n, dec_max, 3, push, es);
                    CHECK(got == (long)len && memcmp(back, block, len) == 0,
                          "block len %zu max %u push %d es %d: got %ld", len, mf, push, es, got);
                    /* one byte too little room: nothing written */
                    size_t small = push ? rw_h2_write_push_promise_block(out, need - 1, 3, 2,
                                                                          block, len, mf)
                                        : rw_h2_write_header_block(out, need - 1, 3, block, len,
                                                                   mf, es);
                    CHECK(small == 0, "block len %zu max %u: cap-1 wrote %zu", len, mf, small);
                }
            }
        }
    }
    /* Expected frame counts. */
    CHECK(rw_h2_header_block_size(100, 100) == 109, "one frame");
    CHECK(rw_h2_header_block_size(101, 100) == 101 + 18, "two frames");
    CHECK(rw_h2_header_block_size(0, 16384) == 9, "empty block");
    CHECK(rw_h2_push_promise_block_size(96, 100) == 109, "pp one frame");
    CHECK(rw_h2_push_promise_block_size(97, 100) == 97 + 4 + 18, "pp two frames");
    CHECK(rw_h2_header_block_size(10, 0) == 0 && rw_h2_push_promise_block_size(10, 3) == 0,
          "bad max frame");
    CHECK(rw_h2_write_header_block(out, sizeof out, 1, block, 10, 0, false) == 0, "max 0");
    CHECK(rw_h2_write_push_promise_block(out, sizeof out, 1, 2, block, 10, 3) == 0, "pp max 3");
}

/* ---- names and constants ------------------------------------------------- */

static void test_names(void)
{
    CHECK(strlen(RW_H2_CLIENT_PREFACE) == RW_H2_CLIENT_PREFACE_LEN, "preface length");
    CHECK(memcmp(RW_H2_CLIENT_PREFACE, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) == 0, "preface");
    static const struct {
        uint32_t code;
        const char *name;
    } names[] = {
        { 0x0, "NO_ERROR" },          { 0x1, "PROTOCOL_ERROR" },    { 0x2, "INTERNAL_ERROR" },
        { 0x3, "FLOW_CONTROL_ERROR" }, { 0x4, "SETTINGS_TIMEOUT" }, { 0x5, "STREAM_CLOSED" },
        { 0x6, "FRAME_SIZE_ERROR" },  { 0x7, "REFUSED_STREAM" },    { 0x8, "CANCEL" },
        { 0x9, "COMPRESSION_ERROR" }, { 0xa, "CONNECT_ERROR" },     { 0xb, "ENHANCE_YOUR_CALM" },
        { 0xc, "INADEQUATE_SECURITY" }, { 0xd, "HTTP_1_1_REQUIRED" }, { 0xe, "UNKNOWN_ERROR" },
        { 0xffffffff, "UNKNOWN_ERROR" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(strcmp(rw_h2_error_name(names[i].code), names[i].name) == 0, "error name %#x",
              names[i].code);
    CHECK(strcmp(rw_h2_frame_type_name(RW_H2_WINDOW_UPDATE), "WINDOW_UPDATE") == 0 &&
              strcmp(rw_h2_frame_type_name(RW_H2_CONTINUATION), "CONTINUATION") == 0 &&
              strcmp(rw_h2_frame_type_name(10), "UNKNOWN") == 0,
          "frame type names");
    CHECK(rw_h2_setting_check(RW_H2_SETTINGS_MAX_FRAME_SIZE, 16384) == RW_H2_NO_ERROR &&
              rw_h2_setting_check(RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 0x80000000u) ==
                  RW_H2_FLOW_CONTROL_ERROR &&
              rw_h2_setting_check(0x7777, 0xffffffffu) == RW_H2_NO_ERROR,
          "setting check");
}

int main(void)
{
    test_error_table();
    test_padding_content();
    test_roundtrip();
    test_byte_stream();
    test_header_block();
    test_names();
    return check_summary("h2_frame");
}
