/* HTTP/2 streams: the stream table and state machine, request assembly
 * (header block -> validated request, DATA -> body, trailers), dispatch to
 * the router, and the responder (HEADERS + DATA through the scheduler). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "core/log.h"
#include "core/str.h"
#include "http1/parser.h"
#include "http2/h2_session.h"
#include "core/probes.h"

#define RW_H2_FREE_STREAMS_KEEP 16 /* recycled stream objects kept per connection */

static int stream_write(rw_stream *stp, const void *data, size_t len);
static void stream_wake(rw_stream *stp);

/* ---- table ------------------------------------------------------------------ */

rw_h2_stream *rw_h2_stream_find(rw_h2_session *s, uint32_t id)
{
    for (rw_dlist *it = s->streams.next; it != &s->streams; it = it->next) {
        rw_h2_stream *st = rw_container_of(it, rw_h2_stream, link);
        if (st->id == id)
            return st;
    }
    return NULL;
}

bool rw_h2_recently_closed(const rw_h2_session *s, uint32_t id)
{
    for (unsigned i = 0; i < RW_H2_RECENT_CLOSED; i++)
        if (s->recent_closed[i] == id)
            return true;
    return false;
}

bool rw_h2_we_reset(const rw_h2_session *s, uint32_t id)
{
    for (unsigned i = 0; i < RW_H2_RECENT_CLOSED; i++)
        if (s->reset_sent[i] == id)
            return true;
    return false;
}

rw_h2_stream *rw_h2_stream_new(rw_h2_session *s, uint32_t id)
{
    rw_h2_stream *st = s->free_list;
    if (st) {
        s->free_list = st->free_next;
        s->nfree--;
    } else {
        st = malloc(sizeof *st);
        if (!st)
            return NULL;
    }
    memset(st, 0, sizeof *st);
    st->st.write = stream_write;
    st->st.wake = stream_wake;
    st->s = s;
    st->id = id;
    st->state = RW_H2_ST_OPEN;
    st->urgency = 3;
    st->send_window = s->peer_initial_window;
    st->recv_window = s->our_initial_window;
    st->content_length = -1;
    st->stream_left = -1;
    rw_dlist_init(&st->sched_link);
    rw_dlist_insert_tail(&s->streams, &st->link);
    RW_PROBE2(h2__stream_open, s->c->fd, id);
    s->c->w->stats.h2_streams++;
    if (id & 1)
        s->nstreams++;
    else
        s->npushed++;
    return st;
}

void rw_h2_stream_close(rw_h2_stream *st)
{
    rw_h2_session *s = st->s;
    if (st->state == RW_H2_ST_CLOSED)
        return;
    st->state = RW_H2_ST_CLOSED;
    rw_h2_sched_remove(st);
    if (st->release) {
        void (*rel)(void *) = st->release;
        st->release = NULL;
        /* Pieces already queued still point at the memory: release it only
         * after them, through an empty segment at the end of the queue. */
        rw_conn *c = s->c;
        if (!(st->ext_queued && c->out && rw_outbuf_append_ext(c->out, "", 0, rel, st->arg) == 0))
            rel(st->arg);
    }
    free(st->owned);
    free(st->req_copy);
    free(st->body);
    void (*cb)(void *) = st->on_close;
    void *ud = st->ud;
    st->on_close = NULL;
    RW_PROBE2(h2__stream_close, st->s->c->fd, st->id);
    rw_dlist_remove(&st->link);
    if (st->id & 1)
        s->nstreams--;
    else
        s->npushed--;
    s->recent_closed[s->recent_pos++ % RW_H2_RECENT_CLOSED] = st->id;
    if (s->nfree < RW_H2_FREE_STREAMS_KEEP) {
        st->free_next = s->free_list;
        s->free_list = st;
        s->nfree++;
    } else {
        free(st);
    }
    if (cb)
        cb(ud);
}

void rw_h2_stream_error(rw_h2_stream *st, uint32_t code)
{
    rw_h2_session *s = st->s;
    rw_debug("h2: stream %u error %s", st->id, rw_h2_error_name(code));
    rw_h2_send_rst(s, st->id, code);
    rw_h2_stream_close(st);
    rw_h2_maybe_finish(s);
}

