/* Server-Sent Events: text/event-stream formatting (HTML Living Standard,
 * "Server-sent events", §9.2.5-9.2.6). Pure: writes into a caller buffer,
 * no allocation, no syscalls. rw_sse_event_size() says how much room
 * rw_sse_event_write() needs, so a caller can reserve exactly that in its
 * output queue.
 *
 * An event is written as
 *     event: <event>\n       if event.n > 0
 *     id: <id>\n             if id.p != NULL ("id:\n" when empty: resets
 *                            the client's last event ID)
 *     retry: <ms>\n          if retry_ms >= 0
 *     data: <line>\n         one per line of data if data.p != NULL
 *     \n                     dispatch
 * Data is split into lines on "\r\n", "\n" and "\r" like the client's
 * parser does, so the client sees the same text with every line break
 * turned into "\n". An empty line is written "data:\n". A data string that
 * ends with a line break yields a last empty data line (the client keeps
 * the break). Note: browsers do not dispatch an event whose data is the
 * empty string; that is the spec, not us.
 *
 * event and id must not contain CR or LF (they would end the field and
 * inject another); id must not contain NUL either (the client would ignore
 * it). Such events are rejected: size and write return 0.
 *
 * Comments (": text\n" per line, nothing dispatched) keep idle streams
 * alive through proxies: rw_sse_comment_write(): an empty comment is ":\n". */
#ifndef RW_SSE_FORMAT_H
#define RW_SSE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

#define RW_SSE_CONTENT_TYPE "text/event-stream"
#define RW_SSE_MAX_RETRY_MS INT64_C(999999999999) /* keeps "retry:" within 12 digits */

typedef struct rw_sse_event {
    rw_str event;      /* type; n == 0: default "message" */
    rw_str id;         /* p == NULL: no id line */
    rw_str data;       /* p == NULL: no data lines */
    int64_t retry_ms;  /* < 0: no retry line */
} rw_sse_event;

/* True when the event can be written (field rules above). */
bool rw_sse_event_valid(const rw_sse_event *e);
/* Bytes rw_sse_event_write needs; 0 for an invalid event. */
size_t rw_sse_event_size(const rw_sse_event *e);
/* Writes the event; returns the bytes written, or 0 if it is invalid or
 * cap < rw_sse_event_size(e) (nothing written then). */
size_t rw_sse_event_write(const rw_sse_event *e, char *out, size_t cap);

/* Comment lines; a multi-line text gives one ":" line per line. */
size_t rw_sse_comment_size(rw_str text);
size_t rw_sse_comment_write(rw_str text, char *out, size_t cap);

#endif
