/* HTTP/2 connection level: session setup (prior-knowledge preface or h2c
 * upgrade), the frame loop over received bytes, SETTINGS / PING / GOAWAY /
 * WINDOW_UPDATE / RST_STREAM, connection flow control, flood limits and
 * connection errors. Stream-level work is in h2_stream.c, DATA output in
 * h2_sched.c. */
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "core/log.h"
#include "core/str.h"
#include "http2/h2_session.h"
#include "core/probes.h"

/* ---- output helpers ------------------------------------------------------ */

int rw_h2_queue(rw_h2_session *s, const void *p, size_t n)
{
    rw_conn *c = s->c;
    if (c->state == RW_CONN_DEAD)
        return -1;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return -1;
    if (o->bytes > RW_H2_MAX_CONTROL_QUEUED) {
        /* The peer makes us answer (PING, SETTINGS, RST) but does not read. */
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    char *dst = rw_outbuf_reserve(o, &pools, n);
    if (!dst) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    memcpy(dst, p, n);
    rw_outbuf_commit(o, n);
    rw_conn_schedule(c);
    return 0;
}

void rw_h2_send_rst(rw_h2_session *s, uint32_t id, uint32_t code)
{
    s->reset_sent[s->reset_pos++ % RW_H2_RECENT_CLOSED] = id;
    RW_PROBE3(h2__rst_sent, s->c->fd, id, code);
    s->c->w->stats.h2_resets_sent++;
    uint8_t f[RW_H2_RST_STREAM_FRAME_LEN];
    size_t n = rw_h2_write_rst_stream(f, id, code);
    rw_h2_queue(s, f, n);
}

static void send_window_update(rw_h2_session *s, uint32_t id, uint32_t inc)
{
    uint8_t f[RW_H2_WINDOW_UPDATE_FRAME_LEN];
    size_t n = rw_h2_write_window_update(f, id, inc);
    rw_h2_queue(s, f, n);
}

static void send_goaway(rw_h2_session *s, uint32_t code, const char *why)
{
    uint8_t f[RW_H2_GOAWAY_FRAME_LEN(128)];
    size_t dl = why ? strlen(why) : 0;
    if (dl > 128)
        dl = 128;
    size_t n = rw_h2_write_goaway(f, s->last_client_id, code, why, dl);
    rw_h2_queue(s, f, n);
    s->goaway_sent = true;
}

void rw_h2_conn_error(rw_h2_session *s, uint32_t code, const char *why)
{
    if (s->dead)
        return;
    rw_debug("h2: connection error %s: %s", rw_h2_error_name(code), why ? why : "");
    s->c->w->stats.parse_errors++;
    send_goaway(s, code, why);
    s->dead = true;
    s->cont_stream = 0;
    rw_conn_set_state(s->c, RW_CONN_CLOSING);
}

void rw_h2_maybe_finish(rw_h2_session *s)
{
    if ((s->goaway_sent || s->goaway_recv) && rw_dlist_empty(&s->streams) && !s->cont_stream)
        rw_conn_set_state(s->c, RW_CONN_CLOSING);
}

bool rw_h2_flood(rw_h2_session *s, unsigned *counter, unsigned limit, const char *what)
{
    uint64_t now = s->c->w->clock.now_ms;
    if (now - s->flood_start_ms >= RW_H2_FLOOD_WINDOW_MS) {
        s->flood_start_ms = now;
        s->n_ping = s->n_settings = s->n_empty_data = s->n_resets = s->n_refused = 0;
    }
    if (++*counter <= limit)
        return false;
    rw_h2_conn_error(s, RW_H2_ENHANCE_YOUR_CALM, what);
    return true;
}

/* ---- session ------------------------------------------------------------- */

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static rw_h2_session *session_new(rw_conn *c)
{
    const rw_config *cfg = c->w->cfg;
    rw_h2_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = c;
    s->max_streams = cfg->h2_max_concurrent_streams ? cfg->h2_max_concurrent_streams : 100;
    s->our_initial_window = clamp_u32(cfg->h2_initial_window, 1, RW_H2_MAX_WINDOW_SIZE);
    /* A whole frame must fit the connection's input buffer. */
    uint64_t fit = c->w->inbuf_cap > RW_H2_FRAME_HEADER_LEN ? c->w->inbuf_cap - RW_H2_FRAME_HEADER_LEN
                                                            : 0;
    uint64_t mf = cfg->h2_max_frame_size < fit ? cfg->h2_max_frame_size : fit;
    s->our_max_frame = clamp_u32(mf, RW_H2_DEFAULT_MAX_FRAME_SIZE, RW_H2_MAX_MAX_FRAME_SIZE);
    s->max_header_list = cfg->h2_max_header_list ? (uint32_t)cfg->h2_max_header_list : 16384;
    s->peer_initial_window = RW_H2_DEFAULT_WINDOW_SIZE;
    s->peer_max_frame = RW_H2_DEFAULT_MAX_FRAME_SIZE;
    s->peer_max_streams = UINT32_MAX;
    s->push_enabled = true;
    s->send_window = RW_H2_DEFAULT_WINDOW_SIZE;
    s->recv_window = RW_H2_DEFAULT_WINDOW_SIZE;
    s->next_push_id = 2;
    s->flood_start_ms = c->w->clock.now_ms;
    s->max_fields = (size_t)cfg->max_headers + 8; /* + pseudo-header fields */
    rw_dlist_init(&s->streams);
    rw_dlist_init(&s->ready);
    s->fields = calloc(s->max_fields, sizeof *s->fields);
    s->hdrs = calloc(s->max_fields + 1, sizeof *s->hdrs);
    s->scratch = malloc(s->max_header_list);
    bool ok = s->fields && s->hdrs && s->scratch;
    bool dec = ok && rw_hpack_decoder_init(&s->dec, RW_H2_HPACK_TABLE) == 0;
    bool enc = dec && rw_hpack_encoder_init(&s->enc, RW_H2_HPACK_TABLE) == 0;
    if (!enc) {
        if (dec)
            rw_hpack_decoder_free(&s->dec);
        free(s->fields);
        free(s->hdrs);
        free(s->scratch);
        free(s);
        return NULL;
    }
    return s;
}

/* Our SETTINGS (+ a connection WINDOW_UPDATE when our window is larger than
 * the protocol default), the first thing the server sends. */
static void send_settings(rw_h2_session *s)
{
    rw_h2_setting set[] = {
        { RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_streams },
        { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, s->our_initial_window },
        { RW_H2_SETTINGS_MAX_FRAME_SIZE, s->our_max_frame },
        { RW_H2_SETTINGS_MAX_HEADER_LIST_SIZE, s->max_header_list },
        { RW_H2_SETTINGS_ENABLE_PUSH, 0 }, /* a server must not be pushed to anyway */
    };
    size_t n = sizeof set / sizeof set[0];
    uint8_t f[RW_H2_SETTINGS_FRAME_LEN(5) + RW_H2_WINDOW_UPDATE_FRAME_LEN];
    size_t len = rw_h2_write_settings(f, set, n);
    if (s->our_initial_window > RW_H2_DEFAULT_WINDOW_SIZE) {
        uint32_t inc = s->our_initial_window - RW_H2_DEFAULT_WINDOW_SIZE;
        len += rw_h2_write_window_update(f + len, 0, inc);
        s->recv_window += inc;
    }
    rw_h2_queue(s, f, len);
    s->settings_sent_ms = s->c->w->clock.now_ms;
}

/* Switches c to HTTP/2; -1 (and c DEAD) when out of memory. */
static int start(rw_conn *c)
{
    if (rw_h2_of(c))
        return 0;
    rw_h2_session *s = session_new(c);
    if (!s) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return -1;
    }
    rw_conn_switch_engine(c, &rw_h2_engine, s);
    send_settings(s);
    return 0;
}

