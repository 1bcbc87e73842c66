/* The WebSocket engine on a connection (RW_PROTO_WS): after rw_ws_accept()
 * answered 101, conn/proto.c routes the connection's bytes here. */
#ifndef RW_WS_SESSION_H
#define RW_WS_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/conn.h"

/* Input is copied (in pieces of RW_WS_SCRATCH bytes) into a pooled scratch
 * buffer and unmasked there: the caller's bytes are never written. */
#define RW_WS_SCRATCH 16384
/* A fragmented or compressed message is gathered in a heap buffer; one up
 * to this size is kept for the next message, a bigger one is freed. */
#define RW_WS_KEEP_MSGBUF 65536
#define RW_WS_MAX_SUBPROTOCOL 64

size_t rw_ws_process(rw_conn *c, const char *buf, size_t len);
void rw_ws_on_drain(rw_conn *c);
bool rw_ws_paused(const rw_conn *c);
/* Server shutdown: close with 1001. */
void rw_ws_drain(rw_conn *c);
/* The connection is going away: on_close (1006 unless already closed). */
void rw_ws_free(rw_conn *c);

struct rw_ws;
struct rw_sse;
/* The worker that owns a WebSocket / SSE stream (app/channel.c). */
struct rw_worker *rw_ws_worker(const struct rw_ws *ws);
struct rw_worker *rw_sse_worker(const struct rw_sse *sse);

#endif
