/* rw_percent_decode: valid escapes, malformed escapes, capacity edges and
 * in-place decoding. */
#include <stdio.h>
#include <string.h>

#include "ringwire/ringwire.h"

#include "check.h"

typedef struct pcase {
    const char *name;
    const char *in;
    long want_len;     /* -1: rejected */
    const char *want;  /* decoded bytes (want_len of them) */
    size_t cap;        /* 0: plenty */
} pcase;

static const pcase k_cases[] = {
    { "plain", "/a/b.html", 9, "/a/b.html", 0 },
    { "empty", "", 0, "", 0 },
    { "space", "/a%20b", 4, "/a b", 0 },
    { "upper and lower hex", "%2f%2F%aB%Ab", 4, "//\xab\xab", 0 },
    { "plus stays", "a+b", 3, "a+b", 0 },
    { "utf-8", "%C3%A9", 2, "\xc3\xa9", 0 },
    { "NUL decoded", "a%00b", 3, "a\0b", 0 },
    { "percent itself", "100%25", 4, "100%", 0 },
    { "trailing percent", "abc%", -1, NULL, 0 },
    { "one hex digit at end", "abc%4", -1, NULL, 0 },
    { "non-hex first", "%G0", -1, NULL, 0 },
    { "non-hex second", "%0G", -1, NULL, 0 },
    { "percent space", "% 20", -1, NULL, 0 },
    { "double percent", "%%41", -1, NULL, 0 },
    { "exact capacity", "ab%41", 3, "abA", 3 },
    { "over capacity", "ab%41", -1, NULL, 2 },
    { "zero capacity, empty input", "", 0, "", 1 },
};

int main(void)
{
    char out[64];
    for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
        const pcase *c = &k_cases[i];
        size_t cap = c->cap ? c->cap : sizeof(out);
        if (c->cap == 1 && c->in[0] == '\0')
            cap = 0;
        memset(out, 0x55, sizeof(out));
        long r = rw_percent_decode(c->in, strlen(c->in), out, cap);
        CHECK_CASE(r == c->want_len, c->name, "want %ld got %ld", c->want_len, r);
        if (r >= 0 && r == c->want_len)
            CHECK_CASE(memcmp(out, c->want, (size_t)r) == 0, c->name, "decoded bytes differ");
        if (c->cap)
            CHECK_CASE((size_t)(unsigned char)out[cap] == 0x55, c->name, "wrote past cap");
    }

    /* in place: dst == src */
    char buf[] = "/x%41y%2Fz";
    long r = rw_percent_decode(buf, strlen(buf), buf, sizeof(buf));
    CHECK_CASE(r == 6 && memcmp(buf, "/xAy/z", 6) == 0, "in place", "got %ld '%.*s'", r,
               r > 0 ? (int)r : 0, buf);

    /* every byte value round-trips through its escape */
    for (int v = 0; v < 256; v++) {
        char in[4];
        snprintf(in, sizeof(in), "%%%02X", v);
        char o = 0;
        r = rw_percent_decode(in, 3, &o, 1);
        CHECK_CASE(r == 1 && (unsigned char)o == v, "all bytes", "byte %d: r=%ld", v, r);
    }

    return check_summary("percent");
}
