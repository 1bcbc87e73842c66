/* libFuzzer harness for a whole HTTP/2 connection: the real connection layer,
 * HTTP/1 engine (which spots the client preface and switches), HTTP/2 engine,
 * router, built-in routes (with metrics) and a few handlers of our own, under a fake
 * backend played by the harness.
 *
 * Input: a sequence of records  [ctrl][len][len bytes]  (a short last record
 * takes what is left). The harness feeds the client preface (split where the
 * first byte says), then each record's bytes; ctrl says what the "backend"
 * does after the feed:
 *   bits 0-1  0: write everything queued; 1: write up to a few hundred bytes;
 *             2: write nothing (backpressure); 3: write all in 7-byte writes
 *   bits 2-4  size factor for mode 1
 *   bit  5    advance the clock by (len * 16) ms and run rw_worker_tick()
 *   bit  6    advance the clock past every timeout and run rw_worker_tick()
 *   bit  7    then the peer half-closes (EOF); no more input
 * Invariants:
 *   - no crash, hang, leak or UB (ASan/LSan/UBSan);
 *   - what the server writes is a sequence of valid HTTP/2 frames, the first
 *     one a SETTINGS; every header block (HEADERS/PUSH_PROMISE +
 *     CONTINUATION*) is contiguous and decodes with an HPACK decoder that
 *     follows the server's encoder;
 *   - bounds from what the client sent (parsed with the same frame decoder,
 *     loosely: frames the server may have rejected still count): connection
 *     DATA <= 65535 + the client's connection WINDOW_UPDATEs; no frame above
 *     the largest SETTINGS_MAX_FRAME_SIZE the client sent (16384 at least);
 *     no more PING / SETTINGS ACKs than PINGs / SETTINGS; responses only on
 *     odd streams the client opened (<= its highest HEADERS id);
 *   - once the connection is freed, every rw_respond_ext() release and every
 *     streaming on_close ran exactly once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/builtin.h"
#include "app/server.h"
#include "conn/conn.h"
#include "conn/worker.h"
#include "core/str.h"
#include "http2/frame.h"
#include "http2/hpack.h"

#define REQUIRE(c)                                                                             \
    do {                                                                                       \
        if (!(c))                                                                              \
            abort();                                                                           \
    } while (0)

#define FZ_FD 1000                  /* never a real socket: nothing closes it */
#define FZ_PARTIAL_UNIT 97          /* mode 1 writes (factor + 1) * this many bytes */
#define FZ_SMALL_WRITE 7            /* mode 3 write size */
#define FZ_MAX_PUMP 100000          /* writes per drain: a server that never stops is a hang */
#define FZ_TICK_UNIT_MS 16
#define FZ_CLOCK_START_MS 1000000
#define FZ_FAR_FUTURE_MS (24u * 3600 * 1000)
#define FZ_HPACK_CAP (1u << 16)     /* client decoder table memory */
#define FZ_MAX_FIELDS 256
#define FZ_SCRATCH (1u << 18)
#define FZ_BLOCK_MAX (1u << 20)     /* assembled header block the checker accepts */
#define FZ_BIG_LEN 70000            /* > the default 65535 windows: flow control */
#define FZ_SLOW_PIECES 40

static rw_server srv;
static rw_worker wk;
static char big[FZ_BIG_LEN];
static bool verbose; /* FZ_H2_VERBOSE=1: list the server's frames (seed checks) */
static long ext_started, ext_released, streams_started, streams_closed;

/* ---- handlers ------------------------------------------------------------ */

static void h_echo(rw_request *r, void *ud)
{
    (void)ud;
    rw_str b = rw_req_body(r);
    rw_respond(r, 200, NULL, 0, b.p, b.n);
}

static void big_release(void *arg)
{
    (void)arg;
    ext_released++;
}

