/* HTTP/2 frame codec (RFC 9113 §4, §6): sans-IO, no allocation, no payload
 * copies on decode.
 *
 * Decoding: the engine hands rw_h2_frame_decode() the bytes it has buffered
 * from the start of a frame. The decoder answers "need N bytes in total"
 * (RW_H2_INCOMPLETE, f->frame_len = N), a decoded frame whose views point
 * into the caller's buffer, or a verdict carrying the RFC error code and
 * whether it is a connection or a stream error. Every check that needs only
 * the 9-byte header (size limit, stream id, fixed lengths) is made as soon
 * as the header is there, so the engine never buffers a frame it will
 * reject. Stream state, CONTINUATION sequencing and flow control are the
 * engine's job (docs/http2-frames.md lists them).
 *
 * Encoding: every writer writes into a caller buffer that must have room
 * for the documented size and returns the bytes written. DATA and field
 * block headers are written alone so the engine can point its iovecs at the
 * payload it already has (zero copy). Padding is never written. */
#ifndef RW_HTTP2_FRAME_H
#define RW_HTTP2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http2/h2_errors.h"

/* ---- constants ----------------------------------------------------------- */

#define RW_H2_CLIENT_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define RW_H2_CLIENT_PREFACE_LEN 24

#define RW_H2_FRAME_HEADER_LEN 9
#define RW_H2_MAX_STREAM_ID 0x7fffffffu
#define RW_H2_DEFAULT_MAX_FRAME_SIZE 16384u   /* also the lowest legal value */
#define RW_H2_MAX_MAX_FRAME_SIZE 16777215u    /* 2^24-1 */
#define RW_H2_MAX_WINDOW_SIZE 0x7fffffffu     /* 2^31-1 */
#define RW_H2_DEFAULT_WINDOW_SIZE 65535u
#define RW_H2_DEFAULT_HEADER_TABLE_SIZE 4096u
#define RW_H2_SETTING_LEN 6                   /* id (16) + value (32) */
#define RW_H2_PING_OPAQUE_LEN 8
#define RW_H2_PRIORITY_FIELDS_LEN 5           /* E + dependency (32) + weight (8) */

typedef enum rw_h2_frame_type {
    RW_H2_DATA = 0x0,
    RW_H2_HEADERS = 0x1,
    RW_H2_PRIORITY = 0x2,
    RW_H2_RST_STREAM = 0x3,
    RW_H2_SETTINGS = 0x4,
    RW_H2_PUSH_PROMISE = 0x5,
    RW_H2_PING = 0x6,
    RW_H2_GOAWAY = 0x7,
    RW_H2_WINDOW_UPDATE = 0x8,
    RW_H2_CONTINUATION = 0x9,
} rw_h2_frame_type;

#define RW_H2_FRAME_TYPE_MAX RW_H2_CONTINUATION

/* Flags; the same bit means different things on different frame types. */
#define RW_H2_FLAG_END_STREAM 0x01  /* DATA, HEADERS */
#define RW_H2_FLAG_ACK 0x01         /* SETTINGS, PING */
#define RW_H2_FLAG_END_HEADERS 0x04 /* HEADERS, PUSH_PROMISE, CONTINUATION */
#define RW_H2_FLAG_PADDED 0x08      /* DATA, HEADERS, PUSH_PROMISE */
#define RW_H2_FLAG_PRIORITY 0x20    /* HEADERS */

typedef enum rw_h2_setting_id {
    RW_H2_SETTINGS_HEADER_TABLE_SIZE = 0x1,
    RW_H2_SETTINGS_ENABLE_PUSH = 0x2,             /* 0 or 1 */
    RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
    RW_H2_SETTINGS_INITIAL_WINDOW_SIZE = 0x4,     /* <= 2^31-1 */
    RW_H2_SETTINGS_MAX_FRAME_SIZE = 0x5,          /* [2^14, 2^24-1] */
    RW_H2_SETTINGS_MAX_HEADER_LIST_SIZE = 0x6,
    RW_H2_SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8, /* RFC 8441: 0 or 1 */
    RW_H2_SETTINGS_NO_RFC7540_PRIORITIES = 0x9,   /* RFC 9218: 0 or 1 */
} rw_h2_setting_id;

/* ---- types --------------------------------------------------------------- */

typedef struct rw_h2_frame_header {
    uint32_t length;    /* payload length, 24 bits */
    uint8_t type;
    uint8_t flags;
    uint32_t stream_id; /* 31 bits; the reserved bit is dropped */
} rw_h2_frame_header;

typedef struct rw_h2_setting {
    uint16_t id;
    uint32_t value;
} rw_h2_setting;

