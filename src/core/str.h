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

/* The next element of a comma-separated header list (RFC 9110 §5.6.1) from
 * *pos, blanks trimmed, empty elements skipped. False when none is left. */
static inline bool rw_str_next_token(rw_str v, size_t *pos, rw_str *tok)
{
    size_t i = *pos;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t st = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        size_t e = i;
        while (e > st && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
            e--;
        if (e > st) {
            *pos = i;
            *tok = rw_str_make(v.p + st, e - st);
            return true;
        }
    }
    *pos = i;
    return false;
}

/* Is lit (lower case) one of the elements of the list v, without case? */
static inline bool rw_str_has_token(rw_str v, const char *lit)
{
    size_t pos = 0, n = strlen(lit);
    rw_str tok;
    while (rw_str_next_token(v, &pos, &tok))
        if (rw_str_eq_lit_nocase(tok, lit, n))
            return true;
    return false;
}

#endif
