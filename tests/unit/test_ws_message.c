/* Message assembler: client frame streams (masked) run through the server
 * side in streaming and in reassembly mode, whole, byte by byte and in
 * every 2-piece split; the transcript of delivered messages and control
 * events, and the final verdict (close code), must match the expectation
 * in every run. Covers fragmentation, interleaved control frames, the
 * control and RSV rules, close codes and reasons, UTF-8 across fragments,
 * size limits and permessage-deflate. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws/ws_message.h"

typedef struct tr {
    char s[8192];
    size_t n;
    uint8_t msg[70000]; /* streaming: the message being gathered */
    size_t mn;
    bool in_msg;
    bool reassembly;
    int order_errors;
} tr;

static void tput(tr *t, const void *p, size_t n)
{
    if (t->n + n > sizeof(t->s))
        n = sizeof(t->s) - t->n;
    memcpy(t->s + t->n, p, n);
    t->n += n;
}

static int on_data(void *ud, unsigned op, const uint8_t *p, size_t n, bool first, bool fin)
{
    tr *t = ud;
    if (first == t->in_msg || (t->reassembly && !(first && fin)))
        t->order_errors++;
    if (first)
        t->mn = 0;
    t->in_msg = !fin;
    if (t->mn + n <= sizeof(t->msg)) {
        memcpy(t->msg + t->mn, p, n);
        t->mn += n;
    }
    if (fin) {
        tput(t, op == RW_WS_OP_TEXT ? "T:" : "B:", 2);
        if (t->mn <= 64) {
            tput(t, t->msg, t->mn);
        } else {
            char tmp[32];
            int k = snprintf(tmp, sizeof(tmp), "<%zu bytes>", t->mn);
            tput(t, tmp, (size_t)k);
        }
        tput(t, "|", 1);
    }
    return 0;
}

static int on_control(void *ud, unsigned op, const uint8_t *p, size_t n)
{
    tr *t = ud;
    tput(t, op == RW_WS_OP_PING ? "P:" : "O:", 2);
    tput(t, p, n);
    tput(t, "|", 1);
    return 0;
}

static int on_close(void *ud, uint16_t code, const uint8_t *reason, size_t n)
{
    tr *t = ud;
    char tmp[16];
    int k = snprintf(tmp, sizeof(tmp), "C%u:", code);
    tput(t, tmp, (size_t)k);
    tput(t, reason, n);
    tput(t, "|", 1);
    return 0;
}

typedef struct mcfg {
    uint64_t max_frame, max_message;
    bool deflate;
    size_t reassembly_cap; /* reassembly mode's buffer; 0 = 70000 */
} mcfg;

/* Runs the stream cut as described (piece > 0: fixed pieces; else a cut at
 * `cut`, 0 = whole). Verdict: 0 ok, -1 closed, else the close code. */
static int run(const mcfg *mc, bool reassembly, const uint8_t *in, size_t len, size_t piece,
               size_t cut, tr *t, size_t *consumed)
{
    static uint8_t rbuf[70000];
    memset(t, 0, sizeof(*t));
    t->reassembly = reassembly;
    rw_ws_deflate d;
    rw_ws_deflate_params prm = { false, false, 15, 15 };
    if (mc->deflate)
        rw_ws_deflate_init(&d, &prm, true, NULL);
    rw_ws_msg_cfg cfg = { .is_server = true,
                          .max_frame = mc->max_frame,
                          .max_message = mc->max_message,
                          .deflate = mc->deflate ? &d : NULL,
                          .reassembly_buf = reassembly ? rbuf : NULL,
                          .reassembly_cap = mc->reassembly_cap ? mc->reassembly_cap : sizeof(rbuf),
                          .cb = { on_data, on_control, on_close },
                          .ud = t };
    rw_ws_msg m;
    rw_ws_msg_init(&m, &cfg);
    int verdict = 0;
    size_t pos = 0;
    *consumed = 0;
    while (pos < len) {
        size_t n = len - pos;
        if (piece && n > piece)
            n = piece;
        if (!piece && cut && pos < cut)
            n = cut - pos;
        uint8_t *copy = malloc(n);
        memcpy(copy, in + pos, n);
        size_t used = 0;
        rw_ws_msg_result r = rw_ws_msg_feed(&m, copy, n, &used);
        free(copy);
        CHECK(used <= n, "used %zu > %zu", used, n);
        *consumed += used;
        if (r == RW_WS_MSG_CLOSED) {
            verdict = -1;
            break;
        }
        if (r != RW_WS_MSG_OK) {
            verdict = m.close_code;
            CHECK(m.error != NULL, "error without reason");
            break;
        }
        CHECK(used == n, "OK but %zu of %zu consumed", used, n);
        pos += n;
    }
    if (mc->deflate)
        rw_ws_deflate_free(&d);
    return verdict;
}

