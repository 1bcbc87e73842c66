/* Dynamic-table primitives shared by the HPACK decoder and encoder. */
#ifndef RW_HTTP2_HPACK_INTERNAL_H
#define RW_HTTP2_HPACK_INTERNAL_H

#include "http2/hpack.h"

int rw_hpack_table_init(rw_hpack_table *t, size_t cap);
void rw_hpack_table_free(rw_hpack_table *t);
/* Applies a new maximum (<= cap), evicting oldest entries to fit. */
void rw_hpack_table_set_max(rw_hpack_table *t, uint32_t max);
/* Adds an entry (RFC 7541 4.4): evicts until it fits; an entry larger than
 * max_size empties the table. Sources must not point into the table. */
void rw_hpack_table_insert(rw_hpack_table *t, const char *name, uint32_t nlen, const char *value,
                           uint32_t vlen, uint32_t nhash, uint32_t hash);
/* Evicts every entry (an entry larger than max_size arrived). */
void rw_hpack_table_clear(rw_hpack_table *t);
/* Dynamic index i (1 = newest), or NULL when i > count. */
static inline const rw_hpack_entry *rw_hpack_table_get(const rw_hpack_table *t, uint32_t i)
{
    if (i == 0 || i > t->count)
        return NULL;
    uint32_t slot = t->first + t->count - i;
    if (slot >= t->ents_cap)
        slot -= t->ents_cap;
    return &t->ents[slot];
}
/* Copies n bytes starting at ring offset off (wrap-aware). */
void rw_hpack_table_copy(const rw_hpack_table *t, uint32_t off, uint32_t n, char *dst);
/* Compares n ring bytes at off with s. */
bool rw_hpack_table_eq(const rw_hpack_table *t, uint32_t off, uint32_t n, const char *s);
static inline uint32_t rw_hpack_table_off(const rw_hpack_table *t, uint32_t off, uint32_t add)
{
    uint64_t o = (uint64_t)off + add;
    return (uint32_t)(o >= t->cap ? o - t->cap : o);
}

#endif
