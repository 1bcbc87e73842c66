/* ringwire — public embedding API.
 *
 * A server is created from a config, given routes (method + exact or prefix
 * path -> C handler), then run. Handlers run on the worker thread that owns
 * the connection; they must not block. They answer with rw_respond() (whole
 * body), rw_respond_ext() (caller-owned body memory, e.g. an mmapped file),
 * or rw_respond_stream() (body produced in pieces by a pull callback that the
 * connection calls whenever its output queue has drained).
 *
 * Every string here is a view (pointer + length), not NUL-terminated, valid
 * only for the duration of the handler call.
 */
#ifndef RINGWIRE_H
#define RINGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RINGWIRE_VERSION "0.1.0"

/* A byte-string view. */
typedef struct rw_str {
    const char *p;
    size_t n;
} rw_str;

#define RW_STR(lit) ((rw_str){ (lit), sizeof(lit) - 1 })

typedef struct rw_header {
    rw_str name;
    rw_str value;
} rw_header;

typedef enum rw_backend_kind {
    RW_BACKEND_URING = 0,
    RW_BACKEND_EPOLL = 1,
} rw_backend_kind;

#define RW_MAX_LISTEN 8
#define RW_MAX_H2_PUSH 16 /* --h2-push rules */
#define RW_MAX_TLS_SNI 7  /* --tls-sni certificates (+ the default one) */

typedef struct rw_listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[64]; /* as given on the command line, for logs */
} rw_listen_addr;

/* Every limit and tunable. rw_config_defaults() fills in the defaults. */
typedef struct rw_config {
    rw_listen_addr listen[RW_MAX_LISTEN];
    int n_listen;
    rw_backend_kind backend;
    int threads;              /* 0 = number of online CPUs */
    bool pin_cpus;            /* pin worker i to CPU (i % ncpu) */
    int pin_cpu_base;         /* first CPU to pin to */
    unsigned ring_entries;    /* io_uring SQ entries */
    unsigned bufs;            /* provided buffers per thread (power of two) */
    unsigned buf_size;        /* bytes per provided/recv buffer */
    bool sqpoll;              /* IORING_SETUP_SQPOLL */
    unsigned send_zc_threshold; /* bytes; responses >= this use SEND_ZC (0 = never) */
    unsigned max_conns;       /* per process; over it new connections are refused */
    unsigned keepalive_timeout_ms;
    unsigned header_timeout_ms;
    /* A request body (or a WebSocket frame) that started must arrive within
     * body_timeout_ms, extended by 1 s for every body_min_rate bytes received
     * (Apache mod_reqtimeout's body=...,MinRate=...): a trickle cannot hold
     * its buffer forever. HTTP/1 answers 408 and closes. */
    unsigned body_timeout_ms;
    unsigned body_min_rate;   /* bytes per second; 0 = no extension */
    unsigned shutdown_timeout_ms; /* graceful drain bound */
    size_t max_request_line;  /* 414 beyond */
    size_t max_header_bytes;  /* 431 beyond (whole request head) */
    unsigned max_headers;     /* 431 beyond */
    size_t max_body;          /* 413 beyond */
    size_t max_buffered_total; /* request data buffered, all connections; 0 = unlimited */
    unsigned max_pipeline;    /* parsed-but-unanswered requests per connection */
    const char *root;         /* static file root, NULL = none */
    int log_level;            /* 0 error, 1 warn, 2 info, 3 debug */
    const char *access_log;   /* path or NULL */
    int access_log_format;    /* 0 common (CLF), 1 JSON lines */
    int listen_backlog;
    /* Observability (docs/profiling.md) */
    bool metrics;             /* serve Prometheus text on metrics_path (and /_status) */
    const char *metrics_path; /* must start with '/'; read when routes are registered */
    unsigned stats_interval_ms; /* log a rate line this often, 0 = off */
    /* HTTP/2 (docs/http2.md) */
    unsigned h2_max_concurrent_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS; REFUSED_STREAM beyond */
    unsigned h2_initial_window;   /* SETTINGS_INITIAL_WINDOW_SIZE we announce (request bodies) */
    unsigned h2_max_frame_size;   /* SETTINGS_MAX_FRAME_SIZE we accept */
    size_t h2_max_header_list;    /* SETTINGS_MAX_HEADER_LIST_SIZE; 431 beyond */
    const char *h2_push[RW_MAX_H2_PUSH]; /* "PATH=ASSET[,ASSET...]": push rules */
    int n_h2_push;
    /* WebSocket and SSE (docs/websocket.md) */
    size_t ws_max_frame;          /* 1009 beyond */
    size_t ws_max_message;        /* after decompression; 1009 beyond */
    size_t ws_max_queue;          /* queued output bytes per WS connection; over: send fails, 1008 */
    bool ws_no_deflate;           /* decline permessage-deflate offers */
    unsigned ws_deflate_threshold; /* messages shorter than this go uncompressed */
    unsigned sse_ping_ms;         /* keep-alive comment on idle SSE streams, 0 = off */
    size_t sse_max_queue;         /* queued event bytes per SSE stream; over: send fails, closed */
    const char *sse_cors;         /* Access-Control-Allow-Origin on SSE responses, NULL = none */
    /* TLS (docs/tls.md): on for every listener when tls_cert is set. The
     * strings are borrowed: they must outlive the server. */
    const char *tls_cert;         /* PEM certificate chain (default certificate) */
    const char *tls_key;          /* its PEM private key */
    const char *tls_sni[RW_MAX_TLS_SNI]; /* "HOST[,HOST]:CERT:KEY": chosen by SNI */
    int n_tls_sni;
    unsigned tls_min_version;     /* 12 or 13; 0 = 12 */
    const char *tls_ciphers;      /* TLS 1.2 cipher list, NULL = AEAD suites kTLS can take */
    const char *tls_ciphersuites; /* TLS 1.3 suites, NULL = the same */
    int ktls;                     /* 0 auto (use when the kernel can), 1 on (required), 2 off */
} rw_config;

