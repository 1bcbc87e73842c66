/* Configuration defaults and listen-address parsing. Defaults aim at
 * benchmarking out of the box; docs/cli.md explains each one. */
#include "ringwire/ringwire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

void rw_config_defaults(rw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_listen = 0; /* the CLI applies 0.0.0.0:8080 when none is given */
    cfg->backend = RW_BACKEND_URING;
    cfg->threads = 0;
    cfg->pin_cpus = false;
    cfg->pin_cpu_base = 0;
    cfg->ring_entries = 4096;
    cfg->bufs = 1024;
    cfg->buf_size = 8192;
    cfg->sqpoll = false;
    cfg->send_zc_threshold = 0; /* off: measured slower on loopback, see docs/uring.md */
    cfg->max_conns = 16384;
    cfg->keepalive_timeout_ms = 60000;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 10000;
    cfg->body_min_rate = 1024;
    cfg->shutdown_timeout_ms = 10000;
    cfg->max_request_line = 8192;
    cfg->max_header_bytes = 16384;
    cfg->max_headers = 100;
    cfg->max_body = (size_t)1 << 20;
    /* 16 max-size WebSocket messages or 256 max-size bodies at once; beyond
     * that new buffering is refused, whatever the connection count. */
    cfg->max_buffered_total = (size_t)256 << 20;
    cfg->max_pipeline = 64;
    cfg->root = NULL;
    cfg->log_level = RW_LOG_INFO;
    cfg->access_log = NULL;
    cfg->access_log_format = 0;
    cfg->listen_backlog = 4096;
    cfg->metrics = false;
    cfg->metrics_path = "/metrics";
    cfg->stats_interval_ms = 0;
    cfg->h2_max_concurrent_streams = 100;
    cfg->h2_initial_window = 65535; /* RFC default: only uploads use it; bounds per-stream buffering */
    cfg->h2_max_frame_size = 16384;
    cfg->h2_max_header_list = 16384;
    cfg->ws_max_frame = (size_t)16 << 20;
    cfg->ws_max_message = (size_t)16 << 20;
    /* Twice ws_max_message: a max-size echo fits while the previous one is
     * still being sent; the CLI requires at least the message plus a header. */
    cfg->ws_max_queue = (size_t)32 << 20;
    cfg->ws_no_deflate = false;
    cfg->ws_deflate_threshold = 64;
    cfg->sse_ping_ms = 15000;
    cfg->sse_max_queue = (size_t)1 << 20;
    cfg->sse_cors = NULL;
}

/* Strict decimal port: digits only, 1..65535. */
static int parse_port(const char *s, uint16_t *out)
{
    unsigned v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > 65535)
            return -1;
    }
    if (v == 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int rw_config_add_listen(rw_config *cfg, const char *text)
{
    if (!text || cfg->n_listen >= RW_MAX_LISTEN)
        return -1;
    size_t tlen = strlen(text);
    rw_listen_addr *la = &cfg->listen[cfg->n_listen];
    if (tlen == 0 || tlen >= sizeof la->text)
        return -1;

    char host[INET6_ADDRSTRLEN + 1];
    const char *port;
    bool v6 = false;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        size_t hl = (size_t)(close - text - 1);
        if (hl == 0 || hl >= sizeof host)
            return -1;
        memcpy(host, text + 1, hl);
        host[hl] = '\0';
        port = close + 2;
        v6 = true;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text)))
            return -1; /* no port, or an unbracketed IPv6 address */
        size_t hl = (size_t)(colon - text);
        if (hl >= sizeof host)
            return -1;
        memcpy(host, text, hl);
        host[hl] = '\0';
        port = colon + 1;
    }

    uint16_t p;
    if (parse_port(port, &p) < 0)
        return -1;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(p);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return -1;
        len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(p);
        if (host[0] == '\0')
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return -1; /* numeric only: inet_pton rejects "1.2.3", "01.2.3.4" */
        len = sizeof *a4;
    }

    la->ss = ss;
    la->len = len;
    if (host[0] == '\0')
        snprintf(la->text, sizeof la->text, "0.0.0.0:%u", (unsigned)p);
    else
        memcpy(la->text, text, tlen + 1);
    cfg->n_listen++;
    return 0;
}
