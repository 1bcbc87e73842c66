/* Prometheus text format 0.0.4: "# HELP name text", "# TYPE name kind",
 * then "name{label="value"} number" lines. HELP text escapes \ and newline;
 * label values escape \, " and newline. The families are tables of offsets
 * into rw_stats, so adding a counter is one line here. */
#include "app/metrics.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "app/status_page.h"
#include "core/log.h"

/* Size bound: the fixed text (HELP/TYPE lines and the process-wide
 * samples) is under 4 KiB today; the rest grows with threads and label
 * lengths. Generous so rendering never fails in practice; if it did, the
 * scrape gets a 500, never a truncated body. */
#define RW_METRICS_FIXED_BYTES 8192
#define RW_METRICS_PER_THREAD_BYTES 512
#define RW_STATUS_BYTES 512

typedef struct mw {
    char *p, *end;
    bool err; /* out of space */
} mw;

static void put(mw *w, const char *s, size_t n)
{
    if (w->err || (size_t)(w->end - w->p) < n) {
        w->err = true;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

static void puts_(mw *w, const char *s) { put(w, s, strlen(s)); }

static void putu(mw *w, uint64_t v)
{
    char d[20];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char out[20];
    for (int i = 0; i < n; i++)
        out[i] = d[n - 1 - i];
    put(w, out, (size_t)n);
}

/* Label value: backslash, double quote and line feed are escaped. */
static void put_label_value(mw *w, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': put(w, "\\\\", 2); break;
        case '"': put(w, "\\\"", 2); break;
        case '\n': put(w, "\\n", 2); break;
        default: put(w, s, 1); break;
        }
    }
}

/* HELP/TYPE header of one family. Our HELP texts are constants without
 * backslashes or newlines, which is what the format requires unescaped. */
static void family(mw *w, const char *name, const char *type, const char *help)
{
    puts_(w, "# HELP ");
    puts_(w, name);
    put(w, " ", 1);
    puts_(w, help);
    puts_(w, "\n# TYPE ");
    puts_(w, name);
    put(w, " ", 1);
    puts_(w, type);
    put(w, "\n", 1);
}

/* name{label="value"} v  (label NULL: no braces) */
static void sample(mw *w, const char *name, const char *label, const char *value, uint64_t v)
{
    puts_(w, name);
    if (label) {
        put(w, "{", 1);
        puts_(w, label);
        put(w, "=\"", 2);
        put_label_value(w, value);
        put(w, "\"}", 2);
    }
    put(w, " ", 1);
    putu(w, v);
    put(w, "\n", 1);
}

#define OFF(f) offsetof(rw_stats, f)

static uint64_t field(const rw_stats *s, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)s + off, sizeof v);
    return v;
}

typedef struct counter_def {
    const char *name, *help;
    size_t off;
} counter_def;

