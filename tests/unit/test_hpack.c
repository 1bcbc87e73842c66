/* HPACK: integer coding, RFC 7541 Appendix C.2-C.6, every error code, size
 * update rules, never-indexed handling, stream-level limits keeping the table
 * in sync, and encoder -> decoder round trips over random header lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/str.h"
#include "http2/hpack.h"

#define MAXF 256
static rw_hpack_field fields[MAXF];
static char scratch[1 << 16];

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static bool str_is(rw_str s, const char *lit)
{
    return s.n == strlen(lit) && (s.n == 0 || memcmp(s.p, lit, s.n) == 0);
}

/* Decodes hex and compares with a NULL-terminated name/value list. */
static int decode_hex(rw_hpack_decoder *d, const char *hex, size_t *nf)
{
    static uint8_t buf[4096];
    size_t n = unhex(hex, buf);
    return rw_hpack_decode(d, buf, n, fields, MAXF, scratch, sizeof(scratch), SIZE_MAX, nf);
}

static void expect_block(rw_hpack_decoder *d, const char *what, const char *hex,
                         const char *const *want, size_t table_size)
{
    size_t nf = 0, nw = 0;
    int rc = decode_hex(d, hex, &nf);
    CHECK(rc == 0, "%s: rc %d (%s)", what, rc, rw_hpack_strerror(rc));
    while (want[2 * nw])
        nw++;
    CHECK(nf == nw, "%s: %zu fields, want %zu", what, nf, nw);
    for (size_t i = 0; i < nf && i < nw; i++)
        CHECK(str_is(fields[i].name, want[2 * i]) && str_is(fields[i].value, want[2 * i + 1]),
              "%s: field %zu is %.*s: %.*s", what, i, (int)fields[i].name.n, fields[i].name.p,
              (int)fields[i].value.n, fields[i].value.p);
    CHECK_EQ_INT(rw_hpack_table_size(&d->t), table_size, what);
}

