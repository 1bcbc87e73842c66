/* The io_uring per-connection state machine (uring/uring_conn.c) on a real
 * ring, a real provided-buffer ring and real loopback TCP sockets: the test
 * plays the client and runs the worker loop's own steps (flush the conns,
 * submit and wait, reap the CQEs), peeking at each CQE before the backend
 * handles it. Covers recv feeding requests, short sends, peer EOF, a reset,
 * ENOBUFS and the re-arm, graceful close with lingering (peer EOF and
 * deadline), abortive close with a recv and a send in flight (the conn is
 * freed only after its last completion), and zero-copy sends. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/server.h"
#include "check.h"
#include "conn/conn.h"
#include "conn/worker.h"
#include "uring/uring_internal.h"

/* Provided buffers: few and small, so a request body runs the ring dry. */
#define TEST_BUFS 2
#define TEST_BUF_SIZE 128
/* Body of /big: far more than the small socket buffers below hold. */
#define BIG_LEN (2u << 20)
/* Body of /mid: more than the small socket buffers hold, less than the
 * output high-water mark, so the conn keeps reading while it is sent. */
#define MID_LEN 60000
/* Send/receive buffer asked for on the sockets of the short-write cases
 * (the kernel doubles it). */
#define SMALL_SOCKBUF 4096
/* Body POSTed to /echo: many times TEST_BUFS * TEST_BUF_SIZE. */
#define ECHO_LEN 16384
/* One loop step waits at most this long; a case gives up after MAX_STEPS. */
#define STEP_WAIT_MS 10
#define MAX_STEPS 500
/* Steps a case keeps running to see that nothing else happens. */
#define QUIET_STEPS 5
#define LOG_MAX 4096
#define CLIENT_CAP (BIG_LEN + 4096)

static rw_server srv;
static rw_worker wk;
static rw_uring *u;
static int lfd = -1;
static char *big_body;

/* ---- handlers ---- */

static void h_plain(rw_request *r, void *ud)
{
    (void)ud;
    rw_respond(r, 200, NULL, 0, "Hello, World!", 13);
}

static void h_big(rw_request *r, void *ud)
{
    (void)ud;
    rw_respond(r, 200, NULL, 0, big_body, BIG_LEN);
}

static void h_mid(rw_request *r, void *ud)
{
    (void)ud;
    rw_respond(r, 200, NULL, 0, big_body, MID_LEN);
}

static void h_echo(rw_request *r, void *ud)
{
    (void)ud;
    rw_str b = rw_req_body(r);
    rw_respond(r, 200, NULL, 0, b.p, b.n);
}

/* ---- the loop, and a log of every CQE it reaped ---- */

typedef struct seen_cqe {
    void *conn;
    unsigned op;
    int res;
    unsigned flags;
} seen_cqe;
static seen_cqe seen[LOG_MAX];
static unsigned nseen;

static void log_cqe(const struct io_uring_cqe *cqe)
{
    if (nseen < LOG_MAX)
        seen[nseen++] = (seen_cqe){ rw_uring_ud_ptr(cqe->user_data),
                                    rw_uring_ud_op(cqe->user_data), cqe->res, cqe->flags };
}

/* The first half of a loop iteration: act on the flushed conns, submit,
 * wait for a CQE (or STEP_WAIT_MS). */
static void flush_and_wait(void)
{
    rw_uring_flush_conns(u);
    struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = STEP_WAIT_MS * 1000000L };
    struct io_uring_cqe *cqe = NULL;
    io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
    rw_clock_update(&wk.clock);
}

/* One iteration of rw_uring_worker_run() without accept, wake and tick. */
static void step(void)
{
    flush_and_wait();
    struct io_uring_cqe *cqe;
    unsigned head;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        log_cqe(cqe);
    }
    rw_uring_reap(u);
}

/* Takes one CQE the way rw_uring_reap() does for a conn's operation (only
 * conns have operations in flight here), so a case can look between two
 * completions of one batch. False when none is ready. */
static bool reap_one(void)
{
    struct io_uring_cqe *cqe;
    if (io_uring_peek_cqe(&u->ring, &cqe) != 0)
        return false;
    log_cqe(cqe);
    io_uring_cqe_seen(&u->ring, cqe);
    const seen_cqe *e = &seen[nseen - 1];
    rw_uring_conn_cqe(u, e->conn, e->op, e->res, e->flags);
    rw_uring_buf_flush(&u->bufs);
    return true;
}

