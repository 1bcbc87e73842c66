/* HPACK static table (RFC 7541 Appendix A) and its lookup. */
#include <string.h>

#include "http2/hpack.h"

#define E(n, v) { { n, sizeof(n) - 1 }, { v, sizeof(v) - 1 }, 0 }
static const rw_hpack_field static_table[RW_HPACK_STATIC_COUNT] = {
    E(":authority", ""),
    E(":method", "GET"),
    E(":method", "POST"),
    E(":path", "/"),
    E(":path", "/index.html"),
    E(":scheme", "http"),
    E(":scheme", "https"),
    E(":status", "200"),
    E(":status", "204"),
    E(":status", "206"),
    E(":status", "304"),
    E(":status", "400"),
    E(":status", "404"),
    E(":status", "500"),
    E("accept-charset", ""),
    E("accept-encoding", "gzip, deflate"),
    E("accept-language", ""),
    E("accept-ranges", ""),
    E("accept", ""),
    E("access-control-allow-origin", ""),
    E("age", ""),
    E("allow", ""),
    E("authorization", ""),
    E("cache-control", ""),
    E("content-disposition", ""),
    E("content-encoding", ""),
    E("content-language", ""),
    E("content-length", ""),
    E("content-location", ""),
    E("content-range", ""),
    E("content-type", ""),
    E("cookie", ""),
    E("date", ""),
    E("etag", ""),
    E("expect", ""),
    E("expires", ""),
    E("from", ""),
    E("host", ""),
    E("if-match", ""),
    E("if-modified-since", ""),
    E("if-none-match", ""),
    E("if-range", ""),
    E("if-unmodified-since", ""),
    E("last-modified", ""),
    E("link", ""),
    E("location", ""),
    E("max-forwards", ""),
    E("proxy-authenticate", ""),
    E("proxy-authorization", ""),
    E("range", ""),
    E("referer", ""),
    E("refresh", ""),
    E("retry-after", ""),
    E("server", ""),
    E("set-cookie", ""),
    E("strict-transport-security", ""),
    E("transfer-encoding", ""),
    E("user-agent", ""),
    E("vary", ""),
    E("via", ""),
    E("www-authenticate", ""),
};
#undef E

const rw_hpack_field *rw_hpack_static_entry(size_t index)
{
    if (index < 1 || index > RW_HPACK_STATIC_COUNT)
        return NULL;
    return &static_table[index - 1];
}

size_t rw_hpack_static_find(rw_str name, rw_str value, size_t *name_index)
{
    *name_index = 0;
    if (name.n == 0)
        return 0;
    /* Entries with the same name are adjacent: scan to the first name match,
     * then only along that run. 61 length compares at worst. */
    size_t i = 0;
    for (; i < RW_HPACK_STATIC_COUNT; i++) {
        const rw_hpack_field *e = &static_table[i];
        if (e->name.n == name.n && e->name.p[0] == name.p[0] &&
            memcmp(e->name.p, name.p, name.n) == 0)
            break;
    }
    if (i == RW_HPACK_STATIC_COUNT)
        return 0;
    *name_index = i + 1;
    for (; i < RW_HPACK_STATIC_COUNT; i++) {
        const rw_hpack_field *e = &static_table[i];
        if (e->name.n != name.n || memcmp(e->name.p, name.p, name.n) != 0)
            break;
        if (e->value.n == value.n && (value.n == 0 || memcmp(e->value.p, value.p, value.n) == 0))
            return i + 1;
    }
    return 0;
}
