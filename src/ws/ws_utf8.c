/* UTF-8 validation: an ASCII skip loop plus a per-sequence check built from
 * the well-formed byte ranges of Unicode Table 3-7. Only the second byte of
 * a sequence has a lead-dependent range (that is where overlongs, surrogates
 * and > U+10FFFF are caught); every later byte is 80..BF. */
#include "ws/ws_utf8.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t rw_utf8_ascii_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(p + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(p + i + 48));
        __m128i o = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if (_mm_movemask_epi8(o))
            break;
    }
    for (; i + 16 <= n; i += 16) {
        int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i)));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w &= 0x8080808080808080ull;
        if (w) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)(__builtin_ctzll(w) >> 3);
#else
            return i + (size_t)(__builtin_clzll(w) >> 3);
#endif
        }
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* For a lead byte: the number of continuation bytes (0 = invalid lead) and
 * the range of the first one. */
static inline unsigned lead_info(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        return 1;
    if (b >= 0xe0 && b <= 0xef) {
        if (b == 0xe0)
            *lo = 0xa0; /* overlong */
        else if (b == 0xed)
            *hi = 0x9f; /* surrogates */
        return 2;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        if (b == 0xf0)
            *lo = 0x90; /* overlong */
        else if (b == 0xf4)
            *hi = 0x8f; /* > U+10FFFF */
        return 3;
    }
    return 0; /* 80..BF lone continuation, C0/C1 overlong, F5..FF */
}

static inline bool fail(rw_utf8 *u)
{
    u->need = RW_UTF8_BAD;
    return false;
}

bool rw_utf8_feed(rw_utf8 *u, const uint8_t *p, size_t n)
{
    if (u->need == RW_UTF8_BAD)
        return false;
    size_t i = 0;
    /* Finish a sequence the previous piece cut. */
    while (u->need && i < n) {
        if (p[i] < u->lo || p[i] > u->hi)
            return fail(u);
        u->lo = 0x80;
        u->hi = 0xbf;
        u->need--;
        i++;
    }
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            if (i < n && p[i] < 0x80)
                i += rw_utf8_ascii_prefix(p + i, n - i);
            continue;
        }
        uint8_t lo, hi;
        unsigned need = lead_info(p[i], &lo, &hi);
        if (!need)
            return fail(u);
        if (n - i > need) { /* whole sequence here: the common case */
            if (p[i + 1] < lo || p[i + 1] > hi)
                return fail(u);
            for (unsigned k = 2; k <= need; k++)
                if ((p[i + k] & 0xc0) != 0x80)
                    return fail(u);
            i += need + 1;
            continue;
        }
        /* Cut by the end of the piece: check what is here, remember the rest. */
        i++;
        while (i < n) {
            if (p[i] < lo || p[i] > hi)
                return fail(u);
            lo = 0x80;
            hi = 0xbf;
            need--;
            i++;
        }
        u->need = (uint8_t)need;
        u->lo = lo;
        u->hi = hi;
    }
    return true;
}

bool rw_utf8_valid(const uint8_t *p, size_t n)
{
    rw_utf8 u;
    rw_utf8_init(&u);
    return rw_utf8_feed(&u, p, n) && rw_utf8_complete(&u);
}
