/* The /_status live dashboard (only with --metrics):
 *   GET /_status          the JSON summary (metrics.c) unless the client
 *                         prefers HTML (Accept names text/html): then a page
 *                         that draws req/s and open connections over time
 *   GET /_status.json     always the JSON summary (metrics.c)
 *   GET /_status/events   SSE: one "snapshot" event per second, data is a
 *                         JSON object with the process-wide counters and the
 *                         request rate since this stream's previous event
 * Each subscriber is an SSE stream with its own worker timer, so nothing is
 * shared between threads beyond the racy counter reads of rw_server_stats(). */
#include "app/status_page.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "conn/request.h"
#include "conn/worker.h"
#include "conn/wtimer.h"
#include "core/log.h"
#include "core/stats.h"
#include "ringwire/ws.h"

#define RW_STATUS_EVENT_MS 1000   /* one snapshot per second */
#define RW_STATUS_EVENT_BYTES 384 /* one snapshot's JSON (8 numbers) */

/* ---- content negotiation -------------------------------------------------- */

/* True when the value is a zero quality ("0", "0.", "0.000"). */
static bool zero_q(const char *p, size_t n)
{
    if (n == 0 || p[0] != '0')
        return false;
    for (size_t i = 1; i < n; i++)
        if (p[i] != '.' && p[i] != '0')
            return false;
    return true;
}

static rw_str trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (rw_str){ p, n };
}

/* True when Accept lists text/html without q=0 (a browser navigating);
 * curl, Prometheus and scripts send nothing or * / * and keep the JSON. */
bool rw_status_page_wanted(const rw_request *req)
{
    rw_str a;
    if (!rw_req_header(req, "Accept", &a))
        return false;
    size_t i = 0;
    while (i < a.n) {
        size_t st = i;
        while (i < a.n && a.p[i] != ',')
            i++;
        /* one element: type/subtype *( ";" param ) */
        const char *e = a.p + st, *end = a.p + i;
        i++;
        const char *semi = memchr(e, ';', (size_t)(end - e));
        rw_str type = trim(e, (size_t)((semi ? semi : end) - e));
        if (type.n != 9 || strncasecmp(type.p, "text/html", 9) != 0)
            continue;
        bool refused = false;
        while (semi) {
            const char *ps = semi + 1;
            semi = memchr(ps, ';', (size_t)(end - ps));
            rw_str prm = trim(ps, (size_t)((semi ? semi : end) - ps));
            if (prm.n >= 2 && (prm.p[0] == 'q' || prm.p[0] == 'Q') && prm.p[1] == '=')
                refused = zero_q(prm.p + 2, prm.n - 2);
        }
        if (!refused)
            return true;
    }
    return false;
}

/* ---- the page ------------------------------------------------------------- */

/* Plain HTML + JS, no external resources. The numbers are also written into
 * elements with ids (req-total, req-rate, conns, updates, history) so a
 * headless browser test can read the DOM. The chart keeps RW_STATUS_POINTS
 * samples (two minutes). */
static const char status_page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>ringwire status</title>\n"
    "<style>body{font:14px sans-serif;margin:1em}td{padding:0 1em 0 0}"
    "canvas{border:1px solid #ccc}.rate{color:#c33}.conn{color:#36c}</style></head>\n"
    "<body><h1>ringwire <span id=\"version\"></span> (<span id=\"backend\"></span>)</h1>\n"
    "<table><tr><td>requests</td><td id=\"req-total\">-</td></tr>\n"
    "<tr><td class=\"rate\">req/s</td><td id=\"req-rate\">-</td></tr>\n"
    "<tr><td class=\"conn\">open connections</td><td id=\"conns\">-</td></tr>\n"
    "<tr><td>WebSockets / SSE streams</td><td id=\"streams\">-</td></tr>\n"
    "<tr><td>updates</td><td id=\"updates\">0</td></tr>\n"
    "<tr><td>stream</td><td id=\"state\">connecting</td></tr></table>\n"
    "<canvas id=\"chart\" width=\"600\" height=\"200\"></canvas>\n"
    "<pre id=\"history\"></pre>\n"
    "<script>\n"
    "'use strict';\n"
    "const POINTS = 120, rates = [], conns = [], seen = [];\n"
    "let updates = 0;\n"
    "function $(id) { return document.getElementById(id); }\n"
    "function line(ctx, data, max, color, w, h) {\n"
    "  ctx.strokeStyle = color; ctx.beginPath();\n"
    "  data.forEach((v, i) => { const x = w - (data.length - 1 - i) * w / (POINTS - 1);\n"
    "    const y = h - 2 - v / max * (h - 4); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });\n"
    "  ctx.stroke(); }\n"
    "function draw() {\n"
    "  const c = $('chart'), ctx = c.getContext('2d'), w = c.width, h = c.height;\n"
    "  ctx.clearRect(0, 0, w, h);\n"
    "  line(ctx, rates, Math.max(1, ...rates), '#c33', w, h);\n"
    "  line(ctx, conns, Math.max(1, ...conns), '#36c', w, h);\n"
    "  ctx.fillStyle = '#000';\n"
    "  ctx.fillText('max ' + Math.max(0, ...rates).toFixed(1) + ' req/s, '\n"
    "               + Math.max(0, ...conns) + ' conns', 4, 12); }\n"
    "const es = new EventSource('/_status/events');\n"
    "es.onopen = () => { $('state').textContent = 'open'; };\n"
    "es.onerror = () => { $('state').textContent = 'reconnecting'; };\n"
    "es.addEventListener('snapshot', (e) => {\n"
    "  const s = JSON.parse(e.data);\n"
    "  updates++;\n"
    "  $('version').textContent = s.version; $('backend').textContent = s.backend;\n"
    "  $('req-total').textContent = s.requests; $('req-rate').textContent = s.req_rate.toFixed(1);\n"
    "  $('conns').textContent = s.connections_open;\n"
    "  $('streams').textContent = s.ws_open + ' / ' + s.sse_open;\n"
    "  $('updates').textContent = updates;\n"
    "  seen.push(e.lastEventId + ':' + s.requests); if (seen.length > 10) seen.shift();\n"
    "  $('history').textContent = seen.join(' ');\n"
    "  rates.push(s.req_rate); conns.push(s.connections_open);\n"
    "  if (rates.length > POINTS) { rates.shift(); conns.shift(); }\n"
    "  draw(); });\n"
    "</script></body></html>\n";

