/* Per-connection io_uring operations: multishot recv on the provided buffer
 * ring, one send in flight (SEND, SENDMSG, or the zero-copy variants above
 * the threshold), cancellation, graceful/abortive close and the completion
 * side of each. c->io_pending counts every reference the backend holds (an
 * operation in flight, a place on the ENOBUFS or linger list), so a conn is
 * freed only once nothing can reach it any more. */
#include "uring/uring_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/probes.h"

/* ---- lists holding a reference ---- */

static int rw_uring_list_push(rw_uring_connlist *l, rw_conn *c, uint64_t deadline, bool timed)
{
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : RW_URING_LIST_INIT;
        rw_conn **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        if (timed) {
            uint64_t *d = realloc(l->deadline, cap * sizeof(*d));
            if (!d)
                return -1;
            l->deadline = d;
        }
        l->cap = cap;
    }
    if (timed)
        l->deadline[l->n] = deadline;
    l->v[l->n++] = c;
    c->io_pending++;
    return 0;
}

void rw_uring_connlist_free(rw_uring_connlist *l)
{
    free(l->v);
    free(l->deadline);
    memset(l, 0, sizeof(*l));
}

/* ---- closing ---- */

static void rw_uring_release(rw_uring *u, rw_conn *c)
{
    u->live--; /* rw_conn_free() also unlinks it from the flush list */
    rw_conn_free(c);
}

/* Moves a conn that is being closed forward: issue the close once no
 * operation references the fd (a pending send-zc notification references
 * only memory), free once nothing references the conn. */
static void rw_uring_settle(rw_uring *u, rw_conn *c)
{
    uint32_t f = c->io_flags;
    if (!(f & RW_UF_CLOSE))
        return;
    if (f & RW_UF_CLOSED) {
        if (c->io_pending == 0)
            rw_uring_release(u, c);
        return;
    }
    uint32_t fd_refs = c->io_pending - ((f & RW_UF_ZC_NOTIF) ? 1u : 0u);
    if (fd_refs)
        return;
    /* A plain close(): once per connection, never per request, and the
     * conn (and its --max-conns slot) is released in this same iteration
     * instead of one ring round trip later. */
    close(c->fd);
    c->io_flags |= RW_UF_CLOSED;
    if (c->io_pending == 0)
        rw_uring_release(u, c);
}

static void rw_uring_cancel(rw_uring *u, rw_conn *c, unsigned op)
{
    struct io_uring_sqe *sqe = rw_uring_sqe(u);
    if (!sqe)
        return;
    io_uring_prep_cancel64(sqe, rw_uring_ud(c, op), 0);
    io_uring_sqe_set_data64(sqe, rw_uring_ud(c, RW_UOP_CANCEL));
    c->io_pending++;
}

