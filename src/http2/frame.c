/* HTTP/2 frame codec (RFC 9113 §4, §6). See frame.h for the contract and
 * docs/http2-frames.md for the validation table this file implements. */
#include "http2/frame.h"

#include <string.h>

static inline uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t rd24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- decoding ------------------------------------------------------------ */

void rw_h2_frame_header_parse(const uint8_t in[RW_H2_FRAME_HEADER_LEN], rw_h2_frame_header *h)
{
    h->length = rd24(in);
    h->type = in[3];
    h->flags = in[4];
    h->stream_id = rd32(in + 5) & RW_H2_MAX_STREAM_ID; /* R bit: ignored on receipt */
}

static int fail(rw_h2_frame *f, uint32_t code, bool stream, const char *why)
{
    f->error_code = code;
    f->error_is_stream = stream;
    f->error_reason = why;
    return stream ? RW_H2_FAIL_STREAM : RW_H2_FAIL_CONNECTION;
}

static inline void read_priority(const uint8_t *p, rw_h2_priority *pr)
{
    uint32_t v = rd32(p);
    pr->exclusive = (v >> 31) != 0;
    pr->dependency = v & RW_H2_MAX_STREAM_ID;
    pr->weight = p[4];
}

uint32_t rw_h2_setting_check(uint16_t id, uint32_t value)
{
    switch (id) {
    case RW_H2_SETTINGS_ENABLE_PUSH:
    case RW_H2_SETTINGS_ENABLE_CONNECT_PROTOCOL:
    case RW_H2_SETTINGS_NO_RFC7540_PRIORITIES:
        return value > 1 ? RW_H2_PROTOCOL_ERROR : RW_H2_NO_ERROR;
    case RW_H2_SETTINGS_INITIAL_WINDOW_SIZE:
        return value > RW_H2_MAX_WINDOW_SIZE ? RW_H2_FLOW_CONTROL_ERROR : RW_H2_NO_ERROR;
    case RW_H2_SETTINGS_MAX_FRAME_SIZE:
        return value < RW_H2_DEFAULT_MAX_FRAME_SIZE || value > RW_H2_MAX_MAX_FRAME_SIZE
                   ? RW_H2_PROTOCOL_ERROR
                   : RW_H2_NO_ERROR;
    default: /* HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE: any
              * 32-bit value; unknown ids are ignored (§6.5.2) */
        return RW_H2_NO_ERROR;
    }
}

/* A frame over SETTINGS_MAX_FRAME_SIZE is a connection error if it could
 * alter connection state (§4.2). Only DATA and PRIORITY on a stream are
 * known not to: RST_STREAM and WINDOW_UPDATE with a wrong length are
 * connection errors anyway (§6.4, §6.9), and an unknown extension frame
 * might alter state, so it closes the connection too (always allowed:
 * §5.4.2 lets an endpoint treat any stream error as a connection error). */
static inline bool oversize_is_stream_error(const rw_h2_frame_header *h)
{
    return h->stream_id != 0 && (h->type == RW_H2_DATA || h->type == RW_H2_PRIORITY);
}

