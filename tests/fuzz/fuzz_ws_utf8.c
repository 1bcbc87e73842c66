/* libFuzzer harness for the UTF-8 validator: the verdict on the whole
 * input must match a plain code-point decoder, and feeding the input in
 * two pieces (cut where the first byte says) or byte by byte must not
 * change it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ws/ws_utf8.h"

static bool ref_valid(const uint8_t *p, size_t n)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool want = ref_valid(p, n);
    if (rw_utf8_valid(p, n) != want)
        abort();
    size_t cut = n ? data[0] % (n + 1) : 0;
    rw_utf8 u;
    rw_utf8_init(&u);
    bool ok = rw_utf8_feed(&u, p, cut);
    ok = rw_utf8_feed(&u, p + cut, n - cut) && ok;
    if ((ok && rw_utf8_complete(&u)) != want)
        abort();
    rw_utf8_init(&u);
    ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = rw_utf8_feed(&u, p + i, 1);
    if ((ok && rw_utf8_complete(&u)) != want)
        abort();
    size_t a = rw_utf8_ascii_prefix(p, n);
    if (a > n || (a < n && p[a] < 0x80))
        abort();
    for (size_t i = 0; i < a; i++)
        if (p[i] >= 0x80)
            abort();
    return 0;
}
