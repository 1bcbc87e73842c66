/* HPACK primitives: integer coding (RFC 7541 5.1), error strings, and the
 * dynamic table (4.1-4.4) as two preallocated rings: entry bytes and entry
 * descriptors. Nothing here allocates after rw_hpack_table_init(). */
#include <stdlib.h>
#include <string.h>

#include "http2/hpack.h"
#include "http2/hpack_internal.h"

size_t rw_hpack_int_encode(uint8_t *out, size_t cap, uint8_t first, unsigned prefix, uint32_t v)
{
    const uint32_t max = (1u << prefix) - 1;
    uint8_t mask = (uint8_t)max;
    if (cap == 0)
        return 0;
    if (v < max) {
        out[0] = (uint8_t)((first & ~mask) | v);
        return 1;
    }
    out[0] = (uint8_t)(first | mask);
    v -= max;
    size_t i = 1;
    while (v >= 0x80) {
        if (i == cap)
            return 0;
        out[i++] = (uint8_t)(0x80 | (v & 0x7f));
        v >>= 7;
    }
    if (i == cap)
        return 0;
    out[i++] = (uint8_t)v;
    return i;
}

int rw_hpack_int_decode(const uint8_t **p, const uint8_t *end, unsigned prefix, uint32_t *v)
{
    const uint8_t *s = *p;
    const uint32_t max = (1u << prefix) - 1;
    if (s >= end)
        return RW_HPACK_E_TRUNCATED;
    uint64_t val = *s++ & max;
    if (val == max) {
        unsigned shift = 0, k = 0;
        for (;;) {
            if (s >= end)
                return RW_HPACK_E_TRUNCATED;
            if (k++ == RW_HPACK_INT_MAX_CONT)
                return RW_HPACK_E_INTEGER;
            uint8_t b = *s++;
            val += (uint64_t)(b & 0x7f) << shift; /* shift <= 28: no overflow in 64 bits */
            if (val > RW_HPACK_INT_MAX)
                return RW_HPACK_E_INTEGER;
            if (!(b & 0x80))
                break;
            shift += 7;
        }
    }
    *v = (uint32_t)val;
    *p = s;
    return 0;
}

const char *rw_hpack_strerror(int err)
{
    switch (err) {
    case RW_HPACK_OK: return "ok";
    case RW_HPACK_E_TRUNCATED: return "header block truncated inside a representation";
    case RW_HPACK_E_INTEGER: return "integer overflow or over-long integer encoding";
    case RW_HPACK_E_INDEX_ZERO: return "index 0 is not a valid table index";
    case RW_HPACK_E_INDEX: return "index beyond the static and dynamic tables";
    case RW_HPACK_E_HUFFMAN: return "invalid Huffman string (EOS or bad padding)";
    case RW_HPACK_E_SIZE_UPDATE_POS: return "dynamic table size update not at the start of the block";
    case RW_HPACK_E_SIZE_UPDATE_LIMIT: return "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE";
    case RW_HPACK_E_SIZE_UPDATE_MISSING: return "required dynamic table size update missing";
    case RW_HPACK_E_LIST_TOO_LARGE: return "header list larger than max_header_list_size";
    case RW_HPACK_E_TOO_MANY_FIELDS: return "more header fields than the caller allows";
    case RW_HPACK_E_SCRATCH: return "decoded header strings do not fit the scratch buffer";
    case RW_HPACK_E_NOSPACE: return "output buffer smaller than the encode bound";
    case RW_HPACK_E_INVALID: return "invalid argument";
    case RW_HPACK_E_NOMEM: return "out of memory";
    default: return "unknown HPACK error";
    }
}

/* ---- dynamic table ---- */

int rw_hpack_table_init(rw_hpack_table *t, size_t cap)
{
    memset(t, 0, sizeof(*t));
    if (cap > RW_HPACK_MAX_TABLE_SIZE)
        return RW_HPACK_E_INVALID;
    t->cap = (uint32_t)cap;
    t->ents_cap = t->cap / RW_HPACK_ENTRY_OVERHEAD; /* every entry costs >= 32 */
    if (t->ents_cap > 0) {
        t->bytes = malloc(t->cap);
        t->ents = malloc((size_t)t->ents_cap * sizeof(*t->ents));
        if (!t->bytes || !t->ents) {
            rw_hpack_table_free(t);
            return RW_HPACK_E_NOMEM;
        }
    }
    return 0;
}

void rw_hpack_table_free(rw_hpack_table *t)
{
    free(t->bytes);
    free(t->ents);
    memset(t, 0, sizeof(*t));
}

static void table_evict_oldest(rw_hpack_table *t)
{
    const rw_hpack_entry *e = &t->ents[t->first];
    uint32_t n = e->nlen + e->vlen;
    t->size -= n + RW_HPACK_ENTRY_OVERHEAD;
    t->byte_used -= n;
    t->byte_first = rw_hpack_table_off(t, t->byte_first, n);
    if (++t->first == t->ents_cap)
        t->first = 0;
    if (--t->count == 0) /* restart at 0 so small tables rarely wrap */
        t->first = t->byte_first = 0;
}

void rw_hpack_table_clear(rw_hpack_table *t)
{
    while (t->count)
        table_evict_oldest(t);
}

void rw_hpack_table_set_max(rw_hpack_table *t, uint32_t max)
{
    t->max_size = max;
    while (t->size > max)
        table_evict_oldest(t);
}

static void ring_write(rw_hpack_table *t, uint32_t off, const char *src, uint32_t n)
{
    uint32_t first = t->cap - off;
    if (n <= first) {
        if (n)
            memcpy(t->bytes + off, src, n);
    } else {
        memcpy(t->bytes + off, src, first);
        memcpy(t->bytes, src + first, n - first);
    }
}

void rw_hpack_table_insert(rw_hpack_table *t, const char *name, uint32_t nlen, const char *value,
                           uint32_t vlen, uint32_t nhash, uint32_t hash)
{
    uint64_t esz = (uint64_t)nlen + vlen + RW_HPACK_ENTRY_OVERHEAD;
    if (esz > t->max_size) {
        rw_hpack_table_clear(t);
        return;
    }
    while (t->size + esz > t->max_size)
        table_evict_oldest(t);
    /* Fits: size + esz <= max_size <= cap, so bytes and slots are free. */
    uint32_t slot = t->first + t->count;
    if (slot >= t->ents_cap)
        slot -= t->ents_cap;
    uint32_t off = rw_hpack_table_off(t, t->byte_first, t->byte_used);
    ring_write(t, off, name, nlen);
    ring_write(t, rw_hpack_table_off(t, off, nlen), value, vlen);
    t->ents[slot] = (rw_hpack_entry){ off, nlen, vlen, nhash, hash };
    t->count++;
    t->byte_used += nlen + vlen;
    t->size += (uint32_t)esz;
}

void rw_hpack_table_copy(const rw_hpack_table *t, uint32_t off, uint32_t n, char *dst)
{
    uint32_t first = t->cap - off;
    if (n <= first) {
        if (n)
            memcpy(dst, t->bytes + off, n);
    } else {
        memcpy(dst, t->bytes + off, first);
        memcpy(dst + first, t->bytes, n - first);
    }
}

bool rw_hpack_table_eq(const rw_hpack_table *t, uint32_t off, uint32_t n, const char *s)
{
    uint32_t first = t->cap - off;
    if (n <= first)
        return n == 0 || memcmp(t->bytes + off, s, n) == 0;
    return memcmp(t->bytes + off, s, first) == 0 && memcmp(t->bytes, s + first, n - first) == 0;
}
