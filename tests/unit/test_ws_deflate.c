/* permessage-deflate data path: the RFC 7692 §7.2.3 examples, round trips
 * server→client and client→server for window bits 8..15 with and without
 * context takeover, the threshold, a short output buffer, corrupt input
 * and a deflate bomb. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws/ws_deflate.h"

typedef struct collect {
    uint8_t *p;
    size_t n, cap;
    size_t calls;
} collect;

static int sink(void *ud, const uint8_t *p, size_t n)
{
    collect *c = ud;
    c->calls++;
    if (c->n + n > c->cap)
        return 1;
    memcpy(c->p + c->n, p, n);
    c->n += n;
    return 0;
}

static const rw_ws_deflate_params k_default = { false, false, 15, 15 };

/* Inflates one message given in `pieces` pieces; returns the result. */
static rw_ws_deflate_result inflate_msg(rw_ws_deflate *d, const uint8_t *in, size_t n, int pieces,
                                        uint64_t limit, collect *out)
{
    uint64_t total = 0;
    out->n = 0;
    size_t step = pieces > 1 ? n / (size_t)pieces + 1 : n;
    size_t pos = 0;
    do {
        size_t k = n - pos < step ? n - pos : step;
        bool fin = pos + k == n;
        rw_ws_deflate_result r = rw_ws_inflate_feed(d, in + pos, k, fin, limit, &total, sink, out);
        if (r != RW_WS_DEFLATE_OK)
            return r;
        pos += k;
    } while (pos < n);
    CHECK(total == out->n, "total %llu vs delivered %zu", (unsigned long long)total, out->n);
    return RW_WS_DEFLATE_OK;
}

