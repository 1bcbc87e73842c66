/* The HTTP/1 engine on a connection: runs the parser over received bytes,
 * reads request bodies (Content-Length or chunked), dispatches through the
 * worker's dispatch hook (the app's router), and serializes responses into
 * the output queue, in order.
 *
 * The common case (a whole request in one read, answered at once) touches no
 * heap: the request is a set of views into the receive buffer and the
 * response is copied straight into the output queue. A session object is
 * taken from the pool only for a body that spans reads or for a streaming
 * response. */
#include <stdlib.h>
#include <string.h>

#include "http1/h1_engine.h"

#include "conn/conn_internal.h"
#include "conn/request.h"
#include "core/log.h"
#include "core/probes.h"
#include "core/str.h"
#include "http1/chunked.h"
#include "http1/parser.h"
#include "http1/response.h"

#define RW_CHUNK_LINE_MAX 4096    /* chunk-size line incl. extensions */
#define RW_TRAILER_MAX 8192       /* whole trailer section */

typedef enum h1_phase {
    H1_IDLE = 0,
    H1_BODY_LENGTH,   /* reading a Content-Length body that spans reads */
    H1_BODY_CHUNKED,  /* reading a chunked body */
    H1_STREAMING,     /* a streaming response is being produced */
} h1_phase;

typedef struct rw_h1_session {
    rw_stream stream;          /* must stay first: rw_stream * <-> session */
    rw_conn *conn;
    h1_phase phase;
    /* request being received */
    char *head;                /* copy of the request head (views are re-derived) */
    size_t head_len;
    char *body;
    size_t body_len, body_cap;
    uint64_t body_left;
    rw_chunked chunked;
    /* response being streamed */
    rw_h1_framing framing;
    bool keep_alive;
    bool wrote;                /* the producer wrote something this round */
    bool waiting;              /* producer had nothing: wait for rw_stream_wake() */
    uint64_t stream_left;      /* RW_H1_FRAME_LENGTH */
    rw_stream_fn produce;
    void *ud;
    void (*on_close)(void *);
} rw_h1_session;

/* Per-request context behind rw_request.proto. */
typedef struct h1_req_ctx {
    rw_conn *c;
    const rw_request *req;     /* NULL for errors the engine answers itself */
    int minor;
    bool keep_alive;
    bool is_head;
} h1_req_ctx;

static int h1_respond(rw_request *r, int status, const rw_header *h, size_t nh, const void *body,
                      size_t len, const rw_body_file *file, void (*release)(void *), void *arg);
static int h1_stream(rw_request *r, int status, const rw_header *h, size_t nh, int64_t clen,
                     rw_stream_fn produce, void *ud, void (*on_close)(void *));
static rw_conn *h1_request_conn(const rw_request *r);
static const rw_responder h1_responder = { h1_respond, h1_stream, h1_request_conn };

static rw_h1_limits limits_of(const rw_worker *w)
{
    return (rw_h1_limits){ w->cfg->max_request_line, w->cfg->max_header_bytes,
                           w->cfg->max_headers };
}

/* ---- session ---------------------------------------------------------------- */

static int stream_write(rw_stream *st, const void *data, size_t len);
static void stream_wake(rw_stream *st);

/* The session, if c runs this engine and holds one. Once a handler switched
 * the connection (WebSocket), c->session is the new engine's. */
static inline rw_h1_session *h1_of(const rw_conn *c)
{
    return c->engine == &rw_h1_engine ? c->session : NULL;
}

static rw_h1_session *session_get(rw_conn *c)
{
    rw_h1_session *cur = h1_of(c);
    if (cur)
        return cur;
    rw_h1_session *s = rw_pool_get(&c->w->h1_pool);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->stream.write = stream_write;
    s->stream.wake = stream_wake;
    s->conn = c;
    c->session = s;
    return s;
}

static void session_drop_request(rw_h1_session *s)
{
    free(s->head);
    free(s->body);
    s->head = s->body = NULL;
    s->head_len = s->body_len = s->body_cap = 0;
}

/* Ends the session when nothing is left in it. */
static void session_maybe_release(rw_conn *c)
{
    rw_h1_session *s = h1_of(c);
    if (s && s->phase == H1_IDLE && !s->head && !s->body) {
        rw_pool_put(&c->w->h1_pool, s);
        c->session = NULL;
    }
}

