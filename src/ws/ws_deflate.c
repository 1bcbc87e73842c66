/* permessage-deflate over zlib (see the header for the protocol notes). */
#include "ws/ws_deflate.h"

#include <string.h>

static const uint8_t k_tail[4] = { 0x00, 0x00, 0xff, 0xff };

static int clamp_wbits(int w)
{
    if (w < RW_WS_DEFLATE_MIN_WBITS || w > RW_WS_DEFLATE_MAX_WBITS)
        return RW_WS_DEFLATE_MAX_WBITS;
    return w;
}

int rw_ws_deflate_init(rw_ws_deflate *d, const rw_ws_deflate_params *prm, bool is_server,
                       const rw_ws_deflate_opts *opts)
{
    memset(d, 0, sizeof(*d));
    int level = opts && opts->level >= 0 ? opts->level : RW_WS_DEFLATE_DEFAULT_LEVEL;
    int mem = opts && opts->mem_level > 0 ? opts->mem_level : RW_WS_DEFLATE_DEFAULT_MEM_LEVEL;
    d->threshold = opts ? opts->threshold : RW_WS_DEFLATE_DEFAULT_THRESHOLD;
    if (level > 9 || mem > 9) {
        d->error = "bad deflate level or memory level";
        return -1;
    }
    int tx_bits = clamp_wbits(is_server ? prm->server_max_window_bits : prm->client_max_window_bits);
    int rx_bits = clamp_wbits(is_server ? prm->client_max_window_bits : prm->server_max_window_bits);
    d->tx_reset = is_server ? prm->server_no_context_takeover : prm->client_no_context_takeover;
    d->rx_reset = is_server ? prm->client_no_context_takeover : prm->server_no_context_takeover;
    if (tx_bits == 8)
        tx_bits = 9; /* zlib refuses raw windowBits 8; 9 never reaches past 250 (header) */
    if (deflateInit2(&d->tx, level, Z_DEFLATED, -tx_bits, mem, Z_DEFAULT_STRATEGY) != Z_OK) {
        d->error = "deflateInit2 failed";
        return -1;
    }
    d->tx_ready = true;
    if (inflateInit2(&d->rx, -rx_bits) != Z_OK) {
        deflateEnd(&d->tx);
        d->tx_ready = false;
        d->error = "inflateInit2 failed";
        return -1;
    }
    d->rx_ready = true;
    return 0;
}

void rw_ws_deflate_free(rw_ws_deflate *d)
{
    if (d->tx_ready)
        deflateEnd(&d->tx);
    if (d->rx_ready)
        inflateEnd(&d->rx);
    d->tx_ready = d->rx_ready = false;
}

size_t rw_ws_deflate_bound(size_t len)
{
    /* stored blocks cost 5 bytes per 16 KiB at worst with zlib's buffering,
     * plus the sync flush marker and a little slack */
    return len + (len >> 10) + 64;
}

rw_ws_deflate_result rw_ws_deflate_message(rw_ws_deflate *d, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t cap, size_t *outlen)
{
    *outlen = 0;
    if (len < d->threshold)
        return RW_WS_DEFLATE_SKIP;
    z_stream *z = &d->tx;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = 0;
    z->next_out = out;
    z->avail_out = 0;
    size_t left = len;
    size_t room = cap;
    int r;
    /* zlib counts in uInt: feed in pieces so any size_t works. */
    do {
        uInt in_step = left > 0x40000000u ? 0x40000000u : (uInt)left;
        uInt out_step = room > 0x40000000u ? 0x40000000u : (uInt)room;
        z->avail_in = in_step;
        z->avail_out = out_step;
        r = deflate(z, left == in_step ? Z_SYNC_FLUSH : Z_NO_FLUSH);
        left -= in_step - z->avail_in;
        room -= out_step - z->avail_out;
        if (r == Z_STREAM_ERROR) {
            deflateReset(z);
            d->error = "deflate failed";
            return RW_WS_DEFLATE_ERROR;
        }
        /* All input taken and room left over: the flush is complete. */
    } while ((left || z->avail_out == 0) && room > 0 && r != Z_BUF_ERROR);
    size_t n = cap - room;
    if (left || z->avail_out == 0 || n < 4 || memcmp(out + n - 4, k_tail, 4) != 0) {
        deflateReset(z); /* always safe: we just stop referring to old data */
        return RW_WS_DEFLATE_NOSPACE;
    }
    *outlen = n - 4;
    if (d->tx_reset)
        deflateReset(z);
    return RW_WS_DEFLATE_OK;
}

