/* Masking: the wide paths XOR a whole vector with the key rotated to the
 * current phase; since every vector width is a multiple of 4 the phase does
 * not change inside the loop, and only the tail goes byte by byte. */
#include "ws/ws_unmask.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RW_UNMASK_X86 1
#endif

unsigned rw_ws_unmask_scalar(uint8_t *dst, const uint8_t *src, size_t len,
                             const uint8_t key[RW_WS_MASK_LEN], unsigned phase)
{
    phase &= 3;
    for (size_t i = 0; i < len; i++) {
        dst[i] = src[i] ^ key[phase];
        phase = (phase + 1) & 3;
    }
    return phase;
}

/* The key as a 32-bit word whose byte 0 (in memory order) is key[phase]. */
static inline uint32_t rotated_key(const uint8_t key[RW_WS_MASK_LEN], unsigned phase)
{
    uint8_t k[4] = { key[phase & 3], key[(phase + 1) & 3], key[(phase + 2) & 3],
                     key[(phase + 3) & 3] };
    uint32_t w;
    memcpy(&w, k, 4);
    return w;
}

/* 8 bytes per step; memcpy keeps unaligned access defined and compiles to a
 * plain load/store. */
static size_t unmask_words(uint8_t *dst, const uint8_t *src, size_t len, uint32_t k32)
{
    uint64_t k64 = ((uint64_t)k32 << 32) | k32;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    return i;
}

#ifdef RW_UNMASK_X86
__attribute__((target("avx2"))) static size_t unmask_avx2(uint8_t *dst, const uint8_t *src,
                                                          size_t len, uint32_t k32)
{
    __m256i k = _mm256_set1_epi32((int)k32);
    size_t i = 0;
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
    }
    return i;
}

static size_t unmask_sse2(uint8_t *dst, const uint8_t *src, size_t len, uint32_t k32)
{
    __m128i k = _mm_set1_epi32((int)k32);
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
        _mm_storeu_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, k));
        _mm_storeu_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, k));
        _mm_storeu_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, k));
    }
    for (; i + 16 <= len; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
    }
    return i;
}

/* cpuid once, before main() and so before any worker thread exists: the
 * threads only ever read the flag, with no lazy first-use write to race on
 * and no synchronisation on the hot path. __builtin_cpu_init() is required
 * because this may run before libgcc's own constructor. */
static bool g_have_avx2;

__attribute__((constructor)) static void detect_avx2(void)
{
    __builtin_cpu_init();
    g_have_avx2 = __builtin_cpu_supports("avx2");
}

static inline bool have_avx2(void)
{
    return g_have_avx2;
}
#endif

unsigned rw_ws_unmask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                           const uint8_t key[RW_WS_MASK_LEN], unsigned phase)
{
    phase &= 3;
    if (len < 8)
        return rw_ws_unmask_scalar(dst, src, len, key, phase);
    uint32_t k32 = rotated_key(key, phase);
    size_t done;
#ifdef RW_UNMASK_X86
    if (len >= 32 && have_avx2())
        done = unmask_avx2(dst, src, len, k32);
    else
        done = unmask_sse2(dst, src, len, k32);
#else
    done = 0;
#endif
    done += unmask_words(dst + done, src + done, len - done, k32);
    /* done is a multiple of 4: the phase is unchanged up to here. */
    return rw_ws_unmask_scalar(dst + done, src + done, len - done, key, phase);
}

unsigned rw_ws_unmask(uint8_t *buf, size_t len, const uint8_t key[RW_WS_MASK_LEN], unsigned phase)
{
    return rw_ws_unmask_copy(buf, buf, len, key, phase);
}
