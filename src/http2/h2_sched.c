/* DATA scheduling across the streams of a connection.
 *
 * Streams with response bytes to send sit on s->ready. Each turn sends one
 * DATA frame (at most the peer's MAX_FRAME_SIZE, the stream window and the
 * connection window) from the most urgent stream that can send (RFC 9218
 * urgency, lower first); streams of equal urgency take turns (the sender
 * goes to the back of the list), so one large response never starves the
 * others and a stream waiting for WINDOW_UPDATE blocks nobody. Scheduling
 * stops when the output queue is over its high-water mark and resumes from
 * the engine's on_drain(). Streaming producers are called here while their
 * buffered bytes are below RW_H2_STREAM_LOW_WATER. */
#include <string.h>

#include "conn/conn_internal.h"
#include "core/log.h"
#include "core/str.h"
#include "http2/h2_session.h"

#define RW_H2_SCHED_ROUNDS 64   /* producer/sender rounds per call (bounded work) */
#define RW_H2_PRODUCE_CALLS 16  /* producer calls per stream per round */

void rw_h2_sched_add(rw_h2_stream *st)
{
    if (st->in_sched || st->state == RW_H2_ST_CLOSED)
        return;
    if (rw_dlist_empty(&st->s->ready))
        st->s->last_data_ms = st->s->c->w->clock.now_ms; /* stall clock starts now */
    rw_dlist_insert_tail(&st->s->ready, &st->sched_link);
    st->in_sched = true;
}

void rw_h2_sched_remove(rw_h2_stream *st)
{
    if (!st->in_sched)
        return;
    rw_dlist_remove(&st->sched_link);
    st->in_sched = false;
}

void rw_h2_parse_priority(rw_h2_stream *st, rw_str v)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t start = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        rw_str item = rw_str_make(v.p + start, i - start);
        while (item.n && (item.p[item.n - 1] == ' ' || item.p[item.n - 1] == '\t'))
            item.n--;
        if (item.n == 3 && item.p[0] == 'u' && item.p[1] == '=' && item.p[2] >= '0' &&
            item.p[2] <= '7')
            st->urgency = (uint8_t)(item.p[2] - '0');
        else if ((item.n == 1 && item.p[0] == 'i') ||
                 (item.n == 4 && memcmp(item.p, "i=?1", 4) == 0))
            st->incremental = true;
        else if (item.n == 4 && memcmp(item.p, "i=?0", 4) == 0)
            st->incremental = false;
    }
}

static size_t pending(const rw_h2_stream *st)
{
    return st->data_len - st->data_off;
}

/* Calls producers that are low on bytes; returns true if any wrote. */
static bool pump_producers(rw_h2_session *s)
{
    bool wrote = false;
    rw_conn *c = s->c;
    for (rw_dlist *it = s->ready.next, *next; it != &s->ready; it = next) {
        next = it->next;
        rw_h2_stream *st = rw_container_of(it, rw_h2_stream, sched_link);
        if (st->kind != RW_H2_BODY_STREAM)
            continue;
        for (int k = 0; k < RW_H2_PRODUCE_CALLS; k++) {
            if (st->waiting || st->produce_done || pending(st) >= RW_H2_STREAM_LOW_WATER ||
                c->state == RW_CONN_DEAD)
                break;
            size_t before = pending(st);
            int rc = st->produce(&st->st, st->ud);
            if (st->state == RW_H2_ST_CLOSED || c->state == RW_CONN_DEAD)
                return wrote;
            if (pending(st) != before)
                wrote = true;
            if (rc == RW_STREAM_DONE)
                st->produce_done = true;
            else if (pending(st) == before)
                st->waiting = true;
        }
        next = it->next; /* a wake() may have appended streams */
    }
    return wrote;
}

static bool can_send(const rw_h2_stream *st, const rw_h2_session *s)
{
    if (pending(st) == 0) /* only the final empty DATA of a finished producer */
        return st->kind == RW_H2_BODY_STREAM && st->produce_done;
    return st->send_window > 0 && s->send_window > 0;
}

static rw_h2_stream *pick(rw_h2_session *s)
{
    rw_h2_stream *best = NULL;
    for (rw_dlist *it = s->ready.next; it != &s->ready; it = it->next) {
        rw_h2_stream *st = rw_container_of(it, rw_h2_stream, sched_link);
        if (can_send(st, s) && (!best || st->urgency < best->urgency))
            best = st;
    }
    return best;
}

