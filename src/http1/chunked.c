/* Chunked transfer coding decoder (RFC 9112 7.1), one byte-state machine for
 * the framing lines and a straight view hand-out for chunk data.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *
 * Strict: CRLF only (no bare LF or CR), BWS only where the grammar has it,
 * at most RW_CHUNKED_MAX_SIZE_DIGITS hex digits. Extensions are validated
 * and skipped; trailer fields are syntax-checked and skipped. */
#include "http1/chunked.h"

#include <stdbool.h>

/* 16 hex digits = 64 bits: more could overflow remaining. */
#define RW_CHUNKED_MAX_SIZE_DIGITS 16

enum {
    ST_SIZE = 0,      /* hex digits of chunk-size */
    ST_SIZE_BWS,      /* BWS after the size: only ';' may follow */
    ST_EXT_PRE_NAME,  /* after ';', BWS then ext-name */
    ST_EXT_NAME,
    ST_EXT_POST_NAME, /* BWS after ext-name: '=' or ';' */
    ST_EXT_PRE_VAL,   /* after '=', BWS then token or quoted-string */
    ST_EXT_VAL_TOKEN,
    ST_EXT_VAL_QUOTED,
    ST_EXT_VAL_ESC,   /* after '\' in a quoted-string */
    ST_EXT_POST_QVAL, /* right after the closing quote */
    ST_EXT_POST_VAL,  /* BWS after a value: only ';' may follow */
    ST_SIZE_LF,       /* CR seen at the end of the size line */
    ST_DATA,
    ST_DATA_CR,
    ST_DATA_LF,
    ST_TRAILER_START, /* start of a trailer line or the final CRLF */
    ST_TRAILER_NAME,
    ST_TRAILER_VALUE,
    ST_TRAILER_LF,
    ST_FINAL_LF,
    ST_DONE,
    ST_ERROR,
};

static inline bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    }
    return false;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline bool is_bws(unsigned char c) { return c == ' ' || c == '\t'; }

/* qdtext and quoted-pair octets (RFC 9110 5.6.4) minus the '"' and '\'. */
static inline bool is_qdtext(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F && c != '"' && c != '\\');
}

static inline bool is_field_value_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

void rw_chunked_init(rw_chunked *d, size_t max_line, size_t max_trailer)
{
    *d = (rw_chunked){ .state = ST_SIZE, .max_line = max_line, .max_trailer = max_trailer,
                       .max_body = UINT64_MAX };
}

/* step()'s answer for a chunk size that passes max_body (not malformed: 413). */
static const char too_large[] = "chunk size beyond the body limit";

static rw_chunked_result fail(rw_chunked *d, const char *why, size_t at, size_t *consumed)
{
    d->state = ST_ERROR;
    d->error_reason = why;
    *consumed = at;
    return why == too_large ? RW_CHUNKED_TOO_LARGE : RW_CHUNKED_ERROR;
}

