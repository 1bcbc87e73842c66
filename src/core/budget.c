#include "core/budget.h"

#include <assert.h>

void rw_budget_init(rw_budget *b, uint64_t limit)
{
    atomic_init(&b->held, 0);
    atomic_init(&b->peak, 0);
    atomic_init(&b->refused, 0);
    b->limit = limit;
}

bool rw_budget_take(rw_budget *b, uint64_t n)
{
    if (n == 0)
        return true;
    uint64_t cur = atomic_load_explicit(&b->held, memory_order_relaxed), next;
    do {
        if (b->limit && (n > b->limit || cur > b->limit - n)) {
            atomic_fetch_add_explicit(&b->refused, 1, memory_order_relaxed);
            return false;
        }
        next = cur + n;
    } while (!atomic_compare_exchange_weak_explicit(&b->held, &cur, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    /* Peak is a statistic: a lost race only under-reports it briefly. */
    uint64_t peak = atomic_load_explicit(&b->peak, memory_order_relaxed);
    while (next > peak && !atomic_compare_exchange_weak_explicit(
                              &b->peak, &peak, next, memory_order_relaxed, memory_order_relaxed))
        ;
    return true;
}

void rw_budget_give(rw_budget *b, uint64_t n)
{
    if (n == 0)
        return;
    uint64_t before = atomic_fetch_sub_explicit(&b->held, n, memory_order_relaxed);
    assert(before >= n);
    (void)before;
}