static void test_rfc_examples(void)
{
    rw_ws_deflate d;
    rw_ws_deflate_opts o = { -1, 0, 0 };
    CHECK(rw_ws_deflate_init(&d, &k_default, false, &o) == 0, "init");
    uint8_t buf[64];
    collect c = { buf, 0, sizeof(buf), 0 };
    static const struct {
        const char *name;
        const char *in;
        size_t n;
    } ex[] = {
        { "7.2.3.1 Hello", "\xf2\x48\xcd\xc9\xc9\x07\x00", 7 },
        { "7.2.3.2 shared window", "\xf2\x00\x11\x00\x00", 5 },
        { "7.2.3.3 stored block", "\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", 11 },
        { "7.2.3.5 two blocks", "\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00", 13 },
        { "7.2.3.4 BFINAL", "\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8 },
        { "after BFINAL: fresh stream", "\xf2\x48\xcd\xc9\xc9\x07\x00", 7 },
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        for (int pieces = 1; pieces <= 1; pieces++) {
            rw_ws_deflate_result r = inflate_msg(&d, (const uint8_t *)ex[i].in, ex[i].n, 1, 1000, &c);
            CHECK(r == RW_WS_DEFLATE_OK && c.n == 5 && memcmp(buf, "Hello", 5) == 0,
                  "[%s] result %d, got %zu bytes '%.*s'", ex[i].name, r, c.n, (int)c.n, (char *)buf);
        }
    }
    /* byte-by-byte feeding of the first example */
    rw_ws_deflate_free(&d);
    rw_ws_deflate_init(&d, &k_default, false, &o);
    const uint8_t *h = (const uint8_t *)"\xf2\x48\xcd\xc9\xc9\x07\x00";
    rw_ws_deflate_result r = inflate_msg(&d, h, 7, 7, 1000, &c);
    CHECK(r == RW_WS_DEFLATE_OK && c.n == 5 && memcmp(buf, "Hello", 5) == 0, "Hello byte by byte");
    rw_ws_deflate_free(&d);

    /* our compressor produces the RFC bytes for Hello, then the shared-window form */
    rw_ws_deflate s;
    rw_ws_deflate_init(&s, &k_default, true, &o);
    uint8_t out[64];
    size_t n;
    r = rw_ws_deflate_message(&s, (const uint8_t *)"Hello", 5, out, sizeof(out), &n);
    CHECK(r == RW_WS_DEFLATE_OK && n == 7 && memcmp(out, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7) == 0,
          "compress Hello: result %d, %zu bytes", r, n);
    r = rw_ws_deflate_message(&s, (const uint8_t *)"Hello", 5, out, sizeof(out), &n);
    CHECK(r == RW_WS_DEFLATE_OK && n == 5 && memcmp(out, "\xf2\x00\x11\x00\x00", 5) == 0,
          "compress Hello again with context: result %d, %zu bytes", r, n);
    rw_ws_deflate_free(&s);
}

static uint64_t g_rng = 0x1234567887654321ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

/* A message that compresses: a random 300-byte block (so matches sit at
 * distances 256..600, which tests the window limits) repeated, plus text. */
static size_t make_msg(uint8_t *p, size_t n)
{
    uint8_t block[300];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (uint8_t)rnd();
    for (size_t i = 0; i < n; i++)
        p[i] = (i / 600) % 2 ? (uint8_t)"the quick brown fox "[i % 20] : block[i % sizeof(block)];
    return n;
}

static void round_trip(unsigned sbits, unsigned cbits, bool snct, bool cnct)
{
    rw_ws_deflate_params prm = { snct, cnct, (uint8_t)sbits, (uint8_t)cbits };
    rw_ws_deflate srv, cli;
    rw_ws_deflate_opts o = { -1, 0, 16 };
    CHECK(rw_ws_deflate_init(&srv, &prm, true, &o) == 0, "server init bits %u/%u", sbits, cbits);
    CHECK(rw_ws_deflate_init(&cli, &prm, false, &o) == 0, "client init bits %u/%u", sbits, cbits);
    enum { MAXMSG = 5000 };
    uint8_t msg[MAXMSG], comp[MAXMSG + 200], back[MAXMSG];
    collect c = { back, 0, sizeof(back), 0 };
    size_t sizes[2][3] = { { 0 } };
    for (int dir = 0; dir < 2; dir++) {
        rw_ws_deflate *tx = dir ? &cli : &srv, *rx = dir ? &srv : &cli;
        g_rng = 42; /* the same message three times */
        for (int k = 0; k < 3; k++) {
            uint64_t save = g_rng;
            size_t n = make_msg(msg, MAXMSG - 1000 + (size_t)k);
            g_rng = save;
            size_t cn;
            rw_ws_deflate_result r = rw_ws_deflate_message(tx, msg, n, comp, sizeof(comp), &cn);
            CHECK(r == RW_WS_DEFLATE_OK, "bits %u/%u dir %d msg %d: compress %d", sbits, cbits, dir, k, r);
            if (r != RW_WS_DEFLATE_OK)
                continue;
            sizes[dir][k] = cn;
            r = inflate_msg(rx, comp, cn, k + 1, MAXMSG, &c);
            CHECK(r == RW_WS_DEFLATE_OK && c.n == n && memcmp(back, msg, n) == 0,
                  "bits %u/%u nct %d/%d dir %d msg %d: inflate %d (%s), %zu of %zu bytes", sbits,
                  cbits, snct, cnct, dir, k, r, rx->error ? rx->error : "", c.n, n);
        }
        /* with context takeover the repeat shrinks to almost nothing */
        bool nct = dir ? cnct : snct;
        if (nct)
            CHECK(sizes[dir][1] + 10 > sizes[dir][0], "no takeover: repeat not much smaller (%zu vs %zu)",
                  sizes[dir][1], sizes[dir][0]);
        else if ((dir ? cbits : sbits) == 15)
            CHECK(sizes[dir][1] * 4 < sizes[dir][0], "takeover: repeat much smaller (%zu vs %zu)",
                  sizes[dir][1], sizes[dir][0]);
    }
    rw_ws_deflate_free(&srv);
    rw_ws_deflate_free(&cli);
}

static void test_round_trips(void)
{
    for (unsigned bits = 8; bits <= 15; bits++) {
        round_trip(bits, bits, false, false);
        round_trip(bits, bits, true, true);
        round_trip(bits, 23 - bits, true, false);
    }
}

static void test_threshold_and_space(void)
{
    rw_ws_deflate d;
    rw_ws_deflate_opts o = { -1, 0, 100 };
    rw_ws_deflate_init(&d, &k_default, true, &o);
    uint8_t msg[200], out[400];
    memset(msg, 'a', sizeof(msg));
    size_t n = 123;
    CHECK(rw_ws_deflate_message(&d, msg, 99, out, sizeof(out), &n) == RW_WS_DEFLATE_SKIP && n == 0,
          "below threshold → SKIP");
    CHECK(rw_ws_deflate_message(&d, msg, 100, out, sizeof(out), &n) == RW_WS_DEFLATE_OK && n < 20,
          "at threshold → compressed to %zu", n);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)rnd();
    CHECK(rw_ws_deflate_message(&d, msg, sizeof(msg), out, 50, &n) == RW_WS_DEFLATE_NOSPACE,
          "random data into 50 bytes → NOSPACE");
    /* after NOSPACE the compressor still works (it was reset) */
    rw_ws_deflate peer;
    rw_ws_deflate_init(&peer, &k_default, false, NULL);
    size_t cap = rw_ws_deflate_bound(sizeof(msg));
    CHECK(rw_ws_deflate_message(&d, msg, sizeof(msg), out, cap, &n) == RW_WS_DEFLATE_OK,
          "random data with bound room");
    uint8_t back[256];
    collect c = { back, 0, sizeof(back), 0 };
    CHECK(inflate_msg(&peer, out, n, 1, 1000, &c) == RW_WS_DEFLATE_OK && c.n == sizeof(msg) &&
              memcmp(back, msg, sizeof(msg)) == 0,
          "message after NOSPACE decodes");
    rw_ws_deflate_free(&d);
    rw_ws_deflate_free(&peer);
}

