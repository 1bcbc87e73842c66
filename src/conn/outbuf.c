#include "conn/outbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

rw_outbuf *rw_outbuf_new(const rw_outbuf_pools *p)
{
    rw_outbuf *o = rw_pool_get(p->outbufs);
    if (!o)
        return NULL;
    o->head = o->count = 0;
    o->tail_extendable = false;
    o->bytes = 0;
    o->chunk_head = o->chunk_tail = NULL;
    o->iov_n = 0;
    o->iov_bytes = 0;
    return o;
}

static rw_outchunk *chunk_new(const rw_outbuf_pools *p, size_t need)
{
    rw_outchunk *c;
    if (need <= RW_OUT_CHUNK_SIZE) {
        c = rw_pool_get(p->chunks);
        if (!c)
            return NULL;
        c->cap = RW_OUT_CHUNK_SIZE;
        c->pooled = true;
    } else {
        c = malloc(sizeof *c + need);
        if (!c)
            return NULL;
        c->cap = need;
        c->pooled = false;
    }
    c->next = NULL;
    c->used = 0;
    return c;
}

static void chunk_free(const rw_outbuf_pools *p, rw_outchunk *c)
{
    if (c->pooled)
        rw_pool_put(p->chunks, c);
    else
        free(c);
}

static rw_outseg *seg_at(rw_outbuf *o, unsigned i)
{
    return &o->segs[(o->head + i) % RW_OUT_MAX_SEGS];
}

char *rw_outbuf_reserve(rw_outbuf *o, const rw_outbuf_pools *p, size_t n)
{
    rw_outchunk *t = o->chunk_tail;
    if (o->count >= RW_OUT_MAX_SEGS && !(o->tail_extendable && t && t->cap - t->used >= n))
        return NULL;
    if (t && t->cap - t->used >= n)
        return t->data + t->used;
    if (o->count >= RW_OUT_MAX_SEGS)
        return NULL;
    rw_outchunk *c = chunk_new(p, n);
    if (!c)
        return NULL;
    if (t)
        t->next = c;
    else
        o->chunk_head = c;
    o->chunk_tail = c;
    o->tail_extendable = false;
    return c->data;
}

void rw_outbuf_commit(rw_outbuf *o, size_t n)
{
    if (n == 0)
        return;
    rw_outchunk *t = o->chunk_tail;
    char *start = t->data + t->used;
    t->used += n;
    o->bytes += n;
    if (o->tail_extendable) {
        rw_outseg *s = seg_at(o, o->count - 1);
        if (s->p + s->n == start) {
            s->n += n;
            return;
        }
    }
    /* reserve() guaranteed a free slot when it started a new chunk; an
     * extension of the current chunk may still need one. */
    rw_outseg *s = seg_at(o, o->count++);
    s->p = start;
    s->n = n;
    s->release = NULL;
    s->arg = NULL;
    s->fd = -1;
    s->off = 0;
    o->tail_extendable = true;
}

int rw_outbuf_append(rw_outbuf *o, const rw_outbuf_pools *p, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    char *dst = rw_outbuf_reserve(o, p, n);
    if (!dst)
        return -1;
    memcpy(dst, data, n);
    rw_outbuf_commit(o, n);
    return 0;
}

int rw_outbuf_append_file(rw_outbuf *o, const void *map, size_t n, int fd, uint64_t off,
                          void (*release)(void *), void *arg)
{
    if (o->count >= RW_OUT_MAX_SEGS)
        return -1;
    rw_outseg *s = seg_at(o, o->count++);
    s->p = map;
    s->n = n;
    s->release = release;
    s->arg = arg;
    s->fd = fd;
    s->off = off;
    o->bytes += n;
    o->tail_extendable = false;
    return 0;
}

int rw_outbuf_append_ext(rw_outbuf *o, const void *data, size_t n, void (*release)(void *),
                         void *arg)
{
    return rw_outbuf_append_file(o, data, n, -1, 0, release, arg);
}

size_t rw_file_pread(int fd, void *dst, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* the file shrank under us, or an I/O error */
        got += (size_t)r;
    }
    return got;
}

size_t rw_outseg_read(const rw_outseg *s, void *dst, size_t n)
{
    if (s->fd >= 0)
        return rw_file_pread(s->fd, dst, n, s->off);
    memcpy(dst, s->p, n);
    return n;
}

int rw_outbuf_iov(rw_outbuf *o)
{
    int n = 0;
    size_t bytes = 0;
    for (unsigned i = 0; i < o->count; i++) {
        rw_outseg *s = seg_at(o, i);
        if (s->n == 0)
            continue;
        o->iov[n].iov_base = (void *)s->p;
        o->iov[n].iov_len = s->n;
        bytes += s->n;
        n++;
    }
    o->iov_n = n;
    o->iov_bytes = bytes;
    return n;
}

void rw_outbuf_consume(rw_outbuf *o, const rw_outbuf_pools *p, size_t n)
{
    o->iov_n = 0;
    o->iov_bytes = 0;
    if (n > o->bytes)
        n = o->bytes;
    o->bytes -= n;
    while (o->count > 0) {
        rw_outseg *s = seg_at(o, 0);
        if (s->n > n) {
            s->p += n;
            s->n -= n;
            s->off += n;
            break;
        }
        n -= s->n;
        if (s->release)
            s->release(s->arg);
        o->head = (o->head + 1) % RW_OUT_MAX_SEGS;
        o->count--;
        if (o->count == 0)
            o->tail_extendable = false;
    }
    if (o->count == 0) {
        /* Everything written: give the copy chunks back. */
        rw_outchunk *c = o->chunk_head;
        while (c) {
            rw_outchunk *next = c->next;
            chunk_free(p, c);
            c = next;
        }
        o->chunk_head = o->chunk_tail = NULL;
        o->head = 0;
    }
}

void rw_outbuf_free(rw_outbuf *o, const rw_outbuf_pools *p)
{
    if (!o)
        return;
    while (o->count > 0) {
        rw_outseg *s = seg_at(o, 0);
        if (s->release)
            s->release(s->arg);
        o->head = (o->head + 1) % RW_OUT_MAX_SEGS;
        o->count--;
    }
    rw_outchunk *c = o->chunk_head;
    while (c) {
        rw_outchunk *next = c->next;
        chunk_free(p, c);
        c = next;
    }
    rw_pool_put(p->outbufs, o);
}
