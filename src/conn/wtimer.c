#include "conn/wtimer.h"

#include <stdbool.h>

#include "conn/worker.h"

static __thread rw_dlist armed;
static __thread bool armed_ready;

static rw_dlist *armed_list(void)
{
    if (!armed_ready) {
        rw_dlist_init(&armed);
        armed_ready = true;
    }
    return &armed;
}

void rw_wtimer_init(rw_wtimer *t, void (*fn)(rw_wtimer *t, void *ud), void *ud)
{
    rw_dlist_init(&t->link);
    t->due_ms = 0;
    t->fn = fn;
    t->ud = ud;
}

void rw_wtimer_arm(rw_worker *w, rw_wtimer *t, uint64_t delay_ms)
{
    rw_dlist_remove(&t->link);
    t->due_ms = w->clock.now_ms + delay_ms;
    rw_dlist_insert_tail(armed_list(), &t->link);
}

void rw_wtimer_cancel(rw_wtimer *t)
{
    rw_dlist_remove(&t->link);
}

void rw_wtimer_run(rw_worker *w)
{
    rw_dlist *h = armed_list();
    if (rw_dlist_empty(h))
        return;
    /* Move everything to a local list first: callbacks may arm (appending to
     * the thread's list) or cancel (unlinking from either list) freely. */
    rw_dlist pending;
    rw_dlist_init(&pending);
    pending.next = h->next;
    pending.prev = h->prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    rw_dlist_init(h);
    uint64_t now = w->clock.now_ms;
    while (!rw_dlist_empty(&pending)) {
        rw_wtimer *t = rw_container_of(pending.next, rw_wtimer, link);
        rw_dlist_remove(&t->link);
        if (t->due_ms > now)
            rw_dlist_insert_tail(h, &t->link);
        else
            t->fn(t, t->ud);
    }
}
