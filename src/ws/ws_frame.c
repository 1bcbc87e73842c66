/* Frame codec: a three-state machine (header, payload, end). The header is
 * collected byte-exactly into hbuf: first the 2 fixed bytes, which tell how
 * many more there are, then the rest. */
#include "ws/ws_frame.h"

#include <string.h>

enum { ST_HEAD, ST_PAYLOAD, ST_END, ST_ERROR };

void rw_ws_frame_parser_init(rw_ws_frame_parser *p, bool is_server, uint64_t max_frame,
                             uint8_t allowed_rsv)
{
    memset(p, 0, sizeof(*p));
    p->max_frame = max_frame ? max_frame : RW_WS_DEFAULT_MAX_FRAME;
    p->require_mask = is_server;
    p->forbid_mask = !is_server;
    p->allowed_rsv = allowed_rsv & RW_WS_RSV_MASK;
    p->state = ST_HEAD;
    p->hneed = 2;
}

static rw_ws_frame_result fail(rw_ws_frame_parser *p, uint16_t code, const char *why)
{
    p->state = ST_ERROR;
    p->close_code = code;
    p->error = why;
    return RW_WS_FRAME_ERROR;
}

/* The first two bytes are in: check everything they decide and size the
 * rest of the header. Returns false after fail(). */
static bool check_fixed(rw_ws_frame_parser *p)
{
    uint8_t b0 = p->hbuf[0], b1 = p->hbuf[1];
    unsigned op = b0 & 0x0f;
    if ((op >= 3 && op <= 7) || op >= 0xb) {
        fail(p, RW_WS_CLOSE_PROTOCOL, "reserved opcode");
        return false;
    }
    if (b0 & RW_WS_RSV_MASK & ~p->allowed_rsv) {
        fail(p, RW_WS_CLOSE_PROTOCOL, "reserved bit set");
        return false;
    }
    bool masked = (b1 & 0x80) != 0;
    if (p->require_mask && !masked) {
        fail(p, RW_WS_CLOSE_PROTOCOL, "client frame not masked");
        return false;
    }
    if (p->forbid_mask && masked) {
        fail(p, RW_WS_CLOSE_PROTOCOL, "server frame masked");
        return false;
    }
    unsigned len7 = b1 & 0x7f;
    if (rw_ws_op_is_control(op)) {
        if (!(b0 & 0x80)) {
            fail(p, RW_WS_CLOSE_PROTOCOL, "fragmented control frame");
            return false;
        }
        if (len7 > RW_WS_MAX_CONTROL_PAYLOAD) {
            fail(p, RW_WS_CLOSE_PROTOCOL, "control frame payload > 125");
            return false;
        }
    }
    p->hneed = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0));
    return true;
}

/* Whole header in hbuf: decode it and apply the length rules. */
static bool finish_header(rw_ws_frame_parser *p)
{
    const uint8_t *h = p->hbuf;
    rw_ws_frame_hdr *f = &p->hdr;
    f->fin = (h[0] & 0x80) != 0;
    f->rsv = h[0] & RW_WS_RSV_MASK;
    f->opcode = h[0] & 0x0f;
    f->masked = (h[1] & 0x80) != 0;
    unsigned len7 = h[1] & 0x7f;
    size_t pos = 2;
    uint64_t len = len7;
    if (len7 == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        pos = 4;
        if (len < 126) {
            fail(p, RW_WS_CLOSE_PROTOCOL, "non-minimal 16-bit length");
            return false;
        }
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        pos = 10;
        if (len >> 63) {
            fail(p, RW_WS_CLOSE_PROTOCOL, "64-bit length with the top bit set");
            return false;
        }
        if (len <= 0xffff) {
            fail(p, RW_WS_CLOSE_PROTOCOL, "non-minimal 64-bit length");
            return false;
        }
    }
    if (len > p->max_frame) {
        fail(p, RW_WS_CLOSE_TOO_BIG, "frame larger than max_frame");
        return false;
    }
    if (f->masked)
        memcpy(f->key, h + pos, RW_WS_MASK_LEN);
    else
        memset(f->key, 0, RW_WS_MASK_LEN);
    f->len = len;
    p->off = 0;
    return true;
}

