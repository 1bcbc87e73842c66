/* What the server lends the layers below it. The connection layer and the
 * protocol engines never call into src/app: each worker carries these hooks
 * and values (conn/worker.h), set here when the server composes it. */
#include <stdlib.h>

#include "app/access_log.h"
#include "app/router.h"
#include "app/server.h"
#include "http1/h1_engine.h"
#include "http2/h2_engine.h"

/* --max-conns: the one counter shared by all workers, touched at accept and
 * close only. */
static bool conn_acquire(void *ctx)
{
    rw_server *s = ctx;
    unsigned max = s->cfg.max_conns;
    if (max == 0) {
        atomic_fetch_add_explicit(&s->conns, 1, memory_order_relaxed);
        return true;
    }
    unsigned cur = atomic_load_explicit(&s->conns, memory_order_relaxed);
    do {
        if (cur >= max)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&s->conns, &cur, cur + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

static void conn_release(void *ctx)
{
    rw_server *s = ctx;
    atomic_fetch_sub_explicit(&s->conns, 1, memory_order_relaxed);
}

static void dispatch(void *ctx, rw_request *r)
{
    rw_server *s = ctx;
    rw_router_dispatch(&s->router, r);
}

static void log_request(rw_worker *w, int fd, const rw_request *r, int status, uint64_t bytes)
{
    rw_access_log_add(w, fd, r, status, bytes);
}

static void tick(rw_worker *w, bool last)
{
    rw_access_log_flush(w);
    if (last) {
        free(w->alog);
        w->alog = NULL;
    }
}

int rw_server_worker_init(rw_server *s, rw_worker *w, int id)
{
    if (rw_worker_init(w, id, &s->cfg) < 0)
        return -1;
    w->hooks = (rw_worker_hooks){
        .ctx = s,
        .conn_acquire = conn_acquire,
        .conn_release = conn_release,
        .dispatch = dispatch,
        /* Off: no call per response at all. */
        .request_done = s->access_log_fd >= 0 ? log_request : NULL,
        .tick = tick,
    };
    w->stop = &s->stop_requested;
    w->tls = s->tls;
    w->buffered = &s->buffered;
    w->engine_default = &rw_h1_engine;
    if (rw_worker_add_engine(w, RW_VIA_ALPN, "h2", &rw_h2_engine) < 0 ||
        rw_worker_add_engine(w, RW_VIA_UPGRADE, "h2c", &rw_h2_engine) < 0) {
        rw_worker_destroy(w);
        return -1;
    }
    return 0;
}
