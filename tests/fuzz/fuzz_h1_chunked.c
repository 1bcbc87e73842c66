/* libFuzzer harness for the chunked decoder. The first input byte picks the
 * limits and a piece size; the rest is decoded once whole and once cut into
 * pieces. Both runs must agree on the verdict, the offset where the message
 * (or the error) ended and the decoded bytes; data views must lie inside the
 * piece that was fed, and the decoder may never claim more than it got. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1/chunked.h"

typedef struct run {
    rw_chunked_result r; /* DONE, ERROR, or NEED_MORE at the end of input */
    size_t end;          /* DONE/ERROR: absolute offset */
    char *out;
    size_t outlen;
} run;

static void decode(const char *in, size_t len, size_t piece, size_t max_line, size_t max_trailer,
                   run *o)
{
    rw_chunked d;
    rw_chunked_init(&d, max_line, max_trailer);
    o->r = RW_CHUNKED_NEED_MORE;
    o->end = 0;
    o->outlen = 0;
    for (size_t start = 0; start < len; start += piece) {
        size_t n = len - start < piece ? len - start : piece;
        char *p = malloc(n);
        memcpy(p, in + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0;
            rw_str data = { NULL, 0 };
            rw_chunked_result r = rw_chunked_feed(&d, p + off, n - off, &used, &data);
            if (used > n - off)
                abort();
            if (r == RW_CHUNKED_DATA) {
                if (data.n == 0 || data.p < p + off || data.p + data.n > p + n ||
                    o->outlen + data.n > len)
                    abort();
                memcpy(o->out + o->outlen, data.p, data.n);
                o->outlen += data.n;
                off += used;
                continue;
            }
            off += used;
            if (r == RW_CHUNKED_NEED_MORE && off != n)
                abort();
            if (r != RW_CHUNKED_NEED_MORE) {
                if (r == RW_CHUNKED_ERROR && !d.error_reason)
                    abort();
                o->r = r;
                o->end = start + off;
            }
            break;
        }
        free(p);
        if (o->r != RW_CHUNKED_NEED_MORE)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const size_t lines[] = { 4096, 64, 8, 3 };
    static const size_t trailers[] = { 16384, 64, 16, 2 };
    size_t max_line = lines[data[0] & 3], max_trailer = trailers[(data[0] >> 2) & 3];
    size_t piece = 1 + (data[0] >> 4); /* 1..16 */
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    run a, b;
    a.out = malloc(len + 1);
    b.out = malloc(len + 1);
    decode(in, len, len ? len : 1, max_line, max_trailer, &a);
    decode(in, len, piece, max_line, max_trailer, &b);
    if (a.r != b.r || a.end != b.end || a.outlen != b.outlen ||
        memcmp(a.out, b.out, a.outlen) != 0)
        abort();
    if (a.r == RW_CHUNKED_DONE && a.outlen >= a.end)
        abort(); /* framing bytes always outnumber zero */
    free(a.out);
    free(b.out);
    return 0;
}
