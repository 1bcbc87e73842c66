/* The connection layer driven by a fake backend: feed bytes the way a
 * backend would (whole, split at every offset, byte by byte), collect what it
 * asks to write, and check responses, pipelining order, bodies, streaming,
 * backpressure, timers and drain. */
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "conn/conn.h"
#include "conn/conn_internal.h"
#include "conn/worker.h"
#include "check.h"
#include "fake_backend.h"

static rw_server srv;
static rw_worker wk;

static void h_plain(rw_request *r, void *ud)
{
    (void)ud;
    static const rw_header h[] = { { { "Content-Type", 12 }, { "text/plain", 10 } } };
    rw_respond(r, 200, h, 1, "Hello, World!", 13);
}

static void h_echo(rw_request *r, void *ud)
{
    (void)ud;
    rw_str b = rw_req_body(r);
    rw_respond(r, 200, NULL, 0, b.p, b.n);
}

static int stream_left;
static int stream_closed;
static int produce(rw_stream *st, void *ud)
{
    (void)ud;
    if (stream_left == 0)
        return RW_STREAM_DONE;
    char piece[16];
    int n = snprintf(piece, sizeof piece, "piece%d;", stream_left--);
    rw_stream_write(st, piece, (size_t)n);
    return RW_STREAM_MORE;
}
static void on_close(void *ud)
{
    (void)ud;
    stream_closed++;
}
static void h_stream(rw_request *r, void *ud)
{
    (void)ud;
    stream_left = 3;
    rw_respond_stream(r, 200, NULL, 0, -1, produce, NULL, on_close);
}

static void setup(void)
{
    memset(&srv, 0, sizeof srv);
    rw_config_defaults(&srv.cfg);
    srv.cfg.max_body = 100000;
    srv.cfg.header_timeout_ms = 1000;
    srv.cfg.keepalive_timeout_ms = 5000;
    srv.access_log_fd = -1; /* no access log (0 would be standard input) */
    rw_router_add(&srv.router, "GET", "/plaintext", RW_ROUTE_EXACT, h_plain, NULL);
    rw_router_add(&srv.router, "POST", "/echo", RW_ROUTE_EXACT, h_echo, NULL);
    rw_router_add(&srv.router, "GET", "/stream", RW_ROUTE_EXACT, h_stream, NULL);
    rw_server_worker_init(&srv, &wk, 0);
}

/* Plays the backend: writes everything the conn queues into out (appending,
 * NUL-terminated), max_write bytes per write (0 = unlimited). Returns bytes
 * collected. */
static size_t pump_out(rw_conn *c, char *out, size_t cap, size_t *len, size_t max_write)
{
    size_t total = fake_backend_pump(&wk, c, out, cap - 1, len, max_write);
    out[*len] = 0;
    return total;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static rw_conn *open_conn(void)
{
    return rw_conn_new(&wk, 1000);
}

static void close_conn(rw_conn *c)
{
    while (rw_worker_next_flush(&wk))
        ;
    rw_conn_free(c);
}

static char out[1 << 20];

static void test_simple_get(void)
{
    rw_conn *c = open_conn();
    const char *req = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    const struct iovec *iov;
    size_t bytes;
    int n = rw_conn_out_iov(c, &iov, &bytes);
    CHECK_EQ_INT(n, 1, "iovecs for one small response");
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "status line: %.40s", out);
    CHECK(strstr(out, "\r\nContent-Length: 13\r\n") != NULL, "content-length");
    CHECK(strstr(out, "\r\nDate: ") != NULL, "date");
    CHECK(strstr(out, "\r\nServer: ringwire\r\n") != NULL, "server");
    CHECK(len >= 13 && memcmp(out + len - 13, "Hello, World!", 13) == 0, "body");
    CHECK(c->in == NULL && c->out == NULL && c->session == NULL, "idle conn holds no buffers");
    CHECK_EQ_INT(c->timer, RW_TIMER_IDLE, "idle timer after response");
    CHECK_EQ_INT(c->state, RW_CONN_ACTIVE, "still open");
    CHECK(sizeof(rw_conn) <= 256, "conn is %zu bytes", sizeof(rw_conn));
    close_conn(c);
}

