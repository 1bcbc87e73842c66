/* The epoll backend: the readiness-based twin of the io_uring backend, tuned
 * with the same care so comparisons between them are fair.
 *
 *  - one epoll set per worker, its own SO_REUSEPORT listeners (level-
 *    triggered, accepted in bounded batches);
 *  - connections registered once, edge-triggered for IN|OUT|RDHUP: no
 *    epoll_ctl per request;
 *  - reads go into one per-thread buffer (the conn layer copies only what it
 *    must keep); a short read means the socket is drained, which saves the
 *    extra recv() that would only return EAGAIN;
 *  - writes happen right after each batch of events, without waiting for
 *    EPOLLOUT; only a partial write waits for the next EPOLLOUT edge. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn.h"
#include "conn/worker.h"
#include "conn/mailbox.h"
#include "core/log.h"

#define RW_EPOLL_MAX_EVENTS 256
#define RW_EPOLL_ACCEPT_BATCH 64       /* accepts per listener event: keeps the loop fair */
#define RW_EPOLL_ACCEPT_BACKOFF_MS 100 /* pause accepting after EMFILE & co. */
#define RW_EPOLL_CLOSE_DRAIN_READS 4   /* recv()s to empty the queue before close */

/* epoll_event.data tags: connections are stored as pointers (low bits 0). */
#define TAG_MASK 3u
#define TAG_LISTEN 1u /* (index << 2) | TAG_LISTEN */
#define TAG_WAKE 2u

/* rw_conn.io_flags bits owned by this backend. */
enum {
    EPF_READABLE = 1u << 0, /* unread data may be queued in the socket */
    EPF_RDHUP = 1u << 1,    /* peer FIN seen: read until recv() returns 0 */
    EPF_BLOCKED = 1u << 2,  /* send buffer full: wait for EPOLLOUT */
};

typedef struct ep_loop {
    rw_worker *w;
    int epfd;
    char *rxbuf;
    size_t rxcap;
    bool own_rxbuf;
    bool accept_paused;
    uint64_t accept_resume_ms;
    struct epoll_event events[RW_EPOLL_MAX_EVENTS];
} ep_loop;

static int ep_add(ep_loop *e, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    return epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void listeners_register(ep_loop *e, bool on)
{
    rw_worker *w = e->w;
    for (int i = 0; i < w->n_listen; i++) {
        if (w->listen_fds[i] < 0)
            continue;
        if (on) {
            if (ep_add(e, w->listen_fds[i], EPOLLIN, ((uint64_t)i << 2) | TAG_LISTEN) < 0)
                rw_error("worker %d: epoll_ctl(listener): %s", w->id, strerror(errno));
        } else {
            epoll_ctl(e->epfd, EPOLL_CTL_DEL, w->listen_fds[i], NULL);
        }
    }
}

/* ---- reading --------------------------------------------------------------- */

static void ep_read(ep_loop *e, rw_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, e->rxbuf, e->rxcap, 0);
        if (n > 0) {
            rw_conn_feed(c, e->rxbuf, (size_t)n);
            if ((size_t)n < e->rxcap && !(c->io_flags & EPF_RDHUP)) {
                /* Queue emptied; new data raises a new edge. */
                c->io_flags &= ~EPF_READABLE;
                return;
            }
            if (c->state != RW_CONN_ACTIVE || !rw_conn_want_read(c))
                return; /* EPF_READABLE stays: resumed from the flush list */
            continue;
        }
        if (n == 0) {
            c->io_flags &= ~EPF_READABLE;
            rw_conn_feed_eof(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EIO && rw_conn_ktls(c)) {
            /* kTLS: a non-data record (alert, KeyUpdate) is waiting. */
            if (rw_conn_ktls_control(c) && c->state == RW_CONN_ACTIVE && rw_conn_want_read(c))
                continue;
            if (c->state != RW_CONN_ACTIVE)
                c->io_flags &= ~EPF_READABLE;
            return;
        }
        c->io_flags &= ~EPF_READABLE;
        if (errno != EAGAIN)
            rw_conn_io_error(c, errno);
        return;
    }
}

/* ---- writing and closing ------------------------------------------------------ */