/* Index of the first logged CQE at or after from for conn c with op (and
 * res, unless any_res), or -1. */
static int find_cqe(unsigned from, const rw_conn *c, unsigned op, bool any_res, int res)
{
    for (unsigned i = from; i < nseen; i++)
        if (seen[i].conn == c && seen[i].op == op && (any_res || seen[i].res == res))
            return (int)i;
    return -1;
}

/* CQEs for c from index from on that end one of its references: a recv or
 * send without F_MORE, a zero-copy notification, a cancel. */
static unsigned count_ref_ends(unsigned from, const rw_conn *c)
{
    unsigned n = 0;
    for (unsigned i = from; i < nseen; i++) {
        if (seen[i].conn != c)
            continue;
        if (seen[i].op == RW_UOP_CANCEL)
            n++;
        else if (seen[i].op == RW_UOP_SEND_ZC)
            n += (seen[i].flags & IORING_CQE_F_NOTIF) || !(seen[i].flags & IORING_CQE_F_MORE);
        else if (seen[i].op == RW_UOP_RECV || seen[i].op == RW_UOP_SEND)
            n += !(seen[i].flags & IORING_CQE_F_MORE);
    }
    return n;
}

/* ---- the client side ---- */

typedef struct client {
    int fd;
    char *buf;
    size_t len;
    bool eof;
    int err; /* errno of a failed recv */
} client;

/* Reads whatever is there without blocking. */
static void pull(client *cl)
{
    while (!cl->eof && !cl->err && cl->len < CLIENT_CAP) {
        ssize_t n = recv(cl->fd, cl->buf + cl->len, CLIENT_CAP - cl->len, MSG_DONTWAIT);
        if (n > 0)
            cl->len += (size_t)n;
        else if (n == 0)
            cl->eof = true;
        else if (errno != EAGAIN && errno != EINTR)
            cl->err = errno;
        else
            break;
    }
}