static void h1_free(rw_conn *c)
{
    rw_h1_session *s = h1_of(c);
    if (!s)
        return;
    if (s->phase == H1_STREAMING && s->on_close) {
        void (*cb)(void *) = s->on_close;
        s->on_close = NULL;
        cb(s->ud);
    }
    session_drop_request(s);
    rw_pool_put(&c->w->h1_pool, s);
    c->session = NULL;
}

static bool h1_paused(const rw_conn *c)
{
    const rw_h1_session *s = h1_of(c);
    if (s && s->phase == H1_STREAMING)
        return true;
    return c->out && rw_outbuf_full(c->out);
}

static bool h1_busy(const rw_conn *c)
{
    const rw_h1_session *s = h1_of(c);
    return s && s->phase != H1_IDLE;
}

/* ---- responses -------------------------------------------------------------- */

/* Writes a response head (and, when copy_body, the body) into the queue. */
static int queue_head(rw_conn *c, const rw_h1_head *h, const void *body, size_t body_len)
{
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return -1;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    size_t need = rw_h1_head_size(h) + body_len;
    char *p = rw_outbuf_reserve(o, &pools, need);
    if (!p) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    size_t n = rw_h1_head_write(p, h);
    if (body_len)
        memcpy(p + n, body, body_len);
    rw_outbuf_commit(o, n + body_len);
    rw_conn_schedule(c);
    return 0;
}

static bool status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

static int h1_respond(rw_request *r, int status, const rw_header *hdrs, size_t nh,
                      const void *body, size_t len, const rw_body_file *file,
                      void (*release)(void *), void *arg)
{
    h1_req_ctx *x = r->proto;
    rw_conn *c = x->c;
    rw_worker *w = c->w;
    bool has_body = status_has_body(status);
    rw_h1_head h = { .minor_version = x->minor,
                     .status = status,
                     .headers = hdrs,
                     .nheaders = nh,
                     .date = w->clock.date,
                     .framing = has_body ? RW_H1_FRAME_LENGTH : RW_H1_FRAME_NONE,
                     .content_length = len,
                     .keep_alive = x->keep_alive };
    bool send_body = has_body && !x->is_head && len > 0;
    int rc = -1;
    if (c->state == RW_CONN_DEAD) {
        /* connection already gone: nothing to write */
    } else if (send_body && release) {
        rc = queue_head(c, &h, NULL, 0);
        if (rc == 0 && rw_outbuf_append_file(c->out, body, len, file ? file->fd : -1,
                                             file ? file->off : 0, release, arg) == 0) {
            release = NULL; /* owned by the queue now */
        } else if (rc == 0) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            rc = -1;
        }
    } else {
        rc = queue_head(c, &h, body, send_body ? len : 0);
    }
    if (release)
        release(arg);
    rw_request_done(c, x->req, status, send_body ? len : 0);
    if (!x->keep_alive)
        rw_conn_set_state(c, RW_CONN_CLOSING);
    return rc;
}

void rw_h1_send_error(rw_conn *c, int status)
{
    const char *reason = rw_status_reason(status);
    char body[64];
    size_t n = strlen(reason);
    if (n > sizeof body - 2)
        n = sizeof body - 2;
    memcpy(body, reason, n);
    body[n++] = '\n';
    static const rw_header ct[] = { { { "Content-Type", 12 }, { "text/plain", 10 } } };
    h1_req_ctx x = { c, NULL, 1, false, false };
    rw_request r = { .proto = &x, .resp = &h1_responder };
    h1_respond(&r, status, ct, 1, body, n, NULL, NULL, NULL);
}

/* ---- streaming ---------------------------------------------------------------- */