rw_ws_frame_result rw_ws_frame_parse(rw_ws_frame_parser *p, const uint8_t *in, size_t len,
                                     size_t *used, rw_ws_chunk *chunk)
{
    *used = 0;
    switch (p->state) {
    case ST_ERROR:
        return RW_WS_FRAME_ERROR;
    case ST_END:
        p->state = ST_HEAD;
        p->hlen = 0;
        p->hneed = 2;
        return RW_WS_FRAME_END;
    case ST_PAYLOAD: {
        uint64_t left = p->hdr.len - p->off;
        if (len == 0)
            return RW_WS_FRAME_NEED_MORE;
        size_t n = left < len ? (size_t)left : len;
        chunk->p = in;
        chunk->n = n;
        chunk->off = p->off;
        p->off += n;
        *used = n;
        if (p->off == p->hdr.len)
            p->state = ST_END;
        return RW_WS_FRAME_DATA;
    }
    default:
        break;
    }
    /* ST_HEAD */
    size_t i = 0;
    while (i < len) {
        size_t take = (size_t)(p->hneed - p->hlen);
        if (take > len - i)
            take = len - i;
        memcpy(p->hbuf + p->hlen, in + i, take);
        p->hlen = (uint8_t)(p->hlen + take);
        i += take;
        if (p->hlen < p->hneed)
            break;
        if (p->hlen == 2) {
            if (!check_fixed(p)) {
                *used = i;
                return RW_WS_FRAME_ERROR;
            }
            if (p->hneed > 2)
                continue;
        }
        *used = i;
        if (!finish_header(p))
            return RW_WS_FRAME_ERROR;
        p->state = p->hdr.len ? ST_PAYLOAD : ST_END;
        return RW_WS_FRAME_HEADER;
    }
    *used = i;
    return RW_WS_FRAME_NEED_MORE;
}

void rw_ws_frame_unmask_to(const rw_ws_frame_parser *p, const rw_ws_chunk *c, uint8_t *dst)
{
    if (p->hdr.masked)
        rw_ws_unmask_copy(dst, c->p, c->n, p->hdr.key, (unsigned)(c->off & 3));
    else if (dst != c->p)
        memmove(dst, c->p, c->n);
}

size_t rw_ws_frame_header_len(uint64_t len, bool masked)
{
    return 2 + (len < 126 ? 0 : len <= 0xffff ? 2 : 8) + (masked ? RW_WS_MASK_LEN : 0);
}

size_t rw_ws_frame_write_header(uint8_t *out, bool fin, uint8_t rsv, uint8_t opcode, uint64_t len,
                                const uint8_t *key)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv & RW_WS_RSV_MASK) | (opcode & 0x0f));
    uint8_t m = key ? 0x80 : 0;
    size_t pos;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
        pos = 2;
    } else if (len <= 0xffff) {
        out[1] = m | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        pos = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        pos = 10;
    }
    if (key) {
        memcpy(out + pos, key, RW_WS_MASK_LEN);
        pos += RW_WS_MASK_LEN;
    }
    return pos;
}

size_t rw_ws_frame_build(uint8_t *out, size_t cap, bool fin, uint8_t rsv, uint8_t opcode,
                         const uint8_t *payload, size_t len, const uint8_t *key)
{
    size_t hl = rw_ws_frame_header_len(len, key != NULL);
    if (cap < hl || cap - hl < len)
        return 0;
    rw_ws_frame_write_header(out, fin, rsv, opcode, len, key);
    if (len) {
        if (key)
            rw_ws_unmask_copy(out + hl, payload, len, key, 0);
        else
            memcpy(out + hl, payload, len);
    }
    return hl + len;
}