/* ---- integers (5.1, C.1) ---- */
static void test_integers(void)
{
    uint8_t b[16];
    const uint8_t *p;
    uint32_t v;
    CHECK(rw_hpack_int_encode(b, 16, 0, 5, 10) == 1 && b[0] == 10, "C.1.1");
    CHECK(rw_hpack_int_encode(b, 16, 0, 5, 1337) == 3 && b[0] == 0x1f && b[1] == 0x9a &&
              b[2] == 0x0a,
          "C.1.2");
    CHECK(rw_hpack_int_encode(b, 16, 0, 8, 42) == 1 && b[0] == 42, "C.1.3");
    CHECK(rw_hpack_int_encode(b, 16, 0xe0, 5, 31) == 2 && b[0] == 0xff && b[1] == 0, "2^N-1");
    CHECK_EQ_INT(rw_hpack_int_encode(b, 2, 0, 5, 1337), 0, "short buffer");
    CHECK_EQ_INT(rw_hpack_int_encode(b, 0, 0, 5, 1), 0, "empty buffer");

    static const uint32_t vals[] = { 0, 1, 2, 30, 31, 32, 126, 127, 128, 254, 255, 256, 16383,
                                     16384, 1u << 21, (1u << 28) + 5, UINT32_MAX - 1, UINT32_MAX };
    int bad = 0;
    for (unsigned prefix = 1; prefix <= 8; prefix++) {
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            uint8_t hi = (uint8_t)(0xff << prefix); /* representation bits must survive */
            size_t n = rw_hpack_int_encode(b, sizeof(b), hi, prefix, vals[i]);
            p = b;
            if (n == 0 || n > RW_HPACK_INT_MAX_BYTES || rw_hpack_int_decode(&p, b + n, prefix, &v) ||
                v != vals[i] || p != b + n || (b[0] & hi) != hi)
                bad++;
            /* Every truncation is reported as such. */
            for (size_t k = 0; k < n; k++) {
                p = b;
                if (rw_hpack_int_decode(&p, b + k, prefix, &v) != RW_HPACK_E_TRUNCATED)
                    bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0, "integer round trips");

    /* 2^32 with a 5-bit prefix: 31 + (2^32 - 31). */
    size_t n = unhex("1f e1 ff ff ff 0f", b);
    p = b;
    CHECK_EQ_INT(rw_hpack_int_decode(&p, b + n, 5, &v), RW_HPACK_E_INTEGER, "2^32 rejected");
    n = unhex("1f e0 ff ff ff 0f", b); /* 2^32 - 1 */
    p = b;
    CHECK(rw_hpack_int_decode(&p, b + n, 5, &v) == 0 && v == UINT32_MAX, "2^32-1 accepted");
    n = unhex("1f 80 80 80 80 80 00", b); /* 6 continuation bytes, value 31 */
    p = b;
    CHECK_EQ_INT(rw_hpack_int_decode(&p, b + n, 5, &v), RW_HPACK_E_INTEGER, "too many bytes");
    n = unhex("1f 80 80 80 80 00", b); /* 5 continuation bytes (zero padding) is allowed */
    p = b;
    CHECK(rw_hpack_int_decode(&p, b + n, 5, &v) == 0 && v == 31, "5 continuation bytes ok");
    n = unhex("1f ff ff ff ff ff ff ff ff ff ff", b);
    p = b;
    CHECK_EQ_INT(rw_hpack_int_decode(&p, b + n, 5, &v), RW_HPACK_E_INTEGER, "endless integer");
}

/* ---- Appendix C ---- */
static void test_c2(void)
{
    rw_hpack_decoder d;
    CHECK(rw_hpack_decoder_init(&d, 4096) == 0, "init");
    expect_block(&d, "C.2.1", "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
                 (const char *[]){ "custom-key", "custom-header", NULL }, 55);
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    expect_block(&d, "C.2.2", "040c 2f73 616d 706c 652f 7061 7468",
                 (const char *[]){ ":path", "/sample/path", NULL }, 0);
    CHECK_EQ_INT(fields[0].flags, 0, "C.2.2 not never-indexed");
    expect_block(&d, "C.2.3", "1008 7061 7373 776f 7264 0673 6563 7265 74",
                 (const char *[]){ "password", "secret", NULL }, 0);
    CHECK_EQ_INT(fields[0].flags, RW_HPACK_F_NEVER_INDEX, "C.2.3 never-indexed flag");
    expect_block(&d, "C.2.4", "82", (const char *[]){ ":method", "GET", NULL }, 0);
    rw_hpack_decoder_free(&d);
}

static const char *const req1[] = { ":method", "GET", ":scheme", "http", ":path", "/",
                                    ":authority", "www.example.com", NULL };
static const char *const req2[] = { ":method", "GET", ":scheme", "http", ":path", "/",
                                    ":authority", "www.example.com", "cache-control", "no-cache",
                                    NULL };
static const char *const req3[] = { ":method", "GET", ":scheme", "https", ":path", "/index.html",
                                    ":authority", "www.example.com", "custom-key", "custom-value",
                                    NULL };
static const char *const rsp1[] = { ":status", "302", "cache-control", "private", "date",
                                    "Mon, 21 Oct 2013 20:13:21 GMT", "location",
                                    "https://www.example.com", NULL };
static const char *const rsp2[] = { ":status", "307", "cache-control", "private", "date",
                                    "Mon, 21 Oct 2013 20:13:21 GMT", "location",
                                    "https://www.example.com", NULL };
static const char *const rsp3[] = {
    ":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT",
    "location", "https://www.example.com", "content-encoding", "gzip", "set-cookie",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", NULL
};

static void check_entry(rw_hpack_decoder *d, size_t idx, const char *name, const char *value)
{
    /* Resolve through the decoder itself: an indexed field for idx. */
    uint8_t b[8];
    size_t n = rw_hpack_int_encode(b, sizeof(b), 0x80, 7, (uint32_t)idx), nf;
    int rc = rw_hpack_decode(d, b, n, fields, MAXF, scratch, sizeof(scratch), SIZE_MAX, &nf);
    CHECK(rc == 0 && nf == 1 && str_is(fields[0].name, name) && str_is(fields[0].value, value),
          "table entry %zu should be %s: %s", idx, name, value);
}

static void test_c3_c4(void)
{
    rw_hpack_decoder d;
    rw_hpack_decoder_init(&d, 4096);
    expect_block(&d, "C.3.1", "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", req1, 57);
    expect_block(&d, "C.3.2", "8286 84be 5808 6e6f 2d63 6163 6865", req2, 110);
    expect_block(&d, "C.3.3",
                 "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", req3,
                 164);
    check_entry(&d, 62, "custom-key", "custom-value");
    check_entry(&d, 63, "cache-control", "no-cache");
    check_entry(&d, 64, ":authority", "www.example.com");
    rw_hpack_decoder_free(&d);

    static const char *c4[] = { "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                                "8286 84be 5886 a8eb 1064 9cbf",
                                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf" };
    rw_hpack_decoder_init(&d, 4096);
    expect_block(&d, "C.4.1", c4[0], req1, 57);
    expect_block(&d, "C.4.2", c4[1], req2, 110);
    expect_block(&d, "C.4.3", c4[2], req3, 164);
    rw_hpack_decoder_free(&d);

    /* Our encoder makes the same choices as the RFC example for requests. */
    rw_hpack_encoder e;
    rw_hpack_encoder_init(&e, 4096);
    const char *const *reqs[] = { req1, req2, req3 };
    for (int r = 0; r < 3; r++) {
        rw_hpack_field f[8];
        size_t n = 0, w;
        for (; reqs[r][2 * n]; n++)
            f[n] = (rw_hpack_field){ rw_str_c(reqs[r][2 * n]), rw_str_c(reqs[r][2 * n + 1]), 0 };
        uint8_t out[256], want[256];
        size_t wn = unhex(c4[r], want);
        int rc = rw_hpack_encode(&e, f, n, out, sizeof(out), &w);
        CHECK(rc == 0 && w == wn && memcmp(out, want, wn) == 0, "encoder matches C.4.%d", r + 1);
    }
    CHECK_EQ_INT(rw_hpack_table_size(&e.t), 164, "encoder table size after C.4");
    rw_hpack_encoder_free(&e);
}

static void test_c5_c6(void)
{
    static const char *c5[] = {
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 "
        "303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 "
        "6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 "
        "5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 "
        "5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    };
    static const char *c6[] = {
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b "
        "ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad "
        "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 "
        "65c0 03ed 4ee5 b106 3d50 07",
    };
    const char **sets[2] = { c5, c6 };
    for (int s = 0; s < 2; s++) {
        rw_hpack_decoder d;
        /* SETTINGS_HEADER_TABLE_SIZE 256, as the examples assume. */
        CHECK(rw_hpack_decoder_init(&d, 256) == 0, "init 256");
        expect_block(&d, s ? "C.6.1" : "C.5.1", sets[s][0], rsp1, 222);
        CHECK_EQ_INT(rw_hpack_table_count(&d.t), 4, "4 entries");
        expect_block(&d, s ? "C.6.2" : "C.5.2", sets[s][1], rsp2, 222);
        check_entry(&d, 62, ":status", "307");
        check_entry(&d, 65, "cache-control", "private");
        expect_block(&d, s ? "C.6.3" : "C.5.3", sets[s][2], rsp3, 215);
        CHECK_EQ_INT(rw_hpack_table_count(&d.t), 3, "3 entries after eviction");
        check_entry(&d, 62, "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
        check_entry(&d, 63, "content-encoding", "gzip");
        check_entry(&d, 64, "date", "Mon, 21 Oct 2013 20:13:22 GMT");
        size_t nf;
        CHECK_EQ_INT(decode_hex(&d, "c1", &nf), RW_HPACK_E_INDEX, "65 is gone");
        rw_hpack_decoder_free(&d);
    }
}

/* ---- errors ---- */
static void expect_err(const char *hex, int want, const char *what)
{
    rw_hpack_decoder d;
    size_t nf;
    rw_hpack_decoder_init(&d, 4096);
    int rc = decode_hex(&d, hex, &nf);
    CHECK(rc == want, "%s: got %d (%s), want %d", what, rc, rw_hpack_strerror(rc), want);
    CHECK(rw_hpack_is_connection_error(rc), "%s is a connection error", what);
    rw_hpack_decoder_free(&d);
}

static void test_errors(void)
{
    expect_err("41", RW_HPACK_E_TRUNCATED, "literal without value");
    expect_err("40 05 6162", RW_HPACK_E_TRUNCATED, "name longer than block");
    expect_err("40 01 61 7f", RW_HPACK_E_TRUNCATED, "value length integer cut");
    expect_err("ff", RW_HPACK_E_TRUNCATED, "index integer cut");
    expect_err("ff ff ff ff ff ff 01", RW_HPACK_E_INTEGER, "index integer too long");
    expect_err("ff 80 80 80 80 10", RW_HPACK_E_INTEGER, "index > 2^32-1");
    expect_err("40 7f ff ff ff ff 0f", RW_HPACK_E_INTEGER, "string length > 2^32-1");
    expect_err("80", RW_HPACK_E_INDEX_ZERO, "indexed 0");
    expect_err("82 80", RW_HPACK_E_INDEX_ZERO, "indexed 0 after a field");
    expect_err("be", RW_HPACK_E_INDEX, "index 62 with empty table");
    expect_err("0f 30 01 61", RW_HPACK_E_INDEX, "literal name index 63");
    expect_err("7f 00 01 61", RW_HPACK_E_INDEX, "incremental name index 63");
    expect_err("40 81 ff 01 61", RW_HPACK_E_HUFFMAN, "8 bits of padding in name");
    expect_err("04 84 ff ff ff ff", RW_HPACK_E_HUFFMAN, "EOS in value");
    expect_err("82 20", RW_HPACK_E_SIZE_UPDATE_POS, "size update after a field");
    expect_err("3f e2 1f", RW_HPACK_E_SIZE_UPDATE_LIMIT, "size update 4097 > 4096");
    expect_err("3f e1 ff ff ff ff", RW_HPACK_E_INTEGER, "size update integer overflow");

    /* Every code has its own description. */
    static const int codes[] = { RW_HPACK_E_TRUNCATED,       RW_HPACK_E_INTEGER,
                                 RW_HPACK_E_INDEX_ZERO,      RW_HPACK_E_INDEX,
                                 RW_HPACK_E_HUFFMAN,         RW_HPACK_E_SIZE_UPDATE_POS,
                                 RW_HPACK_E_SIZE_UPDATE_LIMIT, RW_HPACK_E_SIZE_UPDATE_MISSING,
                                 RW_HPACK_E_LIST_TOO_LARGE,  RW_HPACK_E_TOO_MANY_FIELDS,
                                 RW_HPACK_E_SCRATCH,         RW_HPACK_E_NOSPACE,
                                 RW_HPACK_E_INVALID,         RW_HPACK_E_NOMEM };
    const char *unknown = rw_hpack_strerror(-1000);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        CHECK(rw_hpack_strerror(codes[i]) != unknown, "strerror(%d)", codes[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(rw_hpack_strerror(codes[i]), rw_hpack_strerror(codes[j])) != 0,
                  "distinct %d %d", codes[i], codes[j]);
    }
    CHECK(!rw_hpack_is_connection_error(RW_HPACK_E_LIST_TOO_LARGE), "431 is stream level");
    CHECK(!rw_hpack_is_connection_error(RW_HPACK_OK), "ok");
}

/* ---- size updates ---- */
static void test_size_updates(void)
{
    rw_hpack_decoder d;
    size_t nf;
    rw_hpack_decoder_init(&d, 8192);
    /* Fill the table a bit (C.3.1). */
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    CHECK_EQ_INT(decode_hex(&d, "3f e2 1f", &nf), RW_HPACK_E_SIZE_UPDATE_LIMIT, "4097 before raise");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 8192);
    CHECK_EQ_INT(rw_hpack_decoder_set_limit(&d, 8193), RW_HPACK_E_INVALID, "above capacity");
    CHECK_EQ_INT(rw_hpack_decoder_set_limit(&d, 8192), 0, "raise");
    CHECK_EQ_INT(decode_hex(&d, "82", &nf), 0, "raising needs no update");
    CHECK_EQ_INT(decode_hex(&d, "3f e1 3f 82", &nf), 0, "update to 8192"); /* 31 + 8161 */
    CHECK_EQ_INT(rw_hpack_table_max_size(&d.t), 8192, "max 8192");
    CHECK_EQ_INT(decode_hex(&d, "0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), RW_HPACK_E_INDEX,
                 "sanity: bad block");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    CHECK_EQ_INT(rw_hpack_decoder_set_limit(&d, 100), 0, "lower to 100");
    CHECK_EQ_INT(decode_hex(&d, "82", &nf), RW_HPACK_E_SIZE_UPDATE_MISSING, "update missing");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(rw_hpack_decoder_set_limit(&d, 100), 0, "lower to 100");
    CHECK_EQ_INT(decode_hex(&d, "", &nf), RW_HPACK_E_SIZE_UPDATE_MISSING, "empty block lacks it");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    rw_hpack_decoder_set_limit(&d, 100);
    CHECK_EQ_INT(decode_hex(&d, "3f 46 82", &nf), RW_HPACK_E_SIZE_UPDATE_LIMIT, "update 101 > 100");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    rw_hpack_decoder_set_limit(&d, 100);
    CHECK_EQ_INT(decode_hex(&d, "3f 45 be", &nf), 0, "update 100, entry (57) survives");
    CHECK(nf == 1 && str_is(fields[0].value, "www.example.com"), "entry kept");
    CHECK_EQ_INT(decode_hex(&d, "3f 45 be", &nf), 0, "update again in a later block is fine");
    CHECK_EQ_INT(decode_hex(&d, "20 be", &nf), RW_HPACK_E_INDEX, "update 0 evicts everything");
    rw_hpack_decoder_free(&d);

    /* Lowered then raised before the next block: the smallest must appear. */
    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    rw_hpack_decoder_set_limit(&d, 50);
    rw_hpack_decoder_set_limit(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "3f e1 1f 82", &nf), RW_HPACK_E_SIZE_UPDATE_MISSING,
                 "only the final size");
    rw_hpack_decoder_free(&d);
    rw_hpack_decoder_init(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &nf), 0, "fill");
    rw_hpack_decoder_set_limit(&d, 50);
    rw_hpack_decoder_set_limit(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "3f 13 3f e1 1f be", &nf), RW_HPACK_E_INDEX,
                 "50 then 4096: entry evicted by 50");
    rw_hpack_decoder_free(&d);
    rw_hpack_decoder_init(&d, 4096);
    rw_hpack_decoder_set_limit(&d, 50);
    rw_hpack_decoder_set_limit(&d, 4096);
    CHECK_EQ_INT(decode_hex(&d, "3f 13 3f e1 1f 82", &nf), 0, "50 then 4096 accepted");
    CHECK_EQ_INT(rw_hpack_table_max_size(&d.t), 4096, "final max");
    rw_hpack_decoder_free(&d);

    /* Encoder side: lowering the peer limit makes the next block start with
     * the update(s). */
    rw_hpack_encoder e;
    uint8_t out[64];
    size_t w;
    rw_hpack_field get = { rw_str_c(":method"), rw_str_c("GET"), 0 };
    rw_hpack_encoder_init(&e, 4096);
    CHECK(rw_hpack_encode(&e, &get, 1, out, sizeof(out), &w) == 0 && w == 1 && out[0] == 0x82,
          "no update by default");
    rw_hpack_encoder_set_peer_limit(&e, 0);
    CHECK(rw_hpack_encode(&e, &get, 1, out, sizeof(out), &w) == 0 && w == 2 && out[0] == 0x20 &&
              out[1] == 0x82,
          "update 0 first");
    CHECK(rw_hpack_encode(&e, &get, 1, out, sizeof(out), &w) == 0 && w == 1, "only once");
    rw_hpack_encoder_set_peer_limit(&e, 100);
    rw_hpack_encoder_set_peer_limit(&e, 50);
    rw_hpack_encoder_set_peer_limit(&e, 4096);
    CHECK(rw_hpack_encode(&e, &get, 1, out, sizeof(out), &w) == 0 && w == 4 && out[0] == 0x3f &&
              out[1] == 0xe1 && out[2] == 0x1f && out[3] == 0x82,
          "raise from 0 to 4096: only the final (min 50 > current 0)");
    rw_hpack_encoder_set_peer_limit(&e, 50);
    rw_hpack_encoder_set_peer_limit(&e, 8192); /* capped to our capacity 4096 */
    CHECK(rw_hpack_encode(&e, &get, 1, out, sizeof(out), &w) == 0 && w == 6 && out[0] == 0x3f &&
              out[1] == 0x13 && out[2] == 0x3f && out[3] == 0xe1 && out[4] == 0x1f &&
              out[5] == 0x82,
          "lowered then raised back to 4096: min then final, got %zu bytes", w);
    rw_hpack_encoder_free(&e);
}

/* ---- stream-level limits keep the table in sync ---- */
static const char *c31 = "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d";
static const char *c41 = "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff";

static void test_stream_limits(void)
{
    static uint8_t buf[256];
    rw_hpack_decoder d;
    size_t nf, n;

    rw_hpack_decoder_init(&d, 4096);
    n = unhex(c31, buf);
    CHECK_EQ_INT(rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, sizeof(scratch), 100, &nf),
                 RW_HPACK_E_LIST_TOO_LARGE, "list 123 > 100");
    CHECK_EQ_INT(nf, 2, "fields before the limit are returned");
    CHECK(str_is(fields[1].value, "http"), "second field intact");
    CHECK_EQ_INT(rw_hpack_table_size(&d.t), 57, "insertion after the limit still applied");
    check_entry(&d, 62, ":authority", "www.example.com");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    n = unhex(c31, buf);
    CHECK_EQ_INT(rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, sizeof(scratch), 179, &nf),
                 RW_HPACK_E_LIST_TOO_LARGE, "list 180 > 179");
    CHECK_EQ_INT(nf, 3, "three fields fit");
    CHECK_EQ_INT(rw_hpack_decode(&d, (const uint8_t *)"\x82\x86\x84\xbe", 4, fields, MAXF, scratch,
                                 sizeof(scratch), 180, &nf),
                 0, "list exactly 180 is fine (RFC 9113 6.5.2 sizes)");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    n = unhex(c31, buf);
    CHECK_EQ_INT(rw_hpack_decode(&d, buf, n, fields, 2, scratch, sizeof(scratch), SIZE_MAX, &nf),
                 RW_HPACK_E_TOO_MANY_FIELDS, "max_fields 2");
    CHECK_EQ_INT(nf, 2, "two fields");
    check_entry(&d, 62, ":authority", "www.example.com");
    rw_hpack_decoder_free(&d);

    rw_hpack_decoder_init(&d, 4096);
    n = unhex(c41, buf);
    CHECK_EQ_INT(rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, 5, SIZE_MAX, &nf),
                 RW_HPACK_E_SCRATCH, "Huffman string overflows a 5-byte scratch");
    CHECK_EQ_INT(nf, 3, "3 static fields");
    check_entry(&d, 62, ":authority", "www.example.com");
    CHECK_EQ_INT(rw_hpack_decode(&d, (const uint8_t *)"\xbe", 1, fields, MAXF, scratch, 10, SIZE_MAX,
                                 &nf),
                 RW_HPACK_E_SCRATCH, "dynamic copy overflows scratch");
    CHECK_EQ_INT(rw_hpack_decode(&d, (const uint8_t *)"\xbe", 1, fields, MAXF, scratch, 10, 10, &nf),
                 RW_HPACK_E_LIST_TOO_LARGE, "scratch >= list limit: reported as list too large");
    rw_hpack_decoder_free(&d);

    /* A compression error after the limit still wins. */
    rw_hpack_decoder_init(&d, 4096);
    n = unhex("82 82 80", buf);
    CHECK_EQ_INT(rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, sizeof(scratch), 50, &nf),
                 RW_HPACK_E_INDEX_ZERO, "index 0 after the limit");
    rw_hpack_decoder_free(&d);

    /* In skip mode an entry larger than the staging buffer (= capacity)
     * empties the table, exactly as it would in normal mode. */
    for (int skip = 0; skip < 2; skip++) {
        rw_hpack_decoder_init(&d, 64);
        n = unhex("40 01 61 01 62", buf); /* a: b, 34 bytes */
        CHECK(rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, sizeof(scratch), SIZE_MAX, &nf) ==
                      0 &&
                  rw_hpack_table_count(&d.t) == 1,
              "one entry");
        n = unhex("82 40 01 78 ac", buf);
        memset(buf + n, 0x18, 44); /* 'a' x 70 Huffman: 00011 repeated */
        for (int i = 0; i < 44; i++)
            buf[n + (size_t)i] = (uint8_t[]){ 0x18, 0xc6, 0x31, 0x8c, 0x63 }[i % 5];
        buf[n + 43] |= 0x0f; /* 350 bits -> 44 bytes: 2 bits of padding */
        n += 44;
        int rc = rw_hpack_decode(&d, buf, n, fields, MAXF, scratch, sizeof(scratch),
                                 skip ? 40 : SIZE_MAX, &nf);
        CHECK(rc == (skip ? RW_HPACK_E_LIST_TOO_LARGE : 0), "too-big entry skip=%d rc %d", skip, rc);
        if (!skip)
            CHECK(nf == 2 && fields[1].value.n == 70 && fields[1].value.p[69] == 'a', "70 a's");
        CHECK_EQ_INT(rw_hpack_table_count(&d.t), 0, "table emptied");
        rw_hpack_decoder_free(&d);
    }
}

