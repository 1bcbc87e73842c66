/* Intrusive circular doubly linked list. */
#ifndef RW_CORE_DLIST_H
#define RW_CORE_DLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rw_dlist {
    struct rw_dlist *prev, *next;
} rw_dlist;

static inline void rw_dlist_init(rw_dlist *h) { h->prev = h->next = h; }
static inline bool rw_dlist_empty(const rw_dlist *h) { return h->next == h; }
static inline bool rw_dlist_linked(const rw_dlist *n) { return n->next != NULL && n->next != n; }

static inline void rw_dlist_insert_tail(rw_dlist *h, rw_dlist *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void rw_dlist_remove(rw_dlist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#define rw_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