/* Checks that need only the 9-byte header: stream id and fixed lengths. */
static int check_header(rw_h2_frame *f)
{
    const rw_h2_frame_header *h = &f->hd;
    uint32_t min;
    switch (h->type) {
    case RW_H2_DATA:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "DATA on stream 0");
        if ((h->flags & RW_H2_FLAG_PADDED) && h->length < 1)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "DATA too short for Pad Length");
        return 0;
    case RW_H2_HEADERS:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "HEADERS on stream 0");
        min = ((h->flags & RW_H2_FLAG_PADDED) ? 1u : 0u) +
              ((h->flags & RW_H2_FLAG_PRIORITY) ? RW_H2_PRIORITY_FIELDS_LEN : 0u);
        if (h->length < min)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "HEADERS too short for its fields");
        return 0;
    case RW_H2_PRIORITY:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "PRIORITY on stream 0");
        if (h->length != RW_H2_PRIORITY_FIELDS_LEN)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, true, "PRIORITY length is not 5");
        return 0;
    case RW_H2_RST_STREAM:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "RST_STREAM on stream 0");
        if (h->length != 4)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "RST_STREAM length is not 4");
        return 0;
    case RW_H2_SETTINGS:
        if (h->stream_id != 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "SETTINGS on a stream");
        if ((h->flags & RW_H2_FLAG_ACK) && h->length != 0)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "SETTINGS ACK with a payload");
        if (h->length % RW_H2_SETTING_LEN != 0)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "SETTINGS length not a multiple of 6");
        return 0;
    case RW_H2_PUSH_PROMISE:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "PUSH_PROMISE on stream 0");
        min = ((h->flags & RW_H2_FLAG_PADDED) ? 1u : 0u) + 4u;
        if (h->length < min)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "PUSH_PROMISE too short");
        return 0;
    case RW_H2_PING:
        if (h->stream_id != 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "PING on a stream");
        if (h->length != RW_H2_PING_OPAQUE_LEN)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "PING length is not 8");
        return 0;
    case RW_H2_GOAWAY:
        if (h->stream_id != 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "GOAWAY on a stream");
        if (h->length < 8)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "GOAWAY shorter than 8");
        return 0;
    case RW_H2_WINDOW_UPDATE:
        if (h->length != 4)
            return fail(f, RW_H2_FRAME_SIZE_ERROR, false, "WINDOW_UPDATE length is not 4");
        return 0;
    case RW_H2_CONTINUATION:
        if (h->stream_id == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, false, "CONTINUATION on stream 0");
        return 0;
    default: /* unknown types are ignored whatever their stream (§5.5) */
        return 0;
    }
}

/* Removes padding whose Pad Length byte is p[0], given `fixed` bytes of
 * Pad Length + other fields before the content (header checks guarantee
 * length >= fixed). */
static inline int strip_padding(rw_h2_frame *f, const uint8_t *p, uint32_t fixed)
{
    uint32_t pad = p[0];
    if (pad > f->hd.length - fixed)
        return fail(f, RW_H2_PROTOCOL_ERROR, false, "padding exceeds the payload");
    f->pad_len = (uint8_t)pad;
    f->payload_len = f->hd.length - fixed - pad;
    return 0;
}