/* ---- never-indexed ---- */
static void test_never_indexed(void)
{
    rw_hpack_encoder e;
    rw_hpack_decoder d;
    uint8_t out[512];
    size_t w, nf;
    rw_hpack_encoder_init(&e, 4096);
    rw_hpack_decoder_init(&d, 4096);
    rw_hpack_field in[] = {
        { rw_str_c("x-secret"), rw_str_c("hunter2"), RW_HPACK_F_NEVER_INDEX },
        { rw_str_c("authorization"), rw_str_c("Bearer abc"), 0 },
        { rw_str_c("cookie"), rw_str_c("sid=1"), 0 },
        { rw_str_c("cookie"), rw_str_c("a-long-cookie-value-xxxxxxxxxxxxxxxxx"), 0 },
        { rw_str_c("set-cookie"), rw_str_c("id=a3fWa; Max-Age=2592000"), 0 },
        { rw_str_c(":method"), rw_str_c("GET"), RW_HPACK_F_NEVER_INDEX }, /* static exact */
        { rw_str_c("x-plain"), rw_str_c("v"), RW_HPACK_F_NO_INDEX },
    };
    const uint32_t want_flags[] = { 1, 1, 1, 0, 1, 1, 0 };
    const size_t cnt = sizeof(in) / sizeof(in[0]);
    for (int round = 0; round < 2; round++) {
        CHECK(rw_hpack_encode(&e, in, cnt, out, sizeof(out), &w) == 0, "encode");
        int rc = rw_hpack_decode(&d, out, w, fields, MAXF, scratch, sizeof(scratch), SIZE_MAX, &nf);
        CHECK(rc == 0 && nf == cnt, "decode rc %d nf %zu", rc, nf);
        for (size_t i = 0; i < nf; i++) {
            CHECK(fields[i].name.n == in[i].name.n && fields[i].value.n == in[i].value.n &&
                      memcmp(fields[i].value.p, in[i].value.p, in[i].value.n) == 0,
                  "field %zu", i);
            CHECK(fields[i].flags == want_flags[i], "round %d field %zu flags %u", round, i,
                  fields[i].flags);
        }
        /* Only the long cookie was indexed. */
        CHECK_EQ_INT(rw_hpack_table_count(&e.t), 1, "one entry");
        CHECK_EQ_INT(rw_hpack_table_count(&d.t), 1, "one entry (decoder)");
    }
    /* The flag survives a proxy hop: decoded fields re-encoded keep it. */
    CHECK(rw_hpack_encode(&e, fields, cnt, out, sizeof(out), &w) == 0, "re-encode");
    rw_hpack_field again[16];
    CHECK(rw_hpack_decode(&d, out, w, again, 16, scratch + 32768, 32768, SIZE_MAX, &nf) == 0, "dec");
    for (size_t i = 0; i < nf; i++)
        CHECK(again[i].flags == want_flags[i], "hop field %zu", i);
    rw_hpack_encoder_free(&e);
    rw_hpack_decoder_free(&d);
}

