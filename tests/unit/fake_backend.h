/* Test helper: plays an I/O backend for one connection the way epoll/uring
 * do after a batch of events: empties the worker's flush list, takes each
 * write the connection asks for (rw_conn_out_iov), keeps the bytes and
 * completes the write (rw_conn_out_done), until nothing is left to write.
 * Header-only; include from a test_*.c. */
#ifndef RW_TESTS_FAKE_BACKEND_H
#define RW_TESTS_FAKE_BACKEND_H

#include <stddef.h>
#include <string.h>
#include <sys/uio.h>

#include "conn/conn.h"
#include "conn/worker.h"

/* Bound on writes per pump: a connection that never stops writing is a bug. */
#define FAKE_BACKEND_MAX_WRITES 100000

/* Appends what c writes to out[*len..cap) (bytes past cap are written but
 * not kept), at most max_write bytes per write (0 = all it offers).
 * Returns the bytes written. */
static inline size_t fake_backend_pump(rw_worker *w, rw_conn *c, void *out, size_t cap,
                                       size_t *len, size_t max_write)
{
    size_t total = 0;
    for (int guard = 0; guard < FAKE_BACKEND_MAX_WRITES; guard++) {
        while (rw_worker_next_flush(w))
            ;
        const struct iovec *iov;
        size_t bytes;
        int n = rw_conn_out_iov(c, &iov, &bytes);
        if (n <= 0)
            break;
        size_t want = max_write && bytes > max_write ? max_write : bytes;
        size_t done = 0;
        for (int i = 0; i < n && done < want; i++) {
            size_t k = iov[i].iov_len;
            if (k > want - done)
                k = want - done;
            if (*len + k <= cap) {
                memcpy((char *)out + *len, iov[i].iov_base, k);
                *len += k;
            }
            done += k;
        }
        rw_conn_out_done(c, done);
        total += done;
    }
    return total;
}

#endif
