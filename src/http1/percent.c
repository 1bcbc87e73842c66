/* Percent-decoding of URI components (RFC 3986 2.1). '+' stays '+': that
 * rule belongs to HTML forms, not to paths. dst may equal src (in place):
 * the write index never passes the read index. Decoded bytes are not
 * interpreted ("%2F", "%00" come out as '/', NUL): callers that map paths
 * to files must check for them. */
#include <stddef.h>

#include "ringwire/ringwire.h"

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long rw_percent_decode(const char *src, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = hexval((unsigned char)src[i + 1]), lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (o == cap)
            return -1;
        dst[o++] = (char)c;
    }
    return (long)o;
}
