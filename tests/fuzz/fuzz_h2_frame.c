/* libFuzzer harness for the HTTP/2 frame codec. The first input byte picks
 * the SETTINGS_MAX_FRAME_SIZE we advertise and the max frame size used to
 * re-split field blocks; the rest is decoded frame after frame the way the
 * engine does it. Invariants:
 *   - the decoder never claims more than it got, and on INCOMPLETE asks for
 *     more than it has;
 *   - every view lies inside the frame it came from;
 *   - errors carry a known RFC code, a reason, and a class consistent with
 *     the frame (stream errors only on streams);
 *   - strict prefixes of a good frame are INCOMPLETE with the right total;
 *   - a good known frame written again by the writers decodes to the same
 *     fields, and a field block re-split into HEADERS/PUSH_PROMISE +
 *     CONTINUATION* reassembles to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http2/frame.h"

#define REQUIRE(c)                                                                             \
    do {                                                                                       \
        if (!(c))                                                                              \
            abort();                                                                           \
    } while (0)

static const uint32_t max_frames[] = { RW_H2_DEFAULT_MAX_FRAME_SIZE, 64, 9, 0,
                                       RW_H2_MAX_MAX_FRAME_SIZE, 1000, 16, 100000 };
static const uint32_t split_maxes[] = { 1, 4, 5, 7, 13, 100, 16384, 0xffffffffu };

static void check_prefixes(const uint8_t *p, int rc, uint32_t maxf)
{
    const size_t ks[] = { 0, 1, 8, 9, 10, (size_t)rc / 2, (size_t)rc - 1 };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t k = ks[i];
        if (k >= (size_t)rc)
            continue;
        rw_h2_frame g;
        REQUIRE(rw_h2_frame_decode(p, k, maxf, &g) == RW_H2_INCOMPLETE);
        REQUIRE(g.frame_len == (k < RW_H2_FRAME_HEADER_LEN ? RW_H2_FRAME_HEADER_LEN : (uint32_t)rc));
    }
}

/* Writes f again with the writers and decodes the result into g. */
static void rewrite(const rw_h2_frame *f, uint8_t *w, rw_h2_frame *g)
{
    const uint8_t fl = f->hd.flags;
    const uint32_t sid = f->hd.stream_id;
    size_t n = 0;
    switch (f->hd.type) {
    case RW_H2_DATA:
        n = rw_h2_write_data_header(w, sid, f->payload_len, fl & RW_H2_FLAG_END_STREAM);
        break;
    case RW_H2_HEADERS:
        n = rw_h2_write_headers_header(w, sid, f->payload_len, fl & RW_H2_FLAG_END_STREAM,
                                       fl & RW_H2_FLAG_END_HEADERS,
                                       f->has_priority ? &f->priority : NULL);
        break;
    case RW_H2_PRIORITY:
        n = rw_h2_write_priority(w, sid, &f->priority);
        break;
    case RW_H2_RST_STREAM:
        n = rw_h2_write_rst_stream(w, sid, f->rst_error);
        break;
    case RW_H2_SETTINGS:
        if (fl & RW_H2_FLAG_ACK) {
            n = rw_h2_write_settings_ack(w);
        } else {
            rw_h2_setting *s = malloc((f->settings_count + 1) * sizeof *s);
            size_t pos = 0, i = 0;
            while (rw_h2_settings_next(f, &pos, &s[i]))
                i++;
            REQUIRE(i == f->settings_count);
            n = rw_h2_write_settings(w, s, i);
            free(s);
        }
        break;
    case RW_H2_PUSH_PROMISE:
        n = rw_h2_write_push_promise_header(w, sid, f->promised_stream_id, f->payload_len,
                                            fl & RW_H2_FLAG_END_HEADERS);
        break;
    case RW_H2_PING:
        n = rw_h2_write_ping(w, fl & RW_H2_FLAG_ACK, f->ping);
        break;
    case RW_H2_GOAWAY:
        n = rw_h2_write_goaway(w, f->goaway.last_stream_id, f->goaway.error, f->payload,
                               f->payload_len);
        break;
    case RW_H2_WINDOW_UPDATE:
        n = rw_h2_write_window_update(w, sid, f->window_increment);
        break;
    case RW_H2_CONTINUATION:
        n = rw_h2_write_continuation_header(w, sid, f->payload_len, fl & RW_H2_FLAG_END_HEADERS);
        break;
    default: /* unknown: same header, payload verbatim */
        n = rw_h2_write_frame_header(w, f->payload_len, f->hd.type, fl, sid);
        break;
    }
    /* Writers that emit only a header: the content follows. */
    switch (f->hd.type) {
    case RW_H2_DATA:
    case RW_H2_HEADERS:
    case RW_H2_PUSH_PROMISE:
    case RW_H2_CONTINUATION:
        if (f->payload_len)
            memcpy(w + n, f->payload, f->payload_len);
        n += f->payload_len;
        break;
    default:
        if (!rw_h2_frame_type_known(f->hd.type)) {
            if (f->payload_len)
                memcpy(w + n, f->payload, f->payload_len);
            n += f->payload_len;
        }
        break;
    }
    REQUIRE(rw_h2_frame_decode(w, n, RW_H2_MAX_MAX_FRAME_SIZE, g) == (int)n);
}

