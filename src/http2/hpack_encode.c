/* HPACK encoder: indexing decisions (docs/hpack.md "Encoder policy"),
 * Huffman when strictly shorter, pending dynamic table size updates first. */
#include <string.h>

#include "http2/hpack.h"
#include "http2/hpack_internal.h"
#include "http2/huffman.h"

int rw_hpack_encoder_init(rw_hpack_encoder *e, size_t capacity)
{
    memset(e, 0, sizeof(*e));
    int rc = rw_hpack_table_init(&e->t, capacity);
    if (rc)
        return rc;
    /* The peer's decoder starts at 4096; a smaller table is announced by the
     * first block. */
    e->announced = RW_HPACK_DEFAULT_TABLE_SIZE;
    e->t.max_size = e->t.cap < e->announced ? e->t.cap : e->announced;
    if (e->t.max_size < e->announced) {
        e->pending = true;
        e->pending_min = e->pending_final = e->t.max_size;
    }
    return 0;
}

void rw_hpack_encoder_free(rw_hpack_encoder *e)
{
    rw_hpack_table_free(&e->t);
    memset(e, 0, sizeof(*e));
}

void rw_hpack_encoder_set_peer_limit(rw_hpack_encoder *e, size_t limit)
{
    uint32_t target = limit < e->t.cap ? (uint32_t)limit : e->t.cap;
    if (!e->pending || target < e->pending_min)
        e->pending_min = target;
    e->pending_final = target;
    e->pending = true;
}

size_t rw_hpack_encode_bound(const rw_hpack_field *fields, size_t n)
{
    /* Two size updates, then per field: index/prefix integer plus two
     * length-prefixed raw strings (Huffman is used only when shorter). */
    size_t total = 2 * RW_HPACK_INT_MAX_BYTES;
    for (size_t i = 0; i < n; i++) {
        if (fields[i].name.n > RW_HPACK_INT_MAX || fields[i].value.n > RW_HPACK_INT_MAX)
            return SIZE_MAX;
        size_t f = 3 * RW_HPACK_INT_MAX_BYTES + fields[i].name.n + fields[i].value.n;
        if (SIZE_MAX - total <= f)
            return SIZE_MAX;
        total += f;
    }
    return total;
}

/* Word-at-a-time multiplicative hash; the table only uses it to skip
 * non-matching entries quickly (equality is always checked byte for byte).
 * Byte-at-a-time FNV-1a made hashing ~75% of encode time. */
static uint32_t hash_bytes(uint32_t seed, const char *s, size_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = (seed ^ (uint64_t)n) * k;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, s + i, n - i);
        h = (h ^ w) * k;
    }
    h ^= h >> 32;
    return (uint32_t)h;
}
#define HASH_SEED 2166136261u

typedef struct outbuf {
    uint8_t *p, *end;
} outbuf;

static void put_int(outbuf *o, uint8_t first, unsigned prefix, uint32_t v)
{
    /* cap >= encode bound was checked up front, so this cannot run short. */
    o->p += rw_hpack_int_encode(o->p, (size_t)(o->end - o->p), first, prefix, v);
}

static void put_string(outbuf *o, const char *s, size_t n)
{
    size_t hl = rw_huff_encoded_len((const uint8_t *)s, n);
    if (hl < n) {
        put_int(o, 0x80, 7, (uint32_t)hl);
        o->p += rw_huff_encode((const uint8_t *)s, n, o->p, (size_t)(o->end - o->p));
    } else {
        put_int(o, 0x00, 7, (uint32_t)n);
        if (n)
            memcpy(o->p, s, n);
        o->p += n;
    }
}

#define LIT(s) { s, sizeof(s) - 1 }
static bool name_in(rw_str name, const rw_str *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].n == name.n && memcmp(list[i].p, name.p, name.n) == 0)
            return true;
    return false;
}

/* Credentials: never indexed anywhere along the path (RFC 7541 7.1.3). */
static bool is_sensitive(rw_str name, rw_str value)
{
    static const rw_str never[] = { LIT("authorization"), LIT("proxy-authorization"),
                                    LIT("set-cookie") };
    if (name.n == 6 && memcmp(name.p, "cookie", 6) == 0)
        return value.n < RW_HPACK_COOKIE_NEVER_INDEX_BELOW;
    return name_in(name, never, sizeof(never) / sizeof(never[0]));
}

