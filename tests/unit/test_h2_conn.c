/* The HTTP/2 engine under a fake backend: a client built from the frame
 * codec and HPACK feeds frames into rw_conn_feed(), the test plays the
 * backend's writes (rw_conn_out_iov / rw_conn_out_done) and decodes what the
 * server wrote. Covers preface and SETTINGS, requests and responses, bodies,
 * flow control (both directions), streaming, scheduling, errors, floods,
 * push, upgrade-free drain. */
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "conn/conn.h"
#include "conn/conn_internal.h"
#include "conn/worker.h"
#include "core/str.h"
#include "http2/frame.h"
#include "http2/h2_session.h"
#include "http2/hpack.h"
#include "check.h"
#include "fake_backend.h"

static rw_server srv;
static rw_worker wk;

/* ---- handlers -------------------------------------------------------------- */

static void h_plain(rw_request *r, void *ud)
{
    (void)ud;
    static const rw_header h[] = { { { "Content-Type", 12 }, { "text/plain", 10 } },
                                   { { "Connection", 10 }, { "keep-alive", 10 } } };
    rw_respond(r, 200, h, 2, "Hello, World!", 13);
}

static void h_echo(rw_request *r, void *ud)
{
    (void)ud;
    rw_str b = rw_req_body(r);
    rw_str host = { 0 };
    rw_req_header(r, "host", &host);
    char hdr[64];
    int n = snprintf(hdr, sizeof hdr, "%.*s", (int)host.n, host.p);
    rw_header h = { RW_STR("x-host"), { hdr, (size_t)n } };
    rw_respond(r, 200, &h, 1, b.p, b.n);
}

#define BIG_LEN 200000
static char big[BIG_LEN];
static int big_released;
static void big_release(void *arg)
{
    (void)arg;
    big_released++;
}
static void h_big(rw_request *r, void *ud)
{
    (void)ud;
    rw_respond_ext(r, 200, NULL, 0, big, BIG_LEN, big_release, NULL);
}

static int stream_left, stream_closed;
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

static int push_rc;
static void h_pushy(rw_request *r, void *ud)
{
    (void)ud;
    push_rc = rw_push(r, "/plaintext", NULL, 0);
    rw_respond(r, 200, NULL, 0, "page", 4);
}

static void setup(void)
{
    memset(&srv, 0, sizeof srv);
    rw_config_defaults(&srv.cfg);
    srv.cfg.max_body = 100000;
    srv.access_log_fd = -1;
    rw_router_add(&srv.router, "GET", "/plaintext", RW_ROUTE_EXACT, h_plain, NULL);
    rw_router_add(&srv.router, "POST", "/echo", RW_ROUTE_EXACT, h_echo, NULL);
    rw_router_add(&srv.router, "GET", "/big", RW_ROUTE_EXACT, h_big, NULL);
    rw_router_add(&srv.router, "GET", "/stream", RW_ROUTE_EXACT, h_stream, NULL);
    rw_router_add(&srv.router, "GET", "/pushy", RW_ROUTE_EXACT, h_pushy, NULL);
    rw_server_worker_init(&srv, &wk, 0);
    for (int i = 0; i < BIG_LEN; i++)
        big[i] = (char)('a' + i % 26);
}

/* ---- fake client ----------------------------------------------------------- */

typedef struct client {
    rw_conn *c;
    rw_hpack_encoder enc;
    rw_hpack_decoder dec;
    uint8_t in[1 << 20]; /* bytes the server wrote, not yet parsed */
    size_t in_len;
} client;

static client cl;

/* Plays the backend: everything queued goes to cl.in (max_write per write). */
static void pump(size_t max_write)
{
    fake_backend_pump(&wk, cl.c, cl.in, sizeof cl.in, &cl.in_len, max_write);
}

static void feed(const void *p, size_t n)
{
    rw_conn_feed(cl.c, p, n);
}

static void send_frame(uint8_t type, uint8_t flags, uint32_t id, const void *payload, size_t n)
{
    uint8_t buf[9 + 65536];
    rw_h2_write_frame_header(buf, (uint32_t)n, type, flags, id);
    if (n)
        memcpy(buf + 9, payload, n);
    feed(buf, 9 + n);
}

static void send_settings(const rw_h2_setting *s, size_t n)
{
    uint8_t buf[256];
    feed(buf, rw_h2_write_settings(buf, s, n));
}

static void client_open(bool ack_settings)
{
    memset(&cl.enc, 0, sizeof cl.enc);
    rw_hpack_encoder_init(&cl.enc, 4096);
    rw_hpack_decoder_init(&cl.dec, 4096);
    cl.in_len = 0;
    cl.c = rw_conn_new(&wk, 1000);
    feed(RW_H2_CLIENT_PREFACE, RW_H2_CLIENT_PREFACE_LEN);
    send_settings(NULL, 0);
    if (ack_settings) {
        uint8_t ack[9];
        feed(ack, rw_h2_write_settings_ack(ack));
    }
}

