#include "conn/proto.h"

#include "conn/conn_internal.h"

size_t rw_proto_process(rw_conn *c, const char *buf, size_t len)
{
    size_t used = 0;
    /* An engine switch (h1 -> h2) hands the rest of the bytes to the new one. */
    for (int guard = 0; guard < 2 && used < len; guard++) {
        uint8_t before = c->proto;
        switch (c->proto) {
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
    default:
        rw_h1_on_drain(c);
        break;
    }
}

bool rw_proto_paused(const rw_conn *c)
{
    switch (c->proto) {
    default:
        return rw_h1_paused(c);
    }
}

bool rw_proto_busy(const rw_conn *c)
{
    switch (c->proto) {
    default:
        return rw_h1_busy(c);
    }
}

void rw_proto_drain(rw_conn *c)
{
    switch (c->proto) {
    default:
        break; /* HTTP/1: the next response carries Connection: close */
    }
}

void rw_proto_free(rw_conn *c)
{
    rw_h1_session_free(c); /* no-op unless an HTTP/1 request was in progress */
    switch (c->proto) {
    default:
        break;
    }
}
