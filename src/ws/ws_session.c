/* WebSocket on a connection: the upgrade (rw_ws_accept), the receive path
 * (scratch copy -> message assembler -> callbacks), the send path (frames
 * written straight into the output queue, deflated when negotiated) and the
 * closing handshake. Everything runs on the connection's worker thread. */
#include "ws/ws_session.h"

#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "conn/request.h"
#include "core/log.h"
#include "ringwire/ws.h"
#include "ws/ws_deflate.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_message.h"
#include "core/probes.h"

_Static_assert(RW_WS_SCRATCH <= RW_OUT_CHUNK_SIZE, "scratch comes from the chunk pool");

typedef struct rw_ws_session {
    rw_conn *c;
    rw_ws_handlers h;
    void *ud;
    rw_ws_msg msg;
    rw_ws_deflate *dfl;       /* NULL unless permessage-deflate was negotiated */
    uint8_t *mbuf;            /* message being gathered (fragments / inflated pieces) */
    size_t mlen, mcap;
    bool close_sent;
    bool input_done;          /* peer's close seen or the connection failed: ignore input */
    bool closed_cb;           /* on_close already ran */
    uint16_t close_code;      /* for on_close */
    char subprotocol[RW_WS_MAX_SUBPROTOCOL];
    size_t subprotocol_len;
} rw_ws_session;

static rw_ws_session *sess(rw_ws *ws) { return (rw_ws_session *)(void *)ws; }
static rw_ws *pub(rw_ws_session *s) { return (rw_ws *)(void *)s; }
/* The session behind a connection running this engine. */
static rw_ws_session *ws_of(const rw_conn *c)
{
    return c->engine == &rw_ws_engine ? c->session : NULL;
}
static bool ws_paused(const rw_conn *c);

rw_worker *rw_ws_worker(const rw_ws *ws)
{
    return ((const rw_ws_session *)(const void *)ws)->c->w;
}

/* ---- sending ------------------------------------------------------------------ */

static void report_close(rw_ws_session *s, uint16_t code)
{
    if (s->closed_cb)
        return;
    s->closed_cb = true;
    if (s->h.on_close)
        s->h.on_close(pub(s), code, s->ud);
}

/* Queues a close frame (not subject to the queue bound: a close must get out). */
static void queue_close(rw_ws_session *s, uint16_t code, const char *reason, size_t rlen)
{
    rw_conn *c = s->c;
    if (s->close_sent || c->state == RW_CONN_DEAD)
        return;
    s->close_sent = true;
    uint8_t body[RW_WS_MAX_CONTROL_PAYLOAD];
    size_t n = code ? rw_ws_close_payload(body, code, reason, rlen) : 0;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    uint8_t *p = (uint8_t *)rw_outbuf_reserve(o, &pools, RW_WS_MAX_HEADER_LEN + n);
    if (!p) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return;
    }
    size_t hl = rw_ws_frame_write_header(p, true, 0, RW_WS_OP_CLOSE, n, NULL);
    memcpy(p + hl, body, n);
    rw_outbuf_commit(o, hl + n);
    rw_conn_schedule(c);
}

/* Fails the connection: close frame with code, then close the socket once it
 * is written; input is ignored from here on. */
static void fail(rw_ws_session *s, uint16_t code, const char *why)
{
    rw_debug("ws: fd %d closing with %u: %s", s->c->fd, code, why ? why : "");
    s->input_done = true;
    queue_close(s, code, why, why ? strlen(why) : 0);
    rw_conn_set_state(s->c, RW_CONN_CLOSING);
    report_close(s, code);
}

static void slow_consumer(rw_ws_session *s)
{
    s->c->w->stats.stream_slow_consumers++;
    RW_PROBE1(ws__slow_close, s->c->fd);
    fail(s, RW_WS_CLOSE_POLICY, "send queue full");
}

