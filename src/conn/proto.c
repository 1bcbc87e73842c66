#include "conn/proto.h"

#include "conn/conn_internal.h"
#include "http2/h2_session.h"
#include "ws/ws_session.h"

size_t rw_proto_process(rw_conn *c, const char *buf, size_t len)
{
    size_t used = 0;
    /* An engine switch (h1 -> h2) hands the rest of the bytes to the new one. */
    for (int guard = 0; guard < 2 && used < len; guard++) {
        uint8_t before = c->proto;
        switch (c->proto) {
        case RW_PROTO_H2:
            used += rw_h2_process(c, buf + used, len - used);
            break;
        case RW_PROTO_WS:
            used += rw_ws_process(c, buf + used, len - used);
            break;
        default:
            used += rw_h1_process(c, buf + used, len - used);
            break;
        }
        if (c->proto == before)
            break;
    }
    return used;
}

void rw_proto_on_drain(rw_conn *c)
{
    switch (c->proto) {
    case RW_PROTO_H2:
        rw_h2_on_drain(c);
        break;
    case RW_PROTO_WS:
        rw_ws_on_drain(c);
        break;
    default:
        rw_h1_on_drain(c);
        break;
    }
}

bool rw_proto_paused(const rw_conn *c)
{
    switch (c->proto) {
    case RW_PROTO_H2:
        return rw_h2_paused(c);
    case RW_PROTO_WS:
        return rw_ws_paused(c);
    default:
        return rw_h1_paused(c);
    }
}

bool rw_proto_busy(const rw_conn *c)
{
    switch (c->proto) {
    case RW_PROTO_H2:
        return rw_h2_busy(c);
    case RW_PROTO_WS:
        return true; /* the busy timer restarts on every read and write: idle timeout */
    default:
        return rw_h1_busy(c);
    }
}

void rw_proto_drain(rw_conn *c)
{
    switch (c->proto) {
    case RW_PROTO_H2:
        rw_h2_drain(c);
        break;
    case RW_PROTO_WS:
        rw_ws_drain(c);
        break;
    default:
        break; /* HTTP/1: the next response carries Connection: close */
    }
}

void rw_proto_free(rw_conn *c)
{
    rw_h1_session_free(c); /* no-op unless an HTTP/1 request was in progress */
    switch (c->proto) {
    case RW_PROTO_H2:
        rw_h2_free(c);
        break;
    case RW_PROTO_WS:
        rw_ws_free(c);
        break;
    default:
        break;
    }
}