static void stream_finish(rw_conn *c, rw_h1_session *s)
{
    if (s->framing == RW_H1_FRAME_CHUNKED) {
        rw_outbuf *o = rw_conn_outbuf(c);
        rw_outbuf_pools pools = rw_conn_pools(c->w);
        if (o && rw_outbuf_append(o, &pools, "0\r\n\r\n", 5) != 0)
            rw_conn_set_state(c, RW_CONN_DEAD);
    }
    bool incomplete = s->framing == RW_H1_FRAME_LENGTH && s->stream_left > 0;
    void (*cb)(void *) = s->on_close;
    void *ud = s->ud;
    s->on_close = NULL;
    s->phase = H1_IDLE;
    s->produce = NULL;
    if (!s->keep_alive || s->framing == RW_H1_FRAME_CLOSE || incomplete ||
        (c->flags & RW_CONNF_DRAINING))
        rw_conn_set_state(c, RW_CONN_CLOSING);
    rw_conn_schedule(c);
    session_maybe_release(c);
    if (cb)
        cb(ud);
}

/* Calls the producer while the output queue has room. */
static void stream_pump(rw_conn *c)
{
    for (int round = 0; round < 16; round++) {
        rw_h1_session *s = h1_of(c);
        if (!s || s->phase != H1_STREAMING || s->waiting || c->state == RW_CONN_DEAD)
            return;
        if (c->out && rw_outbuf_full(c->out))
            return;
        s->wrote = false;
        int rc = s->produce(&s->stream, s->ud);
        if (c->state == RW_CONN_DEAD)
            return;
        if (rc == RW_STREAM_DONE) {
            stream_finish(c, s);
            return;
        }
        if (!s->wrote) {
            s->waiting = true;
            return;
        }
    }
}

static int stream_write(rw_stream *st, const void *data, size_t len)
{
    rw_h1_session *s = (rw_h1_session *)st;
    rw_conn *c = s->conn;
    if (s->phase != H1_STREAMING || c->state == RW_CONN_DEAD)
        return -1;
    if (len == 0)
        return 0;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return -1;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    if (s->framing == RW_H1_FRAME_LENGTH) {
        if (len > s->stream_left)
            len = (size_t)s->stream_left; /* never write past the announced length */
        s->stream_left -= len;
    }
    size_t need = len + (s->framing == RW_H1_FRAME_CHUNKED ? 16 + 4 : 0);
    char *p = rw_outbuf_reserve(o, &pools, need);
    if (!p) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    size_t n = 0;
    if (s->framing == RW_H1_FRAME_CHUNKED) {
        n = rw_u64_to_hex(p, len);
        p[n++] = '\r';
        p[n++] = '\n';
    }
    memcpy(p + n, data, len);
    n += len;
    if (s->framing == RW_H1_FRAME_CHUNKED) {
        p[n++] = '\r';
        p[n++] = '\n';
    }
    rw_outbuf_commit(o, n);
    s->wrote = true;
    rw_conn_schedule(c);
    return 0;
}

static void stream_wake(rw_stream *st)
{
    rw_h1_session *s = (rw_h1_session *)st;
    if (s->phase != H1_STREAMING)
        return;
    s->waiting = false;
    stream_pump(s->conn);
}

static int h1_stream(rw_request *r, int status, const rw_header *hdrs, size_t nh, int64_t clen,
                     rw_stream_fn produce, void *ud, void (*on_close)(void *))
{
    h1_req_ctx *x = r->proto;
    rw_conn *c = x->c;
    rw_h1_session *s = session_get(c);
    if (!s) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        if (on_close)
            on_close(ud);
        return -1;
    }
    bool has_body = status_has_body(status);
    rw_h1_framing fr = !has_body   ? RW_H1_FRAME_NONE
                       : clen >= 0 ? RW_H1_FRAME_LENGTH
                       : x->minor >= 1 ? RW_H1_FRAME_CHUNKED
                                       : RW_H1_FRAME_CLOSE;
    bool keep_alive = x->keep_alive && fr != RW_H1_FRAME_CLOSE;
    rw_h1_head h = { .minor_version = x->minor,
                     .status = status,
                     .headers = hdrs,
                     .nheaders = nh,
                     .date = c->w->clock.date,
                     .framing = fr,
                     .content_length = clen >= 0 ? (uint64_t)clen : 0,
                     .keep_alive = keep_alive };
    rw_request_streamed(c, x->req, status, clen);
    if (queue_head(c, &h, NULL, 0) != 0) {
        if (on_close)
            on_close(ud);
        return -1;
    }
    if (x->is_head || fr == RW_H1_FRAME_NONE) {
        /* No body goes out: the producer is never called. */
        if (!keep_alive)
            rw_conn_set_state(c, RW_CONN_CLOSING);
        session_maybe_release(c);
        if (on_close)
            on_close(ud);
        return 0;
    }
    s->phase = H1_STREAMING;
    s->framing = fr;
    s->keep_alive = keep_alive;
    s->stream_left = clen >= 0 ? (uint64_t)clen : 0;
    s->produce = produce;
    s->ud = ud;
    s->on_close = on_close;
    s->waiting = false;
    return 0;
}

