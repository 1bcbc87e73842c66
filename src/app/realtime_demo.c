/* Demo routes for the WebSocket and SSE APIs:
 *   GET /ws/echo   every text/binary message is sent back as it came
 *   GET /ws/chat   every text message goes to every chat member, on every
 *                  worker thread (a channel: cross-thread broadcast)
 *   GET /ws/chat/events  the same room as an SSE stream (event: chat)
 *   GET /chat      the chat room as a page (WebSocket + SSE)
 *   GET /events    one "tick" event per interval with increasing ids,
 *                  resumable (Last-Event-ID: N continues at N+1);
 *                  ?every=MS (default 1000), ?count=N ends after N events
 *   GET /realtime  a page that exercises /ws/echo and /events from a browser
 *                  and writes what it saw into its DOM */
#include "app/realtime_demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/request.h"
#include "conn/worker.h"
#include "conn/wtimer.h"
#include "core/dlist.h"
#include "core/log.h"
#include "ringwire/ws.h"

#define RW_EVENTS_EVERY_MS 1000    /* default tick interval */
#define RW_EVENTS_MIN_EVERY_MS 10
#define RW_EVENTS_MAX_EVERY_MS 60000
#define RW_EVENTS_MAX_ID 1000000000000000000ull

/* ---- /ws/echo ------------------------------------------------------------- */

static void echo_message(rw_ws *ws, const void *data, size_t len, bool binary, void *ud)
{
    (void)ud;
    if (binary)
        rw_ws_send_binary(ws, data, len);
    else
        rw_ws_send_text(ws, data, len);
}

static const rw_ws_handlers echo_handlers = { NULL, echo_message, NULL };

static void handle_ws_echo(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_str protos[] = { RW_STR("echo") };
    rw_ws_options opts = { protos, 1 };
    rw_ws_accept(req, &echo_handlers, &opts, NULL);
}

/* ---- /ws/chat ------------------------------------------------------------- */

/* One room for the whole server: members on every worker thread, text
 * messages fanned out through a channel (cross-thread, include/ringwire/ws.h). */
static void chat_open(rw_ws *ws, void *ud)
{
    if (rw_channel_join_ws(ud, ws) != 0)
        rw_ws_close(ws, 1011, "cannot join");
}

static void chat_message(rw_ws *ws, const void *data, size_t len, bool binary, void *ud)
{
    (void)ws;
    if (!binary)
        rw_channel_publish(ud, data, len, false);
}

static void chat_close(rw_ws *ws, unsigned code, void *ud)
{
    (void)code;
    rw_channel_leave_ws(ud, ws);
}

static const rw_ws_handlers chat_handlers = { chat_open, chat_message, chat_close };

static void handle_ws_chat(rw_request *req, void *ud)
{
    rw_ws_accept(req, &chat_handlers, NULL, ud /* the room's channel */);
}

/* GET /ws/chat/events: the same room as an SSE stream (event "chat"). */
static void chat_sse_close(rw_sse *sse, void *ud)
{
    rw_channel_leave_sse(ud, sse);
}

static const rw_sse_handlers chat_sse_handlers = { chat_sse_close };

static void handle_chat_events(rw_request *req, void *ud)
{
    rw_sse *sse = rw_sse_accept(req, &chat_sse_handlers, ud);
    if (sse && rw_channel_join_sse(ud, sse, "chat") != 0)
        rw_sse_close(sse);
}

/* ---- /events -------------------------------------------------------------- */

typedef struct ticker {
    rw_sse *sse;
    rw_worker *w;
    rw_wtimer timer;
    uint64_t next_id;
    uint64_t left;       /* events still to send; UINT64_MAX = unbounded */
    unsigned every_ms;
} ticker;

static void ticker_fire(rw_wtimer *t, void *ud)
{
    ticker *k = ud;
    char id[24], data[48];
    snprintf(id, sizeof id, "%llu", (unsigned long long)k->next_id);
    int n = snprintf(data, sizeof data, "tick %llu", (unsigned long long)k->next_id);
    k->next_id++;
    if (k->left != UINT64_MAX)
        k->left--;
    if (rw_sse_send(k->sse, "tick", id, data, (size_t)n) != 0 || k->left == 0) {
        rw_sse_close(k->sse); /* may free k (ticker_closed): nothing after this */
        return;
    }
    rw_wtimer_arm(k->w, t, k->every_ms);
}

static void ticker_closed(rw_sse *sse, void *ud)
{
    (void)sse;
    ticker *k = ud;
    rw_wtimer_cancel(&k->timer);
    free(k);
}

static const rw_sse_handlers ticker_handlers = { ticker_closed };