void rw_h2_stream_end_local(rw_h2_stream *st)
{
    rw_h2_session *s = st->s;
    st->end_sent = true;
    if (st->state == RW_H2_ST_OPEN) /* answered before the request ended (413, 431) */
        rw_h2_send_rst(s, st->id, RW_H2_NO_ERROR);
    rw_h2_stream_close(st);
    rw_h2_maybe_finish(s);
}

/* ---- validation (RFC 9113 §8.2, §8.3) -------------------------------------- */

static bool name_ok(rw_str n)
{
    if (n.n == 0)
        return false;
    for (size_t i = 0; i < n.n; i++) {
        unsigned char ch = (unsigned char)n.p[i];
        if (ch <= 0x20 || (ch >= 'A' && ch <= 'Z') || ch >= 0x7f || ch == ':')
            return false;
    }
    return true;
}

static bool value_ok(rw_str v)
{
    for (size_t i = 0; i < v.n; i++) {
        char ch = v.p[i];
        if (ch == 0 || ch == '\r' || ch == '\n')
            return false;
    }
    if (v.n && (v.p[0] == ' ' || v.p[0] == '\t' || v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
        return false;
    return true;
}

static bool is_lit(rw_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool connection_specific(rw_str n)
{
    return is_lit(n, "connection") || is_lit(n, "keep-alive") || is_lit(n, "proxy-connection") ||
           is_lit(n, "transfer-encoding") || is_lit(n, "upgrade");
}

static bool parse_u64(rw_str v, uint64_t *out)
{
    if (v.n == 0 || v.n > 19)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = x;
    return true;
}

typedef struct req_info {
    rw_str method, scheme, path, authority;
    size_t nh;
    bool has_host;
} req_info;

/* Fills s->hdrs with the regular fields; false = malformed (PROTOCOL_ERROR). */
static bool validate_request(rw_h2_stream *st, const rw_hpack_field *f, size_t n, req_info *ri)
{
    rw_h2_session *s = st->s;
    memset(ri, 0, sizeof *ri);
    bool regular = false;
    for (size_t i = 0; i < n; i++) {
        rw_str nm = f[i].name, v = f[i].value;
        if (!value_ok(v))
            return false;
        if (nm.n && nm.p[0] == ':') {
            if (regular)
                return false; /* pseudo-header after a regular one */
            rw_str *slot = is_lit(nm, ":method")      ? &ri->method
                           : is_lit(nm, ":scheme")    ? &ri->scheme
                           : is_lit(nm, ":path")      ? &ri->path
                           : is_lit(nm, ":authority") ? &ri->authority
                                                      : NULL;
            if (!slot || slot->p)
                return false; /* unknown, response-only, or repeated */
            *slot = v.p ? v : rw_str_make("", 0);
            continue;
        }
        regular = true;
        if (!name_ok(nm) || connection_specific(nm))
            return false;
        if (is_lit(nm, "te") && !is_lit(v, "trailers"))
            return false;
        if (is_lit(nm, "content-length")) {
            uint64_t cl;
            if (!parse_u64(v, &cl) || (st->content_length >= 0 && (uint64_t)st->content_length != cl))
                return false;
            st->content_length = (int64_t)cl;
        }
        if (is_lit(nm, "priority"))
            rw_h2_parse_priority(st, v);
        if (is_lit(nm, "host"))
            ri->has_host = true;
        s->hdrs[ri->nh++] = (rw_header){ nm, v };
    }
    if (!ri->method.p)
        return false;
    if (is_lit(ri->method, "CONNECT")) {
        if (!ri->authority.p || ri->scheme.p || ri->path.p)
            return false;
        ri->path = ri->authority; /* routed as its target; the router answers it */
    } else if (!ri->scheme.p || !ri->path.p || ri->path.n == 0) {
        return false;
    }
    if (ri->authority.p && !ri->has_host)
        s->hdrs[ri->nh++] = (rw_header){ RW_STR("host"), ri->authority };
    return true;
}

static bool validate_trailers(const rw_hpack_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(f[i].name) || !value_ok(f[i].value) || connection_specific(f[i].name))
            return false;
    }
    return true;
}

/* Keeps the request head while its body arrives (views die with the input). */
static bool save_request(rw_h2_stream *st, const req_info *ri)
{
    const rw_header *h = st->s->hdrs;
    size_t total = ri->nh * sizeof(rw_header) + ri->method.n + ri->path.n + ri->authority.n +
                   ri->scheme.n;
    for (size_t i = 0; i < ri->nh; i++)
        total += h[i].name.n + h[i].value.n;
    char *buf = malloc(total ? total : 1);
    if (!buf)
        return false;
    rw_header *dst = (rw_header *)buf;
    char *p = buf + ri->nh * sizeof(rw_header);
#define COPY_STR(out, in)                                                                          \
    do {                                                                                           \
        if ((in).n)                                                                                \
            memcpy(p, (in).p, (in).n);                                                             \
        (out) = rw_str_make(p, (in).n);                                                            \
        p += (in).n;                                                                               \
    } while (0)
    for (size_t i = 0; i < ri->nh; i++) {
        COPY_STR(dst[i].name, h[i].name);
        COPY_STR(dst[i].value, h[i].value);
    }
    COPY_STR(st->req_method, ri->method);
    COPY_STR(st->req_path, ri->path);
    COPY_STR(st->req_authority, ri->authority);
    COPY_STR(st->req_scheme, ri->scheme);
#undef COPY_STR
    st->req_copy = buf;
    st->req_nheaders = ri->nh;
    return true;
}

/* ---- requests ---------------------------------------------------------------- */

static int respond_internal(rw_h2_stream *st, int status, const rw_header *h, size_t nh,
                            const void *body, size_t len, const rw_body_file *file,
                            void (*release)(void *), void *arg, const rw_request *req);

/* Answers a request the engine refuses itself (413, 431, 500). */
static void reject(rw_h2_stream *st, int status)
{
    static const rw_header ct = { RW_STR("content-type"), RW_STR("text/plain") };
    char body[64];
    int n = snprintf(body, sizeof body, "%s\n", rw_status_reason(status));
    st->rejected = true;
    respond_internal(st, status, &ct, 1, body, (size_t)n, NULL, NULL, NULL, NULL);
}

/* --h2-push PATH=ASSET[,ASSET...]: promise the assets before answering PATH. */
static void push_rules(rw_request *r, rw_str path)
{
    const rw_config *cfg = r->worker->cfg;
    for (int i = 0; i < cfg->n_h2_push; i++) {
        const char *rule = cfg->h2_push[i];
        const char *eq = strchr(rule, '=');
        if (!eq || (size_t)(eq - rule) != path.n || memcmp(rule, path.p, path.n) != 0)
            continue;
        char asset[256];
        for (const char *a = eq + 1; *a;) {
            const char *end = strchr(a, ',');
            size_t n = end ? (size_t)(end - a) : strlen(a);
            if (n > 0 && n < sizeof asset) {
                memcpy(asset, a, n);
                asset[n] = 0;
                rw_push(r, asset, NULL, 0);
            }
            a += n + (end ? 1 : 0);
        }
    }
}

void rw_h2_dispatch(rw_h2_stream *st, rw_str method, rw_str target, const rw_header *hdrs,
                    size_t nh, rw_str body)
{
    rw_h2_session *s = st->s;
    rw_conn *c = s->c;
    rw_worker *w = c->w;
    rw_str path = target, query = rw_str_make("", 0);
    const char *q = memchr(target.p, '?', target.n);
    if (q) {
        path.n = (size_t)(q - target.p);
        query = rw_str_make(q + 1, target.n - path.n - 1);
    }
    rw_method mid = rw_h1_method_id(method);
    rw_request r = { .method = method,
                     .method_id = (int)mid,
                     .target = target,
                     .path = path,
                     .query = query,
                     .version = 20,
                     .headers = hdrs,
                     .nheaders = nh,
                     .body = body,
                     .is_head = mid == RW_METHOD_HEAD,
                     .resp = &rw_h2_responder,
                     .proto = st,
                     .worker = w };
    st->is_head = r.is_head;
    st->dispatched = true;
    rw_request_start(c, &r);
    w->stats.requests_h2++;
    if (w->cfg->n_h2_push > 0 && !st->pushed && mid == RW_METHOD_GET)
        push_rules(&r, path);
    w->hooks.dispatch(w->hooks.ctx, &r);
    /* st may be closed (recycled) once responded: touch it only if not. */
    if (!r.responded)
        reject(st, 500);
}

void rw_h2_request_done(rw_h2_stream *st)
{
    st->state = RW_H2_ST_HALF_REMOTE;
    if (st->rejected)
        return;
    if (st->content_length >= 0 && st->body_seen != (uint64_t)st->content_length) {
        rw_h2_stream_error(st, RW_H2_PROTOCOL_ERROR);
        return;
    }
    rw_h2_dispatch(st, st->req_method, st->req_path, (const rw_header *)st->req_copy,
                   st->req_nheaders, rw_str_make(st->body ? st->body : "", st->body_len));
}

void rw_h2_on_header_block(rw_h2_session *s, uint32_t id, uint8_t kind, uint32_t discard_code,
                           bool end_stream, const uint8_t *block, size_t len)
{
    size_t nf = 0;
    int rc = rw_hpack_decode(&s->dec, block, len, s->fields, s->max_fields, s->scratch,
                             s->max_header_list, s->max_header_list, &nf);
    if (rw_hpack_is_connection_error(rc)) {
        rw_h2_conn_error(s, RW_H2_COMPRESSION_ERROR, rw_hpack_strerror(rc));
        return;
    }
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (kind == RW_H2_BLOCK_DISCARD) {
        if (discard_code && st)
            rw_h2_stream_error(st, discard_code);
        else if (discard_code)
            rw_h2_send_rst(s, id, discard_code);
        return;
    }
    if (kind == RW_H2_BLOCK_TRAILERS) {
        if (!st)
            return;
        if (!end_stream || rc < 0 || !validate_trailers(s->fields, nf)) {
            rw_h2_stream_error(st, RW_H2_PROTOCOL_ERROR);
            return;
        }
        rw_h2_request_done(st);
        return;
    }
    st = rw_h2_stream_new(s, id);
    if (!st) {
        rw_conn_set_state(s->c, RW_CONN_DEAD);
        return;
    }
    if (end_stream)
        st->state = RW_H2_ST_HALF_REMOTE;
    if (rc < 0) { /* header list over our limits */
        reject(st, 431);
        return;
    }
    req_info ri;
    if (!validate_request(st, s->fields, nf, &ri)) {
        rw_h2_stream_error(st, RW_H2_PROTOCOL_ERROR);
        return;
    }
    if (st->content_length > 0 && (uint64_t)st->content_length > s->c->w->cfg->max_body) {
        reject(st, 413);
        return;
    }
    if (end_stream) {
        if (st->content_length > 0) {
            rw_h2_stream_error(st, RW_H2_PROTOCOL_ERROR);
            return;
        }
        rw_h2_dispatch(st, ri.method, ri.path, s->hdrs, ri.nh, rw_str_make("", 0));
        return;
    }
    if (!save_request(st, &ri))
        rw_conn_set_state(s->c, RW_CONN_DEAD);
}

void rw_h2_on_data(rw_h2_session *s, rw_h2_stream *st, const uint8_t *p, size_t n, bool end)
{
    st->body_seen += n;
    if (st->content_length >= 0 && st->body_seen > (uint64_t)st->content_length) {
        rw_h2_stream_error(st, RW_H2_PROTOCOL_ERROR);
        return;
    }
    if (st->body_seen > s->c->w->cfg->max_body) {
        reject(st, 413);
        return;
    }
    if (st->body_len + n > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < st->body_len + n)
            cap *= 2;
        if (st->content_length > 0 && cap > (size_t)st->content_length &&
            st->body_len + n <= (size_t)st->content_length)
            cap = (size_t)st->content_length;
        char *nb = realloc(st->body, cap);
        if (!nb) {
            rw_conn_set_state(s->c, RW_CONN_DEAD);
            return;
        }
        st->body = nb;
        st->body_cap = cap;
    }
    if (n)
        memcpy(st->body + st->body_len, p, n);
    st->body_len += n;
    if (end) {
        rw_h2_request_done(st);
        return;
    }
    st->recv_unacked += (uint32_t)n;
    if (st->recv_unacked >= s->our_initial_window / 2) {
        uint8_t f[RW_H2_WINDOW_UPDATE_FRAME_LEN];
        rw_h2_queue(s, f, rw_h2_write_window_update(f, st->id, st->recv_unacked));
        st->recv_window += st->recv_unacked;
        st->recv_unacked = 0;
    }
}

