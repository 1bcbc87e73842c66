/* One worker = one thread = one event loop (io_uring ring or epoll set),
 * its own SO_REUSEPORT listeners, pools, timers and counters. Connections
 * never move between workers, so nothing here needs a lock. */
#ifndef RW_CONN_WORKER_H
#define RW_CONN_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/budget.h"
#include "core/clock.h"
#include "core/dlist.h"
#include "core/pool.h"
#include "core/stats.h"
#include "conn/conn.h"
#include "ringwire/ringwire.h"

struct rw_engine;
struct rw_tls_server;
struct rw_worker;

/* What the layers below src/app need from the server that composes them,
 * set by the app (app/server.c) right after rw_worker_init() and read-only
 * afterwards. Nothing below src/app calls an app function except through
 * these, so the connection layer and the engines include no app header. */
typedef struct rw_worker_hooks {
    void *ctx; /* the composing server: passed back to the hooks below */
    /* --max-conns gate, any thread: false refuses the connection. */
    bool (*conn_acquire)(void *ctx);
    void (*conn_release)(void *ctx);
    /* Hands a request to the handlers; it must end up answered (r->responded). */
    void (*dispatch)(void *ctx, rw_request *r);
    /* A response to r began (rw_request_done()): the access log. NULL: off. */
    void (*request_done)(struct rw_worker *w, int fd, const rw_request *r, int status,
                         uint64_t bytes);
    /* Every rw_worker_tick(), and once from rw_worker_destroy() with
     * last=true (flush and release per-worker app state). NULL: nothing. */
    void (*tick)(struct rw_worker *w, bool last);
} rw_worker_hooks;

/* Engines a connection may switch to, by how the switch is asked for. */
#define RW_WORKER_MAX_ENGINES 4
typedef enum rw_engine_via {
    RW_VIA_ALPN = 0,    /* TLS ALPN protocol id ("h2") */
    RW_VIA_UPGRADE = 1, /* cleartext: HTTP/1.1 Upgrade token or prior knowledge ("h2c") */
} rw_engine_via;

typedef struct rw_worker {
    int id;
    const rw_config *cfg;
    rw_worker_hooks hooks;
    const atomic_int *stop;        /* the server's stop request (any thread sets it) */
    struct rw_tls_server *tls;     /* NULL unless TLS is on (conn/tls_layer.c) */
    rw_budget *buffered;           /* process-wide buffered request data; NULL = unbounded */
    const struct rw_engine *engine_default; /* what every connection starts on */
    struct {
        const char *token;         /* "h2" (ALPN), "h2c" (Upgrade) */
        int via;                   /* rw_engine_via */
        const struct rw_engine *engine;
    } engines[RW_WORKER_MAX_ENGINES];
    pthread_t thread;
    int cpu;                       /* pinned CPU or -1 */

    int listen_fds[RW_MAX_LISTEN]; /* non-blocking, SO_REUSEPORT, owned by this worker */
    int n_listen;
    int wake_fd;                   /* eventfd: shutdown request or mail (conn/mailbox.h) */
    pthread_mutex_t mail_lock;     /* guards mail_head/tail: posted from any thread */
    struct rw_mail *mail_head, *mail_tail;

    rw_clock clock;
    rw_stats stats;

    rw_pool conn_pool;             /* rw_conn */
    rw_pool inbuf_pool;            /* struct rw_inbuf */
    rw_pool outbuf_pool;           /* struct rw_outbuf */
    rw_pool h1_pool;               /* struct rw_h1_session */
    rw_pool chunk_pool;            /* output copy chunks (conn/outbuf.h) */
    size_t inbuf_cap;              /* bytes a pooled input buffer holds */
    rw_header *hdrs;               /* parser scratch: cfg->max_headers entries */

    rw_conn *flush_head, *flush_tail;
    rw_dlist timers[RW_TIMER_COUNT];
    unsigned nconns;

    bool draining;                 /* shutdown requested: stop accepting, drain */
    uint64_t drain_deadline_ms;

    char *alog;                    /* the app's access-log buffer (hooks.tick frees it) */
    size_t alog_len;

    char *rxbuf;                   /* epoll: per-thread recv buffer (cfg->buf_size) */
    void *backend;                 /* backend-private state */
} rw_worker;

/* The caller (the app) then sets hooks, stop, tls and the engines. */
int rw_worker_init(rw_worker *w, int id, const rw_config *cfg);
void rw_worker_destroy(rw_worker *w);

/* Registers engine e for token (matched without case) asked for via. -1
 * when RW_WORKER_MAX_ENGINES are taken. */
int rw_worker_add_engine(rw_worker *w, rw_engine_via via, const char *token,
                         const struct rw_engine *e);
/* The engine registered for (via, token), or NULL. */
const struct rw_engine *rw_worker_engine(const rw_worker *w, rw_engine_via via, const char *token,
                                         size_t len);

/* Buffered request data (bodies, partial frames and messages) is taken
 * from the process budget before it is held and given back when freed.
 * false: over --max-buffered-total, refuse the protocol's way. */
static inline bool rw_worker_buffer_take(rw_worker *w, uint64_t n)
{
    return !w->buffered || rw_budget_take(w->buffered, n);
}
static inline void rw_worker_buffer_give(rw_worker *w, uint64_t n)
{
    if (w->buffered)
        rw_budget_give(w->buffered, n);
}

/* Pops the next connection that needs the backend's attention, or NULL. */
rw_conn *rw_worker_next_flush(rw_worker *w);

/* Expires timed-out connections (they become DEAD and are scheduled). Call
 * after rw_clock_update(), at least every RW_TICK_MS. */
#define RW_TICK_MS 250
/* The coarse clock may read a wait of RW_TICK_MS a few ms short: without this
 * slack an idle loop would tick only every other wake-up. */
#define RW_TICK_SLACK_MS 10
void rw_worker_tick(rw_worker *w);

/* Graceful shutdown: the backend has stopped accepting. Idle connections are
 * closed at once, busy ones after their current response. */
void rw_worker_drain(rw_worker *w);
/* True once draining and every connection is gone (or the bound passed:
 * then everything left is made DEAD first). */
bool rw_worker_drained(rw_worker *w);

/* Backends. Each runs the loop on the calling (worker) thread until drained. */
int rw_epoll_worker_run(rw_worker *w);
int rw_uring_worker_run(rw_worker *w);
/* Called once at start (main thread) for the uring backend: probes the
 * kernel, logs one line with what is used and what fell back. -1 when
 * io_uring is unusable. */
int rw_uring_probe(const rw_config *cfg);

#endif
