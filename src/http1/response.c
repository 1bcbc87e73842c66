#include "http1/response.h"

#include <string.h>

#include "core/clock.h"

#define SERVER_LINE "Server: ringwire\r\n"

size_t rw_u64_to_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t rw_u64_to_hex(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static bool rw_h1_field_ok(const rw_header *f)
{
    if (f->name.n == 0)
        return false;
    for (size_t i = 0; i < f->name.n; i++) {
        unsigned char ch = (unsigned char)f->name.p[i];
        if (ch <= 0x20 || ch == ':' || ch >= 0x7f)
            return false;
    }
    for (size_t i = 0; i < f->value.n; i++) {
        unsigned char ch = (unsigned char)f->value.p[i];
        if (ch == '\r' || ch == '\n' || ch == 0)
            return false;
    }
    return true;
}

size_t rw_h1_head_size(const rw_h1_head *h)
{
    /* status line + Server + Date + length/TE + Connection + CRLF */
    size_t n = 64 + sizeof SERVER_LINE + 8 + RW_DATE_LEN + 2 + 40 + 32 + 2;
    for (size_t i = 0; i < h->nheaders; i++)
        n += h->headers[i].name.n + h->headers[i].value.n + 4;
    return n;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}
#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

size_t rw_h1_head_write(char *out, const rw_h1_head *h)
{
    char *o = out;
    o = PUT_LIT(o, "HTTP/1.1 ");
    int st = h->status;
    if (st < 100 || st > 999)
        st = 500;
    *o++ = (char)('0' + st / 100);
    *o++ = (char)('0' + st / 10 % 10);
    *o++ = (char)('0' + st % 10);
    *o++ = ' ';
    const char *reason = rw_status_reason(st);
    o = put(o, reason, strlen(reason) > 40 ? 40 : strlen(reason));
    o = PUT_LIT(o, "\r\n" SERVER_LINE "Date: ");
    o = put(o, h->date, RW_DATE_LEN);
    o = PUT_LIT(o, "\r\n");
    switch (h->framing) {
    case RW_H1_FRAME_LENGTH:
        o = PUT_LIT(o, "Content-Length: ");
        o += rw_u64_to_dec(o, h->content_length);
        o = PUT_LIT(o, "\r\n");
        break;
    case RW_H1_FRAME_CHUNKED:
        o = PUT_LIT(o, "Transfer-Encoding: chunked\r\n");
        break;
    case RW_H1_FRAME_NONE:
    case RW_H1_FRAME_CLOSE:
        break;
    }
    if (!h->keep_alive)
        o = PUT_LIT(o, "Connection: close\r\n");
    else if (h->minor_version == 0)
        o = PUT_LIT(o, "Connection: keep-alive\r\n");
    for (size_t i = 0; i < h->nheaders; i++) {
        const rw_header *f = &h->headers[i];
        if (!rw_h1_field_ok(f))
            continue; /* never let a handler inject CR/LF into the head */
        o = put(o, f->name.p, f->name.n);
        o = PUT_LIT(o, ": ");
        o = put(o, f->value.p, f->value.n);
        o = PUT_LIT(o, "\r\n");
    }
    o = PUT_LIT(o, "\r\n");
    return (size_t)(o - out);
}