/* One framing byte (everything but chunk data). Returns NULL or an error. */
static const char *step(rw_chunked *d, unsigned char c)
{
    int st = d->state;
    if (st >= ST_SIZE && st <= ST_SIZE_LF) {
        if (++d->line_bytes > d->max_line)
            return "chunk-size line too long";
    } else if (st >= ST_TRAILER_START && st <= ST_FINAL_LF) {
        if (++d->trailer_bytes > d->max_trailer)
            return "trailer section too large";
    }

    switch (st) {
    case ST_SIZE: {
        int v = hexval(c);
        if (v >= 0) {
            if (++d->size_digits > RW_CHUNKED_MAX_SIZE_DIGITS)
                return "chunk size too large";
            d->remaining = (d->remaining << 4) | (uint64_t)v;
            /* Digit by digit: the 413 needs neither the line end nor the data. */
            if (d->remaining > d->max_body - d->body_total)
                return too_large;
            return NULL;
        }
        if (d->size_digits == 0)
            return "invalid chunk size";
        if (c == '\r')
            d->state = ST_SIZE_LF;
        else if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (is_bws(c))
            d->state = ST_SIZE_BWS;
        else
            return "invalid byte after chunk size";
        return NULL;
    }
    case ST_SIZE_BWS:
        if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (!is_bws(c))
            return "whitespace after chunk size without extension";
        return NULL;
    case ST_EXT_PRE_NAME:
        if (is_tchar(c))
            d->state = ST_EXT_NAME;
        else if (!is_bws(c))
            return "invalid chunk extension name";
        return NULL;
    case ST_EXT_NAME:
        if (is_tchar(c))
            return NULL;
        if (c == '\r')
            d->state = ST_SIZE_LF;
        else if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (c == '=')
            d->state = ST_EXT_PRE_VAL;
        else if (is_bws(c))
            d->state = ST_EXT_POST_NAME;
        else
            return "invalid byte in chunk extension";
        return NULL;
    case ST_EXT_POST_NAME:
        if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (c == '=')
            d->state = ST_EXT_PRE_VAL;
        else if (!is_bws(c))
            return "invalid byte in chunk extension";
        return NULL;
    case ST_EXT_PRE_VAL:
        if (c == '"')
            d->state = ST_EXT_VAL_QUOTED;
        else if (is_tchar(c))
            d->state = ST_EXT_VAL_TOKEN;
        else if (!is_bws(c))
            return "invalid chunk extension value";
        return NULL;
    case ST_EXT_VAL_TOKEN:
        if (is_tchar(c))
            return NULL;
        if (c == '\r')
            d->state = ST_SIZE_LF;
        else if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (is_bws(c))
            d->state = ST_EXT_POST_VAL;
        else
            return "invalid byte in chunk extension value";
        return NULL;
    case ST_EXT_VAL_QUOTED:
        if (c == '"')
            d->state = ST_EXT_POST_QVAL;
        else if (c == '\\')
            d->state = ST_EXT_VAL_ESC;
        else if (!is_qdtext(c))
            return "invalid byte in quoted chunk extension";
        return NULL;
    case ST_EXT_VAL_ESC:
        if (c != '\t' && (c < 0x20 || c == 0x7F))
            return "invalid quoted-pair in chunk extension";
        d->state = ST_EXT_VAL_QUOTED;
        return NULL;
    case ST_EXT_POST_QVAL:
        if (c == '\r')
            d->state = ST_SIZE_LF;
        else if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (is_bws(c))
            d->state = ST_EXT_POST_VAL;
        else
            return "invalid byte after chunk extension";
        return NULL;
    case ST_EXT_POST_VAL:
        if (c == ';')
            d->state = ST_EXT_PRE_NAME;
        else if (!is_bws(c))
            return "invalid byte after chunk extension";
        return NULL;
    case ST_SIZE_LF:
        if (c != '\n')
            return "chunk-size line not ended by CRLF";
        d->body_total += d->remaining; /* <= max_body: checked per digit */
        d->state = d->remaining ? ST_DATA : ST_TRAILER_START;
        return NULL;
    case ST_DATA_CR:
        if (c != '\r')
            return "chunk data not followed by CRLF";
        d->state = ST_DATA_LF;
        return NULL;
    case ST_DATA_LF:
        if (c != '\n')
            return "chunk data not followed by CRLF";
        d->state = ST_SIZE;
        d->size_digits = 0;
        d->line_bytes = 0;
        return NULL;
    case ST_TRAILER_START:
        if (c == '\r')
            d->state = ST_FINAL_LF;
        else if (is_tchar(c))
            d->state = ST_TRAILER_NAME;
        else
            return "invalid trailer field";
        return NULL;
    case ST_TRAILER_NAME:
        if (c == ':')
            d->state = ST_TRAILER_VALUE;
        else if (!is_tchar(c))
            return "invalid trailer field name";
        return NULL;
    case ST_TRAILER_VALUE:
        if (c == '\r')
            d->state = ST_TRAILER_LF;
        else if (!is_field_value_byte(c))
            return "invalid byte in trailer field";
        return NULL;
    case ST_TRAILER_LF:
        if (c != '\n')
            return "bare CR in trailer";
        d->state = ST_TRAILER_START;
        return NULL;
    case ST_FINAL_LF:
        if (c != '\n')
            return "bare CR after trailers";
        d->state = ST_DONE;
        return NULL;
    }
    return "decoder misuse";
}

rw_chunked_result rw_chunked_feed(rw_chunked *d, const char *in, size_t len, size_t *consumed,
                                  rw_str *data)
{
    size_t i = 0;
    if (d->state == ST_ERROR) {
        *consumed = 0;
        return RW_CHUNKED_ERROR;
    }
    while (i < len && d->state != ST_DONE) {
        if (d->state == ST_DATA) {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = ST_DATA_CR;
            *data = (rw_str){ in + i, n };
            *consumed = i + n;
            return RW_CHUNKED_DATA;
        }
        const char *why = step(d, (unsigned char)in[i]);
        if (why)
            return fail(d, why, i, consumed);
        i++;
    }
    *consumed = i;
    return d->state == ST_DONE ? RW_CHUNKED_DONE : RW_CHUNKED_NEED_MORE;
}
