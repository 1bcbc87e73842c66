/* HPACK Huffman codec. Decoding walks a generated 4-bit state machine (two
 * table lookups per input byte); encoding packs codes into a 64-bit
 * accumulator. */
#include "http2/huffman.h"

#include "http2/huffman_table.h"

size_t rw_huff_encoded_len(const uint8_t *src, size_t n)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += rw_huff_len[src[i]];
    return (size_t)((bits + 7) / 8);
}

long rw_huff_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    uint8_t *o = dst, *end = dst + cap;
    uint64_t acc = 0; /* bits above nbits were already written; they shift out */
    unsigned nbits = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned len = rw_huff_len[src[i]];
        acc = (acc << len) | rw_huff_code[src[i]];
        nbits += len;
        while (nbits >= 8) {
            if (o == end)
                return RW_HUFF_E_NOSPACE;
            nbits -= 8;
            *o++ = (uint8_t)(acc >> nbits);
        }
    }
    if (nbits > 0) { /* pad with the most significant bits of EOS (all ones) */
        if (o == end)
            return RW_HUFF_E_NOSPACE;
        *o++ = (uint8_t)((acc << (8 - nbits)) | (0xffu >> nbits));
    }
    return (long)(o - dst);
}

/* store == 0: count only (dst unused). Inlined twice so the hot loop has no
 * mode test. */
static inline __attribute__((always_inline)) long huff_run(const uint8_t *src, size_t n,
                                                           uint8_t *dst, size_t cap, int store)
{
    size_t out = 0;
    unsigned state = 0, flags = RW_HUFF_ACCEPT; /* the empty string is valid */

    for (size_t i = 0; i < n; i++) {
        unsigned nib[2] = { src[i] >> 4, src[i] & 0xfu };
        for (int k = 0; k < 2; k++) {
            const rw_huff_dstate *e = &rw_huff_dec[state][nib[k]];
            flags = e->flags;
            if (flags & RW_HUFF_FAIL)
                return RW_HUFF_E_INVALID;
            if (flags & RW_HUFF_SYM) {
                if (store) {
                    if (out == cap)
                        return RW_HUFF_E_NOSPACE;
                    dst[out] = e->sym;
                }
                out++;
            }
            state = e->next;
        }
    }
    if (!(flags & RW_HUFF_ACCEPT))
        return RW_HUFF_E_INVALID;
    return (long)out;
}

long rw_huff_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    return huff_run(src, n, dst, cap, 1);
}

long rw_huff_decoded_len(const uint8_t *src, size_t n)
{
    return huff_run(src, n, NULL, 0, 0);
}
