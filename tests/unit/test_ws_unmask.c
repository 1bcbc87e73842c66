/* Unmasking: the wide path (rw_ws_unmask / _copy) against the scalar twin
 * on random lengths, buffer alignments and key phases, and a payload
 * unmasked in random pieces (phase carried across calls) against one pass.
 * `test_ws_unmask bench` prints rough throughput instead. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "ws/ws_unmask.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

static void test_rfc_example(void)
{
    /* RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d */
    const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    uint8_t b[5] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    unsigned ph = rw_ws_unmask(b, 5, key, 0);
    CHECK(memcmp(b, "Hello", 5) == 0, "RFC example unmasked to %.5s", (char *)b);
    CHECK_EQ_INT(ph, 1, "phase after 5 bytes");
}

static void test_random_vs_scalar(void)
{
    enum { MAXLEN = 1200, PAD = 64 };
    static uint8_t src[MAXLEN + PAD], a[MAXLEN + PAD], b[MAXLEN + PAD];
    int bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = iter < 600 ? (size_t)iter : rnd() % MAXLEN;
        size_t off = rnd() % 33;
        unsigned phase = rnd() & 3;
        uint8_t key[4];
        uint32_t k = rnd();
        memcpy(key, &k, 4);
        for (size_t i = 0; i < len + off; i++)
            src[i] = (uint8_t)rnd();
        memcpy(a, src, sizeof(src));
        memset(b, 0xee, sizeof(b));
        unsigned pa = rw_ws_unmask(a + off, len, key, phase);
        unsigned pb = rw_ws_unmask_scalar(b + off, src + off, len, key, phase);
        if (pa != pb || memcmp(a + off, b + off, len) != 0) {
            if (bad++ < 5)
                CHECK(0, "in place len %zu off %zu phase %u: phase %u vs %u or bytes differ", len,
                      off, phase, pa, pb);
            continue;
        }
        /* copy variant into a differently aligned destination, guard bytes intact */
        size_t doff = rnd() % 33;
        memset(a, 0x5a, sizeof(a));
        unsigned pc = rw_ws_unmask_copy(a + doff, src + off, len, key, phase);
        int guard_ok = (doff == 0 || a[doff - 1] == 0x5a) && a[doff + len] == 0x5a;
        if (pc != pb || memcmp(a + doff, b + off, len) != 0 || !guard_ok) {
            if (bad++ < 5)
                CHECK(0, "copy len %zu off %zu doff %zu phase %u differs", len, off, doff, phase);
            continue;
        }
        check_passed++;
    }
    CHECK_EQ_INT(bad, 0, "random mismatches");
}

static void test_pieces(void)
{
    enum { LEN = 70000 };
    uint8_t *src = malloc(LEN), *whole = malloc(LEN), *pieces = malloc(LEN);
    for (size_t i = 0; i < LEN; i++)
        src[i] = (uint8_t)rnd();
    const uint8_t key[4] = { 0xde, 0xad, 0xbe, 0xef };
    int bad = 0;
    for (int iter = 0; iter < 200; iter++) {
        size_t len = rnd() % LEN;
        rw_ws_unmask_scalar(whole, src, len, key, 0);
        memcpy(pieces, src, len);
        unsigned ph = 0;
        size_t pos = 0;
        while (pos < len) {
            size_t n = rnd() % (iter & 1 ? 7 : 3000) + 1;
            if (n > len - pos)
                n = len - pos;
            ph = rw_ws_unmask(pieces + pos, n, key, ph);
            pos += n;
        }
        if (memcmp(whole, pieces, len) != 0 || ph != (len & 3))
            bad++;
    }
    CHECK_EQ_INT(bad, 0, "piecewise unmask differs from one pass");
    free(src);
    free(whole);
    free(pieces);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(void)
{
    static uint8_t buf[16384];
    const uint8_t key[4] = { 1, 2, 3, 4 };
    size_t sizes[] = { 64, 16384 };
    for (int s = 0; s < 2; s++) {
        for (int twin = 0; twin < 2; twin++) {
            size_t len = sizes[s];
            size_t iters = (size_t)(4e9 / (double)len / (twin ? 8 : 1));
            double t0 = now_s();
            unsigned ph = 0;
            for (size_t i = 0; i < iters; i++) {
                ph = twin ? rw_ws_unmask_scalar(buf, buf, len, key, ph) : rw_ws_unmask(buf, len, key, ph);
                __asm__ volatile("" : : "r"(buf) : "memory");
            }
            double dt = now_s() - t0;
            printf("unmask %-6s %5zu B: %.2f GB/s\n", twin ? "scalar" : "fast", len,
                   (double)len * (double)iters / dt / 1e9);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    test_rfc_example();
    test_random_vs_scalar();
    test_pieces();
    return check_summary("test_ws_unmask");
}
