#include "app/access_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/server.h"
#include "conn/request.h"
#include "conn/worker.h"

void rw_access_log_flush(rw_worker *w)
{
    int fd = rw_worker_server(w)->access_log_fd;
    if (fd < 0 || w->alog_len == 0)
        return;
    size_t off = 0;
    while (off < w->alog_len) {
        ssize_t n = write(fd, w->alog + off, w->alog_len - off);
        if (n <= 0)
            break; /* a full disk must not stop the server: drop the rest */
        off += (size_t)n;
    }
    w->alog_len = 0;
}

static void peer_text(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    snprintf(out, cap, "-");
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)cap);
}

/* Copies s into out, escaping bytes that would break the line format. */
static size_t put_escaped(char *out, size_t cap, rw_str s)
{
    size_t o = 0;
    for (size_t i = 0; i < s.n && o + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    return o;
}

/* A JSON string body: quotes, backslashes and every byte outside printable
 * ASCII as \u00XX, so the line stays valid JSON whatever the client sent. */
static size_t put_json(char *out, size_t cap, rw_str s)
{
    size_t o = 0;
    for (size_t i = 0; i < s.n && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
        else
            out[o++] = (char)ch;
    }
    return o;
}

void rw_access_log_add(rw_worker *w, int peer_fd, const rw_request *r, int status,
                       uint64_t bytes)
{
    if (rw_worker_server(w)->access_log_fd < 0)
        return;
    if (!w->alog && !(w->alog = malloc(RW_ACCESS_LOG_BUF)))
        return;
    char line[2048];
    char peer[INET6_ADDRSTRLEN];
    peer_text(peer_fd, peer, sizeof peer);
    struct tm tm;
    time_t now = w->clock.wall_sec;
    gmtime_r(&now, &tm);
    char when[32];
    size_t n;
    if (w->cfg->access_log_format == 1) { /* JSON lines */
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = (size_t)snprintf(line, sizeof line, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"",
                             when, peer);
        n += put_json(line + n, sizeof line - n - 96, r->method);
        n += (size_t)snprintf(line + n, sizeof line - n, "\",\"target\":\"");
        n += put_json(line + n, sizeof line - n - 96, r->target);
        n += (size_t)snprintf(line + n, sizeof line - n,
                              "\",\"protocol\":\"HTTP/%d.%d\",\"status\":%d,\"bytes\":%llu}\n",
                              r->version / 10, r->version % 10, status, (unsigned long long)bytes);
    } else { /* Common Log Format */
        strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        n = (size_t)snprintf(line, sizeof line, "%s - - [%s] \"", peer, when);
        n += put_escaped(line + n, sizeof line - n - 64, r->method);
        line[n++] = ' ';
        n += put_escaped(line + n, sizeof line - n - 64, r->target);
        n += (size_t)snprintf(line + n, sizeof line - n, " HTTP/%d.%d\" %d %llu\n",
                              r->version / 10, r->version % 10, status,
                              (unsigned long long)bytes);
    }
    if (n >= sizeof line) { /* cut, but keep one line per entry */
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    if (w->alog_len + n > RW_ACCESS_LOG_BUF)
        rw_access_log_flush(w);
    memcpy(w->alog + w->alog_len, line, n);
    w->alog_len += n;
}
