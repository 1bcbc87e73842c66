/* libFuzzer harness for the WebSocket frame parser and the message
 * assembler (with permessage-deflate). The first input byte picks the role,
 * limits, deflate, delivery mode and a piece size; the rest is parsed whole
 * and cut into pieces. Both runs must give the same events (frame parser)
 * and the same delivered messages and verdict (assembler); views must lie
 * in the fed piece; every accepted frame must re-serialize to its own bytes
 * (non-minimal lengths are rejected, so the encoding is unique). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws_frame.h"
#include "ws/ws_message.h"

typedef struct digest {
    uint64_t h;
    uint64_t n;
} digest;

static void dmix(digest *d, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3ull;
    d->n += n;
}

static void dint(digest *d, uint64_t v) { dmix(d, &v, sizeof(v)); }

/* ---- frame parser ---- */

static digest frames(uint8_t cfg, const uint8_t *in, size_t len, size_t piece)
{
    rw_ws_frame_parser p;
    rw_ws_frame_parser_init(&p, cfg & 1, (cfg & 2) ? 300 : 0, (cfg & 4) ? RW_WS_RSV1 : 0);
    digest d = { 0xcbf29ce484222325ull, 0 };
    uint8_t *frame = malloc(len + RW_WS_MAX_HEADER_LEN + 1); /* re-serialized current frame */
    uint8_t *payload = malloc(len + 1);
    size_t plen = 0, fstart = 0, abs = 0;
    for (size_t start = 0; start < len; start += piece) {
        size_t n = len - start < piece ? len - start : piece;
        uint8_t *copy = malloc(n);
        memcpy(copy, in + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0;
            rw_ws_chunk c;
            rw_ws_frame_result r = rw_ws_frame_parse(&p, copy + off, n - off, &used, &c);
            if (used > n - off)
                abort();
            if (r != RW_WS_FRAME_DATA && r != RW_WS_FRAME_NEED_MORE)
                dint(&d, r); /* DATA pieces depend on the cuts; their bytes do not */
            if (r == RW_WS_FRAME_HEADER) {
                dint(&d, p.hdr.fin);
                dint(&d, p.hdr.rsv);
                dint(&d, p.hdr.opcode);
                dint(&d, p.hdr.len);
                plen = 0; /* the header began where the last frame ended (fstart) */
            } else if (r == RW_WS_FRAME_DATA) {
                if (!c.n || c.p < copy + off || c.p + c.n > copy + n || c.off != plen)
                    abort();
                rw_ws_frame_unmask_to(&p, &c, payload + plen);
                dmix(&d, payload + plen, c.n);
                plen += c.n;
            } else if (r == RW_WS_FRAME_END) {
                if (plen != p.hdr.len)
                    abort();
                size_t fl = rw_ws_frame_build(frame, len + RW_WS_MAX_HEADER_LEN + 1, p.hdr.fin,
                                              p.hdr.rsv, p.hdr.opcode, payload, plen,
                                              p.hdr.masked ? p.hdr.key : NULL);
                if (fl != abs + off - fstart || memcmp(frame, in + fstart, fl) != 0)
                    abort();
                fstart = abs + off;
            } else if (r == RW_WS_FRAME_ERROR) {
                if (!p.error || !p.close_code)
                    abort();
                dint(&d, p.close_code);
                free(copy);
                goto out;
            }
            off += used;
            if (r == RW_WS_FRAME_NEED_MORE) {
                if (off != n)
                    abort();
                break;
            }
        }
        free(copy);
        abs += n;
    }
out:
    free(frame);
    free(payload);
    return d;
}

/* ---- message assembler ---- */

typedef struct msgrun {
    digest d;
    int verdict;
} msgrun;

static int m_data(void *ud, unsigned op, const uint8_t *p, size_t n, bool first, bool fin)
{
    msgrun *r = ud;
    if (!p)
        abort();
    /* the piece boundaries depend on the cuts: hash only bytes and markers */
    if (first)
        dint(&r->d, 0x1111 + op);
    dmix(&r->d, p, n);
    if (fin)
        dint(&r->d, 0x2222);
    return 0;
}

static int m_ctl(void *ud, unsigned op, const uint8_t *p, size_t n)
{
    msgrun *r = ud;
    dint(&r->d, op | 0x100);
    dmix(&r->d, p, n);
    return 0;
}

static int m_close(void *ud, uint16_t code, const uint8_t *p, size_t n)
{
    msgrun *r = ud;
    if (!rw_ws_close_code_valid(code) && code != RW_WS_CLOSE_NO_STATUS)
        abort();
    dint(&r->d, code | 0x10000);
    dmix(&r->d, p, n);
    return 0;
}

static msgrun messages(uint8_t cfgb, const uint8_t *in, size_t len, size_t piece)
{
    static uint8_t rbuf[4096];
    msgrun res = { { 0xcbf29ce484222325ull, 0 }, 0 };
    rw_ws_deflate d;
    bool deflate = (cfgb & 4) != 0;
    rw_ws_deflate_params prm = { (cfgb & 0x20) != 0, (cfgb & 0x20) != 0, 15, 15 };
    if (deflate && rw_ws_deflate_init(&d, &prm, cfgb & 1, NULL) != 0)
        abort();
    bool reasm = (cfgb & 8) != 0;
    rw_ws_msg_cfg cfg = { .is_server = cfgb & 1,
                          .max_frame = (cfgb & 2) ? 300 : 0,
                          .max_message = (cfgb & 0x10) ? 1000 : 1u << 20,
                          .deflate = deflate ? &d : NULL,
                          .reassembly_buf = reasm ? rbuf : NULL,
                          .reassembly_cap = sizeof(rbuf),
                          .cb = { m_data, m_ctl, m_close },
                          .ud = &res };
    rw_ws_msg m;
    rw_ws_msg_init(&m, &cfg);
    for (size_t start = 0; start < len; start += piece) {
        size_t n = len - start < piece ? len - start : piece;
        uint8_t *copy = malloc(n);
        memcpy(copy, in + start, n);
        size_t used = 0;
        rw_ws_msg_result r = rw_ws_msg_feed(&m, copy, n, &used);
        free(copy);
        if (used > n)
            abort();
        if (r == RW_WS_MSG_OK && used != n)
            abort();
        if (r == RW_WS_MSG_CLOSED) {
            res.verdict = -1;
            dint(&res.d, start + used);
            break;
        }
        if (r != RW_WS_MSG_OK) {
            if (r != RW_WS_MSG_ERROR || !m.error)
                abort();
            res.verdict = m.close_code;
            break;
        }
    }
    if (deflate)
        rw_ws_deflate_free(&d);
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    size_t piece = (size_t)(cfg >> 6) * 3 + 1; /* 1, 4, 7, 10 */

    digest a = frames(cfg, in, len, len ? len : 1);
    digest b = frames(cfg, in, len, piece);
    if (a.h != b.h || a.n != b.n)
        abort();

    msgrun x = messages(cfg, in, len, len ? len : 1);
    msgrun y = messages(cfg, in, len, piece);
    if (x.verdict != y.verdict)
        abort();
    /* On an error a streaming run may have delivered a (valid) prefix of the
     * failing message that the whole run did not: compare clean runs only. */
    if (x.verdict <= 0 && (x.d.h != y.d.h || x.d.n != y.d.n))
        abort();
    return 0;
}