/* base64url (RFC 4648 §5), padding optional. Returns the decoded length or -1. */
static long b64url_decode(rw_str in, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in.n; i++) {
        char ch = in.p[i];
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '-' || ch == '+')
            v = 62;
        else if (ch == '_' || ch == '/')
            v = 63;
        else if (ch == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)n;
}

static void apply_setting(rw_h2_session *s, const rw_h2_setting *st);

/* Upgrade: h2c (RFC 7540 §3.2): Connection must name HTTP2-Settings and
 * exactly one HTTP2-Settings header must decode. */
static int start_upgrade(rw_conn *c, rw_request *req)
{
    bool conn_settings = false;
    int nsettings = 0;
    rw_str settings_b64 = { 0 };
    for (size_t i = 0; i < req->nheaders; i++) {
        rw_str n = req->headers[i].name, v = req->headers[i].value;
        if (RW_STR_IEQ(n, "connection")) {
            conn_settings |= rw_str_has_token(v, "http2-settings");
        } else if (RW_STR_IEQ(n, "http2-settings")) {
            nsettings++;
            settings_b64 = v;
        }
    }
    if (!conn_settings || nsettings != 1)
        return -1;
    uint8_t buf[RW_H2_SETTING_LEN * 32];
    long n = b64url_decode(settings_b64, buf, sizeof buf);
    if (n < 0 || n % RW_H2_SETTING_LEN)
        return -1;
    for (long i = 0; i < n; i += RW_H2_SETTING_LEN) {
        uint16_t id = (uint16_t)(buf[i] << 8 | buf[i + 1]);
        uint32_t v = (uint32_t)buf[i + 2] << 24 | (uint32_t)buf[i + 3] << 16 |
                     (uint32_t)buf[i + 4] << 8 | buf[i + 5];
        if (rw_h2_setting_check(id, v) != RW_H2_NO_ERROR)
            return -1;
    }
    static const char msg[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                              "Upgrade: h2c\r\n\r\n";
    rw_outbuf *o = rw_conn_outbuf(c);
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    if (!o || rw_outbuf_append(o, &pools, msg, sizeof msg - 1) != 0) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return 0; /* nothing more to do on this connection */
    }
    rw_conn_schedule(c);
    if (start(c) != 0)
        return 0;
    rw_h2_session *s = c->session;
    for (long i = 0; i < n; i += RW_H2_SETTING_LEN) {
        rw_h2_setting st = { (uint16_t)(buf[i] << 8 | buf[i + 1]),
                             (uint32_t)buf[i + 2] << 24 | (uint32_t)buf[i + 3] << 16 |
                                 (uint32_t)buf[i + 4] << 8 | buf[i + 5] };
        apply_setting(s, &st);
    }
    /* The HTTP/1.1 request becomes stream 1, half-closed (remote). */
    s->last_client_id = 1;
    rw_h2_stream *st = rw_h2_stream_new(s, 1);
    if (!st) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return 0;
    }
    st->state = RW_H2_ST_HALF_REMOTE;
    rw_h2_dispatch(st, req->method, req->target, req->headers, req->nheaders, req->body);
    return 0;
}

