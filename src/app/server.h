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
};

/* Frees every channel still attached to the server (app/channel.c). */
void rw_channels_free(struct rw_server *s);

/* Called by rw_conn_new()/rw_conn_free(): enforce --max-conns. */
bool rw_server_conn_acquire(struct rw_server *s);
void rw_server_conn_release(struct rw_server *s);

/* Sums every worker's counters (racy reads of plain integers: fine for stats). */
void rw_server_stats(struct rw_server *s, rw_stats *out);

#endif