int rw_h2_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_size, rw_h2_frame *f)
{
    f->error_code = RW_H2_NO_ERROR;
    f->error_is_stream = false;
    f->error_reason = NULL;
    if (len < RW_H2_FRAME_HEADER_LEN) {
        f->frame_len = RW_H2_FRAME_HEADER_LEN;
        return RW_H2_INCOMPLETE;
    }
    rw_h2_frame_header_parse(buf, &f->hd);
    const uint32_t n = f->hd.length;
    f->frame_len = RW_H2_FRAME_HEADER_LEN + n;

    if (n > max_frame_size)
        return fail(f, RW_H2_FRAME_SIZE_ERROR, oversize_is_stream_error(&f->hd),
                    "frame larger than SETTINGS_MAX_FRAME_SIZE");
    int rc = check_header(f);
    if (rc != 0)
        return rc;
    if (len < f->frame_len)
        return RW_H2_INCOMPLETE;

    const uint8_t *p = buf + RW_H2_FRAME_HEADER_LEN;
    const uint8_t flags = f->hd.flags;
    f->payload = p;
    f->payload_len = n;
    f->pad_len = 0;
    f->has_priority = false;

    switch (f->hd.type) {
    case RW_H2_DATA:
        if (flags & RW_H2_FLAG_PADDED) {
            if ((rc = strip_padding(f, p, 1)) != 0)
                return rc;
            f->payload = p + 1;
        }
        break;
    case RW_H2_HEADERS: {
        uint32_t off = (flags & RW_H2_FLAG_PADDED) ? 1 : 0;
        if (flags & RW_H2_FLAG_PRIORITY) {
            read_priority(p + off, &f->priority);
            f->has_priority = true;
            off += RW_H2_PRIORITY_FIELDS_LEN;
        }
        if (flags & RW_H2_FLAG_PADDED) {
            if ((rc = strip_padding(f, p, off)) != 0)
                return rc;
        } else {
            f->payload_len = n - off;
        }
        f->payload = p + off;
        if (f->has_priority && f->priority.dependency == f->hd.stream_id)
            return fail(f, RW_H2_PROTOCOL_ERROR, true, "stream depends on itself");
        break;
    }
    case RW_H2_PRIORITY:
        read_priority(p, &f->priority);
        f->has_priority = true;
        if (f->priority.dependency == f->hd.stream_id)
            return fail(f, RW_H2_PROTOCOL_ERROR, true, "stream depends on itself");
        break;
    case RW_H2_RST_STREAM:
        f->rst_error = rd32(p);
        break;
    case RW_H2_SETTINGS:
        f->settings_count = n / RW_H2_SETTING_LEN;
        for (uint32_t i = 0; i < n; i += RW_H2_SETTING_LEN) {
            uint32_t code = rw_h2_setting_check((uint16_t)rd16(p + i), rd32(p + i + 2));
            if (code != RW_H2_NO_ERROR)
                return fail(f, code, false, "SETTINGS value out of range");
        }
        break;
    case RW_H2_PUSH_PROMISE: {
        uint32_t off = (flags & RW_H2_FLAG_PADDED) ? 1 : 0;
        f->promised_stream_id = rd32(p + off) & RW_H2_MAX_STREAM_ID;
        off += 4;
        if (flags & RW_H2_FLAG_PADDED) {
            if ((rc = strip_padding(f, p, off)) != 0)
                return rc;
        } else {
            f->payload_len = n - off;
        }
        f->payload = p + off;
        break;
    }
    case RW_H2_PING:
        memcpy(f->ping, p, RW_H2_PING_OPAQUE_LEN);
        break;
    case RW_H2_GOAWAY:
        f->goaway.last_stream_id = rd32(p) & RW_H2_MAX_STREAM_ID;
        f->goaway.error = rd32(p + 4);
        f->payload = p + 8;
        f->payload_len = n - 8;
        break;
    case RW_H2_WINDOW_UPDATE:
        f->window_increment = rd32(p) & RW_H2_MAX_WINDOW_SIZE;
        if (f->window_increment == 0)
            return fail(f, RW_H2_PROTOCOL_ERROR, f->hd.stream_id != 0,
                        "WINDOW_UPDATE increment 0");
        break;
    default: /* CONTINUATION and unknown types: the payload is the content */
        break;
    }
    return (int)f->frame_len;
}

bool rw_h2_settings_next(const rw_h2_frame *f, size_t *pos, rw_h2_setting *out)
{
    if (f->hd.type != RW_H2_SETTINGS || *pos + RW_H2_SETTING_LEN > f->payload_len)
        return false;
    const uint8_t *p = f->payload + *pos;
    out->id = (uint16_t)rd16(p);
    out->value = rd32(p + 2);
    *pos += RW_H2_SETTING_LEN;
    return true;
}

const char *rw_h2_frame_type_name(uint8_t type)
{
    static const char *const names[] = {
        "DATA",     "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
        "PUSH_PROMISE", "PING", "GOAWAY",  "WINDOW_UPDATE", "CONTINUATION",
    };
    return type <= RW_H2_FRAME_TYPE_MAX ? names[type] : "UNKNOWN";
}

/* ---- encoding ------------------------------------------------------------ */

size_t rw_h2_write_frame_header(uint8_t *out, uint32_t length, uint8_t type, uint8_t flags,
                                uint32_t stream_id)
{
    out[0] = (uint8_t)(length >> 16);
    out[1] = (uint8_t)(length >> 8);
    out[2] = (uint8_t)length;
    out[3] = type;
    out[4] = flags;
    wr32(out + 5, stream_id & RW_H2_MAX_STREAM_ID); /* R bit: unset when sending */
    return RW_H2_FRAME_HEADER_LEN;
}

size_t rw_h2_write_settings(uint8_t *out, const rw_h2_setting *s, size_t n)
{
    uint8_t *o = out + rw_h2_write_frame_header(out, (uint32_t)(n * RW_H2_SETTING_LEN),
                                                RW_H2_SETTINGS, 0, 0);
    for (size_t i = 0; i < n; i++, o += RW_H2_SETTING_LEN) {
        wr16(o, s[i].id);
        wr32(o + 2, s[i].value);
    }
    return (size_t)(o - out);
}