void rw_config_defaults(rw_config *cfg);
/* Parses a "HOST:PORT" / "[V6]:PORT" / ":PORT" listen address. 0 or -1. */
int rw_config_add_listen(rw_config *cfg, const char *text);

typedef struct rw_server rw_server;
typedef struct rw_request rw_request;
typedef struct rw_stream rw_stream;

typedef void (*rw_handler_fn)(rw_request *req, void *ud);

enum rw_route_flags {
    RW_ROUTE_EXACT = 0,
    RW_ROUTE_PREFIX = 1,
};

/* Creates a server (does not bind yet). The config is copied. */
rw_server *rw_server_new(const rw_config *cfg);
/* method NULL = any method. Returns 0 or -1 (table full). First match wins;
 * exact routes are tried before prefix routes, longest prefix first. */
int rw_server_route(rw_server *s, const char *method, const char *path, int flags,
                    rw_handler_fn fn, void *ud);
/* Binds, starts the workers, blocks until rw_server_stop() or SIGINT/SIGTERM
 * (when install_signals is true), drains, returns 0 on clean exit. */
int rw_server_run(rw_server *s, bool install_signals);
/* Async-signal-safe: begin graceful shutdown. */
void rw_server_stop(rw_server *s);
void rw_server_free(rw_server *s);

/* ---- request (valid during the handler call) ---- */
rw_str rw_req_method(const rw_request *r);
rw_str rw_req_path(const rw_request *r);   /* raw (not percent-decoded), no query */
rw_str rw_req_query(const rw_request *r);  /* without '?', may be empty */
rw_str rw_req_target(const rw_request *r); /* request-target as sent */
int rw_req_version(const rw_request *r);   /* 10, 11, 20 */
/* Case-insensitive lookup; returns false when absent. */
bool rw_req_header(const rw_request *r, const char *name, rw_str *value);
size_t rw_req_header_count(const rw_request *r);
const rw_header *rw_req_header_at(const rw_request *r, size_t i);
rw_str rw_req_body(const rw_request *r);
bool rw_req_is_head(const rw_request *r);

/* Percent-decodes src into dst (cap bytes). Returns decoded length, or -1
 * on a malformed escape or overflow. '+' is left alone (paths, not forms). */
long rw_percent_decode(const char *src, size_t n, char *dst, size_t cap);

/* ---- responses: exactly one per request ---- */
/* Body is copied. Content-Length is added; Date/Server/Connection too. */
int rw_respond(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
               const void *body, size_t len);
/* Body memory stays owned by the caller until release(arg) is called, after
 * the bytes have been written to the socket (or the connection died).
 * release(arg) runs exactly once, even when the call fails. */
int rw_respond_ext(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                   const void *body, size_t len, void (*release)(void *), void *arg);

/* Streaming body: produce() is called (on the owning thread) whenever the
 * connection wants more; it calls rw_stream_write() zero or more times and
 * returns RW_STREAM_MORE or RW_STREAM_DONE. HTTP/1.1 uses chunked encoding
 * (content_length < 0) or Content-Length (>= 0). Never blocks the loop.
 * on_close(ud) runs exactly once: when the stream ends, when the connection
 * dies, or at once when the call fails or no body is sent (HEAD, 204, 304). */
enum { RW_STREAM_MORE = 0, RW_STREAM_DONE = 1 };
typedef int (*rw_stream_fn)(rw_stream *st, void *ud);
int rw_respond_stream(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                      int64_t content_length, rw_stream_fn produce, void *ud,
                      void (*on_close)(void *ud));
/* Copies data into the output queue. Returns 0, or -1 if the stream is dead. */
int rw_stream_write(rw_stream *st, const void *data, size_t len);
/* A producer that returned RW_STREAM_MORE without writing anything is not
 * called again until rw_stream_wake() (same thread) says it has data. */
void rw_stream_wake(rw_stream *st);

/* Server push (HTTP/2): promises a GET for path (same :authority and
 * :scheme as r, plus hdrs) on r's stream and answers it through the router
 * on a new server stream. Returns 0, or -1 when nothing was pushed (HTTP/1,
 * the client disabled push, limits, r already answered). Call before
 * responding to r. */
int rw_push(rw_request *r, const char *path, const rw_header *hdrs, size_t nhdrs);

/* Reason phrase for a status code ("OK", "Not Found", ...). */
const char *rw_status_reason(int status);

#ifdef __cplusplus
}
#endif
#endif
