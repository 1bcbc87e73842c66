/* The seam between an I/O backend and the protocol engines.
 *
 * A backend (src/epoll/, uring/) only moves bytes:
 *   - accepted fd        -> rw_conn_new() (NULL: refused, call rw_conn_refuse())
 *   - bytes received     -> rw_conn_feed()   (bytes valid only during the call)
 *   - peer EOF           -> rw_conn_feed_eof()
 *   - socket error       -> rw_conn_io_error()
 *   - after each batch of events: for every conn from rw_worker_next_flush(),
 *       state DEAD               -> close the socket now, then rw_conn_free()
 *       rw_conn_out_iov() > 0    -> write those iovecs; when the write
 *                                   completes call rw_conn_out_done(n)
 *       state CLOSING and no output pending -> shutdown+close, rw_conn_free()
 *       rw_conn_want_read() flips -> stop / resume reading
 * Above the seam, the connection runs one protocol engine at a time through
 * a table of functions (conn/engine.h); it never names an engine.
 *
 * Syscalls: moving request and response bytes is the backend's alone; the
 * connection appends to its output queue and puts itself on the worker's
 * flush list whenever the backend must look at it (new output, state
 * change, reading resumed). The connection layer makes a syscall only off
 * that path: rw_conn_refuse() (send/shutdown/close of an fd it will not
 * take), the TLS stage's switch to kernel TLS and kTLS control records
 * (tls_layer.c -> ktls/: setsockopt, recvmsg), and the worker's mailbox
 * (mailbox.c: the eventfd write/read that wakes another worker).
 *
 * Memory: an idle keep-alive connection holds only this struct; the input
 * buffer (for a head split across reads) and the output buffer are taken from
 * per-thread pools while in use and given back when empty. */
#ifndef RW_CONN_CONN_H
#define RW_CONN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/dlist.h"

struct rw_worker;
struct rw_inbuf;
struct rw_outbuf;
struct rw_engine;

typedef enum rw_conn_state {
    RW_CONN_ACTIVE = 0,  /* reading and answering */
    RW_CONN_CLOSING = 1, /* finish writing queued output, then close */
    RW_CONN_DEAD = 2,    /* close now; queued output is dropped */
} rw_conn_state;

/* Which timer list a connection is on (each conn is on exactly one). */
typedef enum rw_conn_timer {
    RW_TIMER_HEADER = 0, /* waiting for (the rest of) a request head */
    RW_TIMER_IDLE = 1,   /* keep-alive, between requests */
    RW_TIMER_BUSY = 2,   /* body, response or output in progress: write-progress timeout */
    RW_TIMER_COUNT
} rw_conn_timer;

typedef struct rw_conn {
    struct rw_worker *w;
    int fd;
    uint8_t state;       /* rw_conn_state */
    uint8_t timer;       /* rw_conn_timer */
    uint8_t on_flush;    /* queued on the worker's flush list */
    uint8_t read_paused; /* last value reported by rw_conn_want_read() */
    uint32_t flags;      /* RW_CONNF_* */
    uint64_t deadline_ms;
    rw_dlist timer_link;
    struct rw_conn *flush_next;
    struct rw_inbuf *in;   /* NULL unless a partial request is buffered */
    struct rw_outbuf *out; /* NULL unless output is queued */
    const struct rw_engine *engine; /* the protocol engine (conn/engine.h) */
    void *session;         /* the engine's state; NULL when it holds none */
    struct rw_tls_conn *tls; /* TLS stage (conn/tls_layer.h); NULL: plain or kTLS */
    uint32_t requests;     /* served on this connection */
    /* Backend-private fields: the conn layer never touches these. */
    uint32_t io_flags;
    uint32_t io_pending;   /* e.g. io_uring operations in flight */
    void *io;
} rw_conn;

/* Idle memory per connection is a benchmark row: keep the object in two
 * cache lines. */
#define RW_CONN_SIZE_MAX 128
_Static_assert(sizeof(rw_conn) <= RW_CONN_SIZE_MAX, "rw_conn grew past two cache lines");

enum {
    RW_CONNF_EOF = 1u << 0,        /* peer half-closed */
    RW_CONNF_DRAINING = 1u << 1,   /* server shutting down: no new requests */
    RW_CONNF_KTLS = 1u << 16,      /* kernel TLS owns the socket's records */
    RW_CONNF_KTLS_CLOSED = 1u << 17, /* our close_notify went out under kTLS */
};

rw_conn *rw_conn_new(struct rw_worker *w, int fd);
/* Clean refusal of an fd we cannot take (max-conns, OOM): best-effort 503
 * with Connection: close, then close(fd). The one syscall path here. */
void rw_conn_refuse(struct rw_worker *w, int fd);

void rw_conn_feed(rw_conn *c, const char *data, size_t len);
void rw_conn_feed_eof(rw_conn *c);
void rw_conn_io_error(rw_conn *c, int err);

/* Pending output as an iovec array owned by the connection, stable (array
 * and bytes) until the matching rw_conn_out_done(). Returns the iovec count
 * (0 = nothing to write) and the byte total in *bytes. Only one write may be
 * outstanding per connection: call again only after rw_conn_out_done(). */
int rw_conn_out_iov(rw_conn *c, const struct iovec **iov, size_t *bytes);
/* n bytes (<= the total handed out) reached the socket. */
void rw_conn_out_done(rw_conn *c, size_t n);
bool rw_conn_out_pending(const rw_conn *c);

bool rw_conn_want_read(rw_conn *c);
static inline rw_conn_state rw_conn_get_state(const rw_conn *c) { return (rw_conn_state)c->state; }

/* Marks the conn for the backend's attention (idempotent). */
void rw_conn_schedule(rw_conn *c);
/* Switch state (never backwards) and schedule. */
void rw_conn_set_state(rw_conn *c, rw_conn_state s);

/* Backend is done with the socket (closed, no operation in flight). Releases
 * buffers, ends any streaming response, returns the object to the pool. */
void rw_conn_free(rw_conn *c);

/* TLS (conn/tls_layer.c, docs/tls.md). The backend calls rw_conn_io_quiet()
 * whenever neither a read nor a write is in flight on the socket: the switch
 * to kernel TLS happens only there. On a kTLS socket (rw_conn_ktls()) a recv
 * failing with EIO means a non-data record: call rw_conn_ktls_control(),
 * which reads it and acts (false: input has ended). Never send_zc there. */
void rw_tls_conn_io_quiet(rw_conn *c);
static inline void rw_conn_io_quiet(rw_conn *c)
{
    if (c->tls)
        rw_tls_conn_io_quiet(c);
}
static inline bool rw_conn_ktls(const rw_conn *c) { return (c->flags & RW_CONNF_KTLS) != 0; }
bool rw_conn_ktls_control(rw_conn *c);

#endif