/* Queues one unfragmented frame. Data frames count against --ws-max-queue. */
static int queue_frame(rw_ws_session *s, uint8_t op, const void *data, size_t len)
{
    rw_conn *c = s->c;
    if (c->state != RW_CONN_ACTIVE || s->close_sent)
        return -1;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return -1;
    size_t queued = o->bytes;
    if (queued + len + RW_WS_MAX_HEADER_LEN > c->w->cfg->ws_max_queue) {
        slow_consumer(s);
        return -1;
    }
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    bool try_deflate = s->dfl && !rw_ws_op_is_control(op);
    size_t room = try_deflate ? rw_ws_deflate_bound(len) : len;
    if (room < len)
        room = len;
    uint8_t *p = (uint8_t *)rw_outbuf_reserve(o, &pools, RW_WS_MAX_HEADER_LEN + room);
    if (!p) { /* segment ring full: the peer is not reading */
        slow_consumer(s);
        return -1;
    }
    size_t hl;
    if (try_deflate) {
        size_t outlen = 0;
        rw_ws_deflate_result r = rw_ws_deflate_message(s->dfl, data, len,
                                                       p + RW_WS_MAX_HEADER_LEN, room, &outlen);
        if (r == RW_WS_DEFLATE_OK) {
            hl = rw_ws_frame_header_len(outlen, false);
            memmove(p + hl, p + RW_WS_MAX_HEADER_LEN, outlen);
            rw_ws_frame_write_header(p, true, RW_WS_RSV1, op, outlen, NULL);
            rw_outbuf_commit(o, hl + outlen);
            goto queued;
        }
        if (r != RW_WS_DEFLATE_SKIP && r != RW_WS_DEFLATE_NOSPACE) {
            fail(s, RW_WS_CLOSE_INTERNAL, "deflate failed");
            return -1;
        }
    }
    hl = rw_ws_frame_write_header(p, true, 0, op, len, NULL);
    if (len)
        memcpy(p + hl, data, len);
    rw_outbuf_commit(o, hl + len);
queued:
    if (!rw_ws_op_is_control(op)) {
        c->w->stats.ws_messages_out++;
        c->w->stats.ws_bytes_out += len;
    }
    rw_conn_schedule(c);
    return 0;
}

int rw_ws_send_text(rw_ws *ws, const void *data, size_t len)
{
    return queue_frame(sess(ws), RW_WS_OP_TEXT, data, len);
}

int rw_ws_send_binary(rw_ws *ws, const void *data, size_t len)
{
    return queue_frame(sess(ws), RW_WS_OP_BINARY, data, len);
}

void rw_ws_close(rw_ws *ws, unsigned code, const char *reason)
{
    rw_ws_session *s = sess(ws);
    if (s->close_sent)
        return;
    if (code != 0 && (code < 1000 || code > 4999 || code == RW_WS_CLOSE_NO_STATUS ||
                      code == RW_WS_CLOSE_ABNORMAL || code == 1015))
        code = RW_WS_CLOSE_INTERNAL; /* never put a reserved code on the wire */
    s->close_code = (uint16_t)code;
    /* The peer answers with its close; the busy timer bounds the wait. */
    queue_close(s, (uint16_t)code, reason, reason ? strlen(reason) : 0);
}

rw_str rw_ws_subprotocol(const rw_ws *ws)
{
    const rw_ws_session *s = (const rw_ws_session *)(const void *)ws;
    return (rw_str){ s->subprotocol, s->subprotocol_len };
}

size_t rw_ws_queued(const rw_ws *ws)
{
    const rw_ws_session *s = (const rw_ws_session *)(const void *)ws;
    return s->c->out ? s->c->out->bytes : 0;
}

/* ---- receiving ---------------------------------------------------------------- */

static int on_data(void *ud, unsigned op, const uint8_t *p, size_t n, bool first, bool fin)
{
    rw_ws_session *s = ud;
    if (first)
        s->mlen = 0;
    if (first && fin) { /* the whole message in one piece: no copy */
        s->c->w->stats.ws_messages_in++;
        s->c->w->stats.ws_bytes_in += n;
        if (!s->close_sent && s->h.on_message)
            s->h.on_message(pub(s), p, n, op == RW_WS_OP_BINARY, s->ud);
        return 0;
    }
    if (n > s->mcap - s->mlen) { /* the assembler bounds the total by max_message */
        size_t cap = s->mcap ? s->mcap : 4096;
        while (cap - s->mlen < n)
            cap *= 2;
        uint8_t *nb = realloc(s->mbuf, cap);
        if (!nb)
            return -1;
        s->mbuf = nb;
        s->mcap = cap;
    }
    if (n)
        memcpy(s->mbuf + s->mlen, p, n);
    s->mlen += n;
    if (!fin)
        return 0;
    s->c->w->stats.ws_messages_in++;
    s->c->w->stats.ws_bytes_in += s->mlen;
    if (!s->close_sent && s->h.on_message)
        s->h.on_message(pub(s), s->mbuf ? s->mbuf : (const uint8_t *)"", s->mlen,
                        op == RW_WS_OP_BINARY, s->ud);
    if (s->mcap > RW_WS_KEEP_MSGBUF) {
        free(s->mbuf);
        s->mbuf = NULL;
        s->mcap = 0;
    }
    s->mlen = 0;
    return 0;
}

static int on_control(void *ud, unsigned op, const uint8_t *p, size_t n)
{
    rw_ws_session *s = ud;
    if (op == RW_WS_OP_PING && !s->close_sent)
        queue_frame(s, RW_WS_OP_PONG, p, n);
    return 0;
}

