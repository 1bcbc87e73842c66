/* The per-thread provided buffer ring: user-allocated ring memory (kernel-
 * allocated IOU_PBUF_RING_MMAP needs 6.4; we must run on 6.1) and one slab
 * of nbufs * size bytes. Multishot recvs pick buffers from it; the loop hands
 * each one to the conn layer and returns it at once (batched advance). */
#include "uring/uring_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rw_uring_bufring_init(rw_uring_bufring *b, struct io_uring *ring, unsigned nbufs,
                          unsigned size, unsigned bgid)
{
    memset(b, 0, sizeof(*b));
    if (nbufs == 0 || nbufs > RW_URING_MAX_BUFS || (nbufs & (nbufs - 1)) || size == 0)
        return -EINVAL;
    long page = sysconf(_SC_PAGESIZE);
    size_t ring_bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
    void *rmem = NULL;
    if (posix_memalign(&rmem, (size_t)(page > 0 ? page : 4096), ring_bytes))
        return -ENOMEM;
    b->br = rmem;
    b->mem = malloc((size_t)nbufs * size);
    if (!b->mem) {
        free(b->br);
        b->br = NULL;
        return -ENOMEM;
    }
    b->nbufs = nbufs;
    b->size = size;
    b->mask = io_uring_buf_ring_mask(nbufs);
    io_uring_buf_ring_init(b->br);

    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (uint64_t)(uintptr_t)b->br;
    reg.ring_entries = nbufs;
    reg.bgid = (uint16_t)bgid;
    int ret = io_uring_register_buf_ring(ring, &reg, 0);
    if (ret < 0) {
        free(b->mem);
        free(b->br);
        memset(b, 0, sizeof(*b));
        return ret;
    }
    b->registered = true;
    for (unsigned i = 0; i < nbufs; i++)
        rw_uring_buf_recycle(b, i);
    rw_uring_buf_flush(b);
    return 0;
}

void rw_uring_bufring_destroy(rw_uring_bufring *b, struct io_uring *ring, unsigned bgid)
{
    if (b->registered)
        io_uring_unregister_buf_ring(ring, (int)bgid);
    free(b->mem);
    free(b->br);
    memset(b, 0, sizeof(*b));
}
