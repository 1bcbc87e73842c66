/* Internal view of rw_server shared by the app layer and the workers. */
#ifndef RW_APP_SERVER_H
#define RW_APP_SERVER_H

#include <stdatomic.h>

#include "app/router.h"
#include "conn/worker.h"
#include "ringwire/ringwire.h"

struct rw_channel;

struct rw_server {
    rw_config cfg;
    rw_router router;
    rw_worker *workers;
    int nworkers;
    atomic_uint conns;          /* open connections, process-wide (checked at accept) */
    atomic_int stop_requested;  /* set by rw_server_stop() / signals */
    int access_log_fd;          /* -1 when off */
    struct rw_channel *channels; /* app/channel.c; freed with the server */
    struct rw_tls_server *tls;  /* NULL unless TLS is on (conn/tls_layer.c) */
    rw_budget buffered;         /* --max-buffered-total, shared by every worker */
};

/* Frees every channel still attached to the server (app/channel.c). */
void rw_channels_free(struct rw_server *s);

/* rw_worker_init() plus what the server lends the layers below it
 * (app/worker_hooks.c): the hooks (--max-conns gate, dispatch to the
 * router, access log), the stop flag, the TLS context and the protocol
 * engines (HTTP/1 by default; HTTP/2 for ALPN "h2" and Upgrade "h2c"). */
int rw_server_worker_init(struct rw_server *s, rw_worker *w, int id);

/* The server a worker belongs to (its hooks' context). */
static inline struct rw_server *rw_worker_server(const rw_worker *w)
{
    return (struct rw_server *)w->hooks.ctx;
}

/* Sums every worker's counters (racy reads of plain integers: fine for stats). */
void rw_server_stats(struct rw_server *s, rw_stats *out);

#endif