static int on_close(void *ud, uint16_t code, const uint8_t *reason, size_t n)
{
    (void)reason;
    (void)n;
    rw_ws_session *s = ud;
    if (!s->close_sent) /* echo the peer's code (RFC 6455 §5.5.1); none if it sent none */
        queue_close(s, code == RW_WS_CLOSE_NO_STATUS ? 0 : code, NULL, 0);
    s->close_code = code;
    return 0;
}

static size_t ws_process(rw_conn *c, const char *buf, size_t len)
{
    rw_ws_session *s = ws_of(c);
    if (!s || s->input_done)
        return len;
    rw_worker *w = c->w;
    uint8_t *scratch = rw_pool_get(&w->chunk_pool);
    if (!scratch) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return len;
    }
    size_t pos = 0;
    while (pos < len && c->state == RW_CONN_ACTIVE && !s->input_done) {
        size_t n = len - pos < RW_WS_SCRATCH ? len - pos : RW_WS_SCRATCH;
        memcpy(scratch, buf + pos, n);
        size_t used = 0;
        rw_ws_msg_result r = rw_ws_msg_feed(&s->msg, scratch, n, &used);
        pos += used;
        if (r == RW_WS_MSG_CLOSED) {
            /* Closing handshake complete (we echoed, or this was the answer). */
            s->input_done = true;
            rw_conn_set_state(c, RW_CONN_CLOSING);
            report_close(s, s->close_code);
            pos = len;
        } else if (r == RW_WS_MSG_ERROR) {
            fail(s, s->msg.close_code, s->msg.error);
            pos = len;
        } else if (r == RW_WS_MSG_ABORTED) {
            fail(s, RW_WS_CLOSE_INTERNAL, "out of memory");
            pos = len;
        } else if (ws_paused(c)) {
            break; /* the peer is not reading our replies: stop reading its frames */
        }
    }
    rw_pool_put(&w->chunk_pool, scratch);
    return pos;
}

/* Reading stops while replies pile up. The bar is half the send queue
 * rather than the HTTP high-water mark: a burst of small frames in one read
 * produces its replies before the first write, and pausing then would only
 * push the burst into the connection's bounded input buffer. */
static bool ws_paused(const rw_conn *c)
{
    if (!c->out)
        return false;
    size_t bar = c->w->cfg->ws_max_queue / 2;
    if (bar < RW_OUT_HIGH_WATER)
        bar = RW_OUT_HIGH_WATER;
    return c->out->bytes >= bar || c->out->count + 4 >= RW_OUT_MAX_SEGS;
}

static void ws_on_drain(rw_conn *c)
{
    (void)c; /* conn.c resumes the buffered input itself */
}

/* The busy timer restarts on every read and write: it is the idle timeout. */
static bool ws_busy(const rw_conn *c)
{
    (void)c;
    return true;
}

static void ws_drain(rw_conn *c)
{
    rw_ws_session *s = ws_of(c);
    if (!s)
        return;
    if (!s->close_sent) {
        s->close_code = RW_WS_CLOSE_GOING_AWAY;
        queue_close(s, RW_WS_CLOSE_GOING_AWAY, "server shutdown", 15);
    }
    /* Shutting down: do not wait for the peer's answer, just flush and go. */
    s->input_done = true;
    rw_conn_set_state(c, RW_CONN_CLOSING);
}

static void ws_timeout(rw_conn *c)
{
    if (c->timer == RW_TIMER_IDLE)
        ws_drain(c);
}

static void ws_free(rw_conn *c)
{
    rw_ws_session *s = ws_of(c);
    if (!s)
        return;
    report_close(s, RW_WS_CLOSE_ABNORMAL);
    c->w->stats.ws_active--;
    if (s->dfl) {
        rw_ws_deflate_free(s->dfl);
        free(s->dfl);
    }
    free(s->mbuf);
    free(s);
    c->session = NULL;
}

const rw_engine rw_ws_engine = {
    .name = "websocket",
    .start = NULL, /* rw_ws_accept() */
    .process = ws_process,
    .paused = ws_paused,
    .busy = ws_busy,
    .on_drain = ws_on_drain,
    .drain = ws_drain,
    .timeout = ws_timeout,
    .free = ws_free,
};

/* ---- the upgrade -------------------------------------------------------------- */

static int refuse(rw_request *req, int status, const rw_header *h, size_t nh, const char *why)
{
    char body[128];
    size_t n = strlen(why);
    if (n > sizeof body - 1)
        n = sizeof body - 1;
    memcpy(body, why, n);
    body[n++] = '\n';
    rw_header hh[RW_WS_HANDSHAKE_MAX_HEADERS + 1];
    size_t k = 0;
    for (; k < nh && k < RW_WS_HANDSHAKE_MAX_HEADERS; k++)
        hh[k] = h[k];
    hh[k++] = (rw_header){ RW_STR("Content-Type"), RW_STR("text/plain") };
    rw_respond(req, status, hh, k, body, n);
    return -1;
}

