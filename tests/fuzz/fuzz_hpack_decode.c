/* libFuzzer harness for the HPACK decoder. Input layout:
 *   byte 0: decoder table capacity, list limit and scratch size choices
 *   then records: 0x80|k  -> SETTINGS_HEADER_TABLE_SIZE = k * 64 (if <= capacity)
 *                 hi, lo  -> a header block of (hi << 8 | lo) bytes follows
 * Blocks are decoded in sequence with one decoder (a fresh one after a
 * connection error). Invariants: every view lies inside the block, the
 * scratch buffer or the static table; emitted sizes respect the limits; the
 * table respects its maximum; and a successfully decoded list re-encoded by
 * our encoder decodes back to the same list with never-indexed kept.
 * Sources: this file + src/http2/{hpack,hpack_static,hpack_decode,
 * hpack_encode,huffman}.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http2/hpack.h"
#include "http2/hpack_internal.h"

#define MAX_FIELDS 64
#define CHECK_OR_DIE(c)                                                                            \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(rw_str s, const void *base, size_t len)
{
    const char *b = base;
    return s.p >= b && s.n <= len && (size_t)(s.p - b) <= len - s.n;
}

static bool is_static(rw_str s)
{
    for (size_t i = 1; i <= RW_HPACK_STATIC_COUNT; i++) {
        const rw_hpack_field *f = rw_hpack_static_entry(i);
        if ((s.p == f->name.p && s.n == f->name.n) || (s.p == f->value.p && s.n == f->value.n))
            return true;
    }
    return false;
}

static bool view_ok(rw_str s, const uint8_t *in, size_t len, const char *scratch, size_t cap)
{
    return s.n == 0 || inside(s, in, len) || inside(s, scratch, cap) || is_static(s);
}

static bool is_known(int rc)
{
    return rc == 0 || rw_hpack_is_connection_error(rc) || rc == RW_HPACK_E_LIST_TOO_LARGE ||
           rc == RW_HPACK_E_TOO_MANY_FIELDS || rc == RW_HPACK_E_SCRATCH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = { 0, 64, 256, 4096 };
    static const size_t lists[] = { 64, 1024, 16384, SIZE_MAX };
    static const size_t scratches[] = { 0, 32, 4096, 65536 };
    if (size < 1)
        return 0;
    const size_t cap = caps[data[0] & 3], max_list = lists[(data[0] >> 2) & 3];
    const size_t scap = scratches[(data[0] >> 4) & 3];
    const size_t enc_cap = caps[(data[0] >> 6) & 3];
    data++, size--;

    rw_hpack_decoder d, d2;
    rw_hpack_encoder e;
    if (rw_hpack_decoder_init(&d, cap) || rw_hpack_decoder_init(&d2, enc_cap) ||
        rw_hpack_encoder_init(&e, enc_cap))
        abort();
    rw_hpack_field out[MAX_FIELDS], back[MAX_FIELDS];
    char *scratch = scap ? malloc(scap) : NULL;
    static char scratch2[1 << 20];
    static uint8_t wire[1 << 20];

    while (size > 0) {
        uint8_t op = data[0];
        if (op & 0x80) {
            size_t lim = (size_t)(op & 0x7f) * 64;
            if (lim <= cap)
                CHECK_OR_DIE(rw_hpack_decoder_set_limit(&d, lim) == 0);
            else
                CHECK_OR_DIE(rw_hpack_decoder_set_limit(&d, lim) == RW_HPACK_E_INVALID);
            data++, size--;
            continue;
        }
        if (size < 2)
            break;
        size_t len = (size_t)op << 8 | data[1];
        data += 2, size -= 2;
        if (len > size)
            len = size;
        /* Exact-size copy so any over-read trips ASan. */
        uint8_t *blk = malloc(len ? len : 1);
        memcpy(blk, data, len);
        data += len, size -= len;

        size_t nf = 12345;
        int rc = rw_hpack_decode(&d, blk, len, out, MAX_FIELDS, scratch, scap, max_list, &nf);
        CHECK_OR_DIE(is_known(rc));
        CHECK_OR_DIE(nf <= MAX_FIELDS);
        size_t list = 0;
        for (size_t i = 0; i < nf; i++) {
            CHECK_OR_DIE(view_ok(out[i].name, blk, len, scratch, scap));
            CHECK_OR_DIE(view_ok(out[i].value, blk, len, scratch, scap));
            CHECK_OR_DIE((out[i].flags & ~(uint32_t)RW_HPACK_F_NEVER_INDEX) == 0);
            list += out[i].name.n + out[i].value.n + RW_HPACK_ENTRY_OVERHEAD;
        }
        CHECK_OR_DIE(list <= max_list);
        CHECK_OR_DIE(rw_hpack_table_size(&d.t) <= rw_hpack_table_max_size(&d.t));
        if (rc == 0)
            CHECK_OR_DIE(rw_hpack_table_max_size(&d.t) <= d.limit);

        if (rw_hpack_is_connection_error(rc)) { /* connection would be closed */
            rw_hpack_decoder_free(&d);
            CHECK_OR_DIE(rw_hpack_decoder_init(&d, cap) == 0);
        } else if (rc == 0) {
            size_t w, nf2;
            CHECK_OR_DIE(rw_hpack_encode(&e, out, nf, wire, sizeof(wire), &w) == 0);
            int rc2 = rw_hpack_decode(&d2, wire, w, back, MAX_FIELDS, scratch2, sizeof(scratch2),
                                      SIZE_MAX, &nf2);
            CHECK_OR_DIE(rc2 == 0 && nf2 == nf);
            for (size_t i = 0; i < nf; i++) {
                CHECK_OR_DIE(back[i].name.n == out[i].name.n && back[i].value.n == out[i].value.n);
                CHECK_OR_DIE(out[i].name.n == 0 ||
                             memcmp(back[i].name.p, out[i].name.p, out[i].name.n) == 0);
                CHECK_OR_DIE(out[i].value.n == 0 ||
                             memcmp(back[i].value.p, out[i].value.p, out[i].value.n) == 0);
                if (out[i].flags & RW_HPACK_F_NEVER_INDEX)
                    CHECK_OR_DIE(back[i].flags & RW_HPACK_F_NEVER_INDEX);
            }
            CHECK_OR_DIE(e.t.size == d2.t.size && e.t.count == d2.t.count);
        }
        free(blk);
    }
    free(scratch);
    rw_hpack_decoder_free(&d);
    rw_hpack_decoder_free(&d2);
    rw_hpack_encoder_free(&e);
    return 0;
}
