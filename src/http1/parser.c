/* HTTP/1.x request-head parser (RFC 9110/9112). Rules, limits and the
 * reasons for each rejection are listed in docs/http1-conformance.md.
 *
 * Shape: one forward pass over buf, byte classes checked as soon as they are
 * seen, so a prefix of any input yields RW_H1_INCOMPLETE or the very verdict
 * the whole input gets (the tests check this at every split point). The pass
 * runs inside a window clipped to the limits: running into the window's end
 * means "incomplete" when the buffer ended there and 414/431 when a limit did.
 * Framing-relevant fields are judged as soon as each field line ends. */
#include "http1/parser.h"

#include <limits.h>
#include <string.h>

#include "core/str.h"
#include "http1/scan.h"

/* 19 decimal digits always fit in uint64_t, so no overflow test is needed. */
#define RW_H1_MAX_CL_DIGITS 19

/* Length of "HTTP/1.1". */
#define RW_H1_VERSION_LEN 8

/* tchar (RFC 9110 5.6.2). */
static const unsigned char k_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

/* Bytes allowed in a Host value / authority: reg-name, IP-literal brackets,
 * pct-encoding and the port colon (RFC 3986 3.2.2). */
static const unsigned char k_hostchar[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['%'] = 1, ['!'] = 1, ['$'] = 1, ['&'] = 1,
    ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1,
    [':'] = 1, ['['] = 1, [']'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static const char k_root_path[] = "/";

static inline bool is_tchar(char c) { return k_tchar[(unsigned char)c] != 0; }
static inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_token(rw_str s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_tchar(s.p[i]))
            return false;
    return true;
}

static int fail(rw_h1_request *req, int status, const char *reason)
{
    req->error_status = status;
    req->error_reason = reason;
    return RW_H1_ERROR;
}

rw_method rw_h1_method_id(rw_str m)
{
    /* Methods are case-sensitive (RFC 9110 9.1): "get" is another token. */
    switch (m.n) {
    case 3:
        if (memcmp(m.p, "GET", 3) == 0)
            return RW_METHOD_GET;
        if (memcmp(m.p, "PUT", 3) == 0)
            return RW_METHOD_PUT;
        break;
    case 4:
        if (memcmp(m.p, "POST", 4) == 0)
            return RW_METHOD_POST;
        if (memcmp(m.p, "HEAD", 4) == 0)
            return RW_METHOD_HEAD;
        break;
    case 5:
        if (memcmp(m.p, "TRACE", 5) == 0)
            return RW_METHOD_TRACE;
        if (memcmp(m.p, "PATCH", 5) == 0)
            return RW_METHOD_PATCH;
        break;
    case 6:
        if (memcmp(m.p, "DELETE", 6) == 0)
            return RW_METHOD_DELETE;
        break;
    case 7:
        if (memcmp(m.p, "CONNECT", 7) == 0)
            return RW_METHOD_CONNECT;
        if (memcmp(m.p, "OPTIONS", 7) == 0)
            return RW_METHOD_OPTIONS;
        break;
    }
    return RW_METHOD_OTHER;
}

/* ---- list-valued fields (RFC 9110 5.6.1) ---------------------------------- */

/* Next comma-separated element of *rest with OWS trimmed (may be empty).
 * Returns false when *rest is exhausted. */
static bool list_next(rw_str *rest, rw_str *elem)
{
    if (rest->p == NULL)
        return false;
    const char *p = rest->p, *end = rest->p + rest->n;
    const char *comma = memchr(p, ',', rest->n);
    const char *e = comma ? comma : end;
    while (p < e && is_ows(*p))
        p++;
    const char *q = e;
    while (q > p && is_ows(q[-1]))
        q--;
    *elem = rw_str_make(p, (size_t)(q - p));
    if (comma)
        *rest = rw_str_make(comma + 1, (size_t)(end - comma - 1));
    else
        *rest = rw_str_make(NULL, 0);
    return true;
}

/* ---- per-field semantics, judged as each field line completes -------------- */

typedef struct h1_fields {
    unsigned hosts;
    bool have_cl;
    bool have_te;
    bool te_last_chunked;  /* the last coding seen so far is "chunked" */
    bool te_other;         /* some coding other than chunked was listed */
    bool conn_close, conn_keep_alive, conn_upgrade;
    bool have_upgrade;
    bool expect_continue;
    bool host_from_target; /* absolute-form: the target's authority wins */
    rw_str upgrade_proto;
} h1_fields;

static bool valid_host(rw_str v)
{
    for (size_t i = 0; i < v.n; i++)
        if (!k_hostchar[(unsigned char)v.p[i]])
            return false;
    return true;
}

/* Content-Length = 1*DIGIT; a list of identical values is one value. */
static int field_content_length(rw_h1_request *req, h1_fields *f, rw_str v)
{
    if (f->have_te)
        return fail(req, 400, "Content-Length with Transfer-Encoding");
    rw_str rest = v, e;
    bool any = false;
    while (list_next(&rest, &e)) {
        if (e.n == 0)
            return fail(req, 400, "empty Content-Length");
        if (e.n > RW_H1_MAX_CL_DIGITS)
            return fail(req, 400, "Content-Length too large");
        uint64_t n = 0;
        for (size_t i = 0; i < e.n; i++) {
            if (!is_digit(e.p[i]))
                return fail(req, 400, "invalid Content-Length");
            n = n * 10 + (uint64_t)(e.p[i] - '0');
        }
        if ((f->have_cl || any) && n != req->content_length)
            return fail(req, 400, "conflicting Content-Length");
        req->content_length = n;
        any = true;
    }
    f->have_cl = true;
    return 0;
}

static int field_transfer_encoding(rw_h1_request *req, h1_fields *f, rw_str v)
{
    if (req->minor_version == 0)
        return fail(req, 400, "Transfer-Encoding in HTTP/1.0");
    if (f->have_cl)
        return fail(req, 400, "Transfer-Encoding with Content-Length");
    f->have_te = true;
    rw_str rest = v, e;
    while (list_next(&rest, &e)) {
        if (e.n == 0)
            continue; /* empty list elements are allowed and mean nothing */
        if (!is_token(e))
            return fail(req, 400, "invalid Transfer-Encoding");
        if (f->te_last_chunked)
            return RW_STR_IEQ(e, "chunked") ? fail(req, 400, "chunked applied twice")
                                            : fail(req, 400, "chunked is not the final coding");
        if (RW_STR_IEQ(e, "chunked"))
            f->te_last_chunked = true;
        else
            f->te_other = true;
    }
    return 0;
}

static void field_connection(h1_fields *f, rw_str v)
{
    rw_str rest = v, e;
    while (list_next(&rest, &e)) {
        if (RW_STR_IEQ(e, "close"))
            f->conn_close = true;
        else if (RW_STR_IEQ(e, "keep-alive"))
            f->conn_keep_alive = true;
        else if (RW_STR_IEQ(e, "upgrade"))
            f->conn_upgrade = true;
    }
}

static void field_expect(h1_fields *f, rw_str v)
{
    rw_str rest = v, e;
    while (list_next(&rest, &e))
        if (RW_STR_IEQ(e, "100-continue"))
            f->expect_continue = true;
}

static int on_field(rw_h1_request *req, h1_fields *f, const rw_header *h)
{
    rw_str n = h->name;
    /* Cheap pre-filter: every field we interpret starts with c, e, h, t or u. */
    switch (n.p[0] | 0x20) {
    case 'h':
        if (RW_STR_IEQ(n, "host")) {
            if (++f->hosts > 1)
                return fail(req, 400, "duplicate Host");
            if (!valid_host(h->value))
                return fail(req, 400, "invalid Host");
            if (!f->host_from_target)
                req->host = h->value;
        }
        break;
    case 'c':
        if (RW_STR_IEQ(n, "content-length"))
            return field_content_length(req, f, h->value);
        if (RW_STR_IEQ(n, "connection"))
            field_connection(f, h->value);
        break;
    case 't':
        if (RW_STR_IEQ(n, "transfer-encoding"))
            return field_transfer_encoding(req, f, h->value);
        break;
    case 'e':
        if (RW_STR_IEQ(n, "expect"))
            field_expect(f, h->value);
        break;
    case 'u':
        if (RW_STR_IEQ(n, "upgrade") && !f->have_upgrade) {
            f->have_upgrade = true;
            f->upgrade_proto = h->value;
        }
        break;
    }
    return 0;
}

/* ---- request-target forms (RFC 9112 3.2) ---------------------------------- */

static void split_path_query(rw_h1_request *req, rw_str rest)
{
    const char *end = rest.p + rest.n;
    const char *hash = memchr(rest.p, '#', rest.n);
    if (hash)
        end = hash; /* a fragment is never meant for the server: drop it */
    const char *q = memchr(rest.p, '?', (size_t)(end - rest.p));
    if (q) {
        req->path = rw_str_make(rest.p, (size_t)(q - rest.p));
        req->query = rw_str_make(q + 1, (size_t)(end - q - 1));
    } else {
        req->path = rw_str_make(rest.p, (size_t)(end - rest.p));
    }
}

/* authority-form: uri-host ":" port, as CONNECT needs. */
static bool valid_authority_form(rw_str t)
{
    const char *colon = NULL;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (c == '@' || !k_hostchar[(unsigned char)c])
            return false;
        if (c == ':')
            colon = t.p + i;
    }
    if (!colon || colon == t.p || colon + 1 == t.p + t.n)
        return false;
    for (const char *p = colon + 1; p < t.p + t.n; p++)
        if (!is_digit(*p))
            return false;
    return true;
}

