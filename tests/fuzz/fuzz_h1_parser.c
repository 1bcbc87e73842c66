/* libFuzzer harness for rw_h1_parse_request. The first input byte picks a
 * limit set (so 414/431 paths are reached); the rest is the request. Beyond
 * "no crash", it checks the parser's contract:
 *   - the result is INCOMPLETE, ERROR (with a status and reason) or 0 < r <= len
 *   - every view lies inside the input (path may be the static "/")
 *   - the verdict needs no byte after the head: parse(buf, r) == r
 *   - a prefix of an accepted head is INCOMPLETE; a prefix of a rejected
 *     input is INCOMPLETE or the same rejection (status included). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1/parser.h"
#include "ringwire/ringwire.h"

#define MAX_HDRS 100

static const rw_h1_limits k_limits[] = {
    { 8192, 16384, 100 }, /* rw_config defaults */
    { 64, 256, 8 },
    { 16, 48, 2 },
    { 8192, 16384, 0 },
};

static int inside(rw_str s, const char *b, size_t n)
{
    return s.n == 0 || (s.p >= b && s.p + s.n <= b + n);
}

static int parse(const char *b, size_t n, rw_h1_request *q, rw_header *h, const rw_h1_limits *l)
{
    /* exact-size copy so ASan flags any read past n */
    char *c = malloc(n ? n : 1);
    memcpy(c, b, n);
    int r = rw_h1_parse_request(c, n, q, h, l);
    free(c);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const rw_h1_limits *lim = &k_limits[data[0] % (sizeof(k_limits) / sizeof(k_limits[0]))];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    rw_header hdrs[MAX_HDRS];
    rw_h1_request q;

    int r = rw_h1_parse_request(buf, len, &q, hdrs, lim);
    if (r == RW_H1_INCOMPLETE)
        return 0;
    if (r == RW_H1_ERROR) {
        if (q.error_status < 400 || q.error_status > 505 || !q.error_reason)
            abort();
        int status = q.error_status;
        /* shorter inputs: incomplete or the same error */
        size_t cuts[] = { len - 1, len / 2, len / 3 };
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            int r2 = parse(buf, cuts[i], &q, hdrs, lim);
            if (r2 >= 0 || (r2 == RW_H1_ERROR && q.error_status != status))
                abort();
        }
        return 0;
    }
    if (r <= 0 || (size_t)r > len || q.nheaders > lim->max_headers)
        abort();
    if (!inside(q.method, buf, len) || !inside(q.target, buf, len) || !inside(q.query, buf, len) ||
        !inside(q.host, buf, len) || !inside(q.upgrade_proto, buf, len))
        abort();
    if (!inside(q.path, buf, len) && !(q.path.n == 1 && q.path.p[0] == '/'))
        abort();
    if (q.method.n == 0 || q.target.n == 0 || (q.minor_version != 0 && q.minor_version != 1))
        abort();
    if (q.body == RW_H1_BODY_LENGTH && q.content_length == 0)
        abort();
    for (unsigned i = 0; i < q.nheaders; i++)
        if (!inside(hdrs[i].name, buf, len) || !inside(hdrs[i].value, buf, len) ||
            hdrs[i].name.n == 0)
            abort();
    /* the path must survive percent-decoding checks without overflow */
    char dec[256];
    long d = rw_percent_decode(q.path.p, q.path.n, dec, sizeof(dec));
    if (d > (long)q.path.n)
        abort();

    size_t head = (size_t)r;
    if (parse(buf, head, &q, hdrs, lim) != r)
        abort();
    size_t cuts[] = { head - 1, head / 2 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        if (parse(buf, cuts[i], &q, hdrs, lim) != RW_H1_INCOMPLETE)
            abort();
    return 0;
}
