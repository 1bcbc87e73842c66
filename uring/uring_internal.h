/* io_uring backend internals: shared by uring_probe.c (flags, features),
 * bufring.c (provided buffer ring), uring_conn.c (per-connection operations)
 * and uring_loop.c (the worker loop). Nothing here is used outside uring/. */
#ifndef RW_URING_INTERNAL_H
#define RW_URING_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conn/conn.h"
#include "conn/worker.h"
#include "core/pool.h"

/* CQ ring = SQ entries * this: multishot recv/accept post many CQEs per SQE. */
#define RW_URING_CQ_FACTOR 8
/* Buffer group id of the per-thread provided buffer ring. */
#define RW_URING_BGID 0
/* Kernel limit on provided-buffer ring entries. */
#define RW_URING_MAX_BUFS 32768u
/* After shutdown(SHUT_WR) of a gracefully closed conn, read and discard input
 * for at most this long before close(), so unread input does not turn the
 * close into an RST that could destroy the response in flight. */
#define RW_URING_LINGER_MS 2000
/* After the conn layer reports drained, wait at most this long for the last
 * cancellations/closes (and send-zc notifications) before tearing down. */
#define RW_URING_TEARDOWN_MS 5000
/* Spare send-op objects kept per thread. */
#define RW_URING_SENDOP_POOL_MAX 256
/* Initial capacity of the ENOBUFS wait list and the linger list. */
#define RW_URING_LIST_INIT 64

/* ---- user_data: pointer | op in the 3 low bits (conns are 8-aligned) ---- */
enum rw_uring_op {
    RW_UOP_IGNORE = 0,  /* completions we do not care about (e.g. cancel of an accept) */
    RW_UOP_ACCEPT = 1,  /* upper bits: listener index << 3 */
    RW_UOP_RECV = 2,    /* conn */
    RW_UOP_SEND = 3,    /* conn: SEND / SENDMSG */
    RW_UOP_SEND_ZC = 4, /* conn: SEND_ZC / SENDMSG_ZC (+ notification CQE) */
    RW_UOP_CANCEL = 5,  /* conn: ASYNC_CANCEL issued for it */
    RW_UOP_UNUSED = 6,  /* free */
    RW_UOP_WAKE = 7,    /* poll on the worker's wake eventfd */
};
#define RW_UOP_MASK 7u

static inline uint64_t rw_uring_ud(const void *p, unsigned op)
{
    return (uint64_t)(uintptr_t)p | op;
}
static inline unsigned rw_uring_ud_op(uint64_t ud) { return (unsigned)(ud & RW_UOP_MASK); }
static inline void *rw_uring_ud_ptr(uint64_t ud) { return (void *)(uintptr_t)(ud & ~(uint64_t)RW_UOP_MASK); }

/* ---- per-conn state in c->io_flags (c->io_pending counts references) ---- */
enum {
    RW_UF_RECV = 1u << 0,        /* multishot recv armed (1 io_pending) */
    RW_UF_RECV_CANCEL = 1u << 1, /* cancel for that recv issued */
    RW_UF_SEND = 1u << 2,        /* send in flight (1 io_pending, until the notif for zc) */
    RW_UF_ZC_NOTIF = 1u << 3,    /* send-zc result in, notification still due */
    RW_UF_SEND_CANCEL = 1u << 4, /* cancel for that send issued */
    RW_UF_WAITBUF = 1u << 5,     /* on the ENOBUFS wait list (1 io_pending) */
    RW_UF_EOF = 1u << 6,         /* recv saw EOF/error: never re-arm */
    RW_UF_CLOSE = 1u << 7,       /* close decided: conn layer no longer called */
    RW_UF_CLOSED = 1u << 9,      /* fd closed: free when io_pending == 0 */
    RW_UF_LINGER = 1u << 10,     /* SHUT_WR sent, discarding input until EOF */
    RW_UF_LINGER_LIST = 1u << 11,/* on the linger list (1 io_pending) */
    RW_UF_NO_ZC = 1u << 12,      /* send-zc refused on this socket: plain sends */
    RW_UF_SEND_IS_ZC = 1u << 13, /* the send in flight is SEND_ZC/SENDMSG_ZC */
};

/* Kernel features the backend relies on or can use. */
typedef struct rw_uring_features {
    bool probed;
    unsigned setup_flags;     /* the flags that worked (without CQSIZE/CLAMP) */
    unsigned wanted_flags;    /* what we asked for first */
    unsigned kernel_features; /* io_uring_params.features */
    bool multishot_accept;
    bool multishot_recv;
    bool pbuf_ring;
    bool send_zc;             /* IORING_OP_SEND_ZC */
    bool sendmsg_zc;          /* IORING_OP_SENDMSG_ZC */
} rw_uring_features;

