/* Worker state shared by both backends: pools, timers, drain. */
#include "conn/worker.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn/conn_internal.h"
#include "conn/engine.h"
#include "conn/mailbox.h"
#include "conn/wtimer.h"
#include "core/log.h"
#include "core/probes.h"
#include "core/str.h"

/* Free objects kept per pool; beyond that memory goes back to malloc. */
#define RW_POOL_KEEP_CONNS 65536
#define RW_POOL_KEEP_BUFS 256

/* Size of struct rw_h1_session is private to h1_session.c; the pool just
 * needs an upper bound. */
#define RW_H1_SESSION_MAX 256

int rw_worker_init(rw_worker *w, int id, const rw_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->cfg = cfg;
    w->cpu = -1;
    w->wake_fd = -1;
    for (int i = 0; i < RW_MAX_LISTEN; i++)
        w->listen_fds[i] = -1;
    rw_clock_init(&w->clock);
    pthread_mutex_init(&w->mail_lock, NULL);
    w->inbuf_cap = w->cfg->max_header_bytes + w->cfg->buf_size;
    rw_pool_init(&w->conn_pool, sizeof(rw_conn), RW_POOL_KEEP_CONNS);
    rw_pool_init(&w->inbuf_pool, sizeof(rw_inbuf) + w->inbuf_cap, RW_POOL_KEEP_BUFS);
    rw_pool_init(&w->outbuf_pool, sizeof(rw_outbuf), RW_POOL_KEEP_BUFS);
    rw_pool_init(&w->h1_pool, RW_H1_SESSION_MAX, RW_POOL_KEEP_BUFS);
    rw_pool_init(&w->chunk_pool, sizeof(rw_outchunk) + RW_OUT_CHUNK_SIZE, RW_POOL_KEEP_BUFS);
    for (int t = 0; t < RW_TIMER_COUNT; t++)
        rw_dlist_init(&w->timers[t]);
    unsigned nh = w->cfg->max_headers ? w->cfg->max_headers : 1;
    w->hdrs = calloc(nh, sizeof *w->hdrs);
    if (!w->hdrs)
        return -1;
    return 0;
}

int rw_worker_add_engine(rw_worker *w, rw_engine_via via, const char *token,
                         const struct rw_engine *e)
{
    for (int i = 0; i < RW_WORKER_MAX_ENGINES; i++) {
        if (!w->engines[i].token) {
            w->engines[i].token = token;
            w->engines[i].via = via;
            w->engines[i].engine = e;
            return 0;
        }
    }
    return -1;
}

const struct rw_engine *rw_worker_engine(const rw_worker *w, rw_engine_via via, const char *token,
                                         size_t len)
{
    for (int i = 0; i < RW_WORKER_MAX_ENGINES && w->engines[i].token; i++)
        if (w->engines[i].via == (int)via && rw_str_ieq(rw_str_make(token, len), rw_str_c(w->engines[i].token)))
            return w->engines[i].engine;
    return NULL;
}

void rw_worker_destroy(rw_worker *w)
{
    rw_worker_mail_run(w); /* frees what was posted after the loop ended */
    pthread_mutex_destroy(&w->mail_lock);
    if (w->hooks.tick)
        w->hooks.tick(w, true);
    rw_pool_destroy(&w->conn_pool);
    rw_pool_destroy(&w->inbuf_pool);
    rw_pool_destroy(&w->outbuf_pool);
    rw_pool_destroy(&w->h1_pool);
    rw_pool_destroy(&w->chunk_pool);
    free(w->hdrs);
    w->hdrs = NULL;
    free(w->rxbuf);
    w->rxbuf = NULL;
}

static rw_conn *conn_of(rw_dlist *l)
{
    return rw_container_of(l, rw_conn, timer_link);
}

static void expire(rw_conn *c)
{
    c->w->stats.conns_timed_out++;
    RW_PROBE2(conn__timeout, c->fd, c->timer);
    if (c->state == RW_CONN_ACTIVE) {
        c->engine->timeout(c); /* a goodbye the protocol can say: 408, GOAWAY */
        if (c->state == RW_CONN_CLOSING)
            return;
    }
    rw_conn_set_state(c, RW_CONN_DEAD);
}

void rw_worker_tick(rw_worker *w)
{
    uint64_t now = w->clock.now_ms;
    if (w->hooks.tick)
        w->hooks.tick(w, false); /* the app's periodic work: access log flush */
    rw_wtimer_run(w); /* application timers (SSE pings, demos) */
    for (int t = 0; t < RW_TIMER_COUNT; t++) {
        rw_dlist *h = &w->timers[t];
        /* Each list has one timeout, so it is sorted by deadline. */
        while (!rw_dlist_empty(h)) {
            rw_conn *c = conn_of(h->next);
            if (c->deadline_ms > now)
                break;
            rw_dlist_remove(&c->timer_link);
            expire(c);
        }
    }
}

void rw_worker_drain(rw_worker *w)
{
    if (w->draining)
        return;
    w->draining = true;
    w->drain_deadline_ms = w->clock.now_ms + w->cfg->shutdown_timeout_ms;
    for (int t = 0; t < RW_TIMER_COUNT; t++) {
        rw_dlist *h = &w->timers[t];
        for (rw_dlist *it = h->next, *next; it != h; it = next) {
            next = it->next;
            rw_conn *c = conn_of(it);
            c->flags |= RW_CONNF_DRAINING;
            /* HTTP/1 closes an idle client at once; HTTP/2 says GOAWAY. */
            c->engine->drain(c);
        }
    }
}

bool rw_worker_drained(rw_worker *w)
{
    if (!w->draining)
        return false;
    if (w->nconns == 0)
        return true;
    if (w->clock.now_ms >= w->drain_deadline_ms) {
        for (int t = 0; t < RW_TIMER_COUNT; t++) {
            rw_dlist *h = &w->timers[t];
            while (!rw_dlist_empty(h)) {
                rw_conn *c = conn_of(h->next);
                rw_dlist_remove(&c->timer_link);
                rw_conn_set_state(c, RW_CONN_DEAD);
            }
        }
    }
    return false;
}