static int parse_target(rw_h1_request *req, h1_fields *f)
{
    rw_str t = req->target;
    if (t.p[0] == '/') {
        if (req->method_id == RW_METHOD_CONNECT)
            return fail(req, 400, "CONNECT needs authority-form");
        split_path_query(req, t);
        return 0;
    }
    if (t.n == 1 && t.p[0] == '*') {
        if (req->method_id != RW_METHOD_OPTIONS)
            return fail(req, 400, "asterisk-form only with OPTIONS");
        req->path = t;
        return 0;
    }
    if (req->method_id == RW_METHOD_CONNECT) {
        if (!valid_authority_form(t))
            return fail(req, 400, "invalid authority-form target");
        req->path = t;
        f->host_from_target = true;
        req->host = t;
        return 0;
    }
    /* absolute-form: only the http(s) schemes make sense for a server. */
    size_t skip;
    if (t.n >= 7 && RW_STR_IEQ(rw_str_make(t.p, 7), "http://"))
        skip = 7;
    else if (t.n >= 8 && RW_STR_IEQ(rw_str_make(t.p, 8), "https://"))
        skip = 8;
    else
        return fail(req, 400, "invalid request-target");
    const char *a = t.p + skip, *end = t.p + t.n, *p = a;
    while (p < end && *p != '/' && *p != '?' && *p != '#') {
        /* userinfo in an http(s) URI is deprecated and used to mislead
         * (RFC 9110 4.2.4): reject instead of guessing the real host */
        if (*p == '@' || !k_hostchar[(unsigned char)*p])
            return fail(req, 400, "invalid authority in absolute-form");
        p++;
    }
    if (p == a)
        return fail(req, 400, "empty authority in absolute-form");
    f->host_from_target = true;
    req->host = rw_str_make(a, (size_t)(p - a)); /* RFC 9112 3.2.2: replaces Host */
    if (p < end && *p == '/') {
        split_path_query(req, rw_str_make(p, (size_t)(end - p)));
    } else {
        split_path_query(req, rw_str_make(p, (size_t)(end - p)));
        req->path = rw_str_make(k_root_path, 1); /* empty path means "/" */
    }
    return 0;
}