static void test_encoder_misc(void)
{
    rw_hpack_encoder e;
    uint8_t out[256];
    size_t w;
    rw_hpack_encoder_init(&e, 1000);
    rw_hpack_field f[] = { { rw_str_c("server"), rw_str_c("ringwire"), 0 },
                           { rw_str_c("content-type"), rw_str_c("text/html"), 0 } };
    size_t bound = rw_hpack_encode_bound(f, 2);
    CHECK_EQ_INT(rw_hpack_encode(&e, f, 2, out, bound - 1, &w), RW_HPACK_E_NOSPACE, "below bound");
    CHECK(w == 0 && rw_hpack_table_count(&e.t) == 0 && e.pending, "state untouched");
    CHECK(rw_hpack_encode(&e, f, 2, out, bound, &w) == 0, "at bound");
    CHECK(w >= 3 && out[0] == 0x3f && out[1] == 0xc9 && out[2] == 0x07,
          "capacity 1000 < 4096 is announced first");
    CHECK_EQ_INT(rw_hpack_table_count(&e.t), 2, "server and content-type indexed");
    CHECK(rw_hpack_encode(&e, f, 2, out, sizeof(out), &w) == 0 && w == 2 && out[0] == 0xbf &&
              out[1] == 0xbe,
          "repeat: two indexed bytes");
    rw_hpack_field big = { { "x", (size_t)UINT32_MAX + 1 }, rw_str_c(""), 0 };
    CHECK_EQ_INT(rw_hpack_encode(&e, &big, 1, out, sizeof(out), &w), RW_HPACK_E_INVALID, "> 4 GiB");
    rw_hpack_encoder_free(&e);

    rw_hpack_decoder d;
    CHECK_EQ_INT(rw_hpack_decoder_init(&d, (size_t)RW_HPACK_MAX_TABLE_SIZE + 1), RW_HPACK_E_INVALID,
                 "capacity limit");
    CHECK_EQ_INT(rw_hpack_encoder_init(&e, (size_t)RW_HPACK_MAX_TABLE_SIZE + 1), RW_HPACK_E_INVALID,
                 "capacity limit");
}