static int h2_start(rw_conn *c, rw_request *req)
{
    if (req)
        return start_upgrade(c, req);
    start(c); /* out of memory: c is DEAD, which the caller sees */
    return 0;
}

static void stream_cleanup_all(rw_h2_session *s)
{
    while (!rw_dlist_empty(&s->streams)) {
        rw_h2_stream *st = rw_container_of(s->streams.next, rw_h2_stream, link);
        rw_h2_stream_close(st);
    }
}

static void h2_free(rw_conn *c)
{
    rw_h2_session *s = rw_h2_of(c);
    if (!s)
        return;
    stream_cleanup_all(s);
    while (s->free_list) {
        rw_h2_stream *st = s->free_list;
        s->free_list = st->free_next;
        free(st);
    }
    rw_hpack_decoder_free(&s->dec);
    rw_hpack_encoder_free(&s->enc);
    free(s->fields);
    free(s->hdrs);
    free(s->scratch);
    free(s->hblock);
    free(s->enc_buf);
    free(s->rfields);
    free(s->lower);
    free(s);
    c->session = NULL;
}

static bool h2_paused(const rw_conn *c)
{
    return c->out && rw_outbuf_full(c->out);
}

static bool h2_busy(const rw_conn *c)
{
    const rw_h2_session *s = rw_h2_of(c);
    return s && (!rw_dlist_empty(&s->streams) || s->cont_stream != 0);
}

static void h2_on_drain(rw_conn *c)
{
    rw_h2_session *s = rw_h2_of(c);
    if (s)
        rw_h2_sched_run(s);
}

static void h2_drain(rw_conn *c)
{
    rw_h2_session *s = rw_h2_of(c);
    if (!s || s->dead || c->state != RW_CONN_ACTIVE)
        return;
    if (!s->goaway_sent)
        send_goaway(s, RW_H2_NO_ERROR, NULL);
    rw_h2_maybe_finish(s);
}

