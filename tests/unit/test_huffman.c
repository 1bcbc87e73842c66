/* HPACK Huffman codec: RFC 7541 Appendix C strings, every byte value,
 * padding and EOS rules, and the state-machine decoder against a bit-by-bit
 * reference decoder built from the code table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http2/huffman.h"
#include "http2/huffman_table.h"

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

/* Reference: walk the bits, look up (code, len) among symbols of that length. */
static long ref_decode(const uint8_t *src, size_t n, uint8_t *dst)
{
    uint32_t cur = 0;
    unsigned len = 0;
    long out = 0;
    for (size_t i = 0; i < n * 8; i++) {
        cur = (cur << 1) | ((src[i / 8] >> (7 - i % 8)) & 1);
        len++;
        for (int s = 0; s < 257; s++) {
            if (rw_huff_len[s] == len && rw_huff_code[s] == cur) {
                if (s == 256)
                    return -1;
                dst[out++] = (uint8_t)s;
                cur = 0;
                len = 0;
                break;
            }
        }
        if (len > 30)
            return -1;
    }
    if (len > 7 || cur != (1u << len) - 1)
        return -1;
    return out;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_rfc_strings(void)
{
    static const struct {
        const char *text, *hex;
    } v[] = {
        { "www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff" },
        { "no-cache", "a8eb 1064 9cbf" },
        { "custom-key", "25a8 49e9 5ba9 7d7f" },
        { "custom-value", "25a8 49e9 5bb8 e8b4 bf" },
        { "302", "6402" },
        { "307", "640e ff" },
        { "private", "aec3 771a 4b" },
        { "Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff" },
        { "Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff" },
        { "https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3" },
        { "gzip", "9bd9 ab" },
        { "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
          "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 "
          "65c0 03ed 4ee5 b106 3d50 07" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t want[128], got[128], dec[128];
        size_t wn = unhex(v[i].hex, want), tn = strlen(v[i].text);
        CHECK_EQ_INT(rw_huff_encoded_len((const uint8_t *)v[i].text, tn), wn, v[i].text);
        long n = rw_huff_encode((const uint8_t *)v[i].text, tn, got, sizeof(got));
        CHECK(n == (long)wn && memcmp(got, want, wn) == 0, "encode %s", v[i].text);
        long d = rw_huff_decode(want, wn, dec, sizeof(dec));
        CHECK(d == (long)tn && memcmp(dec, v[i].text, tn) == 0, "decode %s", v[i].text);
        CHECK_EQ_INT(rw_huff_decoded_len(want, wn), tn, v[i].text);
        /* Exactly enough room works; one byte less does not. */
        CHECK_EQ_INT(rw_huff_decode(want, wn, dec, tn), tn, "exact cap");
        CHECK_EQ_INT(rw_huff_decode(want, wn, dec, tn - 1), RW_HUFF_E_NOSPACE, "short cap");
        CHECK_EQ_INT(rw_huff_encode((const uint8_t *)v[i].text, tn, got, wn - 1), RW_HUFF_E_NOSPACE,
                     "short encode cap");
    }
}

static void test_every_byte(void)
{
    uint8_t all[256], enc[1024], dec[256];
    for (int b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b, e[8], o[2];
        long n = rw_huff_encode(&one, 1, e, sizeof(e));
        CHECK(n == (long)((rw_huff_len[b] + 7) / 8), "byte %d encoded length %ld", b, n);
        long d = rw_huff_decode(e, (size_t)n, o, sizeof(o));
        CHECK(d == 1 && o[0] == one, "byte %d round trip", b);
        all[b] = (uint8_t)(255 - b);
    }
    long n = rw_huff_encode(all, 256, enc, sizeof(enc));
    CHECK(n > 0 && (size_t)n == rw_huff_encoded_len(all, 256), "all bytes encode");
    long d = rw_huff_decode(enc, (size_t)n, dec, sizeof(dec));
    CHECK(d == 256 && memcmp(dec, all, 256) == 0, "all bytes round trip");
    /* Random strings of every length up to 300. */
    int bad = 0;
    for (int len = 0; len <= 300; len++) {
        uint8_t s[300], e[1200], o[300];
        for (int i = 0; i < len; i++)
            s[i] = len % 3 ? (uint8_t)rnd() : (uint8_t)"abcdefghij0123/-"[rnd() % 16];
        long en = rw_huff_encode(s, (size_t)len, e, sizeof(e));
        long dn = en < 0 ? -1 : rw_huff_decode(e, (size_t)en, o, sizeof(o));
        if (dn != len || memcmp(s, o, (size_t)len) != 0)
            bad++;
    }
    CHECK_EQ_INT(bad, 0, "random round trips");
}

static void test_invalid(void)
{
    static const struct {
        const char *hex, *why;
    } v[] = {
        { "ff", "8 bits of padding" },
        { "1fff", "'a' + 11 bits of padding" },
        { "18", "'a' + padding 000 (not ones)" },
        { "1e", "'a' + padding 110" },
        { "ffff fffc", "EOS (30 ones) then 2 more bits" },
        { "ffff ffff", "EOS then ones" },
        { "00ff ffff ff", "'0','0' ... EOS inside" },
        { "fe", "8 bits, no symbol completes" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t in[16], out[64];
        size_t n = unhex(v[i].hex, in);
        long r = rw_huff_decode(in, n, out, sizeof(out));
        long ref = ref_decode(in, n, out);
        CHECK(r == RW_HUFF_E_INVALID && ref == -1, "%s: got %ld ref %ld", v[i].why, r, ref);
        CHECK_EQ_INT(rw_huff_decoded_len(in, n), RW_HUFF_E_INVALID, v[i].why);
    }
    uint8_t out[4];
    CHECK_EQ_INT(rw_huff_decode((const uint8_t *)"", 0, out, 0), 0, "empty string is valid");
    /* '0' = 00000 then 3 ones of padding: valid. */
    uint8_t ok = 0x07;
    CHECK(rw_huff_decode(&ok, 1, out, 4) == 1 && out[0] == '0', "7-bit-ish padding ok");
}

/* Every 1- and 2-byte input, and random longer ones, against the reference. */
static void test_against_reference(void)
{
    int bad = 0;
    for (unsigned v = 0; v < 65536; v++) {
        uint8_t in[2] = { (uint8_t)(v >> 8), (uint8_t)v }, a[8], b[8];
        for (size_t n = 1; n <= 2; n++) {
            if (n == 1 && v >= 256)
                break;
            const uint8_t *src = n == 1 ? &in[1] : in;
            long r = rw_huff_decode(src, n, a, sizeof(a));
            long ref = ref_decode(src, n, b);
            if ((r < 0) != (ref < 0) || (r >= 0 && (r != ref || memcmp(a, b, (size_t)r))))
                bad++;
        }
    }
    for (int k = 0; k < 20000; k++) {
        uint8_t in[8], a[16], b[16];
        size_t n = 3 + rnd() % 6;
        for (size_t i = 0; i < n; i++) /* bias towards long all-ones codes */
            in[i] = (uint8_t)(rnd() % 4 ? rnd() | 0xe0 : rnd());
        long r = rw_huff_decode(in, n, a, sizeof(a));
        long ref = ref_decode(in, n, b);
        if ((r < 0) != (ref < 0) || (r >= 0 && (r != ref || memcmp(a, b, (size_t)r))))
            bad++;
    }
    CHECK_EQ_INT(bad, 0, "state machine vs reference mismatches");
}

int main(void)
{
    test_rfc_strings();
    test_every_byte();
    test_invalid();
    test_against_reference();
    return check_summary("test_huffman");
}
