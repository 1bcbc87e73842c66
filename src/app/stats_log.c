/* SIGUSR1 dump and --stats-interval line. Every counter in rw_stats is
 * listed once in `fields`, so both the totals line and the per-thread lines
 * name every counter the same way. */
#include "app/stats_log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app/server.h"
#include "core/log.h"

#define RW_STATS_LINE_MAX 1024 /* one log line; the longest today is ~700 bytes */

typedef struct stat_field {
    const char *name;
    size_t off;
} stat_field;

#define F(name, member) { name, offsetof(rw_stats, member) }
static const stat_field fields[] = {
    F("accepted", conns_accepted),
    F("refused", conns_refused),
    F("closed", conns_closed),
    F("timed_out", conns_timed_out),
    F("requests", requests),
    F("requests_h2", requests_h2),
    F("1xx", responses_by_class[1]),
    F("2xx", responses_by_class[2]),
    F("3xx", responses_by_class[3]),
    F("4xx", responses_by_class[4]),
    F("5xx", responses_by_class[5]),
    F("parse_errors", parse_errors),
    F("bytes_in", bytes_in),
    F("bytes_out", bytes_out),
    F("loops", loop_iterations),
    F("events", completions),
    F("submits", submits),
    F("enobufs", enobufs),
    F("send_zc", send_zc),
    F("slow_consumers", slow_consumers),
    F("ws_active", ws_active),
    F("ws_msgs_in", ws_messages_in),
    F("ws_msgs_out", ws_messages_out),
    F("ws_bytes_in", ws_bytes_in),
    F("ws_bytes_out", ws_bytes_out),
    F("sse_active", sse_active),
    F("sse_events", sse_events),
    F("sse_bytes", sse_bytes),
    F("stream_slow_consumers", stream_slow_consumers),
    F("tls_handshakes", tls_handshakes),
    F("tls_ktls", tls_ktls),
    F("tls_userspace", tls_userspace),
    F("tls_errors", tls_errors),
    F("h2_streams", h2_streams),
    F("h2_resets_sent", h2_resets_sent),
    F("h2_resets_received", h2_resets_received),
};
#undef F

static void append_fields(char *line, size_t cap, size_t *len, const rw_stats *st)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && *len < cap; i++) {
        uint64_t v;
        memcpy(&v, (const char *)st + fields[i].off, sizeof v);
        int n = snprintf(line + *len, cap - *len, " %s=%llu", fields[i].name,
                         (unsigned long long)v);
        if (n < 0)
            return;
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
    }
}

void rw_stats_log_dump(rw_server *s)
{
    char line[RW_STATS_LINE_MAX];
    rw_stats sum;
    rw_server_stats(s, &sum);
    size_t len = (size_t)snprintf(line, sizeof line, "stats: threads=%d open=%u", s->nworkers,
                                  atomic_load(&s->conns));
    append_fields(line, sizeof line, &len, &sum);
    rw_log_write(RW_LOG_INFO, "%s", line);
    for (int i = 0; s->workers && i < s->nworkers; i++) {
        rw_worker *w = &s->workers[i];
        rw_stats st = w->stats; /* racy copy: core/stats.h */
        len = (size_t)snprintf(line, sizeof line, "stats[thread %d]: cpu=%d open=%u", w->id,
                               w->cpu, w->nconns);
        append_fields(line, sizeof line, &len, &st);
        rw_log_write(RW_LOG_INFO, "%s", line);
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t tv_us(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Samples the counters and CPU time into t. */
static void sample(rw_stats_ticker *t, rw_server *s, uint64_t now)
{
    rw_stats st;
    rw_server_stats(s, &st);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        t->last_user_us = tv_us(ru.ru_utime);
        t->last_sys_us = tv_us(ru.ru_stime);
    }
    t->last_ms = now;
    t->last_requests = st.requests;
    t->last_completions = st.completions;
    t->last_submits = st.submits;
}

void rw_stats_ticker_start(rw_stats_ticker *t, rw_server *s, unsigned interval_ms)
{
    memset(t, 0, sizeof *t);
    t->interval_ms = interval_ms;
    if (interval_ms)
        sample(t, s, mono_ms());
}

void rw_stats_ticker_poll(rw_stats_ticker *t, rw_server *s)
{
    if (!t->interval_ms)
        return;
    uint64_t now = mono_ms();
    if (now - t->last_ms < t->interval_ms)
        return;
    rw_stats_ticker prev = *t;
    sample(t, s, now);
    double secs = (double)(now - prev.last_ms) / 1000.0;
    uint64_t dreq = t->last_requests - prev.last_requests;
    uint64_t duser = t->last_user_us - prev.last_user_us;
    uint64_t dsys = t->last_sys_us - prev.last_sys_us;
    uint64_t dcomp = t->last_completions - prev.last_completions;
    uint64_t dsub = t->last_submits - prev.last_submits;
    char per_req[96];
    if (dreq)
        snprintf(per_req, sizeof per_req, "%.2f us CPU/req (user %.2f + sys %.2f)",
                 (double)(duser + dsys) / (double)dreq, (double)duser / (double)dreq,
                 (double)dsys / (double)dreq);
    else
        snprintf(per_req, sizeof per_req, "- us CPU/req");
    char per_submit[32];
    if (dsub)
        snprintf(per_submit, sizeof per_submit, "%.2f", (double)dcomp / (double)dsub);
    else
        snprintf(per_submit, sizeof per_submit, "-");
    rw_log_write(RW_LOG_INFO,
                 "stats: %.1f req/s, %u open conns, %s, CPU %.1f%%, %s events/submit, "
                 "%llu requests in %.2f s",
                 (double)dreq / secs, atomic_load(&s->conns), per_req,
                 100.0 * (double)(duser + dsys) / (secs * 1e6), per_submit,
                 (unsigned long long)dreq, secs);
}
