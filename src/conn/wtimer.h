/* Same-thread timers for application code (SSE pings, demo ticks): a
 * per-worker list, fired from rw_worker_tick() (every RW_TICK_MS, so the
 * resolution is a quarter second). Arm, cancel and the callbacks all run on
 * the worker thread that owns the timer; nothing here is locked. The list
 * lives in thread-local storage, so rw_worker needs no field for it. A
 * callback may re-arm its own timer or cancel any other. */
#ifndef RW_CONN_WTIMER_H
#define RW_CONN_WTIMER_H

#include <stdint.h>

#include "core/dlist.h"

struct rw_worker;

typedef struct rw_wtimer {
    rw_dlist link;
    uint64_t due_ms;
    void (*fn)(struct rw_wtimer *t, void *ud);
    void *ud;
} rw_wtimer;

void rw_wtimer_init(rw_wtimer *t, void (*fn)(rw_wtimer *t, void *ud), void *ud);
/* Fires once, delay_ms from now (on this thread's worker clock). Re-arming
 * an armed timer moves it. */
void rw_wtimer_arm(struct rw_worker *w, rw_wtimer *t, uint64_t delay_ms);
void rw_wtimer_cancel(rw_wtimer *t);
/* Fires every due timer of the calling thread (rw_worker_tick). */
void rw_wtimer_run(struct rw_worker *w);

#endif