/* Process-wide counters: the sum over threads. */
static const counter_def totals[] = {
    { "ringwire_connections_accepted_total", "Connections accepted.", OFF(conns_accepted) },
    { "ringwire_connections_refused_total", "Connections refused with 503 over --max-conns.",
      OFF(conns_refused) },
    { "ringwire_connections_closed_total", "Connections closed.", OFF(conns_closed) },
    { "ringwire_connections_timed_out_total",
      "Connections closed by the header, keep-alive or write-progress timeout.",
      OFF(conns_timed_out) },
    { "ringwire_bytes_received_total", "Bytes read from client sockets.", OFF(bytes_in) },
    { "ringwire_bytes_sent_total", "Bytes written to client sockets.", OFF(bytes_out) },
    { "ringwire_parse_errors_total", "Requests rejected as malformed.", OFF(parse_errors) },
    { "ringwire_uring_enobufs_total",
      "io_uring receives that found the provided-buffer ring empty.", OFF(enobufs) },
    { "ringwire_send_zc_total", "Zero-copy sends issued (io_uring).", OFF(send_zc) },
    { "ringwire_slow_consumers_total",
      "Times reading paused because a connection's queued output passed the high-water mark.",
      OFF(slow_consumers) },
    { "ringwire_ws_messages_received_total", "WebSocket messages received.", OFF(ws_messages_in) },
    { "ringwire_ws_messages_sent_total", "WebSocket messages sent.", OFF(ws_messages_out) },
    { "ringwire_ws_payload_received_bytes_total", "WebSocket payload bytes received (inflated).",
      OFF(ws_bytes_in) },
    { "ringwire_ws_payload_sent_bytes_total", "WebSocket payload bytes sent (before deflate).",
      OFF(ws_bytes_out) },
    { "ringwire_sse_events_total", "Server-sent events written.", OFF(sse_events) },
    { "ringwire_sse_bytes_total", "Server-sent event bytes written.", OFF(sse_bytes) },
    { "ringwire_stream_slow_consumers_total",
      "WebSocket/SSE streams closed because their send queue was full.",
      OFF(stream_slow_consumers) },
    { "ringwire_tls_handshakes_total", "TLS handshakes completed.", OFF(tls_handshakes) },
    { "ringwire_tls_ktls_total", "TLS connections switched to kernel TLS.", OFF(tls_ktls) },
    { "ringwire_tls_userspace_total", "TLS connections that stayed in userspace TLS.",
      OFF(tls_userspace) },
    { "ringwire_tls_errors_total", "Failed TLS handshakes, bad records, refused kTLS installs.",
      OFF(tls_errors) },
    { "ringwire_h2_streams_total", "HTTP/2 streams opened (requests and pushes).",
      OFF(h2_streams) },
    { "ringwire_h2_resets_sent_total", "HTTP/2 RST_STREAM frames sent.", OFF(h2_resets_sent) },
    { "ringwire_h2_resets_received_total", "HTTP/2 RST_STREAM frames received.",
      OFF(h2_resets_received) },
};

/* Per-thread up/down counts (+1 open, -1 close on the same thread): the
 * unsigned sum wraps back to the true, non-negative total. */
static const counter_def gauges[] = {
    { "ringwire_ws_connections_open", "Open WebSocket connections.", OFF(ws_active) },
    { "ringwire_sse_streams_open", "Open server-sent-event streams.", OFF(sse_active) },
};