void rw_status_page_respond(rw_request *req)
{
    static const rw_header h[] = { { RW_STR("Content-Type"), RW_STR("text/html; charset=utf-8") },
                                   { RW_STR("Cache-Control"), RW_STR("no-store") },
                                   { RW_STR("Vary"), RW_STR("Accept") } };
    rw_respond(req, 200, h, sizeof h / sizeof h[0], status_page, sizeof status_page - 1);
}

/* ---- /_status/events ------------------------------------------------------ */

typedef struct status_sub {
    rw_sse *sse;
    rw_server *srv;
    rw_worker *w;
    rw_wtimer timer;
    uint64_t seq;           /* event id */
    uint64_t prev_requests; /* at the previous event */
    uint64_t prev_ms;       /* worker clock at the previous event */
} status_sub;

/* One snapshot as JSON into buf; returns its length (0 if it did not fit). */
static size_t render_snapshot(status_sub *u, char *buf, size_t cap)
{
    rw_stats sum;
    rw_server_stats(u->srv, &sum);
    uint64_t now = u->w->clock.now_ms;
    uint64_t dt = now > u->prev_ms ? now - u->prev_ms : 0;
    uint64_t dr = sum.requests >= u->prev_requests ? sum.requests - u->prev_requests : 0;
    /* req/s with one decimal, in integers (tenths) */
    uint64_t tenths = dt ? dr * 10000 / dt : 0;
    unsigned open = atomic_load_explicit(&u->srv->conns, memory_order_relaxed);
    int n = snprintf(buf, cap,
                     "{\"version\":\"%s\",\"backend\":\"%s\",\"requests\":%llu,"
                     "\"req_rate\":%llu.%llu,\"interval_ms\":%llu,\"connections_open\":%u,"
                     "\"connections_accepted\":%llu,\"ws_open\":%llu,\"sse_open\":%llu,"
                     "\"bytes_sent\":%llu}",
                     RINGWIRE_VERSION, u->srv->cfg.backend == RW_BACKEND_EPOLL ? "epoll" : "uring",
                     (unsigned long long)sum.requests, (unsigned long long)(tenths / 10),
                     (unsigned long long)(tenths % 10), (unsigned long long)dt, open,
                     (unsigned long long)sum.conns_accepted, (unsigned long long)sum.ws_active,
                     (unsigned long long)sum.sse_active, (unsigned long long)sum.bytes_out);
    u->prev_requests = sum.requests;
    u->prev_ms = now;
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void status_fire(rw_wtimer *t, void *ud)
{
    status_sub *u = ud;
    char id[24], data[RW_STATUS_EVENT_BYTES];
    size_t n = render_snapshot(u, data, sizeof data);
    snprintf(id, sizeof id, "%llu", (unsigned long long)++u->seq);
    if (n == 0 || rw_sse_send(u->sse, "snapshot", id, data, n) != 0) {
        rw_sse_close(u->sse); /* may free u (status_closed): nothing after this */
        return;
    }
    /* Timers fire on the worker tick, late by up to a tick: subtract the
     * lateness so the events keep a one-second average period. */
    uint64_t now = u->w->clock.now_ms;
    uint64_t late = now > t->due_ms ? now - t->due_ms : 0;
    rw_wtimer_arm(u->w, t, late < RW_STATUS_EVENT_MS ? RW_STATUS_EVENT_MS - late : 0);
}

static void status_closed(rw_sse *sse, void *ud)
{
    (void)sse;
    status_sub *u = ud;
    rw_wtimer_cancel(&u->timer);
    free(u);
}

static const rw_sse_handlers status_handlers = { status_closed };

static void handle_status_events(rw_request *req, void *ud)
{
    status_sub *u = calloc(1, sizeof *u);
    if (!u) {
        rw_respond(req, 503, NULL, 0, NULL, 0);
        return;
    }
    u->srv = ud;
    u->w = req->worker;
    rw_stats sum;
    rw_server_stats(u->srv, &sum);
    u->prev_requests = sum.requests;
    u->prev_ms = u->w->clock.now_ms;
    rw_wtimer_init(&u->timer, status_fire, u);
    u->sse = rw_sse_accept(req, &status_handlers, u);
    if (!u->sse)
        return; /* status_closed already freed u */
    /* The first event comes at once (rate 0): the page has numbers to show
     * without waiting a full interval. */
    rw_wtimer_arm(u->w, &u->timer, 0);
}

int rw_status_page_add_routes(rw_server *s)
{
    if (rw_server_route(s, "GET", RW_STATUS_EVENTS_PATH, RW_ROUTE_EXACT, handle_status_events, s) <
        0) {
        rw_error("status page: cannot register %s", RW_STATUS_EVENTS_PATH);
        return -1;
    }
    return 0;
}
