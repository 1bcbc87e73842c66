/* What every engine reports about a request, in one place for HTTP/1 and
 * HTTP/2 alike: counters, the USDT probes (core/probes.h: each probe name
 * may sit at one place only) and the worker's request_done hook, through
 * which the app writes its access log. */
#include "conn/conn.h"
#include "conn/request.h"
#include "conn/worker.h"
#include "core/probes.h"
#include "core/stats.h"

void rw_request_start(rw_conn *c, const rw_request *r)
{
    RW_PROBE4(request__start, c->fd, r->method.p, r->method.n, r->path.n);
    c->w->stats.requests++;
    c->requests++;
}

void rw_request_done(rw_conn *c, const rw_request *r, int status, uint64_t bytes)
{
    rw_worker *w = c->w;
    rw_stats_count_status(&w->stats, status);
    RW_PROBE3(request__done, c->fd, status, bytes);
    if (w->hooks.request_done && r)
        w->hooks.request_done(w, c->fd, r, status, bytes);
}

void rw_request_streamed(rw_conn *c, const rw_request *r, int status, int64_t clen)
{
    rw_worker *w = c->w;
    rw_stats_count_status(&w->stats, status);
    RW_PROBE3(request__stream, c->fd, status, clen);
    if (w->hooks.request_done && r)
        w->hooks.request_done(w, c->fd, r, status, 0);
}