/* ---- responses ------------------------------------------------------------- */

static bool status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

/* Grows a session scratch array to hold n elements of size sz. */
static bool grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    size_t nc = *cap ? *cap : 16;
    while (nc < n)
        nc *= 2;
    void *np = realloc(*p, nc * sz);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

long rw_h2_encode_fields(rw_h2_session *s, const rw_hpack_field *f, size_t n)
{
    size_t bound = rw_hpack_encode_bound(f, n);
    if (!grow((void **)&s->enc_buf, &s->enc_cap, bound, 1))
        return -1;
    size_t written = 0;
    if (rw_hpack_encode(&s->enc, f, n, s->enc_buf, s->enc_cap, &written) != 0)
        return -1;
    return (long)written;
}

static bool drop_response_header(rw_str n)
{
    return connection_specific(n) || is_lit(n, "content-length") || is_lit(n, "date") ||
           is_lit(n, "server") || (n.n && n.p[0] == ':');
}

int rw_h2_send_response_headers(rw_h2_stream *st, int status, const rw_header *h, size_t nh,
                                int64_t clen, bool end_stream)
{
    rw_h2_session *s = st->s;
    rw_conn *c = s->c;
    size_t names = 0;
    for (size_t i = 0; i < nh; i++)
        names += h[i].name.n;
    if (!grow((void **)&s->rfields, &s->rfields_cap, nh + 4, sizeof *s->rfields) ||
        !grow((void **)&s->lower, &s->lower_cap, names + 1, 1)) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    char clen_txt[24];
    unsigned sv = (unsigned)status % 1000;
    char status_txt[3] = { (char)('0' + sv / 100), (char)('0' + sv / 10 % 10), (char)('0' + sv % 10) };
    size_t n = 0, lp = 0;
    rw_hpack_field *f = s->rfields;
    f[n++] = (rw_hpack_field){ RW_STR(":status"), rw_str_make(status_txt, 3), 0 };
    for (size_t i = 0; i < nh; i++) {
        rw_str nm = rw_str_make(s->lower + lp, h[i].name.n);
        for (size_t k = 0; k < h[i].name.n; k++)
            s->lower[lp + k] = rw_lower(h[i].name.p[k]);
        if (drop_response_header(nm))
            continue;
        lp += h[i].name.n;
        f[n++] = (rw_hpack_field){ nm, h[i].value, 0 };
    }
    if (clen >= 0) {
        int k = snprintf(clen_txt, sizeof clen_txt, "%lld", (long long)clen);
        f[n++] = (rw_hpack_field){ RW_STR("content-length"), rw_str_make(clen_txt, (size_t)k), 0 };
    }
    f[n++] = (rw_hpack_field){ RW_STR("date"), rw_str_c(c->w->clock.date), 0 };
    f[n++] = (rw_hpack_field){ RW_STR("server"), RW_STR("ringwire"), 0 };
    long blen = rw_h2_encode_fields(s, f, n);
    if (blen < 0) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    size_t need = rw_h2_header_block_size((size_t)blen, s->peer_max_frame);
    rw_outbuf *o = rw_conn_outbuf(c);
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    char *dst = o ? rw_outbuf_reserve(o, &pools, need) : NULL;
    if (!dst) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    size_t wr = rw_h2_write_header_block((uint8_t *)dst, need, st->id, s->enc_buf, (size_t)blen,
                                         s->peer_max_frame, end_stream);
    rw_outbuf_commit(o, wr);
    rw_conn_schedule(c);
    st->responded = true;
    return 0;
}