/* RFC 7540 priority fields (deprecated by RFC 9113 but still on the wire). */
typedef struct rw_h2_priority {
    uint32_t dependency; /* 31 bits */
    uint8_t weight;      /* wire value: the weight is weight + 1 (1..256) */
    bool exclusive;
} rw_h2_priority;

/* rw_h2_frame_decode() results besides a consumed size (> 0). */
#define RW_H2_INCOMPLETE (-1)    /* f->frame_len = total bytes needed */
#define RW_H2_FAIL_CONNECTION (-2) /* GOAWAY with f->error_code, close */
#define RW_H2_FAIL_STREAM (-3)   /* RST_STREAM f->hd.stream_id with f->error_code */

typedef struct rw_h2_frame {
    rw_h2_frame_header hd;
    /* 9 + hd.length: the bytes this frame occupies. On RW_H2_INCOMPLETE the
     * total bytes needed (9 while the header itself is incomplete). */
    uint32_t frame_len;
    /* The frame's content, a view into the input:
     *   DATA: the data, padding removed;
     *   HEADERS, PUSH_PROMISE, CONTINUATION: the field block fragment,
     *     padding and priority / promised id removed;
     *   GOAWAY: the debug data;
     *   SETTINGS, PING, PRIORITY, RST_STREAM, WINDOW_UPDATE, unknown types:
     *     the whole payload. */
    const uint8_t *payload;
    uint32_t payload_len;
    uint8_t pad_len;       /* padding stripped (DATA, HEADERS, PUSH_PROMISE) */
    bool has_priority;     /* PRIORITY frames, HEADERS with the PRIORITY flag */
    rw_h2_priority priority;
    /* Per-type fields; only the one of hd.type is set. */
    union {
        uint32_t rst_error;            /* RST_STREAM (any 32-bit value) */
        uint32_t settings_count;       /* SETTINGS: payload_len / 6, all validated */
        uint8_t ping[RW_H2_PING_OPAQUE_LEN]; /* PING: opaque data, copied */
        struct {
            uint32_t last_stream_id;
            uint32_t error;            /* any 32-bit value */
        } goaway;
        uint32_t window_increment;     /* WINDOW_UPDATE, 31 bits */
        uint32_t promised_stream_id;   /* PUSH_PROMISE, 31 bits */
    };
    /* On RW_H2_FAIL_*: the RFC error code, its class and a static reason for
     * logs. hd and frame_len are valid then too, so on a stream error the
     * engine discards frame_len bytes (maybe not all buffered yet) and goes
     * on. A stream error reported after the whole frame was there (HEADERS /
     * PRIORITY self-dependency, WINDOW_UPDATE increment 0) leaves every field
     * decoded: a HEADERS fragment must still go through HPACK. */
    uint32_t error_code;
    bool error_is_stream;
    const char *error_reason;
} rw_h2_frame;

/* ---- decoding ------------------------------------------------------------ */

/* Reads the fixed 9-byte frame header. Never fails. */
void rw_h2_frame_header_parse(const uint8_t in[RW_H2_FRAME_HEADER_LEN], rw_h2_frame_header *h);

/* Decodes one frame from buf[0..len). max_frame_size is the
 * SETTINGS_MAX_FRAME_SIZE the peer must obey (the one we advertised).
 * Returns the frame's size (> 0, consumed), RW_H2_INCOMPLETE, or
 * RW_H2_FAIL_CONNECTION / RW_H2_FAIL_STREAM (see rw_h2_frame). Unknown
 * frame types decode fine (hd.type > RW_H2_FRAME_TYPE_MAX) for the caller
 * to ignore; unknown flags are ignored. */
int rw_h2_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_size, rw_h2_frame *f);

/* Iterates a decoded SETTINGS frame: start with *pos = 0; returns false at
 * the end. Yields every setting in order, unknown ids included (RFC 9113
 * §6.5.2: the receiver ignores those). Values were validated by decode. */
bool rw_h2_settings_next(const rw_h2_frame *f, size_t *pos, rw_h2_setting *out);

/* RW_H2_NO_ERROR if a setting value is within its legal range (unknown ids
 * always are), else the connection error code RFC 9113 §6.5.2 names. */
uint32_t rw_h2_setting_check(uint16_t id, uint32_t value);

static inline bool rw_h2_frame_type_known(uint8_t type) { return type <= RW_H2_FRAME_TYPE_MAX; }
const char *rw_h2_frame_type_name(uint8_t type); /* "UNKNOWN" for extensions */

/* ---- encoding ------------------------------------------------------------ */