static void client_close(void)
{
    while (rw_worker_next_flush(&wk))
        ;
    rw_conn_free(cl.c);
    rw_hpack_encoder_free(&cl.enc);
    rw_hpack_decoder_free(&cl.dec);
}

/* Sends HEADERS for a request (extra fields appended after the pseudo ones). */
static void send_request(uint32_t id, const char *method, const char *path,
                         const rw_hpack_field *extra, size_t nextra, bool end_stream)
{
    rw_hpack_field f[32];
    size_t n = 0;
    f[n++] = (rw_hpack_field){ RW_STR(":method"), rw_str_c(method), 0 };
    f[n++] = (rw_hpack_field){ RW_STR(":scheme"), RW_STR("http"), 0 };
    if (path)
        f[n++] = (rw_hpack_field){ RW_STR(":path"), rw_str_c(path), 0 };
    f[n++] = (rw_hpack_field){ RW_STR(":authority"), RW_STR("example.test"), 0 };
    for (size_t i = 0; i < nextra; i++)
        f[n++] = extra[i];
    uint8_t block[4096];
    size_t bl = 0;
    rw_hpack_encode(&cl.enc, f, n, block, sizeof block, &bl);
    send_frame(RW_H2_HEADERS, RW_H2_FLAG_END_HEADERS | (end_stream ? RW_H2_FLAG_END_STREAM : 0),
               id, block, bl);
}

/* What the client saw, per stream. */
typedef struct seen {
    int status;
    char body[BIG_LEN + 1];
    size_t body_len;
    bool ended;
    uint32_t rst;          /* RST_STREAM code + 1, 0 = none */
    char hdr_names[512];   /* "name=value;" list */
} seen;

static seen streams[16]; /* by stream id / 2 */
static uint32_t goaway_code; /* +1, 0 = none */
static uint32_t goaway_last;
static int settings_frames, settings_acks, ping_acks, window_updates, push_promises;
static uint32_t promised_id;
static uint32_t srv_max_streams, srv_initial_window;
static uint32_t data_order[64];
static int ndata_order;

static void reset_seen(void)
{
    memset(streams, 0, sizeof streams);
    goaway_code = goaway_last = 0;
    settings_frames = settings_acks = ping_acks = window_updates = push_promises = 0;
    promised_id = 0;
    ndata_order = 0;
}

/* Parses every complete frame the server wrote so far. */
static void parse_output(void)
{
    size_t pos = 0;
    while (pos < cl.in_len) {
        rw_h2_frame f;
        int r = rw_h2_frame_decode(cl.in + pos, cl.in_len - pos, RW_H2_MAX_MAX_FRAME_SIZE, &f);
        if (r <= 0)
            break;
        pos += (size_t)r;
        seen *s = f.hd.stream_id / 2 < 16 ? &streams[f.hd.stream_id / 2] : &streams[15];
        switch (f.hd.type) {
        case RW_H2_SETTINGS:
            if (f.hd.flags & RW_H2_FLAG_ACK) {
                settings_acks++;
            } else {
                settings_frames++;
                size_t sp = 0;
                rw_h2_setting st;
                while (rw_h2_settings_next(&f, &sp, &st)) {
                    if (st.id == RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS)
                        srv_max_streams = st.value;
                    if (st.id == RW_H2_SETTINGS_INITIAL_WINDOW_SIZE)
                        srv_initial_window = st.value;
                }
            }
            break;
        case RW_H2_PING:
            if (f.hd.flags & RW_H2_FLAG_ACK)
                ping_acks++;
            break;
        case RW_H2_GOAWAY:
            goaway_code = f.goaway.error + 1;
            goaway_last = f.goaway.last_stream_id;
            break;
        case RW_H2_RST_STREAM:
            s->rst = f.rst_error + 1;
            break;
        case RW_H2_WINDOW_UPDATE:
            window_updates++;
            break;
        case RW_H2_PUSH_PROMISE:
        case RW_H2_HEADERS: {
            rw_hpack_field fl[32];
            size_t nf = 0;
            static char scratch[8192];
            int rc = rw_hpack_decode(&cl.dec, f.payload, f.payload_len, fl, 32, scratch,
                                     sizeof scratch, 65536, &nf);
            CHECK(rc == 0, "client HPACK decode: %d", rc);
            if (f.hd.type == RW_H2_PUSH_PROMISE) {
                push_promises++;
                promised_id = f.promised_stream_id;
                break;
            }
            size_t hn = strlen(s->hdr_names);
            for (size_t i = 0; i < nf; i++) {
                if (rw_str_eq(fl[i].name, RW_STR(":status")))
                    s->status = atoi(fl[i].value.p);
                hn += (size_t)snprintf(s->hdr_names + hn, sizeof s->hdr_names - hn, "%.*s=%.*s;",
                                       (int)fl[i].name.n, fl[i].name.p, (int)fl[i].value.n,
                                       fl[i].value.p);
                if (hn >= sizeof s->hdr_names)
                    hn = sizeof s->hdr_names - 1;
            }
            if (f.hd.flags & RW_H2_FLAG_END_STREAM)
                s->ended = true;
            break;
        }
        case RW_H2_DATA:
            if (s->body_len + f.payload_len <= BIG_LEN) {
                memcpy(s->body + s->body_len, f.payload, f.payload_len);
                s->body_len += f.payload_len;
            }
            if (f.payload_len && ndata_order < 64)
                data_order[ndata_order++] = f.hd.stream_id;
            if (f.hd.flags & RW_H2_FLAG_END_STREAM)
                s->ended = true;
            break;
        default:
            break;
        }
    }
    memmove(cl.in, cl.in + pos, cl.in_len - pos);
    cl.in_len -= pos;
}

