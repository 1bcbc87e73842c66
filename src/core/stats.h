/* Per-thread counters: plain integers written only by the owning worker,
 * summed across workers when read. No atomics on the hot path: readers on
 * other threads (/metrics, SIGUSR1, --stats-interval) read them racily.
 * That is acceptable for statistics: every field is an aligned 64-bit word,
 * which x86-64 and arm64 load in one piece, so a reader sees either the old
 * or the new value of each counter, never a torn one; a snapshot may mix
 * counters from slightly different moments. Every field is a uint64_t
 * (rw_stats_add() walks them as an array). */
#ifndef RW_CORE_STATS_H
#define RW_CORE_STATS_H

#include <stdint.h>

typedef struct rw_stats {
    uint64_t conns_accepted;
    uint64_t conns_refused;   /* over --max-conns */
    uint64_t conns_closed;
    uint64_t conns_timed_out;
    uint64_t requests;         /* all protocols */
    uint64_t requests_h2;      /* the HTTP/2 subset of requests */
    uint64_t responses_by_class[6]; /* index status/100 (0 unused) */
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t parse_errors;
    uint64_t loop_iterations;
    uint64_t completions;      /* uring CQEs / epoll events */
    uint64_t submits;          /* io_uring_submit calls / write syscalls */
    uint64_t enobufs;          /* uring provided-buffer exhaustion */
    uint64_t send_zc;          /* zero-copy sends issued */
    uint64_t slow_consumers;   /* reads paused because output backed up */
    uint64_t ws_active;        /* open WebSocket connections (gauge: +1 open, -1 close) */
    uint64_t ws_messages_in;
    uint64_t ws_messages_out;
    uint64_t ws_bytes_in;      /* message payload bytes (after inflating) */
    uint64_t ws_bytes_out;     /* message payload bytes (before deflating) */
    uint64_t sse_active;       /* open SSE streams (gauge) */
    uint64_t sse_events;
    uint64_t sse_bytes;        /* formatted event bytes */
    uint64_t stream_slow_consumers; /* WS/SSE closed because their send queue was full */
    uint64_t tls_handshakes;   /* TLS handshakes completed */
    uint64_t tls_ktls;         /* ... of which switched to kernel TLS */
    uint64_t tls_userspace;    /* ... of which stayed in userspace TLS */
    uint64_t tls_errors;       /* failed handshakes, bad records, refused kTLS installs */
    uint64_t h2_streams;       /* HTTP/2 streams opened (client requests and pushes) */
    uint64_t h2_resets_sent;   /* RST_STREAM we sent */
    uint64_t h2_resets_received; /* RST_STREAM the clients sent */
} rw_stats;

void rw_stats_add(rw_stats *sum, const rw_stats *s);

/* One response with this status, in its class (1xx..5xx); every engine. */
static inline void rw_stats_count_status(rw_stats *s, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        s->responses_by_class[cls]++;
}

#endif