static void h_big(rw_request *r, void *ud)
{
    (void)ud;
    ext_started++;
    rw_respond_ext(r, 200, NULL, 0, big, sizeof big, big_release, NULL);
}

/* Streams FZ_SLOW_PIECES pieces with a Content-Length, one per call. */
typedef struct slow_state {
    int left;
} slow_state;

static int slow_produce(rw_stream *st, void *ud)
{
    slow_state *s = ud;
    if (s->left <= 0)
        return RW_STREAM_DONE;
    char piece[8];
    memset(piece, 'a' + s->left % 26, sizeof piece);
    if (rw_stream_write(st, piece, sizeof piece) < 0)
        return RW_STREAM_DONE;
    return --s->left > 0 ? RW_STREAM_MORE : RW_STREAM_DONE;
}

static void slow_close(void *ud)
{
    streams_closed++;
    free(ud);
}

static void h_slow(rw_request *r, void *ud)
{
    (void)ud;
    slow_state *s = malloc(sizeof *s);
    if (!s) {
        rw_respond(r, 503, NULL, 0, NULL, 0);
        return;
    }
    s->left = FZ_SLOW_PIECES;
    streams_started++;
    rw_respond_stream(r, 200, NULL, 0, (int64_t)FZ_SLOW_PIECES * 8, slow_produce, s, slow_close);
}

static void h_pushy(rw_request *r, void *ud)
{
    (void)ud;
    rw_push(r, "/plaintext", NULL, 0);
    rw_push(r, "/big", NULL, 0);
    rw_respond(r, 200, NULL, 0, "page", 4);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rw_config_defaults(&srv.cfg);
    srv.cfg.max_body = 100000;
    srv.cfg.metrics = true; /* /metrics and /_status render over HTTP/2 too */
    srv.access_log_fd = -1;
    verbose = getenv("FZ_H2_VERBOSE") != NULL;
    if (rw_app_add_builtin_routes(&srv, &srv.cfg) < 0 ||
        rw_server_route(&srv, "POST", "/echo", RW_ROUTE_EXACT, h_echo, NULL) < 0 ||
        rw_server_route(&srv, "GET", "/big", RW_ROUTE_EXACT, h_big, NULL) < 0 ||
        rw_server_route(&srv, "GET", "/slow", RW_ROUTE_EXACT, h_slow, NULL) < 0 ||
        rw_server_route(&srv, "GET", "/pushy", RW_ROUTE_EXACT, h_pushy, NULL) < 0)
        abort();
    if (rw_server_worker_init(&srv, &wk, 0) < 0)
        abort();
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    return 0;
}

/* ---- what the client sent ------------------------------------------------ */

typedef struct client_view {
    uint8_t *buf; /* fed bytes after the preface, not yet parsed */
    size_t len, cap;
    uint64_t skip;          /* rest of a frame dropped after a stream error */
    bool dead;              /* a connection error: the server reads no further */
    uint64_t conn_credit;   /* 65535 + connection WINDOW_UPDATE increments */
    uint32_t max_frame;     /* largest SETTINGS_MAX_FRAME_SIZE sent (>= default) */
    uint64_t pings, settings;
    uint32_t max_stream;    /* highest stream id carrying a client HEADERS */
} client_view;

static client_view cv;

static void grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    uint8_t *nb = realloc(*buf, c);
    REQUIRE(nb);
    *buf = nb;
    *cap = c;
}

static void client_frame(const rw_h2_frame *f)
{
    switch (f->hd.type) {
    case RW_H2_WINDOW_UPDATE:
        if (f->hd.stream_id == 0)
            cv.conn_credit += f->window_increment;
        break;
    case RW_H2_SETTINGS:
        if (f->hd.flags & RW_H2_FLAG_ACK)
            break;
        cv.settings++;
        size_t sp = 0;
        rw_h2_setting st;
        while (rw_h2_settings_next(f, &sp, &st))
            if (st.id == RW_H2_SETTINGS_MAX_FRAME_SIZE && st.value > cv.max_frame)
                cv.max_frame = st.value;
        break;
    case RW_H2_PING:
        if (!(f->hd.flags & RW_H2_FLAG_ACK))
            cv.pings++;
        break;
    case RW_H2_HEADERS:
        if (f->hd.stream_id > cv.max_stream)
            cv.max_stream = f->hd.stream_id;
        break;
    default:
        break;
    }
}