static void run(void)
{
    pump(0);
    parse_output();
}

/* ---- tests ------------------------------------------------------------------ */

static void test_settings_and_get(void)
{
    reset_seen();
    client_open(true);
    run();
    CHECK_EQ_INT(settings_frames, 1, "server SETTINGS");
    CHECK_EQ_INT(settings_acks, 1, "our SETTINGS ACKed");
    CHECK_EQ_INT(srv_max_streams, 100, "MAX_CONCURRENT_STREAMS");
    CHECK_EQ_INT(srv_initial_window, 65535, "INITIAL_WINDOW_SIZE");
    CHECK(cl.c->engine == &rw_h2_engine, "switched to HTTP/2");
    send_request(1, "GET", "/plaintext", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[0].status, 200, "status");
    CHECK(streams[0].body_len == 13 && memcmp(streams[0].body, "Hello, World!", 13) == 0,
          "body: %.*s", (int)streams[0].body_len, streams[0].body);
    CHECK(streams[0].ended, "END_STREAM");
    CHECK(strstr(streams[0].hdr_names, "content-type=text/plain;") != NULL, "lower-cased: %s",
          streams[0].hdr_names);
    CHECK(strstr(streams[0].hdr_names, "connection") == NULL, "connection header dropped");
    CHECK(strstr(streams[0].hdr_names, "content-length=13;") != NULL, "content-length");
    CHECK(strstr(streams[0].hdr_names, "server=ringwire;") != NULL, "server");
    CHECK(!rw_h2_engine.busy(cl.c), "no stream left open");
    CHECK_EQ_INT(wk.stats.requests, 1, "request counted");
    /* PING */
    send_frame(RW_H2_PING, 0, 0, "12345678", 8);
    run();
    CHECK_EQ_INT(ping_acks, 1, "PING ACK");
    /* 404 and HEAD */
    send_request(3, "GET", "/nope", NULL, 0, true);
    send_request(5, "HEAD", "/plaintext", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[1].status, 404, "404");
    CHECK_EQ_INT(streams[2].status, 200, "HEAD status");
    CHECK(streams[2].ended && streams[2].body_len == 0, "HEAD: END_STREAM on HEADERS, no DATA");
    CHECK(strstr(streams[2].hdr_names, "content-length=13;") != NULL, "HEAD content-length");
    CHECK_EQ_INT(goaway_code, 0, "no GOAWAY");
    client_close();
}

static void test_byte_at_a_time(void)
{
    reset_seen();
    /* A whole client session fed one byte per read. */
    rw_hpack_encoder e;
    rw_hpack_encoder_init(&e, 4096);
    uint8_t buf[512];
    size_t n = 0;
    memcpy(buf, RW_H2_CLIENT_PREFACE, RW_H2_CLIENT_PREFACE_LEN);
    n += RW_H2_CLIENT_PREFACE_LEN;
    n += rw_h2_write_settings(buf + n, NULL, 0);
    rw_hpack_field f[] = { { RW_STR(":method"), RW_STR("POST"), 0 },
                           { RW_STR(":scheme"), RW_STR("http"), 0 },
                           { RW_STR(":path"), RW_STR("/echo"), 0 },
                           { RW_STR(":authority"), RW_STR("h.test"), 0 } };
    uint8_t block[256];
    size_t bl = 0;
    rw_hpack_encode(&e, f, 4, block, sizeof block, &bl);
    n += rw_h2_write_headers_header(buf + n, 1, (uint32_t)bl, false, true, NULL);
    memcpy(buf + n, block, bl);
    n += bl;
    n += rw_h2_write_data_header(buf + n, 1, 5, false);
    memcpy(buf + n, "hello", 5);
    n += 5;
    n += rw_h2_write_data_header(buf + n, 1, 6, true);
    memcpy(buf + n, " world", 6);
    n += 6;
    rw_hpack_encoder_free(&e);

    memset(&cl.enc, 0, sizeof cl.enc);
    rw_hpack_encoder_init(&cl.enc, 4096);
    rw_hpack_decoder_init(&cl.dec, 4096);
    cl.in_len = 0;
    cl.c = rw_conn_new(&wk, 1000);
    for (size_t i = 0; i < n; i++)
        feed(buf + i, 1);
    run();
    CHECK_EQ_INT(streams[0].status, 200, "echo status");
    CHECK(streams[0].body_len == 11 && memcmp(streams[0].body, "hello world", 11) == 0,
          "echo body across frames and reads: %.*s", (int)streams[0].body_len, streams[0].body);
    CHECK(strstr(streams[0].hdr_names, "x-host=h.test;") != NULL, ":authority as host: %s",
          streams[0].hdr_names);
    client_close();
}

