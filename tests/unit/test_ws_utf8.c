/* UTF-8 validator: a table of valid and invalid sequences, each fed whole,
 * byte by byte and in every 2-piece split; sequences cut at a fragment
 * boundary that complete later vs never; and random input against a
 * straightforward code-point decoder. `test_ws_utf8 bench` prints rough
 * throughput instead. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/utf8_ref.h"
#include "check.h"
#include "ws/ws_utf8.h"

typedef struct ucase {
    const char *name;
    const char *s;
    int len; /* 0: strlen */
    bool valid;
} ucase;

static const ucase k_cases[] = {
    { "empty", "", 0, true },
    { "ascii", "Hello, world", 0, true },
    { "long ascii", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXY", 0, true },
    { "NUL", "a\0b", 3, true },
    { "2-byte", "\xc2\x80 \xdf\xbf", 0, true },
    { "3-byte", "\xe0\xa0\x80\xef\xbf\xbf", 0, true },
    { "U+D7FF", "\xed\x9f\xbf", 0, true },
    { "U+E000", "\xee\x80\x80", 0, true },
    { "U+FFFE noncharacter ok", "\xef\xbf\xbe", 0, true },
    { "4-byte min", "\xf0\x90\x80\x80", 0, true },
    { "U+10FFFF", "\xf4\x8f\xbf\xbf", 0, true },
    { "kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 0, true },
    { "mixed after 64 ascii", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\xce\xba", 0, true },
    { "overlong 2 C0", "\xc0\x80", 0, false },
    { "overlong 2 C1", "\xc1\xbf", 0, false },
    { "overlong 3", "\xe0\x80\xaf", 0, false },
    { "overlong 3 max", "\xe0\x9f\xbf", 0, false },
    { "overlong 4", "\xf0\x80\x80\xaf", 0, false },
    { "overlong 4 max", "\xf0\x8f\xbf\xbf", 0, false },
    { "surrogate D800", "\xed\xa0\x80", 0, false },
    { "surrogate DFFF", "\xed\xbf\xbf", 0, false },
    { "surrogate pair", "\xed\xa0\x80\xed\xb0\x80", 0, false },
    { "U+110000", "\xf4\x90\x80\x80", 0, false },
    { "F5 lead", "\xf5\x80\x80\x80", 0, false },
    { "FF", "\xff", 0, false },
    { "FE", "\xfe", 0, false },
    { "5-byte form", "\xf8\x88\x80\x80\x80", 0, false },
    { "6-byte form", "\xfc\x84\x80\x80\x80\x80", 0, false },
    { "lone continuation", "a\x80z", 0, false },
    { "lone continuation BF", "\xbf", 0, false },
    { "2 continuation after ok", "\xc2\x80\x80", 0, false },
    { "truncated 2 at end", "ab\xc2", 0, false },
    { "truncated 3 at end", "\xe2\x82", 0, false },
    { "truncated 4 at end", "\xf0\x9f\x98", 0, false },
    { "truncated then ascii", "\xe2\x82z", 0, false },
    { "lead then lead", "\xc2\xc2\x80", 0, false },
    { "invalid after 64 ascii", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\x80", 0, false },
    { "autobahn 6.3.1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 0, false },
};

/* valid and complete when fed in pieces of the given cut points */
static bool feed_split(const uint8_t *p, size_t n, size_t cut)
{
    rw_utf8 u;
    rw_utf8_init(&u);
    bool ok = rw_utf8_feed(&u, p, cut);
    ok = rw_utf8_feed(&u, p + cut, n - cut) && ok;
    return ok && rw_utf8_complete(&u);
}

static bool feed_bytes(const uint8_t *p, size_t n)
{
    rw_utf8 u;
    rw_utf8_init(&u);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i]; /* exact-size piece */
        if (!rw_utf8_feed(&u, &b, 1))
            return false;
    }
    return rw_utf8_complete(&u);
}

static void test_table(void)
{
    for (size_t k = 0; k < sizeof(k_cases) / sizeof(k_cases[0]); k++) {
        const ucase *c = &k_cases[k];
        size_t n = c->len ? (size_t)c->len : strlen(c->s);
        uint8_t *p = malloc(n + 1);
        memcpy(p, c->s, n);
        bool got = rw_utf8_valid(p, n);
        CHECK(got == c->valid, "[%s] whole: expected %d, got %d", c->name, c->valid, got);
        got = feed_bytes(p, n);
        CHECK(got == c->valid, "[%s] byte by byte: expected %d, got %d", c->name, c->valid, got);
        for (size_t cut = 0; cut <= n; cut++) {
            got = feed_split(p, n, cut);
            CHECK(got == c->valid, "[%s] split at %zu: expected %d, got %d", c->name, cut, c->valid,
                  got);
        }
        free(p);
    }
}

static void test_fragment_boundaries(void)
{
    /* "€" = E2 82 AC cut after each byte: completes in the next fragment */
    const uint8_t euro[] = { 0xe2, 0x82, 0xac };
    for (size_t cut = 1; cut < 3; cut++) {
        rw_utf8 u;
        rw_utf8_init(&u);
        CHECK(rw_utf8_feed(&u, euro, cut), "euro prefix %zu accepted", cut);
        CHECK(!rw_utf8_complete(&u), "euro prefix %zu is incomplete", cut);
        CHECK(rw_utf8_feed(&u, euro + cut, 3 - cut), "euro rest accepted");
        CHECK(rw_utf8_complete(&u), "euro complete after rest (cut %zu)", cut);
    }
    /* never completes: the next fragment starts with ASCII */
    rw_utf8 u;
    rw_utf8_init(&u);
    CHECK(rw_utf8_feed(&u, euro, 2), "prefix accepted");
    CHECK(!rw_utf8_feed(&u, (const uint8_t *)"a", 1), "ASCII after a cut sequence rejected");
    CHECK(!rw_utf8_feed(&u, (const uint8_t *)"b", 1), "error is sticky");
    /* never completes: the text just ends */
    rw_utf8_init(&u);
    const uint8_t f0[] = { 0xf0, 0x9f };
    CHECK(rw_utf8_feed(&u, f0, 2) && !rw_utf8_complete(&u), "truncated 4-byte not complete");
    /* the range check of the 2nd byte applies across a cut */
    rw_utf8_init(&u);
    const uint8_t ed[] = { 0xed }, a0[] = { 0xa0, 0x80 };
    CHECK(rw_utf8_feed(&u, ed, 1), "ED accepted alone");
    CHECK(!rw_utf8_feed(&u, a0, 2), "surrogate rejected across a cut");
    rw_utf8_init(&u);
    const uint8_t f4[] = { 0xf4 }, x90[] = { 0x90 };
    CHECK(rw_utf8_feed(&u, f4, 1) && !rw_utf8_feed(&u, x90, 1), "F4 90 rejected across a cut");
}

static uint64_t g_rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

static void test_random(void)
{
    static const uint8_t interesting[] = { 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
                                           0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a', 0 };
    uint8_t buf[200];
    int mismatches = 0, valid_seen = 0;
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = rnd() % sizeof(buf);
        int mode = iter % 3;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rnd();
            if (mode == 0)
                buf[i] = (uint8_t)r;
            else if (mode == 1)
                buf[i] = interesting[r % sizeof(interesting)];
            else /* mostly valid text: encode random code points */
                buf[i] = (r & 0xf) ? (uint8_t)(r >> 8 & 0x7f) : interesting[(r >> 8) % sizeof(interesting)];
        }
        if (mode == 2 && (iter & 1)) { /* well-formed random code points */
            size_t i = 0;
            while (i + 4 <= n) {
                uint32_t cp = rnd() % 0x110000;
                if (cp >= 0xd800 && cp <= 0xdfff)
                    cp = 'x';
                if (cp < 0x80)
                    buf[i++] = (uint8_t)cp;
                else if (cp < 0x800) {
                    buf[i++] = (uint8_t)(0xc0 | cp >> 6);
                    buf[i++] = (uint8_t)(0x80 | (cp & 0x3f));
                } else if (cp < 0x10000) {
                    buf[i++] = (uint8_t)(0xe0 | cp >> 12);
                    buf[i++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                    buf[i++] = (uint8_t)(0x80 | (cp & 0x3f));
                } else {
                    buf[i++] = (uint8_t)(0xf0 | cp >> 18);
                    buf[i++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
                    buf[i++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                    buf[i++] = (uint8_t)(0x80 | (cp & 0x3f));
                }
            }
            n = i;
        }
        bool want = utf8_ref_valid(buf, n);
        valid_seen += want;
        bool got = rw_utf8_valid(buf, n);
        size_t cut = n ? rnd() % (n + 1) : 0;
        bool got_split = feed_split(buf, n, cut);
        if (got != want || got_split != want) {
            if (mismatches++ < 5)
                CHECK(0, "random input len %zu cut %zu: ref %d, whole %d, split %d", n, cut, want,
                      got, got_split);
        }
    }
    CHECK_EQ_INT(mismatches, 0, "random mismatches vs reference");
    CHECK(valid_seen > 10000, "random corpus has valid inputs too (%d)", valid_seen);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(void)
{
    static uint8_t ascii[16384], mixed[16384];
    for (size_t i = 0; i < sizeof(ascii); i++)
        ascii[i] = (uint8_t)('a' + i % 26);
    /* mixed: ~50% ASCII words, 2-, 3- and 4-byte characters */
    static const char *pieces[] = { "hello ", "\xce\xba\xe1\xbd\xb9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "world " };
    size_t n = 0;
    for (unsigned k = 0; n + 8 < sizeof(mixed); k++) {
        const char *s = pieces[k % 5];
        memcpy(mixed + n, s, strlen(s));
        n += strlen(s);
    }
    while (n < sizeof(mixed))
        mixed[n++] = ' ';
    const uint8_t *bufs[2] = { ascii, mixed };
    const char *names[2] = { "ascii", "mixed" };
    size_t sizes[2] = { 64, 16384 };
    for (int b = 0; b < 2; b++)
        for (int s = 0; s < 2; s++) {
            size_t len = sizes[s];
            if (b == 1 && len == 64)
                len = 62; /* whole characters */
            size_t iters = (size_t)(2e9 / (double)len / (b ? 8 : 1));
            double t0 = now_s();
            size_t ok = 0;
            for (size_t i = 0; i < iters; i++) {
                ok += rw_utf8_valid(bufs[b], len);
                __asm__ volatile("" : : "r"(bufs[b]) : "memory");
            }
            double dt = now_s() - t0;
            printf("utf8 %s %5zu B: %.2f GB/s (%s)\n", names[b], len,
                   (double)len * (double)iters / dt / 1e9, ok == iters ? "valid" : "INVALID?");
        }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    test_table();
    test_fragment_boundaries();
    test_random();
    return check_summary("test_ws_utf8");
}
