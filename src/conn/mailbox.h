/* Cross-thread work for a worker: any thread posts a function + argument,
 * the worker runs it on its own thread at the next loop iteration (the post
 * writes the worker's eventfd, which both backends watch). The only lock in
 * a worker's life, and never on the request path. */
#ifndef RW_CONN_MAILBOX_H
#define RW_CONN_MAILBOX_H

#include <stdbool.h>

struct rw_worker;

typedef void (*rw_mail_fn)(struct rw_worker *w, void *arg);

/* Any thread. Returns 0, or -1 (out of memory; fn is not called). */
int rw_worker_post(struct rw_worker *w, rw_mail_fn fn, void *arg);
/* Owning thread: runs everything posted so far, in order. */
void rw_worker_mail_run(struct rw_worker *w);
/* Called by the backends when the wake eventfd fired: clears it, runs the
 * mail; returns true when the wake-up also asks for shutdown. */
bool rw_worker_wake(struct rw_worker *w);

#endif