static void test_flow_control_and_ext(void)
{
    reset_seen();
    big_released = 0;
    client_open(true);
    /* A client window of 1000 bytes per stream. */
    rw_h2_setting s = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 1000 };
    send_settings(&s, 1);
    send_request(1, "GET", "/big", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[0].status, 200, "big status");
    CHECK_EQ_INT(streams[0].body_len, 1000, "only the stream window is sent");
    CHECK(rw_h2_engine.busy(cl.c), "stream waits for window");
    CHECK(!rw_h2_engine.paused(cl.c), "waiting for window does not pause reading");
    /* Another request is served while the big one waits. */
    send_request(3, "GET", "/plaintext", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[1].status, 200, "other stream served meanwhile");
    CHECK(streams[1].ended, "other stream complete");
    /* Open the windows: connection (initially 65535) and stream. */
    uint8_t wu[13];
    for (int i = 0; i < 10 && streams[0].body_len < BIG_LEN; i++) {
        rw_h2_write_window_update(wu, 0, 100000);
        if (i < 2)
            feed(wu, 13);
        rw_h2_write_window_update(wu, 1, 100000);
        feed(wu, 13);
        run();
    }
    CHECK_EQ_INT(streams[0].body_len, BIG_LEN, "whole body after WINDOW_UPDATEs");
    CHECK(memcmp(streams[0].body, big, BIG_LEN) == 0, "body intact");
    CHECK(streams[0].ended, "big END_STREAM");
    CHECK_EQ_INT(big_released, 1, "release called once, after the last piece");
    /* Window overflow on a stream: RST FLOW_CONTROL_ERROR. */
    send_request(5, "GET", "/big", NULL, 0, true);
    rw_h2_write_window_update(wu, 5, 0x7fffffff);
    feed(wu, 13);
    feed(wu, 13);
    run();
    CHECK_EQ_INT(streams[2].rst, RW_H2_FLOW_CONTROL_ERROR + 1, "stream window overflow");
    CHECK_EQ_INT(big_released, 2, "reset stream releases its body");
    /* Connection window overflow: GOAWAY FLOW_CONTROL_ERROR. */
    rw_h2_write_window_update(wu, 0, 0x7fffffff);
    feed(wu, 13);
    feed(wu, 13);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_FLOW_CONTROL_ERROR + 1, "connection window overflow");
    CHECK_EQ_INT(cl.c->state, RW_CONN_CLOSING, "closing after GOAWAY");
    client_close();
}

static void test_reset_mid_body(void)
{
    reset_seen();
    big_released = 0;
    client_open(true);
    send_request(1, "GET", "/big", NULL, 0, true);
    pump(0); /* DATA up to the connection window is queued and written */
    uint8_t rst[13];
    feed(rst, rw_h2_write_rst_stream(rst, 1, RW_H2_CANCEL));
    run();
    CHECK_EQ_INT(big_released, 1, "client CANCEL releases the body once");
    CHECK(!rw_h2_engine.busy(cl.c), "stream gone");
    /* Closed stream: DATA gets RST STREAM_CLOSED. */
    send_frame(RW_H2_DATA, 0, 1, "x", 1);
    run();
    CHECK_EQ_INT(streams[0].rst, RW_H2_STREAM_CLOSED + 1, "DATA on closed stream");
    /* Reset while pieces are queued but not yet written. */
    uint8_t wu[13];
    feed(wu, rw_h2_write_window_update(wu, 0, 100000));
    send_request(3, "GET", "/big", NULL, 0, true);
    feed(rst, rw_h2_write_rst_stream(rst, 3, RW_H2_CANCEL));
    CHECK_EQ_INT(big_released, 1, "not released while queued pieces are unwritten");
    run();
    CHECK_EQ_INT(big_released, 2, "released once those are written");
    client_close();
}

static void test_stream_response(void)
{
    reset_seen();
    stream_closed = 0;
    client_open(true);
    send_request(1, "GET", "/stream", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[0].status, 200, "stream status");
    CHECK(streams[0].body_len == 21 && memcmp(streams[0].body, "piece3;piece2;piece1;", 21) == 0,
          "stream body: %.*s", (int)streams[0].body_len, streams[0].body);
    CHECK(streams[0].ended, "stream END_STREAM");
    CHECK_EQ_INT(stream_closed, 1, "on_close once");
    client_close();
}