static void check_roundtrip(const rw_h2_frame *f, const rw_h2_frame *g)
{
    const uint8_t t = f->hd.type;
    REQUIRE(g->hd.type == t && g->hd.stream_id == f->hd.stream_id);
    size_t cmp_len = f->payload_len;
    if (t == RW_H2_GOAWAY && cmp_len > RW_H2_GOAWAY_MAX_DEBUG)
        cmp_len = RW_H2_GOAWAY_MAX_DEBUG; /* the writer cuts debug data */
    /* WINDOW_UPDATE's payload holds a reserved bit the writer clears: its
     * increment is compared below instead. */
    if (t != RW_H2_WINDOW_UPDATE) {
        REQUIRE(g->payload_len == cmp_len);
        REQUIRE(cmp_len == 0 || memcmp(g->payload, f->payload, cmp_len) == 0);
    }
    /* The defined flags survive (padding is never written). */
    uint8_t keep = 0;
    switch (t) {
    case RW_H2_DATA: keep = RW_H2_FLAG_END_STREAM; break;
    case RW_H2_HEADERS:
        keep = RW_H2_FLAG_END_STREAM | RW_H2_FLAG_END_HEADERS | RW_H2_FLAG_PRIORITY;
        break;
    case RW_H2_SETTINGS:
    case RW_H2_PING: keep = RW_H2_FLAG_ACK; break;
    case RW_H2_PUSH_PROMISE:
    case RW_H2_CONTINUATION: keep = RW_H2_FLAG_END_HEADERS; break;
    default: keep = rw_h2_frame_type_known(t) ? 0 : 0xff; break;
    }
    REQUIRE((g->hd.flags & keep) == (f->hd.flags & keep));
    REQUIRE(g->has_priority == f->has_priority);
    if (f->has_priority)
        REQUIRE(g->priority.dependency == f->priority.dependency &&
                g->priority.weight == f->priority.weight &&
                g->priority.exclusive == f->priority.exclusive);
    switch (t) {
    case RW_H2_RST_STREAM: REQUIRE(g->rst_error == f->rst_error); break;
    case RW_H2_SETTINGS: REQUIRE(g->settings_count == f->settings_count); break;
    case RW_H2_PUSH_PROMISE: REQUIRE(g->promised_stream_id == f->promised_stream_id); break;
    case RW_H2_PING: REQUIRE(memcmp(g->ping, f->ping, RW_H2_PING_OPAQUE_LEN) == 0); break;
    case RW_H2_GOAWAY:
        REQUIRE(g->goaway.last_stream_id == f->goaway.last_stream_id &&
                g->goaway.error == f->goaway.error);
        break;
    case RW_H2_WINDOW_UPDATE: REQUIRE(g->window_increment == f->window_increment); break;
    default: break;
    }
}