static void send_all(client *cl, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(cl->fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) {
            CHECK(0, "client send: %s", strerror(errno));
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

static void send_str(client *cl, const char *s) { send_all(cl, s, strlen(s)); }

/* Bytes of the first complete response (head + Content-Length body) in the
 * client buffer, or 0 while it is incomplete. */
static size_t response_len(const client *cl)
{
    const char *end = memmem(cl->buf, cl->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - cl->buf) + 4;
    const char *cl_hdr = memmem(cl->buf, head, "Content-Length: ", 16);
    if (!cl_hdr)
        return 0;
    size_t body = strtoul(cl_hdr + 16, NULL, 10);
    return cl->len >= head + body ? head + body : 0;
}

static const char *response_body(const client *cl)
{
    return (const char *)memmem(cl->buf, cl->len, "\r\n\r\n", 4) + 4;
}

/* A connected client and the conn for the accepted side, started on the
 * ring. small: tiny socket buffers, so big responses need several sends. */
static rw_conn *open_conn(client *cl, int *sfd_out, bool small)
{
    memset(cl, 0, sizeof(*cl));
    cl->buf = malloc(CLIENT_CAP);
    cl->fd = socket(AF_INET, SOCK_STREAM, 0);
    int sz = SMALL_SOCKBUF;
    if (small)
        setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    if (!cl->buf || cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&sa, sl) != 0) {
        CHECK(0, "client connect: %s", strerror(errno));
        return NULL;
    }
    int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0) {
        CHECK(0, "accept: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (small)
        setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    rw_conn *c = rw_conn_new(&wk, sfd);
    CHECK(c != NULL, "rw_conn_new");
    if (!c) {
        close(sfd);
        return NULL;
    }
    rw_uring_conn_start(u, c);
    *sfd_out = sfd;
    return c;
}

static void close_client(client *cl)
{
    if (cl->fd >= 0)
        close(cl->fd);
    cl->fd = -1;
    free(cl->buf);
    cl->buf = NULL;
}

static bool fd_closed(int fd) { return fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

/* Steps until cond holds; false after MAX_STEPS. RUN_UNTIL also reads
 * whatever reached the client after each step. */
#define STEP_UNTIL(cond)                                                                       \
    ({                                                                                         \
        int steps_ = 0;                                                                        \
        while (!(cond) && steps_++ < MAX_STEPS)                                                \
            step();                                                                            \
        (bool)(cond);                                                                          \
    })
#define RUN_UNTIL(cl, cond)                                                                    \
    ({                                                                                         \
        int steps_ = 0;                                                                        \
        while (!(cond) && steps_++ < MAX_STEPS) {                                              \
            step();                                                                            \
            pull(cl);                                                                          \
        }                                                                                      \
        (bool)(cond);                                                                          \
    })

/* Nothing but the recv in flight: a response went out and reading resumed
 * (the conn pauses reading while a large response is queued). */
static bool idle(const rw_conn *c)
{
    return (c->io_flags & (RW_UF_RECV | RW_UF_SEND | RW_UF_WAITBUF)) == RW_UF_RECV;
}

/* One case's connection: client, server fd, conn, and where the CQE log
 * stood once its recv was armed. */
typedef struct tcase {
    client cl;
    int sfd;
    rw_conn *c;
    unsigned log0;
} tcase;

static bool begin(tcase *t, bool small)
{
    t->c = open_conn(&t->cl, &t->sfd, small);
    if (!t->c)
        return false;
    step();
    t->log0 = nseen;
    return true;
}

/* The client closes (the peer EOF that ends a conn left open) and the conn
 * must go away. */
static void finish(tcase *t)
{
    close_client(&t->cl);
    CHECK(STEP_UNTIL(u->live == 0), "conn still live after the client closed");
}

/* Runs the loop one CQE at a time until the conn is freed, which must
 * happen exactly when the last of its refs references (counted in the log
 * from mark) ends. Returns whether its fd was closed while any of them was
 * still due. */
static bool watch_release(const tcase *t, unsigned mark, unsigned refs)
{
    bool closed_first = false;
    for (int steps = 0; u->live && steps < MAX_STEPS; steps++) {
        flush_and_wait();
        while (u->live && reap_one()) {
            unsigned ended = count_ref_ends(mark, t->c);
            if (u->live) {
                CHECK(ended < refs, "all %u references ended but the conn is not freed", ended);
                closed_first |= fd_closed(t->sfd);
            } else {
                CHECK(ended == refs, "freed after %u of %u references ended", ended, refs);
            }
        }
    }
    CHECK(u->live == 0, "conn not freed");
    CHECK(fd_closed(t->sfd), "server fd still open");
    unsigned after = nseen;
    for (int i = 0; i < QUIET_STEPS; i++)
        step();
    CHECK(count_ref_ends(after, t->c) == 0 && find_cqe(after, t->c, RW_UOP_RECV, true, 0) < 0,
          "a completion for the conn after it was freed");
    return closed_first;
}

/* ---- cases ---- */

static const char GET_PLAIN[] = "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
static const char GET_MID[] = "GET /mid HTTP/1.1\r\nHost: t\r\n\r\n";
static const char GET_BIG[] = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";

/* Two keep-alive requests arrive through one multishot recv; after each
 * response only that recv is in flight. */
static void test_recv_feeds_requests(void)
{
    tcase t;
    if (!begin(&t, false))
        return;
    rw_conn *c = t.c;
    CHECK(u->live == 1, "live %u", u->live);
    uint64_t in0 = wk.stats.bytes_in;
    for (int round = 0; round < 2; round++) {
        t.cl.len = 0;
        send_str(&t.cl, GET_PLAIN);
        CHECK(RUN_UNTIL(&t.cl, response_len(&t.cl) > 0), "round %d: no response", round);
        CHECK(t.cl.len > 12 && memcmp(t.cl.buf, "HTTP/1.1 200", 12) == 0, "round %d: %.*s",
              round, (int)(t.cl.len < 40 ? t.cl.len : 40), t.cl.buf);
        CHECK(response_len(&t.cl) && memcmp(response_body(&t.cl), "Hello, World!", 13) == 0,
              "round %d: body", round);
        /* the send's completion is reaped in a later step than the bytes arrive */
        CHECK(RUN_UNTIL(&t.cl, idle(c)), "round %d: not idle: io_flags %#x", round, c->io_flags);
        CHECK_EQ_INT(c->io_pending, 1, "io_pending with only the recv armed");
    }
    CHECK_EQ_INT(wk.stats.bytes_in - in0, 2 * (sizeof(GET_PLAIN) - 1), "bytes fed to the conn");
    int first = find_cqe(t.log0, c, RW_UOP_RECV, true, 0);
    CHECK(first >= 0 && (seen[first].flags & IORING_CQE_F_MORE) &&
              (seen[first].flags & IORING_CQE_F_BUFFER),
          "a multishot recv CQE with a buffer");
    unsigned ends = count_ref_ends(t.log0, c);
    CHECK(ends == 2, "only the two sends ended: %u ends", ends);
    finish(&t);
}

/* The peer half-closes an idle conn: recv completes with 0, the conn layer
 * sees EOF, the socket is closed and the conn freed. */
static void test_peer_eof(void)
{
    tcase t;
    if (!begin(&t, false))
        return;
    shutdown(t.cl.fd, SHUT_WR);
    CHECK(RUN_UNTIL(&t.cl, u->live == 0), "conn not freed after peer EOF");
    CHECK(find_cqe(t.log0, t.c, RW_UOP_RECV, false, 0) >= 0, "recv CQE with res 0");
    CHECK(RUN_UNTIL(&t.cl, t.cl.eof), "client saw no EOF");
    CHECK(fd_closed(t.sfd), "server fd still open");
    close_client(&t.cl);
}

/* The peer resets: recv completes with -ECONNRESET, is not re-armed, and
 * the conn goes away. */
static void test_reset(void)
{
    tcase t;
    if (!begin(&t, false))
        return;
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(t.cl.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close_client(&t.cl); /* RST */
    CHECK(STEP_UNTIL(u->live == 0), "conn not freed after a reset");
    int i = find_cqe(t.log0, t.c, RW_UOP_RECV, false, -ECONNRESET);
    CHECK(i >= 0 && !(seen[i].flags & IORING_CQE_F_MORE), "recv CQE with -ECONNRESET, final");
    CHECK(i >= 0 && find_cqe((unsigned)i + 1, t.c, RW_UOP_RECV, true, 0) < 0,
          "recv re-armed after the reset");
    CHECK(fd_closed(t.sfd), "server fd still open");
}

/* A response larger than the socket buffers: the first send is short, the
 * rest goes out in further sends, every byte arrives once and in order. */
static void test_short_send(void)
{
    tcase t;
    if (!begin(&t, true))
        return;
    rw_conn *c = t.c;
    send_str(&t.cl, GET_BIG);
    /* the client does not read yet: the first send can only fill the buffers */
    STEP_UNTIL(find_cqe(t.log0, c, RW_UOP_SEND, true, 0) >= 0);
    int first = find_cqe(t.log0, c, RW_UOP_SEND, true, 0);
    CHECK(first >= 0 && seen[first].res > 0 && seen[first].res < (int)BIG_LEN,
          "first send is short: res %d", first >= 0 ? seen[first].res : 0);
    CHECK(RUN_UNTIL(&t.cl, response_len(&t.cl) > 0), "response incomplete: %zu bytes", t.cl.len);
    size_t total = response_len(&t.cl);
    CHECK(total > BIG_LEN && total == t.cl.len, "response %zu bytes, read %zu", total, t.cl.len);
    CHECK(total && memcmp(response_body(&t.cl), big_body, BIG_LEN) == 0, "body differs");
    CHECK(RUN_UNTIL(&t.cl, idle(c)), "not idle: io_flags %#x", c->io_flags);
    long sent = 0;
    unsigned sends = 0;
    for (unsigned i = t.log0; i < nseen; i++)
        if (seen[i].conn == c && seen[i].op == RW_UOP_SEND) {
            sends++;
            sent += seen[i].res > 0 ? seen[i].res : 0;
        }
    CHECK(sends >= 2, "sends %u", sends);
    CHECK_EQ_INT(sent, total, "bytes the send CQEs report");
    CHECK_EQ_INT(c->io_pending, 1, "io_pending after the response");
    finish(&t);
}

/* A body far larger than the provided buffers: the multishot recv ends with
 * -ENOBUFS, the conn waits on the list (one reference), is re-armed after the
 * buffers went back, and every body byte still reaches the handler. */
static void test_enobufs_rearm(void)
{
    tcase t;
    char *body = malloc(ECHO_LEN);
    if (!body || !begin(&t, false)) {
        CHECK(body != NULL, "malloc");
        free(body);
        return;
    }
    rw_conn *c = t.c;
    uint64_t enobufs0 = wk.stats.enobufs;
    for (size_t i = 0; i < ECHO_LEN; i++)
        body[i] = (char)('a' + i % 23);
    char head[128];
    int hn = snprintf(head, sizeof(head),
                      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", ECHO_LEN);
    send_all(&t.cl, head, (size_t)hn);
    send_all(&t.cl, body, ECHO_LEN);
    /* look at the wait list's reference right after a reap */
    bool waited = false;
    for (int steps = 0; !waited && steps < MAX_STEPS && response_len(&t.cl) == 0; steps++) {
        step();
        if (c->io_flags & RW_UF_WAITBUF) {
            waited = true;
            CHECK(!(c->io_flags & RW_UF_RECV), "recv still armed while waiting for buffers");
            CHECK_EQ_INT(c->io_pending, 1 + ((c->io_flags & RW_UF_SEND) ? 1 : 0),
                         "io_pending while on the wait list");
        }
        pull(&t.cl);
    }
    CHECK(waited, "never on the ENOBUFS wait list");
    CHECK(wk.stats.enobufs > enobufs0, "enobufs counter");
    int i = find_cqe(t.log0, c, RW_UOP_RECV, false, -ENOBUFS);
    CHECK(i >= 0 && !(seen[i].flags & IORING_CQE_F_MORE), "final recv CQE with -ENOBUFS");
    CHECK(RUN_UNTIL(&t.cl, response_len(&t.cl) > 0), "no echo: %zu bytes", t.cl.len);
    CHECK(response_len(&t.cl) && memcmp(response_body(&t.cl), body, ECHO_LEN) == 0,
          "echo differs");
    CHECK(RUN_UNTIL(&t.cl, idle(c)), "not re-armed: io_flags %#x", c->io_flags);
    CHECK_EQ_INT(c->io_pending, 1, "io_pending after the re-arm");
    free(body);
    finish(&t);
}

/* Connection: close: the response, then FIN, then the conn lingers reading
 * and discarding input until the peer's EOF (by_deadline: until the linger
 * deadline passes instead). */
static void test_linger(bool by_deadline)
{
    tcase t;
    if (!begin(&t, false))
        return;
    rw_conn *c = t.c;
    send_str(&t.cl, "GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(RUN_UNTIL(&t.cl, t.cl.eof), "no FIN after the response");
    CHECK(response_len(&t.cl) == t.cl.len && t.cl.len > 0, "response before the FIN");
    uint32_t want = RW_UF_CLOSE | RW_UF_LINGER | RW_UF_LINGER_LIST | RW_UF_RECV;
    CHECK((c->io_flags & want) == want && !(c->io_flags & RW_UF_CLOSED),
          "lingering: io_flags %#x", c->io_flags);
    CHECK_EQ_INT(c->io_pending, 2, "io_pending: recv + linger list");
    CHECK(u->live == 1 && !fd_closed(t.sfd), "closed before the peer finished");
    /* input that arrives now is read and dropped, not fed */
    uint64_t in0 = wk.stats.bytes_in;
    unsigned mark = nseen;
    send_str(&t.cl, "late bytes nobody will parse");
    for (int i = 0; i < QUIET_STEPS; i++)
        step();
    CHECK(find_cqe(mark, c, RW_UOP_RECV, true, 0) >= 0, "late bytes were not read");
    CHECK(wk.stats.bytes_in == in0, "late bytes were fed");
    CHECK(u->live == 1 && (c->io_flags & RW_UF_LINGER), "stopped lingering early");
    mark = nseen;
    if (by_deadline) {
        wk.clock.now_ms += RW_URING_LINGER_MS;
        rw_uring_conn_linger_run(u, true);
        CHECK((c->io_flags & (RW_UF_LINGER | RW_UF_LINGER_LIST | RW_UF_RECV_CANCEL)) ==
                  RW_UF_RECV_CANCEL,
              "deadline: io_flags %#x", c->io_flags);
        CHECK_EQ_INT(c->io_pending, 2, "io_pending: recv + its cancel");
    } else {
        shutdown(t.cl.fd, SHUT_WR);
    }
    CHECK(STEP_UNTIL(u->live == 0), "lingering conn not freed");
    CHECK(fd_closed(t.sfd), "server fd still open");
    if (by_deadline)
        CHECK(find_cqe(mark, c, RW_UOP_CANCEL, true, 0) >= 0, "recv cancelled at the deadline");
    else
        CHECK(find_cqe(mark, c, RW_UOP_RECV, false, 0) >= 0, "recv CQE with the peer's EOF");
    close_client(&t.cl);
}

/* The conn dies while a recv and a send (to a peer that does not read) are
 * in flight: both are cancelled, and the fd is closed and the conn freed
 * only once the last of the four references (recv, send, two cancels)
 * ended. */
static void test_close_in_flight(void)
{
    tcase t;
    if (!begin(&t, true))
        return;
    rw_conn *c = t.c;
    send_str(&t.cl, GET_MID);
    /* first send short, the next one waits for room that never comes */
    STEP_UNTIL(find_cqe(t.log0, c, RW_UOP_SEND, true, 0) >= 0 && (c->io_flags & RW_UF_SEND));
    for (int i = 0; i < QUIET_STEPS; i++)
        step();
    CHECK((c->io_flags & (RW_UF_RECV | RW_UF_SEND)) == (RW_UF_RECV | RW_UF_SEND),
          "recv and send in flight: io_flags %#x", c->io_flags);
    CHECK_EQ_INT(c->io_pending, 2, "io_pending: recv + send");

    rw_conn_set_state(c, RW_CONN_DEAD);
    rw_uring_flush_conns(u);
    uint32_t want = RW_UF_CLOSE | RW_UF_RECV_CANCEL | RW_UF_SEND_CANCEL;
    CHECK((c->io_flags & want) == want && !(c->io_flags & RW_UF_CLOSED),
          "aborting: io_flags %#x", c->io_flags);
    CHECK_EQ_INT(c->io_pending, 4, "io_pending: recv + send + two cancels");
    CHECK(u->live == 1 && !fd_closed(t.sfd), "closed with operations in flight");
    CHECK(!watch_release(&t, nseen, 4), "fd closed before every operation ended");
    close_client(&t.cl);
}

/* begin() with every send zero-copy; false (nothing to test) on a kernel
 * without IORING_OP_SEND_ZC. The case turns zero-copy off at its end. */
static bool begin_zc(tcase *t, bool small)
{
    if (!u->feat.send_zc) {
        CHECK(!u->feat.sendmsg_zc, "sendmsg_zc without send_zc");
        return false;
    }
    u->use_zc = true;
    u->zc_threshold = 1;
    if (begin(t, small))
        return true;
    u->use_zc = false;
    return false;
}

/* Zero-copy sends: each result comes with F_MORE, the notification after it
 * ends the send; the response arrives whole. */
static void test_send_zc(void)
{
    tcase t;
    if (!begin_zc(&t, false))
        return;
    rw_conn *c = t.c;
    uint64_t zc0 = wk.stats.send_zc;
    send_str(&t.cl, GET_BIG);
    CHECK(RUN_UNTIL(&t.cl, response_len(&t.cl) > 0), "response incomplete: %zu bytes", t.cl.len);
    CHECK(response_len(&t.cl) && memcmp(response_body(&t.cl), big_body, BIG_LEN) == 0,
          "body differs");
    CHECK(RUN_UNTIL(&t.cl, idle(c)), "not idle: io_flags %#x", c->io_flags);
    CHECK(wk.stats.send_zc > zc0, "no zero-copy send issued");
    int r = -1, n = -1;
    for (unsigned i = t.log0; i < nseen && n < 0; i++)
        if (seen[i].conn == c && seen[i].op == RW_UOP_SEND_ZC) {
            if (r < 0 && (seen[i].flags & IORING_CQE_F_MORE))
                r = (int)i;
            else if (r >= 0 && (seen[i].flags & IORING_CQE_F_NOTIF))
                n = (int)i;
        }
    CHECK(r >= 0 && n > r, "result with F_MORE, then the notification (%d, %d)", r, n);
    CHECK_EQ_INT(c->io_pending, 1, "io_pending after the zero-copy sends");
    CHECK(!(c->io_flags & (RW_UF_ZC_NOTIF | RW_UF_SEND_IS_ZC)), "zc flags left: %#x",
          c->io_flags);
    finish(&t);
    u->use_zc = false;
}

/* The conn dies after a zero-copy send's result came in but while its
 * notification is still due (the unsent rest pins the pages): the recv is
 * cancelled, the send is not (it is over), the fd is closed once only the
 * notification is left, and the conn is freed only after it arrived. */
static void test_close_zc_notif_pending(void)
{
    tcase t;
    if (!begin_zc(&t, true))
        return;
    rw_conn *c = t.c;
    send_str(&t.cl, GET_MID);
    STEP_UNTIL(c->io_flags & RW_UF_ZC_NOTIF);
    uint32_t want = RW_UF_SEND | RW_UF_ZC_NOTIF | RW_UF_RECV;
    CHECK((c->io_flags & want) == want, "zc result in, notification due: io_flags %#x",
          c->io_flags);
    CHECK_EQ_INT(c->io_pending, 2, "io_pending: recv + zc send");

    rw_conn_set_state(c, RW_CONN_DEAD);
    rw_uring_flush_conns(u);
    CHECK((c->io_flags & (RW_UF_CLOSE | RW_UF_RECV_CANCEL | RW_UF_SEND_CANCEL)) ==
              (RW_UF_CLOSE | RW_UF_RECV_CANCEL),
          "aborting: io_flags %#x", c->io_flags);
    CHECK_EQ_INT(c->io_pending, 3, "io_pending: recv + zc send + cancel");
    CHECK(watch_release(&t, nseen, 3), "fd not closed while only the notification was due");
    close_client(&t.cl);
    u->use_zc = false;
}

/* ---- setup ---- */

static int setup(void)
{
    memset(&srv, 0, sizeof srv);
    rw_config_defaults(&srv.cfg);
    srv.access_log_fd = -1;
    srv.cfg.bufs = TEST_BUFS;
    srv.cfg.buf_size = TEST_BUF_SIZE;
    srv.cfg.max_body = 1 << 20;
    srv.cfg.send_zc_threshold = 0;
    rw_router_add(&srv.router, "GET", "/plaintext", RW_ROUTE_EXACT, h_plain, NULL);
    rw_router_add(&srv.router, "GET", "/big", RW_ROUTE_EXACT, h_big, NULL);
    rw_router_add(&srv.router, "GET", "/mid", RW_ROUTE_EXACT, h_mid, NULL);
    rw_router_add(&srv.router, "POST", "/echo", RW_ROUTE_EXACT, h_echo, NULL);
    if (rw_server_worker_init(&srv, &wk, 0) != 0)
        return -1;
    rw_clock_update(&wk.clock);
    int ret = rw_uring_setup(&wk, &u);
    if (ret < 0) {
        fprintf(stderr, "rw_uring_setup: %s\n", strerror(-ret));
        return -1;
    }
    wk.backend = u;
    big_body = malloc(BIG_LEN);
    if (!big_body)
        return -1;
    for (size_t i = 0; i < BIG_LEN; i++)
        big_body[i] = (char)(i * 7 + i / 4096);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0)
        return -1;
    return 0;
}

int main(void)
{
    CHECK(setup() == 0, "setup: %s", strerror(errno));
    if (!u)
        return check_summary("test_uring_conn");
    test_recv_feeds_requests();
    test_peer_eof();
    test_reset();
    test_short_send();
    test_enobufs_rearm();
    test_linger(false);
    test_linger(true);
    test_close_in_flight();
    test_send_zc();
    test_close_zc_notif_pending();
    CHECK(u->live == 0, "conns left: %u", u->live);
    wk.backend = NULL;
    rw_uring_destroy(u);
    rw_worker_destroy(&wk);
    close(lfd);
    free(big_body);
    return check_summary("test_uring_conn");
}
