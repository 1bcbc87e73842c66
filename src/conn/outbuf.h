/* A connection's output queue: an ordered list of byte segments that the
 * backend writes with one writev/sendmsg. Copied bytes live in chunks owned
 * by the queue (consecutive copies extend one segment, so a pipelined batch
 * of responses is usually a single iovec); external bodies (mmapped files)
 * are referenced, and released once written. Memory never moves while a
 * write is in flight.
 *
 * A file segment (rw_outbuf_append_file) references a mapping that only the
 * kernel may read: a file truncated meanwhile makes the kernel's copy fail
 * with EFAULT, while a userspace read of the mapping would raise SIGBUS and
 * kill the process. Userspace consumers (TLS) copy segment bytes out with
 * rw_outseg_read(), which preads file segments. */
#ifndef RW_CONN_OUTBUF_H
#define RW_CONN_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/pool.h"

#define RW_OUT_MAX_SEGS 64
#define RW_OUT_CHUNK_SIZE 16384   /* default size of a copy chunk */
#define RW_OUT_HIGH_WATER 65536   /* stop producing responses above this many queued bytes */

typedef struct rw_outchunk {
    struct rw_outchunk *next;
    size_t cap, used;
    bool pooled;
    char data[];
} rw_outchunk;

typedef struct rw_outseg {
    const char *p;
    size_t n;
    void (*release)(void *);
    void *arg;
    int fd;          /* file segment: p maps fd at off (never read p in userspace); else -1 */
    uint64_t off;
} rw_outseg;

typedef struct rw_outbuf {
    rw_outseg segs[RW_OUT_MAX_SEGS]; /* ring: [head, head + count) */
    unsigned head, count;
    bool tail_extendable;            /* last seg ends at chunk_tail->data + used */
    size_t bytes;                    /* queued, including in flight */
    rw_outchunk *chunk_head, *chunk_tail;
    struct iovec iov[RW_OUT_MAX_SEGS];
    int iov_n;                       /* > 0 while a write is in flight */
    size_t iov_bytes;
} rw_outbuf;

typedef struct rw_outbuf_pools {
    rw_pool *outbufs;  /* sizeof(rw_outbuf) */
    rw_pool *chunks;   /* sizeof(rw_outchunk) + RW_OUT_CHUNK_SIZE */
} rw_outbuf_pools;

rw_outbuf *rw_outbuf_new(const rw_outbuf_pools *p);
/* Reserves n contiguous bytes at the end of the queue (copy area); returns
 * the pointer to write into, NULL on OOM or when the segment ring is full.
 * Call rw_outbuf_commit() with the bytes actually written (<= n). */
char *rw_outbuf_reserve(rw_outbuf *o, const rw_outbuf_pools *p, size_t n);
void rw_outbuf_commit(rw_outbuf *o, size_t n);
int rw_outbuf_append(rw_outbuf *o, const rw_outbuf_pools *p, const void *data, size_t n);
/* References external memory; release(arg) runs once it is written or dropped. */
int rw_outbuf_append_ext(rw_outbuf *o, const void *data, size_t n, void (*release)(void *),
                         void *arg);
/* References n bytes of file fd at off, mapped at map (for the kernel's
 * zero-copy sends); release(arg) as above, and fd must stay open until then. */
int rw_outbuf_append_file(rw_outbuf *o, const void *map, size_t n, int fd, uint64_t off,
                          void (*release)(void *), void *arg);
/* pread until n bytes or end of file; returns the bytes read. */
size_t rw_file_pread(int fd, void *dst, size_t n, uint64_t off);
/* Copies the first n bytes of s (n <= s->n) to dst: memcpy, or pread for a
 * file segment. Returns the bytes copied; fewer than n means the file shrank
 * (or a read error): the segment can no longer be sent. */
size_t rw_outseg_read(const rw_outseg *s, void *dst, size_t n);
/* Fills o->iov; returns the count. */
int rw_outbuf_iov(rw_outbuf *o);
/* n bytes were written: drops them. */
void rw_outbuf_consume(rw_outbuf *o, const rw_outbuf_pools *p, size_t n);
static inline bool rw_outbuf_full(const rw_outbuf *o)
{
    return o->bytes >= RW_OUT_HIGH_WATER || o->count + 4 >= RW_OUT_MAX_SEGS;
}
/* Releases everything (external segments too). */
void rw_outbuf_free(rw_outbuf *o, const rw_outbuf_pools *p);

#endif
