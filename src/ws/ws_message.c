/* Message assembler on top of the frame parser: per-frame events are mapped
 * to message state; data pieces go through (optional) inflate and UTF-8
 * validation on their way to the callbacks. */
#include "ws/ws_message.h"

#include <string.h>

enum { ST_OPEN, ST_CLOSED, ST_ERROR, ST_ABORTED };

void rw_ws_msg_init(rw_ws_msg *m, const rw_ws_msg_cfg *cfg)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->max_message = cfg->max_message ? cfg->max_message : RW_WS_DEFAULT_MAX_MESSAGE;
    if (cfg->reassembly_buf && m->max_message > cfg->reassembly_cap)
        m->max_message = cfg->reassembly_cap;
    rw_ws_frame_parser_init(&m->fp, cfg->is_server, cfg->max_frame,
                            cfg->deflate ? RW_WS_RSV1 : 0);
    m->state = ST_OPEN;
}

bool rw_ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

size_t rw_ws_close_payload(uint8_t *out, uint16_t code, const char *reason, size_t reason_len)
{
    if (!code)
        return 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (reason_len > RW_WS_MAX_CLOSE_REASON)
        reason_len = RW_WS_MAX_CLOSE_REASON;
    if (reason_len)
        memcpy(out + 2, reason, reason_len);
    return 2 + reason_len;
}

static rw_ws_msg_result fail(rw_ws_msg *m, uint16_t code, const char *why)
{
    m->state = ST_ERROR;
    m->close_code = code;
    m->error = why;
    return RW_WS_MSG_ERROR;
}

static rw_ws_msg_result aborted(rw_ws_msg *m)
{
    m->state = ST_ABORTED;
    m->error = "aborted by callback";
    return RW_WS_MSG_ABORTED;
}

/* One piece of (decompressed, unmasked) message payload: validate, then
 * deliver or append. The size limit was checked by the caller. */
static rw_ws_msg_result piece(rw_ws_msg *m, const uint8_t *p, size_t n, bool fin)
{
    if (m->msg_op == RW_WS_OP_TEXT && n && !rw_utf8_feed(&m->utf8, p, n))
        return fail(m, RW_WS_CLOSE_INVALID_DATA, "invalid UTF-8 in text message");
    if (fin && m->msg_op == RW_WS_OP_TEXT && !rw_utf8_complete(&m->utf8))
        return fail(m, RW_WS_CLOSE_INVALID_DATA, "text message ends inside a UTF-8 sequence");
    if (m->cfg.reassembly_buf) {
        if (n && m->cfg.reassembly_buf + m->msg_len - n != p) /* already in place? */
            memcpy(m->cfg.reassembly_buf + m->msg_len - n, p, n);
        if (!fin)
            return RW_WS_MSG_OK;
        p = m->cfg.reassembly_buf;
        n = (size_t)m->msg_len;
        m->first_pending = true;
    }
    if (!n && !fin)
        return RW_WS_MSG_OK;
    if (!p)
        p = (const uint8_t *)""; /* callbacks never see NULL */
    bool first = m->first_pending;
    m->first_pending = false;
    if (m->cfg.cb.on_data && m->cfg.cb.on_data(m->cfg.ud, m->msg_op, p, n, first, fin))
        return aborted(m);
    return RW_WS_MSG_OK;
}

static int inflate_sink(void *ud, const uint8_t *p, size_t n)
{
    rw_ws_msg *m = ud;
    /* rw_ws_inflate_feed already added n to msg_len */
    return piece(m, p, n, false) != RW_WS_MSG_OK;
}

static rw_ws_msg_result inflate_piece(rw_ws_msg *m, const uint8_t *p, size_t n, bool fin)
{
    rw_ws_deflate_result r = rw_ws_inflate_feed(m->cfg.deflate, p, n, fin, m->max_message,
                                                &m->msg_len, inflate_sink, m);
    switch (r) {
    case RW_WS_DEFLATE_OK:
        return RW_WS_MSG_OK;
    case RW_WS_DEFLATE_TOO_BIG:
        return fail(m, RW_WS_CLOSE_TOO_BIG, "decompressed message larger than max_message");
    case RW_WS_DEFLATE_ABORTED:
        /* piece() already set the state (UTF-8 error or callback abort) */
        return m->state == ST_ERROR ? RW_WS_MSG_ERROR : RW_WS_MSG_ABORTED;
    default:
        return fail(m, RW_WS_CLOSE_INVALID_DATA, "invalid compressed data");
    }
}

static rw_ws_msg_result on_header(rw_ws_msg *m)
{
    const rw_ws_frame_hdr *h = &m->fp.hdr;
    if (rw_ws_op_is_control(h->opcode)) {
        if (h->rsv)
            return fail(m, RW_WS_CLOSE_PROTOCOL, "RSV bit on a control frame");
        m->ctl_len = 0;
        return RW_WS_MSG_OK;
    }
    if (h->opcode == RW_WS_OP_CONT) {
        if (!m->in_message)
            return fail(m, RW_WS_CLOSE_PROTOCOL, "continuation frame without a message");
        if (h->rsv)
            return fail(m, RW_WS_CLOSE_PROTOCOL, "RSV bit on a continuation frame");
    } else {
        if (m->in_message)
            return fail(m, RW_WS_CLOSE_PROTOCOL, "new message inside a fragmented message");
        /* the frame parser only lets RSV1 through when deflate was negotiated */
        m->in_message = true;
        m->compressed = (h->rsv & RW_WS_RSV1) != 0;
        m->msg_op = h->opcode;
        m->msg_len = 0;
        m->wire_len = 0;
        m->first_pending = true;
        rw_utf8_init(&m->utf8);
    }
    /* Compressed bytes count too: an endless stream of frames that inflate
     * to nothing must still end. */
    uint64_t *acc = m->compressed ? &m->wire_len : &m->msg_len;
    if (h->len > m->max_message - *acc)
        return fail(m, RW_WS_CLOSE_TOO_BIG, "message larger than max_message");
    if (m->compressed)
        m->wire_len += h->len;
    return RW_WS_MSG_OK;
}

