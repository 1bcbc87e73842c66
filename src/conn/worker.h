/* One worker = one thread = one event loop (io_uring ring or epoll set),
 * its own SO_REUSEPORT listeners, pools, timers and counters. Connections
 * never move between workers, so nothing here needs a lock. */
#ifndef RW_CONN_WORKER_H
#define RW_CONN_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/dlist.h"
#include "core/pool.h"
#include "core/stats.h"
#include "conn/conn.h"
#include "ringwire/ringwire.h"

struct rw_server;

typedef struct rw_worker {
    int id;
    const rw_config *cfg;
    struct rw_server *server;
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

    char *alog;                    /* access-log buffer (app/access_log.c), lazily */
    size_t alog_len;

    char *rxbuf;                   /* epoll: per-thread recv buffer (cfg->buf_size) */
    void *backend;                 /* backend-private state */
} rw_worker;

int rw_worker_init(rw_worker *w, int id, struct rw_server *s);
void rw_worker_destroy(rw_worker *w);

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
