/* The /_status live dashboard: an HTML page (chart of req/s and open
 * connections) fed by an SSE stream of counter snapshots. Registered by
 * metrics.c, so it exists only with --metrics. */
#ifndef RW_APP_STATUS_PAGE_H
#define RW_APP_STATUS_PAGE_H

#include <stdbool.h>

#include "ringwire/ringwire.h"

#define RW_STATUS_JSON_PATH "/_status.json"
#define RW_STATUS_EVENTS_PATH "/_status/events"

/* True when the request's Accept header asks for text/html (q > 0). */
bool rw_status_page_wanted(const rw_request *req);
/* Answers with the dashboard page. */
void rw_status_page_respond(rw_request *req);
/* Registers GET RW_STATUS_EVENTS_PATH (the snapshot stream). 0 or -1. */
int rw_status_page_add_routes(rw_server *s);

#endif