static rw_ws_deflate_result inflate_some(rw_ws_deflate *d, const uint8_t *in, size_t len,
                                         uint64_t limit, uint64_t *total, rw_ws_inflate_sink sink,
                                         void *ud)
{
    z_stream *z = &d->rx;
    while (len && !d->rx_ended) {
        uInt step = len > 0x40000000u ? 0x40000000u : (uInt)len;
        z->next_in = (Bytef *)(uintptr_t)in;
        z->avail_in = step;
        for (;;) {
            z->next_out = d->out;
            z->avail_out = RW_WS_INFLATE_CHUNK;
            int r = inflate(z, Z_SYNC_FLUSH);
            size_t got = RW_WS_INFLATE_CHUNK - z->avail_out;
            /* Output zlib produced before it hit an error is judged first, so
             * the verdict (too big, bad UTF-8, bad data) does not depend on how
             * the input was cut into pieces. */
            bool failed = r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_MEM_ERROR ||
                          r == Z_STREAM_ERROR;
            if (got) {
                if (got > limit || *total > limit - got) {
                    /* The bytes that still fit are judged first (their UTF-8
                     * may fail earlier), as a piecewise feed would. */
                    size_t fit = *total < limit ? (size_t)(limit - *total) : 0;
                    if (fit) {
                        *total += fit;
                        if (sink && sink(ud, d->out, fit)) {
                            d->error = "aborted";
                            return RW_WS_DEFLATE_ABORTED;
                        }
                    }
                    d->error = "decompressed message too big";
                    return RW_WS_DEFLATE_TOO_BIG;
                }
                *total += got;
                if (sink && sink(ud, d->out, got)) {
                    d->error = "aborted";
                    return RW_WS_DEFLATE_ABORTED;
                }
            }
            if (failed) {
                d->error = z->msg ? z->msg : "inflate failed";
                return RW_WS_DEFLATE_ERROR;
            }
            if (r == Z_STREAM_END) {
                /* A BFINAL block: the rest of this message (the tail we
                 * appended at least) is ignored; a new stream starts with
                 * the next message. */
                d->rx_ended = true;
                break;
            }
            /* Output room left means zlib consumed all it could. */
            if (z->avail_out != 0 && (z->avail_in == 0 || r == Z_BUF_ERROR))
                break;
        }
        size_t used = step - z->avail_in;
        if (!d->rx_ended && used == 0 && z->avail_in) {
            d->error = "inflate made no progress";
            return RW_WS_DEFLATE_ERROR;
        }
        in += step;
        len -= step;
    }
    return RW_WS_DEFLATE_OK;
}

rw_ws_deflate_result rw_ws_inflate_feed(rw_ws_deflate *d, const uint8_t *in, size_t len, bool fin,
                                        uint64_t limit, uint64_t *total, rw_ws_inflate_sink sink,
                                        void *ud)
{
    rw_ws_deflate_result r = inflate_some(d, in, len, limit, total, sink, ud);
    if (r != RW_WS_DEFLATE_OK)
        return r;
    if (!fin)
        return RW_WS_DEFLATE_OK;
    r = inflate_some(d, k_tail, sizeof(k_tail), limit, total, sink, ud);
    if (r != RW_WS_DEFLATE_OK)
        return r;
    if (d->rx_reset || d->rx_ended) {
        inflateReset(&d->rx);
        d->rx_ended = false;
    }
    return RW_WS_DEFLATE_OK;
}
