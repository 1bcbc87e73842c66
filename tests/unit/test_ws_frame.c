/* Frame codec: the RFC 6455 §5.7 examples, every length-encoding boundary,
 * the header rules (each → its close code), serializer round trips, and
 * every frame stream parsed whole, byte by byte and in every 2-piece split
 * with identical transcripts. Pieces are exact-size heap copies so ASan
 * sees any read past them. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws/ws_frame.h"

/* ---- transcript --------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void bput(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void bprintf(buf *b, const char *fmt, unsigned long long a, unsigned long long c,
                    unsigned long long d, unsigned long long e, unsigned long long f)
{
    char tmp[128];
    int n = snprintf(tmp, sizeof(tmp), fmt, a, c, d, e, f);
    bput(b, tmp, (size_t)n);
}

typedef struct pcfg {
    bool server;
    uint64_t max_frame;
    uint8_t rsv;
} pcfg;

/* Parses in pieces of `piece` bytes (0 = whole; SIZE_MAX-1 trick not used)
 * or split once at `cut` when piece == 0 && cut != 0. Returns the
 * transcript; *err gets the close code of an error or 0. */
static buf run(const pcfg *cfg, const uint8_t *in, size_t len, size_t piece, size_t cut, int *err)
{
    rw_ws_frame_parser p;
    rw_ws_frame_parser_init(&p, cfg->server, cfg->max_frame, cfg->rsv);
    buf t = { 0 };
    *err = 0;
    size_t start = 0;
    while (start < len || start == 0) {
        size_t n = len - start;
        if (piece && n > piece)
            n = piece;
        if (!piece && cut && start < cut)
            n = cut - start;
        uint8_t *copy = malloc(n ? n : 1);
        if (n)
            memcpy(copy, in + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0;
            rw_ws_chunk c;
            rw_ws_frame_result r = rw_ws_frame_parse(&p, copy + off, n - off, &used, &c);
            CHECK(used <= n - off, "used %zu > left %zu", used, n - off);
            if (r == RW_WS_FRAME_DATA) {
                CHECK(c.n > 0 && c.p >= copy + off && c.p + c.n <= copy + n, "data view outside input");
                uint8_t *tmp = malloc(c.n);
                rw_ws_frame_unmask_to(&p, &c, tmp);
                bput(&t, tmp, c.n);
                free(tmp);
            } else if (r == RW_WS_FRAME_HEADER) {
                bprintf(&t, "[H fin%llu rsv%llx op%llx m%llu len%llu]", p.hdr.fin, p.hdr.rsv,
                        p.hdr.opcode, p.hdr.masked, p.hdr.len);
            } else if (r == RW_WS_FRAME_END) {
                bput(&t, "[E]", 3);
            } else if (r == RW_WS_FRAME_ERROR) {
                *err = p.close_code;
                CHECK(p.error != NULL, "error without a reason");
                free(copy);
                return t;
            }
            off += used;
            if (r == RW_WS_FRAME_NEED_MORE) {
                CHECK(off == n, "NEED_MORE with %zu bytes left", n - off);
                break;
            }
        }
        free(copy);
        start += n;
        if (len == 0)
            break;
    }
    return t;
}

/* Checks the stream gives `want` (transcript, or close code) whole, byte by
 * byte and in every 2-split. */
