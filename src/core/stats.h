/* Per-thread counters: plain integers written only by the owning worker,
 * summed across workers when read. No atomics on the hot path. */
#ifndef RW_CORE_STATS_H
#define RW_CORE_STATS_H

#include <stdint.h>

typedef struct rw_stats {
    uint64_t conns_accepted;
    uint64_t conns_refused;   /* over --max-conns */
    uint64_t conns_closed;
    uint64_t conns_timed_out;
    uint64_t requests;
    uint64_t responses_by_class[6]; /* index status/100 (0 unused) */
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t parse_errors;
    uint64_t loop_iterations;
    uint64_t completions;      /* uring CQEs / epoll events */
    uint64_t submits;          /* io_uring_submit calls / write syscalls */
    uint64_t enobufs;          /* uring provided-buffer exhaustion */
    uint64_t send_zc;          /* zero-copy sends issued */
} rw_stats;

void rw_stats_add(rw_stats *sum, const rw_stats *s);

#endif