static rw_conn *h1_request_conn(const rw_request *r)
{
    const h1_req_ctx *x = r->proto;
    return x->c;
}

static void h1_on_drain(rw_conn *c)
{
    stream_pump(c);
}

/* ---- requests ---------------------------------------------------------------- */

static void dispatch(rw_conn *c, const rw_h1_request *req, rw_str body)
{
    rw_worker *w = c->w;
    h1_req_ctx x = { .c = c,
                     .minor = req->minor_version,
                     .keep_alive = req->keep_alive &&
                                   !(c->flags & (RW_CONNF_DRAINING | RW_CONNF_EOF)),
                     .is_head = req->method_id == RW_METHOD_HEAD };
    rw_request r = { .method = req->method,
                     .method_id = (int)req->method_id,
                     .target = req->target,
                     .path = req->path,
                     .query = req->query,
                     .version = 10 + req->minor_version,
                     .headers = req->headers,
                     .nheaders = req->nheaders,
                     .body = body,
                     .is_head = x.is_head,
                     .resp = &h1_responder,
                     .proto = &x,
                     .worker = w };
    x.req = &r;
    rw_request_start(c, &r);
    w->hooks.dispatch(w->hooks.ctx, &r);
    if (!r.responded) /* the router guarantees a response; be safe anyway */
        rw_h1_send_error(c, 500);
    stream_pump(c);
}

/* The request's body arrived in full (it spanned reads): re-derive the views
 * from the saved head and dispatch. */
static void dispatch_saved(rw_conn *c, rw_h1_session *s)
{
    rw_worker *w = c->w;
    rw_h1_request req;
    rw_h1_limits lim = limits_of(w);
    int r = rw_h1_parse_request(s->head, s->head_len, &req, w->hdrs, &lim);
    s->phase = H1_IDLE;
    if (r <= 0) { /* cannot happen: it parsed before */
        rw_h1_send_error(c, 500);
    } else {
        dispatch(c, &req, rw_str_make(s->body ? s->body : "", s->body_len));
    }
    rw_h1_session *cur = h1_of(c);
    if (cur) {
        session_drop_request(cur);
        session_maybe_release(c);
    }
}

static bool body_append(rw_h1_session *s, const char *p, size_t n)
{
    if (n == 0)
        return true;
    if (s->body_len + n > s->body_cap) {
        size_t cap = s->body_cap ? s->body_cap : 4096;
        while (cap < s->body_len + n)
            cap *= 2;
        char *nb = realloc(s->body, cap);
        if (!nb)
            return false;
        s->body = nb;
        s->body_cap = cap;
    }
    memcpy(s->body + s->body_len, p, n);
    s->body_len += n;
    return true;
}

/* Feeds body bytes to the session; returns bytes consumed. */
static size_t body_feed(rw_conn *c, rw_h1_session *s, const char *buf, size_t len)
{
    if (s->phase == H1_BODY_LENGTH) {
        size_t n = len < s->body_left ? len : (size_t)s->body_left;
        memcpy(s->body + s->body_len, buf, n);
        s->body_len += n;
        s->body_left -= n;
        if (s->body_left == 0)
            dispatch_saved(c, s);
        return n;
    }
    size_t pos = 0;
    while (pos < len) {
        size_t used;
        rw_str data;
        rw_chunked_result r = rw_chunked_feed(&s->chunked, buf + pos, len - pos, &used, &data);
        pos += used;
        if (r == RW_CHUNKED_DATA) {
            if (s->body_len + data.n > c->w->cfg->max_body) {
                rw_h1_send_error(c, 413);
                return len;
            }
            if (!body_append(s, data.p, data.n)) {
                rw_conn_set_state(c, RW_CONN_DEAD);
                return len;
            }
        } else if (r == RW_CHUNKED_DONE) {
            dispatch_saved(c, s);
            return pos;
        } else if (r == RW_CHUNKED_TOO_LARGE) {
            rw_h1_send_error(c, 413); /* at the chunk-size line, before its data */
            return len;
        } else if (r == RW_CHUNKED_ERROR) {
            c->w->stats.parse_errors++;
            rw_h1_send_error(c, 400);
            return len;
        } else {
            break; /* need more */
        }
    }
    return pos;
}

