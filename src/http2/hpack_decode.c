/* HPACK decoder (RFC 7541 3, 6). One call decodes one complete header block.
 *
 * Strings land in one of two "areas": the caller's scratch (normal mode:
 * views must outlive the call) or the decoder's staging buffer (skip mode,
 * after a stream-level limit was hit: fields are no longer emitted, only
 * table insertions are replayed so the dynamic table stays in sync). */
#include <stdlib.h>
#include <string.h>

#include "http2/hpack.h"
#include "http2/hpack_internal.h"
#include "http2/huffman.h"

enum { STR_OVERFLOW = 1 }; /* positive: the area is too small (not an error yet) */

typedef struct area {
    char *buf;
    size_t cap, used;
} area;

int rw_hpack_decoder_init(rw_hpack_decoder *d, size_t capacity)
{
    memset(d, 0, sizeof(*d));
    int rc = rw_hpack_table_init(&d->t, capacity);
    if (rc)
        return rc;
    if (capacity > 0 && !(d->staging = malloc(capacity))) {
        rw_hpack_table_free(&d->t);
        return RW_HPACK_E_NOMEM;
    }
    d->limit = capacity < RW_HPACK_DEFAULT_TABLE_SIZE ? (uint32_t)capacity
                                                      : RW_HPACK_DEFAULT_TABLE_SIZE;
    d->t.max_size = d->limit;
    return 0;
}

void rw_hpack_decoder_free(rw_hpack_decoder *d)
{
    rw_hpack_table_free(&d->t);
    free(d->staging);
    memset(d, 0, sizeof(*d));
}

int rw_hpack_decoder_set_limit(rw_hpack_decoder *d, size_t limit)
{
    if (limit > d->t.cap)
        return RW_HPACK_E_INVALID;
    d->limit = (uint32_t)limit;
    /* The peer's encoder must shrink its table to the smallest limit seen
     * (RFC 7541 4.2); raising needs no update. */
    if (d->limit < d->t.max_size) {
        if (!d->update_required || d->limit < d->required_max)
            d->required_max = d->limit;
        d->update_required = true;
    }
    return 0;
}

/* Reads a string literal. need: the bytes are needed (else a Huffman string
 * is only validated and out->p is NULL). Raw strings are views into the
 * input. On STR_OVERFLOW the string was validated and skipped; out->n holds
 * its decoded length. */
static int read_string(const uint8_t **pp, const uint8_t *end, bool need, area *a, rw_str *out)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return RW_HPACK_E_TRUNCATED;
    bool huff = *p & 0x80;
    uint32_t n;
    int rc = rw_hpack_int_decode(&p, end, 7, &n);
    if (rc)
        return rc;
    if ((size_t)(end - p) < n)
        return RW_HPACK_E_TRUNCATED;
    *pp = p + n;
    if (!huff) {
        *out = (rw_str){ (const char *)p, n };
        return 0;
    }
    if (need) {
        size_t room = a->cap - a->used;
        char *dst = room ? a->buf + a->used : NULL;
        long r = rw_huff_decode(p, n, (uint8_t *)dst, room);
        if (r >= 0) {
            *out = (rw_str){ dst, (size_t)r };
            a->used += (size_t)r;
            return 0;
        }
        if (r != RW_HUFF_E_NOSPACE)
            return RW_HPACK_E_HUFFMAN;
    }
    long r = rw_huff_decoded_len(p, n);
    if (r < 0)
        return RW_HPACK_E_HUFFMAN;
    *out = (rw_str){ NULL, (size_t)r };
    return need ? STR_OVERFLOW : 0;
}

/* Copies n table bytes into the area so the view survives eviction. */
static int copy_from_table(const rw_hpack_table *t, uint32_t off, uint32_t n, area *a, rw_str *out)
{
    if (a->cap - a->used < n)
        return STR_OVERFLOW;
    char *dst = n ? a->buf + a->used : NULL;
    if (n)
        rw_hpack_table_copy(t, off, n, dst);
    a->used += n;
    *out = (rw_str){ dst, n };
    return 0;
}

/* Resolves index idx (>= 1) to a name (and value if want_value). Static
 * strings are returned as views; dynamic ones are copied into the area. */
static int lookup(const rw_hpack_decoder *d, uint32_t idx, bool want_value, bool need, area *a,
                  rw_str *name, rw_str *value)
{
    if (idx <= RW_HPACK_STATIC_COUNT) {
        const rw_hpack_field *s = rw_hpack_static_entry(idx);
        *name = s->name;
        if (want_value)
            *value = s->value;
        return 0;
    }
    const rw_hpack_entry *e = rw_hpack_table_get(&d->t, idx - RW_HPACK_STATIC_COUNT);
    if (!e)
        return RW_HPACK_E_INDEX;
    if (!need)
        return 0;
    int rc = copy_from_table(&d->t, e->off, e->nlen, a, name);
    if (rc == 0 && want_value)
        rc = copy_from_table(&d->t, rw_hpack_table_off(&d->t, e->off, e->nlen), e->vlen, a, value);
    return rc;
}