/* ---- frames ---------------------------------------------------------------- */

static void apply_setting(rw_h2_session *s, const rw_h2_setting *st)
{
    switch (st->id) {
    case RW_H2_SETTINGS_HEADER_TABLE_SIZE:
        rw_hpack_encoder_set_peer_limit(&s->enc, st->value);
        break;
    case RW_H2_SETTINGS_ENABLE_PUSH:
        s->push_enabled = st->value != 0;
        break;
    case RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS:
        s->peer_max_streams = st->value;
        break;
    case RW_H2_SETTINGS_INITIAL_WINDOW_SIZE: {
        int64_t delta = (int64_t)st->value - (int64_t)s->peer_initial_window;
        s->peer_initial_window = st->value;
        for (rw_dlist *it = s->streams.next; it != &s->streams; it = it->next) {
            rw_h2_stream *x = rw_container_of(it, rw_h2_stream, link);
            x->send_window += delta;
            if (x->send_window > RW_H2_MAX_WINDOW_SIZE) {
                rw_h2_conn_error(s, RW_H2_FLOW_CONTROL_ERROR, "initial window overflow");
                return;
            }
        }
        break;
    }
    case RW_H2_SETTINGS_MAX_FRAME_SIZE:
        s->peer_max_frame = st->value;
        break;
    default:
        break; /* MAX_HEADER_LIST_SIZE is advisory; unknown ids are ignored */
    }
}

static void on_settings(rw_h2_session *s, const rw_h2_frame *f)
{
    if (f->hd.flags & RW_H2_FLAG_ACK) {
        s->settings_acked = true;
        return;
    }
    if (rw_h2_flood(s, &s->n_settings, RW_H2_MAX_SETTINGS, "SETTINGS flood"))
        return;
    size_t pos = 0;
    rw_h2_setting st;
    while (rw_h2_settings_next(f, &pos, &st) && !s->dead)
        apply_setting(s, &st);
    if (s->dead)
        return;
    uint8_t ack[RW_H2_SETTINGS_ACK_FRAME_LEN];
    rw_h2_queue(s, ack, rw_h2_write_settings_ack(ack));
}

static void on_ping(rw_h2_session *s, const rw_h2_frame *f)
{
    if (f->hd.flags & RW_H2_FLAG_ACK)
        return; /* we never ping */
    if (rw_h2_flood(s, &s->n_ping, RW_H2_MAX_PINGS, "PING flood"))
        return;
    uint8_t out[RW_H2_PING_FRAME_LEN];
    rw_h2_queue(s, out, rw_h2_write_ping(out, true, f->ping));
}

static void on_goaway(rw_h2_session *s, const rw_h2_frame *f)
{
    (void)f;
    s->goaway_recv = true; /* no more pushes; finish what is open, then close */
    rw_h2_maybe_finish(s);
}

/* A stream id the client never used (idle) for a frame that needs an open
 * stream: connection PROTOCOL_ERROR (§5.1). */
static bool is_idle(const rw_h2_session *s, uint32_t id)
{
    return (id & 1) ? id > s->last_client_id : id >= s->next_push_id;
}

static void on_window_update(rw_h2_session *s, const rw_h2_frame *f)
{
    uint32_t id = f->hd.stream_id;
    uint32_t inc = f->window_increment;
    if (id == 0) {
        s->send_window += inc;
        if (s->send_window > RW_H2_MAX_WINDOW_SIZE)
            rw_h2_conn_error(s, RW_H2_FLOW_CONTROL_ERROR, "connection window overflow");
        return;
    }
    if (is_idle(s, id)) {
        rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "WINDOW_UPDATE on idle stream");
        return;
    }
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (!st)
        return; /* closed: allowed for a while (§6.9) */
    st->send_window += inc;
    if (st->send_window > RW_H2_MAX_WINDOW_SIZE)
        rw_h2_stream_error(st, RW_H2_FLOW_CONTROL_ERROR);
}

