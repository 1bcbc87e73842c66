/* Table-driven command-line parser. Each option names the rw_config field it
 * sets (offset + width), its value syntax and its accepted range, so parsing,
 * validation and the --help text (with defaults read from
 * rw_config_defaults()) all come from the one table below. */
#include "core/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "ws/ws_frame.h"

typedef enum opt_kind {
    K_FLAG,     /* no value: sets a bool */
    K_COUNT,    /* plain decimal integer */
    K_BYTES,    /* decimal integer with optional k/m/g (binary) suffix */
    K_SECS,     /* seconds, decimals allowed, stored in milliseconds */
    K_LISTEN,   /* repeatable address */
    K_BACKEND,  /* uring|epoll */
    K_LOGLEVEL, /* error|warn|info|debug */
    K_DIR,      /* existing directory */
    K_FILE,     /* non-empty path */
    K_URLPATH,  /* absolute URL path: "/..." without spaces, '?' or '#' */
    K_H2PUSH,   /* repeatable PATH=ASSET[,ASSET...] */
    K_TLSSNI,   /* repeatable HOST[,HOST]:CERT:KEY */
    K_TLSVER,   /* 1.2|1.3 */
    K_KTLS,     /* auto|on|off */
    K_ALOGFMT,  /* common|json */
    K_HELP,
    K_VERSION,
} opt_kind;

typedef struct cli_opt {
    const char *name;  /* without the leading "--" */
    const char *metavar;
    opt_kind kind;
    size_t off;        /* offset of the field in rw_config */
    size_t width;      /* sizeof the field */
    uint64_t min, max; /* accepted range (milliseconds for K_SECS) */
    bool pow2;
    const char *help;
    const char *dflt;  /* default text when not derivable from the field */
} cli_opt;

#define FIELD(m) offsetof(rw_config, m), sizeof(((rw_config *)0)->m)
#define NOFIELD 0, 0

/* Range bounds: each is the largest value the consumer can honour or a sane
 * ceiling that catches typos (e.g. an extra zero). */
#define RW_CLI_MAX_THREADS 1024
#define RW_CLI_MAX_RING_ENTRIES 32768u   /* IORING_MAX_ENTRIES */
#define RW_CLI_MAX_BUFS 32768u           /* provided-buffer ring limit */
#define RW_CLI_MIN_BUF_SIZE 512u
#define RW_CLI_MAX_BUF_SIZE (16u << 20)
#define RW_CLI_MAX_CONNS 10000000u
#define RW_CLI_MAX_TIMEOUT_MS (86400u * 1000u) /* one day */
#define RW_CLI_MIN_REQUEST_LINE 64u
#define RW_CLI_MIN_HEADER_BYTES 256u
#define RW_CLI_MAX_HEAD_BYTES (16u << 20)
#define RW_CLI_MAX_HEADERS 1000u
#define RW_CLI_MAX_BODY ((uint64_t)1 << 40)
#define RW_CLI_MAX_BUFFERED ((uint64_t)1 << 44)
#define RW_CLI_MAX_PIPELINE 1024u
#define RW_CLI_MIN_WS_LIMIT 125u             /* a control frame must fit */
#define RW_CLI_MAX_WS_LIMIT ((uint64_t)1 << 32)
#define RW_CLI_MAX_BACKLOG 65535u
#define RW_CLI_MAX_URL_PATH 256u /* a route path given on the command line */
#define RW_CLI_MAX_H2_STREAMS 100000u
#define RW_CLI_MAX_H2_WINDOW 0x7fffffffu   /* RFC 9113 §6.9.1 */
#define RW_CLI_MIN_H2_FRAME 16384u         /* RFC 9113 §6.5.2 */
#define RW_CLI_MAX_H2_FRAME 16777215u
#define RW_CLI_MIN_H2_HEADER_LIST 1024u

