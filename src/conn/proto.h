/* Protocol dispatch on a connection: which engine consumes its bytes and
 * answers its requests. A connection starts as HTTP/1 and may switch to
 * HTTP/2 (client preface on a fresh connection, or Upgrade: h2c); TLS ALPN
 * will choose directly. conn.c only calls these. */
#ifndef RW_CONN_PROTO_H
#define RW_CONN_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/conn.h"

enum rw_proto {
    RW_PROTO_H1 = 0,
    RW_PROTO_H2 = 1,
    RW_PROTO_WS = 2, /* after a 101 from rw_ws_accept() */
};

/* Consumes bytes; returns how many. May switch c->proto, in which case the
 * caller feeds the rest to the new engine. */
size_t rw_proto_process(rw_conn *c, const char *buf, size_t len);
/* Output drained below the high-water mark. */
void rw_proto_on_drain(rw_conn *c);
/* The engine cannot take more input now (backpressure). */
bool rw_proto_paused(const rw_conn *c);
/* A request/stream is in progress (decides busy vs idle timers). */
bool rw_proto_busy(const rw_conn *c);
/* Server shutdown began: stop taking new requests (HTTP/2: GOAWAY). */
void rw_proto_drain(rw_conn *c);
/* Release engine state (connection is going away). */
void rw_proto_free(rw_conn *c);

#endif