static void test_request_errors(void)
{
    reset_seen();
    client_open(true);
    rw_hpack_field upper = { RW_STR("X-Upper"), RW_STR("1"), 0 };
    send_request(1, "GET", "/plaintext", &upper, 1, true);
    rw_hpack_field conn = { RW_STR("connection"), RW_STR("close"), 0 };
    send_request(3, "GET", "/plaintext", &conn, 1, true);
    send_request(5, "GET", NULL, NULL, 0, true); /* no :path */
    rw_hpack_field te = { RW_STR("te"), RW_STR("gzip"), 0 };
    send_request(7, "GET", "/plaintext", &te, 1, true);
    rw_hpack_field cl5 = { RW_STR("content-length"), RW_STR("5"), 0 };
    send_request(9, "POST", "/echo", &cl5, 1, false);
    send_frame(RW_H2_DATA, RW_H2_FLAG_END_STREAM, 9, "abc", 3);
    rw_hpack_field te_ok = { RW_STR("te"), RW_STR("trailers"), 0 };
    send_request(11, "GET", "/plaintext", &te_ok, 1, true);
    run();
    CHECK_EQ_INT(streams[0].rst, RW_H2_PROTOCOL_ERROR + 1, "upper-case name");
    CHECK_EQ_INT(streams[1].rst, RW_H2_PROTOCOL_ERROR + 1, "connection header");
    CHECK_EQ_INT(streams[2].rst, RW_H2_PROTOCOL_ERROR + 1, "missing :path");
    CHECK_EQ_INT(streams[3].rst, RW_H2_PROTOCOL_ERROR + 1, "te: gzip");
    CHECK_EQ_INT(streams[4].rst, RW_H2_PROTOCOL_ERROR + 1, "content-length mismatch");
    CHECK_EQ_INT(streams[5].status, 200, "te: trailers is fine");
    CHECK_EQ_INT(goaway_code, 0, "stream errors keep the connection");
    /* Trailers after DATA. */
    send_request(13, "POST", "/echo", NULL, 0, false);
    send_frame(RW_H2_DATA, 0, 13, "body", 4);
    rw_hpack_field tr = { RW_STR("x-checksum"), RW_STR("1"), 0 };
    uint8_t block[64];
    size_t bl = 0;
    rw_hpack_encode(&cl.enc, &tr, 1, block, sizeof block, &bl);
    send_frame(RW_H2_HEADERS, RW_H2_FLAG_END_HEADERS | RW_H2_FLAG_END_STREAM, 13, block, bl);
    run();
    CHECK(streams[6].status == 200 && streams[6].body_len == 4, "trailers end the request");
    /* HEADERS on a half-closed (remote) stream that is still answering. */
    rw_h2_setting s0 = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 0 };
    send_settings(&s0, 1);
    send_request(15, "GET", "/big", NULL, 0, true);
    send_request(15, "GET", "/big", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[7].rst, RW_H2_STREAM_CLOSED + 1, "HEADERS on half-closed stream");
    /* A frame for a stream we reset is ignored (§5.1)... */
    send_request(3, "GET", "/plaintext", NULL, 0, true);
    run();
    CHECK_EQ_INT(goaway_code, 0, "HEADERS for a stream we reset: ignored");
    /* ...one for a stream that ended normally is a connection error. */
    send_request(11, "GET", "/plaintext", NULL, 0, true);
    run();
    CHECK(goaway_code == RW_H2_PROTOCOL_ERROR + 1 || goaway_code == RW_H2_STREAM_CLOSED + 1,
          "reused stream id: GOAWAY %u", goaway_code - 1);
    client_close();

    struct {
        const char *what;
        uint8_t type, flags;
        uint32_t id;
        const char *payload;
        size_t n;
        uint32_t code;
    } conn_cases[] = {
        { "DATA on stream 0", RW_H2_DATA, 0, 0, "x", 1, RW_H2_PROTOCOL_ERROR },
        { "SETTINGS on stream 1", RW_H2_SETTINGS, 0, 1, "", 0, RW_H2_PROTOCOL_ERROR },
        { "SETTINGS bad length", RW_H2_SETTINGS, 0, 0, "12345", 5, RW_H2_FRAME_SIZE_ERROR },
        { "PING wrong length", RW_H2_PING, 0, 0, "1234", 4, RW_H2_FRAME_SIZE_ERROR },
        { "WINDOW_UPDATE 0", RW_H2_WINDOW_UPDATE, 0, 0, "\0\0\0\0", 4, RW_H2_PROTOCOL_ERROR },
        { "CONTINUATION without HEADERS", RW_H2_CONTINUATION, RW_H2_FLAG_END_HEADERS, 1, "", 0,
          RW_H2_PROTOCOL_ERROR },
        { "HEADERS on even stream", RW_H2_HEADERS, RW_H2_FLAG_END_HEADERS, 2, "\x82", 1,
          RW_H2_PROTOCOL_ERROR },
        { "HPACK garbage", RW_H2_HEADERS, RW_H2_FLAG_END_HEADERS, 1, "\xff\xff\xff\xff\xff\xff", 6,
          RW_H2_COMPRESSION_ERROR },
        { "PUSH_PROMISE from client", RW_H2_PUSH_PROMISE, RW_H2_FLAG_END_HEADERS, 1,
          "\0\0\0\2", 4, RW_H2_PROTOCOL_ERROR },
        { "RST_STREAM on idle stream", RW_H2_RST_STREAM, 0, 9, "\0\0\0\0", 4,
          RW_H2_PROTOCOL_ERROR },
    };
    for (size_t i = 0; i < sizeof conn_cases / sizeof conn_cases[0]; i++) {
        reset_seen();
        client_open(true);
        send_frame(conn_cases[i].type, conn_cases[i].flags, conn_cases[i].id, conn_cases[i].payload,
                   conn_cases[i].n);
        run();
        CHECK(goaway_code == conn_cases[i].code + 1, "%s: GOAWAY %s", conn_cases[i].what,
              goaway_code ? rw_h2_error_name(goaway_code - 1) : "none");
        CHECK_EQ_INT(cl.c->state, RW_CONN_CLOSING, conn_cases[i].what);
        client_close();
    }
    /* Oversized frame: FRAME_SIZE_ERROR. */
    reset_seen();
    client_open(true);
    static char huge[16385];
    send_frame(RW_H2_HEADERS, RW_H2_FLAG_END_HEADERS, 1, huge, sizeof huge);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_FRAME_SIZE_ERROR + 1, "frame over MAX_FRAME_SIZE");
    client_close();
    /* Wrong preface (past the request line). */
    reset_seen();
    cl.c = rw_conn_new(&wk, 1000);
    rw_hpack_decoder_init(&cl.dec, 4096);
    rw_hpack_encoder_init(&cl.enc, 4096);
    feed("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_PROTOCOL_ERROR + 1, "wrong preface");
    client_close();
}

