/* Access log: one line per response, buffered per worker thread and written
 * with one write() per flush (buffer full, every timer tick, at exit). Off
 * by default; when off it costs one branch per response. */
#ifndef RW_APP_ACCESS_LOG_H
#define RW_APP_ACCESS_LOG_H

#include <stdint.h>

#include "ringwire/ringwire.h"

struct rw_worker;

#define RW_ACCESS_LOG_BUF 32768

/* Appends one line: Common Log Format ("ADDR - - [date] "METHOD TARGET
 * HTTP/x.y" STATUS BYTES") or, with --access-log-format json, one JSON object
 * per line. peer_fd is used for the client address (one getpeername). */
void rw_access_log_add(struct rw_worker *w, int peer_fd, const rw_request *r, int status,
                       uint64_t bytes);
void rw_access_log_flush(struct rw_worker *w);

#endif