static void on_rst_stream(rw_h2_session *s, const rw_h2_frame *f)
{
    uint32_t id = f->hd.stream_id;
    if (is_idle(s, id)) {
        rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "RST_STREAM on idle stream");
        return;
    }
    /* Rapid reset (CVE-2023-44487): every reset costs us a request. */
    if (rw_h2_flood(s, &s->n_resets, RW_H2_MAX_RESETS, "RST_STREAM flood"))
        return;
    RW_PROBE3(h2__rst_received, s->c->fd, id, f->error_code);
    s->c->w->stats.h2_resets_received++;
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (st)
        rw_h2_stream_close(st);
    rw_h2_maybe_finish(s);
}

/* Returns our connection receive window to the peer once half is used. */
static void conn_window_refill(rw_h2_session *s)
{
    uint32_t target = s->our_initial_window > RW_H2_DEFAULT_WINDOW_SIZE ? s->our_initial_window
                                                                        : RW_H2_DEFAULT_WINDOW_SIZE;
    if (s->recv_unacked >= target / 2 && !s->dead) {
        send_window_update(s, 0, s->recv_unacked);
        s->recv_window += s->recv_unacked;
        s->recv_unacked = 0;
    }
}

static void on_data(rw_h2_session *s, const rw_h2_frame *f, uint32_t stream_error)
{
    uint32_t id = f->hd.stream_id;
    uint32_t flen = f->hd.length;
    if (flen > s->recv_window) {
        rw_h2_conn_error(s, RW_H2_FLOW_CONTROL_ERROR, "connection window exceeded");
        return;
    }
    s->recv_window -= flen;
    s->recv_unacked += flen;
    if (is_idle(s, id) || !(id & 1)) {
        rw_h2_conn_error(s, is_idle(s, id) ? RW_H2_PROTOCOL_ERROR : RW_H2_STREAM_CLOSED,
                         "DATA on idle stream");
        return;
    }
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (stream_error) {
        if (st)
            rw_h2_stream_error(st, stream_error);
        else
            rw_h2_send_rst(s, id, stream_error);
    } else if (!st) {
        /* §5.1: frames in flight after our RST_STREAM are ignored. */
        if (!rw_h2_we_reset(s, id))
            rw_h2_send_rst(s, id, RW_H2_STREAM_CLOSED);
    } else if (st->state != RW_H2_ST_OPEN) {
        rw_h2_stream_error(st, RW_H2_STREAM_CLOSED);
    } else if (flen > st->recv_window) {
        rw_h2_stream_error(st, RW_H2_FLOW_CONTROL_ERROR);
    } else {
        bool end = f->hd.flags & RW_H2_FLAG_END_STREAM;
        if (f->payload_len == 0 && !end &&
            rw_h2_flood(s, &s->n_empty_data, RW_H2_MAX_EMPTY_DATA, "empty DATA flood"))
            return;
        st->recv_window -= flen;
        st->recv_unacked += flen - f->payload_len; /* padding is returned at once */
        rw_h2_on_data(s, st, f->payload, f->payload_len, end);
    }
    conn_window_refill(s);
}

static bool block_append(rw_h2_session *s, const uint8_t *p, size_t n)
{
    size_t limit = (size_t)s->max_header_list * RW_H2_HBLOCK_FACTOR;
    if (s->hblock_len + n > limit) {
        rw_h2_conn_error(s, RW_H2_ENHANCE_YOUR_CALM, "header block too large");
        return false;
    }
    if (s->hblock_len + n > s->hblock_cap) {
        size_t cap = s->hblock_cap ? s->hblock_cap : 4096;
        while (cap < s->hblock_len + n)
            cap *= 2;
        uint8_t *nb = realloc(s->hblock, cap);
        if (!nb) {
            rw_conn_set_state(s->c, RW_CONN_DEAD);
            return false;
        }
        s->hblock = nb;
        s->hblock_cap = cap;
    }
    if (n)
        memcpy(s->hblock + s->hblock_len, p, n);
    s->hblock_len += n;
    return true;
}

