/* Reference UTF-8 validator for the tests: decode code points one by one
 * the obvious way (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF), so it shares no code or table with src/ws/ws_utf8.c. Used by
 * tests/unit/test_ws_utf8.c and tests/fuzz/fuzz_ws_utf8.c. */
#ifndef RW_TEST_UTF8_REF_H
#define RW_TEST_UTF8_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool utf8_ref_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        uint32_t cp;
        size_t len;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            len = 2;
            cp = b & 0x1f;
        } else if ((b & 0xf0) == 0xe0) {
            len = 3;
            cp = b & 0x0f;
        } else if ((b & 0xf8) == 0xf0) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

#endif
