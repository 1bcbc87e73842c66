/* Chunked decoder: each body decoded whole, in 1-byte pieces and in every
 * 2-piece split; the reassembled data, the end offset and the verdict must
 * not depend on how the bytes were cut. Every piece is an exact-size heap
 * copy so ASan sees any read beyond it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1/chunked.h"

#include "check.h"

#define MAX_LINE 100
#define MAX_TRAILER 64
#define OUT_CAP 4096

typedef struct ccase {
    const char *name;
    const char *raw;
    bool ok;
    const char *body;  /* ok: decoded data */
    int end;           /* ok: offset just past the message; 0 = strlen(raw) */
} ccase;

static const ccase k_cases[] = {
    { "two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", .ok = true, .body = "hello world" },
    { "lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", .ok = true, .body = "0123456789" },
    { "upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", .ok = true, .body = "0123456789" },
    { "two hex digits", "1e\r\nall your base are belong to us\r\n0\r\n\r\n", .ok = true,
      .body = "all your base are belong to us" },
    { "only last-chunk", "0\r\n\r\n", .ok = true, .body = "" },
    { "triple zero last-chunk", "5\r\nhello\r\n000\r\n\r\n", .ok = true, .body = "hello" },
    { "16 digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", .ok = true, .body = "hello" },
    { "extensions", "5;a=b\r\nhello\r\n0;x\r\n\r\n", .ok = true, .body = "hello" },
    { "many extensions", "5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n"
      "6;blahblah;blah\r\n world\r\n0\r\n\r\n", .ok = true, .body = "hello world" },
    { "quoted extension",
      "5;ilovew3=\"I \\\"love\\\"; \\\\extensions\\\\\";somuchlove=\"x\";blah;foo=bar\r\nhello\r\n"
      "0\r\n\r\n", .ok = true, .body = "hello" },
    { "BWS before ';'", "5 ;a\r\nhello\r\n0\t\t;b\r\n\r\n", .ok = true, .body = "hello" },
    { "BWS around '='", "5\t; a = b ;c\r\nhello\r\n0\r\n\r\n", .ok = true, .body = "hello" },
    { "BWS after quoted value", "5;a=\"b\" ;c\r\nhello\r\n0\r\n\r\n", .ok = true, .body = "hello" },
    { "trailers", "5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nX-T: a\tb\r\n\r\n", .ok = true,
      .body = "hello world" },
    { "trailer with empty value", "1\r\nx\r\n0\r\nA:\r\n\r\n", .ok = true, .body = "x" },
    { "trailer obs-text", "1\r\nx\r\n0\r\nA: \xfc\r\n\r\n", .ok = true, .body = "x" },
    { "stops at end of message", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", .ok = true, .body = "x", .end = 11 },
    { "binary data", "4\r\n\r\n\0\xff\r\n0\r\n\r\n", .ok = true, .body = NULL },

    { "missing last-chunk", "3\r\nfoo\r\n\r\n", .ok = false },
    { "empty size line", "\r\n", .ok = false },
    { "space after size", "a \r\n0123456789\r\n0\r\n\r\n", .ok = false },
    { "words after size", "2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n", .ok = false },
    { "empty extension", "2;\r\naa\r\n0\r\n\r\n", .ok = false },
    { "extension name then space then CR", "2;a \r\naa\r\n0\r\n\r\n", .ok = false },
    { "extension empty value", "2;a=\r\naa\r\n0\r\n\r\n", .ok = false },
    { "extension bad name", "2;@\r\naa\r\n0\r\n\r\n", .ok = false },
    { "unbalanced quote", "5;a=\"abc;b=\"def; ghi\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "junk after quoted value", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "CTL in quoted value", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "data not followed by CRLF", "5\r\nABCDE0\r\n", .ok = false },
    { "data followed by LF", "5\r\nhello\n0\r\n\r\n", .ok = false },
    { "data followed by CR only", "5\r\nhello\r0\r\n\r\n", .ok = false },
    { "size line bare LF", "5\nhello\r\n0\r\n\r\n", .ok = false },
    { "size line CR CR", "5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n", .ok = false },
    { "size then LF then CR", "3 \n  \r\nfoo\r\n\r\n", .ok = false },
    { "17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "sign", "-5\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", .ok = false },
    { "non-hex", "g\r\n", .ok = false },
    { "size line too long", "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n",
      .ok = false },
    { "trailer obs-fold", "0\r\nA: b\r\n c\r\n\r\n", .ok = false },
    { "trailer without colon", "0\r\nABC\r\n\r\n", .ok = false },
    { "trailer space before colon", "0\r\nA : b\r\n\r\n", .ok = false },
    { "trailer empty name", "0\r\n: b\r\n\r\n", .ok = false },
    { "trailer bare CR", "0\r\nA: b\rc\r\n\r\n", .ok = false },
    { "trailer bare LF", "0\r\nA: b\n\r\n", .ok = false },
    { "trailer CTL", "0\r\nA: \x01\r\n\r\n", .ok = false },
    { "final bare LF", "0\r\n\n", .ok = false },
    { "final CR then junk", "0\r\n\rx", .ok = false },
    { "trailer section too large",
      "0\r\nA: 0123456789012345678901234567890123456789\r\nB: 0123456789012345678901234\r\n\r\n",
      .ok = false },
};

typedef struct outcome {
    rw_chunked_result r; /* DONE, ERROR or NEED_MORE (input ran out) */
    size_t end;          /* DONE: offset in the whole input just past the message */
    char out[OUT_CAP];
    size_t outlen;
    const char *why;
} outcome;

/* Feeds raw cut at cuts[0..ncuts) (sorted offsets), one heap copy per piece. */
static void decode(const char *raw, size_t len, const size_t *cuts, size_t ncuts, outcome *o)
{
    rw_chunked d;
    rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
    memset(o, 0, sizeof(*o));
    o->r = RW_CHUNKED_NEED_MORE;
    size_t start = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t stop = k < ncuts ? cuts[k] : len;
        size_t n = stop - start;
        char *piece = malloc(n ? n : 1);
        memcpy(piece, raw + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0;
            rw_str data = { NULL, 0 };
            rw_chunked_result r = rw_chunked_feed(&d, piece + off, n - off, &used, &data);
            if (used > n - off) {
                o->r = RW_CHUNKED_ERROR;
                o->why = "consumed more than given";
                break;
            }
            if (r == RW_CHUNKED_DATA) {
                bool inside = data.n > 0 && data.p >= piece + off && data.p + data.n <= piece + n;
                if (!inside || o->outlen + data.n > OUT_CAP) {
                    o->r = RW_CHUNKED_ERROR;
                    o->why = "bad data view";
                    break;
                }
                memcpy(o->out + o->outlen, data.p, data.n);
                o->outlen += data.n;
                off += used;
                continue;
            }
            off += used;
            if (r == RW_CHUNKED_DONE) {
                o->r = r;
                o->end = start + off;
            } else if (r == RW_CHUNKED_ERROR) {
                o->r = r;
                o->why = d.error_reason;
            } else if (off != n) {
                o->r = RW_CHUNKED_ERROR;
                o->why = "NEED_MORE without consuming everything";
            }
            break;
        }
        free(piece);
        if (o->r != RW_CHUNKED_NEED_MORE)
            return;
        start = stop;
    }
}

static const char *res_name(rw_chunked_result r)
{
    switch (r) {
    case RW_CHUNKED_DATA: return "DATA";
    case RW_CHUNKED_NEED_MORE: return "NEED_MORE";
    case RW_CHUNKED_DONE: return "DONE";
    case RW_CHUNKED_ERROR: return "ERROR";
    case RW_CHUNKED_TOO_LARGE: return "TOO_LARGE";
    }
    return "?";
}

static size_t case_len(const ccase *c)
{
    /* "binary data" holds a NUL: its length is known */
    if (strcmp(c->name, "binary data") == 0)
        return 14;
    return strlen(c->raw);
}

static void check_outcome(const ccase *c, const outcome *o, const char *how)
{
    size_t len = case_len(c);
    if (c->ok) {
        size_t end = c->end ? (size_t)c->end : len;
        CHECK_CASE(o->r == RW_CHUNKED_DONE, c->name, "%s: want DONE got %s (%s)", how,
                   res_name(o->r), o->why ? o->why : "-");
        if (o->r != RW_CHUNKED_DONE)
            return;
        CHECK_CASE(o->end == end, c->name, "%s: want end %zu got %zu", how, end, o->end);
        if (c->body)
            CHECK_CASE(o->outlen == strlen(c->body) && memcmp(o->out, c->body, o->outlen) == 0,
                       c->name, "%s: body want '%s' got '%.*s'", how, c->body, (int)o->outlen,
                       o->out);
        else
            CHECK_CASE(o->outlen == 4 && memcmp(o->out, "\r\n\0\xff", 4) == 0, c->name,
                       "%s: binary body mismatch (len %zu)", how, o->outlen);
    } else {
        CHECK_CASE(o->r == RW_CHUNKED_ERROR && o->why != NULL, c->name, "%s: want ERROR got %s",
                   how, res_name(o->r));
    }
}

static void run_cases(void)
{
    static outcome o;
    size_t cuts[OUT_CAP];
    for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
        const ccase *c = &k_cases[i];
        size_t len = case_len(c);

        decode(c->raw, len, NULL, 0, &o);
        check_outcome(c, &o, "whole");

        for (size_t k = 0; k + 1 < len; k++)
            cuts[k] = k + 1;
        decode(c->raw, len, cuts, len ? len - 1 : 0, &o);
        check_outcome(c, &o, "1-byte pieces");

        for (size_t k = 0; k <= len; k++) {
            char how[48];
            snprintf(how, sizeof(how), "split at %zu", k);
            decode(c->raw, len, &k, 1, &o);
            check_outcome(c, &o, how);
        }

        /* a prefix that ends before the message is never DONE and, for a
         * valid body, never an error */
        size_t end = c->end ? (size_t)c->end : len;
        for (size_t k = 0; c->ok && k < end; k++) {
            decode(c->raw, k, NULL, 0, &o);
            CHECK_CASE(o.r == RW_CHUNKED_NEED_MORE, c->name,
                       "prefix %zu: want NEED_MORE got %s (%s)", k, res_name(o.r),
                       o.why ? o.why : "-");
        }
    }
}

static void run_misc(void)
{
    rw_chunked d;
    size_t used;
    rw_str data;

    /* the largest 16-digit size is accepted and waits for its data */
    rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
    const char *big = "ffffffffffffffff\r\nab";
    rw_chunked_result r = rw_chunked_feed(&d, big, strlen(big), &used, &data);
    CHECK_CASE(r == RW_CHUNKED_DATA && data.n == 2 && used == strlen(big), "max size", "r=%s n=%zu",
               res_name(r), data.n);
    CHECK_CASE(d.remaining == UINT64_MAX - 2, "max size", "remaining %llu",
               (unsigned long long)d.remaining);

    /* after DONE nothing more is taken */
    rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
    r = rw_chunked_feed(&d, "0\r\n\r\n", 5, &used, &data);
    CHECK_CASE(r == RW_CHUNKED_DONE && used == 5, "done", "r=%s used=%zu", res_name(r), used);
    r = rw_chunked_feed(&d, "1\r\n", 3, &used, &data);
    CHECK_CASE(r == RW_CHUNKED_DONE && used == 0, "after done", "r=%s used=%zu", res_name(r), used);

    /* after ERROR it stays an error */
    rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
    r = rw_chunked_feed(&d, "x", 1, &used, &data);
    CHECK_CASE(r == RW_CHUNKED_ERROR && d.error_reason, "error", "r=%s", res_name(r));
    r = rw_chunked_feed(&d, "0\r\n\r\n", 5, &used, &data);
    CHECK_CASE(r == RW_CHUNKED_ERROR && used == 0, "after error", "r=%s used=%zu", res_name(r),
               used);

    /* empty input */
    rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
    r = rw_chunked_feed(&d, "", 0, &used, &data);
    CHECK_CASE(r == RW_CHUNKED_NEED_MORE && used == 0, "empty input", "r=%s", res_name(r));

    /* size line exactly at max_line is fine, one more byte is not */
    char line[MAX_LINE + 16];
    for (int extra = 0; extra < 2; extra++) {
        rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
        size_t n = 0;
        line[n++] = '0';
        line[n++] = ';';
        while (n < (size_t)MAX_LINE - 2 + (size_t)extra)
            line[n++] = 'a';
        line[n++] = '\r';
        line[n++] = '\n';
        r = rw_chunked_feed(&d, line, n, &used, &data);
        rw_chunked_result want = extra ? RW_CHUNKED_ERROR : RW_CHUNKED_NEED_MORE;
        CHECK_CASE(r == want, "max_line edge", "line %zu bytes: want %s got %s", n, res_name(want),
                   res_name(r));
    }
}

/* max_body: a chunk-size passing it (alone or with the chunks before it) is
 * TOO_LARGE at the size digit that passes it, before any of its data. */
static void run_max_body(void)
{
    static const struct {
        const char *name, *raw;
        uint64_t max;
        rw_chunked_result want;
        size_t at; /* TOO_LARGE: *consumed, the offset of the digit that passed */
        size_t data; /* data bytes handed out before the verdict */
    } cases[] = {
        { "one over", "b\r\n", 10, RW_CHUNKED_TOO_LARGE, 0, 0 },
        { "second digit passes", "10\r\n", 10, RW_CHUNKED_TOO_LARGE, 1, 0 },
        { "no line end needed", "ffffffffffffffff", 10, RW_CHUNKED_TOO_LARGE, 0, 0 },
        { "sum passes at chunk 2", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10,
          RW_CHUNKED_TOO_LARGE, 10, 5 },
        { "exactly the limit", "5\r\nhello\r\n5\r\n worl\r\n0\r\n\r\n", 10, RW_CHUNKED_DONE,
          0, 10 },
        { "leading zeros", "000000000000000a\r\n0123456789\r\n0\r\n\r\n", 10, RW_CHUNKED_DONE,
          0, 10 },
        { "limit 0, empty body", "0\r\n\r\n", 0, RW_CHUNKED_DONE, 0, 0 },
        { "limit 0, one byte", "1\r\nx\r\n0\r\n\r\n", 0, RW_CHUNKED_TOO_LARGE, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            rw_chunked d;
            rw_chunked_init(&d, MAX_LINE, MAX_TRAILER);
            d.max_body = cases[i].max;
            const char *raw = cases[i].raw;
            size_t len = strlen(raw), pos = 0, got = 0, used = 0;
            rw_chunked_result r = RW_CHUNKED_NEED_MORE;
            while (pos < len) {
                size_t n = bytewise ? 1 : len - pos;
                rw_str data;
                r = rw_chunked_feed(&d, raw + pos, n, &used, &data);
                if (r == RW_CHUNKED_DATA)
                    got += data.n;
                else if (r != RW_CHUNKED_NEED_MORE)
                    break;
                pos += used;
            }
            CHECK_CASE(r == cases[i].want, cases[i].name, "%s: want %s got %s",
                  bytewise ? "bytewise" : "whole", res_name(cases[i].want), res_name(r));
            CHECK_CASE(got == cases[i].data, cases[i].name, "data bytes %zu want %zu", got,
                  cases[i].data);
            if (cases[i].want == RW_CHUNKED_TOO_LARGE) {
                CHECK_CASE(pos + used == cases[i].at && d.error_reason, cases[i].name,
                      "refused at %zu want %zu", pos + used, cases[i].at);
                rw_str data;
                r = rw_chunked_feed(&d, "0\r\n\r\n", 5, &used, &data);
                CHECK_CASE(r < 0 && used == 0, cases[i].name, "after TOO_LARGE: %s", res_name(r));
            }
        }
    }
}

int main(void)
{
    run_cases();
    run_misc();
    run_max_body();
    return check_summary("h1_chunked");
}