/* Values that rarely repeat: indexing them would only churn the table. */
static bool is_unique_valued(rw_str name)
{
    static const rw_str once[] = {
        LIT(":path"),         LIT("content-length"), LIT("content-range"), LIT("etag"),
        LIT("last-modified"), LIT("if-modified-since"), LIT("if-none-match"), LIT("location"),
        LIT("age"),
    };
    return name_in(name, once, sizeof(once) / sizeof(once[0]));
}

static void put_size_updates(rw_hpack_encoder *e, outbuf *o)
{
    if (e->pending_min < e->announced) {
        put_int(o, 0x20, 5, e->pending_min);
        e->announced = e->pending_min;
        rw_hpack_table_set_max(&e->t, e->pending_min);
    }
    if (e->pending_final != e->announced) {
        put_int(o, 0x20, 5, e->pending_final);
        e->announced = e->pending_final;
        rw_hpack_table_set_max(&e->t, e->pending_final);
    }
    e->pending = false;
}

static void encode_field(rw_hpack_encoder *e, const rw_hpack_field *f, outbuf *o)
{
    const bool never = (f->flags & RW_HPACK_F_NEVER_INDEX) || is_sensitive(f->name, f->value);
    size_t name_idx;
    size_t idx = rw_hpack_static_find(f->name, f->value, &name_idx);
    if (idx && !never) {
        put_int(o, 0x80, 7, (uint32_t)idx);
        return;
    }

    const uint64_t esz = (uint64_t)f->name.n + f->value.n + RW_HPACK_ENTRY_OVERHEAD;
    const bool incr = !never && !(f->flags & RW_HPACK_F_NO_INDEX) && !is_unique_valued(f->name) &&
                      esz * RW_HPACK_INDEX_MAX_SHARE_DEN <=
                          (uint64_t)e->t.max_size * RW_HPACK_INDEX_MAX_SHARE_NUM;

    /* Only names are hashed: values (often long: user-agent, cookie) are
     * compared directly, and only for entries whose name matched. */
    uint32_t nhash = 0;
    if (e->t.count || incr)
        nhash = hash_bytes(HASH_SEED, f->name.p, f->name.n);
    /* Newest first (smallest index); walk the slot ring directly. */
    uint32_t slot = e->t.count ? e->t.first + e->t.count - 1 : 0;
    if (slot >= e->t.ents_cap)
        slot -= e->t.ents_cap;
    for (uint32_t i = 1; i <= e->t.count; i++, slot = slot ? slot - 1 : e->t.ents_cap - 1) {
        const rw_hpack_entry *ent = &e->t.ents[slot];
        if (ent->nhash != nhash)
            continue;
        if (ent->nlen != f->name.n ||
            !rw_hpack_table_eq(&e->t, ent->off, ent->nlen, f->name.p))
            continue;
        if (!never && ent->vlen == f->value.n &&
            rw_hpack_table_eq(&e->t, rw_hpack_table_off(&e->t, ent->off, ent->nlen), ent->vlen,
                              f->value.p)) {
            put_int(o, 0x80, 7, RW_HPACK_STATIC_COUNT + i);
            return;
        }
        if (!name_idx)
            name_idx = RW_HPACK_STATIC_COUNT + i;
    }

    if (incr)
        put_int(o, 0x40, 6, (uint32_t)name_idx);
    else
        put_int(o, never ? 0x10 : 0x00, 4, (uint32_t)name_idx);
    if (!name_idx)
        put_string(o, f->name.p, f->name.n);
    put_string(o, f->value.p, f->value.n);
    if (incr)
        rw_hpack_table_insert(&e->t, f->name.p, (uint32_t)f->name.n, f->value.p,
                              (uint32_t)f->value.n, nhash, nhash);
}

int rw_hpack_encode(rw_hpack_encoder *e, const rw_hpack_field *fields, size_t n, uint8_t *out,
                    size_t cap, size_t *written)
{
    *written = 0;
    size_t bound = rw_hpack_encode_bound(fields, n);
    if (bound == SIZE_MAX)
        return RW_HPACK_E_INVALID;
    if (cap < bound)
        return RW_HPACK_E_NOSPACE;
    outbuf o = { out, out + cap };
    if (e->pending)
        put_size_updates(e, &o);
    for (size_t i = 0; i < n; i++)
        encode_field(e, &fields[i], &o);
    *written = (size_t)(o.p - out);
    return 0;
}
