/* Connection lifecycle: creation/refusal, input buffering between reads,
 * output hand-off to the backend, timers, and the worker's flush list. */
#include "conn/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn_internal.h"
#include "conn/engine.h"
#include "conn/tls_layer.h"
#include "core/log.h"
#include "core/probes.h"

/* ---- flush list ---------------------------------------------------------- */

void rw_conn_schedule(rw_conn *c)
{
    if (c->on_flush)
        return;
    rw_worker *w = c->w;
    c->on_flush = 1;
    c->flush_next = NULL;
    if (w->flush_tail)
        w->flush_tail->flush_next = c;
    else
        w->flush_head = c;
    w->flush_tail = c;
}

rw_conn *rw_worker_next_flush(rw_worker *w)
{
    rw_conn *c = w->flush_head;
    if (!c)
        return NULL;
    w->flush_head = c->flush_next;
    if (!w->flush_head)
        w->flush_tail = NULL;
    c->on_flush = 0;
    c->flush_next = NULL;
    return c;
}

static void flush_unlink(rw_conn *c)
{
    rw_worker *w = c->w;
    rw_conn *prev = NULL;
    for (rw_conn *it = w->flush_head; it; prev = it, it = it->flush_next) {
        if (it != c)
            continue;
        if (prev)
            prev->flush_next = it->flush_next;
        else
            w->flush_head = it->flush_next;
        if (w->flush_tail == it)
            w->flush_tail = prev;
        break;
    }
    c->on_flush = 0;
}

/* ---- timers ---------------------------------------------------------------- */

static unsigned timer_ms(const rw_worker *w, rw_conn_timer t)
{
    switch (t) {
    case RW_TIMER_HEADER:
        return w->cfg->header_timeout_ms;
    case RW_TIMER_IDLE:
    case RW_TIMER_BUSY:
    default:
        return w->cfg->keepalive_timeout_ms;
    }
}

static void timer_enter(rw_conn *c, rw_conn_timer t)
{
    rw_worker *w = c->w;
    rw_dlist_remove(&c->timer_link);
    c->timer = (uint8_t)t;
    c->deadline_ms = w->clock.now_ms + timer_ms(w, t);
    rw_dlist_insert_tail(&w->timers[t], &c->timer_link);
}

void rw_conn_update_timer(rw_conn *c, bool progress)
{
    if (c->state == RW_CONN_DEAD) {
        rw_dlist_remove(&c->timer_link);
        return;
    }
    rw_conn_timer t;
    if (c->state == RW_CONN_ACTIVE && rw_tls_conn_handshaking(c))
        t = RW_TIMER_HEADER; /* the TLS handshake counts against the header timeout */
    else if (c->state == RW_CONN_CLOSING || c->engine->busy(c) || (c->out && c->out->bytes > 0) ||
             rw_tls_conn_out_pending(c))
        t = RW_TIMER_BUSY;
    else if (c->in && c->in->len > 0)
        t = RW_TIMER_HEADER;
    else
        t = RW_TIMER_IDLE;
    if (t == RW_TIMER_IDLE && (c->flags & RW_CONNF_DRAINING)) {
        rw_conn_set_state(c, RW_CONN_CLOSING); /* shutting down: no next request */
        return;
    }
    bool linked = rw_dlist_linked(&c->timer_link);
    /* The header deadline covers the whole head (slowloris); idle starts on
     * entry; busy restarts on every bit of progress. */
    if (linked && t == c->timer && (t != RW_TIMER_BUSY || !progress))
        return;
    timer_enter(c, t);
}

/* ---- lifecycle ----------------------------------------------------------- */

