/* A process-wide byte budget shared by every worker: request data a
 * connection buffers in userspace (bodies, partial WebSocket messages,
 * partial HTTP/2 frames) is taken from it before it is held and given back
 * when freed, so memory under hostile clients is --max-buffered-total, not
 * connections x per-request limits. A refused take is answered the
 * protocol's way (413, REFUSED_STREAM, 1009, or pausing reads), never by
 * growing. Lock-free: one atomic per take/give. */
#ifndef RW_CORE_BUDGET_H
#define RW_CORE_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rw_budget {
    _Atomic uint64_t held;    /* bytes taken and not yet given back */
    _Atomic uint64_t peak;    /* highest held seen (metrics, tests) */
    _Atomic uint64_t refused; /* takes that did not fit */
    uint64_t limit;           /* 0 = unlimited */
} rw_budget;

void rw_budget_init(rw_budget *b, uint64_t limit);

/* Takes n bytes; false (and nothing taken) when held + n would pass the
 * limit. n == 0 always succeeds. */
bool rw_budget_take(rw_budget *b, uint64_t n);

/* Gives back n bytes taken earlier (never more than held). */
void rw_budget_give(rw_budget *b, uint64_t n);

static inline uint64_t rw_budget_held(const rw_budget *b)
{
    return atomic_load_explicit(&b->held, memory_order_relaxed);
}

#endif
