/* Method + path routing: exact routes (hash-free linear scan of a small
 * table is fine at this size), then prefix routes, longest first. */
#ifndef RW_APP_ROUTER_H
#define RW_APP_ROUTER_H

#include "ringwire/ringwire.h"

#define RW_MAX_ROUTES 64

typedef struct rw_route {
    char method[16];   /* "" = any */
    char *path;
    size_t path_len;
    int flags;         /* RW_ROUTE_EXACT / RW_ROUTE_PREFIX */
    rw_handler_fn fn;
    void *ud;
} rw_route;

typedef struct rw_router {
    rw_route routes[RW_MAX_ROUTES];
    int n;
} rw_router;

int rw_router_add(rw_router *r, const char *method, const char *path, int flags,
                  rw_handler_fn fn, void *ud);
void rw_router_free(rw_router *r);

/* Runs the handler for req, or answers 404 (no path matches) / 405 (path
 * matches, method does not; with Allow) / 501 (unknown method). Exactly one
 * response is produced; a handler that returns without responding gets 500. */
void rw_router_dispatch(const rw_router *r, rw_request *req);

#endif
