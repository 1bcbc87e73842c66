/* permessage-deflate (RFC 7692) data path over zlib: raw DEFLATE, one
 * compressor (tx) and one decompressor (rx) per connection.
 *
 * Sending: rw_ws_deflate_message() compresses one whole message into a
 * caller buffer (room: rw_ws_deflate_bound()) with Z_SYNC_FLUSH and strips
 * the 00 00 ff ff tail (§7.2.1). Messages shorter than the threshold come
 * back as RW_WS_DEFLATE_SKIP: send them uncompressed (RSV1 clear); skipped
 * messages are not part of the compression context, so this is always
 * legal. Without context takeover the compressor is reset after each
 * message.
 *
 * Receiving: rw_ws_inflate_feed() takes the (unmasked) payload of a
 * compressed message piece by piece; on the last piece (fin) it appends the
 * 00 00 ff ff tail (§7.2.2). Output goes through a fixed RW_WS_INFLATE_CHUNK
 * buffer inside rw_ws_deflate to the sink callback, so a deflate bomb costs
 * nothing but CPU: once the output of the message passes `limit` the call
 * fails with RW_WS_DEFLATE_TOO_BIG (close 1009) before delivering the
 * excess. Corrupt data → RW_WS_DEFLATE_ERROR (close 1007).
 *
 * Window bits: zlib's deflate cannot do a raw 256-byte window
 * (deflateInit2(-8) fails), so when 8 is negotiated for our compressor we
 * use 9. That is safe: zlib's deflate never emits a distance beyond
 * window - 262 bytes (MAX_DIST), i.e. 250 for windowBits 9, within the
 * peer's 256-byte window. The decompressor uses the negotiated value as is.
 *
 * Memory: zlib allocates its state at init (about 2^(wbits+2) +
 * 2^(mem_level+9) bytes for deflate, 7 KiB + the window on first use for
 * inflate). Nothing is allocated per message. */
#ifndef RW_WS_DEFLATE_H
#define RW_WS_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#define RW_WS_DEFLATE_MIN_WBITS 8
#define RW_WS_DEFLATE_MAX_WBITS 15
#define RW_WS_DEFLATE_DEFAULT_LEVEL 6
#define RW_WS_DEFLATE_DEFAULT_MEM_LEVEL 8
#define RW_WS_DEFLATE_DEFAULT_THRESHOLD 64 /* bytes; shorter messages go uncompressed */
#define RW_WS_INFLATE_CHUNK 4096           /* decompression output step */

/* What was negotiated (ws_handshake fills it in). Window bits are 8..15;
 * 15 when the parameter was absent. */
typedef struct rw_ws_deflate_params {
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    uint8_t server_max_window_bits;
    uint8_t client_max_window_bits;
} rw_ws_deflate_params;

typedef struct rw_ws_deflate_opts {
    int level;        /* 0..9; -1 = RW_WS_DEFLATE_DEFAULT_LEVEL */
    int mem_level;    /* 1..9; 0 = RW_WS_DEFLATE_DEFAULT_MEM_LEVEL */
    size_t threshold; /* SIZE_MAX = never compress */
} rw_ws_deflate_opts;

typedef enum rw_ws_deflate_result {
    RW_WS_DEFLATE_OK = 0,
    RW_WS_DEFLATE_SKIP,     /* below the threshold: send uncompressed */
    RW_WS_DEFLATE_NOSPACE,  /* output did not fit; compressor reset, send uncompressed */
    RW_WS_DEFLATE_TOO_BIG,  /* decompressed output past the limit: close 1009 */
    RW_WS_DEFLATE_ERROR,    /* corrupt compressed data (1007) or zlib failure */
    RW_WS_DEFLATE_ABORTED,  /* the sink asked to stop */
} rw_ws_deflate_result;

typedef struct rw_ws_deflate {
    z_stream tx, rx;
    bool tx_ready, rx_ready;
    bool tx_reset, rx_reset; /* no context takeover in that direction */
    bool rx_ended;           /* the peer closed the deflate stream (BFINAL) mid-message */
    size_t threshold;
    const char *error;
    uint8_t out[RW_WS_INFLATE_CHUNK];
} rw_ws_deflate;

/* is_server: we compress with the server_* parameters and decompress with
 * the client_* ones (the other way round for a client). opts NULL =
 * defaults. Returns 0, or -1 (d->error says why; nothing to free). */
int rw_ws_deflate_init(rw_ws_deflate *d, const rw_ws_deflate_params *prm, bool is_server,
                       const rw_ws_deflate_opts *opts);
void rw_ws_deflate_free(rw_ws_deflate *d);

/* Worst-case compressed size of len bytes (output room for _message). */
size_t rw_ws_deflate_bound(size_t len);

rw_ws_deflate_result rw_ws_deflate_message(rw_ws_deflate *d, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t cap, size_t *outlen);

/* Returns nonzero to abort decompression. */
typedef int (*rw_ws_inflate_sink)(void *ud, const uint8_t *p, size_t n);

/* *total is the message's decompressed size so far (start at 0); it must
 * not pass limit. */
rw_ws_deflate_result rw_ws_inflate_feed(rw_ws_deflate *d, const uint8_t *in, size_t len, bool fin,
                                        uint64_t limit, uint64_t *total, rw_ws_inflate_sink sink,
                                        void *ud);

#endif
