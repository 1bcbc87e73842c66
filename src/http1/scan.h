/* Byte-class scans used by the HTTP/1 parser: find the first byte that may
 * not appear in a request-target or a field value. A SIMD version (SSE4.2
 * range compare or SSE2 compares, picked at compile time) and a scalar twin
 * that must give identical answers (tests/unit/test_h1_parser.c checks that
 * on random input). Never reads past p[n - 1]. */
#ifndef RW_HTTP1_SCAN_H
#define RW_HTTP1_SCAN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#define RW_H1_SCAN_SIMD 1
#define RW_H1_SCAN_SIMD_NAME "sse4.2"
#elif defined(__SSE2__)
#include <emmintrin.h>
#define RW_H1_SCAN_SIMD 1
#define RW_H1_SCAN_SIMD_NAME "sse2"
#else
#define RW_H1_SCAN_SIMD 0
#define RW_H1_SCAN_SIMD_NAME "none"
#endif

/* request-target bytes: VCHAR only (0x21..0x7E); SP ends the target. */
static inline int rw_h1_is_target_byte(unsigned char c) { return c > 0x20 && c < 0x7F; }

/* field-value bytes: HTAB, SP, VCHAR, obs-text (0x80..0xFF). CR ends a value. */
static inline int rw_h1_is_value_byte(unsigned char c)
{
    return (c >= 0x20 && c != 0x7F) || c == '\t';
}

static inline size_t rw_h1_scan_target_scalar(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && rw_h1_is_target_byte((unsigned char)p[i]))
        i++;
    return i;
}

static inline size_t rw_h1_scan_value_scalar(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && rw_h1_is_value_byte((unsigned char)p[i]))
        i++;
    return i;
}

#if RW_H1_SCAN_SIMD
#if defined(__SSE4_2__)
/* _mm_cmpestri in "ranges" mode: index of the first byte inside any of the
 * (lo, hi) pairs of the range vector, 16 when none. */
static inline size_t rw_h1_scan_ranges_simd(const char *p, size_t n, __m128i ranges, int nranges)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        int idx = _mm_cmpestri(ranges, nranges, v, 16,
                               _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_LEAST_SIGNIFICANT);
        if (idx != 16)
            return i + (size_t)idx;
    }
    return i;
}

static inline size_t rw_h1_scan_target_simd(const char *p, size_t n)
{
    const __m128i r = _mm_setr_epi8(0x00, 0x20, 0x7F, (char)0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0);
    size_t i = rw_h1_scan_ranges_simd(p, n, r, 4);
    return i + rw_h1_scan_target_scalar(p + i, n - i);
}

static inline size_t rw_h1_scan_value_simd(const char *p, size_t n)
{
    const __m128i r = _mm_setr_epi8(0x00, 0x08, 0x0A, 0x1F, 0x7F, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0);
    size_t i = rw_h1_scan_ranges_simd(p, n, r, 6);
    return i + rw_h1_scan_value_scalar(p + i, n - i);
}
#else  /* SSE2 */
static inline size_t rw_h1_scan_target_simd(const char *p, size_t n)
{
    const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* unsigned v <= 0x20  <=>  max(v, 0x20) == 0x20; v >= 0x7F likewise with min */
        __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, sp), sp);
        __m128i high = _mm_cmpeq_epi8(_mm_min_epu8(v, del), del);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(low, high));
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    return i + rw_h1_scan_target_scalar(p + i, n - i);
}

static inline size_t rw_h1_scan_value_simd(const char *p, size_t n)
{
    const __m128i us = _mm_set1_epi8(0x1F), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7F);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, us), us);      /* v <= 0x1F */
        ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl);        /* HTAB is fine */
        ctl = _mm_or_si128(ctl, _mm_cmpeq_epi8(v, del));
        unsigned m = (unsigned)_mm_movemask_epi8(ctl);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    return i + rw_h1_scan_value_scalar(p + i, n - i);
}
#endif

/* Below one vector the SIMD loop would do nothing but call the scalar tail. */
#define RW_H1_SCAN_SIMD_MIN 16

static inline size_t rw_h1_scan_target(const char *p, size_t n)
{
    return n >= RW_H1_SCAN_SIMD_MIN ? rw_h1_scan_target_simd(p, n) : rw_h1_scan_target_scalar(p, n);
}

static inline size_t rw_h1_scan_value(const char *p, size_t n)
{
    return n >= RW_H1_SCAN_SIMD_MIN ? rw_h1_scan_value_simd(p, n) : rw_h1_scan_value_scalar(p, n);
}
#else
static inline size_t rw_h1_scan_target(const char *p, size_t n) { return rw_h1_scan_target_scalar(p, n); }
static inline size_t rw_h1_scan_value(const char *p, size_t n) { return rw_h1_scan_value_scalar(p, n); }
#endif

#endif
