/* The HTTP/1 engine on a connection (h1_session.c): the parser, request
 * bodies, dispatch and response serialization behind the engine table
 * (conn/engine.h). Every connection starts on it; it hands a connection to
 * the engine registered for "h2c" (client preface, Upgrade: h2c) and lets a
 * handler take its connection over (rw_responder.conn: WebSocket). */
#ifndef RW_HTTP1_H1_ENGINE_H
#define RW_HTTP1_H1_ENGINE_H

#include <stddef.h>

#include "conn/conn.h"
#include "conn/engine.h"

extern const rw_engine rw_h1_engine;

/* Processes buf, returns the bytes consumed; stops early when the
 * connection pauses (streaming response, full output queue, incomplete
 * head) or switches engines. The engine table's process(), named so that
 * profiles show the HTTP/1 engine. */
size_t rw_h1_process(rw_conn *c, const char *buf, size_t len);
/* Queues a minimal error response with Connection: close. */
void rw_h1_send_error(rw_conn *c, int status);

#endif