static int respond_internal(rw_h2_stream *st, int status, const rw_header *h, size_t nh,
                            const void *body, size_t len, const rw_body_file *file,
                            void (*release)(void *), void *arg, const rw_request *req)
{
    rw_h2_session *s = st->s;
    rw_conn *c = s->c;
    rw_worker *w = c->w;
    if (c->state == RW_CONN_DEAD || st->state == RW_H2_ST_CLOSED || st->responded) {
        if (release)
            release(arg);
        return -1;
    }
    bool has_body = status_has_body(status);
    size_t send_len = has_body && !st->is_head ? len : 0;
    rw_request_done(c, req, status, send_len);
    if (rw_h2_send_response_headers(st, status, h, nh, has_body ? (int64_t)len : -1,
                                    send_len == 0) != 0) {
        if (release)
            release(arg);
        return -1;
    }
    if (send_len == 0) {
        if (release)
            release(arg);
        rw_h2_stream_end_local(st);
        return 0;
    }
    /* Small body that fits every window: straight into the queue, no copy kept. */
    if (!release && len <= s->peer_max_frame && (int64_t)len <= st->send_window &&
        (int64_t)len <= s->send_window && c->out && !rw_outbuf_full(c->out)) {
        rw_outbuf_pools pools = rw_conn_pools(w);
        char *dst = rw_outbuf_reserve(c->out, &pools, RW_H2_FRAME_HEADER_LEN + len);
        if (!dst) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return -1;
        }
        size_t hl = rw_h2_write_data_header((uint8_t *)dst, st->id, (uint32_t)len, true);
        memcpy(dst + hl, body, len);
        rw_outbuf_commit(c->out, hl + len);
        st->send_window -= (int64_t)len;
        s->send_window -= (int64_t)len;
        st->sent = len;
        rw_h2_stream_end_local(st);
        return 0;
    }
    if (release) {
        st->kind = RW_H2_BODY_EXT;
        st->data = body;
        st->release = release;
        st->arg = arg;
        st->file_fd = file ? file->fd : -1;
        st->file_off = file ? file->off : 0;
    } else {
        st->owned = malloc(len);
        if (!st->owned) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return -1;
        }
        memcpy(st->owned, body, len);
        st->owned_cap = len;
        st->kind = RW_H2_BODY_BUF;
        st->data = st->owned;
    }
    st->data_len = len;
    st->data_off = 0;
    rw_h2_sched_add(st);
    rw_h2_sched_run(s);
    return 0;
}

