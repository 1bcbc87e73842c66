/* Counter reports on the log: the SIGUSR1 dump (totals and every thread)
 * and the periodic --stats-interval rate line. Both run on the main thread
 * and read the workers' counters racily (core/stats.h). */
#ifndef RW_APP_STATS_LOG_H
#define RW_APP_STATS_LOG_H

#include <stdint.h>

struct rw_server;

/* Logs one totals line and one line per worker thread. */
void rw_stats_log_dump(struct rw_server *s);

/* --stats-interval state: the previous sample the next line is a delta of. */
typedef struct rw_stats_ticker {
    unsigned interval_ms; /* 0 = off */
    uint64_t last_ms;     /* CLOCK_MONOTONIC of the previous sample */
    uint64_t last_requests;
    uint64_t last_completions;
    uint64_t last_submits;
    uint64_t last_user_us, last_sys_us; /* process CPU time (all threads) */
} rw_stats_ticker;

void rw_stats_ticker_start(rw_stats_ticker *t, struct rw_server *s, unsigned interval_ms);
/* Logs a line when an interval has passed since the previous one. Call at
 * least a few times per interval (the server's wait loop wakes every
 * 100 ms); the line reports the real elapsed time, so late calls only make
 * it late, not wrong. */
void rw_stats_ticker_poll(rw_stats_ticker *t, struct rw_server *s);

#endif