/* Per-thread counters: labelled thread="<worker id>". */
static const counter_def per_thread[] = {
    { "ringwire_loop_iterations_total", "Event-loop iterations.", OFF(loop_iterations) },
    { "ringwire_completions_total", "io_uring completions or epoll events handled.",
      OFF(completions) },
    { "ringwire_submits_total", "io_uring submit calls or write syscalls.", OFF(submits) },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

size_t rw_metrics_bound(const rw_metrics_snapshot *m)
{
    /* An escaped label value is at most twice as long. */
    size_t labels = 2 * (strlen(m->version) + strlen(m->backend));
    return RW_METRICS_FIXED_BYTES + labels +
           (size_t)(m->nthreads > 0 ? m->nthreads : 0) * RW_METRICS_PER_THREAD_BYTES;
}

size_t rw_metrics_render(const rw_metrics_snapshot *m, char *buf, size_t cap)
{
    mw w = { buf, buf + cap, false };
    rw_stats sum;
    memset(&sum, 0, sizeof sum);
    for (int i = 0; i < m->nthreads; i++)
        rw_stats_add(&sum, &m->threads[i]);

    family(&w, "ringwire_build_info", "gauge", "Version and I/O backend of this process.");
    puts_(&w, "ringwire_build_info{version=\"");
    put_label_value(&w, m->version);
    puts_(&w, "\",backend=\"");
    put_label_value(&w, m->backend);
    puts_(&w, "\"} 1\n");

    family(&w, "ringwire_threads", "gauge", "Worker threads (event loops).");
    sample(&w, "ringwire_threads", NULL, NULL, (uint64_t)m->nthreads);
    family(&w, "ringwire_connections_open", "gauge", "Connections currently open.");
    sample(&w, "ringwire_connections_open", NULL, NULL, m->conns_open);
    family(&w, "ringwire_buffered_request_bytes", "gauge",
           "Request data buffered in userspace now (bodies, partial frames and messages).");
    sample(&w, "ringwire_buffered_request_bytes", NULL, NULL, m->buffered);
    family(&w, "ringwire_buffered_request_limit_bytes", "gauge",
           "--max-buffered-total (0 = unlimited).");
    sample(&w, "ringwire_buffered_request_limit_bytes", NULL, NULL, m->buffered_limit);
    family(&w, "ringwire_buffered_request_refused_total", "counter",
           "Buffering refused because --max-buffered-total was reached.");
    sample(&w, "ringwire_buffered_request_refused_total", NULL, NULL, m->buffered_refused);
    for (size_t i = 0; i < NELEM(gauges); i++) {
        family(&w, gauges[i].name, "gauge", gauges[i].help);
        sample(&w, gauges[i].name, NULL, NULL, field(&sum, gauges[i].off));
    }

    for (size_t i = 0; i < NELEM(totals); i++) {
        family(&w, totals[i].name, "counter", totals[i].help);
        sample(&w, totals[i].name, NULL, NULL, field(&sum, totals[i].off));
    }

    /* requests counts every protocol; requests_h2 is its HTTP/2 subset. */
    family(&w, "ringwire_requests_total", "counter", "Requests dispatched, by protocol.");
    uint64_t h2 = sum.requests_h2 <= sum.requests ? sum.requests_h2 : sum.requests;
    sample(&w, "ringwire_requests_total", "proto", "http1", sum.requests - h2);
    sample(&w, "ringwire_requests_total", "proto", "h2", h2);

    family(&w, "ringwire_responses_total", "counter", "Responses sent, by status class.");
    static const char *const classes[] = { NULL, "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int c = 1; c <= 5; c++)
        sample(&w, "ringwire_responses_total", "class", classes[c], sum.responses_by_class[c]);

    for (size_t i = 0; i < NELEM(per_thread); i++) {
        family(&w, per_thread[i].name, "counter", per_thread[i].help);
        for (int t = 0; t < m->nthreads; t++) {
            char id[12];
            mw iw = { id, id + sizeof id - 1, false };
            putu(&iw, (uint64_t)t);
            *iw.p = '\0';
            sample(&w, per_thread[i].name, "thread", id, field(&m->threads[t], per_thread[i].off));
        }
    }
    return w.err ? 0 : (size_t)(w.p - buf);
}

/* ---- routes -------------------------------------------------------------- */

static const char *const backend_names[] = { "uring", "epoll" };

static const char *backend_name(rw_backend_kind b)
{
    return (unsigned)b < NELEM(backend_names) ? backend_names[b] : "unknown";
}

/* Copies every worker's counters once, so the per-thread samples and their
 * sums in one scrape agree. Racy reads: see core/stats.h. */
static rw_stats *snapshot(rw_server *s, rw_metrics_snapshot *m)
{
    int n = s->nworkers;
    rw_stats *copy = calloc(n > 0 ? (size_t)n : 1, sizeof *copy);
    if (!copy)
        return NULL;
    for (int i = 0; i < n; i++)
        copy[i] = s->workers[i].stats;
    *m = (rw_metrics_snapshot){ .threads = copy,
                                .nthreads = n,
                                .conns_open = atomic_load_explicit(&s->conns,
                                                                   memory_order_relaxed),
                                .buffered = rw_budget_held(&s->buffered),
                                .buffered_limit = s->buffered.limit,
                                .buffered_refused = atomic_load_explicit(
                                    &s->buffered.refused, memory_order_relaxed),
                                .version = RINGWIRE_VERSION,
                                .backend = backend_name(s->cfg.backend) };
    return copy;
}

static void respond_error(rw_request *req)
{
    static const rw_header h = { RW_STR("Content-Type"), RW_STR("text/plain") };
    rw_respond(req, 500, &h, 1, "Internal Server Error\n", 22);
}

/* Scrapes are rare (seconds apart): allocating here keeps the worker's
 * pools and the request path free of metrics-sized buffers. */
static void handle_metrics(rw_request *req, void *ud)
{
    rw_server *s = ud;
    static const rw_header h = { RW_STR("Content-Type"), RW_STR(RW_METRICS_CONTENT_TYPE) };
    rw_metrics_snapshot m;
    rw_stats *copy = snapshot(s, &m);
    size_t cap = copy ? rw_metrics_bound(&m) : 0;
    char *buf = copy ? malloc(cap) : NULL;
    size_t len = buf ? rw_metrics_render(&m, buf, cap) : 0;
    free(copy);
    if (len == 0) {
        free(buf);
        rw_error("metrics: cannot render the exposition (out of memory or bound too small)");
        respond_error(req);
        return;
    }
    /* The body is handed over without a copy; free() runs once it is sent. */
    rw_respond_ext(req, 200, &h, 1, buf, len, free, buf);
}

static void handle_status(rw_request *req, void *ud)
{
    rw_server *s = ud;
    static const rw_header h = { RW_STR("Content-Type"), RW_STR("application/json") };
    rw_metrics_snapshot m;
    rw_stats *copy = snapshot(s, &m);
    if (!copy) {
        respond_error(req);
        return;
    }
    rw_stats sum;
    memset(&sum, 0, sizeof sum);
    for (int i = 0; i < m.nthreads; i++)
        rw_stats_add(&sum, &copy[i]);
    free(copy);
    /* version and backend are our own constants: no JSON escaping needed. */
    char buf[RW_STATUS_BYTES];
    mw w = { buf, buf + sizeof buf, false };
    puts_(&w, "{\"version\":\"");
    puts_(&w, m.version);
    puts_(&w, "\",\"backend\":\"");
    puts_(&w, m.backend);
    puts_(&w, "\",\"threads\":");
    putu(&w, (uint64_t)m.nthreads);
    puts_(&w, ",\"connections_open\":");
    putu(&w, m.conns_open);
    puts_(&w, ",\"connections_accepted\":");
    putu(&w, sum.conns_accepted);
    puts_(&w, ",\"requests\":");
    putu(&w, sum.requests);
    puts_(&w, ",\"draining\":");
    puts_(&w, atomic_load(&s->stop_requested) ? "true" : "false");
    puts_(&w, "}\n");
    if (w.err) {
        respond_error(req);
        return;
    }
    rw_respond(req, 200, &h, 1, buf, (size_t)(w.p - buf));
}

/* /_status: the dashboard for browsers (status_page.c), JSON otherwise. */
static void handle_status_negotiated(rw_request *req, void *ud)
{
    if (rw_status_page_wanted(req))
        rw_status_page_respond(req);
    else
        handle_status(req, ud);
}

int rw_metrics_add_routes(rw_server *s, const rw_config *cfg)
{
    const char *path = cfg->metrics_path ? cfg->metrics_path : "/metrics";
    if (path[0] != '/') {
        rw_error("metrics: path \"%s\" must start with '/'", path);
        return -1;
    }
    if (rw_server_route(s, "GET", path, RW_ROUTE_EXACT, handle_metrics, s) < 0 ||
        (strcmp(path, RW_STATUS_PATH) != 0 &&
         rw_server_route(s, "GET", RW_STATUS_PATH, RW_ROUTE_EXACT, handle_status_negotiated, s) <
             0) ||
        (strcmp(path, RW_STATUS_JSON_PATH) != 0 &&
         rw_server_route(s, "GET", RW_STATUS_JSON_PATH, RW_ROUTE_EXACT, handle_status, s) < 0) ||
        (strcmp(path, RW_STATUS_EVENTS_PATH) != 0 && rw_status_page_add_routes(s) < 0)) {
        rw_error("metrics: cannot register routes");
        return -1;
    }
    return 0;
}