static int h2_respond(rw_request *r, int status, const rw_header *h, size_t nh, const void *body,
                      size_t len, const rw_body_file *file, void (*release)(void *), void *arg)
{
    return respond_internal(r->proto, status, h, nh, body, len, file, release, arg, r);
}

static int h2_stream_resp(rw_request *r, int status, const rw_header *h, size_t nh, int64_t clen,
                          rw_stream_fn produce, void *ud, void (*on_close)(void *))
{
    rw_h2_stream *st = r->proto;
    rw_h2_session *s = st->s;
    rw_conn *c = s->c;
    if (c->state == RW_CONN_DEAD || st->state == RW_H2_ST_CLOSED || st->responded) {
        if (on_close)
            on_close(ud);
        return -1;
    }
    rw_request_streamed(c, r, status, status_has_body(status) ? clen : -1);
    bool has_body = status_has_body(status) && !st->is_head;
    if (rw_h2_send_response_headers(st, status, h, nh, status_has_body(status) ? clen : -1,
                                    !has_body) != 0) {
        if (on_close)
            on_close(ud);
        return -1;
    }
    if (!has_body) {
        rw_h2_stream_end_local(st);
        if (on_close)
            on_close(ud);
        return 0;
    }
    st->kind = RW_H2_BODY_STREAM;
    st->produce = produce;
    st->ud = ud;
    st->on_close = on_close;
    st->stream_left = clen;
    st->data_off = st->data_len = 0;
    rw_h2_sched_add(st);
    rw_h2_sched_run(s);
    return 0;
}

