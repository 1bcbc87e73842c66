/* ringwire — WebSocket (RFC 6455 + RFC 7692) and Server-Sent Events API.
 *
 * Both start inside an ordinary route handler and then live on the worker
 * thread that owns the connection: every callback runs there, and every
 * call below must be made there (they never block and never take locks).
 *
 * WebSocket: rw_ws_accept() validates the upgrade request, answers 101 (or
 * 400/405/426) and switches the connection to the WebSocket engine. Sends
 * copy the message into the connection's output queue; the queue is bounded
 * (--ws-max-queue): a send that would pass the bound fails with -1 and the
 * connection is closed with 1008 (a slow consumer must not grow memory).
 * The rw_ws pointer is valid from on_open until on_close returns.
 *
 * SSE: rw_sse_accept() starts a text/event-stream response (chunked on
 * HTTP/1.1); rw_sse_send() formats and queues an event. Idle streams get a
 * ": ping" comment every --sse-ping seconds. The queue is bounded
 * (--sse-max-queue) with the same policy: over it the send fails and the
 * stream ends. The rw_sse pointer is valid until on_close returns. */
#ifndef RINGWIRE_WS_H
#define RINGWIRE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rw_ws rw_ws;
typedef struct rw_sse rw_sse;

typedef struct rw_ws_handlers {
    void (*on_open)(rw_ws *ws, void *ud);
    /* binary = false: text (valid UTF-8). data is valid during the call. */
    void (*on_message)(rw_ws *ws, const void *data, size_t len, bool binary, void *ud);
    /* Always called once (peer close, error, timeout, server shutdown).
     * code 1006 when the connection ended without a close frame. */
    void (*on_close)(rw_ws *ws, unsigned code, void *ud);
} rw_ws_handlers;

typedef struct rw_ws_options {
    const rw_str *subprotocols; /* server preference order; NULL = none */
    size_t nsubprotocols;
} rw_ws_options;

/* Answers the request: 101 and the switch on success (returns 0), an error
 * status otherwise (returns -1; the request is answered either way). h is
 * copied; opts may be NULL. Only HTTP/1.1 requests can be upgraded. */
int rw_ws_accept(rw_request *req, const rw_ws_handlers *h, const rw_ws_options *opts, void *ud);
int rw_ws_send_text(rw_ws *ws, const void *data, size_t len);
int rw_ws_send_binary(rw_ws *ws, const void *data, size_t len);
/* Starts the closing handshake (reason cut to 123 bytes). Idempotent. */
void rw_ws_close(rw_ws *ws, unsigned code, const char *reason);
/* The subprotocol chosen at the handshake (n == 0: none). */
rw_str rw_ws_subprotocol(const rw_ws *ws);
/* Bytes queued for the peer and not yet written. */
size_t rw_ws_queued(const rw_ws *ws);

typedef struct rw_sse_handlers {
    /* The stream ended (client gone, slow consumer, server shutdown). */
    void (*on_close)(rw_sse *sse, void *ud);
} rw_sse_handlers;

/* Starts the event stream (200, text/event-stream, no-cache; the CORS
 * header when --sse-cors is set). Returns NULL when the stream could not
 * start (the request is answered either way). */
rw_sse *rw_sse_accept(rw_request *req, const rw_sse_handlers *h, void *ud);
/* The request's Last-Event-ID header (empty when absent). Call in the
 * handler. */
rw_str rw_sse_last_event_id(const rw_request *req);
/* Queues one event. event/id may be NULL (none); data is split into data:
 * lines. Returns 0, or -1 (invalid field, stream ended, queue full: the
 * stream is then ended). */
int rw_sse_send(rw_sse *sse, const char *event, const char *id, const void *data, size_t len);
/* Queues a comment (": text"). */
int rw_sse_comment(rw_sse *sse, const char *text);
/* Ends the stream (on_close follows). */
void rw_sse_close(rw_sse *sse);

/* ---- channels: broadcast across worker threads ----
 * A channel is a set of WebSocket connections and SSE streams, possibly on
 * different worker threads. rw_channel_publish() may be called from any
 * thread (a handler, another worker, an application thread): the message is
 * copied once, handed to every worker that has members through its mailbox
 * (a mutex-protected list + an eventfd wake-up, never touched on the
 * request path), and each worker sends it to its own members. Members join
 * and leave on their own worker thread (leave in on_close at the latest).
 * Delivery order is the publish order per publishing thread. A member whose
 * send queue is full is closed by the usual slow-consumer policy. */
typedef struct rw_channel rw_channel;
/* Before or while the server runs; freed after rw_server_run() returned. */
rw_channel *rw_channel_new(rw_server *s);
void rw_channel_free(rw_channel *ch);
int rw_channel_join_ws(rw_channel *ch, rw_ws *ws);
void rw_channel_leave_ws(rw_channel *ch, rw_ws *ws);
/* event: the SSE event name for this member (NULL: none). */
int rw_channel_join_sse(rw_channel *ch, rw_sse *sse, const char *event);
void rw_channel_leave_sse(rw_channel *ch, rw_sse *sse);
/* WebSocket members get a text (binary = false) or binary message, SSE
 * members an event whose data is the message. Returns 0, or -1 (out of
 * memory, server not running or stopping). */
int rw_channel_publish(rw_channel *ch, const void *data, size_t len, bool binary);

#ifdef __cplusplus
}
#endif
#endif