static void check_msg(const char *name, const mcfg *mc, const uint8_t *in, size_t len,
                      const char *want, int want_verdict)
{
    for (int mode = 0; mode < 2; mode++) {
        static tr t0, t;
        size_t used0, used;
        int v0 = run(mc, mode, in, len, 0, 0, &t0, &used0);
        CHECK(v0 == want_verdict, "[%s] %s: verdict %d, want %d (%.*s)", name,
              mode ? "reassembly" : "streaming", v0, want_verdict, (int)t0.n, t0.s);
        CHECK(t0.n == strlen(want) && memcmp(t0.s, want, t0.n) == 0,
              "[%s] %s: transcript\n  want %s\n  got  %.*s", name, mode ? "reassembly" : "streaming",
              want, (int)t0.n, t0.s);
        CHECK(t0.order_errors == 0, "[%s] first/fin flags out of order", name);
        int bad = 0;
        size_t step = len > 3000 ? 331 : 1;
        for (size_t cut = 1; cut <= len + 1; cut += step) {
            int v = cut <= len ? run(mc, mode, in, len, 0, cut, &t, &used)
                               : run(mc, mode, in, len, 1, 0, &t, &used);
            if (v != v0 || t.n != t0.n || memcmp(t.s, t0.s, t.n) != 0 || t.order_errors ||
                (v0 == -1 && used != used0)) {
                if (bad++ < 3)
                    CHECK(0, "[%s] %s cut %zu: verdict %d vs %d, got %.*s", name,
                          mode ? "reassembly" : "streaming", cut, v, v0, (int)t.n, t.s);
            }
        }
        CHECK(bad == 0, "[%s] %d split runs differ", name, bad);
    }
}

/* ---- building client streams -------------------------------------------- */

typedef struct stream {
    uint8_t p[200000];
    size_t n;
} stream;

static const uint8_t k_key[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };

static void frame(stream *s, bool fin, uint8_t rsv, uint8_t op, const void *payload, size_t len)
{
    s->n += rw_ws_frame_build(s->p + s->n, sizeof(s->p) - s->n, fin, rsv, op, payload, len, k_key);
}

static void frame_str(stream *s, bool fin, uint8_t op, const char *str)
{
    frame(s, fin, 0, op, str, strlen(str));
}

static void close_frame(stream *s, uint16_t code, const char *reason, size_t rlen)
{
    uint8_t pl[RW_WS_MAX_CONTROL_PAYLOAD];
    size_t n = rw_ws_close_payload(pl, code, reason, rlen);
    frame(s, true, 0, RW_WS_OP_CLOSE, pl, n);
}

static const mcfg k_plain = { 0, 0, false, 0 };