static void test_pipelined(void)
{
    rw_conn *c = open_conn();
    char req[4096];
    size_t rl = 0;
    for (int i = 0; i < 16; i++)
        rl += (size_t)snprintf(req + rl, sizeof req - rl, "%s HTTP/1.1\r\nHost: x\r\n\r\n",
                               i % 3 == 2 ? "GET /nope" : "GET /plaintext");
    rw_conn_feed(c, req, rl);
    const struct iovec *iov;
    size_t bytes;
    int n = rw_conn_out_iov(c, &iov, &bytes);
    CHECK_EQ_INT(n, 1, "16 pipelined responses in one iovec");
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK_EQ_INT(count_of(out, "HTTP/1.1 "), 16, "16 responses");
    /* order: 200 200 404 200 200 404 ... */
    const char *p = out;
    int order_ok = 1;
    for (int i = 0; i < 16; i++) {
        p = strstr(p, "HTTP/1.1 ");
        if (!p) {
            order_ok = 0;
            break;
        }
        if (strncmp(p + 9, i % 3 == 2 ? "404" : "200", 3) != 0)
            order_ok = 0;
        p++;
    }
    CHECK(order_ok, "responses in request order");
    close_conn(c);
}

static void test_splits(void)
{
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
                      "GET /plaintext HTTP/1.1\r\nHost: y\r\n\r\n";
    size_t rl = strlen(req);
    int ok = 0;
    for (size_t cut = 1; cut < rl; cut++) {
        rw_conn *c = open_conn();
        rw_conn_feed(c, req, cut);
        rw_conn_feed(c, req + cut, rl - cut);
        size_t len = 0;
        pump_out(c, out, sizeof out, &len, 0);
        if (count_of(out, "HTTP/1.1 200 OK") == 2 && strstr(out, "\r\n\r\nhello worldHTTP/1.1"))
            ok++;
        else
            fprintf(stderr, "split at %zu: %s\n", cut, out);
        close_conn(c);
    }
    CHECK_EQ_INT(ok, (int)rl - 1, "every split point gives both responses");
    rw_conn *c = open_conn();
    for (size_t i = 0; i < rl; i++)
        rw_conn_feed(c, req + i, 1);
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK_EQ_INT(count_of(out, "HTTP/1.1 200 OK"), 2, "byte at a time");
    close_conn(c);
}

static void test_chunked_and_continue(void)
{
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    rw_conn *c = open_conn();
    for (size_t i = 0; i < strlen(req); i++)
        rw_conn_feed(c, req + i, 1);
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strstr(out, "Content-Length: 11\r\n") && strstr(out, "\r\n\r\nhello world"),
          "chunked body echoed: %s", out);
    close_conn(c);

    c = open_conn();
    const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                       "Expect: 100-continue\r\n\r\n";
    rw_conn_feed(c, head, strlen(head));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strcmp(out, "HTTP/1.1 100 Continue\r\n\r\n") == 0, "100 Continue first: %s", out);
    rw_conn_feed(c, "abc", 3);
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 200 OK", 15) == 0 && strstr(out, "\r\n\r\nabc"),
          "then the final response");
    close_conn(c);

    c = open_conn();
    const char *big = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n";
    rw_conn_feed(c, big, strlen(big));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "413 over max-body: %.30s", out);
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "closing after 413");
    close_conn(c);
}

static void test_error_stops_processing(void)
{
    rw_conn *c = open_conn();
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /plaintext HTTP/1.1\r\n"
                      "Host: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "400 for CL+TE: %.30s", out);
    CHECK(strstr(out, "Connection: close\r\n") != NULL, "Connection: close");
    CHECK_EQ_INT(count_of(out, "HTTP/1.1 "), 1, "nothing after the error is answered");
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "closing");
    rw_conn_feed(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 37);
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK_EQ_INT(len, 0, "input after the error is ignored");
    close_conn(c);
}

static void test_stream(void)
{
    rw_conn *c = open_conn();
    stream_closed = 0;
    const char *req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 7);
    CHECK(strstr(out, "Transfer-Encoding: chunked\r\n") != NULL, "chunked stream");
    CHECK(strstr(out, "\r\n7\r\npiece3;\r\n7\r\npiece2;\r\n7\r\npiece1;\r\n0\r\n\r\nHTTP/1.1 200 OK") !=
              NULL,
          "chunks, terminator, then the pipelined response: %s", out);
    CHECK_EQ_INT(stream_closed, 1, "on_close called once");
    CHECK(c->session == NULL, "session released after the stream");
    close_conn(c);

    /* A connection dying mid-stream still calls on_close. */
    c = open_conn();
    stream_closed = 0;
    rw_conn_feed(c, req, 33);
    rw_conn_io_error(c, 104);
    close_conn(c);
    CHECK_EQ_INT(stream_closed, 1, "on_close on abort");
}