/* ---- random round trips ---- */
static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static const char *const pool_names[] = {
    ":status", ":path", ":authority", "content-type", "server", "date", "cache-control",
    "content-length", "set-cookie", "cookie", "authorization", "x-request-id", "vary", "etag",
    "accept-encoding", "user-agent", "x-custom", "X-Upper", "", "via",
};
static const char *const pool_values[] = { "200", "/", "text/html", "ringwire", "gzip, deflate",
                                           "no-cache", "", "1234", "GET", "https" };

static void random_roundtrips(size_t cap, int blocks, int *bad)
{
    static char store[1 << 16];
    static uint8_t wire[1 << 17];
    rw_hpack_encoder e;
    rw_hpack_decoder d;
    rw_hpack_encoder_init(&e, cap);
    rw_hpack_decoder_init(&d, cap);
    if (cap > RW_HPACK_DEFAULT_TABLE_SIZE) {
        rw_hpack_decoder_set_limit(&d, cap);
        rw_hpack_encoder_set_peer_limit(&e, cap);
    }
    for (int b = 0; b < blocks; b++) {
        if (b % 17 == 16) { /* SETTINGS_HEADER_TABLE_SIZE change on both sides */
            size_t lim = cap ? rnd() % (cap + 1) : 0;
            rw_hpack_decoder_set_limit(&d, lim);
            rw_hpack_encoder_set_peer_limit(&e, lim);
        }
        rw_hpack_field in[64];
        size_t n = rnd() % 40, used = 0;
        for (size_t i = 0; i < n; i++) {
            const char *nm = pool_names[rnd() % (sizeof(pool_names) / sizeof(pool_names[0]))];
            rw_str name = rw_str_c(nm), value;
            if (rnd() % 4 == 0) { /* random name */
                size_t l = 1 + rnd() % 12;
                for (size_t k = 0; k < l; k++)
                    store[used + k] = (char)('a' + rnd() % 26);
                name = (rw_str){ store + used, l };
                used += l;
            }
            if (rnd() % 2) {
                value = rw_str_c(pool_values[rnd() % (sizeof(pool_values) / sizeof(pool_values[0]))]);
            } else {
                size_t l = rnd() % 8 == 0 ? rnd() % 1200 : rnd() % 40;
                bool bin = rnd() % 3 == 0;
                for (size_t k = 0; k < l; k++)
                    store[used + k] = bin ? (char)rnd() : (char)(' ' + rnd() % 95);
                value = (rw_str){ store + used, l };
                used += l;
            }
            uint32_t fl = rnd() % 10 == 0 ? RW_HPACK_F_NEVER_INDEX
                                          : (rnd() % 10 == 0 ? RW_HPACK_F_NO_INDEX : 0);
            in[i] = (rw_hpack_field){ name, value, fl };
        }
        size_t w, nf;
        int rc = rw_hpack_encode(&e, in, n, wire, sizeof(wire), &w);
        if (rc) {
            (*bad)++;
            continue;
        }
        rc = rw_hpack_decode(&d, wire, w, fields, MAXF, scratch, sizeof(scratch), SIZE_MAX, &nf);
        bool ok = rc == 0 && nf == n;
        for (size_t i = 0; ok && i < n; i++) {
            ok = rw_str_eq(fields[i].name, in[i].name) && rw_str_eq(fields[i].value, in[i].value);
            if (in[i].flags & RW_HPACK_F_NEVER_INDEX)
                ok = ok && (fields[i].flags & RW_HPACK_F_NEVER_INDEX);
        }
        ok = ok && e.t.size == d.t.size && e.t.count == d.t.count && e.t.max_size == d.t.max_size;
        if (!ok) {
            fprintf(stderr, "cap %zu block %d: rc %d nf %zu/%zu sizes %u/%u\n", cap, b, rc, nf, n,
                    e.t.size, d.t.size);
            (*bad)++;
        }
    }
    rw_hpack_encoder_free(&e);
    rw_hpack_decoder_free(&d);
}

static void test_random(void)
{
    static const size_t caps[] = { 0, 31, 64, 256, 1000, 4096, 16384 };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        int bad = 0;
        random_roundtrips(caps[i], 400, &bad);
        CHECK(bad == 0, "random round trips, table capacity %zu: %d bad", caps[i], bad);
    }
}

int main(void)
{
    test_integers();
    test_c2();
    test_c3_c4();
    test_c5_c6();
    test_errors();
    test_size_updates();
    test_stream_limits();
    test_never_indexed();
    test_encoder_misc();
    test_random();
    return check_summary("test_hpack");
}