/* Block-start size updates (RFC 7541 4.2, 6.3). */
static int read_size_updates(rw_hpack_decoder *d, const uint8_t **pp, const uint8_t *end)
{
    bool satisfied = !d->update_required;
    while (*pp < end && (**pp & 0xe0) == 0x20) {
        uint32_t v;
        int rc = rw_hpack_int_decode(pp, end, 5, &v);
        if (rc)
            return rc;
        if (v > d->limit)
            return RW_HPACK_E_SIZE_UPDATE_LIMIT;
        if (v <= d->required_max)
            satisfied = true;
        rw_hpack_table_set_max(&d->t, v);
    }
    if (!satisfied)
        return RW_HPACK_E_SIZE_UPDATE_MISSING;
    d->update_required = false;
    return 0;
}

int rw_hpack_decode(rw_hpack_decoder *d, const uint8_t *in, size_t len, rw_hpack_field *out,
                    size_t max_fields, char *scratch, size_t scratch_cap,
                    size_t max_header_list_size, size_t *nfields)
{
    const uint8_t *p = in, *end = in + len;
    size_t nf = 0, list = 0;
    int pending = 0; /* stream-level error: skip mode */
    area sa = { scratch, scratch_cap, 0 };
    area st = { d->staging, d->t.cap, 0 };
    /* Over the scratch only because the list is over its limit? (docs) */
    const int overflow_err = scratch_cap >= max_header_list_size ? RW_HPACK_E_LIST_TOO_LARGE
                                                                  : RW_HPACK_E_SCRATCH;
    int rc;

    *nfields = 0;
    if (len == 0 && !d->update_required)
        return 0;
    if ((rc = read_size_updates(d, &p, end)))
        goto fail;

    while (p < end) {
        const uint8_t *rep = p;
        const uint8_t b = *p;
        area *a = pending ? &st : &sa;
        const size_t mark = a->used;
        rw_str name = { NULL, 0 }, value = { NULL, 0 };
        uint32_t idx;

        if (pending)
            st.used = 0;

        if (b & 0x80) { /* indexed field (6.1) */
            if ((rc = rw_hpack_int_decode(&p, end, 7, &idx)))
                goto fail;
            if (idx == 0) {
                rc = RW_HPACK_E_INDEX_ZERO;
                goto fail;
            }
            rc = lookup(d, idx, true, !pending, a, &name, &value);
            if (rc < 0)
                goto fail;
            if (pending)
                continue;
            if (rc == STR_OVERFLOW) {
                pending = overflow_err;
                sa.used = mark;
                continue; /* nothing to replay for an indexed field */
            }
            if (max_header_list_size - list < name.n + value.n + RW_HPACK_ENTRY_OVERHEAD) {
                pending = RW_HPACK_E_LIST_TOO_LARGE;
                continue;
            }
            if (nf == max_fields) {
                pending = RW_HPACK_E_TOO_MANY_FIELDS;
                continue;
            }
            list += name.n + value.n + RW_HPACK_ENTRY_OVERHEAD;
            out[nf++] = (rw_hpack_field){ name, value, 0 };
            continue;
        }
        if ((b & 0xe0) == 0x20) {
            rc = RW_HPACK_E_SIZE_UPDATE_POS;
            goto fail;
        }

        /* literal (6.2): 01 incremental, 0001 never indexed, 0000 without */
        const bool incr = b & 0x40;
        const unsigned prefix = incr ? 6 : 4;
        const uint32_t flags = (b & 0xf0) == 0x10 ? RW_HPACK_F_NEVER_INDEX : 0;
        /* In skip mode only insertions need the bytes. */
        const bool need = !pending || incr;
        bool too_big = false;

        if ((rc = rw_hpack_int_decode(&p, end, prefix, &idx)))
            goto fail;
        if (idx) {
            rc = lookup(d, idx, false, need, a, &name, &value);
        } else {
            rc = read_string(&p, end, need, a, &name);
        }
        if (rc < 0)
            goto fail;
        if (rc == STR_OVERFLOW) {
            if (!pending) {
                pending = overflow_err;
                sa.used = mark;
                p = rep; /* replay this representation in skip mode */
                continue;
            }
            too_big = true; /* > staging = table capacity >= max_size */
        }
        area *va = a;
        area none = { NULL, 0, 0 };
        if (too_big)
            va = &none; /* value only needs validating */
        rc = read_string(&p, end, need && !too_big, va, &value);
        if (rc < 0)
            goto fail;
        if (rc == STR_OVERFLOW) {
            if (!pending) {
                pending = overflow_err;
                sa.used = mark;
                p = rep;
                continue;
            }
            too_big = true;
        }

        if (!pending) {
            if (max_header_list_size - list < name.n + value.n + RW_HPACK_ENTRY_OVERHEAD) {
                pending = RW_HPACK_E_LIST_TOO_LARGE;
            } else if (nf == max_fields) {
                pending = RW_HPACK_E_TOO_MANY_FIELDS;
            } else {
                list += name.n + value.n + RW_HPACK_ENTRY_OVERHEAD;
                out[nf++] = (rw_hpack_field){ name, value, flags };
            }
            if (pending)
                sa.used = mark; /* not emitted: give the scratch back */
        }
        if (incr) {
            if (too_big)
                rw_hpack_table_clear(&d->t); /* entry > max_size empties the table */
            else
                rw_hpack_table_insert(&d->t, name.p, (uint32_t)name.n, value.p, (uint32_t)value.n, 0, 0);
        }
    }
    *nfields = nf;
    return pending;
fail:
    *nfields = nf;
    return rc;
}
