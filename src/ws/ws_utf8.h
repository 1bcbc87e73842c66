/* Incremental UTF-8 validator (Unicode Table 3-7 / RFC 3629): rejects
 * overlongs, surrogates (U+D800..DFFF), code points above U+10FFFF, the old
 * 5/6-byte forms, lone continuation bytes and truncated sequences. Input may
 * come in pieces cut anywhere, including inside a sequence: a sequence that
 * starts in one piece and completes in the next is valid; rw_utf8_complete()
 * tells whether the text ended mid-sequence.
 *
 * A run of ASCII is checked 64 bytes per step (SSE2) or 8 (elsewhere); only
 * non-ASCII bytes go through the sequence checks. The state is 4 bytes, no
 * allocation, no syscalls. */
#ifndef RW_WS_UTF8_H
#define RW_WS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rw_utf8 {
    uint8_t need;   /* continuation bytes still expected; RW_UTF8_BAD after an error */
    uint8_t lo, hi; /* allowed range of the next continuation byte */
} rw_utf8;

#define RW_UTF8_BAD 0xff

static inline void rw_utf8_init(rw_utf8 *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xbf;
}

/* Validates the next piece. Returns false on invalid input; the error is
 * sticky (every later call returns false until rw_utf8_init()). */
bool rw_utf8_feed(rw_utf8 *u, const uint8_t *p, size_t n);

/* True when no error was seen and the input did not stop mid-sequence. */
static inline bool rw_utf8_complete(const rw_utf8 *u) { return u->need == 0; }

/* One-shot: the whole of p is valid UTF-8. */
bool rw_utf8_valid(const uint8_t *p, size_t n);

/* Index of the first non-ASCII byte in p[0..n), or n. Exposed for tests and
 * benchmarks. */
size_t rw_utf8_ascii_prefix(const uint8_t *p, size_t n);

#endif