static void send_continue(rw_conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    rw_outbuf *o = rw_conn_outbuf(c);
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    if (o && rw_outbuf_append(o, &pools, msg, sizeof msg - 1) == 0)
        rw_conn_schedule(c);
}

/* A head was parsed at buf[-head_len..0); the body (if any) starts at buf.
 * Returns the body bytes consumed from buf[0..len). */
static size_t start_request(rw_conn *c, const rw_h1_request *req, const char *head,
                            size_t head_len, const char *buf, size_t len)
{
    rw_worker *w = c->w;
    if (req->body == RW_H1_BODY_NONE) {
        dispatch(c, req, rw_str_make("", 0));
        return 0;
    }
    if (req->body == RW_H1_BODY_LENGTH) {
        if (req->content_length > w->cfg->max_body) {
            rw_h1_send_error(c, 413);
            return len;
        }
        if (len >= req->content_length) { /* whole body here: zero-copy */
            dispatch(c, req, rw_str_make(buf, (size_t)req->content_length));
            return (size_t)req->content_length;
        }
    }
    /* The body spans reads: keep a copy of the head and collect the body. */
    rw_h1_session *s = session_get(c);
    if (!s || !(s->head = malloc(head_len))) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return len;
    }
    memcpy(s->head, head, head_len);
    s->head_len = head_len;
    if (req->body == RW_H1_BODY_LENGTH) {
        s->body = malloc((size_t)req->content_length);
        if (!s->body) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return len;
        }
        s->body_cap = (size_t)req->content_length;
        s->body_left = req->content_length;
        s->phase = H1_BODY_LENGTH;
    } else {
        rw_chunked_init(&s->chunked, RW_CHUNK_LINE_MAX, RW_TRAILER_MAX);
        s->chunked.max_body = c->w->cfg->max_body;
        s->phase = H1_BODY_CHUNKED;
    }
    if (req->expect_continue && len == 0)
        send_continue(c);
    return body_feed(c, s, buf, len);
}

/* ---- switching engines --------------------------------------------------------- */

/* The HTTP/2 client preface starts with a request line an HTTP/1 parser
 * would reject (RFC 9113 §3.4); seeing all of it commits to HTTP/2. */
#define RW_H1_PRI_LINE "PRI * HTTP/2.0\r\n"
#define RW_H1_PRI_LINE_LEN (sizeof RW_H1_PRI_LINE - 1)
/* The token HTTP/2 over cleartext is registered under (also for prior
 * knowledge, which has no token of its own). */
#define RW_H1_H2C_TOKEN "h2c"

/* Prior knowledge: a fresh connection that starts with the client preface.
 * Returns 1 (switched), 0 (not HTTP/2), -1 (a strict prefix: wait). Past the
 * request line, a wrong preface is the new engine's to reject (GOAWAY). */
static int preface_check(rw_conn *c, const char *buf, size_t len)
{
    size_t k = len < RW_H1_PRI_LINE_LEN ? len : RW_H1_PRI_LINE_LEN;
    if (memcmp(buf, RW_H1_PRI_LINE, k) != 0)
        return 0;
    const rw_engine *e =
        rw_worker_engine(c->w, RW_VIA_UPGRADE, RW_H1_H2C_TOKEN, sizeof RW_H1_H2C_TOKEN - 1);
    if (!e || !e->start)
        return 0; /* no HTTP/2 here: the parser answers the odd request line */
    if (k < RW_H1_PRI_LINE_LEN)
        return -1;
    return e->start(c, NULL) == 0 ? 1 : 0;
}

/* Upgrade (RFC 9110 §7.8; body-less requests only): hands the connection to
 * the first engine registered for one of the offered tokens (h2c). Returns
 * true when it took over: it answered the 101 and the request. An engine
 * that declines (e.g. HTTP2-Settings does not decode) leaves the request to
 * HTTP/1.1; so do tokens nobody registered ("websocket" is a handler's). */
