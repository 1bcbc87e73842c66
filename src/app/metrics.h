/* Prometheus text exposition (format 0.0.4) of the per-worker counters, and
 * the GET routes that serve it (--metrics, --metrics-path) plus a small JSON
 * /_status. Counters are summed at scrape time from per-thread copies, so
 * the request path never pays for metrics beyond its plain increments. */
#ifndef RW_APP_METRICS_H
#define RW_APP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "ringwire/ringwire.h"

#define RW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define RW_STATUS_PATH "/_status"

/* What one scrape renders: a copy of every worker's counters, taken once. */
typedef struct rw_metrics_snapshot {
    const rw_stats *threads; /* nthreads entries, index = worker id */
    int nthreads;
    uint64_t conns_open;
    const char *version;     /* label values: escaped on output */
    const char *backend;
    uint64_t buffered, buffered_limit, buffered_refused; /* --max-buffered-total */
} rw_metrics_snapshot;

/* Upper bound of the rendered size for this snapshot. */
size_t rw_metrics_bound(const rw_metrics_snapshot *m);
/* Writes the exposition into buf; returns its length, or 0 when cap is too
 * small (nothing useful was written). */
size_t rw_metrics_render(const rw_metrics_snapshot *m, char *buf, size_t cap);

/* Registers GET cfg->metrics_path and GET /_status on s. 0 or -1. */
int rw_metrics_add_routes(rw_server *s, const rw_config *cfg);

#endif