/* Re-splits a HEADERS / PUSH_PROMISE fragment and reassembles it. */
static void check_split(const rw_h2_frame *f, uint32_t split)
{
    bool push = f->hd.type == RW_H2_PUSH_PROMISE;
    if (push && split < 4)
        return;
    size_t need = push ? rw_h2_push_promise_block_size(f->payload_len, split)
                       : rw_h2_header_block_size(f->payload_len, split);
    REQUIRE(need > 0);
    uint8_t *w = malloc(need);
    bool es = (f->hd.flags & RW_H2_FLAG_END_STREAM) != 0;
    size_t n = push ? rw_h2_write_push_promise_block(w, need, f->hd.stream_id,
                                                     f->promised_stream_id, f->payload,
                                                     f->payload_len, split)
                    : rw_h2_write_header_block(w, need, f->hd.stream_id, f->payload,
                                               f->payload_len, split, es);
    REQUIRE(n == need);
    uint32_t dec_max = split > RW_H2_MAX_MAX_FRAME_SIZE ? RW_H2_MAX_MAX_FRAME_SIZE : split;
    size_t off = 0, got = 0;
    for (bool first = true;; first = false) {
        rw_h2_frame g;
        int rc = rw_h2_frame_decode(w + off, n - off, dec_max, &g);
        REQUIRE(rc > 0 && g.hd.stream_id == f->hd.stream_id);
        REQUIRE(g.hd.type == (first ? f->hd.type : RW_H2_CONTINUATION));
        if (first && push)
            REQUIRE(g.promised_stream_id == f->promised_stream_id);
        if (first && !push)
            REQUIRE(((g.hd.flags & RW_H2_FLAG_END_STREAM) != 0) == es);
        REQUIRE(got + g.payload_len <= f->payload_len);
        REQUIRE(g.payload_len == 0 || memcmp(g.payload, f->payload + got, g.payload_len) == 0);
        got += g.payload_len;
        off += (size_t)rc;
        if (g.hd.flags & RW_H2_FLAG_END_HEADERS)
            break;
        REQUIRE(off < n);
    }
    REQUIRE(off == n && got == f->payload_len);
    free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint32_t maxf = max_frames[data[0] & 7];
    const uint32_t split = split_maxes[(data[0] >> 3) & 7];
    const uint8_t *in = data + 1;
    const size_t len = size - 1;

    size_t off = 0;
    while (off < len) {
        const uint8_t *p = in + off;
        const size_t left = len - off;
        rw_h2_frame f;
        int rc = rw_h2_frame_decode(p, left, maxf, &f);
        if (rc == RW_H2_INCOMPLETE) {
            REQUIRE(f.frame_len > left && f.frame_len >= RW_H2_FRAME_HEADER_LEN);
            REQUIRE(left < RW_H2_FRAME_HEADER_LEN || f.frame_len - RW_H2_FRAME_HEADER_LEN <= maxf);
            break;
        }
        if (rc == RW_H2_FAIL_CONNECTION || rc == RW_H2_FAIL_STREAM) {
            REQUIRE(left >= RW_H2_FRAME_HEADER_LEN);
            REQUIRE(f.error_code >= RW_H2_PROTOCOL_ERROR && f.error_code <= RW_H2_ERROR_MAX);
            REQUIRE(f.error_reason != NULL);
            REQUIRE(f.frame_len == RW_H2_FRAME_HEADER_LEN + f.hd.length);
            REQUIRE(f.error_is_stream == (rc == RW_H2_FAIL_STREAM));
            if (rc == RW_H2_FAIL_CONNECTION)
                break;
            REQUIRE(f.hd.stream_id != 0);
            if (f.frame_len > left)
                break;
            off += f.frame_len; /* the engine resets the stream and goes on */
            continue;
        }
        REQUIRE(rc >= RW_H2_FRAME_HEADER_LEN && (size_t)rc <= left);
        REQUIRE((uint32_t)rc == f.frame_len && f.hd.length <= maxf);
        REQUIRE(f.error_code == RW_H2_NO_ERROR && f.error_reason == NULL);
        REQUIRE(f.payload >= p + RW_H2_FRAME_HEADER_LEN);
        REQUIRE(f.payload + f.payload_len <= p + rc);
        REQUIRE(f.payload_len + f.pad_len <= f.hd.length);
        check_prefixes(p, rc, maxf);

        uint8_t *w = malloc((size_t)rc + 64);
        rw_h2_frame g;
        rewrite(&f, w, &g);
        check_roundtrip(&f, &g);
        free(w);
        if (f.hd.type == RW_H2_HEADERS || f.hd.type == RW_H2_PUSH_PROMISE)
            check_split(&f, split);
        off += (size_t)rc;
    }
    return 0;
}
