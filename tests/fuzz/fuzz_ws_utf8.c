/* libFuzzer harness for the UTF-8 validator: the verdict on the whole
 * input must match a plain code-point decoder, and feeding the input in
 * two pieces (cut where the first byte says) or byte by byte must not
 * change it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../common/utf8_ref.h"
#include "ws/ws_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool want = utf8_ref_valid(p, n);
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