const rw_responder rw_h2_responder = { h2_respond, h2_stream_resp, NULL };

static int stream_write(rw_stream *stp, const void *data, size_t len)
{
    rw_h2_stream *st = (rw_h2_stream *)stp;
    if (st->state == RW_H2_ST_CLOSED || st->kind != RW_H2_BODY_STREAM || st->produce_done)
        return -1;
    if (st->stream_left >= 0 && (int64_t)len > st->stream_left)
        len = (size_t)st->stream_left; /* never past the announced length */
    if (len == 0)
        return 0;
    /* Drop what was sent before growing, so the buffer stays small. */
    if (st->data_off > 0) {
        memmove(st->owned, st->owned + st->data_off, st->data_len - st->data_off);
        st->data_len -= st->data_off;
        st->data_off = 0;
    }
    if (!grow((void **)&st->owned, &st->owned_cap, st->data_len + len, 1))
        return -1;
    memcpy(st->owned + st->data_len, data, len);
    st->data_len += len;
    st->data = st->owned;
    if (st->stream_left >= 0)
        st->stream_left -= (int64_t)len;
    st->waiting = false;
    return 0;
}

static void stream_wake(rw_stream *stp)
{
    rw_h2_stream *st = (rw_h2_stream *)stp;
    if (st->state == RW_H2_ST_CLOSED || st->kind != RW_H2_BODY_STREAM)
        return;
    st->waiting = false;
    rw_h2_sched_add(st);
    rw_h2_sched_run(st->s);
}