/* Follows the client's frames the way the engine frames them; a larger
 * frame size limit than the server's only makes the bounds looser. */
static void client_fed(const uint8_t *p, size_t n)
{
    if (cv.dead)
        return;
    grow(&cv.buf, &cv.cap, cv.len + n);
    memcpy(cv.buf + cv.len, p, n);
    cv.len += n;
    size_t pos = 0;
    while (pos < cv.len && !cv.dead) {
        if (cv.skip) {
            size_t k = cv.skip < cv.len - pos ? (size_t)cv.skip : cv.len - pos;
            pos += k;
            cv.skip -= k;
            continue;
        }
        rw_h2_frame f;
        int r = rw_h2_frame_decode(cv.buf + pos, cv.len - pos, RW_H2_MAX_MAX_FRAME_SIZE, &f);
        if (r == RW_H2_INCOMPLETE)
            break;
        if (r == RW_H2_FAIL_CONNECTION) {
            cv.dead = true;
        } else if (r == RW_H2_FAIL_STREAM) {
            if (f.hd.type == RW_H2_HEADERS)
                client_frame(&f); /* the stream still counts as opened */
            cv.skip = f.frame_len;
        } else {
            client_frame(&f);
            pos += (size_t)r;
        }
    }
    memmove(cv.buf, cv.buf + pos, cv.len - pos);
    cv.len -= pos;
}

/* ---- output checker ------------------------------------------------------ */

typedef struct checker {
    uint8_t *buf; /* server bytes not yet parsed */
    size_t len, cap;
    bool seen_first;
    uint64_t data_bytes;   /* DATA payload (the server never pads) */
    uint64_t ping_acks, settings_acks;
    bool in_block;         /* inside HEADERS/PUSH_PROMISE ... CONTINUATION */
    uint32_t block_stream;
    uint8_t block[FZ_BLOCK_MAX]; /* the field block being assembled */
    size_t block_len;
    rw_hpack_decoder dec;
} checker;

static checker ck;

static void block_append(const uint8_t *p, size_t n)
{
    REQUIRE(ck.block_len + n <= FZ_BLOCK_MAX);
    memcpy(ck.block + ck.block_len, p, n);
    ck.block_len += n;
}

static void block_end(void)
{
    static rw_hpack_field fields[FZ_MAX_FIELDS];
    static char scratch[FZ_SCRATCH];
    size_t nf = 0;
    int rc = rw_hpack_decode(&ck.dec, ck.block, ck.block_len, fields, FZ_MAX_FIELDS, scratch,
                             sizeof scratch, SIZE_MAX, &nf);
    REQUIRE(rc == RW_HPACK_OK);
    ck.in_block = false;
    ck.block_len = 0;
}