static void test_limits_and_floods(void)
{
    /* MAX_CONCURRENT_STREAMS: streams waiting for window stay open. */
    reset_seen();
    client_open(true);
    rw_h2_setting s0 = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 0 };
    send_settings(&s0, 1);
    for (uint32_t i = 0; i < 101; i++)
        send_request(1 + 2 * i, "GET", "/big", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[15].rst, RW_H2_REFUSED_STREAM + 1, "101st stream refused");
    CHECK_EQ_INT(goaway_code, 0, "refusal is a stream error");
    client_close();

    /* PING flood. */
    reset_seen();
    client_open(true);
    for (int i = 0; i < RW_H2_MAX_PINGS + 5; i++)
        send_frame(RW_H2_PING, 0, 0, "12345678", 8);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_ENHANCE_YOUR_CALM + 1, "PING flood");
    client_close();

    /* Rapid reset. */
    reset_seen();
    client_open(true);
    uint8_t rst[13];
    for (uint32_t i = 0; i < RW_H2_MAX_RESETS + 5 && cl.c->state == RW_CONN_ACTIVE; i++) {
        send_request(1 + 2 * i, "GET", "/plaintext", NULL, 0, true);
        feed(rst, rw_h2_write_rst_stream(rst, 1 + 2 * i, RW_H2_CANCEL));
        pump(0);
    }
    parse_output();
    CHECK_EQ_INT(goaway_code, RW_H2_ENHANCE_YOUR_CALM + 1, "rapid reset");
    client_close();

    /* CONTINUATION flood. */
    reset_seen();
    client_open(true);
    uint8_t block[16];
    size_t bl = 0;
    rw_hpack_field m = { RW_STR(":method"), RW_STR("GET"), 0 };
    rw_hpack_encode(&cl.enc, &m, 1, block, sizeof block, &bl);
    send_frame(RW_H2_HEADERS, 0, 1, block, bl);
    for (int i = 0; i < RW_H2_MAX_CONTINUATIONS + 5; i++)
        send_frame(RW_H2_CONTINUATION, 0, 1, "", 0);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_ENHANCE_YOUR_CALM + 1, "CONTINUATION flood");
    client_close();

    /* HPACK bomb: one big indexed entry repeated: 431, connection survives. */
    reset_seen();
    client_open(true);
    static char val[4000];
    memset(val, 'v', sizeof val);
    rw_hpack_field bomb[8];
    for (int i = 0; i < 8; i++)
        bomb[i] = (rw_hpack_field){ RW_STR("x-bomb"), { val, sizeof val }, 0 };
    send_request(1, "GET", "/plaintext", bomb, 8, true);
    run();
    CHECK(streams[0].status == 431 || streams[0].rst, "header list over the limit: %d",
          streams[0].status);
    send_request(3, "GET", "/plaintext", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[1].status, 200, "connection usable after 431");
    /* Body over --max-body: 413. */
    rw_hpack_field clbig = { RW_STR("content-length"), RW_STR("200000"), 0 };
    send_request(5, "POST", "/echo", &clbig, 1, false);
    run();
    CHECK_EQ_INT(streams[2].status, 413, "content-length over max-body");
    client_close();
}

