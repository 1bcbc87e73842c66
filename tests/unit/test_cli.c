/* Table-driven tests of the command-line parser and listen-address parsing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/cli.h"
#include "core/log.h"
#include "ringwire/ringwire.h"
#include "ws/ws_frame.h"

#define MAXARGS 12 /* argument slots per case, the last always NULL */

/* Runs the parser on a NULL-terminated argument list (argv[0] added). */
static int run(const char *const *args, rw_config *cfg, char *errbuf, size_t cap)
{
    char *argv[MAXARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"ringwire";
    for (int i = 0; i < MAXARGS && args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&buf, &len);
    int rc = rw_cli_parse(argc, argv, cfg, err);
    fclose(err);
    snprintf(errbuf, cap, "%s", buf ? buf : "");
    free(buf);
    return rc;
}

/* Valid cases: after parsing, `check` must hold on the config. */
typedef struct ok_case {
    const char *args[MAXARGS];
    const char *what;
    int (*check)(const rw_config *c);
} ok_case;

static int c_defaults(const rw_config *c)
{
    return c->n_listen == 0 && c->backend == RW_BACKEND_URING && c->threads == 0 &&
           !c->pin_cpus && c->ring_entries == 4096 && c->bufs == 1024 && c->buf_size == 8192 &&
           !c->sqpoll && c->send_zc_threshold == 0 && c->max_conns == 16384 &&
           c->keepalive_timeout_ms == 60000 && c->header_timeout_ms == 10000 &&
           c->shutdown_timeout_ms == 10000 && c->max_request_line == 8192 &&
           c->max_header_bytes == 16384 && c->max_headers == 100 && c->max_body == 1048576 &&
           c->max_pipeline == 64 && c->root == NULL && c->log_level == RW_LOG_INFO &&
           c->access_log == NULL && c->listen_backlog == 4096 &&
           c->h2_max_concurrent_streams == 100 && c->h2_initial_window == 65535 &&
           c->h2_max_frame_size == 16384 && c->h2_max_header_list == 16384 && c->n_h2_push == 0;
}
static int c_h2_streams(const rw_config *c) { return c->h2_max_concurrent_streams == 7; }
static int c_h2_window(const rw_config *c) { return c->h2_initial_window == (1u << 20); }
static int c_h2_frame(const rw_config *c) { return c->h2_max_frame_size == 20000; }
static int c_h2_hlist(const rw_config *c) { return c->h2_max_header_list == 32768; }
static int c_h2_push(const rw_config *c)
{
    return c->n_h2_push == 2 && strcmp(c->h2_push[0], "/=/a.css,/b.js") == 0 &&
           strcmp(c->h2_push[1], "/x=/y") == 0;
}
static int c_threads4(const rw_config *c) { return c->threads == 4; }
static int c_threads0(const rw_config *c) { return c->threads == 0; }
static int c_epoll(const rw_config *c) { return c->backend == RW_BACKEND_EPOLL; }
static int c_uring(const rw_config *c) { return c->backend == RW_BACKEND_URING; }
static int c_pin(const rw_config *c) { return c->pin_cpus && !c->sqpoll; }
static int c_sqpoll(const rw_config *c) { return c->sqpoll; }
static int c_ring(const rw_config *c) { return c->ring_entries == 256; }
static int c_bufs(const rw_config *c) { return c->bufs == 4096; }
static int c_bufsize_k(const rw_config *c) { return c->buf_size == 16384; }
static int c_bufsize_m(const rw_config *c) { return c->buf_size == 1048576; }
static int c_zc_64k(const rw_config *c) { return c->send_zc_threshold == 65536; }
static int c_zc_g(const rw_config *c) { return c->send_zc_threshold == (1u << 30); }
static int c_maxconns(const rw_config *c) { return c->max_conns == 2; }
static int c_maxconns0(const rw_config *c) { return c->max_conns == 0; }
static int c_ka_half(const rw_config *c) { return c->keepalive_timeout_ms == 500; }
static int c_hdr_round(const rw_config *c) { return c->header_timeout_ms == 1235; }
static int c_body_timeout(const rw_config *c)
{
    return c->body_timeout_ms == 2500 && c->body_min_rate == 4096;
}
static int c_shut0(const rw_config *c) { return c->shutdown_timeout_ms == 0; }
static int c_shut_frac(const rw_config *c) { return c->shutdown_timeout_ms == 2250; }
static int c_reqline(const rw_config *c) { return c->max_request_line == 4096; }
static int c_hdrbytes(const rw_config *c) { return c->max_header_bytes == 65536; }
static int c_maxhdrs(const rw_config *c) { return c->max_headers == 7; }
static int c_body_g(const rw_config *c) { return c->max_body == ((size_t)2 << 30); }
static int c_body0(const rw_config *c) { return c->max_body == 0; }
static int c_buffered_4g(const rw_config *c)
{
    return c->max_body == ((size_t)2 << 30) && c->max_buffered_total == ((size_t)4 << 30);
}
static int c_buffered0(const rw_config *c) { return c->max_buffered_total == 0; }
static int c_buffered_16m(const rw_config *c) { return c->max_buffered_total == (16u << 20); }
static int c_pipe(const rw_config *c) { return c->max_pipeline == 1; }
static int c_root(const rw_config *c) { return c->root && strcmp(c->root, "/tmp") == 0; }
static int c_debug(const rw_config *c) { return c->log_level == RW_LOG_DEBUG; }
static int c_error(const rw_config *c) { return c->log_level == RW_LOG_ERROR; }
static int c_alog(const rw_config *c) { return c->access_log && strcmp(c->access_log, "/x/a.log") == 0; }
static int c_backlog(const rw_config *c) { return c->listen_backlog == 128; }
static int c_last_wins(const rw_config *c) { return c->threads == 3; }
/* The WebSocket defaults must pass the CLI's own relation check: an echo of
 * a max-size message (message + frame header) fits in the send queue. */
static int c_ws_defaults(const rw_config *c)
{
    return c->ws_max_queue >= c->ws_max_message + RW_WS_MAX_HEADER_LEN;
}
static int c_ws_min_queue(const rw_config *c)
{
    return c->ws_max_message == 1048576 && c->ws_max_queue == 1048576 + RW_WS_MAX_HEADER_LEN;
}
static int c_obs_defaults(const rw_config *c)
{
    return !c->metrics && strcmp(c->metrics_path, "/metrics") == 0 && c->stats_interval_ms == 0;
}
static int c_metrics(const rw_config *c)
{
    return c->metrics && strcmp(c->metrics_path, "/internal/m-1") == 0;
}
static int c_stats_iv(const rw_config *c) { return c->stats_interval_ms == 2500; }

static int is_v4(const rw_listen_addr *a, const char *ip, unsigned port)
{
    const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
    struct in_addr want;
    inet_pton(AF_INET, ip, &want);
    return s->sin_family == AF_INET && s->sin_addr.s_addr == want.s_addr &&
           ntohs(s->sin_port) == port && a->len == sizeof *s;
}
static int is_v6(const rw_listen_addr *a, const char *ip, unsigned port)
{
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    struct in6_addr want;
    inet_pton(AF_INET6, ip, &want);
    return s->sin6_family == AF_INET6 && memcmp(&s->sin6_addr, &want, sizeof want) == 0 &&
           ntohs(s->sin6_port) == port && a->len == sizeof *s;
}
static int c_l_v4(const rw_config *c) { return c->n_listen == 1 && is_v4(&c->listen[0], "127.0.0.1", 8080); }
static int c_l_any80(const rw_config *c) { return c->n_listen == 1 && is_v4(&c->listen[0], "0.0.0.0", 80); }
static int c_l_v6lo(const rw_config *c) { return c->n_listen == 1 && is_v6(&c->listen[0], "::1", 8080); }
static int c_l_v6any(const rw_config *c) { return c->n_listen == 1 && is_v6(&c->listen[0], "::", 8080); }
static int c_l_port(const rw_config *c)
{
    return c->n_listen == 1 && is_v4(&c->listen[0], "0.0.0.0", 8080) &&
           strcmp(c->listen[0].text, "0.0.0.0:8080") == 0;
}
static int c_l_two(const rw_config *c)
{
    return c->n_listen == 2 && is_v4(&c->listen[0], "127.0.0.1", 1) &&
           is_v6(&c->listen[1], "::1", 65535) && strcmp(c->listen[1].text, "[::1]:65535") == 0;
}
static int c_tls(const rw_config *c)
{
    return c->tls_cert && strcmp(c->tls_cert, "/c.pem") == 0 && c->tls_key &&
           strcmp(c->tls_key, "/k.pem") == 0 && c->tls_min_version == 13 && c->ktls == 2 &&
           c->n_tls_sni == 2 && strcmp(c->tls_sni[1], "b.test,*.c.test:/b.pem:/bk.pem") == 0;
}
static int c_alog_json(const rw_config *c) { return c->access_log_format == 1; }
static int c_ktls_on(const rw_config *c) { return c->ktls == 1 && c->tls_min_version != 13; }
static int c_combo(const rw_config *c)
{
    return c->backend == RW_BACKEND_EPOLL && c->threads == 2 && c->pin_cpus &&
           c->max_body == 65536 && c->n_listen == 1 && c->keepalive_timeout_ms == 5000;
}

static const ok_case ok_cases[] = {
    { { NULL }, "no arguments = defaults", c_defaults },
    { { "--threads", "4" }, "threads separate", c_threads4 },
    { { "--threads=4" }, "threads =", c_threads4 },
    { { "--threads=0" }, "threads 0 = auto", c_threads0 },
    { { "--threads", "1", "--threads=3" }, "last value wins", c_last_wins },
    { { "--backend", "epoll" }, "backend epoll", c_epoll },
    { { "--backend=uring" }, "backend uring", c_uring },
    { { "--pin-cpus" }, "pin-cpus", c_pin },
    { { "--sqpoll" }, "sqpoll", c_sqpoll },
    { { "--ring-entries", "256" }, "ring entries", c_ring },
    { { "--bufs=4096" }, "bufs pow2", c_bufs },
    { { "--buf-size", "16k" }, "buf-size k", c_bufsize_k },
    { { "--buf-size=1M" }, "buf-size M", c_bufsize_m },
    { { "--send-zc-threshold=64k" }, "zc 64k", c_zc_64k },
    { { "--send-zc-threshold", "1g" }, "zc 1g", c_zc_g },
    { { "--max-conns", "2" }, "max-conns", c_maxconns },
    { { "--max-conns=0" }, "max-conns unlimited", c_maxconns0 },
    { { "--keepalive-timeout", "0.5" }, "keepalive decimal", c_ka_half },
    { { "--header-timeout=1.2345" }, "header timeout rounds to ms", c_hdr_round },
    { { "--shutdown-timeout", "0" }, "shutdown 0", c_shut0 },
    { { "--body-timeout=2.5", "--body-min-rate", "4k" }, "body timeout", c_body_timeout },
    { { "--shutdown-timeout=2.25" }, "shutdown decimal", c_shut_frac },
    { { "--max-request-line", "4k" }, "request line", c_reqline },
    { { "--max-header-bytes=64K" }, "header bytes", c_hdrbytes },
    { { "--max-headers", "7" }, "max headers", c_maxhdrs },
    { { "--max-body", "2g", "--max-buffered-total=0" }, "max body g", c_body_g },
    { { "--max-body", "2g", "--max-buffered-total", "4g" }, "buffered 4g", c_buffered_4g },
    { { "--max-buffered-total=0", "--max-body=2g" }, "buffered unlimited", c_buffered0 },
    { { "--max-buffered-total=16m" }, "buffered = largest message", c_buffered_16m },
    { { "--max-body=0" }, "max body 0", c_body0 },
    { { "--max-pipeline", "1" }, "pipeline", c_pipe },
    { { "--root", "/tmp" }, "root dir", c_root },
    { { "--log-level=debug" }, "log debug", c_debug },
    { { "--log-level", "error" }, "log error", c_error },
    { { "--access-log", "/x/a.log" }, "access log path", c_alog },
    { { "--backlog=128" }, "backlog", c_backlog },
    { { "--h2-max-concurrent-streams", "7" }, "h2 streams", c_h2_streams },
    { { "--h2-initial-window=1m" }, "h2 window", c_h2_window },
    { { "--h2-max-frame-size=20000" }, "h2 frame size", c_h2_frame },
    { { "--h2-max-header-list", "32k" }, "h2 header list", c_h2_hlist },
    { { "--h2-push", "/=/a.css,/b.js", "--h2-push=/x=/y" }, "h2 push rules", c_h2_push },
    { { NULL }, "observability defaults", c_obs_defaults },
    { { "--metrics", "--metrics-path", "/internal/m-1" }, "metrics + path", c_metrics },
    { { "--stats-interval=2.5" }, "stats interval", c_stats_iv },
    { { "--listen", "127.0.0.1:8080" }, "listen v4", c_l_v4 },
    { { "--listen=0.0.0.0:80" }, "listen any 80", c_l_any80 },
    { { "--listen", "[::1]:8080" }, "listen v6 loopback", c_l_v6lo },
    { { "--listen", "[::]:8080" }, "listen v6 any", c_l_v6any },
    { { "--listen", ":8080" }, "listen :port", c_l_port },
    { { "--listen", "127.0.0.1:1", "--listen=[::1]:65535" }, "listen twice", c_l_two },
    { { "--tls-cert", "/c.pem", "--tls-key=/k.pem", "--tls-min-version", "1.3", "--ktls", "off",
        "--tls-sni", "a.test:/a.pem:/ak.pem", "--tls-sni", "b.test,*.c.test:/b.pem:/bk.pem" },
      "tls flags", c_tls },
    { { "--ktls=on" }, "ktls on", c_ktls_on },
    { { "--access-log-format", "json" }, "access log json", c_alog_json },
    { { "--backend=epoll", "--threads", "2", "--pin-cpus", "--max-body", "64k",
        "--listen", ":1", "--keepalive-timeout=5" }, "combination", c_combo },
    { { NULL }, "ws defaults: queue holds a max-size echo", c_ws_defaults },
    { { "--ws-max-message=1m", "--ws-max-queue=1048590" }, "ws smallest queue", c_ws_min_queue },
};

/* Invalid cases: rc 2, exactly one line on err, containing `needle`. */
typedef struct bad_case {
    const char *args[MAXARGS];
    const char *needle;
} bad_case;

static const bad_case bad_cases[] = {
    { { "--tls-sni", "bad" }, "--tls-sni: expected HOST[,HOST]:CERT:KEY" },
    { { "--tls-min-version", "1.1" }, "--tls-min-version: expected 1.2 or 1.3" },
    { { "--ktls", "maybe" }, "--ktls: expected auto, on or off" },
    { { "--access-log-format=xml" }, "--access-log-format: expected common or json" },
    { { "--tls-cert", "/x", "--tls-key" }, "--tls-key: missing value" },
    { { "--threads", "x" }, "--threads: expected a non-negative integer, got \"x\"" },
    { { "--threads" }, "--threads: missing value" },
    { { "--threads", "--sqpoll" }, "--threads: missing value" },
    { { "--threads=" }, "--threads: expected" },
    { { "--threads=-1" }, "--threads" },
    { { "--threads=+1" }, "--threads" },
    { { "--threads=4x" }, "--threads" },
    { { "--threads= 4" }, "--threads" },
    { { "--threads=99999" }, "--threads: \"99999\" is out of range" },
    { { "--threads=99999999999999999999999" }, "--threads" },
    { { "--bogus" }, "unknown option \"--bogus\"" },
    { { "--bogus=1" }, "unknown option \"--bogus\"" },
    { { "-x" }, "unexpected argument \"-x\"" },
    { { "positional" }, "unexpected argument \"positional\"" },
    { { "--" }, "unexpected argument" },
    { { "--sqpoll=1" }, "--sqpoll: takes no value" },
    { { "--pin-cpus=yes" }, "--pin-cpus: takes no value" },
    { { "--backend", "kqueue" }, "--backend: expected uring or epoll, got \"kqueue\"" },
    { { "--backend=" }, "--backend" },
    { { "--ring-entries=0" }, "--ring-entries: \"0\" is out of range" },
    { { "--ring-entries=65536" }, "--ring-entries" },
    { { "--bufs=1000" }, "--bufs: expected a power of two" },
    { { "--bufs=0" }, "--bufs" },
    { { "--bufs=65536" }, "--bufs" },
    { { "--buf-size=1" }, "--buf-size: \"1\" is out of range" },
    { { "--buf-size=8q" }, "--buf-size: expected a byte count" },
    { { "--buf-size=k" }, "--buf-size" },
    { { "--buf-size=1kk" }, "--buf-size" },
    { { "--buf-size=99999999999999999999g" }, "--buf-size" },
    { { "--send-zc-threshold=8g" }, "--send-zc-threshold" },
    { { "--max-conns=-5" }, "--max-conns" },
    { { "--keepalive-timeout=0" }, "--keepalive-timeout: \"0\" is out of range" },
    { { "--keepalive-timeout=0.0001" }, "--keepalive-timeout" },
    { { "--keepalive-timeout=1." }, "--keepalive-timeout: expected seconds" },
    { { "--keepalive-timeout=.5" }, "--keepalive-timeout" },
    { { "--keepalive-timeout=1e3" }, "--keepalive-timeout" },
    { { "--keepalive-timeout=1.2.3" }, "--keepalive-timeout" },
    { { "--header-timeout=abc" }, "--header-timeout" },
    { { "--body-timeout=0" }, "--body-timeout" },
    { { "--shutdown-timeout=100000" }, "--shutdown-timeout" },
    { { "--shutdown-timeout=-1" }, "--shutdown-timeout" },
    { { "--max-request-line=10" }, "--max-request-line" },
    { { "--max-header-bytes=1g" }, "--max-header-bytes" },
    { { "--max-headers=0" }, "--max-headers" },
    { { "--max-body=2t" }, "--max-body" },
    { { "--max-body=2g" },
      "--max-buffered-total 256m is smaller than one --max-body or --ws-max-message (2g)" },
    { { "--max-buffered-total=16m", "--ws-max-message=17m", "--ws-max-queue=64m" },
      "--max-buffered-total 16m is smaller than one --max-body or --ws-max-message (17m)" },
    { { "--max-buffered-total=-1" }, "--max-buffered-total" },
    { { "--max-body=2048g" }, "--max-body" },
    { { "--max-pipeline=0" }, "--max-pipeline" },
    { { "--root", "/nonexistent/ringwire" }, "--root: \"/nonexistent/ringwire\"" },
    { { "--root=/etc/passwd" }, "--root: \"/etc/passwd\" is not a directory" },
    { { "--root=" }, "--root" },
    { { "--log-level=trace" }, "--log-level: expected error, warn, info or debug" },
    { { "--access-log=" }, "--access-log" },
    { { "--backlog=0" }, "--backlog" },
    { { "--metrics=1" }, "--metrics: takes no value" },
    { { "--metrics-path", "metrics" }, "--metrics-path: expected a path starting with '/'" },
    { { "--metrics-path=" }, "--metrics-path: expected a path" },
    { { "--metrics-path=/a b" }, "--metrics-path: no spaces" },
    { { "--metrics-path=/m?x=1" }, "--metrics-path: no spaces" },
    { { "--metrics-path=/m#f" }, "--metrics-path: no spaces" },
    { { "--stats-interval=-1" }, "--stats-interval" },
    { { "--stats-interval=100000" }, "--stats-interval: \"100000\" is out of range" },
    { { "--h2-max-concurrent-streams=0" }, "--h2-max-concurrent-streams" },
    { { "--h2-initial-window=2g" }, "--h2-initial-window" },
    { { "--h2-max-frame-size=16383" }, "--h2-max-frame-size" },
    { { "--h2-max-frame-size=16m" }, "--h2-max-frame-size" },
    { { "--h2-max-header-list=100" }, "--h2-max-header-list" },
    { { "--h2-push=/x" }, "--h2-push: expected" },
    { { "--h2-push=x=/y" }, "--h2-push: expected" },
    { { "--h2-push=/x=/y,z" }, "--h2-push: assets" },
    { { "--backlog=70000" }, "--backlog" },
    { { "--listen", "8080" }, "--listen: invalid address \"8080\"" },
    { { "--listen", "127.0.0.1" }, "--listen" },
    { { "--listen", "127.0.0.1:" }, "--listen" },
    { { "--listen", "127.0.0.1:0" }, "--listen" },
    { { "--listen", "127.0.0.1:65536" }, "--listen" },
    { { "--listen", "127.0.0.1:80x" }, "--listen" },
    { { "--listen", "127.0.0.1:-80" }, "--listen" },
    { { "--listen", "256.0.0.1:80" }, "--listen" },
    { { "--listen", "localhost:80" }, "--listen" },
    { { "--listen", "::1:8080" }, "--listen" },
    { { "--listen", "[::1]8080" }, "--listen" },
    { { "--listen", "[::1]:" }, "--listen" },
    { { "--listen", "[]:80" }, "--listen" },
    { { "--listen", "[1.2.3.4]:80" }, "--listen" },
    { { "--listen", "[::1:80" }, "--listen" },
    { { "--listen=" }, "--listen" },
    { { "--listen=:1", "--listen=:2", "--listen=:3", "--listen=:4", "--listen=:5",
        "--listen=:6", "--listen=:7", "--listen=:8", "--listen=:9" }, "--listen: at most 8" },
    { { "--threads=2", "--max-body=big" }, "--max-body" },
    { { "--ws-max-message=1m", "--ws-max-queue=1048589" },
      "--ws-max-queue 1048589 cannot hold one --ws-max-message 1m message: it needs at least "
      "1048590 bytes" },
    { { "--ws-max-queue=4m" }, "--ws-max-queue 4m cannot hold one --ws-max-message 16m" },
    { { "--ws-max-message=64m" }, "--ws-max-queue 32m cannot hold one --ws-max-message 64m" },
};

static void test_ok(void)
{
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const ok_case *t = &ok_cases[i];
        rw_config cfg;
        char err[512];
        int rc = run(t->args, &cfg, err, sizeof err);
        CHECK(rc == RW_CLI_OK, "%s: rc %d, err \"%s\"", t->what, rc, err);
        CHECK(err[0] == '\0', "%s: unexpected output \"%s\"", t->what, err);
        CHECK(rc == RW_CLI_OK && t->check(&cfg), "%s: config check failed", t->what);
    }
}

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *t = &bad_cases[i];
        rw_config cfg;
        char err[512];
        int rc = run(t->args, &cfg, err, sizeof err);
        const char *arg0 = t->args[0];
        CHECK(rc == RW_CLI_ERROR, "%s: rc %d, want 2", arg0, rc);
        size_t len = strlen(err);
        const char *nl = strchr(err, '\n');
        CHECK(len > 0 && nl == err + len - 1, "%s: want exactly one line, got \"%s\"", arg0, err);
        CHECK(strncmp(err, "ringwire: ", 10) == 0, "%s: missing prefix: \"%s\"", arg0, err);
        CHECK(strstr(err, t->needle) != NULL, "%s: \"%s\" lacks \"%s\"", arg0, err, t->needle);
    }
}