static void test_head_and_versions(void)
{
    rw_conn *c = open_conn();
    const char *req = "HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strstr(out, "Content-Length: 13\r\n") != NULL, "HEAD keeps Content-Length");
    CHECK(len > 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0, "HEAD has no body");
    close_conn(c);

    c = open_conn();
    req = "GET /plaintext HTTP/1.0\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strstr(out, "Connection: close\r\n") != NULL, "1.0 closes by default");
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "1.0 closing");
    close_conn(c);

    c = open_conn();
    req = "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strstr(out, "Connection: keep-alive\r\n") != NULL, "1.0 keep-alive echoed");
    CHECK_EQ_INT(c->state, RW_CONN_ACTIVE, "1.0 keep-alive stays open");
    close_conn(c);

    c = open_conn();
    req = "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "Connection: close honoured");
    close_conn(c);

    /* half-close after a request: answer, then close */
    c = open_conn();
    req = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    rw_conn_feed_eof(c);
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0, "answered after EOF");
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "closing after EOF");
    close_conn(c);
}

static void test_backpressure(void)
{
    rw_conn *c = open_conn();
    static char req[64 * 1024];
    size_t rl = 0;
    int nreq = 0;
    while (rl + 64 < sizeof req) {
        rl += (size_t)snprintf(req + rl, sizeof req - rl, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        nreq++;
    }
    int paused_seen = 0;
    size_t len = 0;
    for (size_t off = 0; off < rl; off += 4096) {
        size_t k = rl - off < 4096 ? rl - off : 4096;
        rw_conn_feed(c, req + off, k);
        if (!rw_conn_want_read(c)) {
            paused_seen = 1;
            pump_out(c, out, sizeof out, &len, 0);
        }
    }
    pump_out(c, out, sizeof out, &len, 0);
    CHECK_EQ_INT(count_of(out, "HTTP/1.1 200 OK"), nreq, "every pipelined request answered");
    CHECK(paused_seen || nreq <= 64, "reading paused under backpressure");
    CHECK(c->in == NULL && c->out == NULL, "buffers released");
    close_conn(c);
}

static void test_timers_and_drain(void)
{
    rw_conn *c = open_conn();
    rw_conn_feed(c, "GET /plain", 10);
    CHECK_EQ_INT(c->timer, RW_TIMER_HEADER, "header timer");
    wk.clock.now_ms += 500;
    rw_conn_feed(c, "t", 1); /* trickling does not extend the header deadline */
    wk.clock.now_ms += 600;
    rw_worker_tick(&wk);
    size_t len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    CHECK(strncmp(out, "HTTP/1.1 408 ", 13) == 0, "408 on header timeout: %.20s", out);
    CHECK_EQ_INT(c->state, RW_CONN_CLOSING, "closing after 408");
    close_conn(c);

    c = open_conn();
    const char *req = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    rw_conn_feed(c, req, strlen(req));
    len = 0;
    pump_out(c, out, sizeof out, &len, 0);
    wk.clock.now_ms += 4000;
    rw_worker_tick(&wk);
    CHECK_EQ_INT(c->state, RW_CONN_ACTIVE, "not yet idle-expired");
    wk.clock.now_ms += 1001;
    rw_worker_tick(&wk);
    CHECK_EQ_INT(c->state, RW_CONN_DEAD, "idle timeout");
    close_conn(c);

    rw_conn *idle = open_conn();
    rw_conn_feed(idle, req, strlen(req));
    len = 0;
    pump_out(idle, out, sizeof out, &len, 0);
    rw_conn *busy = open_conn();
    rw_conn_feed(busy, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 33);
    CHECK(!rw_worker_drained(&wk), "not drained before drain");
    rw_worker_drain(&wk);
    CHECK_EQ_INT(idle->state, RW_CONN_DEAD, "idle conn closed at drain");
    CHECK_EQ_INT(busy->state, RW_CONN_ACTIVE, "busy conn finishes its response");
    len = 0;
    pump_out(busy, out, sizeof out, &len, 0);
    CHECK(strstr(out, "0\r\n\r\n") != NULL, "stream completed during drain");
    CHECK_EQ_INT(busy->state, RW_CONN_CLOSING, "then closes");
    close_conn(idle);
    close_conn(busy);
    CHECK(rw_worker_drained(&wk), "drained when no connections remain");
}

int main(void)
{
    setup();
    test_simple_get();
    test_pipelined();
    test_splits();
    test_chunked_and_continue();
    test_error_stops_processing();
    test_stream();
    test_head_and_versions();
    test_backpressure();
    test_timers_and_drain();
    rw_worker_destroy(&wk);
    return check_summary("conn");
}