static void test_priority_and_push(void)
{
    /* Two large responses wait for the connection window; the urgent one
     * (u=0) gets all of it once it opens. */
    reset_seen();
    big_released = 0;
    client_open(true);
    rw_h2_setting s = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 };
    send_settings(&s, 1);
    /* Use up the connection window with a first response. */
    send_request(1, "GET", "/big", NULL, 0, true);
    run();
    CHECK_EQ_INT(streams[0].body_len, 65535, "connection window used up");
    rw_hpack_field low = { RW_STR("priority"), RW_STR("u=5"), 0 };
    rw_hpack_field high = { RW_STR("priority"), RW_STR("u=0, i"), 0 };
    send_request(3, "GET", "/big", &low, 1, true);
    send_request(5, "GET", "/big", &high, 1, true);
    run();
    uint8_t wu[13];
    rw_h2_write_window_update(wu, 0, 50000);
    feed(wu, 13);
    run();
    CHECK_EQ_INT(streams[2].body_len, 50000, "urgent stream took the window");
    CHECK_EQ_INT(streams[1].body_len, 0, "less urgent stream waits");
    uint8_t rst[13];
    feed(rst, rw_h2_write_rst_stream(rst, 1, RW_H2_CANCEL));
    feed(rst, rw_h2_write_rst_stream(rst, 3, RW_H2_CANCEL));
    feed(rst, rw_h2_write_rst_stream(rst, 5, RW_H2_CANCEL));
    run();
    CHECK_EQ_INT(big_released, 3, "all released");
    /* Push (the earlier streams used up the connection window: reopen it). */
    reset_seen();
    feed(wu, rw_h2_write_window_update(wu, 0, 100000));
    send_request(7, "GET", "/pushy", NULL, 0, true);
    run();
    CHECK_EQ_INT(push_rc, 0, "rw_push ok");
    CHECK_EQ_INT(push_promises, 1, "PUSH_PROMISE sent");
    CHECK_EQ_INT(promised_id, 2, "promised stream 2");
    CHECK_EQ_INT(streams[1].status, 200, "pushed response on stream 2");
    CHECK(streams[1].body_len == 13 && memcmp(streams[1].body, "Hello, World!", 13) == 0, "pushed body %zu %.*s", streams[1].body_len, (int)streams[1].body_len, streams[1].body);
    CHECK_EQ_INT(streams[3].status, 200, "page itself");
    /* Push disabled. */
    rw_h2_setting np = { RW_H2_SETTINGS_ENABLE_PUSH, 0 };
    send_settings(&np, 1);
    send_request(9, "GET", "/pushy", NULL, 0, true);
    run();
    CHECK_EQ_INT(push_rc, -1, "rw_push with ENABLE_PUSH=0");
    CHECK_EQ_INT(push_promises, 1, "no new PUSH_PROMISE");
    client_close();
}

static void test_upload_window_and_drain(void)
{
    reset_seen();
    client_open(true);
    /* 60000 bytes of body: the server must send WINDOW_UPDATEs as it goes. */
    send_request(1, "POST", "/echo", NULL, 0, false);
    static char chunk[10000];
    memset(chunk, 'u', sizeof chunk);
    for (int i = 0; i < 6; i++)
        send_frame(RW_H2_DATA, i == 5 ? RW_H2_FLAG_END_STREAM : 0, 1, chunk, sizeof chunk);
    run();
    CHECK(window_updates >= 2, "WINDOW_UPDATEs for received DATA: %d", window_updates);
    CHECK_EQ_INT(streams[0].body_len, 60000, "echoed upload");
    /* Connection window exceeded by the client: FLOW_CONTROL_ERROR. */
    /* Drain: GOAWAY NO_ERROR and close when no stream is open. */
    rw_h2_engine.drain(cl.c);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_NO_ERROR + 1, "GOAWAY NO_ERROR on drain");
    CHECK_EQ_INT(goaway_last, 1, "last stream id");
    CHECK_EQ_INT(cl.c->state, RW_CONN_CLOSING, "closing after drain");
    client_close();
}

static void test_window_stall(void)
{
    reset_seen();
    big_released = 0;
    client_open(true);
    rw_h2_setting s0 = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 0 };
    send_settings(&s0, 1);
    send_request(1, "GET", "/big", NULL, 0, true);
    run();
    wk.clock.now_ms += srv.cfg.keepalive_timeout_ms / 2;
    send_frame(RW_H2_PING, 0, 0, "12345678", 8);
    run();
    CHECK_EQ_INT(goaway_code, 0, "not yet stalled");
    wk.clock.now_ms += srv.cfg.keepalive_timeout_ms;
    send_frame(RW_H2_PING, 0, 0, "12345678", 8);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_ENHANCE_YOUR_CALM + 1, "PINGs do not keep a stalled stream");
    client_close();
    CHECK_EQ_INT(big_released, 1, "body released with the connection");
}