static void on_headers(rw_h2_session *s, const rw_h2_frame *f, uint32_t forced_code)
{
    uint32_t id = f->hd.stream_id;
    if (!(id & 1)) {
        rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "HEADERS on an even stream id");
        return;
    }
    uint8_t kind = RW_H2_BLOCK_NEW;
    uint32_t code = 0;
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (st) {
        if (st->state == RW_H2_ST_OPEN) {
            kind = RW_H2_BLOCK_TRAILERS;
        } else {
            kind = RW_H2_BLOCK_DISCARD;
            code = RW_H2_STREAM_CLOSED; /* §5.1 half-closed (remote) */
        }
    } else if (id <= s->last_client_id) {
        if (rw_h2_we_reset(s, id)) {
            kind = RW_H2_BLOCK_DISCARD; /* e.g. trailers in flight: decode, ignore */
        } else if (rw_h2_recently_closed(s, id)) {
            rw_h2_conn_error(s, RW_H2_STREAM_CLOSED, "HEADERS on a closed stream");
            return;
        } else {
            rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "stream id not increasing");
            return;
        }
    } else {
        s->last_client_id = id;
        if (s->goaway_sent) {
            kind = RW_H2_BLOCK_DISCARD; /* above our GOAWAY's last id: ignored */
        } else if (s->nstreams >= s->max_streams) {
            if (rw_h2_flood(s, &s->n_refused, RW_H2_MAX_REFUSED, "refused stream flood"))
                return;
            kind = RW_H2_BLOCK_DISCARD;
            code = RW_H2_REFUSED_STREAM;
        }
    }
    if (forced_code) {
        kind = RW_H2_BLOCK_DISCARD;
        code = forced_code;
    }
    bool end_stream = f->hd.flags & RW_H2_FLAG_END_STREAM;
    if (f->hd.flags & RW_H2_FLAG_END_HEADERS) {
        rw_h2_on_header_block(s, id, kind, code, end_stream, f->payload, f->payload_len);
        return;
    }
    s->hblock_len = 0;
    if (!block_append(s, f->payload, f->payload_len))
        return;
    s->cont_stream = id;
    s->cont_kind = kind;
    s->cont_discard_code = code;
    s->cont_end_stream = end_stream;
    s->cont_frames = 0;
}

static void on_continuation(rw_h2_session *s, const rw_h2_frame *f)
{
    if (!s->cont_stream || f->hd.stream_id != s->cont_stream) {
        rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "CONTINUATION out of sequence");
        return;
    }
    if (++s->cont_frames > RW_H2_MAX_CONTINUATIONS) {
        rw_h2_conn_error(s, RW_H2_ENHANCE_YOUR_CALM, "CONTINUATION flood");
        return;
    }
    if (!block_append(s, f->payload, f->payload_len))
        return;
    if (f->hd.flags & RW_H2_FLAG_END_HEADERS) {
        uint32_t id = s->cont_stream;
        s->cont_stream = 0;
        rw_h2_on_header_block(s, id, s->cont_kind, s->cont_discard_code, s->cont_end_stream,
                              s->hblock, s->hblock_len);
        s->hblock_len = 0;
    }
}

static void on_frame(rw_h2_session *s, const rw_h2_frame *f)
{
    switch (f->hd.type) {
    case RW_H2_DATA:
        on_data(s, f, 0);
        break;
    case RW_H2_HEADERS:
        on_headers(s, f, 0);
        break;
    case RW_H2_PRIORITY:
        break; /* RFC 7540 priorities are deprecated; RFC 9218 header is used */
    case RW_H2_RST_STREAM:
        on_rst_stream(s, f);
        break;
    case RW_H2_SETTINGS:
        on_settings(s, f);
        break;
    case RW_H2_PUSH_PROMISE:
        rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "PUSH_PROMISE from a client");
        break;
    case RW_H2_PING:
        on_ping(s, f);
        break;
    case RW_H2_GOAWAY:
        on_goaway(s, f);
        break;
    case RW_H2_WINDOW_UPDATE:
        on_window_update(s, f);
        break;
    case RW_H2_CONTINUATION:
        on_continuation(s, f);
        break;
    default:
        break; /* unknown extension frames are ignored */
    }
}

/* A frame the codec rejected with a stream error (f fully decoded only if
 * have >= frame_len). */
