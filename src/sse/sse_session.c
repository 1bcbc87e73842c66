/* Server-Sent Events on top of the streaming-response API: the event
 * stream is an rw_respond_stream() response whose producer drains a bounded
 * per-stream queue of formatted events. Because the producer only runs when
 * the connection's output is below its high-water mark, memory per stream is
 * bounded by --sse-max-queue plus the connection's output buffer. Works on
 * any engine that implements the streaming responder (HTTP/1.1 chunked,
 * HTTP/2 DATA frames). */
#include <stdlib.h>
#include <string.h>

#include "conn/request.h"
#include "conn/worker.h"
#include "conn/wtimer.h"
#include "core/log.h"
#include "ringwire/ws.h"
#include "sse/sse_format.h"
#include "ws/ws_session.h"
#include "core/probes.h"

#define RW_SSE_WRITE_STEP 16384 /* bytes handed to rw_stream_write per call */
#define RW_SSE_QUEUE_MIN 1024   /* first allocation of the event queue */
#define RW_SSE_MAX_CORS 256     /* longest --sse-cors origin we send */
#define RW_SSE_CHECK_MS 1000    /* ping / shutdown check period per stream */

struct rw_sse {
    rw_worker *w;
    rw_stream *st;           /* known from the first produce() call */
    rw_sse_handlers h;
    void *ud;
    char *q;                 /* formatted bytes not yet handed to the stream */
    size_t qoff, qlen, qcap;
    size_t max_queue;
    bool ended;              /* rw_sse_close() or slow consumer: finish the stream */
    bool drop;               /* slow consumer: do not bother sending what is queued */
    bool waiting;            /* produce() returned without writing: needs a wake */
    uint64_t last_write_ms;
    rw_wtimer ping;
};

rw_worker *rw_sse_worker(const rw_sse *sse)
{
    return sse->w;
}


static void wake(rw_sse *s)
{
    if (s->st && s->waiting) {
        s->waiting = false;
        rw_stream_wake(s->st); /* may finish the stream (and free s) when ended */
    }
}

/* Room for n more bytes in the queue, within the bound. */
static char *queue_reserve(rw_sse *s, size_t n)
{
    if (s->qoff > 0 && s->qoff == s->qlen)
        s->qoff = s->qlen = 0;
    if (s->qlen - s->qoff + n > s->max_queue)
        return NULL;
    if (s->qlen + n > s->qcap) {
        if (s->qoff > 0) { /* compact before growing */
            memmove(s->q, s->q + s->qoff, s->qlen - s->qoff);
            s->qlen -= s->qoff;
            s->qoff = 0;
        }
        size_t cap = s->qcap ? s->qcap : RW_SSE_QUEUE_MIN;
        while (cap < s->qlen + n)
            cap *= 2;
        if (cap != s->qcap) {
            char *nq = realloc(s->q, cap);
            if (!nq)
                return NULL;
            s->q = nq;
            s->qcap = cap;
        }
    }
    return s->q + s->qlen;
}

static void slow_consumer(rw_sse *s)
{
    s->w->stats.stream_slow_consumers++;
    RW_PROBE1(sse__slow_close, s->qlen - s->qoff);
    s->ended = true;
    s->drop = true;
    rw_debug("sse: slow consumer, ending the stream");
}

static int produce(rw_stream *st, void *ud)
{
    rw_sse *s = ud;
    s->st = st;
    if (s->drop)
        return RW_STREAM_DONE;
    if (s->qoff < s->qlen) {
        size_t n = s->qlen - s->qoff;
        if (n > RW_SSE_WRITE_STEP)
            n = RW_SSE_WRITE_STEP;
        if (rw_stream_write(st, s->q + s->qoff, n) != 0)
            return RW_STREAM_DONE;
        s->qoff += n;
        s->last_write_ms = s->w->clock.now_ms;
        if (s->qoff == s->qlen)
            s->qoff = s->qlen = 0;
        return RW_STREAM_MORE;
    }
    if (s->ended)
        return RW_STREAM_DONE;
    s->waiting = true;
    return RW_STREAM_MORE;
}

static void stream_closed(void *ud)
{
    rw_sse *s = ud;
    rw_wtimer_cancel(&s->ping);
    s->w->stats.sse_active--;
    if (s->h.on_close)
        s->h.on_close(s, s->ud);
    free(s->q);
    free(s);
}

