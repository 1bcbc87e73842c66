/* WebSocket message assembler (RFC 6455 §5.4-5.6, §7.4; RFC 7692 §6):
 * turns the frame stream into messages and control events. Sans-IO, no
 * allocation, no syscalls.
 *
 * Delivery model (pick per connection):
 *  - STREAMING (reassembly_buf NULL): each payload piece is delivered as it
 *    arrives through on_data(first, fin), unmasked IN PLACE in the caller's
 *    input, so no byte is copied (a compressed message's pieces come from
 *    the inflater's fixed buffer instead). Pieces are views valid only
 *    during the callback. fin=true marks the last call of a message; that
 *    call may carry 0 bytes (empty final frame, compressed message).
 *  - REASSEMBLY (reassembly_buf set): pieces are unmasked while being copied
 *    into the caller's buffer; on_data is called once per message with
 *    first = fin = true and the whole message. The effective message limit
 *    is min(max_message, reassembly_cap). The input is not written to.
 * Either way a message of up to max_message bytes is supported; text is
 * validated incrementally (after decompression) BEFORE each piece is
 * delivered, so a streaming consumer has seen only valid UTF-8 prefixes
 * when a message fails with 1007.
 *
 * Control frames (ping, pong, close) may arrive between the fragments of a
 * message; their payload (<= 125 bytes) is gathered in the assembler and
 * delivered whole through on_control / on_close. Replying (pong, close echo)
 * is the caller's job.
 *
 * rw_ws_msg_feed() consumes as much input as it can:
 *   OK       all input consumed (the tail of a frame may still be pending)
 *   CLOSED   a valid close frame was delivered; *used ends after it and
 *            nothing more is read (sticky)
 *   ERROR    m->close_code (1002/1007/1009) and m->error; sticky
 *   ABORTED  a callback returned nonzero; sticky
 * Rules and their close codes are listed in docs/websocket-core.md. */
#ifndef RW_WS_MESSAGE_H
#define RW_WS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws/ws_deflate.h"
#include "ws/ws_frame.h"
#include "ws/ws_utf8.h"

#define RW_WS_DEFAULT_MAX_MESSAGE (16u << 20) /* used when max_message is 0 */
#define RW_WS_MAX_CLOSE_REASON (RW_WS_MAX_CONTROL_PAYLOAD - 2)

typedef struct rw_ws_msg_callbacks {
    /* opcode is RW_WS_OP_TEXT or RW_WS_OP_BINARY */
    int (*on_data)(void *ud, unsigned opcode, const uint8_t *p, size_t n, bool first, bool fin);
    /* RW_WS_OP_PING or RW_WS_OP_PONG with the whole payload */
    int (*on_control)(void *ud, unsigned opcode, const uint8_t *p, size_t n);
    /* code RW_WS_CLOSE_NO_STATUS (1005) when the close frame had no body */
    int (*on_close)(void *ud, uint16_t code, const uint8_t *reason, size_t n);
} rw_ws_msg_callbacks;

typedef struct rw_ws_msg_cfg {
    bool is_server;             /* a server requires masked frames, a client refuses them */
    uint64_t max_frame;         /* 0 = RW_WS_DEFAULT_MAX_FRAME */
    uint64_t max_message;       /* after decompression; 0 = RW_WS_DEFAULT_MAX_MESSAGE */
    rw_ws_deflate *deflate;     /* negotiated permessage-deflate, or NULL */
    uint8_t *reassembly_buf;    /* NULL = streaming delivery */
    size_t reassembly_cap;
    rw_ws_msg_callbacks cb;
    void *ud;
} rw_ws_msg_cfg;

typedef enum rw_ws_msg_result {
    RW_WS_MSG_OK = 0,
    RW_WS_MSG_CLOSED,
    RW_WS_MSG_ERROR,
    RW_WS_MSG_ABORTED,
} rw_ws_msg_result;

typedef struct rw_ws_msg {
    rw_ws_msg_cfg cfg;
    rw_ws_frame_parser fp;
    uint8_t state;
    bool in_message;       /* a data message is open (first frame seen, not yet FIN) */
    bool compressed;       /* the open message has RSV1 */
    bool first_pending;    /* streaming: next on_data is the message's first */
    uint8_t msg_op;        /* TEXT / BINARY of the open message */
    uint8_t ctl_len;
    uint64_t max_message;  /* effective limit */
    uint64_t msg_len;      /* payload bytes of the open message (decompressed) */
    uint64_t wire_len;     /* compressed bytes of the open message */
    rw_utf8 utf8;
    uint16_t close_code;
    const char *error;
    uint8_t ctl[RW_WS_MAX_CONTROL_PAYLOAD];
} rw_ws_msg;

void rw_ws_msg_init(rw_ws_msg *m, const rw_ws_msg_cfg *cfg);

/* The input is writable: streaming mode unmasks it in place. */
rw_ws_msg_result rw_ws_msg_feed(rw_ws_msg *m, uint8_t *in, size_t len, size_t *used);

/* RFC 6455 §7.4: may this code appear in a received close frame? */
bool rw_ws_close_code_valid(unsigned code);

/* Writes a close frame payload (code, then the reason cut to
 * RW_WS_MAX_CLOSE_REASON bytes) into out (room for 125). code 0 = no body.
 * Returns the payload length. */
size_t rw_ws_close_payload(uint8_t *out, uint16_t code, const char *reason, size_t reason_len);

#endif
