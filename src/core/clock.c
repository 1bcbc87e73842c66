#include "core/clock.h"

#include <stdio.h>
#include <string.h>

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static char *put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

void rw_http_date(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    char *o = out;
    memcpy(o, wdays[tm.tm_wday % 7], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    o = put2(o, tm.tm_mday);
    *o++ = ' ';
    memcpy(o, months[tm.tm_mon % 12], 3);
    o += 3;
    *o++ = ' ';
    int y = tm.tm_year + 1900;
    o = put2(o, y / 100);
    o = put2(o, y % 100);
    *o++ = ' ';
    o = put2(o, tm.tm_hour);
    *o++ = ':';
    o = put2(o, tm.tm_min);
    *o++ = ':';
    o = put2(o, tm.tm_sec);
    memcpy(o, " GMT", 5);
}

time_t rw_http_date_parse(const char *s, size_t n)
{
    char buf[RW_DATE_LEN + 1];
    if (n != RW_DATE_LEN)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char wd[4], mon[4], gmt[4];
    int day, year, hh, mm, ss;
    if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wd, &day, mon, &year, &hh, &mm, &ss,
               gmt) != 8 || strcmp(gmt, "GMT") != 0)
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(mon, months[i], 3) == 0)
            m = i;
    if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970)
        return -1;
    struct tm tm = { .tm_sec = ss, .tm_min = mm, .tm_hour = hh, .tm_mday = day, .tm_mon = m,
                     .tm_year = year - 1900 };
    return timegm(&tm);
}

void rw_clock_update(rw_clock *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    c->now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != c->wall_sec) {
        c->wall_sec = ts.tv_sec;
        rw_http_date(ts.tv_sec, c->date);
    }
}

void rw_clock_init(rw_clock *c)
{
    memset(c, 0, sizeof *c);
    c->wall_sec = -1;
    rw_clock_update(c);
}