/* The 101 head, written by hand: no Date/Content-Length/keep-alive here. */
static int queue_101(rw_conn *c, const rw_header *h, size_t nh)
{
    static const char status[] = "HTTP/1.1 101 Switching Protocols\r\n";
    size_t need = sizeof status - 1 + 2;
    for (size_t i = 0; i < nh; i++)
        need += h[i].name.n + 2 + h[i].value.n + 2;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return -1;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    char *p = rw_outbuf_reserve(o, &pools, need), *q = p;
    if (!p)
        return -1;
    memcpy(q, status, sizeof status - 1);
    q += sizeof status - 1;
    for (size_t i = 0; i < nh; i++) {
        memcpy(q, h[i].name.p, h[i].name.n);
        q += h[i].name.n;
        *q++ = ':';
        *q++ = ' ';
        memcpy(q, h[i].value.p, h[i].value.n);
        q += h[i].value.n;
        *q++ = '\r';
        *q++ = '\n';
    }
    *q++ = '\r';
    *q++ = '\n';
    rw_outbuf_commit(o, (size_t)(q - p));
    rw_conn_schedule(c);
    return 0;
}

int rw_ws_accept(rw_request *req, const rw_ws_handlers *h, const rw_ws_options *opts, void *ud)
{
    rw_conn *c = req->resp && req->resp->conn ? req->resp->conn(req) : NULL;
    if (!c)
        return refuse(req, 400, NULL, 0, "WebSocket needs HTTP/1.1");
    /* The engine still holds request state (a body that spanned reads). */
    if (c->session || req->body.n > 0)
        return refuse(req, 400, NULL, 0, "WebSocket handshake with a body");
    if (c->flags & (RW_CONNF_DRAINING | RW_CONNF_EOF) || c->state != RW_CONN_ACTIVE)
        return refuse(req, 503, NULL, 0, "shutting down");
    const rw_config *cfg = c->w->cfg;
    rw_ws_handshake_cfg hcfg = { .subprotocols = opts ? opts->subprotocols : NULL,
                                 .nsubprotocols = opts ? opts->nsubprotocols : 0,
                                 .deflate = !cfg->ws_no_deflate };
    rw_ws_handshake hs;
    int st = rw_ws_handshake_check(&hs, req->method, req->version, req->headers, req->nheaders,
                                   &hcfg);
    rw_header rh[RW_WS_HANDSHAKE_MAX_HEADERS];
    size_t nrh = rw_ws_handshake_headers(&hs, rh);
    if (st != 101)
        return refuse(req, st, rh, nrh, hs.error ? hs.error : "bad WebSocket handshake");
    rw_ws_session *s = calloc(1, sizeof *s);
    if (!s)
        return refuse(req, 503, NULL, 0, "out of memory");
    if (hs.deflate) {
        rw_ws_deflate_opts dopts = { .level = -1,
                                     .mem_level = 0,
                                     .threshold = cfg->ws_deflate_threshold };
        s->dfl = malloc(sizeof *s->dfl);
        if (!s->dfl || rw_ws_deflate_init(s->dfl, &hs.deflate_params, true, &dopts) != 0) {
            free(s->dfl);
            free(s);
            return refuse(req, 503, NULL, 0, "deflate init failed");
        }
    }
    if (hs.subprotocol.n > 0 && hs.subprotocol.n <= sizeof s->subprotocol) {
        memcpy(s->subprotocol, hs.subprotocol.p, hs.subprotocol.n);
        s->subprotocol_len = hs.subprotocol.n;
    }
    if (queue_101(c, rh, nrh) != 0) {
        if (s->dfl) {
            rw_ws_deflate_free(s->dfl);
            free(s->dfl);
        }
        free(s);
        rw_conn_set_state(c, RW_CONN_DEAD);
        req->responded = true;
        return -1;
    }
    req->responded = true;
    c->w->stats.responses_by_class[1]++;
    s->c = c;
    s->h = *h;
    s->ud = ud;
    s->close_code = RW_WS_CLOSE_ABNORMAL;
    rw_ws_msg_cfg mc = { .is_server = true,
                         .max_frame = cfg->ws_max_frame,
                         .max_message = cfg->ws_max_message,
                         .deflate = s->dfl,
                         .reassembly_buf = NULL,
                         .reassembly_cap = 0,
                         .cb = { on_data, on_control, on_close },
                         .ud = s };
    rw_ws_msg_init(&s->msg, &mc);
    rw_conn_switch_engine(c, &rw_ws_engine, s);
    c->w->stats.ws_active++;
    if (s->h.on_open)
        s->h.on_open(pub(s), s->ud);
    return 0;
}
