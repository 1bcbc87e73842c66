/* WebSocket opening handshake, server side (RFC 6455 §4.2.1-4.2.2) with
 * subprotocol selection and permessage-deflate negotiation (RFC 7692 §5,
 * §7.1). Works on header views (an rw_request's, or any array of
 * rw_header): nothing is copied but the small response strings kept in
 * rw_ws_handshake. Not a hot path (runs once per connection); OpenSSL's
 * EVP_Digest computes the SHA-1.
 *
 * Decision (hs->status):
 *   405  method is not GET                      (answer with Allow: GET)
 *   400  HTTP version < 1.1, no Host, Connection without "upgrade",
 *        Sec-WebSocket-Version missing, Sec-WebSocket-Key missing, repeated
 *        or not base64 of 16 bytes, Sec-WebSocket-Extensions unparsable
 *   426  Upgrade header missing or without "websocket" (answer with
 *        Upgrade: websocket), or Sec-WebSocket-Version present but not 13
 *        (answer with Sec-WebSocket-Version: 13)
 *   101  accepted; rw_ws_handshake_headers() lists the response headers
 * rw_ws_handshake_headers() gives the extra headers for 426 as well.
 *
 * Subprotocols: the first protocol in the server's preference list that
 * the client offered (exact match); none offered or none matching → no
 * Sec-WebSocket-Protocol header (the client decides whether to go on).
 *
 * permessage-deflate: offers are considered in the client's order and the
 * first valid one is accepted. An offer with an unknown parameter, a
 * repeated parameter, a value on a no_context_takeover parameter, or a
 * window-bits value that is not 8..15 (decimal, no leading zero, token or
 * quoted) is declined (RFC 7692 §5: decline, not fail) and its reason left
 * in hs->deflate_error. Other extensions are ignored. */
#ifndef RW_WS_HANDSHAKE_H
#define RW_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"
#include "ws/ws_deflate.h"

#define RW_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RW_WS_KEY_LEN 24           /* base64 of 16 bytes */
#define RW_WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */
#define RW_WS_VERSION 13
#define RW_WS_EXT_RESPONSE_MAX 160 /* longest permessage-deflate response we write */
#define RW_WS_HANDSHAKE_MAX_HEADERS 5

typedef struct rw_ws_handshake_cfg {
    const rw_str *subprotocols;      /* server preference order */
    size_t nsubprotocols;
    bool deflate;                    /* accept permessage-deflate offers */
    bool server_no_context_takeover; /* ask for it even when not offered */
    bool client_no_context_takeover;
    uint8_t server_max_window_bits;  /* our compressor's largest window; 0 = 15 */
    uint8_t client_max_window_bits;  /* cap on the client's window when it lets us; 0 = 15 */
} rw_ws_handshake_cfg;

typedef struct rw_ws_handshake {
    int status;                      /* 101, 400, 405, 426 */
    const char *error;               /* why, when status != 101 */
    char accept[RW_WS_ACCEPT_LEN + 1];
    rw_str subprotocol;              /* view into cfg->subprotocols; n == 0: none */
    bool deflate;
    rw_ws_deflate_params deflate_params;
    const char *deflate_error;       /* reason the last declined offer was declined */
    char extensions[RW_WS_EXT_RESPONSE_MAX];
    size_t extensions_len;
} rw_ws_handshake;

/* Validates the request and fills hs; returns hs->status. */
int rw_ws_handshake_check(rw_ws_handshake *hs, rw_str method, int version, const rw_header *h,
                          size_t nh, const rw_ws_handshake_cfg *cfg);

/* Response headers for hs->status (101: Upgrade, Connection,
 * Sec-WebSocket-Accept, optional Protocol and Extensions; 426: Upgrade or
 * Sec-WebSocket-Version; 405: Allow). Views into hs and static strings.
 * out has room for RW_WS_HANDSHAKE_MAX_HEADERS; returns the count. */
size_t rw_ws_handshake_headers(const rw_ws_handshake *hs, rw_header *out);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), NUL-ended.
 * Returns false if the digest failed or the key is too long. */
bool rw_ws_accept_key(const char *key, size_t n, char out[RW_WS_ACCEPT_LEN + 1]);

/* One permessage-deflate offer's parameters. */
typedef struct rw_ws_deflate_offer {
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    uint8_t server_max_window_bits;  /* 0 = absent */
    bool client_max_window_bits;     /* present (with or without a value) */
    uint8_t client_max_window_bits_value; /* 0 = no value */
} rw_ws_deflate_offer;

#endif