/* Deterministic frame soup: random types, flags, ids, lengths and payloads
 * mixed with valid requests, fed in random splits. Nothing may crash or leak
 * (run under ASan/UBSan), and every connection ends ACTIVE or CLOSING/DEAD
 * with its buffers released by rw_conn_free(). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_frame_soup(void)
{
    static uint8_t buf[1 << 16];
    int rounds = 0, closed = 0;
    uint64_t requests_before = wk.stats.requests;
    for (int iter = 0; iter < 1500; iter++) {
        reset_seen();
        client_open(rnd() % 2);
        size_t n = 0;
        uint32_t next_id = 1;
        for (int k = 0; k < 24 && n < sizeof buf - 20000; k++) {
            uint32_t sid = rnd() % 4 == 0 ? 0 : rnd() % 12;
            if (iter % 3 != 0) /* polite: only streams already opened */
                sid = next_id > 1 && rnd() % 4 ? 1 + 2 * (rnd() % (next_id / 2)) : 0;
            if (rnd() % 3 == 0) { /* a valid-looking request */
                if (iter % 3 != 0) {
                    sid = next_id;
                    next_id += 2;
                }
                rw_hpack_field f[] = { { RW_STR(":method"), RW_STR("GET"), 0 },
                                       { RW_STR(":scheme"), RW_STR("http"), 0 },
                                       { RW_STR(":path"), RW_STR("/big"), 0 },
                                       { RW_STR("priority"), RW_STR("u=1"), 0 } };
                uint8_t block[128];
                size_t bl = 0;
                rw_hpack_encode(&cl.enc, f, 1 + rnd() % 4, block, sizeof block, &bl);
                size_t cut = bl ? rnd() % (bl + 1) : 0;
                n += rw_h2_write_headers_header(buf + n, sid | 1, (uint32_t)cut, rnd() % 2,
                                                cut == bl, NULL);
                memcpy(buf + n, block, cut);
                n += cut;
                if (cut < bl) {
                    n += rw_h2_write_continuation_header(buf + n, sid | 1, (uint32_t)(bl - cut),
                                                         true);
                    memcpy(buf + n, block + cut, bl - cut);
                    n += bl - cut;
                }
                continue;
            }
            if (iter % 3 != 0) { /* polite rounds: well-formed control frames */
                uint8_t ping[8] = { 0 };
                switch (rnd() % 4) {
                case 0: n += rw_h2_write_ping(buf + n, false, ping); break;
                case 1: n += rw_h2_write_window_update(buf + n, sid, 1 + rnd() % 100000); break;
                case 2:
                    if (sid)
                        n += rw_h2_write_rst_stream(buf + n, sid, RW_H2_CANCEL);
                    break;
                default: {
                    rw_h2_setting st = { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, rnd() % 70000 };
                    n += rw_h2_write_settings(buf + n, &st, 1);
                }
                }
                continue;
            }
            uint32_t len = rnd() % 5 == 0 ? rnd() % 17000 : rnd() % 16;
            uint8_t type = (uint8_t)(rnd() % 11);
            uint8_t flags = (uint8_t)rnd();
            n += rw_h2_write_frame_header(buf + n, len, type, flags, sid);
            for (uint32_t i = 0; i < len; i++)
                buf[n + i] = (uint8_t)rnd();
            n += len;
        }
        for (size_t pos = 0; pos < n;) {
            size_t k = 1 + rnd() % 3000;
            if (k > n - pos)
                k = n - pos;
            feed(buf + pos, k);
            pos += k;
            pump(rnd() % 2 ? 0 : 1 + rnd() % 5000);
            cl.in_len = 0; /* the client does not parse: its HPACK state is irrelevant */
        }
        rounds++;
        closed += cl.c->state != RW_CONN_ACTIVE;
        client_close();
    }
    CHECK_EQ_INT(rounds, 1500, "frame soup rounds");
    CHECK(closed > 0 && closed < 1500, "soup hit both outcomes (%d closed)", closed);
    CHECK(wk.stats.requests - requests_before > 500, "soup requests were served: %llu",
          (unsigned long long)(wk.stats.requests - requests_before));
}

/* §5.3.1: a PRIORITY on an idle stream that depends on itself is a
 * connection error (no RST_STREAM may name an idle stream); a well-formed or
 * merely mis-sized PRIORITY on an idle stream changes nothing. */
static void test_priority_self_dependency_idle(void)
{
    reset_seen();
    client_open(true);
    send_frame(RW_H2_PRIORITY, 0, 11, "\0\0\0\x0b\x0a", 5);
    run();
    CHECK_EQ_INT(goaway_code, RW_H2_PROTOCOL_ERROR + 1, "idle stream depends on itself");
    CHECK_EQ_INT(cl.c->state, RW_CONN_CLOSING, "closing after the self-dependency");
    client_close();

    reset_seen();
    client_open(true);
    send_frame(RW_H2_PRIORITY, 0, 11, "\0\0\0\x01\x0a", 5);
    send_frame(RW_H2_PRIORITY, 0, 13, "\0\0\0\x01", 4);
    run();
    CHECK_EQ_INT(goaway_code, 0, "valid and mis-sized PRIORITY on idle streams");
    CHECK_EQ_INT(cl.c->state, RW_CONN_ACTIVE, "still active after them");
    client_close();
}

int main(void)
{
    setup();
    test_settings_and_get();
    test_byte_at_a_time();
    test_flow_control_and_ext();
    test_reset_mid_body();
    test_stream_response();
    test_request_errors();
    test_limits_and_floods();
    test_priority_and_push();
    test_upload_window_and_drain();
    test_window_stall();
    test_frame_soup();
    test_priority_self_dependency_idle();
    rw_worker_destroy(&wk);
    return check_summary("h2_conn");
}