size_t rw_h2_write_settings_ack(uint8_t *out)
{
    return rw_h2_write_frame_header(out, 0, RW_H2_SETTINGS, RW_H2_FLAG_ACK, 0);
}

size_t rw_h2_write_ping(uint8_t *out, bool ack, const uint8_t opaque[RW_H2_PING_OPAQUE_LEN])
{
    rw_h2_write_frame_header(out, RW_H2_PING_OPAQUE_LEN, RW_H2_PING, ack ? RW_H2_FLAG_ACK : 0, 0);
    memcpy(out + RW_H2_FRAME_HEADER_LEN, opaque, RW_H2_PING_OPAQUE_LEN);
    return RW_H2_PING_FRAME_LEN;
}

size_t rw_h2_write_goaway(uint8_t *out, uint32_t last_stream_id, uint32_t error_code,
                          const void *debug, size_t debug_len)
{
    if (debug_len > RW_H2_GOAWAY_MAX_DEBUG)
        debug_len = RW_H2_GOAWAY_MAX_DEBUG;
    rw_h2_write_frame_header(out, (uint32_t)(8 + debug_len), RW_H2_GOAWAY, 0, 0);
    wr32(out + 9, last_stream_id & RW_H2_MAX_STREAM_ID);
    wr32(out + 13, error_code);
    if (debug_len)
        memcpy(out + 17, debug, debug_len);
    return RW_H2_GOAWAY_FRAME_LEN(debug_len);
}

size_t rw_h2_write_rst_stream(uint8_t *out, uint32_t stream_id, uint32_t error_code)
{
    rw_h2_write_frame_header(out, 4, RW_H2_RST_STREAM, 0, stream_id);
    wr32(out + 9, error_code);
    return RW_H2_RST_STREAM_FRAME_LEN;
}

size_t rw_h2_write_window_update(uint8_t *out, uint32_t stream_id, uint32_t increment)
{
    rw_h2_write_frame_header(out, 4, RW_H2_WINDOW_UPDATE, 0, stream_id);
    wr32(out + 9, increment & RW_H2_MAX_WINDOW_SIZE);
    return RW_H2_WINDOW_UPDATE_FRAME_LEN;
}

static inline void write_priority_fields(uint8_t *o, const rw_h2_priority *p)
{
    wr32(o, (p->dependency & RW_H2_MAX_STREAM_ID) | (p->exclusive ? 0x80000000u : 0));
    o[4] = p->weight;
}

size_t rw_h2_write_priority(uint8_t *out, uint32_t stream_id, const rw_h2_priority *p)
{
    rw_h2_write_frame_header(out, RW_H2_PRIORITY_FIELDS_LEN, RW_H2_PRIORITY, 0, stream_id);
    write_priority_fields(out + RW_H2_FRAME_HEADER_LEN, p);
    return RW_H2_PRIORITY_FRAME_LEN;
}

size_t rw_h2_write_data_header(uint8_t *out, uint32_t stream_id, uint32_t len, bool end_stream)
{
    return rw_h2_write_frame_header(out, len, RW_H2_DATA, end_stream ? RW_H2_FLAG_END_STREAM : 0,
                                    stream_id);
}

size_t rw_h2_write_headers_header(uint8_t *out, uint32_t stream_id, uint32_t fragment_len,
                                  bool end_stream, bool end_headers, const rw_h2_priority *prio)
{
    uint8_t flags = (uint8_t)((end_stream ? RW_H2_FLAG_END_STREAM : 0) |
                              (end_headers ? RW_H2_FLAG_END_HEADERS : 0) |
                              (prio ? RW_H2_FLAG_PRIORITY : 0));
    uint32_t extra = prio ? RW_H2_PRIORITY_FIELDS_LEN : 0;
    rw_h2_write_frame_header(out, fragment_len + extra, RW_H2_HEADERS, flags, stream_id);
    if (prio)
        write_priority_fields(out + RW_H2_FRAME_HEADER_LEN, prio);
    return RW_H2_FRAME_HEADER_LEN + extra;
}