/* Strict decimal, at most max; false when absent or malformed. */
static bool parse_u64(rw_str s, uint64_t max, uint64_t *out)
{
    if (s.n == 0 || s.n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Value of name=... in a query string. */
static bool query_param(rw_str q, const char *name, rw_str *v)
{
    size_t nl = strlen(name), i = 0;
    while (i < q.n) {
        size_t st = i;
        while (i < q.n && q.p[i] != '&')
            i++;
        if (i - st > nl && memcmp(q.p + st, name, nl) == 0 && q.p[st + nl] == '=') {
            *v = (rw_str){ q.p + st + nl + 1, i - st - nl - 1 };
            return true;
        }
        i++;
    }
    return false;
}

static void handle_events(rw_request *req, void *ud)
{
    (void)ud;
    ticker *k = calloc(1, sizeof *k);
    if (!k) {
        rw_respond(req, 503, NULL, 0, NULL, 0);
        return;
    }
    k->w = req->worker;
    k->next_id = 1;
    k->left = UINT64_MAX;
    k->every_ms = RW_EVENTS_EVERY_MS;
    uint64_t v;
    rw_str p;
    if (parse_u64(rw_sse_last_event_id(req), RW_EVENTS_MAX_ID, &v))
        k->next_id = v + 1; /* resume after the last event the client saw */
    if (query_param(rw_req_query(req), "every", &p) && parse_u64(p, RW_EVENTS_MAX_EVERY_MS, &v) &&
        v >= RW_EVENTS_MIN_EVERY_MS)
        k->every_ms = (unsigned)v;
    if (query_param(rw_req_query(req), "count", &p) && parse_u64(p, RW_EVENTS_MAX_ID, &v) && v > 0)
        k->left = v;
    rw_wtimer_init(&k->timer, ticker_fire, k);
    k->sse = rw_sse_accept(req, &ticker_handlers, k);
    if (!k->sse)
        return; /* ticker_closed already freed k */
    rw_wtimer_arm(k->w, &k->timer, k->every_ms);
}

/* ---- /realtime ------------------------------------------------------------ */

/* The page checks what it gets back itself and writes one verdict line
 * per protocol (tests/integration/test_browser.py reads them from the DOM):
 *   ws: ok text=2 binary=2 ext=<negotiated extensions or none>
 *   sse: ok ids=1,2,3 data=tick 1|tick 2|tick 3
 * or "ws: FAIL ..." / "sse: FAIL ...". The title becomes "done" when both
 * lines are final. */
static const char realtime_page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>pending</title></head>\n"
    "<body><pre id=\"ws\">ws: pending</pre><pre id=\"sse\">sse: pending</pre>\n"
    "<script>\n"
    "'use strict';\n"
    "const done = {ws: false, sse: false};\n"
    "function show(id, text) { document.getElementById(id).textContent = text;\n"
    "  done[id] = true; if (done.ws && done.sse) document.title = 'done'; }\n"
    /* a multi-byte UTF-8 text, a text over 64 KiB (16-bit length form and
     * deflate), a tiny and a 20000-byte binary message */
    "const texts = ['hello \\u00fcnic\\u00f6de \\u2713', 'x'.repeat(40000) + 'y'.repeat(30000)];\n"
    "const big = new Uint8Array(20000); for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;\n"
    "const bins = [new Uint8Array([1, 2, 3]), big];\n"
    "function same(a, b) { if (a.length !== b.length) return false;\n"
    "  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; }\n"
    "const ws = new WebSocket('ws://' + location.host + '/ws/echo');\n"
    "ws.binaryType = 'arraybuffer';\n"
    "let n = 0, okText = 0, okBin = 0;\n"
    "ws.onopen = () => { ws.send(texts[0]); ws.send(bins[0]); ws.send(texts[1]); ws.send(bins[1]); };\n"
    "ws.onmessage = (e) => {\n"
    "  const i = n++;\n" /* replies come back in order: text, bin, text, bin */
    "  if (i % 2 === 0) { if (typeof e.data === 'string' && e.data === texts[i / 2]) okText++; }\n"
    "  else if (e.data instanceof ArrayBuffer && same(new Uint8Array(e.data), bins[(i - 1) / 2])) okBin++;\n"
    "  if (n === 4) { ws.close(1000);\n"
    "    show('ws', (okText === 2 && okBin === 2 ? 'ws: ok' : 'ws: FAIL') + ' text=' + okText\n"
    "         + ' binary=' + okBin + ' ext=' + (ws.extensions || 'none')); } };\n"
    "ws.onerror = () => { if (!done.ws) show('ws', 'ws: FAIL error after ' + n + ' messages'); };\n"
    "ws.onclose = (e) => { if (!done.ws) show('ws', 'ws: FAIL closed ' + e.code + ' after ' + n); };\n"
    "const ids = [], data = [];\n"
    "const es = new EventSource('/events?every=50&count=3');\n"
    "es.addEventListener('tick', (e) => { ids.push(e.lastEventId); data.push(e.data);\n"
    "  if (ids.length === 3) { es.close();\n"
    "    show('sse', 'sse: ok ids=' + ids.join(',') + ' data=' + data.join('|')); } });\n"
    "es.onerror = () => { if (!done.sse) { es.close(); show('sse', 'sse: FAIL error after '\n"
    "    + ids.length + ' events'); } };\n"
    "</script></body></html>\n";

/* GET /chat: the chat room in a browser (WebSocket /ws/chat, with the same
 * room's SSE stream shown alongside). With #selftest the page talks to
 * itself through two WebSockets and the SSE stream and writes
 * "chat: ok ws=1 sse=1" (or "chat: FAIL ...") into <pre id="chat">
 * (tests/integration/test_browser.py). */
static const char chat_page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>ringwire chat</title>\n"
    "<style>body{font:14px sans-serif;margin:2em}#log{border:1px solid #ccc;height:20em;"
    "overflow:auto;padding:.5em}</style></head>\n"
    "<body><h1>ringwire chat</h1><div id=\"log\"></div>\n"
    "<form id=\"f\"><input id=\"msg\" size=\"60\" autocomplete=\"off\">"
    "<button>send</button></form><pre id=\"chat\">chat: pending</pre>\n"
    "<script>\n'use strict';\n"
    "const log = document.getElementById('log');\n"
    "function line(t) { const d = document.createElement('div'); d.textContent = t;\n"
    "  log.appendChild(d); log.scrollTop = log.scrollHeight; }\n"
    "const url = 'ws://' + location.host + '/ws/chat';\n"
    "const ws = new WebSocket(url);\n"
    "ws.onmessage = (e) => line('ws: ' + e.data);\n"
    "ws.onclose = (e) => line('closed ' + e.code);\n"
    "document.getElementById('f').onsubmit = (e) => { e.preventDefault();\n"
    "  const m = document.getElementById('msg'); if (m.value) ws.send(m.value); m.value = ''; };\n"
    "const es = new EventSource('/ws/chat/events');\n"
    "es.addEventListener('chat', (e) => line('sse: ' + e.data));\n"
    "if (location.hash === '#selftest') {\n"
    "  const token = 'hello ' + Math.random().toString(36).slice(2);\n"
    "  let gotWs = 0, gotSse = 0, sent = false;\n"
    "  const out = document.getElementById('chat');\n"
    /* close everything at the end: --dump-dom waits for open streams */
    "  function finish() { ws.close(); other.close(); es.close(); document.title = 'done'; }\n"
    "  function verdict() { if (gotWs && gotSse) { out.textContent = 'chat: ok ws=' + gotWs\n"
    "      + ' sse=' + gotSse; finish(); } }\n"
    "  const other = new WebSocket(url);\n"
    "  other.onmessage = (e) => { if (e.data === token) { gotWs++; verdict(); } };\n"
    "  es.addEventListener('chat', (e) => { if (e.data === token) { gotSse++; verdict(); } });\n"
    "  function go() { if (!sent && ws.readyState === 1 && other.readyState === 1\n"
    "      && es.readyState === 1) { sent = true; ws.send(token); } }\n"
    "  ws.addEventListener('open', go); other.onopen = go; es.onopen = go;\n"
    "  setTimeout(() => { if (!(gotWs && gotSse)) { out.textContent = 'chat: FAIL ws=' + gotWs\n"
    "      + ' sse=' + gotSse; finish(); } }, 4000);\n"
    "}\n"
    "</script></body></html>\n";

static void handle_chat_page(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_header h[] = { { RW_STR("Content-Type"), RW_STR("text/html; charset=utf-8") },
                                   { RW_STR("Cache-Control"), RW_STR("no-store") } };
    rw_respond(req, 200, h, 2, chat_page, sizeof chat_page - 1);
}

static void handle_realtime(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_header h[] = { { RW_STR("Content-Type"), RW_STR("text/html; charset=utf-8") },
                                   { RW_STR("Cache-Control"), RW_STR("no-store") } };
    rw_respond(req, 200, h, 2, realtime_page, sizeof realtime_page - 1);
}

int rw_app_add_realtime_routes(rw_server *s, const rw_config *cfg)
{
    (void)cfg;
    rw_channel *room = rw_channel_new(s); /* freed with the server */
    if (!room || rw_server_route(s, "GET", "/ws/echo", RW_ROUTE_EXACT, handle_ws_echo, NULL) < 0 ||
        rw_server_route(s, "GET", "/ws/chat", RW_ROUTE_EXACT, handle_ws_chat, room) < 0 ||
        rw_server_route(s, "GET", "/ws/chat/events", RW_ROUTE_EXACT, handle_chat_events, room) < 0 ||
        rw_server_route(s, "GET", "/chat", RW_ROUTE_EXACT, handle_chat_page, NULL) < 0 ||
        rw_server_route(s, "GET", "/events", RW_ROUTE_EXACT, handle_events, NULL) < 0 ||
        rw_server_route(s, "GET", "/realtime", RW_ROUTE_EXACT, handle_realtime, NULL) < 0) {
        rw_error("realtime demo: cannot register routes");
        return -1;
    }
    return 0;
}
