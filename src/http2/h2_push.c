/* Server push (RFC 9113 §8.4): rw_push() promises a GET on the request's
 * stream (PUSH_PROMISE with a synthetic request) and answers it through the
 * router on a new even stream, which then competes for DATA like any other
 * response. On HTTP/1, or when the client turned push off, it does nothing. */
#include <string.h>

#include "conn/conn_internal.h"
#include "core/str.h"
#include "http2/h2_session.h"

#define RW_H2_PUSH_MAX_HEADERS 16   /* extra headers a promise may carry */
#define RW_H2_PUSH_NAMES_MAX 512    /* bytes of their (lower-cased) names */

bool rw_h2_is_request(const rw_request *r)
{
    return r && r->resp == &rw_h2_responder;
}

static bool find_header(const rw_request *r, const char *name, rw_str *out)
{
    return rw_req_header(r, name, out);
}

int rw_push(rw_request *r, const char *path, const rw_header *hdrs, size_t nhdrs)
{
    if (!rw_h2_is_request(r) || r->responded || !path || path[0] != '/')
        return -1;
    rw_h2_stream *st = r->proto;
    rw_h2_session *s = st->s;
    rw_conn *c = s->c;
    if (!s->push_enabled || s->goaway_sent || s->goaway_recv || s->dead || st->pushed ||
        st->state == RW_H2_ST_CLOSED || c->state != RW_CONN_ACTIVE)
        return -1;
    if (s->npushed >= s->peer_max_streams || st->npush >= RW_H2_MAX_PUSH_PER_STREAM ||
        s->next_push_id > RW_H2_MAX_STREAM_ID || nhdrs > RW_H2_PUSH_MAX_HEADERS ||
        (c->out && rw_outbuf_full(c->out)))
        return -1;
    rw_str authority = RW_STR("");
    find_header(r, "host", &authority);
    rw_str p = rw_str_c(path);

    /* The promised request: pseudo-headers, then the caller's headers. */
    char names[RW_H2_PUSH_NAMES_MAX];
    size_t np = 0;
    rw_hpack_field f[4 + RW_H2_PUSH_MAX_HEADERS];
    rw_header req_hdrs[1 + RW_H2_PUSH_MAX_HEADERS];
    size_t n = 0, nh = 0;
    f[n++] = (rw_hpack_field){ RW_STR(":method"), RW_STR("GET"), 0 };
    f[n++] = (rw_hpack_field){ RW_STR(":scheme"), RW_STR("http"), 0 };
    f[n++] = (rw_hpack_field){ RW_STR(":path"), p, 0 };
    f[n++] = (rw_hpack_field){ RW_STR(":authority"), authority, 0 };
    req_hdrs[nh++] = (rw_header){ RW_STR("host"), authority };
    for (size_t i = 0; i < nhdrs; i++) {
        rw_str nm = hdrs[i].name;
        if (np + nm.n > sizeof names)
            return -1;
        for (size_t k = 0; k < nm.n; k++)
            names[np + k] = rw_lower(nm.p[k]);
        rw_str low = rw_str_make(names + np, nm.n);
        np += nm.n;
        f[n++] = (rw_hpack_field){ low, hdrs[i].value, 0 };
        req_hdrs[nh++] = (rw_header){ low, hdrs[i].value };
    }
    long blen = rw_h2_encode_fields(s, f, n);
    if (blen < 0)
        return -1;
    uint32_t promised = s->next_push_id;
    size_t need = rw_h2_push_promise_block_size((size_t)blen, s->peer_max_frame);
    rw_outbuf *o = rw_conn_outbuf(c);
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    char *dst = o ? rw_outbuf_reserve(o, &pools, need) : NULL;
    if (!dst) {
        rw_conn_set_state(c, RW_CONN_DEAD); /* the encoder state moved on: cannot go back */
        return -1;
    }
    size_t wr = rw_h2_write_push_promise_block((uint8_t *)dst, need, st->id, promised, s->enc_buf,
                                               (size_t)blen, s->peer_max_frame);
    rw_outbuf_commit(o, wr);
    rw_conn_schedule(c);
    s->next_push_id += 2;
    st->npush++;
    rw_h2_stream *ps = rw_h2_stream_new(s, promised);
    if (!ps) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    ps->state = RW_H2_ST_RESERVED;
    ps->pushed = true;
    rw_h2_dispatch(ps, RW_STR("GET"), p, req_hdrs, nh, RW_STR(""));
    return 0;
}