static void test_basic(void)
{
    static stream s;
    s.n = 0;
    frame_str(&s, true, RW_WS_OP_TEXT, "Hello");
    check_msg("single text", &k_plain, s.p, s.n, "T:Hello|", 0);

    s.n = 0;
    frame_str(&s, false, RW_WS_OP_TEXT, "Hel");
    frame_str(&s, true, RW_WS_OP_PING, "p1");
    frame_str(&s, false, RW_WS_OP_CONT, "lo ");
    frame_str(&s, true, RW_WS_OP_PONG, "");
    frame_str(&s, true, RW_WS_OP_CONT, "world");
    frame_str(&s, true, RW_WS_OP_BINARY, "bin");
    check_msg("fragmented + interleaved control", &k_plain, s.p, s.n, "P:p1|O:|T:Hello world|B:bin|", 0);

    s.n = 0;
    frame_str(&s, true, RW_WS_OP_TEXT, "");
    frame_str(&s, false, RW_WS_OP_BINARY, "");
    frame_str(&s, false, RW_WS_OP_CONT, "");
    frame_str(&s, true, RW_WS_OP_CONT, "");
    frame_str(&s, false, RW_WS_OP_BINARY, "ab");
    frame_str(&s, true, RW_WS_OP_CONT, "");
    check_msg("empty messages and fragments", &k_plain, s.p, s.n, "T:|B:|B:ab|", 0);

    s.n = 0;
    frame_str(&s, true, RW_WS_OP_TEXT, "a");
    close_frame(&s, 1000, "bye", 3);
    size_t close_end = s.n;
    frame_str(&s, true, RW_WS_OP_TEXT, "after close");
    check_msg("close stops reading", &k_plain, s.p, s.n, "T:a|C1000:bye|", -1);
    static tr t;
    size_t used;
    run(&k_plain, false, s.p, s.n, 0, 0, &t, &used);
    CHECK(used == close_end, "consumed through the close frame: %zu, want %zu", used, close_end);

    s.n = 0;
    frame_str(&s, true, RW_WS_OP_CLOSE, "");
    check_msg("empty close → 1005", &k_plain, s.p, s.n, "C1005:|", -1);
}

