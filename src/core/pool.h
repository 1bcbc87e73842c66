/* Per-thread fixed-size object pool: a free list in front of malloc, so the
 * steady state allocates nothing. Not thread-safe by design (one per worker).
 * Objects kept on the free list are capped at max_free; the rest go back to
 * malloc so a burst does not pin memory forever. */
#ifndef RW_CORE_POOL_H
#define RW_CORE_POOL_H

#include <stddef.h>

typedef struct rw_pool {
    void *free;       /* singly linked through the first word */
    size_t obj_size;
    unsigned nfree;
    unsigned max_free;
    unsigned live;    /* objects handed out and not yet returned */
} rw_pool;

void rw_pool_init(rw_pool *p, size_t obj_size, unsigned max_free);
void *rw_pool_get(rw_pool *p);   /* NULL on out of memory; not zeroed */
void rw_pool_put(rw_pool *p, void *obj);
void rw_pool_destroy(rw_pool *p);

#endif
