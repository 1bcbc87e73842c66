/* Shared between conn.c (lifecycle, buffers, timers) and h1_session.c (the
 * HTTP/1 engine). Not for backends. */
#ifndef RW_CONN_INTERNAL_H
#define RW_CONN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/conn.h"
#include "conn/outbuf.h"
#include "conn/worker.h"

/* Bytes kept between reads: a partial request head, or pipelined requests
 * not yet processed because the connection is paused. */
typedef struct rw_inbuf {
    size_t len, cap;
    bool pooled;
    char data[];
} rw_inbuf;

/* Hard bound for buffered, unprocessed input (pipelined requests from a
 * client that does not read its responses): over it the connection dies. */
#define RW_INBUF_HARD_FACTOR 4

static inline rw_outbuf_pools rw_conn_pools(rw_worker *w)
{
    return (rw_outbuf_pools){ &w->outbuf_pool, &w->chunk_pool };
}

/* Plaintext input for the engine (rw_conn_feed() minus the TLS stage). */
void rw_conn_feed_plain(rw_conn *c, const char *data, size_t len);

/* Ensures c->out exists; NULL (and the conn made DEAD) on OOM. */
rw_outbuf *rw_conn_outbuf(rw_conn *c);
/* Recomputes which timer list the conn belongs on; progress=true restarts
 * the write/body-progress deadline. */
void rw_conn_update_timer(rw_conn *c, bool progress);

/* HTTP/1 engine (h1_session.c). Processes buf, returns the bytes consumed;
 * stops early when the connection pauses (streaming response, full output
 * queue, incomplete head). */
size_t rw_h1_process(rw_conn *c, const char *buf, size_t len);
/* Output drained below the high-water mark: continue a streaming response. */
void rw_h1_on_drain(rw_conn *c);
/* True while the engine cannot take more requests (streaming/body/paused). */
bool rw_h1_paused(const rw_conn *c);
/* True while a request is partially received or being answered. */
bool rw_h1_busy(const rw_conn *c);
/* Releases the session (ends a stream, calls its on_close). */
void rw_h1_session_free(rw_conn *c);
/* Queues a minimal error response with Connection: close. */
void rw_h1_send_error(rw_conn *c, int status);
/* The connection behind an HTTP/1 request (inside its handler), NULL for
 * other protocols: used to take the connection over (WebSocket). */
struct rw_request;
rw_conn *rw_h1_request_conn(const struct rw_request *r);

#endif
