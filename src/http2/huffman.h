/* HPACK Huffman coding (RFC 7541 5.2, Appendix B). Pure functions: no
 * allocation, no state between calls. */
#ifndef RW_HTTP2_HUFFMAN_H
#define RW_HTTP2_HUFFMAN_H

#include <stddef.h>
#include <stdint.h>

enum {
    RW_HUFF_E_INVALID = -1, /* EOS in the string, or bad padding (> 7 bits or not all ones) */
    RW_HUFF_E_NOSPACE = -2, /* decoded output exceeds dst cap */
};

/* Exact number of bytes rw_huff_encode() produces for src[0..n). */
size_t rw_huff_encoded_len(const uint8_t *src, size_t n);

/* Encodes src into dst; returns the encoded length, or RW_HUFF_E_NOSPACE if
 * it needs more than cap bytes (dst contents are then unspecified). */
long rw_huff_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

/* Decodes src into dst; returns the decoded length or a negative RW_HUFF_E_*.
 * The decoded length never exceeds n * 8 / 5 (the shortest code is 5 bits). */
long rw_huff_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

/* Validates src and returns its decoded length without storing it, or
 * RW_HUFF_E_INVALID. */
long rw_huff_decoded_len(const uint8_t *src, size_t n);

#endif
