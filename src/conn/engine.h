/* The one seam between the connection layer and a protocol engine.
 *
 * A connection runs exactly one engine at a time (c->engine, its state in
 * c->session). conn.c and worker.c call only through this table; they never
 * name an engine. Every connection starts on the worker's default engine
 * (HTTP/1, rw_worker.engine_default) and may switch once its bytes say so:
 *   - TLS ALPN "h2"                       tls_layer.c  -> engine "h2"
 *   - HTTP/2 client preface (prior knowledge), Upgrade: h2c
 *                                         http1/h1_session.c -> "h2c"
 *   - a handler's rw_ws_accept() (101)    ws/ws_session.c -> rw_ws_engine
 * Who detects the switch looks the new engine up by its token
 * (rw_worker_engine(): the registry the server filled at worker init) and
 * calls its start(), which builds a session and calls rw_conn_switch_engine().
 * The bytes the old engine's process() did not consume then go to the new
 * engine: that loop is conn.c's, not any engine's. */
#ifndef RW_CONN_ENGINE_H
#define RW_CONN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/conn.h"

struct rw_request;

/* Engine switches within one read: a connection switches at most once
 * (HTTP/1 -> HTTP/2 or WebSocket). */
#define RW_CONN_MAX_SWITCHES 1

typedef struct rw_engine {
    const char *name;
    /* Takes a connection over: builds the session, calls
     * rw_conn_switch_engine(). req NULL: the protocol's bytes start with the
     * next byte (ALPN, HTTP/2 prior knowledge). Otherwise req is the HTTP/1.1
     * request that asked to upgrade; the engine answers the 101 and the
     * request itself. Returns 0 (switched, or the connection died), or -1
     * (declined, nothing written: the caller carries on). NULL: only a
     * handler can switch to this engine (WebSocket). */
    int (*start)(rw_conn *c, struct rw_request *req);
    /* Consumes received plaintext; returns the bytes used. Stops early when
     * paused, when it needs more bytes, or after switching engines. */
    size_t (*process)(rw_conn *c, const char *buf, size_t len);
    /* Cannot take more input now (backpressure, a streaming response). */
    bool (*paused)(const rw_conn *c);
    /* A request/stream is in progress (busy timer rather than idle). */
    bool (*busy)(const rw_conn *c);
    /* Output drained below the high-water mark: continue producing. */
    void (*on_drain)(rw_conn *c);
    /* Server shutdown began: stop taking requests (GOAWAY, close 1001);
     * an idle connection with nothing to say becomes DEAD. */
    void (*drain)(rw_conn *c);
    /* c's timer (c->timer) expired while ACTIVE: say why if the protocol
     * can (408, GOAWAY). The caller closes the connection unless it is
     * CLOSING by then. */
    void (*timeout)(rw_conn *c);
    /* The connection is going away (or switching engines): release the
     * session, end any stream (its on_close runs). */
    void (*free)(rw_conn *c);
} rw_engine;

/* Switches c to engine e with session state s: the current engine's free()
 * runs first. The bytes the running process() call leaves unconsumed go to
 * e (conn.c feeds them). */
void rw_conn_switch_engine(rw_conn *c, const rw_engine *e, void *s);

#endif
