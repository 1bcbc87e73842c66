/* The connection layer's inside, shared by conn.c (lifecycle, buffers,
 * timers), worker.c, tls_layer.c and the engines that write output
 * (http1/, http2/, ws/). Not for backends. */
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

#endif