static void ep_write(ep_loop *e, rw_conn *c)
{
    rw_worker *w = e->w;
    for (;;) {
        const struct iovec *iov;
        size_t total;
        int n = rw_conn_out_iov(c, &iov, &total);
        if (n <= 0)
            return;
        ssize_t r;
        if (n == 1) {
            r = send(c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else {
            struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
            r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        }
        w->stats.submits++;
        if (r >= 0) {
            rw_conn_out_done(c, (size_t)r);
            if ((size_t)r < total) {
                c->io_flags |= EPF_BLOCKED; /* the next EPOLLOUT edge resumes */
                return;
            }
            continue; /* more may have been queued (streams, pipelined requests) */
        }
        int err = errno;
        rw_conn_out_done(c, 0);
        if (err == EINTR)
            continue;
        if (err == EAGAIN) {
            c->io_flags |= EPF_BLOCKED;
            return;
        }
        rw_conn_io_error(c, err);
        return;
    }
}

static void ep_close(ep_loop *e, rw_conn *c, bool graceful)
{
    if (graceful) {
        shutdown(c->fd, SHUT_WR);
        /* Unread input at close() makes the kernel send RST, which can destroy
         * the response still in flight to the peer: drain what is queued. */
        for (int i = 0; i < RW_EPOLL_CLOSE_DRAIN_READS && (c->io_flags & EPF_READABLE); i++) {
            ssize_t n = recv(c->fd, e->rxbuf, e->rxcap, 0);
            if (n <= 0 && !(n < 0 && errno == EINTR))
                break;
        }
    }
    close(c->fd); /* also removes it from the epoll set */
    rw_conn_free(c);
}

/* One connection taken from the flush list. */
static void ep_service(ep_loop *e, rw_conn *c)
{
    if (c->state == RW_CONN_ACTIVE)
        rw_conn_io_quiet(c); /* no I/O in flight here: the kTLS switch may happen */
    if (c->state == RW_CONN_ACTIVE && (c->io_flags & EPF_READABLE) && rw_conn_want_read(c))
        ep_read(e, c); /* reading resumed with data left in the socket */
    if (c->state != RW_CONN_DEAD && !(c->io_flags & EPF_BLOCKED))
        ep_write(e, c);
    if (c->state == RW_CONN_DEAD)
        ep_close(e, c, false);
    else if (c->state == RW_CONN_CLOSING && !rw_conn_out_pending(c))
        ep_close(e, c, true);
}

static void ep_flush(ep_loop *e)
{
    rw_conn *c;
    while ((c = rw_worker_next_flush(e->w)))
        ep_service(e, c);
}

/* ---- events ---------------------------------------------------------------- */

static void ep_conn_event(ep_loop *e, rw_conn *c, uint32_t ev)
{
    if (c->state == RW_CONN_DEAD)
        return; /* already queued for closing */
    if (ev & EPOLLERR) {
        int so = 0;
        socklen_t sl = sizeof so;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl);
        rw_conn_io_error(c, so ? so : ECONNRESET);
        return;
    }
    if (ev & (EPOLLRDHUP | EPOLLHUP))
        c->io_flags |= EPF_RDHUP;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        c->io_flags |= EPF_READABLE;
        if (c->state == RW_CONN_ACTIVE && rw_conn_want_read(c))
            ep_read(e, c);
    }
    if ((ev & EPOLLOUT) && (c->io_flags & EPF_BLOCKED)) {
        c->io_flags &= ~EPF_BLOCKED;
        rw_conn_schedule(c); /* written in the flush walk after this batch */
    }
}

static void ep_accept(ep_loop *e, int idx)
{
    rw_worker *w = e->w;
    int lfd = w->listen_fds[idx];
    for (int i = 0; i < RW_EPOLL_ACCEPT_BATCH; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN)
                return;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM)
                continue;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                /* Level-triggered listeners would spin: back off for a moment. */
                rw_warn("worker %d: accept: %s; pausing accepts for %d ms", w->id,
                        strerror(err), RW_EPOLL_ACCEPT_BACKOFF_MS);
                listeners_register(e, false);
                e->accept_paused = true;
                e->accept_resume_ms = w->clock.now_ms + RW_EPOLL_ACCEPT_BACKOFF_MS;
                return;
            }
            rw_error("worker %d: accept: %s", w->id, strerror(err));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        rw_conn *c = rw_conn_new(w, fd);
        if (!c) {
            rw_conn_refuse(w, fd);
            continue;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                  .data.ptr = c };
        if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            rw_conn_io_error(c, errno); /* closed and freed by the flush walk */
    }
}

