/* Streaming decoder for the chunked transfer coding (RFC 9112 7.1), trailers
 * included. Feed it bytes as they arrive; it hands back views of the data
 * inside them. Never allocates, never copies. */
#ifndef RW_HTTP1_CHUNKED_H
#define RW_HTTP1_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

typedef enum rw_chunked_result {
    RW_CHUNKED_DATA = 1,    /* *data holds body bytes (data->n > 0) */
    RW_CHUNKED_NEED_MORE = 0, /* all input consumed, message not finished */
    RW_CHUNKED_DONE = 2,    /* last-chunk and trailers consumed; *consumed ends the message */
    RW_CHUNKED_ERROR = -1,  /* malformed: respond 400 and close */
    RW_CHUNKED_TOO_LARGE = -2, /* a chunk-size passes max_body: respond 413 and close */
} rw_chunked_result;

typedef struct rw_chunked {
    int state;
    uint64_t remaining;     /* bytes left in the current chunk */
    unsigned size_digits;
    size_t line_bytes;      /* bytes of the current size/ext/trailer line */
    size_t trailer_bytes;   /* total trailer section bytes */
    size_t max_line;        /* limit for a chunk-size line (incl. extensions) */
    size_t max_trailer;     /* limit for the trailer section */
    uint64_t max_body;      /* limit for the sum of chunk sizes (UINT64_MAX after init);
                             * checked on each size digit, before any data arrives */
    uint64_t body_total;    /* sum of the chunk sizes announced so far */
    const char *error_reason;
} rw_chunked;

void rw_chunked_init(rw_chunked *d, size_t max_line, size_t max_trailer);
/* Decodes from in[0..len). Sets *consumed to the bytes used. On DATA, *data
 * points into in; call again with the rest. */
rw_chunked_result rw_chunked_feed(rw_chunked *d, const char *in, size_t len, size_t *consumed,
                                  rw_str *data);

#endif