static bool upgrade(rw_conn *c, const rw_h1_request *req)
{
    if (!req->upgrade || req->body != RW_H1_BODY_NONE)
        return false;
    bool conn_upgrade = false;
    for (unsigned i = 0; i < req->nheaders && !conn_upgrade; i++)
        if (rw_str_eq_lit_nocase(req->headers[i].name, "connection", 10))
            conn_upgrade = rw_str_has_token(req->headers[i].value, "upgrade");
    if (!conn_upgrade)
        return false;
    size_t pos = 0;
    rw_str tok;
    while (rw_str_next_token(req->upgrade_proto, &pos, &tok)) {
        const rw_engine *eng = rw_worker_engine(c->w, RW_VIA_UPGRADE, tok.p, tok.n);
        if (!eng || !eng->start || eng == c->engine)
            continue;
        rw_request r = { .method = req->method,
                         .method_id = (int)req->method_id,
                         .target = req->target,
                         .path = req->path,
                         .query = req->query,
                         .version = 10 + req->minor_version,
                         .headers = req->headers,
                         .nheaders = req->nheaders,
                         .body = rw_str_make("", 0),
                         .is_head = req->method_id == RW_METHOD_HEAD,
                         .worker = c->w };
        if (eng->start(c, &r) == 0)
            return true;
    }
    return false;
}

size_t rw_h1_process(rw_conn *c, const char *buf, size_t len)
{
    rw_worker *w = c->w;
    rw_h1_limits lim = limits_of(w);
    size_t pos = 0;
    unsigned batch = 0;
    if (c->requests == 0 && !h1_of(c) && len > 0) {
        int pc = preface_check(c, buf, len);
        if (pc != 0)
            return 0; /* wait for more, or HTTP/2 takes the bytes from here */
    }
    while (pos < len && c->state == RW_CONN_ACTIVE) {
        rw_h1_session *s = h1_of(c);
        if (s && (s->phase == H1_BODY_LENGTH || s->phase == H1_BODY_CHUNKED)) {
            pos += body_feed(c, s, buf + pos, len - pos);
            continue;
        }
        if (h1_paused(c) || batch >= w->cfg->max_pipeline)
            break;
        rw_h1_request req;
        int r = rw_h1_parse_request(buf + pos, len - pos, &req, w->hdrs, &lim);
        if (r == RW_H1_INCOMPLETE)
            break;
        if (r < 0) {
            /* Framing is unknown from here on: answer and read nothing more. */
            w->stats.parse_errors++;
            rw_h1_send_error(c, req.error_status ? req.error_status : 400);
            rw_debug("h1: rejected request (%d): %s", req.error_status,
                     req.error_reason ? req.error_reason : "?");
            return len;
        }
        const char *head = buf + pos;
        pos += (size_t)r;
        batch++;
        if (upgrade(c, &req))
            return pos; /* the rest (client preface) goes to the new engine */
        pos += start_request(c, &req, head, (size_t)r, buf + pos, len - pos);
        if (c->engine != &rw_h1_engine)
            return pos; /* a handler switched protocols (WebSocket): the rest is theirs */
    }
    return pos > len ? len : pos;
}

/* Server shutdown: the next response carries Connection: close; a client
 * between requests (or not yet started) has nothing coming and goes now. */
static void h1_drain(rw_conn *c)
{
    if (c->state == RW_CONN_ACTIVE && c->timer != RW_TIMER_BUSY && !(c->in && c->in->len > 0))
        rw_conn_set_state(c, RW_CONN_DEAD);
}

static void h1_timeout(rw_conn *c)
{
    if (c->timer == RW_TIMER_HEADER && c->in && c->in->len > 0)
        rw_h1_send_error(c, 408); /* a client that started a request and stalled: say why */
}

const rw_engine rw_h1_engine = {
    .name = "http/1.1",
    .start = NULL, /* the default engine: every connection starts here */
    .process = rw_h1_process,
    .paused = h1_paused,
    .busy = h1_busy,
    .on_drain = h1_on_drain,
    .drain = h1_drain,
    .timeout = h1_timeout,
    .free = h1_free,
};