rw_conn *rw_conn_new(rw_worker *w, int fd)
{
    if (!w->hooks.conn_acquire(w->hooks.ctx))
        return NULL;
    rw_conn *c = rw_pool_get(&w->conn_pool);
    if (!c) {
        w->hooks.conn_release(w->hooks.ctx);
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->w = w;
    c->fd = fd;
    c->engine = w->engine_default;
    rw_dlist_init(&c->timer_link);
    if (w->draining)
        c->flags |= RW_CONNF_DRAINING;
    timer_enter(c, RW_TIMER_HEADER);
    w->nconns++;
    w->stats.conns_accepted++;
    RW_PROBE2(conn__accept, fd, w->id);
    if (w->tls && rw_tls_conn_start(c) < 0)
        rw_conn_set_state(c, RW_CONN_DEAD); /* out of memory: the backend closes it */
    return c;
}

void rw_conn_refuse(rw_worker *w, int fd)
{
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n";
    w->stats.conns_refused++;
    if (!w->tls) { /* a TLS client cannot read a plaintext 503: just close */
        ssize_t r = send(fd, msg, sizeof msg - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)r;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

void rw_conn_set_state(rw_conn *c, rw_conn_state s)
{
    if (s <= c->state)
        return;
    c->state = (uint8_t)s;
    rw_conn_update_timer(c, true);
    rw_conn_schedule(c);
}

static void inbuf_release(rw_conn *c)
{
    rw_inbuf *in = c->in;
    if (!in)
        return;
    c->in = NULL;
    if (in->pooled)
        rw_pool_put(&c->w->inbuf_pool, in);
    else
        free(in);
}

void rw_conn_free(rw_conn *c)
{
    rw_worker *w = c->w;
    RW_PROBE2(conn__close, c->fd, c->requests);
    if (c->on_flush)
        flush_unlink(c);
    rw_dlist_remove(&c->timer_link);
    c->engine->free(c);
    rw_tls_conn_free(c);
    inbuf_release(c);
    if (c->out) {
        rw_outbuf_pools pools = rw_conn_pools(w);
        rw_outbuf_free(c->out, &pools);
        c->out = NULL;
    }
    w->nconns--;
    w->stats.conns_closed++;
    w->hooks.conn_release(w->hooks.ctx);
    rw_pool_put(&w->conn_pool, c);
}

/* ---- input ------------------------------------------------------------------ */

/* Makes room for n more bytes in c->in; false when over the hard bound. */
static bool inbuf_reserve(rw_conn *c, size_t n)
{
    rw_worker *w = c->w;
    rw_inbuf *in = c->in;
    size_t have = in ? in->len : 0;
    size_t need = have + n;
    if (in && need <= in->cap)
        return true;
    if (need > w->inbuf_cap * RW_INBUF_HARD_FACTOR)
        return false;
    rw_inbuf *nb;
    if (need <= w->inbuf_cap) {
        nb = rw_pool_get(&w->inbuf_pool);
        if (!nb)
            return false;
        nb->cap = w->inbuf_cap;
        nb->pooled = true;
    } else {
        size_t cap = w->inbuf_cap;
        while (cap < need)
            cap *= 2;
        nb = malloc(sizeof *nb + cap);
        if (!nb)
            return false;
        nb->cap = cap;
        nb->pooled = false;
    }
    nb->len = have;
    if (have)
        memcpy(nb->data, in->data, have);
    inbuf_release(c);
    c->in = nb;
    return true;
}

/* ---- engines ------------------------------------------------------------------ */

void rw_conn_switch_engine(rw_conn *c, const rw_engine *e, void *s)
{
    c->engine->free(c); /* no-op unless the old engine still held a session */
    c->engine = e;
    c->session = s;
}

/* Runs the engine over buf. A switch (h1 -> h2 or WebSocket) hands the bytes
 * the old engine left to the new one. */
static size_t engine_process(rw_conn *c, const char *buf, size_t len)
{
    size_t used = 0;
    for (int i = 0; i <= RW_CONN_MAX_SWITCHES && used < len; i++) {
        const rw_engine *e = c->engine;
        used += e->process(c, buf + used, len - used);
        if (c->engine == e)
            break;
    }
    return used;
}

/* Runs the engine over the buffered input, keeps what it did not consume. */
static void process_inbuf(rw_conn *c)
{
    rw_inbuf *in = c->in;
    if (!in || in->len == 0)
        return;
    size_t used = engine_process(c, in->data, in->len);
    if (c->in != in) /* cannot happen: the engine never touches c->in */
        return;
    if (used >= in->len) {
        inbuf_release(c);
    } else if (used > 0) {
        memmove(in->data, in->data + used, in->len - used);
        in->len -= used;
    }
}

static void after_input(rw_conn *c)
{
    if (c->state == RW_CONN_ACTIVE && (c->flags & RW_CONNF_EOF) && !c->engine->paused(c)) {
        /* Peer sent everything it will send: finish what is queued, then go. */
        rw_conn_set_state(c, RW_CONN_CLOSING);
    }
    rw_conn_update_timer(c, true);
    bool want = rw_conn_want_read(c);
    (void)want;
}

void rw_conn_feed(rw_conn *c, const char *data, size_t len)
{
    c->w->stats.bytes_in += len;
    if (c->tls)
        rw_tls_conn_feed(c, data, len); /* ciphertext: plaintext comes back below */
    else
        rw_conn_feed_plain(c, data, len);
}

void rw_conn_feed_plain(rw_conn *c, const char *data, size_t len)
{
    if (c->state != RW_CONN_ACTIVE || len == 0)
        return; /* closing: input after a final response is discarded */
    if (c->in && c->in->len > 0) {
        if (!inbuf_reserve(c, len)) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        memcpy(c->in->data + c->in->len, data, len);
        c->in->len += len;
        if (!c->engine->paused(c))
            process_inbuf(c);
    } else {
        size_t used = c->engine->paused(c) ? 0 : engine_process(c, data, len);
        if (used < len && c->state == RW_CONN_ACTIVE) {
            size_t rest = len - used;
            if (!inbuf_reserve(c, rest)) {
                rw_conn_set_state(c, RW_CONN_DEAD);
                return;
            }
            memcpy(c->in->data + c->in->len, data + used, rest);
            c->in->len += rest;
        }
    }
    if (c->state != RW_CONN_ACTIVE)
        inbuf_release(c);
    after_input(c);
}

void rw_conn_feed_eof(rw_conn *c)
{
    c->flags |= RW_CONNF_EOF;
    if (c->state != RW_CONN_ACTIVE)
        return;
    after_input(c);
}

void rw_conn_io_error(rw_conn *c, int err)
{
    (void)err;
    rw_conn_set_state(c, RW_CONN_DEAD);
}

bool rw_conn_want_read(rw_conn *c)
{
    bool want = c->state == RW_CONN_ACTIVE && !(c->flags & RW_CONNF_EOF) && !c->engine->paused(c) &&
                !(c->in && c->in->len >= c->w->inbuf_cap) && !rw_tls_conn_blocks_read(c);
    uint8_t paused = !want;
    if (paused != c->read_paused) {
        c->read_paused = paused;
        if (!paused)
            rw_conn_schedule(c); /* the backend re-arms reading */
        else if (c->state == RW_CONN_ACTIVE && c->out && rw_outbuf_full(c->out)) {
            /* Backpressure: the peer does not read its responses fast enough. */
            c->w->stats.slow_consumers++;
            RW_PROBE2(slow__consumer, c->fd, c->out->bytes);
        }
    }
    return want;
}

/* ---- output ----------------------------------------------------------------- */

rw_outbuf *rw_conn_outbuf(rw_conn *c)
{
    if (c->out)
        return c->out;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    c->out = rw_outbuf_new(&pools);
    if (!c->out)
        rw_conn_set_state(c, RW_CONN_DEAD);
    return c->out;
}

int rw_conn_out_iov(rw_conn *c, const struct iovec **iov, size_t *bytes)
{
    *bytes = 0;
    if (c->state == RW_CONN_DEAD)
        return 0;
    if (c->tls)
        return rw_tls_conn_out_iov(c, iov, bytes); /* ciphertext */
    if (!c->out || c->out->count == 0) {
        if (c->flags & RW_CONNF_KTLS)
            rw_tls_conn_ktls_idle(c); /* closing: close_notify before the FIN */
        return 0;
    }
    int n = rw_outbuf_iov(c->out);
    *iov = c->out->iov;
    *bytes = c->out->iov_bytes;
    return n;
}

bool rw_conn_out_pending(const rw_conn *c)
{
    return (c->out && c->out->bytes > 0) || rw_tls_conn_out_pending(c);
}

void rw_conn_out_done(rw_conn *c, size_t n)
{
    rw_worker *w = c->w;
    w->stats.bytes_out += n;
    if (c->tls) {
        rw_tls_conn_out_done(c, n); /* plaintext left c->out when it was encrypted */
    } else {
        if (!c->out)
            return;
        rw_outbuf_pools pools = rw_conn_pools(w);
        rw_outbuf_consume(c->out, &pools, n);
        if (c->out->count == 0) {
            rw_outbuf_free(c->out, &pools);
            c->out = NULL;
        }
    }
    if (c->state == RW_CONN_DEAD)
        return;
    if (!c->out || !rw_outbuf_full(c->out)) {
        c->engine->on_drain(c); /* may produce more stream output or finish it */
        if (c->state == RW_CONN_ACTIVE && !c->engine->paused(c))
            process_inbuf(c); /* pipelined requests waiting for room */
    }
    if (c->out || c->state != RW_CONN_ACTIVE || rw_tls_conn_out_pending(c))
        rw_conn_schedule(c);
    after_input(c);
}