static const cli_opt opts[] = {
    { "listen", "ADDR:PORT", K_LISTEN, NOFIELD, 0, 0, false,
      "listen address, repeatable (IPV4:PORT, [IPV6]:PORT, :PORT)", RW_CLI_DEFAULT_LISTEN },
    { "backend", "uring|epoll", K_BACKEND, FIELD(backend), 0, 0, false,
      "I/O backend (uring falls back to epoll when unavailable)", NULL },
    { "threads", "N", K_COUNT, FIELD(threads), 0, RW_CLI_MAX_THREADS, false,
      "worker threads, 0 = one per usable CPU", NULL },
    { "pin-cpus", NULL, K_FLAG, FIELD(pin_cpus), 0, 0, false,
      "pin worker i to the i-th CPU of the affinity mask", NULL },
    { "ring-entries", "N", K_COUNT, FIELD(ring_entries), 1, RW_CLI_MAX_RING_ENTRIES, false,
      "io_uring submission queue entries", NULL },
    { "bufs", "N", K_COUNT, FIELD(bufs), 1, RW_CLI_MAX_BUFS, true,
      "provided receive buffers per thread (power of two)", NULL },
    { "buf-size", "BYTES", K_BYTES, FIELD(buf_size), RW_CLI_MIN_BUF_SIZE, RW_CLI_MAX_BUF_SIZE,
      false, "bytes per receive buffer", NULL },
    { "sqpoll", NULL, K_FLAG, FIELD(sqpoll), 0, 0, false,
      "io_uring kernel submission-queue polling thread", NULL },
    { "send-zc-threshold", "BYTES", K_BYTES, FIELD(send_zc_threshold), 0, UINT32_MAX, false,
      "responses at least this big use zero-copy send, 0 = never", NULL },
    { "max-conns", "N", K_COUNT, FIELD(max_conns), 0, RW_CLI_MAX_CONNS, false,
      "open connections per process, 0 = unlimited; beyond: 503", NULL },
    { "keepalive-timeout", "SECS", K_SECS, FIELD(keepalive_timeout_ms), 1,
      RW_CLI_MAX_TIMEOUT_MS, false, "idle keep-alive connection lifetime", NULL },
    { "header-timeout", "SECS", K_SECS, FIELD(header_timeout_ms), 1, RW_CLI_MAX_TIMEOUT_MS,
      false, "time allowed to receive a request head", NULL },
    { "body-timeout", "SECS", K_SECS, FIELD(body_timeout_ms), 1, RW_CLI_MAX_TIMEOUT_MS, false,
      "time allowed for a request body or WebSocket frame, before --body-min-rate extends it",
      NULL },
    { "body-min-rate", "BYTES", K_BYTES, FIELD(body_min_rate), 0, UINT32_MAX, false,
      "each BYTES received extend --body-timeout by 1 s, 0 = no extension", NULL },
    { "shutdown-timeout", "SECS", K_SECS, FIELD(shutdown_timeout_ms), 0,
      RW_CLI_MAX_TIMEOUT_MS, false, "graceful-shutdown drain bound", NULL },
    { "max-request-line", "BYTES", K_BYTES, FIELD(max_request_line), RW_CLI_MIN_REQUEST_LINE,
      RW_CLI_MAX_HEAD_BYTES, false, "request line limit (414 beyond)", NULL },
    { "max-header-bytes", "BYTES", K_BYTES, FIELD(max_header_bytes), RW_CLI_MIN_HEADER_BYTES,
      RW_CLI_MAX_HEAD_BYTES, false, "whole request head limit (431 beyond)", NULL },
    { "max-headers", "N", K_COUNT, FIELD(max_headers), 1, RW_CLI_MAX_HEADERS, false,
      "header fields per request (431 beyond)", NULL },
    { "max-body", "BYTES", K_BYTES, FIELD(max_body), 0, RW_CLI_MAX_BODY, false,
      "request body limit (413 beyond)", NULL },
    { "max-buffered-total", "BYTES", K_BYTES, FIELD(max_buffered_total), 0, RW_CLI_MAX_BUFFERED,
      false, "request data buffered across all connections, 0 = unlimited (docs/hardening.md)",
      NULL },
    { "max-pipeline", "N", K_COUNT, FIELD(max_pipeline), 1, RW_CLI_MAX_PIPELINE, false,
      "parsed-but-unanswered requests per connection", NULL },
    { "root", "DIR", K_DIR, FIELD(root), 0, 0, false,
      "serve static files from DIR", "none" },
    { "log-level", "LEVEL", K_LOGLEVEL, FIELD(log_level), 0, 0, false,
      "error|warn|info|debug", NULL },
    { "access-log", "FILE", K_FILE, FIELD(access_log), 0, 0, false,
      "append an access log to FILE", "off" },
    { "metrics", NULL, K_FLAG, FIELD(metrics), 0, 0, false,
      "serve Prometheus metrics (and /_status) on the listeners", NULL },
    { "metrics-path", "PATH", K_URLPATH, FIELD(metrics_path), 0, 0, false,
      "URL path of the metrics endpoint", "/metrics" },
    { "stats-interval", "SECS", K_SECS, FIELD(stats_interval_ms), 0, RW_CLI_MAX_TIMEOUT_MS,
      false, "log req/s, open conns and CPU per request every SECS, 0 = off", NULL },
    { "backlog", "N", K_COUNT, FIELD(listen_backlog), 1, RW_CLI_MAX_BACKLOG, false,
      "listen(2) backlog (the kernel caps it at net.core.somaxconn)", NULL },
    { "h2-max-concurrent-streams", "N", K_COUNT, FIELD(h2_max_concurrent_streams), 1,
      RW_CLI_MAX_H2_STREAMS, false, "HTTP/2 streams per connection (REFUSED_STREAM beyond)",
      NULL },
    { "h2-initial-window", "BYTES", K_BYTES, FIELD(h2_initial_window), 1, RW_CLI_MAX_H2_WINDOW,
      false, "HTTP/2 receive window per stream (request bodies)", NULL },
    { "h2-max-frame-size", "BYTES", K_BYTES, FIELD(h2_max_frame_size), RW_CLI_MIN_H2_FRAME,
      RW_CLI_MAX_H2_FRAME, false,
      "largest HTTP/2 frame accepted (capped by --max-header-bytes + --buf-size)", NULL },
    { "h2-max-header-list", "BYTES", K_BYTES, FIELD(h2_max_header_list),
      RW_CLI_MIN_H2_HEADER_LIST, RW_CLI_MAX_HEAD_BYTES, false,
      "HTTP/2 decoded header list limit (431 beyond)", NULL },
    { "h2-push", "PATH=ASSET[,ASSET]", K_H2PUSH, NOFIELD, 0, 0, false,
      "HTTP/2 server push rule, repeatable", "none" },
    { "ws-max-frame", "BYTES", K_BYTES, FIELD(ws_max_frame), RW_CLI_MIN_WS_LIMIT,
      RW_CLI_MAX_WS_LIMIT, false, "largest WebSocket frame accepted (close 1009 beyond)", NULL },
    { "ws-max-message", "BYTES", K_BYTES, FIELD(ws_max_message), RW_CLI_MIN_WS_LIMIT,
      RW_CLI_MAX_WS_LIMIT, false, "largest WebSocket message, after inflating (1009 beyond)",
      NULL },
    { "ws-max-queue", "BYTES", K_BYTES, FIELD(ws_max_queue), RW_CLI_MIN_WS_LIMIT,
      RW_CLI_MAX_WS_LIMIT, false, "queued output per WebSocket; beyond: send fails, close 1008",
      NULL },
    { "ws-no-deflate", NULL, K_FLAG, FIELD(ws_no_deflate), 0, 0, false,
      "decline permessage-deflate", NULL },
    { "ws-deflate-threshold", "BYTES", K_BYTES, FIELD(ws_deflate_threshold), 0, UINT32_MAX,
      false, "WebSocket messages shorter than this are sent uncompressed", NULL },
    { "sse-ping", "SECS", K_SECS, FIELD(sse_ping_ms), 0, RW_CLI_MAX_TIMEOUT_MS, false,
      "keep-alive comment on idle SSE streams every SECS, 0 = off", NULL },
    { "sse-max-queue", "BYTES", K_BYTES, FIELD(sse_max_queue), RW_CLI_MIN_WS_LIMIT,
      RW_CLI_MAX_WS_LIMIT, false, "queued events per SSE stream; beyond: send fails, stream ends",
      NULL },
    { "sse-cors", "ORIGIN", K_FILE, FIELD(sse_cors), 0, 0, false,
      "Access-Control-Allow-Origin value on SSE responses", "none" },
    { "tls-cert", "FILE", K_FILE, FIELD(tls_cert), 0, 0, false,
      "PEM certificate chain: every listener speaks TLS (needs --tls-key)", "off" },
    { "tls-key", "FILE", K_FILE, FIELD(tls_key), 0, 0, false,
      "PEM private key of --tls-cert", "none" },
    { "tls-sni", "HOST:CERT:KEY", K_TLSSNI, NOFIELD, 0, 0, false,
      "another certificate, chosen when the client asks for HOST (a,b,*.c), repeatable", "none" },
    { "tls-min-version", "1.2|1.3", K_TLSVER, FIELD(tls_min_version), 0, 0, false,
      "oldest TLS version accepted", "1.2" },
    { "tls-ciphers", "LIST", K_FILE, FIELD(tls_ciphers), 0, 0, false,
      "TLS 1.2 cipher list (OpenSSL syntax)", "AEAD suites kTLS can take" },
    { "tls-ciphersuites", "LIST", K_FILE, FIELD(tls_ciphersuites), 0, 0, false,
      "TLS 1.3 cipher suites (OpenSSL syntax)", "AES-GCM and ChaCha20" },
    { "access-log-format", "common|json", K_ALOGFMT, FIELD(access_log_format), 0, 0, false,
      "access log lines: Common Log Format or one JSON object per line", "common" },
    { "ktls", "auto|on|off", K_KTLS, FIELD(ktls), 0, 0, false,
      "kernel TLS after the handshake: auto = when the kernel can, on = required", "auto" },
    { "help", NULL, K_HELP, NOFIELD, 0, 0, false, "print this help and exit", "" },
    { "version", NULL, K_VERSION, NOFIELD, 0, 0, false, "print the version and exit", "" },
};