static void test_corrupt(void)
{
    rw_ws_deflate d;
    rw_ws_deflate_init(&d, &k_default, true, NULL);
    uint8_t back[64];
    collect c = { back, 0, sizeof(back), 0 };
    /* block type 3 is reserved */
    CHECK(inflate_msg(&d, (const uint8_t *)"\xff\xff\xff", 3, 1, 1000, &c) == RW_WS_DEFLATE_ERROR,
          "reserved block type → ERROR");
    CHECK(d.error != NULL, "error text set");
    rw_ws_deflate_free(&d);
    /* a back reference into history that does not exist: the RFC's second
     * "Hello" fed to a fresh decompressor */
    rw_ws_deflate_init(&d, &k_default, true, NULL);
    CHECK(inflate_msg(&d, (const uint8_t *)"\xf2\x00\x11\x00\x00", 5, 1, 1000, &c) ==
              RW_WS_DEFLATE_ERROR,
          "distance too far back → ERROR");
    rw_ws_deflate_free(&d);
}

static void test_bomb(void)
{
    /* 8 MiB of zeros compresses to ~8 KiB; with a 64 KiB limit decompression
     * must stop after about 64 KiB of output */
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    size_t cap = rw_ws_deflate_bound(n);
    uint8_t *comp = malloc(cap);
    rw_ws_deflate tx, rx;
    rw_ws_deflate_init(&tx, &k_default, false, NULL);
    rw_ws_deflate_init(&rx, &k_default, true, NULL);
    size_t cn;
    CHECK(rw_ws_deflate_message(&tx, zeros, n, comp, cap, &cn) == RW_WS_DEFLATE_OK && cn < 20000,
          "8 MiB of zeros → %zu bytes", cn);
    free(zeros);
    uint8_t *out = malloc(70000);
    collect c = { out, 0, 70000, 0 };
    uint64_t limit = 65536, total = 0;
    rw_ws_deflate_result r = rw_ws_inflate_feed(&rx, comp, cn, true, limit, &total, sink, &c);
    CHECK(r == RW_WS_DEFLATE_TOO_BIG, "bomb → TOO_BIG, got %d", r);
    CHECK(total <= limit && c.n <= limit, "never delivered past the limit (%zu)", c.n);
    CHECK(c.calls <= limit / RW_WS_INFLATE_CHUNK + 1, "stopped early (%zu sink calls)", c.calls);
    /* limit exactly the size: fine */
    rw_ws_deflate rx2;
    rw_ws_deflate_init(&rx2, &k_default, true, NULL);
    total = 0;
    c.n = 0;
    r = rw_ws_inflate_feed(&rx2, comp, cn, true, n, &total, NULL, NULL);
    CHECK(r == RW_WS_DEFLATE_OK && total == n, "limit == size is accepted (%d, %llu)", r,
          (unsigned long long)total);
    free(comp);
    free(out);
    rw_ws_deflate_free(&tx);
    rw_ws_deflate_free(&rx);
    rw_ws_deflate_free(&rx2);
}

int main(void)
{
    test_rfc_examples();
    test_round_trips();
    test_threshold_and_space();
    test_corrupt();
    test_bomb();
    return check_summary("test_ws_deflate");
}
