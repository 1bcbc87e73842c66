/* HPACK static table (RFC 7541 Appendix A) and its lookup. */
#include <pthread.h>
#include <stdbool.h>
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

/* Index of the static table by name length: the first entry of every run of
 * equal names, grouped by length, so a lookup compares only names of the
 * right length (at most a handful) instead of scanning all 61. */
#define RW_HPACK_STATIC_MAX_NAME 32
static uint8_t by_len_first[RW_HPACK_STATIC_MAX_NAME + 1]; /* into by_len_idx */
static uint8_t by_len_count[RW_HPACK_STATIC_MAX_NAME + 1];
static uint8_t by_len_idx[RW_HPACK_STATIC_COUNT];          /* 0-based entries */
static pthread_once_t by_len_once = PTHREAD_ONCE_INIT;

static void by_len_build(void)
{
    uint8_t n = 0;
    for (size_t len = 1; len <= RW_HPACK_STATIC_MAX_NAME; len++) {
        by_len_first[len] = n;
        for (size_t i = 0; i < RW_HPACK_STATIC_COUNT; i++) {
            const rw_hpack_field *e = &static_table[i];
            bool run_start = i == 0 || static_table[i - 1].name.n != e->name.n ||
                             memcmp(static_table[i - 1].name.p, e->name.p, e->name.n) != 0;
            if (e->name.n == len && run_start)
                by_len_idx[n++] = (uint8_t)i;
        }
        by_len_count[len] = (uint8_t)(n - by_len_first[len]);
    }
}

static void rw_hpack_static_init(void)
{
    pthread_once(&by_len_once, by_len_build);
}

size_t rw_hpack_static_find(rw_str name, rw_str value, size_t *name_index)
{
    *name_index = 0;
    if (name.n == 0 || name.n > RW_HPACK_STATIC_MAX_NAME)
        return 0;
    rw_hpack_static_init();
    size_t i = RW_HPACK_STATIC_COUNT;
    for (unsigned k = 0; k < by_len_count[name.n]; k++) {
        const rw_hpack_field *e = &static_table[by_len_idx[by_len_first[name.n] + k]];
        if (e->name.p[0] == name.p[0] && memcmp(e->name.p, name.p, name.n) == 0) {
            i = by_len_idx[by_len_first[name.n] + k];
            break;
        }
    }
    if (i == RW_HPACK_STATIC_COUNT)
        return 0;
    *name_index = i + 1;
    /* Entries with the same name are adjacent: look for the value along the run. */
    for (; i < RW_HPACK_STATIC_COUNT; i++) {
        const rw_hpack_field *e = &static_table[i];
        if (e->name.n != name.n || memcmp(e->name.p, name.p, name.n) != 0)
            break;
        if (e->value.n == value.n && (value.n == 0 || memcmp(e->value.p, value.p, value.n) == 0))
            return i + 1;
    }
    return 0;
}
