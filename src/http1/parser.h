/* HTTP/1.x request-head parser (RFC 9112), picohttpparser-style: stateless,
 * re-run over the whole buffered head when more bytes arrive, never
 * allocates, every string is a view into the caller's buffer.
 *
 * Strict: anything that could make two parties disagree about where a
 * message ends is rejected (see parser.c for the list), and the framing of
 * the body is decided here so the connection layer only executes it. */
#ifndef RW_HTTP1_PARSER_H
#define RW_HTTP1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

#define RW_H1_INCOMPLETE (-2)
#define RW_H1_ERROR (-1)

typedef enum rw_method {
    RW_METHOD_OTHER = 0, /* a valid token we do not know: routed as 501/405 by the app */
    RW_METHOD_GET,
    RW_METHOD_HEAD,
    RW_METHOD_POST,
    RW_METHOD_PUT,
    RW_METHOD_DELETE,
    RW_METHOD_CONNECT,
    RW_METHOD_OPTIONS,
    RW_METHOD_TRACE,
    RW_METHOD_PATCH,
} rw_method;

typedef struct rw_h1_limits {
    size_t max_request_line; /* bytes of the request line incl. CRLF; 414 beyond */
    size_t max_header_bytes; /* bytes of the whole head; 431 beyond */
    unsigned max_headers;    /* header fields; 431 beyond (<= capacity of headers[]) */
} rw_h1_limits;

typedef enum rw_h1_body_kind {
    RW_H1_BODY_NONE = 0,     /* no body (no CL/TE, or Content-Length: 0) */
    RW_H1_BODY_LENGTH,       /* content_length bytes follow */
    RW_H1_BODY_CHUNKED,      /* chunked transfer coding follows */
} rw_h1_body_kind;

typedef struct rw_h1_request {
    rw_str method;
    rw_method method_id;
    rw_str target;           /* request-target as sent */
    rw_str path;             /* target up to '?' or '#'; for an absolute-form target
                              * without a path, a static "/" (not in the buffer) */
    rw_str query;            /* after '?', up to '#', without the '?' */
    int minor_version;       /* 0 or 1 (HTTP/1.x) */
    rw_header *headers;      /* caller-provided array ... */
    unsigned nheaders;       /* ... filled with this many fields, in order */
    rw_str host;             /* Host field value; for absolute-form and CONNECT targets
                              * the target's authority (RFC 9112 3.2.2) */
    rw_h1_body_kind body;
    uint64_t content_length; /* when body == RW_H1_BODY_LENGTH */
    bool keep_alive;         /* from version + Connection tokens */
    bool expect_continue;    /* Expect: 100-continue */
    bool upgrade;            /* Connection: upgrade + Upgrade present */
    rw_str upgrade_proto;    /* Upgrade field value */
    /* On RW_H1_ERROR: */
    int error_status;        /* 400, 414, 431, 501 (a transfer coding other than
                              * chunked), 505 */
    const char *error_reason;/* static string, for logs/tests */
} rw_h1_request;

/* Parses one request head from buf[0..len). headers must have room for
 * lim->max_headers entries. Returns the head's length (> 0, body starts
 * there), RW_H1_INCOMPLETE, or RW_H1_ERROR with error_status set.
 * An incomplete head already longer than the limits is an error, so a caller
 * never buffers more than max_header_bytes. */
int rw_h1_parse_request(const char *buf, size_t len, rw_h1_request *req, rw_header *headers,
                        const rw_h1_limits *lim);

rw_method rw_h1_method_id(rw_str method);

#endif
