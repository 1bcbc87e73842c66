/* The protocol-neutral request handed to handlers, the responder each
 * protocol engine (HTTP/1, HTTP/2) plugs in to answer it, and what every
 * engine reports about a request (request_events.c). */
#ifndef RW_CONN_REQUEST_H
#define RW_CONN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

struct rw_conn;

typedef struct rw_responder {
    int (*respond)(rw_request *r, int status, const rw_header *h, size_t nh, const void *body,
                   size_t len, void (*release)(void *), void *arg);
    int (*stream)(rw_request *r, int status, const rw_header *h, size_t nh, int64_t clen,
                  rw_stream_fn produce, void *ud, void (*on_close)(void *));
    /* The connection behind r, for a handler that takes it over (WebSocket
     * 101). NULL (the function or its result): this protocol cannot hand
     * its connection over. */
    struct rw_conn *(*conn)(const rw_request *r);
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

/* The engine dispatches r on c: counters, USDT request__start. */
void rw_request_start(struct rw_conn *c, const rw_request *r);
/* r's response (status, bytes of body) was queued: counters, USDT
 * request__done, and the worker's request_done hook (the app's access log).
 * r is NULL for an error the engine answers on its own (no log line). */
void rw_request_done(struct rw_conn *c, const rw_request *r, int status, uint64_t bytes);
/* The same for a streamed response (clen -1: length unknown); USDT
 * request__stream, logged with 0 bytes. */
void rw_request_streamed(struct rw_conn *c, const rw_request *r, int status, int64_t clen);

#endif
