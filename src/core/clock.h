/* Per-thread cached clock: the loop calls rw_clock_update() once per
 * iteration (vDSO, no syscall); everything else reads the cache. The HTTP
 * Date value is rebuilt only when the second changes. */
#ifndef RW_CORE_CLOCK_H
#define RW_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define RW_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

typedef struct rw_clock {
    uint64_t now_ms;   /* CLOCK_MONOTONIC_COARSE, milliseconds */
    time_t wall_sec;   /* CLOCK_REALTIME seconds of date[] */
    char date[RW_DATE_LEN + 1];
} rw_clock;

void rw_clock_init(rw_clock *c);
void rw_clock_update(rw_clock *c);
/* Formats an IMF-fixdate (RFC 9110 5.6.7) into out (RW_DATE_LEN + 1 bytes). */
void rw_http_date(time_t t, char *out);
/* Parses an IMF-fixdate; returns -1 when malformed. */
time_t rw_http_date_parse(const char *s, size_t n);

#endif