static void test_protocol_errors(void)
{
    static stream s;
    s.n = 0;
    frame_str(&s, true, RW_WS_OP_CONT, "x");
    check_msg("continuation first", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame_str(&s, false, RW_WS_OP_TEXT, "a");
    frame_str(&s, true, RW_WS_OP_TEXT, "b");
    check_msg("text inside fragmented text", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame_str(&s, true, RW_WS_OP_TEXT, "ok");
    frame_str(&s, true, RW_WS_OP_CONT, "x");
    check_msg("continuation after a complete message", &k_plain, s.p, s.n, "T:ok|", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_TEXT, "x", 1);
    check_msg("RSV1 without deflate", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    s.n += rw_ws_frame_build(s.p, sizeof(s.p), true, 0, RW_WS_OP_TEXT, (const uint8_t *)"x", 1, NULL);
    check_msg("unmasked client frame", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame(&s, true, 0, 0x3, "x", 1);
    check_msg("reserved opcode 3", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);
    s.n = 0;
    frame(&s, true, 0, 0xb, "x", 1);
    check_msg("reserved opcode B", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame_str(&s, false, RW_WS_OP_PING, "x");
    check_msg("fragmented ping", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    uint8_t big[126];
    memset(big, 'p', sizeof(big));
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_PING, big, 126);
    check_msg("ping 126", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_PING, big, 125);
    char want[130] = "P:";
    memset(want + 2, 'p', 125);
    strcpy(want + 127, "|");
    check_msg("ping 125", &k_plain, s.p, s.n, want, 0);
}

static void test_close_codes(void)
{
    static stream s;
    for (unsigned code = 0; code < 5100; code++) {
        bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                     (code >= 3000 && code <= 4999);
        CHECK(rw_ws_close_code_valid(code) == valid, "code %u validity", code);
    }
    static const unsigned codes[] = { 0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007,
                                      1011, 1012, 1015, 1016, 2000, 2999, 3000, 4999, 5000, 65535 };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        s.n = 0;
        uint8_t pl[2] = { (uint8_t)(codes[i] >> 8), (uint8_t)codes[i] };
        frame(&s, true, 0, RW_WS_OP_CLOSE, pl, 2);
        bool valid = rw_ws_close_code_valid(codes[i]);
        char want[32], name[32];
        want[0] = 0;
        if (valid)
            snprintf(want, sizeof(want), "C%u:|", codes[i]);
        snprintf(name, sizeof(name), "close code %u", codes[i]);
        check_msg(name, &k_plain, s.p, s.n, want, valid ? -1 : RW_WS_CLOSE_PROTOCOL);
    }
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_CLOSE, "\x03", 1);
    check_msg("close 1-byte payload", &k_plain, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);
    s.n = 0;
    close_frame(&s, 1000, "\xce\xba\xe1\xbd\xb9", 5);
    check_msg("close UTF-8 reason", &k_plain, s.p, s.n, "C1000:\xce\xba\xe1\xbd\xb9|", -1);
    s.n = 0;
    close_frame(&s, 1000, "\xed\xa0\x80", 3);
    check_msg("close reason surrogate", &k_plain, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);
    s.n = 0;
    close_frame(&s, 1000, "ok\xce", 3);
    check_msg("close reason truncated", &k_plain, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);
    /* close in the middle of a fragmented message is legal */
    s.n = 0;
    frame_str(&s, false, RW_WS_OP_TEXT, "half");
    close_frame(&s, 1001, "", 0);
    check_msg("close inside fragmented message", &k_plain, s.p, s.n, "C1001:|", -1);
}

static void test_utf8(void)
{
    static stream s;
    s.n = 0;
    /* € split across three fragments, with a ping in between */
    frame(&s, false, 0, RW_WS_OP_TEXT, "a\xe2", 2);
    frame_str(&s, true, RW_WS_OP_PING, "");
    frame(&s, false, 0, RW_WS_OP_CONT, "\x82", 1);
    frame(&s, true, 0, RW_WS_OP_CONT, "\xac!", 2);
    check_msg("UTF-8 across fragments", &k_plain, s.p, s.n, "P:|T:a\xe2\x82\xac!|", 0);

    s.n = 0;
    frame(&s, false, 0, RW_WS_OP_TEXT, "ok\xe2\x82", 4);
    frame(&s, true, 0, RW_WS_OP_CONT, "", 0);
    check_msg("text ends mid-sequence", &k_plain, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);

    s.n = 0;
    frame(&s, false, 0, RW_WS_OP_TEXT, "ok\xe2", 3);
    frame(&s, true, 0, RW_WS_OP_CONT, "z", 1);
    check_msg("cut sequence never completes", &k_plain, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);

    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_TEXT, "\xc0\xaf", 2);
    check_msg("overlong in text", &k_plain, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);

    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_BINARY, "\xc0\xaf", 2);
    check_msg("binary is not validated", &k_plain, s.p, s.n, "B:\xc0\xaf|", 0);
}

static void test_limits(void)
{
    static stream s;
    static uint8_t data[70000];
    memset(data, 'x', sizeof(data));
    mcfg lim = { 1000, 2500, false, 0 };
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_BINARY, data, 1000);
    check_msg("frame at max_frame", &lim, s.p, s.n, "B:<1000 bytes>|", 0);
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_BINARY, data, 1001);
    check_msg("frame over max_frame", &lim, s.p, s.n, "", RW_WS_CLOSE_TOO_BIG);
    s.n = 0;
    frame(&s, false, 0, RW_WS_OP_TEXT, data, 1000);
    frame(&s, false, 0, RW_WS_OP_CONT, data, 1000);
    frame(&s, true, 0, RW_WS_OP_CONT, data, 500);
    check_msg("message at max_message", &lim, s.p, s.n, "T:<2500 bytes>|", 0);
    s.n = 0;
    frame(&s, false, 0, RW_WS_OP_TEXT, data, 1000);
    frame(&s, false, 0, RW_WS_OP_CONT, data, 1000);
    frame(&s, true, 0, RW_WS_OP_CONT, data, 501);
    check_msg("message over max_message", &lim, s.p, s.n, "", RW_WS_CLOSE_TOO_BIG);
    /* reassembly buffer smaller than max_message caps the message */
    mcfg small_buf = { 0, 0, false, 100 };
    s.n = 0;
    frame(&s, true, 0, RW_WS_OP_BINARY, data, 101);
    static tr t;
    size_t used;
    CHECK(run(&small_buf, true, s.p, s.n, 0, 0, &t, &used) == RW_WS_CLOSE_TOO_BIG,
          "reassembly buffer of 100 refuses 101 bytes");
    CHECK(run(&small_buf, false, s.p, s.n, 0, 0, &t, &used) == 0, "streaming does not care");
    /* 64 KiB message streamed, and reassembled */
    s.n = 0;
    for (size_t i = 0; i < 65536; i++)
        data[i] = (uint8_t)('a' + i % 26);
    frame(&s, false, 0, RW_WS_OP_TEXT, data, 40000);
    frame(&s, true, 0, RW_WS_OP_CONT, data + 40000, 25536);
    check_msg("64 KiB text", &k_plain, s.p, s.n, "T:<65536 bytes>|", 0);
    run(&k_plain, true, s.p, s.n, 0, 0, &t, &used);
    CHECK(t.mn == 65536 && memcmp(t.msg, data, 65536) == 0, "64 KiB reassembled intact");
}

