/* The io_uring worker loop: one ring per worker thread, multishot accept on
 * each listener, a poll on the wake eventfd for shutdown, and per iteration
 * exactly one submit-and-wait (bounded by the timer tick), then every CQE,
 * then the flush list. */
#include "uring/uring_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn/mailbox.h"
#include "core/log.h"

/* Submit attempts when the SQ is full before giving up on an SQE. */
#define RW_URING_SQE_RETRIES 4

struct io_uring_sqe *rw_uring_sqe(rw_uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    for (int i = 0; !sqe && i < RW_URING_SQE_RETRIES; i++) {
        /* SQ full mid-batch: push what we have (rare with a sane ring size). */
        int ret = io_uring_submit(&u->ring);
        u->w->stats.submits++;
        if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
            return NULL;
        if (u->feat.setup_flags & IORING_SETUP_SQPOLL)
            io_uring_sqring_wait(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static void rw_uring_arm_accept(rw_uring *u, int i)
{
    struct io_uring_sqe *sqe = rw_uring_sqe(u);
    if (!sqe) {
        u->accept_retry = true;
        return;
    }
    io_uring_prep_multishot_accept(sqe, u->w->listen_fds[i], NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, rw_uring_ud((void *)((uintptr_t)i << 3), RW_UOP_ACCEPT));
    u->accept_armed[i] = true;
}

static void rw_uring_arm_wake(rw_uring *u)
{
    struct io_uring_sqe *sqe = rw_uring_sqe(u);
    if (!sqe)
        return;
    io_uring_prep_poll_add(sqe, u->w->wake_fd, POLLIN);
    io_uring_sqe_set_data64(sqe, rw_uring_ud(NULL, RW_UOP_WAKE));
    u->wake_armed = true;
}

static void rw_uring_accept_cqe(rw_uring *u, int i, int res, unsigned flags)
{
    rw_worker *w = u->w;
    if (!(flags & IORING_CQE_F_MORE))
        u->accept_armed[i] = false;
    if (res >= 0) {
        if (u->stopping) {
            close(res);
        } else {
            int one = 1;
            setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            rw_conn *c = rw_conn_new(w, res);
            if (c)
                rw_uring_conn_start(u, c);
            else
                rw_conn_refuse(w, res);
        }
    }
    if (u->accept_armed[i] || u->stopping)
        return;
    if (res == -EMFILE || res == -ENFILE || res == -ENOMEM || res == -ENOBUFS) {
        /* Re-arming now would spin on the same error: wait for the tick. */
        if (res != -ENOBUFS && res != -ENOMEM)
            rw_warn("worker %d: accept: %s", w->id, strerror(-res));
        u->accept_retry = true;
    } else {
        rw_uring_arm_accept(u, i);
    }
}

/* Shutdown requested: stop accepting, let the conn layer drain. */
static void rw_uring_begin_stop(rw_uring *u)
{
    u->stopping = true;
    for (int i = 0; i < u->w->n_listen; i++) {
        if (!u->accept_armed[i])
            continue;
        struct io_uring_sqe *sqe = rw_uring_sqe(u);
        if (!sqe)
            continue;
        io_uring_prep_cancel64(sqe, rw_uring_ud((void *)((uintptr_t)i << 3), RW_UOP_ACCEPT), 0);
        io_uring_sqe_set_data64(sqe, rw_uring_ud(NULL, RW_UOP_IGNORE));
    }
    /* Close our listeners now (as the epoll backend does): connections
     * still in the backlog get a reset instead of hanging until exit. The
     * cancelled accept holds its own file reference until it completes. */
    for (int i = 0; i < u->w->n_listen; i++) {
        if (u->w->listen_fds[i] >= 0)
            close(u->w->listen_fds[i]);
        u->w->listen_fds[i] = -1;
    }
    u->stop_at = u->w->clock.now_ms;
    rw_worker_drain(u->w);
}

static void rw_uring_cqe(rw_uring *u, const struct io_uring_cqe *cqe)
{
    uint64_t ud = cqe->user_data;
    unsigned op = rw_uring_ud_op(ud);
    switch (op) {
    case RW_UOP_IGNORE:
        break;
    case RW_UOP_ACCEPT:
        rw_uring_accept_cqe(u, (int)(ud >> 3), cqe->res, cqe->flags);
        break;
    case RW_UOP_WAKE:
        /* Shutdown request and/or cross-thread mail (conn/mailbox.h). */
        u->wake_armed = false;
        if (rw_worker_wake(u->w) && !u->stopping)
            rw_uring_begin_stop(u);
        rw_uring_arm_wake(u); /* mail may still come while draining */
        break;
    default:
        rw_uring_conn_cqe(u, rw_uring_ud_ptr(ud), op, cqe->res, cqe->flags);
        break;
    }
}

unsigned rw_uring_reap(rw_uring *u)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        rw_uring_cqe(u, cqe);
        n++;
    }
    io_uring_cq_advance(&u->ring, n);
    u->w->stats.completions += n;
    rw_uring_buf_flush(&u->bufs);
    return n;
}

void rw_uring_flush_conns(rw_uring *u)
{
    rw_conn *c;
    while ((c = rw_worker_next_flush(u->w)) != NULL)
        rw_uring_conn_flush(u, c);
    rw_uring_conn_waitbuf_run(u);
    if (u->linger_dirty)
        rw_uring_conn_linger_run(u, false);
}

void rw_uring_destroy(rw_uring *u)
{
    /* Buffer ring first: unregistering needs the ring. Then the ring (which
     * cancels whatever is still armed: accepts, the wake poll). */
    rw_uring_bufring_destroy(&u->bufs, &u->ring, RW_URING_BGID);
    io_uring_queue_exit(&u->ring);
    rw_pool_destroy(&u->sendop_pool);
    rw_uring_connlist_free(&u->waitbuf);
    rw_uring_connlist_free(&u->linger);
    free(u);
}

int rw_uring_setup(rw_worker *w, rw_uring **out)
{
    const rw_config *cfg = w->cfg;
    rw_uring *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->w = w;
    if (rw_uring_feat.probed) {
        u->feat = rw_uring_feat;
    } else {
        int ret = rw_uring_features_detect(cfg, &u->feat);
        if (ret < 0) {
            free(u);
            return ret;
        }
    }
    unsigned used = 0;
    int ret = rw_uring_ring_open(&u->ring, cfg, &used);
    if (ret < 0) {
        free(u);
        return ret;
    }
    u->feat.setup_flags = used;
    ret = rw_uring_bufring_init(&u->bufs, &u->ring, cfg->bufs, cfg->buf_size, RW_URING_BGID);
    if (ret < 0) {
        io_uring_queue_exit(&u->ring);
        free(u);
        return ret;
    }
    u->use_zc = cfg->send_zc_threshold > 0 && (u->feat.send_zc || u->feat.sendmsg_zc);
    u->zc_threshold = cfg->send_zc_threshold;
    rw_pool_init(&u->sendop_pool, sizeof(rw_uring_sendop), RW_URING_SENDOP_POOL_MAX);
    *out = u;
    return 0;
}

int rw_uring_worker_run(rw_worker *w)
{
    rw_uring *u = NULL;
    int ret = rw_uring_setup(w, &u);
    if (ret < 0) {
        rw_error("worker %d: io_uring setup failed: %s", w->id, strerror(-ret));
        return -1;
    }
    w->backend = u;
    rw_clock_update(&w->clock);
    uint64_t last_tick = w->clock.now_ms;
    for (int i = 0; i < w->n_listen; i++)
        rw_uring_arm_accept(u, i);
    rw_uring_arm_wake(u);

    bool drained = false;
    uint64_t drained_at = 0;
    int rc = 0;
    for (;;) {
        if (u->stopping && !drained && rw_worker_drained(w)) {
            drained = true;
            drained_at = w->clock.now_ms;
        }
        rw_uring_flush_conns(u);
        if (drained && u->live == 0)
            break;
        /* Bounded even if a conn never goes away (e.g. a send-zc
         * notification that never comes): shutdown timeout + slack. */
        if ((drained && w->clock.now_ms - drained_at > RW_URING_TEARDOWN_MS) ||
            (u->stopping && w->clock.now_ms - u->stop_at >
                                w->cfg->shutdown_timeout_ms + RW_URING_TEARDOWN_MS)) {
            rw_warn("worker %d: %u connections still busy after drain; tearing down", w->id,
                    u->live);
            break;
        }

        struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = (long)RW_TICK_MS * 1000000L };
        struct io_uring_cqe *cqe = NULL;
        ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
        w->stats.submits++;
        w->stats.loop_iterations++;
        if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
            rw_error("worker %d: io_uring wait: %s", w->id, strerror(-ret));
            rc = -1;
            break;
        }
        rw_clock_update(&w->clock);
        rw_uring_reap(u);

        if (w->clock.now_ms - last_tick + RW_TICK_SLACK_MS >= RW_TICK_MS) {
            last_tick = w->clock.now_ms;
            rw_worker_tick(w);
            rw_uring_conn_linger_run(u, true);
            if (u->accept_retry && !u->stopping) {
                u->accept_retry = false;
                for (int i = 0; i < w->n_listen; i++)
                    if (!u->accept_armed[i])
                        rw_uring_arm_accept(u, i);
            }
        }
    }
    w->backend = NULL;
    rw_uring_destroy(u);
    return rc;
}
