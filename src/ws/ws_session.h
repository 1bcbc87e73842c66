/* The WebSocket engine on a connection: after rw_ws_accept() answered 101
 * it switches the connection to rw_ws_engine (conn/engine.h), which gets
 * the connection's bytes from then on. */
#ifndef RW_WS_SESSION_H
#define RW_WS_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/conn.h"
#include "conn/engine.h"

/* Input is copied (in pieces of RW_WS_SCRATCH bytes) into a pooled scratch
 * buffer and unmasked there: the caller's bytes are never written. */
#define RW_WS_SCRATCH 16384
/* A fragmented or compressed message is gathered in a heap buffer; one up
 * to this size is kept for the next message, a bigger one is freed. */
#define RW_WS_KEEP_MSGBUF 65536
#define RW_WS_MAX_SUBPROTOCOL 64

/* drain(): server shutdown, close with 1001. free(): the connection is
 * going away, on_close (1006 unless already closed). No start(): only a
 * handler's rw_ws_accept() switches a connection here. */
extern const rw_engine rw_ws_engine;

struct rw_ws;
struct rw_sse;
/* The worker that owns a WebSocket / SSE stream (app/channel.c). */
struct rw_worker *rw_ws_worker(const struct rw_ws *ws);
struct rw_worker *rw_sse_worker(const struct rw_sse *sse);

#endif