static void ep_begin_drain(ep_loop *e)
{
    rw_worker *w = e->w;
    if (w->draining)
        return;
    /* Closing our listeners lets the kernel steer new connections to
     * workers that still accept (or refuse them once all have stopped). */
    for (int i = 0; i < w->n_listen; i++) {
        if (w->listen_fds[i] >= 0)
            close(w->listen_fds[i]);
        w->listen_fds[i] = -1;
    }
    w->n_listen = 0;
    e->accept_paused = false;
    rw_worker_drain(w);
}

static void ep_wake(ep_loop *e)
{
    /* Shutdown request and/or cross-thread mail (conn/mailbox.h). */
    if (rw_worker_wake(e->w))
        ep_begin_drain(e);
}

static void ep_dispatch(ep_loop *e, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t d = e->events[i].data.u64;
        switch (d & TAG_MASK) {
        case 0:
            ep_conn_event(e, (rw_conn *)(uintptr_t)d, e->events[i].events);
            break;
        case TAG_LISTEN:
            if (!e->w->draining && !e->accept_paused)
                ep_accept(e, (int)(d >> 2));
            break;
        case TAG_WAKE:
            ep_wake(e);
            break;
        default:
            break;
        }
    }
}

/* ---- the loop ------------------------------------------------------------------ */

static int ep_setup(ep_loop *e, rw_worker *w)
{
    memset(e, 0, sizeof *e);
    e->w = w;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0) {
        rw_error("worker %d: epoll_create1: %s", w->id, strerror(errno));
        return -1;
    }
    e->rxcap = w->cfg->buf_size;
    if (!w->rxbuf) {
        w->rxbuf = malloc(e->rxcap);
        if (!w->rxbuf) {
            rw_error("worker %d: out of memory for the receive buffer", w->id);
            return -1;
        }
        e->own_rxbuf = true;
    }
    e->rxbuf = w->rxbuf;
    if (ep_add(e, w->wake_fd, EPOLLIN, TAG_WAKE) < 0) {
        rw_error("worker %d: epoll_ctl(wake): %s", w->id, strerror(errno));
        return -1;
    }
    listeners_register(e, true);
    return 0;
}

static void ep_teardown(ep_loop *e)
{
    rw_worker *w = e->w;
    if (e->epfd >= 0)
        close(e->epfd);
    if (e->own_rxbuf) {
        free(w->rxbuf);
        w->rxbuf = NULL;
    }
}

int rw_epoll_worker_run(rw_worker *w)
{
    ep_loop *e = malloc(sizeof *e); /* the event array is too big for a thread stack */
    if (!e) {
        rw_error("worker %d: out of memory", w->id);
        return -1;
    }
    if (ep_setup(e, w) < 0) {
        ep_teardown(e);
        free(e);
        return -1;
    }
    int rc = 0;
    uint64_t last_tick = 0;
    for (;;) {
        int timeout = w->flush_head ? 0 : RW_TICK_MS;
        int n = epoll_wait(e->epfd, e->events, RW_EPOLL_MAX_EVENTS, timeout);
        w->stats.loop_iterations++;
        rw_clock_update(&w->clock);
        if (n < 0) {
            if (errno != EINTR) {
                rw_error("worker %d: epoll_wait: %s", w->id, strerror(errno));
                rc = -1;
                break;
            }
            n = 0;
        }
        w->stats.completions += (uint64_t)n;
        ep_dispatch(e, n);

        /* Backstop for a stop request whose eventfd write was lost. */
        if (!w->draining &&
            atomic_load_explicit(w->stop, memory_order_relaxed))
            ep_begin_drain(e);
        if (e->accept_paused && w->clock.now_ms >= e->accept_resume_ms) {
            e->accept_paused = false;
            listeners_register(e, true);
        }
        if (w->clock.now_ms - last_tick + RW_TICK_SLACK_MS >= RW_TICK_MS) { /* as io_uring */
            last_tick = w->clock.now_ms;
            rw_worker_tick(w);
        }
        ep_flush(e);
        if (w->draining) {
            if (rw_worker_drained(w))
                break;
            if (w->flush_head) { /* the drain bound just made the rest DEAD */
                ep_flush(e);
                if (rw_worker_drained(w))
                    break;
            }
        }
    }
    rw_debug("worker %d: epoll loop done (%u connections left)", w->id, w->nconns);
    ep_teardown(e);
    free(e);
    return rc;
}