static void check_frame(const rw_h2_frame *f)
{
    if (verbose)
        fprintf(stderr, "frame type %u flags 0x%02x stream %u len %u\n", f->hd.type,
                f->hd.flags, f->hd.stream_id, f->hd.length);
    if (!ck.seen_first) {
        REQUIRE(f->hd.type == RW_H2_SETTINGS && !(f->hd.flags & RW_H2_FLAG_ACK));
        ck.seen_first = true;
    }
    REQUIRE(f->hd.length <= cv.max_frame);
    uint32_t id = f->hd.stream_id;
    switch (f->hd.type) {
    case RW_H2_DATA:
        ck.data_bytes += f->hd.length;
        REQUIRE(ck.data_bytes <= cv.conn_credit);
        REQUIRE(id % 2 == 0 || id <= cv.max_stream);
        break;
    case RW_H2_HEADERS:
    case RW_H2_RST_STREAM:
        REQUIRE(id % 2 == 0 || id <= cv.max_stream);
        break;
    case RW_H2_PING:
        if (f->hd.flags & RW_H2_FLAG_ACK)
            REQUIRE(++ck.ping_acks <= cv.pings);
        break;
    case RW_H2_SETTINGS:
        if (f->hd.flags & RW_H2_FLAG_ACK)
            REQUIRE(++ck.settings_acks <= cv.settings);
        break;
    default:
        break;
    }
    if (ck.in_block) {
        /* RFC 9113 6.10: nothing may interleave with a field block. */
        REQUIRE(f->hd.type == RW_H2_CONTINUATION && f->hd.stream_id == ck.block_stream);
        block_append(f->payload, f->payload_len);
        if (f->hd.flags & RW_H2_FLAG_END_HEADERS)
            block_end();
        return;
    }
    REQUIRE(f->hd.type <= RW_H2_FRAME_TYPE_MAX); /* the server sends no extensions */
    REQUIRE(f->hd.type != RW_H2_CONTINUATION);
    if (f->hd.type == RW_H2_HEADERS || f->hd.type == RW_H2_PUSH_PROMISE) {
        REQUIRE(f->hd.stream_id != 0);
        ck.in_block = true;
        ck.block_stream = f->hd.stream_id;
        block_append(f->payload, f->payload_len);
        if (f->hd.flags & RW_H2_FLAG_END_HEADERS)
            block_end();
    }
}

/* Parses every complete frame buffered; anything malformed aborts. */
static void check_output(void)
{
    if (ck.len == 0)
        return;
    size_t pos = 0;
    while (pos < ck.len) {
        rw_h2_frame f;
        int r = rw_h2_frame_decode(ck.buf + pos, ck.len - pos, RW_H2_MAX_MAX_FRAME_SIZE, &f);
        if (r == RW_H2_INCOMPLETE)
            break;
        REQUIRE(r > 0);
        check_frame(&f);
        pos += (size_t)r;
    }
    memmove(ck.buf, ck.buf + pos, ck.len - pos);
    ck.len -= pos;
}

static void out_append(const void *p, size_t n)
{
    grow(&ck.buf, &ck.cap, ck.len + n);
    memcpy(ck.buf + ck.len, p, n);
    ck.len += n;
}

/* ---- fake backend -------------------------------------------------------- */

/* Writes up to `budget` bytes (SIZE_MAX: all) in writes of at most `chunk`. */
static void pump(rw_conn *c, size_t budget, size_t chunk)
{
    for (int guard = 0; guard < FZ_MAX_PUMP; guard++) {
        while (rw_worker_next_flush(&wk))
            ;
        if (budget == 0 || c->state == RW_CONN_DEAD)
            return;
        const struct iovec *iov;
        size_t bytes;
        int n = rw_conn_out_iov(c, &iov, &bytes);
        if (n <= 0)
            return;
        size_t want = bytes < budget ? bytes : budget;
        if (want > chunk)
            want = chunk;
        size_t done = 0;
        for (int i = 0; i < n && done < want; i++) {
            size_t k = iov[i].iov_len < want - done ? iov[i].iov_len : want - done;
            out_append(iov[i].iov_base, k);
            done += k;
        }
        rw_conn_out_done(c, done);
        if (budget != SIZE_MAX)
            budget -= done;
    }
    abort(); /* output that never ends */
}

static void drain(rw_conn *c, unsigned mode, unsigned factor)
{
    switch (mode) {
    case 0: pump(c, SIZE_MAX, SIZE_MAX); break;
    case 1: pump(c, (factor + 1) * FZ_PARTIAL_UNIT, SIZE_MAX); break;
    case 2: pump(c, 0, SIZE_MAX); break;
    default: pump(c, SIZE_MAX, FZ_SMALL_WRITE); break;
    }
    check_output();
}