/* Sends one DATA frame for st. */
static void send_one(rw_h2_session *s, rw_h2_stream *st)
{
    rw_conn *c = s->c;
    rw_outbuf *o = rw_conn_outbuf(c);
    if (!o)
        return;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    size_t avail = pending(st);
    if (avail == 0) { /* producer finished and everything went out */
        if (st->stream_left > 0) { /* fewer bytes than announced */
            rw_h2_stream_error(st, RW_H2_INTERNAL_ERROR);
            return;
        }
        char *dst = rw_outbuf_reserve(o, &pools, RW_H2_FRAME_HEADER_LEN);
        if (!dst) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        rw_outbuf_commit(o, rw_h2_write_data_header((uint8_t *)dst, st->id, 0, true));
        rw_conn_schedule(c);
        rw_h2_stream_end_local(st);
        return;
    }
    size_t n = avail;
    if ((int64_t)n > st->send_window)
        n = (size_t)st->send_window;
    if ((int64_t)n > s->send_window)
        n = (size_t)s->send_window;
    if (n > s->peer_max_frame)
        n = s->peer_max_frame;
    /* A file body under userspace TLS is read into the frame here: TLS needs
     * the bytes in userspace anyway (one copy, as from the mapping before),
     * the mapping is never touched (SIGBUS if the file shrank), and a short
     * read resets just this stream. One frame fills one pooled chunk. */
    bool file_copy = st->kind == RW_H2_BODY_EXT && st->file_fd >= 0 && c->tls;
    if (file_copy && n > RW_OUT_CHUNK_SIZE - RW_H2_FRAME_HEADER_LEN)
        n = RW_OUT_CHUNK_SIZE - RW_H2_FRAME_HEADER_LEN;
    bool last = n == avail && (st->kind != RW_H2_BODY_STREAM ||
                               (st->produce_done && st->stream_left <= 0));
    const char *src = st->data + st->data_off;
    if (file_copy) {
        char *dst = rw_outbuf_reserve(o, &pools, RW_H2_FRAME_HEADER_LEN + n);
        if (!dst) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        if (rw_file_pread(st->file_fd, dst + RW_H2_FRAME_HEADER_LEN, n,
                          st->file_off + st->data_off) != n) {
            rw_warn("h2: fd %d stream %u: a file being sent shrank or failed to read; "
                    "resetting the stream", c->fd, st->id);
            rw_h2_stream_error(st, RW_H2_INTERNAL_ERROR);
            return;
        }
        size_t hl = rw_h2_write_data_header((uint8_t *)dst, st->id, (uint32_t)n, last);
        rw_outbuf_commit(o, hl + n);
    } else if (st->kind == RW_H2_BODY_EXT) {
        char *dst = rw_outbuf_reserve(o, &pools, RW_H2_FRAME_HEADER_LEN);
        if (!dst) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        rw_outbuf_commit(o, rw_h2_write_data_header((uint8_t *)dst, st->id, (uint32_t)n, last));
        /* Only the last piece carries the release callback. */
        if (rw_outbuf_append_file(o, src, n, st->file_fd, st->file_off + st->data_off,
                                  last ? st->release : NULL, st->arg) != 0) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        st->ext_queued = true;
        if (last)
            st->release = NULL;
    } else {
        char *dst = rw_outbuf_reserve(o, &pools, RW_H2_FRAME_HEADER_LEN + n);
        if (!dst) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
        size_t hl = rw_h2_write_data_header((uint8_t *)dst, st->id, (uint32_t)n, last);
        memcpy(dst + hl, src, n);
        rw_outbuf_commit(o, hl + n);
    }
    rw_conn_schedule(c);
    s->last_data_ms = c->w->clock.now_ms;
    st->send_window -= (int64_t)n;
    s->send_window -= (int64_t)n;
    st->data_off += n;
    st->sent += n;
    if (st->kind == RW_H2_BODY_STREAM && st->data_off == st->data_len)
        st->data_off = st->data_len = 0;
    if (last) {
        rw_h2_stream_end_local(st);
        return;
    }
    /* Round robin among equals: the sender goes to the back. */
    rw_h2_sched_remove(st);
    rw_h2_sched_add(st);
}

bool rw_h2_sched_stalled(rw_h2_session *s, uint64_t now, uint64_t limit_ms)
{
    if (now - s->last_data_ms <= limit_ms)
        return false;
    for (rw_dlist *it = s->ready.next; it != &s->ready; it = it->next) {
        rw_h2_stream *st = rw_container_of(it, rw_h2_stream, sched_link);
        if (pending(st) > 0 && (st->send_window <= 0 || s->send_window <= 0))
            return true;
    }
    return false;
}

void rw_h2_sched_run(rw_h2_session *s)
{
    if (s->in_sched) {
        s->sched_again = true;
        return;
    }
    rw_conn *c = s->c;
    s->in_sched = true;
    for (int round = 0; round < RW_H2_SCHED_ROUNDS; round++) {
        s->sched_again = false;
        if (s->dead || c->state == RW_CONN_DEAD)
            break;
        bool wrote = pump_producers(s);
        bool sent = false;
        while (!s->dead && c->state != RW_CONN_DEAD && !(c->out && rw_outbuf_full(c->out))) {
            rw_h2_stream *st = pick(s);
            if (!st)
                break;
            send_one(s, st);
            sent = true;
        }
        if (!s->sched_again && !(wrote && sent))
            break;
        if (c->out && rw_outbuf_full(c->out))
            break;
    }
    s->in_sched = false;
}
