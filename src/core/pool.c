#include "core/pool.h"

#include <stdlib.h>

void rw_pool_init(rw_pool *p, size_t obj_size, unsigned max_free)
{
    p->free = NULL;
    p->obj_size = obj_size < sizeof(void *) ? sizeof(void *) : obj_size;
    p->nfree = 0;
    p->max_free = max_free;
    p->live = 0;
}

void *rw_pool_get(rw_pool *p)
{
    void *o = p->free;
    if (o) {
        p->free = *(void **)o;
        p->nfree--;
    } else {
        o = malloc(p->obj_size);
        if (!o)
            return NULL;
    }
    p->live++;
    return o;
}

void rw_pool_put(rw_pool *p, void *obj)
{
    if (!obj)
        return;
    p->live--;
    if (p->nfree >= p->max_free) {
        free(obj);
        return;
    }
    *(void **)obj = p->free;
    p->free = obj;
    p->nfree++;
}

void rw_pool_destroy(rw_pool *p)
{
    while (p->free) {
        void *o = p->free;
        p->free = *(void **)o;
        free(o);
    }
    p->nfree = 0;
}
