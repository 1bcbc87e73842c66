/* The protocol-neutral request handed to handlers, the responder each
 * protocol engine (HTTP/1, HTTP/2) plugs in to answer it, and what every
 * engine reports about a request (request_events.c). */
#ifndef RW_CONN_REQUEST_H
#define RW_CONN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

struct rw_conn;

/* Where a referenced body lies in a file (rw_respond_file). */
typedef struct rw_body_file {
    int fd;       /* open until release(arg) */
    uint64_t off; /* file offset of the body's first byte */
} rw_body_file;

typedef struct rw_responder {
    /* file: NULL, or body maps those file bytes (see rw_respond_file). */
    int (*respond)(rw_request *r, int status, const rw_header *h, size_t nh, const void *body,
                   size_t len, const rw_body_file *file, void (*release)(void *), void *arg);
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

/* rw_respond_ext() for a body that is len bytes of file->fd at file->off,
 * mmapped at map. The mapping is only handed to the kernel (plain sends: a
 * file truncated meanwhile fails that connection with EFAULT); userspace
 * that needs the bytes (TLS, HTTP/2 framing for TLS) preads them, because
 * touching the mapping past a new end of file raises SIGBUS. A file that
 * shrank ends that response: HTTP/1 closes the connection, HTTP/2 resets the
 * stream. release is required (the body is never copied up front). */
int rw_respond_file(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                    const void *map, size_t len, const rw_body_file *file,
                    void (*release)(void *), void *arg);

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