/* What the backend may do next: read only while the engine wants input. */
static bool can_read(rw_conn *c)
{
    if (c->state != RW_CONN_ACTIVE)
        return false;
    if (rw_conn_want_read(c))
        return true;
    pump(c, SIZE_MAX, SIZE_MAX); /* a paused reader waits for the writes */
    check_output();
    return c->state == RW_CONN_ACTIVE && rw_conn_want_read(c);
}

static void tick(uint64_t advance_ms)
{
    wk.clock.now_ms += advance_ms;
    rw_worker_tick(&wk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ck.len = ck.cap = 0;
    ck.buf = NULL;
    ck.seen_first = ck.in_block = false;
    ck.block_len = 0;
    ck.data_bytes = ck.ping_acks = ck.settings_acks = 0;
    memset(&cv, 0, sizeof cv);
    cv.conn_credit = RW_H2_DEFAULT_WINDOW_SIZE;
    cv.max_frame = RW_H2_DEFAULT_MAX_FRAME_SIZE;
    REQUIRE(rw_hpack_decoder_init(&ck.dec, FZ_HPACK_CAP) == RW_HPACK_OK);
    REQUIRE(rw_hpack_decoder_set_limit(&ck.dec, FZ_HPACK_CAP) == RW_HPACK_OK);
    ext_started = ext_released = streams_started = streams_closed = 0;
    wk.clock.now_ms = FZ_CLOCK_START_MS; /* same timeline for every run: reproducible */

    rw_conn *c = rw_conn_new(&wk, FZ_FD);
    REQUIRE(c);
    size_t split = size ? data[0] % (RW_H2_CLIENT_PREFACE_LEN + 1) : RW_H2_CLIENT_PREFACE_LEN;
    rw_conn_feed(c, RW_H2_CLIENT_PREFACE, split);
    if (split < RW_H2_CLIENT_PREFACE_LEN && can_read(c))
        rw_conn_feed(c, &RW_H2_CLIENT_PREFACE[split], RW_H2_CLIENT_PREFACE_LEN - split);
    size_t pos = size ? 1 : 0;

    while (pos < size) {
        uint8_t ctrl = data[pos++];
        size_t len = pos < size ? data[pos++] : 0;
        if (len > size - pos)
            len = size - pos;
        const uint8_t *chunk = data + pos;
        pos += len;
        if (len && can_read(c)) {
            client_fed(chunk, len); /* first: the server may answer at once */
            rw_conn_feed(c, (const char *)chunk, len);
        }
        drain(c, ctrl & 3u, (ctrl >> 2) & 7u);
        if (ctrl & 0x20)
            tick(len * FZ_TICK_UNIT_MS);
        if (ctrl & 0x40)
            tick(FZ_FAR_FUTURE_MS);
        if (ctrl & 0x80) {
            if (c->state == RW_CONN_ACTIVE)
                rw_conn_feed_eof(c);
            break;
        }
        if (c->state == RW_CONN_DEAD)
            break;
    }
    /* The peer reads everything left, as a real client would before close. */
    if (c->state != RW_CONN_DEAD)
        pump(c, SIZE_MAX, SIZE_MAX);
    check_output();
    /* Everything written and the connection not killed: no torn frame. */
    if (c->state != RW_CONN_DEAD && !rw_conn_out_pending(c))
        REQUIRE(ck.len == 0 && !ck.in_block);
    rw_conn_free(c);
    while (rw_worker_next_flush(&wk))
        ;
    REQUIRE(wk.nconns == 0);
    REQUIRE(ext_released == ext_started);
    REQUIRE(streams_closed == streams_started);

    rw_hpack_decoder_free(&ck.dec);
    free(ck.buf);
    free(cv.buf);
    return 0;
}