static void check_stream(const char *name, const pcfg *cfg, const uint8_t *in, size_t len,
                         const char *want, size_t want_len, int want_err)
{
    int err;
    buf whole = run(cfg, in, len, 0, 0, &err);
    CHECK(err == want_err, "[%s] whole: expected close %d, got %d", name, want_err, err);
    if (want)
        CHECK(whole.n == want_len && (!want_len || memcmp(whole.p, want, want_len) == 0),
              "[%s] transcript: expected\n  %.*s\ngot\n  %.*s", name, (int)(want_len > 300 ? 300 : want_len), want,
              (int)(whole.n > 300 ? 300 : whole.n), (const char *)whole.p);
    int bad = 0;
    size_t step = len > 5000 ? 997 : 1; /* big frames: a sample of the split points */
    for (size_t cut = 0; cut <= len + 1; cut += step) {
        int e2;
        buf t = cut <= len ? run(cfg, in, len, 0, cut, &e2) : run(cfg, in, len, 1, 0, &e2);
        if (e2 != want_err || t.n != whole.n || (t.n && memcmp(t.p, whole.p, t.n) != 0)) {
            if (bad++ < 3)
                CHECK(0, "[%s] %s %zu: close %d (want %d), transcript differs", name,
                      cut <= len ? "split at" : "byte by byte", cut, e2, want_err);
        }
        free(t.p);
    }
    CHECK(bad == 0, "[%s] %d split runs differ", name, bad);
    free(whole.p);
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1
#define T(lit) (lit), sizeof(lit) - 1

static const pcfg k_server = { true, 0, 0 }, k_client = { false, 0, 0 };

static void test_rfc_examples(void)
{
    check_stream("unmasked text", &k_client, S("\x81\x05\x48\x65\x6c\x6c\x6f"),
                 T("[H fin1 rsv0 op1 m0 len5]Hello[E]"), 0);
    check_stream("masked text", &k_server, S("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
                 T("[H fin1 rsv0 op1 m1 len5]Hello[E]"), 0);
    check_stream("fragmented", &k_client, S("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"),
                 T("[H fin0 rsv0 op1 m0 len3]Hel[E][H fin1 rsv0 op0 m0 len2]lo[E]"), 0);
    check_stream("unmasked ping", &k_client, S("\x89\x05Hello"), T("[H fin1 rsv0 op9 m0 len5]Hello[E]"), 0);
    check_stream("masked pong", &k_server, S("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
                 T("[H fin1 rsv0 opa m1 len5]Hello[E]"), 0);
    check_stream("empty close", &k_client, S("\x88\x00"), T("[H fin1 rsv0 op8 m0 len0][E]"), 0);

    /* 256 bytes and 64 KiB binary, unmasked, exactly as in §5.7 */
    size_t sizes[2] = { 256, 65536 };
    for (int k = 0; k < 2; k++) {
        size_t n = sizes[k];
        uint8_t *f = malloc(n + 10);
        size_t hl;
        if (n == 256) {
            memcpy(f, "\x82\x7e\x01\x00", 4);
            hl = 4;
        } else {
            memcpy(f, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
            hl = 10;
        }
        for (size_t i = 0; i < n; i++)
            f[hl + i] = (uint8_t)(i * 7);
        char *want = malloc(n + 64);
        int wl = sprintf(want, "[H fin1 rsv0 op2 m0 len%zu]", n);
        memcpy(want + wl, f + hl, n);
        memcpy(want + wl + n, "[E]", 3);
        check_stream(n == 256 ? "256-byte binary" : "64 KiB binary", &k_client, f, hl + n, want,
                     (size_t)wl + n + 3, 0);
        /* the serializer writes the same header */
        uint8_t h[RW_WS_MAX_HEADER_LEN];
        size_t got = rw_ws_frame_write_header(h, true, 0, RW_WS_OP_BINARY, n, NULL);
        CHECK(got == hl && memcmp(h, f, hl) == 0, "serialized %zu-byte header", n);
        free(f);
        free(want);
    }
}

static void test_length_boundaries(void)
{
    static const uint64_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 70000 };
    static const size_t hlens[] = { 2, 2, 2, 4, 4, 4, 10, 10 };
    const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (int masked = 0; masked < 2; masked++) {
            size_t n = (size_t)lens[k];
            uint8_t *payload = malloc(n + 1), *frame = malloc(n + RW_WS_MAX_HEADER_LEN);
            for (size_t i = 0; i < n; i++)
                payload[i] = (uint8_t)(i ^ (i >> 8));
            size_t fl = rw_ws_frame_build(frame, n + RW_WS_MAX_HEADER_LEN, true, 0, RW_WS_OP_BINARY,
                                          payload, n, masked ? key : NULL);
            size_t hl = hlens[k] + (masked ? 4 : 0);
            CHECK(fl == hl + n, "len %zu masked %d: frame size %zu, want %zu", n, masked, fl, hl + n);
            CHECK_EQ_INT(rw_ws_frame_header_len(n, masked), hl, "header_len");
            uint8_t *scratch = malloc(n + RW_WS_MAX_HEADER_LEN);
            CHECK(rw_ws_frame_build(scratch, fl - 1, true, 0, 2, payload, n, masked ? key : NULL) == 0,
                  "build refuses a buffer one byte short");
            free(scratch);
            char *want = malloc(n + 64);
            int wl = sprintf(want, "[H fin1 rsv0 op2 m%d len%zu]", masked, n);
            memcpy(want + wl, payload, n);
            memcpy(want + wl + n, "[E]", 3);
            char name[64];
            snprintf(name, sizeof(name), "length %zu masked %d", n, masked);
            check_stream(name, masked ? &k_server : &k_client, frame, fl, want, (size_t)wl + n + 3, 0);
            free(payload);
            free(frame);
            free(want);
        }
    }
}

static void test_header_errors(void)
{
    /* non-minimal encodings are rejected (RFC 6455 §5.2 MUST) */
    check_stream("16-bit length 125", &k_client, S("\x82\x7e\x00\x7d"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("16-bit length 0", &k_client, S("\x82\x7e\x00\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("64-bit length 65535", &k_client, S("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff"),
                 NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("64-bit length 5", &k_client, S("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05"), NULL,
                 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("64-bit MSB set", &k_client, S("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"), NULL,
                 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("64-bit all ones", &k_client, S("\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff"), NULL,
                 0, RW_WS_CLOSE_PROTOCOL);
    /* 2^63-1 is a legal length but far above max_frame */
    check_stream("2^63-1 > max_frame", &k_client, S("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"),
                 NULL, 0, RW_WS_CLOSE_TOO_BIG);
    pcfg small = { true, 100, 0 };
    check_stream("max_frame 100, len 101", &small,
                 S("\x82\xe5\x00\x00\x00\x00"), NULL, 0, RW_WS_CLOSE_TOO_BIG);
    check_stream("max_frame 100, len 100", &small,
                 S("\x82\xe4\x00\x00\x00\x00"), NULL, 0, 0); /* header only: payload pending */

    for (unsigned op = 0; op < 16; op++) {
        bool reserved = (op >= 3 && op <= 7) || op >= 0xb;
        uint8_t f[2] = { (uint8_t)(0x80 | op), 0x00 };
        char name[32];
        snprintf(name, sizeof(name), "opcode %x", op);
        check_stream(name, &k_client, f, 2, NULL, 0, reserved ? RW_WS_CLOSE_PROTOCOL : 0);
    }
    check_stream("ping 126", &k_client, S("\x89\x7e\x00\x7e"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("close 126 (64-bit)", &k_client, S("\x88\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
                 NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("ping 125 ok", &k_client, S("\x89\x7d"), NULL, 0, 0);
    check_stream("fragmented ping", &k_client, S("\x09\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("unmasked client frame", &k_server, S("\x81\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("masked server frame", &k_client, S("\x81\x80\x01\x02\x03\x04"), NULL, 0,
                 RW_WS_CLOSE_PROTOCOL);
    check_stream("RSV1 not allowed", &k_client, S("\xc1\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("RSV2", &k_client, S("\xa1\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    check_stream("RSV3", &k_client, S("\x91\x00"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    pcfg rsv1 = { false, 0, RW_WS_RSV1 };
    check_stream("RSV1 allowed", &rsv1, S("\xc1\x01x"), T("[H fin1 rsv40 op1 m0 len1]x[E]"), 0);
    check_stream("RSV2 still refused", &rsv1, S("\xe1\x01x"), NULL, 0, RW_WS_CLOSE_PROTOCOL);
    /* a valid frame, then an invalid one: the first is reported, then the error */
    check_stream("ok then reserved", &k_client, S("\x81\x01x\x83\x00"),
                 T("[H fin1 rsv0 op1 m0 len1]x[E]"), RW_WS_CLOSE_PROTOCOL);
}

static void test_error_sticky(void)
{
    rw_ws_frame_parser p;
    rw_ws_frame_parser_init(&p, true, 0, 0);
    size_t used;
    rw_ws_chunk c;
    CHECK(rw_ws_frame_parse(&p, (const uint8_t *)"\x81\x00", 2, &used, &c) == RW_WS_FRAME_ERROR,
          "unmasked → error");
    CHECK(rw_ws_frame_parse(&p, (const uint8_t *)"\x81\x80\0\0\0\0", 6, &used, &c) == RW_WS_FRAME_ERROR &&
              used == 0,
          "error is sticky and consumes nothing");
}

static void test_serializer(void)
{
    uint8_t h[RW_WS_MAX_HEADER_LEN];
    size_t n = rw_ws_frame_write_header(h, false, RW_WS_RSV1, RW_WS_OP_TEXT, 3, NULL);
    CHECK(n == 2 && h[0] == 0x41 && h[1] == 0x03, "non-FIN RSV1 text header %02x %02x", h[0], h[1]);
    const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    uint8_t f[32];
    n = rw_ws_frame_build(f, sizeof(f), true, 0, RW_WS_OP_TEXT, (const uint8_t *)"Hello", 5, key);
    CHECK(n == 11 && memcmp(f, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11) == 0,
          "masked Hello matches RFC 6455 §5.7");
    n = rw_ws_frame_write_header(h, true, 0, RW_WS_OP_BINARY, 65535, NULL);
    CHECK(n == 4 && h[1] == 126 && h[2] == 0xff && h[3] == 0xff, "65535 uses 16 bits");
    n = rw_ws_frame_write_header(h, true, 0, RW_WS_OP_BINARY, 65536, key);
    CHECK(n == 14 && h[1] == (0x80 | 127) && h[7] == 1 && h[8] == 0 && memcmp(h + 10, key, 4) == 0,
          "65536 uses 64 bits + key");
}

int main(void)
{
    test_rfc_examples();
    test_length_boundaries();
    test_header_errors();
    test_error_sticky();
    test_serializer();
    return check_summary("test_ws_frame");
}