/* Stop everything in flight on the fd; the close follows in settle(). */
static void rw_uring_abort_io(rw_uring *u, rw_conn *c)
{
    uint32_t f = c->io_flags;
    if ((f & RW_UF_SEND) && !(f & RW_UF_SEND_CANCEL)) {
        /* Output is being dropped anyway: make close() reset the socket so
         * unsent data (and a send-zc notification waiting on it, possibly
         * for a peer that never reads) is released at once. */
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    if (f & RW_UF_LINGER) {
        c->io_flags &= ~RW_UF_LINGER;
        u->linger_dirty = true; /* drop its linger-list reference soon */
    }
    if ((f & RW_UF_RECV) && !(f & RW_UF_RECV_CANCEL)) {
        rw_uring_cancel(u, c, RW_UOP_RECV);
        c->io_flags |= RW_UF_RECV_CANCEL;
    }
    if ((f & RW_UF_SEND) && !(f & (RW_UF_ZC_NOTIF | RW_UF_SEND_CANCEL))) {
        rw_uring_cancel(u, c, (f & RW_UF_SEND_IS_ZC) ? RW_UOP_SEND_ZC : RW_UOP_SEND);
        c->io_flags |= RW_UF_SEND_CANCEL;
    }
    rw_uring_settle(u, c);
}

static void rw_uring_arm_recv(rw_uring *u, rw_conn *c)
{
    struct io_uring_sqe *sqe = rw_uring_sqe(u);
    if (!sqe) {
        c->io_flags |= RW_UF_EOF;
        if (!(c->io_flags & RW_UF_CLOSE))
            rw_conn_io_error(c, EBUSY);
        return;
    }
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = RW_URING_BGID;
    io_uring_sqe_set_data64(sqe, rw_uring_ud(c, RW_UOP_RECV));
    c->io_flags = (c->io_flags | RW_UF_RECV) & ~RW_UF_RECV_CANCEL;
    c->io_pending++;
}

/* Graceful: FIN after the queued bytes, then read and discard until the
 * peer's EOF (bounded by RW_URING_LINGER_MS) so unread input does not make
 * close() send an RST. Abortive: cancel and close now. */
static void rw_uring_start_close(rw_uring *u, rw_conn *c, bool graceful)
{
    c->io_flags |= RW_UF_CLOSE;
    if (graceful && !(c->io_flags & RW_UF_EOF)) {
        shutdown(c->fd, SHUT_WR);
        uint64_t deadline = u->w->clock.now_ms + RW_URING_LINGER_MS;
        if (rw_uring_list_push(&u->linger, c, deadline, true) == 0) {
            c->io_flags |= RW_UF_LINGER | RW_UF_LINGER_LIST;
            if (!(c->io_flags & (RW_UF_RECV | RW_UF_WAITBUF)))
                rw_uring_arm_recv(u, c);
            /* An armed recv being cancelled is re-armed when it ends. */
            return;
        }
    }
    rw_uring_abort_io(u, c);
}

/* ---- sending ---- */

static void rw_uring_send(rw_uring *u, rw_conn *c, const struct iovec *iov, int n, size_t bytes)
{
    bool zc = u->use_zc && bytes >= u->zc_threshold && !(c->io_flags & RW_UF_NO_ZC) &&
              !rw_conn_ktls(c) && /* send_zc on kTLS: EOPNOTSUPP (6.1) */
              (n == 1 ? u->feat.send_zc : u->feat.sendmsg_zc);
    rw_uring_sendop *op = NULL;
    if (zc || n > 1) {
        op = rw_pool_get(&u->sendop_pool);
        if (!op) {
            rw_conn_io_error(c, ENOMEM);
            return;
        }
        memset(op, 0, sizeof(*op));
    }
    struct io_uring_sqe *sqe = rw_uring_sqe(u);
    if (!sqe) {
        rw_pool_put(&u->sendop_pool, op);
        rw_conn_io_error(c, EBUSY);
        return;
    }
    if (n == 1) {
        if (zc)
            io_uring_prep_send_zc(sqe, c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL, 0);
        else
            io_uring_prep_send(sqe, c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
        op->msg.msg_iov = (struct iovec *)iov; /* stable until rw_conn_out_done() */
        op->msg.msg_iovlen = (size_t)n;
        if (zc)
            io_uring_prep_sendmsg_zc(sqe, c->fd, &op->msg, MSG_NOSIGNAL);
        else
            io_uring_prep_sendmsg(sqe, c->fd, &op->msg, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data64(sqe, rw_uring_ud(c, zc ? RW_UOP_SEND_ZC : RW_UOP_SEND));
    c->io = op;
    c->io_flags |= RW_UF_SEND | (zc ? RW_UF_SEND_IS_ZC : 0);
    c->io_pending++;
    if (zc)
        u->w->stats.send_zc++;
}

static void rw_uring_send_done(rw_uring *u, rw_conn *c, int res, bool zc)
{
    if (c->io) {
        rw_pool_put(&u->sendop_pool, c->io);
        c->io = NULL;
    }
    c->io_flags &= ~(RW_UF_SEND | RW_UF_SEND_IS_ZC | RW_UF_ZC_NOTIF | RW_UF_SEND_CANCEL);
    c->io_pending--;
    if (c->io_flags & RW_UF_CLOSE) {
        rw_uring_settle(u, c);
        return;
    }
    if (rw_conn_get_state(c) != RW_CONN_DEAD) {
        if (res >= 0) {
            rw_conn_out_done(c, (size_t)res);
        } else if (res == -EAGAIN || res == -EINTR) {
            rw_conn_out_done(c, 0);
        } else if (zc && (res == -EOPNOTSUPP || res == -EINVAL)) {
            c->io_flags |= RW_UF_NO_ZC; /* e.g. a socket type without zc: retry plain */
            rw_conn_out_done(c, 0);
        } else {
            rw_conn_io_error(c, -res);
        }
    }
    rw_conn_schedule(c);
}

/* ---- receiving ---- */

static void rw_uring_recv_cqe(rw_uring *u, rw_conn *c, int res, unsigned flags)
{
    bool more = flags & IORING_CQE_F_MORE;
    bool deliver = !(c->io_flags & RW_UF_CLOSE) && rw_conn_get_state(c) != RW_CONN_DEAD;
    if (flags & IORING_CQE_F_BUFFER) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (res > 0 && bid < u->bufs.nbufs && deliver)
            rw_conn_feed(c, rw_uring_buf_ptr(&u->bufs, bid), (size_t)res); /* counts bytes_in */
        if (bid < u->bufs.nbufs)
            rw_uring_buf_recycle(&u->bufs, bid);
    }
    if (!more) {
        c->io_flags &= ~(RW_UF_RECV | RW_UF_RECV_CANCEL);
        c->io_pending--;
    }
    bool ended = false; /* no more input will come */
    if (res == 0) {
        ended = true;
    } else if (res == -ENOBUFS) {
        u->w->stats.enobufs++;
        RW_PROBE1(enobufs, u->w->id);
        /* Re-armed at the end of this iteration, after buffers went back. */
        if ((!(c->io_flags & RW_UF_CLOSE) || (c->io_flags & RW_UF_LINGER)) &&
            !(c->io_flags & RW_UF_WAITBUF)) {
            if (rw_uring_list_push(&u->waitbuf, c, 0, false) == 0)
                c->io_flags |= RW_UF_WAITBUF;
            else
                ended = true, res = -ENOMEM;
        }
    } else if (res == -EIO && deliver && rw_conn_ktls(c)) {
        /* kTLS: a non-data record (alert, KeyUpdate) is waiting. */
        if (!rw_conn_ktls_control(c))
            c->io_flags |= RW_UF_EOF; /* it ended the input; the conn layer knows */
    } else if (res < 0 && res != -ECANCELED) {
        ended = true;
    }
    if (ended) {
        c->io_flags |= RW_UF_EOF;
        if (deliver) {
            if (res == 0)
                rw_conn_feed_eof(c);
            else
                rw_conn_io_error(c, -res);
        }
    }
    if (c->io_flags & RW_UF_CLOSE) {
        if (c->io_flags & RW_UF_LINGER) {
            if (c->io_flags & RW_UF_EOF)
                rw_uring_abort_io(u, c); /* peer done: close now */
            else if (!more && !(c->io_flags & (RW_UF_RECV | RW_UF_WAITBUF)))
                rw_uring_arm_recv(u, c);
        } else {
            rw_uring_settle(u, c);
        }
        return;
    }
    if (!more)
        rw_conn_schedule(c); /* the flush walk re-arms if it still wants input */
}

/* ---- entry points ---- */

void rw_uring_conn_start(rw_uring *u, rw_conn *c)
{
    c->io_flags = 0;
    c->io_pending = 0;
    c->io = NULL;
    u->live++;
    rw_uring_conn_flush(u, c);
}

void rw_uring_conn_flush(rw_uring *u, rw_conn *c)
{
    uint32_t f = c->io_flags;
    if (f & RW_UF_CLOSE) {
        if ((f & RW_UF_LINGER) && rw_conn_get_state(c) == RW_CONN_DEAD)
            rw_uring_abort_io(u, c); /* drain bound hit: stop lingering */
        return;
    }
    rw_conn_state st = rw_conn_get_state(c);
    if (st == RW_CONN_DEAD) {
        rw_uring_start_close(u, c, false);
        return;
    }
    if (!(f & (RW_UF_SEND | RW_UF_RECV))) {
        rw_conn_io_quiet(c); /* nothing in flight: the kTLS switch may happen now */
        st = rw_conn_get_state(c);
        if (st == RW_CONN_DEAD) {
            rw_uring_start_close(u, c, false);
            return;
        }
    }
    if (!(f & RW_UF_SEND)) {
        const struct iovec *iov;
        size_t bytes = 0;
        int n = rw_conn_out_iov(c, &iov, &bytes);
        if (n > 0) {
            rw_uring_send(u, c, iov, n, bytes);
        } else if (st == RW_CONN_CLOSING && !rw_conn_out_pending(c)) {
            rw_uring_start_close(u, c, true);
            return;
        }
    }
    f = c->io_flags;
    if ((f & RW_UF_EOF) || rw_conn_get_state(c) == RW_CONN_DEAD)
        return;
    if (rw_conn_want_read(c)) {
        if (!(f & (RW_UF_RECV | RW_UF_WAITBUF)))
            rw_uring_arm_recv(u, c);
    } else if ((f & RW_UF_RECV) && !(f & RW_UF_RECV_CANCEL)) {
        /* Data still arriving before the cancel lands is fed normally. */
        rw_uring_cancel(u, c, RW_UOP_RECV);
        c->io_flags |= RW_UF_RECV_CANCEL;
    }
}

void rw_uring_conn_cqe(rw_uring *u, rw_conn *c, unsigned op, int res, unsigned flags)
{
    switch (op) {
    case RW_UOP_RECV:
        rw_uring_recv_cqe(u, c, res, flags);
        break;
    case RW_UOP_SEND:
        rw_uring_send_done(u, c, res, false);
        break;
    case RW_UOP_SEND_ZC:
        if (flags & IORING_CQE_F_NOTIF) {
            /* The kernel let go of the memory: now the bytes count as done. */
            rw_uring_sendop *zop = c->io;
            rw_uring_send_done(u, c, zop ? zop->res : -EIO, true);
        } else if (flags & IORING_CQE_F_MORE) {
            rw_uring_sendop *zop = c->io;
            if (zop)
                zop->res = res;
            c->io_flags |= RW_UF_ZC_NOTIF;
            rw_uring_settle(u, c); /* a close may proceed: the fd is free */
        } else {
            rw_uring_send_done(u, c, res, true);
        }
        break;
    case RW_UOP_CANCEL:
        c->io_pending--;
        rw_uring_settle(u, c);
        break;
    default:
        break;
    }
}

void rw_uring_conn_waitbuf_run(rw_uring *u)
{
    rw_uring_connlist *l = &u->waitbuf;
    for (unsigned i = 0; i < l->n; i++) {
        rw_conn *c = l->v[i];
        c->io_flags &= ~RW_UF_WAITBUF;
        c->io_pending--;
        uint32_t f = c->io_flags;
        if (f & RW_UF_CLOSE) {
            if ((f & RW_UF_LINGER) && !(f & (RW_UF_RECV | RW_UF_EOF)))
                rw_uring_arm_recv(u, c);
            else
                rw_uring_settle(u, c);
        } else if (!(f & (RW_UF_RECV | RW_UF_EOF))) {
            if (rw_conn_get_state(c) == RW_CONN_DEAD)
                rw_conn_schedule(c);
            else if (rw_conn_want_read(c))
                rw_uring_arm_recv(u, c);
        }
    }
    l->n = 0;
}

void rw_uring_conn_linger_run(rw_uring *u, bool tick)
{
    rw_uring_connlist *l = &u->linger;
    uint64_t now = u->w->clock.now_ms;
    u->linger_dirty = false;
    for (unsigned i = 0; i < l->n;) {
        rw_conn *c = l->v[i];
        bool done = !(c->io_flags & RW_UF_LINGER) || (tick && now >= l->deadline[i]);
        if (!done) {
            i++;
            continue;
        }
        l->n--;
        l->v[i] = l->v[l->n];
        l->deadline[i] = l->deadline[l->n];
        c->io_flags &= ~RW_UF_LINGER_LIST;
        c->io_pending--;
        rw_uring_abort_io(u, c);
    }
    u->linger_dirty = false;
}