static rw_ws_msg_result on_data(rw_ws_msg *m, uint8_t *in, const rw_ws_chunk *c)
{
    const rw_ws_frame_hdr *h = &m->fp.hdr;
    uint8_t *p = in + (c->p - in);
    if (rw_ws_op_is_control(h->opcode)) {
        rw_ws_frame_unmask_to(&m->fp, c, m->ctl + m->ctl_len);
        m->ctl_len = (uint8_t)(m->ctl_len + c->n);
        return RW_WS_MSG_OK;
    }
    bool last = h->fin && c->off + c->n == h->len;
    if (m->compressed) {
        rw_ws_frame_unmask_to(&m->fp, c, p);
        return inflate_piece(m, p, c->n, false);
    }
    m->msg_len += c->n;
    if (m->cfg.reassembly_buf) {
        uint8_t *dst = m->cfg.reassembly_buf + m->msg_len - c->n;
        rw_ws_frame_unmask_to(&m->fp, c, dst);
        p = dst;
    } else {
        rw_ws_frame_unmask_to(&m->fp, c, p);
    }
    rw_ws_msg_result r = piece(m, p, c->n, last);
    if (last && r == RW_WS_MSG_OK)
        m->in_message = false;
    return r;
}

static rw_ws_msg_result on_control_end(rw_ws_msg *m)
{
    unsigned op = m->fp.hdr.opcode;
    if (op != RW_WS_OP_CLOSE) {
        if (m->cfg.cb.on_control && m->cfg.cb.on_control(m->cfg.ud, op, m->ctl, m->ctl_len))
            return aborted(m);
        return RW_WS_MSG_OK;
    }
    uint16_t code = RW_WS_CLOSE_NO_STATUS;
    const uint8_t *reason = m->ctl;
    size_t rlen = 0;
    if (m->ctl_len == 1)
        return fail(m, RW_WS_CLOSE_PROTOCOL, "close frame with a 1-byte payload");
    if (m->ctl_len >= 2) {
        code = (uint16_t)((m->ctl[0] << 8) | m->ctl[1]);
        if (!rw_ws_close_code_valid(code))
            return fail(m, RW_WS_CLOSE_PROTOCOL, "invalid close code");
        reason = m->ctl + 2;
        rlen = m->ctl_len - 2u;
        if (!rw_utf8_valid(reason, rlen))
            return fail(m, RW_WS_CLOSE_INVALID_DATA, "close reason is not UTF-8");
    }
    m->state = ST_CLOSED;
    if (m->cfg.cb.on_close && m->cfg.cb.on_close(m->cfg.ud, code, reason, rlen))
        return aborted(m);
    return RW_WS_MSG_CLOSED;
}

static rw_ws_msg_result on_end(rw_ws_msg *m)
{
    const rw_ws_frame_hdr *h = &m->fp.hdr;
    if (rw_ws_op_is_control(h->opcode))
        return on_control_end(m);
    if (!h->fin || !m->in_message) /* uncompressed FIN piece already closed the message */
        return RW_WS_MSG_OK;
    rw_ws_msg_result r;
    if (m->compressed) {
        r = inflate_piece(m, NULL, 0, true);
        if (r != RW_WS_MSG_OK)
            return r;
    }
    r = piece(m, NULL, 0, true); /* empty final frame, or the end of a compressed message */
    m->in_message = false;
    return r;
}

static rw_ws_msg_result sticky(const rw_ws_msg *m)
{
    switch (m->state) {
    case ST_CLOSED:
        return RW_WS_MSG_CLOSED;
    case ST_ABORTED:
        return RW_WS_MSG_ABORTED;
    default:
        return RW_WS_MSG_ERROR;
    }
}

rw_ws_msg_result rw_ws_msg_feed(rw_ws_msg *m, uint8_t *in, size_t len, size_t *used)
{
    size_t off = 0;
    *used = 0;
    if (m->state != ST_OPEN)
        return sticky(m);
    for (;;) {
        size_t u = 0;
        rw_ws_chunk c;
        rw_ws_frame_result fr = rw_ws_frame_parse(&m->fp, in + off, len - off, &u, &c);
        off += u;
        *used = off;
        rw_ws_msg_result r = RW_WS_MSG_OK;
        switch (fr) {
        case RW_WS_FRAME_NEED_MORE:
            return RW_WS_MSG_OK;
        case RW_WS_FRAME_ERROR:
            return fail(m, m->fp.close_code, m->fp.error);
        case RW_WS_FRAME_HEADER:
            r = on_header(m);
            break;
        case RW_WS_FRAME_DATA:
            r = on_data(m, in, &c);
            break;
        case RW_WS_FRAME_END:
            r = on_end(m);
            break;
        }
        if (r != RW_WS_MSG_OK)
            return r;
    }
}