static void test_deflate(void)
{
    static stream s;
    mcfg dfl = { 0, 0, true, 0 };
    rw_ws_deflate cli;
    rw_ws_deflate_params prm = { false, false, 15, 15 };
    rw_ws_deflate_opts o = { -1, 0, 0 };
    rw_ws_deflate_init(&cli, &prm, false, &o);
    uint8_t comp[4096];
    size_t cn;
    const char *msg = "Hello Hello Hello Hello compressed world";
    rw_ws_deflate_message(&cli, (const uint8_t *)msg, strlen(msg), comp, sizeof(comp), &cn);
    s.n = 0;
    frame(&s, false, RW_WS_RSV1, RW_WS_OP_TEXT, comp, cn / 2);
    frame_str(&s, true, RW_WS_OP_PING, "mid");
    frame(&s, true, 0, RW_WS_OP_CONT, comp + cn / 2, cn - cn / 2);
    frame_str(&s, true, RW_WS_OP_TEXT, "plain");
    size_t cn2;
    uint8_t comp2[64];
    rw_ws_deflate_message(&cli, (const uint8_t *)msg, strlen(msg), comp2, sizeof(comp2), &cn2);
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_BINARY, comp2, cn2); /* uses the shared window */
    char want[256];
    snprintf(want, sizeof(want), "P:mid|T:%s|T:plain|B:%s|", msg, msg);
    check_msg("compressed messages", &dfl, s.p, s.n, want, 0);
    CHECK(cn2 < cn / 2, "second message used the context (%zu vs %zu)", cn2, cn);

    s.n = 0;
    frame(&s, false, RW_WS_RSV1, RW_WS_OP_TEXT, comp, cn / 2);
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_CONT, comp + cn / 2, cn - cn / 2);
    check_msg("RSV1 on a continuation", &dfl, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_PING, "x", 1);
    check_msg("RSV1 on a ping", &dfl, s.p, s.n, "", RW_WS_CLOSE_PROTOCOL);

    s.n = 0;
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_TEXT, "\xff\xff", 2);
    check_msg("corrupt compressed data", &dfl, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);

    /* compressed invalid UTF-8 */
    rw_ws_deflate c2;
    rw_ws_deflate_init(&c2, &prm, false, &o);
    rw_ws_deflate_message(&c2, (const uint8_t *)"ok\xed\xa0\x80", 5, comp, sizeof(comp), &cn);
    s.n = 0;
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_TEXT, comp, cn);
    check_msg("compressed invalid UTF-8", &dfl, s.p, s.n, "", RW_WS_CLOSE_INVALID_DATA);

    /* a bomb: 1 MiB of zeros against a 64 KiB message limit */
    size_t bn = 1u << 20;
    uint8_t *zeros = calloc(1, bn);
    uint8_t *bomb = malloc(rw_ws_deflate_bound(bn));
    rw_ws_deflate_message(&c2, zeros, bn, bomb, rw_ws_deflate_bound(bn), &cn);
    s.n = 0;
    frame(&s, true, RW_WS_RSV1, RW_WS_OP_BINARY, bomb, cn);
    mcfg dlim = { 0, 65536, true, 0 };
    static tr t;
    size_t used;
    CHECK(run(&dlim, false, s.p, s.n, 0, 0, &t, &used) == RW_WS_CLOSE_TOO_BIG, "bomb → 1009 (streaming)");
    CHECK(t.mn <= 65536, "streamed at most the limit (%zu)", t.mn);
    CHECK(run(&dlim, true, s.p, s.n, 0, 0, &t, &used) == RW_WS_CLOSE_TOO_BIG, "bomb → 1009 (reassembly)");
    free(zeros);
    free(bomb);
    rw_ws_deflate_free(&cli);
    rw_ws_deflate_free(&c2);
}

int main(void)
{
    test_basic();
    test_protocol_errors();
    test_close_codes();
    test_utf8();
    test_limits();
    test_deflate();
    return check_summary("test_ws_message");
}