/* ---- the head ----------------------------------------------------------- */

/* The parse ran into `end` (exclusive). Incomplete if the buffer ends there,
 * otherwise a limit cut the window. */
static int hit_end(rw_h1_request *req, size_t end, size_t len, size_t line_limit_end)
{
    if (end == len)
        return RW_H1_INCOMPLETE;
    if (end == line_limit_end)
        return fail(req, 414, "request line too long");
    return fail(req, 431, "request head too large");
}

int rw_h1_parse_request(const char *buf, size_t len, rw_h1_request *req, rw_header *headers,
                        const rw_h1_limits *lim)
{
    memset(req, 0, sizeof(*req));
    req->headers = headers;

    size_t max_head = lim->max_header_bytes < (size_t)INT_MAX ? lim->max_header_bytes
                                                              : (size_t)INT_MAX;
    size_t hend = len < max_head ? len : max_head; /* window for the whole head */
    size_t p = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    while (p < hend && buf[p] == '\r') {
        if (p + 1 >= hend)
            return hit_end(req, hend, len, SIZE_MAX);
        if (buf[p + 1] != '\n')
            return fail(req, 400, "bare CR");
        p += 2;
    }

    size_t line_start = p;
    size_t line_limit_end = lim->max_request_line < hend - line_start
                                ? line_start + lim->max_request_line
                                : SIZE_MAX;
    size_t lend = line_limit_end < hend ? line_limit_end : hend; /* request-line window */

    /* method = token SP */
    while (p < lend && is_tchar(buf[p]))
        p++;
    if (p == lend)
        return hit_end(req, lend, len, line_limit_end);
    if (buf[p] != ' ') {
        if (buf[p] == '\n')
            return fail(req, 400, "bare LF");
        return fail(req, 400, p == line_start ? "invalid request line" : "invalid method");
    }
    if (p == line_start)
        return fail(req, 400, "empty method");
    req->method = rw_str_make(buf + line_start, p - line_start);
    req->method_id = rw_h1_method_id(req->method);
    p++;

    /* request-target SP: VCHAR only */
    size_t ts = p;
    p += rw_h1_scan_target(buf + p, lend - p);
    if (p == lend)
        return hit_end(req, lend, len, line_limit_end);
    if (buf[p] != ' ')
        return fail(req, 400, buf[p] == '\r' ? "missing HTTP version" : "invalid byte in target");
    if (p == ts)
        return fail(req, 400, "empty target (extra SP)");
    req->target = rw_str_make(buf + ts, p - ts);
    p++;

    /* HTTP-version CRLF: "HTTP/" DIGIT "." DIGIT, checked byte by byte */
    static const char proto[] = "HTTP/";
    size_t vs = p;
    for (size_t i = 0; i < RW_H1_VERSION_LEN; i++, p++) {
        if (p == lend)
            return hit_end(req, lend, len, line_limit_end);
        char c = buf[p];
        bool ok = i < 5 ? c == proto[i] : i == 6 ? c == '.' : is_digit(c);
        if (!ok)
            return fail(req, 400, i == 0 && c == ' ' ? "extra SP before version"
                                                    : "malformed HTTP version");
    }
    if (buf[vs + 5] != '1' || (buf[vs + 7] != '0' && buf[vs + 7] != '1'))
        return fail(req, 505, "HTTP version not supported");
    req->minor_version = buf[vs + 7] - '0';
    if (p == lend)
        return hit_end(req, lend, len, line_limit_end);
    if (buf[p] != '\r')
        return fail(req, 400, buf[p] == '\n' ? "bare LF" : "junk after HTTP version");
    if (++p == lend)
        return hit_end(req, lend, len, line_limit_end);
    if (buf[p] != '\n')
        return fail(req, 400, "bare CR");
    p++;

    h1_fields f = { 0 };
    int rc = parse_target(req, &f);
    if (rc)
        return rc;

    /* field lines, then the empty line */
    for (;;) {
        if (p == hend)
            return hit_end(req, hend, len, SIZE_MAX);
        char c = buf[p];
        if (c == '\r') {
            if (p + 1 == hend)
                return hit_end(req, hend, len, SIZE_MAX);
            if (buf[p + 1] != '\n')
                return fail(req, 400, "bare CR");
            p += 2;
            break;
        }
        if (c == '\n')
            return fail(req, 400, "bare LF");
        if (is_ows(c))
            return fail(req, 400, req->nheaders ? "obsolete line folding"
                                                : "whitespace after request line");
        if (req->nheaders >= lim->max_headers)
            return fail(req, 431, "too many header fields");

        size_t ns = p;
        while (p < hend && is_tchar(buf[p]))
            p++;
        if (p == hend)
            return hit_end(req, hend, len, SIZE_MAX);
        if (buf[p] != ':') {
            if (is_ows(buf[p]))
                return fail(req, 400, "whitespace before colon");
            return fail(req, 400, p == ns ? "empty field name" : "invalid field name");
        }
        if (p == ns)
            return fail(req, 400, "empty field name");
        rw_header *h = &headers[req->nheaders];
        h->name = rw_str_make(buf + ns, p - ns);
        p++;

        while (p < hend && is_ows(buf[p]))
            p++;
        size_t vs2 = p;
        p += rw_h1_scan_value(buf + p, hend - p);
        if (p == hend)
            return hit_end(req, hend, len, SIZE_MAX);
        if (buf[p] != '\r')
            return fail(req, 400, buf[p] == '\n' ? "bare LF" : "invalid byte in field value");
        if (p + 1 == hend)
            return hit_end(req, hend, len, SIZE_MAX);
        if (buf[p + 1] != '\n')
            return fail(req, 400, "bare CR");
        size_t ve = p;
        while (ve > vs2 && is_ows(buf[ve - 1]))
            ve--;
        h->value = rw_str_make(buf + vs2, ve - vs2);
        p += 2;
        req->nheaders++;
        rc = on_field(req, &f, h);
        if (rc)
            return rc;
    }

    /* whole-head rules */
    if (req->minor_version == 1 && f.hosts == 0)
        return fail(req, 400, "missing Host");
    if (f.have_te) {
        if (!f.te_last_chunked)
            return fail(req, 400, "final transfer coding is not chunked");
        if (f.te_other)
            return fail(req, 501, "unsupported transfer coding");
        req->body = RW_H1_BODY_CHUNKED;
    } else if (f.have_cl && req->content_length > 0) {
        req->body = RW_H1_BODY_LENGTH;
    }
    if (req->minor_version == 1)
        req->keep_alive = !f.conn_close;
    else
        req->keep_alive = f.conn_keep_alive && !f.conn_close;
    /* 100-continue and Upgrade mean nothing in HTTP/1.0 (RFC 9110 10.1.1, 7.8) */
    req->expect_continue = f.expect_continue && req->minor_version == 1;
    if (f.conn_upgrade && f.have_upgrade && req->minor_version == 1) {
        req->upgrade = true;
        req->upgrade_proto = f.upgrade_proto;
    }
    return (int)p;
}