#define NOPTS (sizeof opts / sizeof opts[0])

static const char *const backend_names[] = { "uring", "epoll" };
static const char *const level_names[] = { "error", "warn", "info", "debug" };

static uint64_t field_get(const rw_config *cfg, const cli_opt *o)
{
    const char *p = (const char *)cfg + o->off;
    if (o->width == sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void field_set(rw_config *cfg, const cli_opt *o, uint64_t v)
{
    char *p = (char *)cfg + o->off;
    if (o->width == sizeof(uint64_t)) {
        memcpy(p, &v, sizeof v);
    } else {
        uint32_t v32 = (uint32_t)v; /* every range above fits the field */
        memcpy(p, &v32, sizeof v32);
    }
}

/* "1048576" -> "1m", "8192" -> "8k": the shortest exact spelling. */
static void fmt_bytes(uint64_t v, char *buf, size_t cap)
{
    if (v != 0 && v % (1u << 30) == 0)
        snprintf(buf, cap, "%" PRIu64 "g", v >> 30);
    else if (v != 0 && v % (1u << 20) == 0)
        snprintf(buf, cap, "%" PRIu64 "m", v >> 20);
    else if (v != 0 && v % 1024 == 0)
        snprintf(buf, cap, "%" PRIu64 "k", v >> 10);
    else
        snprintf(buf, cap, "%" PRIu64, v);
}

static void fmt_secs(uint64_t ms, char *buf, size_t cap)
{
    if (ms % 1000 == 0)
        snprintf(buf, cap, "%" PRIu64, ms / 1000);
    else {
        int n = snprintf(buf, cap, "%" PRIu64 ".%03u", ms / 1000, (unsigned)(ms % 1000));
        while (n > 0 && buf[n - 1] == '0') /* "0.500" -> "0.5" */
            buf[--n] = '\0';
    }
}

static void fmt_value(const cli_opt *o, uint64_t v, char *buf, size_t cap)
{
    switch (o->kind) {
    case K_BYTES: fmt_bytes(v, buf, cap); break;
    case K_SECS: fmt_secs(v, buf, cap); break;
    default: snprintf(buf, cap, "%" PRIu64, v); break;
    }
}

void rw_cli_usage(FILE *out)
{
    rw_config d;
    rw_config_defaults(&d);
    fprintf(out, "Usage: ringwire [OPTIONS]\n"
                 "HTTP/1.1, HTTP/2, WebSocket and SSE server, with TLS (kernel TLS when\n"
                 "available), on io_uring (or epoll). Sizes accept k/m/g suffixes;\n"
                 "times are seconds and may have decimals.\n\nOptions:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const cli_opt *o = &opts[i];
        char left[48], dflt[48];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        if (o->dflt)
            snprintf(dflt, sizeof dflt, "%s", o->dflt);
        else if (o->kind == K_FLAG)
            snprintf(dflt, sizeof dflt, "%s", *((const bool *)((const char *)&d + o->off)) ? "on" : "off");
        else if (o->kind == K_BACKEND)
            snprintf(dflt, sizeof dflt, "%s", backend_names[d.backend]);
        else if (o->kind == K_LOGLEVEL)
            snprintf(dflt, sizeof dflt, "%s", level_names[d.log_level & 3]);
        else
            fmt_value(o, field_get(&d, o), dflt, sizeof dflt);
        if (dflt[0])
            fprintf(out, "  %-30s %s (default: %s)\n", left, o->help, dflt);
        else
            fprintf(out, "  %-30s %s\n", left, o->help);
    }
}

/* Digits only, no sign/space/junk, no overflow. */
static int parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_bytes(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 1) {
        switch (s[n - 1]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: break;
        }
    }
    char num[32];
    size_t digits = shift ? n - 1 : n;
    if (digits >= sizeof num)
        return -1;
    memcpy(num, s, digits);
    num[digits] = '\0';
    uint64_t v;
    if (parse_uint(num, &v) < 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* "10", "0.5", "2.25" -> milliseconds, rounded to the nearest. */
static int parse_secs(const char *s, uint64_t *out)
{
    const char *dot = strchr(s, '.');
    char num[24];
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    if (il == 0 || il >= sizeof num)
        return -1;
    memcpy(num, s, il);
    num[il] = '\0';
    uint64_t whole;
    if (parse_uint(num, &whole) < 0 || whole > UINT64_MAX / 1000 - 1)
        return -1;
    uint64_t ms = whole * 1000;
    if (dot) {
        const char *f = dot + 1;
        if (*f == '\0')
            return -1;
        unsigned scale = 100;
        for (unsigned i = 0; f[i]; i++) {
            if (f[i] < '0' || f[i] > '9')
                return -1;
            unsigned d = (unsigned)(f[i] - '0');
            if (i < 3) {
                ms += d * scale;
                scale /= 10;
            } else if (i == 3 && d >= 5) {
                ms += 1;
            }
        }
    }
    *out = ms;
    return 0;
}

static int parse_word(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

#define ERR(...)                                                                               \
    do {                                                                                       \
        fprintf(err, "ringwire: " __VA_ARGS__);                                                \
        fputc('\n', err);                                                                      \
        return RW_CLI_ERROR;                                                                   \
    } while (0)

static int apply(const cli_opt *o, const char *val, rw_config *cfg, FILE *err)
{
    uint64_t v = 0;
    char lo[32], hi[32];
    switch (o->kind) {
    case K_FLAG:
        *(bool *)((char *)cfg + o->off) = true;
        return RW_CLI_OK;
    case K_HELP:
        rw_cli_usage(stdout);
        return RW_CLI_EXIT;
    case K_VERSION:
        printf("ringwire %s\n", RINGWIRE_VERSION);
        return RW_CLI_EXIT;
    case K_LISTEN:
        if (cfg->n_listen >= RW_MAX_LISTEN)
            ERR("--%s: at most %d addresses", o->name, RW_MAX_LISTEN);
        if (rw_config_add_listen(cfg, val) < 0)
            ERR("--%s: invalid address \"%s\" (expected IPV4:PORT, [IPV6]:PORT or :PORT)",
                o->name, val);
        return RW_CLI_OK;
    case K_H2PUSH: {
        const char *eq = strchr(val, '=');
        if (cfg->n_h2_push >= RW_MAX_H2_PUSH)
            ERR("--%s: at most %d rules", o->name, RW_MAX_H2_PUSH);
        if (val[0] != '/' || !eq || eq[1] != '/' || strstr(eq, ",,") ||
            val[strlen(val) - 1] == ',')
            ERR("--%s: expected /PATH=/ASSET[,/ASSET...], got \"%s\"", o->name, val);
        for (const char *a = strchr(eq, ','); a; a = strchr(a + 1, ','))
            if (a[1] != '/')
                ERR("--%s: assets must start with '/': \"%s\"", o->name, val);
        cfg->h2_push[cfg->n_h2_push++] = val;
        return RW_CLI_OK;
    }
    case K_TLSSNI: {
        const char *c1 = strchr(val, ':');
        const char *c2 = strrchr(val, ':');
        if (cfg->n_tls_sni >= RW_MAX_TLS_SNI)
            ERR("--%s: at most %d certificates", o->name, RW_MAX_TLS_SNI);
        if (!c1 || c1 == val || c1 == c2 || c2 == c1 + 1 || c2[1] == '\0')
            ERR("--%s: expected HOST[,HOST]:CERT:KEY, got \"%s\"", o->name, val);
        cfg->tls_sni[cfg->n_tls_sni++] = val;
        return RW_CLI_OK;
    }
    case K_TLSVER:
        if (strcmp(val, "1.2") == 0)
            cfg->tls_min_version = 12;
        else if (strcmp(val, "1.3") == 0)
            cfg->tls_min_version = 13;
        else
            ERR("--%s: expected 1.2 or 1.3, got \"%s\"", o->name, val);
        return RW_CLI_OK;
    case K_KTLS: {
        static const char *const ktls_names[] = { "auto", "on", "off" };
        int k = parse_word(val, ktls_names, 3);
        if (k < 0)
            ERR("--%s: expected auto, on or off, got \"%s\"", o->name, val);
        cfg->ktls = k;
        return RW_CLI_OK;
    }
    case K_ALOGFMT: {
        static const char *const alog_names[] = { "common", "json" };
        int k = parse_word(val, alog_names, 2);
        if (k < 0)
            ERR("--%s: expected common or json, got \"%s\"", o->name, val);
        cfg->access_log_format = k;
        return RW_CLI_OK;
    }
    case K_BACKEND: {
        int b = parse_word(val, backend_names, 2);
        if (b < 0)
            ERR("--%s: expected uring or epoll, got \"%s\"", o->name, val);
        cfg->backend = (rw_backend_kind)b;
        return RW_CLI_OK;
    }
    case K_LOGLEVEL: {
        int l = parse_word(val, level_names, 4);
        if (l < 0)
            ERR("--%s: expected error, warn, info or debug, got \"%s\"", o->name, val);
        cfg->log_level = l;
        return RW_CLI_OK;
    }
    case K_DIR: {
        struct stat st;
        if (val[0] == '\0')
            ERR("--%s: expected a directory, got \"\"", o->name);
        if (stat(val, &st) < 0)
            ERR("--%s: \"%s\": %s", o->name, val, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            ERR("--%s: \"%s\" is not a directory", o->name, val);
        *(const char **)((char *)cfg + o->off) = val;
        return RW_CLI_OK;
    }
    case K_FILE:
        if (val[0] == '\0')
            ERR("--%s: expected a file path, got \"\"", o->name);
        *(const char **)((char *)cfg + o->off) = val;
        return RW_CLI_OK;
    case K_URLPATH:
        if (val[0] != '/' || strlen(val) > RW_CLI_MAX_URL_PATH)
            ERR("--%s: expected a path starting with '/' (at most %u bytes), got \"%s\"",
                o->name, RW_CLI_MAX_URL_PATH, val);
        for (const char *q = val; *q; q++)
            if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '?' || *q == '#')
                ERR("--%s: no spaces, control characters, '?' or '#' allowed, got \"%s\"",
                    o->name, val);
        *(const char **)((char *)cfg + o->off) = val;
        return RW_CLI_OK;
    case K_COUNT:
        if (parse_uint(val, &v) < 0)
            ERR("--%s: expected a non-negative integer, got \"%s\"", o->name, val);
        break;
    case K_BYTES:
        if (parse_bytes(val, &v) < 0)
            ERR("--%s: expected a byte count (e.g. 4096, 64k, 1m), got \"%s\"", o->name, val);
        break;
    case K_SECS:
        if (parse_secs(val, &v) < 0)
            ERR("--%s: expected seconds (e.g. 10 or 0.5), got \"%s\"", o->name, val);
        break;
    }
    if (v < o->min || v > o->max) {
        fmt_value(o, o->min, lo, sizeof lo);
        fmt_value(o, o->max, hi, sizeof hi);
        ERR("--%s: \"%s\" is out of range (%s..%s%s)", o->name, val, lo, hi,
            o->kind == K_SECS ? " seconds" : "");
    }
    if (o->pow2 && (v & (v - 1)) != 0)
        ERR("--%s: expected a power of two, got \"%s\"", o->name, val);
    field_set(cfg, o, v);
    return RW_CLI_OK;
}

/* Relations between flags, checked once all are parsed (each flag's own
 * range is checked in apply()). */
static int check_relations(const rw_config *cfg, FILE *err)
{
    /* A send of a whole --ws-max-message message (an echo) queues it plus one
     * frame header at once; a smaller queue closes every such peer with 1008. */
    uint64_t need = (uint64_t)cfg->ws_max_message + RW_WS_MAX_HEADER_LEN;
    if (cfg->ws_max_queue < need) {
        char q[32], m[32];
        fmt_bytes(cfg->ws_max_queue, q, sizeof q);
        fmt_bytes(cfg->ws_max_message, m, sizeof m);
        ERR("--ws-max-queue %s cannot hold one --ws-max-message %s message: it needs at least "
            "%" PRIu64 " bytes (the message plus a %d-byte frame header)",
            q, m, need, RW_WS_MAX_HEADER_LEN);
    }
    /* One largest body or message must fit, or it could never be accepted. */
    uint64_t biggest = cfg->max_body > cfg->ws_max_message ? cfg->max_body : cfg->ws_max_message;
    if (cfg->max_buffered_total && cfg->max_buffered_total < biggest) {
        char t[32], b[32];
        fmt_bytes(cfg->max_buffered_total, t, sizeof t);
        fmt_bytes(biggest, b, sizeof b);
        ERR("--max-buffered-total %s is smaller than one --max-body or --ws-max-message (%s)", t,
            b);
    }
    return RW_CLI_OK;
}

static const cli_opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int rw_cli_parse(int argc, char **argv, rw_config *cfg, FILE *err)
{
    rw_config_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0)
            arg = "--help";
        else if (strcmp(arg, "-V") == 0)
            arg = "--version";
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            ERR("unexpected argument \"%s\" (see --help)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find_opt(name, nlen);
        if (!o)
            ERR("unknown option \"--%.*s\" (see --help)", (int)nlen, name);
        bool takes_value = o->metavar != NULL;
        const char *val = NULL;
        if (!takes_value) {
            if (eq)
                ERR("--%s: takes no value", o->name);
        } else if (eq) {
            val = eq + 1;
        } else {
            /* A following "--x" is the next option, not this one's value. */
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                ERR("--%s: missing value (%s)", o->name, o->metavar);
            val = argv[++i];
        }
        int rc = apply(o, val, cfg, err);
        if (rc != RW_CLI_OK)
            return rc;
    }
    return check_relations(cfg, err);
}
