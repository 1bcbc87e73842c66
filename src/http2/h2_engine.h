/* The HTTP/2 engine's face to whoever composes a server: the table the
 * connection layer calls it through (conn/engine.h). Register it for ALPN
 * "h2" and Upgrade "h2c" (which also covers prior knowledge). */
#ifndef RW_HTTP2_H2_ENGINE_H
#define RW_HTTP2_H2_ENGINE_H

#include "conn/engine.h"

/* start(c, NULL): the bytes that follow begin with the client preface
 * (ALPN h2, prior knowledge). start(c, req) for Upgrade: h2c checks
 * Connection: HTTP2-Settings and the client's HTTP2-Settings (base64url),
 * queues the 101, switches, applies the settings and answers req as stream
 * 1 (half-closed remote); -1 when they do not check out (nothing written:
 * the request is served over HTTP/1.1). */
extern const rw_engine rw_h2_engine;

#endif