#define RW_H2_SETTINGS_FRAME_LEN(n) (RW_H2_FRAME_HEADER_LEN + RW_H2_SETTING_LEN * (size_t)(n))
#define RW_H2_SETTINGS_ACK_FRAME_LEN RW_H2_FRAME_HEADER_LEN
#define RW_H2_PING_FRAME_LEN (RW_H2_FRAME_HEADER_LEN + RW_H2_PING_OPAQUE_LEN)
#define RW_H2_RST_STREAM_FRAME_LEN (RW_H2_FRAME_HEADER_LEN + 4)
#define RW_H2_WINDOW_UPDATE_FRAME_LEN (RW_H2_FRAME_HEADER_LEN + 4)
#define RW_H2_PRIORITY_FRAME_LEN (RW_H2_FRAME_HEADER_LEN + RW_H2_PRIORITY_FIELDS_LEN)
/* GOAWAY debug data is cut to this so the frame fits any peer's limit. */
#define RW_H2_GOAWAY_MAX_DEBUG (RW_H2_DEFAULT_MAX_FRAME_SIZE - 8)
#define RW_H2_GOAWAY_FRAME_LEN(debug_len) (RW_H2_FRAME_HEADER_LEN + 8 + (size_t)(debug_len))
#define RW_H2_HEADERS_HEADER_MAX_LEN (RW_H2_FRAME_HEADER_LEN + RW_H2_PRIORITY_FIELDS_LEN)
#define RW_H2_PUSH_PROMISE_HEADER_LEN (RW_H2_FRAME_HEADER_LEN + 4)

/* Any 9-byte frame header; length is truncated to 24 bits, stream to 31. */
size_t rw_h2_write_frame_header(uint8_t *out, uint32_t length, uint8_t type, uint8_t flags,
                                uint32_t stream_id);

/* Writes SETTINGS with n entries as given (check values with
 * rw_h2_setting_check first): RW_H2_SETTINGS_FRAME_LEN(n) bytes. */
size_t rw_h2_write_settings(uint8_t *out, const rw_h2_setting *s, size_t n);
size_t rw_h2_write_settings_ack(uint8_t *out);
size_t rw_h2_write_ping(uint8_t *out, bool ack, const uint8_t opaque[RW_H2_PING_OPAQUE_LEN]);
/* debug_len beyond RW_H2_GOAWAY_MAX_DEBUG is cut. */
size_t rw_h2_write_goaway(uint8_t *out, uint32_t last_stream_id, uint32_t error_code,
                          const void *debug, size_t debug_len);
size_t rw_h2_write_rst_stream(uint8_t *out, uint32_t stream_id, uint32_t error_code);
size_t rw_h2_write_window_update(uint8_t *out, uint32_t stream_id, uint32_t increment);
size_t rw_h2_write_priority(uint8_t *out, uint32_t stream_id, const rw_h2_priority *p);

/* Frame headers only; the payload (len bytes) follows from the engine's own
 * buffer. len must be <= the peer's max frame size. */
size_t rw_h2_write_data_header(uint8_t *out, uint32_t stream_id, uint32_t len, bool end_stream);
/* HEADERS header (+ priority fields when prio != NULL): 9 or 14 bytes;
 * fragment_len bytes of field block follow. */
size_t rw_h2_write_headers_header(uint8_t *out, uint32_t stream_id, uint32_t fragment_len,
                                  bool end_stream, bool end_headers, const rw_h2_priority *prio);
size_t rw_h2_write_continuation_header(uint8_t *out, uint32_t stream_id, uint32_t fragment_len,
                                       bool end_headers);
/* PUSH_PROMISE header + promised stream id: 13 bytes. */
size_t rw_h2_write_push_promise_header(uint8_t *out, uint32_t stream_id, uint32_t promised_id,
                                       uint32_t fragment_len, bool end_headers);

/* A whole field block as HEADERS + CONTINUATION* (or PUSH_PROMISE +
 * CONTINUATION*), no frame longer than max_frame (the peer's
 * SETTINGS_MAX_FRAME_SIZE), END_HEADERS on the last, END_STREAM on the
 * HEADERS frame if asked. The block is copied. Returns the bytes written,
 * or 0 if cap is smaller than the *_block_size() answer or max_frame is too
 * small (0, or < 4 for PUSH_PROMISE). */
size_t rw_h2_header_block_size(size_t block_len, uint32_t max_frame);
size_t rw_h2_push_promise_block_size(size_t block_len, uint32_t max_frame);
size_t rw_h2_write_header_block(uint8_t *out, size_t cap, uint32_t stream_id, const uint8_t *block,
                                size_t block_len, uint32_t max_frame, bool end_stream);
size_t rw_h2_write_push_promise_block(uint8_t *out, size_t cap, uint32_t stream_id,
                                      uint32_t promised_id, const uint8_t *block, size_t block_len,
                                      uint32_t max_frame);

#endif
