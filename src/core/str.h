/* Byte-string views and the few helpers every module needs. Header-only so
 * the hot paths inline them. */
#ifndef RW_CORE_STR_H
#define RW_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "ringwire/ringwire.h"

static inline rw_str rw_str_make(const char *p, size_t n) { return (rw_str){ p, n }; }
static inline rw_str rw_str_c(const char *s) { return (rw_str){ s, strlen(s) }; }

static inline char rw_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c; }

static inline bool rw_str_eq(rw_str a, rw_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool rw_str_eq_lit_nocase(rw_str a, const char *lit, size_t litlen)
{
    if (a.n != litlen)
        return false;
    for (size_t i = 0; i < litlen; i++)
        if (rw_lower(a.p[i]) != lit[i]) /* lit must be lower case */
            return false;
    return true;
}
#define RW_STR_IEQ(s, lit) rw_str_eq_lit_nocase((s), (lit), sizeof(lit) - 1)

static inline bool rw_str_ieq(rw_str a, rw_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++)
        if (rw_lower(a.p[i]) != rw_lower(b.p[i]))
            return false;
    return true;
}

#endif
