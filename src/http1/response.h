/* HTTP/1.x response-head serialization. Pure: writes bytes into a caller's
 * buffer, no allocation. */
#ifndef RW_HTTP1_RESPONSE_H
#define RW_HTTP1_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

typedef enum rw_h1_framing {
    RW_H1_FRAME_NONE = 0,   /* 1xx/204/304: no body, no length header */
    RW_H1_FRAME_LENGTH,     /* Content-Length: content_length */
    RW_H1_FRAME_CHUNKED,    /* Transfer-Encoding: chunked */
    RW_H1_FRAME_CLOSE,      /* body delimited by connection close (HTTP/1.0 streaming) */
} rw_h1_framing;

typedef struct rw_h1_head {
    int minor_version;      /* of the request: 0 -> HTTP/1.0 semantics */
    int status;
    const rw_header *headers;
    size_t nheaders;
    const char *date;       /* RW_DATE_LEN chars */
    rw_h1_framing framing;
    uint64_t content_length;
    bool keep_alive;        /* false -> "Connection: close" */
} rw_h1_head;

/* Upper bound of the bytes rw_h1_head_write() needs for h. */
size_t rw_h1_head_size(const rw_h1_head *h);
/* Serializes h into out (at least rw_h1_head_size(h) bytes). Returns the length. */
size_t rw_h1_head_write(char *out, const rw_h1_head *h);

/* Writes the decimal form of v; returns its length (<= 20). */
size_t rw_u64_to_dec(char *out, uint64_t v);
/* Writes the lower-case hex form of v; returns its length (<= 16). */
size_t rw_u64_to_hex(char *out, uint64_t v);

#endif