static void test_listen_limit(void)
{
    /* Exactly RW_MAX_LISTEN addresses are accepted; one more is an error. */
    const char *eight[MAXARGS] = { "--listen=:1", "--listen=:2", "--listen=:3", "--listen=:4",
                                   "--listen=:5", "--listen=:6", "--listen=:7", "--listen=:8" };
    rw_config cfg;
    char err[512];
    int rc = run(eight, &cfg, err, sizeof err);
    CHECK(rc == RW_CLI_OK && cfg.n_listen == RW_MAX_LISTEN, "8 listens: rc %d n %d", rc,
          cfg.n_listen);
    CHECK(rw_config_add_listen(&cfg, ":9") == -1, "9th listen address accepted");
    CHECK(cfg.n_listen == RW_MAX_LISTEN, "failed add changed n_listen");
    rw_config_defaults(&cfg);
    CHECK(rw_config_add_listen(&cfg, "1.2.3.4:5x") == -1 && cfg.n_listen == 0,
          "bad add changed n_listen");
}

static void test_help_version(void)
{
    rw_config cfg;
    char err[512];
    /* --help / --version print to stdout; silence it for the test. */
    fflush(stdout);
    FILE *saved = stdout;
    char *buf = NULL;
    size_t len = 0;
    stdout = open_memstream(&buf, &len);
    int rc1 = run((const char *[]){ "--help", NULL }, &cfg, err, sizeof err);
    int rc2 = run((const char *[]){ "--version", NULL }, &cfg, err, sizeof err);
    int rc3 = run((const char *[]){ "--threads=2", "-h", "--bogus", NULL }, &cfg, err, sizeof err);
    fclose(stdout);
    stdout = saved;
    CHECK(rc1 == RW_CLI_EXIT && rc2 == RW_CLI_EXIT && rc3 == RW_CLI_EXIT,
          "help/version rc %d %d %d", rc1, rc2, rc3);
    CHECK(buf && strstr(buf, "ringwire " RINGWIRE_VERSION "\n"), "version line missing");
    free(buf);

    /* Usage lists every flag, with its default. */
    buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    rw_cli_usage(f);
    fclose(f);
    static const char *const want[] = {
        "--listen ADDR:PORT", "(default: 0.0.0.0:8080)", "--backend uring|epoll",
        "(default: uring)", "--threads N", "--pin-cpus", "--ring-entries N", "(default: 4096)",
        "--bufs N", "--buf-size BYTES", "(default: 8k)", "--sqpoll", "--send-zc-threshold BYTES",
        "(default: 0)",
        "--max-conns N", "(default: 16384)", "--keepalive-timeout SECS",
        "(default: 60)", "--header-timeout SECS", "--shutdown-timeout SECS", "(default: 10)",
        "--max-request-line BYTES", "--max-header-bytes BYTES", "(default: 16k)",
        "--max-headers N", "(default: 100)", "--max-body BYTES", "(default: 1m)",
        "--max-pipeline N", "(default: 64)", "--root DIR", "--log-level LEVEL",
        "(default: info)", "--access-log FILE", "--backlog N", "--help", "--version",
        "--h2-max-concurrent-streams N", "--h2-initial-window BYTES", "(default: 65535)",
        "--h2-max-frame-size BYTES", "--h2-max-header-list BYTES", "--h2-push PATH=ASSET",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(buf && strstr(buf, want[i]), "usage lacks \"%s\"", want[i]);
    free(buf);
}

int main(void)
{
    test_ok();
    test_bad();
    test_listen_limit();
    test_help_version();
    return check_summary("cli");
}