/* Set once by rw_uring_probe() on the main thread before workers start. */
extern rw_uring_features rw_uring_feat;

/* Creates a ring with the best flags for cfg, falling back step by step.
 * *used receives the setup flags that worked. 0 or -errno. */
int rw_uring_ring_open(struct io_uring *ring, const rw_config *cfg, unsigned *used);
/* Fills f (ring flags, opcodes, functional multishot checks). 0 or -errno. */
int rw_uring_features_detect(const rw_config *cfg, rw_uring_features *f);

/* ---- provided buffer ring (bufring.c) ---- */
typedef struct rw_uring_bufring {
    struct io_uring_buf_ring *br;
    char *mem;
    unsigned nbufs, size, mask;
    unsigned to_return; /* added since the last advance */
    bool registered;
} rw_uring_bufring;

int rw_uring_bufring_init(rw_uring_bufring *b, struct io_uring *ring, unsigned nbufs,
                          unsigned size, unsigned bgid);
static inline char *rw_uring_buf_ptr(rw_uring_bufring *b, unsigned bid)
{
    return b->mem + (size_t)bid * b->size;
}
/* Queue buffer bid for return; visible to the kernel at the next flush. */
static inline void rw_uring_buf_recycle(rw_uring_bufring *b, unsigned bid)
{
    io_uring_buf_ring_add(b->br, rw_uring_buf_ptr(b, bid), b->size, (unsigned short)bid,
                          b->mask, (int)b->to_return++);
}
static inline void rw_uring_buf_flush(rw_uring_bufring *b)
{
    if (b->to_return) {
        io_uring_buf_ring_advance(b->br, (int)b->to_return);
        b->to_return = 0;
    }
}
void rw_uring_bufring_destroy(rw_uring_bufring *b, struct io_uring *ring, unsigned bgid);

/* ---- a conn list holding one io_pending reference per entry ---- */
typedef struct rw_uring_connlist {
    rw_conn **v;
    uint64_t *deadline; /* linger list only */
    unsigned n, cap;
} rw_uring_connlist;

/* A send in flight that needs more than the conn struct: a msghdr for
 * several iovecs, or the result of a zero-copy send kept until its notif. */
typedef struct rw_uring_sendop {
    struct msghdr msg;
    int32_t res;
} rw_uring_sendop;

/* Per-worker backend state (w->backend). */
typedef struct rw_uring {
    struct io_uring ring;
    rw_worker *w;
    rw_uring_bufring bufs;
    rw_uring_features feat;
    bool use_zc;
    unsigned zc_threshold;
    rw_pool sendop_pool;
    rw_uring_connlist waitbuf; /* conns whose recv hit ENOBUFS */
    rw_uring_connlist linger;  /* gracefully closing conns */
    bool linger_dirty;         /* a lingering conn finished: scan soon */
    bool accept_armed[RW_MAX_LISTEN];
    bool accept_retry;         /* re-arm failed accepts at the next tick */
    bool wake_armed;
    bool stopping;             /* wake seen: accepts cancelled, draining */
    uint64_t stop_at;          /* clock.now_ms when stopping began */
    unsigned live;             /* conns handed out by rw_conn_new, not yet freed */
} rw_uring;

/* uring_loop.c: the worker's backend state for w->cfg (0 or -errno), and
 * its teardown. One loop iteration is rw_uring_flush_conns(), one
 * submit-and-wait, rw_uring_reap(); tests drive the same steps. */
int rw_uring_setup(rw_worker *w, rw_uring **out);
void rw_uring_destroy(rw_uring *u);
/* Hands every ready CQE to its owner, then returns the provided buffers;
 * the number of CQEs. */
unsigned rw_uring_reap(rw_uring *u);
/* Lets the backend act on every conn on the flush list, re-arms recvs that
 * waited for buffers and closes lingering conns that are done. */
void rw_uring_flush_conns(rw_uring *u);

/* SQE from the ring, submitting first when the SQ is full. Never NULL
 * unless the ring is broken. */
struct io_uring_sqe *rw_uring_sqe(rw_uring *u);

/* uring_conn.c */
void rw_uring_conn_start(rw_uring *u, rw_conn *c);
void rw_uring_conn_flush(rw_uring *u, rw_conn *c);
void rw_uring_conn_cqe(rw_uring *u, rw_conn *c, unsigned op, int res, unsigned flags);
/* End of a loop iteration: re-arm conns that waited for buffers, close
 * lingering conns that are done (or all expired ones when tick is true). */
void rw_uring_conn_waitbuf_run(rw_uring *u);
void rw_uring_conn_linger_run(rw_uring *u, bool tick);
void rw_uring_connlist_free(rw_uring_connlist *l);

#endif