static void on_stream_error_frame(rw_h2_session *s, const rw_h2_frame *f, bool whole)
{
    uint32_t id = f->hd.stream_id;
    if (f->hd.type == RW_H2_HEADERS && whole) {
        on_headers(s, f, f->error_code); /* HPACK must still see the block */
        return;
    }
    if (f->hd.type == RW_H2_DATA) {
        on_data(s, f, f->error_code);
        return;
    }
    if (is_idle(s, id)) {
        /* No RST_STREAM may name an idle stream (§6.4), so the stream error
         * becomes a connection error. Only a PRIORITY of the wrong size is
         * dropped: harmless, and priorities are ignored anyway. A stream that
         * depends on itself (§5.3.1, PROTOCOL_ERROR) is not. */
        if (f->hd.type != RW_H2_PRIORITY || f->error_code != RW_H2_FRAME_SIZE_ERROR)
            rw_h2_conn_error(s, f->error_code, f->error_reason);
        return;
    }
    rw_h2_stream *st = rw_h2_stream_find(s, id);
    if (st)
        rw_h2_stream_error(st, f->error_code);
    else
        rw_h2_send_rst(s, id, f->error_code);
}

static size_t h2_process(rw_conn *c, const char *buf, size_t len)
{
    rw_h2_session *s = rw_h2_of(c);
    if (!s)
        return len;
    const uint8_t *in = (const uint8_t *)buf;
    size_t pos = 0;
    if (s->dead)
        return len;
    if (s->skip) {
        size_t k = s->skip < len ? s->skip : len;
        s->skip -= k;
        pos += k;
    }
    if (!s->preface_ok) {
        size_t k = len - pos < RW_H2_CLIENT_PREFACE_LEN ? len - pos : RW_H2_CLIENT_PREFACE_LEN;
        if (memcmp(in + pos, RW_H2_CLIENT_PREFACE, k) != 0) {
            rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "bad client preface");
            return len;
        }
        if (k < RW_H2_CLIENT_PREFACE_LEN)
            return pos;
        pos += RW_H2_CLIENT_PREFACE_LEN;
        s->preface_ok = true;
    }
    if (!s->settings_acked &&
        c->w->clock.now_ms - s->settings_sent_ms > RW_H2_SETTINGS_TIMEOUT_MS) {
        rw_h2_conn_error(s, RW_H2_SETTINGS_TIMEOUT, "SETTINGS not acknowledged");
        return len;
    }
    /* A peer that keeps the connection busy (PINGs) but never opens its
     * window would hold the response forever: the busy timer alone does not
     * see that. */
    if (rw_h2_sched_stalled(s, c->w->clock.now_ms, c->w->cfg->keepalive_timeout_ms)) {
        rw_h2_conn_error(s, RW_H2_ENHANCE_YOUR_CALM, "flow-control window stalled");
        return len;
    }
    while (pos < len && c->state == RW_CONN_ACTIVE && !s->dead) {
        if (h2_paused(c))
            break;
        rw_h2_frame f;
        int r = rw_h2_frame_decode(in + pos, len - pos, s->our_max_frame, &f);
        if (r == RW_H2_INCOMPLETE)
            break;
        if (s->cont_stream && f.hd.type != RW_H2_CONTINUATION) {
            rw_h2_conn_error(s, RW_H2_PROTOCOL_ERROR, "frame inside a header block");
            return len;
        }
        if (r == RW_H2_FAIL_CONNECTION) {
            rw_h2_conn_error(s, f.error_code, f.error_reason);
            return len;
        }
        if (r == RW_H2_FAIL_STREAM) {
            size_t have = len - pos;
            bool whole = have >= f.frame_len;
            on_stream_error_frame(s, &f, whole);
            if (whole) {
                pos += f.frame_len;
            } else {
                s->skip = f.frame_len - have;
                pos = len;
            }
            continue;
        }
        pos += (size_t)r;
        on_frame(s, &f);
    }
    if (c->state == RW_CONN_DEAD)
        return len;
    if (!s->dead)
        rw_h2_sched_run(s);
    return s->dead ? len : pos;
}

/* An idle connection timed out: say goodbye properly (GOAWAY), then close. */
static void h2_timeout(rw_conn *c)
{
    if (c->timer == RW_TIMER_IDLE)
        h2_drain(c);
}

const rw_engine rw_h2_engine = {
    .name = "h2",
    .start = h2_start,
    .process = h2_process,
    .paused = h2_paused,
    .busy = h2_busy,
    .on_drain = h2_on_drain,
    .drain = h2_drain,
    .timeout = h2_timeout,
    .free = h2_free,
};