size_t rw_h2_write_continuation_header(uint8_t *out, uint32_t stream_id, uint32_t fragment_len,
                                       bool end_headers)
{
    return rw_h2_write_frame_header(out, fragment_len, RW_H2_CONTINUATION,
                                    end_headers ? RW_H2_FLAG_END_HEADERS : 0, stream_id);
}

size_t rw_h2_write_push_promise_header(uint8_t *out, uint32_t stream_id, uint32_t promised_id,
                                       uint32_t fragment_len, bool end_headers)
{
    rw_h2_write_frame_header(out, fragment_len + 4, RW_H2_PUSH_PROMISE,
                             end_headers ? RW_H2_FLAG_END_HEADERS : 0, stream_id);
    wr32(out + RW_H2_FRAME_HEADER_LEN, promised_id & RW_H2_MAX_STREAM_ID);
    return RW_H2_PUSH_PROMISE_HEADER_LEN;
}

/* Field block splitting: the first frame carries `extra` bytes of its own
 * fields (4 for PUSH_PROMISE's promised id), so it has max - extra bytes of
 * fragment; each CONTINUATION has up to max. */
static size_t block_size(size_t len, uint32_t max, uint32_t extra)
{
    if (max > RW_H2_MAX_MAX_FRAME_SIZE)
        max = RW_H2_MAX_MAX_FRAME_SIZE; /* the length field has 24 bits */
    if (max == 0 || max < extra)
        return 0;
    size_t first = len < max - extra ? len : max - extra;
    size_t rest = len - first;
    size_t ncont = rest / max + (rest % max != 0);
    return RW_H2_FRAME_HEADER_LEN + extra + first + ncont * RW_H2_FRAME_HEADER_LEN + rest;
}

size_t rw_h2_header_block_size(size_t block_len, uint32_t max_frame)
{
    return block_size(block_len, max_frame, 0);
}

size_t rw_h2_push_promise_block_size(size_t block_len, uint32_t max_frame)
{
    return block_size(block_len, max_frame, 4);
}

static size_t write_block(uint8_t *out, size_t cap, uint32_t stream_id, bool push,
                          uint32_t promised_id, const uint8_t *block, size_t len, uint32_t max,
                          bool end_stream)
{
    uint32_t extra = push ? 4 : 0;
    size_t need = block_size(len, max, extra);
    if (need == 0 || need > cap)
        return 0;
    if (max > RW_H2_MAX_MAX_FRAME_SIZE)
        max = RW_H2_MAX_MAX_FRAME_SIZE;
    size_t chunk = len < max - extra ? len : max - extra;
    uint8_t *o = out;
    if (push)
        o += rw_h2_write_push_promise_header(o, stream_id, promised_id, (uint32_t)chunk,
                                             chunk == len);
    else
        o += rw_h2_write_headers_header(o, stream_id, (uint32_t)chunk, end_stream, chunk == len,
                                        NULL);
    if (chunk)
        memcpy(o, block, chunk);
    o += chunk;
    for (size_t off = chunk; off < len; off += chunk) {
        chunk = len - off < max ? len - off : max;
        o += rw_h2_write_continuation_header(o, stream_id, (uint32_t)chunk, off + chunk == len);
        memcpy(o, block + off, chunk);
        o += chunk;
    }
    return (size_t)(o - out);
}

size_t rw_h2_write_header_block(uint8_t *out, size_t cap, uint32_t stream_id, const uint8_t *block,
                                size_t block_len, uint32_t max_frame, bool end_stream)
{
    return write_block(out, cap, stream_id, false, 0, block, block_len, max_frame, end_stream);
}

size_t rw_h2_write_push_promise_block(uint8_t *out, size_t cap, uint32_t stream_id,
                                      uint32_t promised_id, const uint8_t *block, size_t block_len,
                                      uint32_t max_frame)
{
    return write_block(out, cap, stream_id, true, promised_id, block, block_len, max_frame, false);
}
