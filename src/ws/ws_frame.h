/* WebSocket frame codec (RFC 6455 §5.2): sans-IO, no allocation, no
 * payload copies.
 *
 * Parsing: feed whatever bytes arrived; each call returns one event and how
 * many input bytes it consumed (*used). The header (2..14 bytes) may be cut
 * anywhere: its bytes are kept in the parser (at most 14). Payload bytes are
 * never copied: a DATA event is a view into the caller's input, STILL
 * MASKED, with its offset in the frame payload so the consumer can unmask it
 * (rw_ws_frame_unmask*) in place or while copying it out. Views live as long
 * as the caller's input buffer.
 *
 *   HEADER  a whole header was read: p->hdr is valid until the next HEADER
 *   DATA    a piece of payload (n > 0)
 *   END     the frame's payload is complete (also for empty payloads)
 *   NEED_MORE  all input consumed, nothing else to report
 *   ERROR   p->close_code / p->error say why; sticky
 *
 * Every rule that needs only the header is checked as soon as the header
 * is complete, before any payload is accepted: reserved opcodes, control
 * frames fragmented or longer than 125, RSV bits outside allowed_rsv, the
 * 64-bit length with its most significant bit set, non-minimal length
 * encodings (rejected: RFC 6455 §5.2 says the minimal number of bytes MUST
 * be used), masking (require_mask for a server, forbid_mask for a client)
 * and max_frame. All of these map to close 1002 except max_frame (1009).
 * Message-level rules (continuation order, RSV1 only on a message's first
 * frame, UTF-8, close payloads) belong to ws_message.
 *
 * Serializing: the header is written alone so the payload can go out from
 * wherever it lives (zero copy); rw_ws_frame_build() writes a whole frame,
 * masking it when a key is given (tests, client side). */
#ifndef RW_WS_FRAME_H
#define RW_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws/ws_unmask.h"

#define RW_WS_MAX_HEADER_LEN 14         /* 2 + 8 (64-bit length) + 4 (mask) */
#define RW_WS_MAX_CONTROL_PAYLOAD 125
#define RW_WS_DEFAULT_MAX_FRAME (16u << 20) /* used when max_frame is 0 */

typedef enum rw_ws_opcode {
    RW_WS_OP_CONT = 0x0,
    RW_WS_OP_TEXT = 0x1,
    RW_WS_OP_BINARY = 0x2,
    RW_WS_OP_CLOSE = 0x8,
    RW_WS_OP_PING = 0x9,
    RW_WS_OP_PONG = 0xa,
} rw_ws_opcode;

static inline bool rw_ws_op_is_control(unsigned op) { return (op & 0x8) != 0; }

/* RSV bits exactly where they sit in the first header byte. */
#define RW_WS_RSV1 0x40
#define RW_WS_RSV2 0x20
#define RW_WS_RSV3 0x10
#define RW_WS_RSV_MASK 0x70

/* Close codes this layer produces (RFC 6455 §7.4.1). */
#define RW_WS_CLOSE_NORMAL 1000
#define RW_WS_CLOSE_GOING_AWAY 1001
#define RW_WS_CLOSE_PROTOCOL 1002
#define RW_WS_CLOSE_UNSUPPORTED 1003
#define RW_WS_CLOSE_NO_STATUS 1005   /* never sent: "the close frame had no code" */
#define RW_WS_CLOSE_ABNORMAL 1006    /* never sent */
#define RW_WS_CLOSE_INVALID_DATA 1007
#define RW_WS_CLOSE_POLICY 1008
#define RW_WS_CLOSE_TOO_BIG 1009
#define RW_WS_CLOSE_EXTENSION 1010
#define RW_WS_CLOSE_INTERNAL 1011

typedef struct rw_ws_frame_hdr {
    bool fin;
    bool masked;
    uint8_t rsv;    /* RW_WS_RSV* bits */
    uint8_t opcode;
    uint8_t key[RW_WS_MASK_LEN];
    uint64_t len;
} rw_ws_frame_hdr;

typedef enum rw_ws_frame_result {
    RW_WS_FRAME_NEED_MORE = 0,
    RW_WS_FRAME_HEADER,
    RW_WS_FRAME_DATA,
    RW_WS_FRAME_END,
    RW_WS_FRAME_ERROR,
} rw_ws_frame_result;

typedef struct rw_ws_chunk {
    const uint8_t *p; /* into the caller's input, masked if hdr.masked */
    size_t n;
    uint64_t off;     /* offset of p[0] in the frame payload */
} rw_ws_chunk;

typedef struct rw_ws_frame_parser {
    /* configuration: set by rw_ws_frame_parser_init, may be changed between frames */
    uint64_t max_frame;
    bool require_mask;
    bool forbid_mask;
    uint8_t allowed_rsv;
    /* state */
    uint8_t state;
    uint8_t hlen, hneed;
    uint8_t hbuf[RW_WS_MAX_HEADER_LEN];
    rw_ws_frame_hdr hdr;
    uint64_t off;         /* payload bytes already returned */
    uint16_t close_code;  /* ERROR: the close code to send */
    const char *error;    /* ERROR: static reason text */
} rw_ws_frame_parser;

/* is_server: client frames must be masked (require_mask), else server
 * frames must not be (forbid_mask). max_frame 0 = RW_WS_DEFAULT_MAX_FRAME. */
void rw_ws_frame_parser_init(rw_ws_frame_parser *p, bool is_server, uint64_t max_frame,
                             uint8_t allowed_rsv);

rw_ws_frame_result rw_ws_frame_parse(rw_ws_frame_parser *p, const uint8_t *in, size_t len,
                                     size_t *used, rw_ws_chunk *chunk);

/* Unmask a DATA chunk of the current frame into dst (may be chunk->p's
 * memory itself if the caller owns it writable). No-op copy if unmasked. */
void rw_ws_frame_unmask_to(const rw_ws_frame_parser *p, const rw_ws_chunk *c, uint8_t *dst);

/* ---- serializing ---- */
size_t rw_ws_frame_header_len(uint64_t len, bool masked);
/* Writes a header into out (room for RW_WS_MAX_HEADER_LEN); key NULL =
 * unmasked. Returns the bytes written. */
size_t rw_ws_frame_write_header(uint8_t *out, bool fin, uint8_t rsv, uint8_t opcode, uint64_t len,
                                const uint8_t *key);
/* Header + payload (masked with key when key != NULL). Returns the frame
 * size, or 0 when cap is too small. */
size_t rw_ws_frame_build(uint8_t *out, size_t cap, bool fin, uint8_t rsv, uint8_t opcode,
                         const uint8_t *payload, size_t len, const uint8_t *key);

#endif
