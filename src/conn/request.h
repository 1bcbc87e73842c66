/* The protocol-neutral request handed to handlers, and the responder each
 * protocol engine (HTTP/1 now, HTTP/2 later) plugs in to answer it. */
#ifndef RW_CONN_REQUEST_H
#define RW_CONN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

typedef struct rw_responder {
    int (*respond)(rw_request *r, int status, const rw_header *h, size_t nh, const void *body,
                   size_t len, void (*release)(void *), void *arg);
    int (*stream)(rw_request *r, int status, const rw_header *h, size_t nh, int64_t clen,
                  rw_stream_fn produce, void *ud, void (*on_close)(void *));
} rw_responder;

/* Each engine's streaming response object starts with this. */
struct rw_stream {
    int (*write)(rw_stream *st, const void *data, size_t len);
    void (*wake)(rw_stream *st);
};

struct rw_request {
    rw_str method;
    int method_id;          /* rw_method */
    rw_str target, path, query;
    int version;            /* 10, 11, 20 */
    const rw_header *headers;
    size_t nheaders;
    rw_str body;
    bool is_head;
    bool responded;
    const rw_responder *resp;
    void *proto;            /* the engine's context (e.g. rw_conn for HTTP/1) */
    struct rw_worker *worker;
};

#endif