static void ping_due(rw_wtimer *t, void *ud)
{
    rw_sse *s = ud;
    if (s->w->draining) { /* shutting down: end the stream so the drain can finish */
        rw_sse_close(s); /* may free s: nothing after this */
        return;
    }
    unsigned every = s->w->cfg->sse_ping_ms;
    if (every > 0 && !s->ended && s->w->clock.now_ms - s->last_write_ms + RW_TICK_MS / 2 >= every &&
        s->qoff == s->qlen)
        rw_sse_comment(s, "ping");
    rw_wtimer_arm(s->w, t, every > 0 && every < RW_SSE_CHECK_MS ? every : RW_SSE_CHECK_MS);
}

static bool header_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > RW_SSE_MAX_CORS)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

rw_sse *rw_sse_accept(rw_request *req, const rw_sse_handlers *h, void *ud)
{
    rw_worker *w = req->worker;
    rw_sse *s = calloc(1, sizeof *s);
    if (!s) {
        static const rw_header ct[] = { { RW_STR("Content-Type"), RW_STR("text/plain") } };
        rw_respond(req, 503, ct, 1, "out of memory\n", 14);
        return NULL;
    }
    s->w = w;
    s->h = h ? *h : (rw_sse_handlers){ 0 };
    s->ud = ud;
    s->max_queue = w->cfg->sse_max_queue;
    s->last_write_ms = w->clock.now_ms;
    rw_wtimer_init(&s->ping, ping_due, s);
    rw_header hh[4] = {
        { RW_STR("Content-Type"), RW_STR(RW_SSE_CONTENT_TYPE) },
        { RW_STR("Cache-Control"), RW_STR("no-cache") },
        { RW_STR("X-Accel-Buffering"), RW_STR("no") }, /* tells proxies not to buffer */
    };
    size_t nh = 3;
    const char *cors = w->cfg->sse_cors;
    if (cors && header_value_ok(cors))
        hh[nh++] = (rw_header){ RW_STR("Access-Control-Allow-Origin"), { cors, strlen(cors) } };
    w->stats.sse_active++;
    /* on_close(s) runs on failure too: the caller sees NULL and no callback
     * use-after-free, because we detect it through started. */
    s->waiting = false;
    bool is_head = req->is_head;
    if (rw_respond_stream(req, 200, hh, nh, -1, produce, s, stream_closed) != 0 || is_head)
        return NULL; /* stream_closed already ran and freed s */
    rw_wtimer_arm(w, &s->ping, RW_SSE_CHECK_MS);
    return s;
}

rw_str rw_sse_last_event_id(const rw_request *req)
{
    rw_str v;
    if (!rw_req_header(req, "Last-Event-ID", &v))
        return (rw_str){ "", 0 };
    return v;
}

int rw_sse_send(rw_sse *s, const char *event, const char *id, const void *data, size_t len)
{
    if (s->ended)
        return -1;
    rw_sse_event e = { .event = { event ? event : "", event ? strlen(event) : 0 },
                       .id = { id, id ? strlen(id) : 0 },
                       .data = { data ? data : (len ? NULL : ""), len },
                       .retry_ms = -1 };
    if (!data && len)
        return -1;
    size_t need = rw_sse_event_size(&e);
    if (need == 0)
        return -1;
    char *p = queue_reserve(s, need);
    if (!p) {
        slow_consumer(s);
        return -1;
    }
    s->qlen += rw_sse_event_write(&e, p, need);
    s->w->stats.sse_events++;
    s->w->stats.sse_bytes += need;
    wake(s);
    return 0;
}

int rw_sse_comment(rw_sse *s, const char *text)
{
    if (s->ended)
        return -1;
    rw_str t = { text ? text : "", text ? strlen(text) : 0 };
    size_t need = rw_sse_comment_size(t);
    char *p = queue_reserve(s, need);
    if (!p) {
        slow_consumer(s);
        return -1;
    }
    s->qlen += rw_sse_comment_write(t, p, need);
    wake(s);
    return 0;
}

void rw_sse_close(rw_sse *s)
{
    if (s->ended)
        return;
    s->ended = true;
    wake(s);
}
