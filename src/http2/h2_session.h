/* The HTTP/2 engine on a connection (RFC 9113): connection state, streams,
 * flow control, scheduling and push. The connection layer calls it through
 * rw_h2_engine (conn/engine.h) once a connection switched to HTTP/2 (TLS
 * ALPN "h2", client preface on a fresh connection, or Upgrade: h2c: the
 * server registers it under those tokens). docs/http2.md describes the
 * design.
 *
 * Split by concern:
 *   h2_conn.c   preface, frame loop, SETTINGS/PING/GOAWAY/WINDOW_UPDATE,
 *               connection flow control, flood limits, connection errors
 *   h2_stream.c stream table and state machine, request assembly and
 *               validation, dispatch, responses (HEADERS), stream errors
 *   h2_sched.c  DATA scheduling across streams (RFC 9218 urgency, round
 *               robin), streaming producers
 *   h2_push.c   server push (rw_push)
 * Everything here runs on the connection's worker thread. */
#ifndef RW_HTTP2_H2_SESSION_H
#define RW_HTTP2_H2_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn.h"
#include "conn/engine.h"
#include "conn/request.h"
#include "core/dlist.h"
#include "http2/frame.h"
#include "http2/h2_engine.h"
#include "http2/hpack.h"

/* ---- limits (config fields have their own defaults in core/config.c) ---- */
#define RW_H2_SETTINGS_TIMEOUT_MS 10000  /* our SETTINGS must be ACKed within this */
#define RW_H2_FLOOD_WINDOW_MS 1000       /* flood counters restart every window */
#define RW_H2_MAX_PINGS 100              /* PING frames per window */
#define RW_H2_MAX_SETTINGS 100           /* SETTINGS frames per window */
#define RW_H2_MAX_EMPTY_DATA 100         /* empty DATA without END_STREAM per window */
#define RW_H2_MAX_RESETS 200             /* client RST_STREAM of unfinished streams per window */
#define RW_H2_MAX_REFUSED 200            /* streams refused (over MAX_CONCURRENT) per window */
#define RW_H2_MAX_CONTINUATIONS 64       /* CONTINUATION frames per header block */
#define RW_H2_MAX_CONTROL_QUEUED (256 * 1024) /* queued control output: client not reading */
#define RW_H2_HBLOCK_FACTOR 2            /* encoded header block <= factor x header list limit */
#define RW_H2_RECENT_CLOSED 16           /* closed stream ids remembered (STREAM_CLOSED vs idle) */
#define RW_H2_STREAM_LOW_WATER 16384     /* call a streaming producer below this many buffered bytes */
#define RW_H2_HPACK_TABLE RW_HPACK_DEFAULT_TABLE_SIZE /* our decoder table; encoder table cap */
#define RW_H2_MAX_PUSH_PER_STREAM 8      /* rw_push calls answered per request stream */

typedef enum rw_h2_stream_state {
    RW_H2_ST_OPEN = 0,        /* request headers received, body may follow */
    RW_H2_ST_HALF_REMOTE = 1, /* END_STREAM received: we answer */
    RW_H2_ST_RESERVED = 2,    /* pushed stream, PUSH_PROMISE sent */
    RW_H2_ST_CLOSED = 3,      /* done; freed as soon as nothing refers to it */
} rw_h2_stream_state;

typedef enum rw_h2_body_kind {
    RW_H2_BODY_NONE = 0, /* nothing queued (response not started, or all sent) */
    RW_H2_BODY_BUF,      /* body copy owned by the stream (owned) */
    RW_H2_BODY_EXT,      /* caller memory, released after the last byte is written */
    RW_H2_BODY_STREAM,   /* pull producer; bytes buffered in owned */
} rw_h2_body_kind;

struct rw_h2_session;

typedef struct rw_h2_stream {
    rw_stream st; /* must stay first: rw_stream * <-> stream */
    struct rw_h2_session *s;
    uint32_t id;
    uint8_t state;          /* rw_h2_stream_state */
    uint8_t urgency;        /* RFC 9218 u (0..7, default 3) */
    bool incremental;       /* RFC 9218 i */
    bool is_head;
    bool responded;         /* response HEADERS queued */
    bool end_sent;          /* END_STREAM queued (or stream reset) */
    bool rejected;          /* answered early (413/431): discard the rest of the body */
    bool dispatched;
    bool in_sched;          /* on s->ready */
    bool pushed;            /* server-initiated */
    uint8_t npush;          /* rw_push calls answered on this request */
    int64_t send_window;    /* peer's window for this stream */
    int64_t recv_window;    /* what the peer may still send us */
    uint32_t recv_unacked;  /* DATA consumed since our last stream WINDOW_UPDATE */
    int64_t content_length; /* request content-length, -1 if absent */
    uint64_t body_seen;     /* DATA payload received */
    /* request kept while the body arrives: packed header copy + body */
    char *req_copy;         /* rw_header array followed by the strings */
    size_t req_nheaders;
    rw_str req_method, req_path, req_authority, req_scheme;
    char *body;
    size_t body_len, body_cap;
    /* response body */
    uint8_t kind;           /* rw_h2_body_kind */
    const char *data;       /* BUF/EXT: bytes; STREAM: owned buffer */
    size_t data_len, data_off;
    char *owned;            /* BUF: the copy; STREAM: buffer (cap owned_cap) */
    size_t owned_cap;
    void (*release)(void *);
    void *arg;
    int file_fd;            /* EXT: data maps this file at file_off (read it with pread), or -1 */
    uint64_t file_off;
    bool ext_queued;        /* some EXT piece is in the output queue */
    rw_stream_fn produce;
    void *ud;
    void (*on_close)(void *);
    bool waiting;           /* producer had nothing: wait for rw_stream_wake() */
    bool produce_done;      /* producer returned RW_STREAM_DONE */
    int64_t stream_left;    /* announced content-length left (-1: none) */
    uint64_t sent;          /* DATA bytes queued, for the access log */
    rw_dlist link;          /* s->streams */
    rw_dlist sched_link;    /* s->ready */
    struct rw_h2_stream *free_next;
} rw_h2_stream;

/* What the header block being collected belongs to. */
typedef enum rw_h2_block_kind {
    RW_H2_BLOCK_NEW = 0,  /* a new request stream */
    RW_H2_BLOCK_TRAILERS, /* trailers of an open stream */
    RW_H2_BLOCK_DISCARD,  /* decode only (HPACK sync), then the recorded action */
} rw_h2_block_kind;

typedef struct rw_h2_session {
    rw_conn *c;
    bool preface_ok;
    bool settings_acked;     /* our SETTINGS were ACKed */
    bool goaway_sent;
    bool goaway_recv;
    bool dead;               /* connection error sent: read nothing more */
    bool in_sched, sched_again;
    bool push_enabled;       /* peer's SETTINGS_ENABLE_PUSH */
    uint64_t settings_sent_ms;
    uint32_t last_client_id; /* highest client stream id seen */
    uint32_t next_push_id;   /* next even id for PUSH_PROMISE */
    uint32_t recent_closed[RW_H2_RECENT_CLOSED];
    unsigned recent_pos;
    uint32_t reset_sent[RW_H2_RECENT_CLOSED]; /* streams we reset: late frames are ignored */
    unsigned reset_pos;
    uint64_t last_data_ms;   /* last DATA queued (or window opened): stall detection */
    /* our settings */
    uint32_t max_streams, our_initial_window, our_max_frame, max_header_list;
    /* peer settings */
    uint32_t peer_initial_window, peer_max_frame, peer_max_streams;
    /* connection flow control */
    int64_t send_window;
    int64_t recv_window;
    uint32_t recv_unacked;
    /* header block being collected (HEADERS without END_HEADERS) */
    uint32_t cont_stream;    /* != 0 while CONTINUATION is expected */
    uint8_t cont_kind;       /* rw_h2_block_kind */
    uint32_t cont_discard_code; /* RW_H2_BLOCK_DISCARD: stream error to send, or 0 */
    bool cont_end_stream;
    unsigned cont_frames;
    uint8_t *hblock;
    size_t hblock_len, hblock_cap;
    size_t skip;             /* bytes of a rejected frame still to discard */
    /* HPACK + scratch */
    rw_hpack_decoder dec;
    rw_hpack_encoder enc;
    rw_hpack_field *fields;  /* decoded fields (max_fields) */
    size_t max_fields;
    char *scratch;           /* decoder strings (max_header_list bytes) */
    rw_header *hdrs;         /* request headers for the handler (max_fields + 1) */
    uint8_t *enc_buf;        /* encoded response block (grows rarely) */
    size_t enc_cap;
    rw_hpack_field *rfields; /* response fields (grows rarely) */
    size_t rfields_cap;
    char *lower;             /* lower-cased response header names (grows rarely) */
    size_t lower_cap;
    /* streams */
    rw_dlist streams;        /* every live stream */
    rw_dlist ready;          /* streams with response DATA to send */
    unsigned nstreams;       /* client streams not closed (MAX_CONCURRENT_STREAMS) */
    unsigned npushed;        /* pushed streams not closed */
    rw_h2_stream *free_list; /* recycled stream objects */
    unsigned nfree;
    /* flood accounting */
    uint64_t flood_start_ms;
    unsigned n_ping, n_settings, n_empty_data, n_resets, n_refused;
} rw_h2_session;

/* ---- the engine (rw_h2_engine: http2/h2_engine.h) ---- */

/* The session behind a connection running rw_h2_engine. */
static inline struct rw_h2_session *rw_h2_of(const rw_conn *c)
{
    return c->engine == &rw_h2_engine ? (struct rw_h2_session *)c->session : NULL;
}

/* ---- internal (between the h2_*.c files) ---- */

extern const rw_responder rw_h2_responder;

/* h2_conn.c */
void rw_h2_conn_error(rw_h2_session *s, uint32_t code, const char *why);
int rw_h2_queue(rw_h2_session *s, const void *p, size_t n); /* copy into output; -1 dead */
void rw_h2_send_rst(rw_h2_session *s, uint32_t id, uint32_t code);
void rw_h2_maybe_finish(rw_h2_session *s); /* GOAWAY done and no streams: close */
bool rw_h2_flood(rw_h2_session *s, unsigned *counter, unsigned limit, const char *what);

/* h2_stream.c */
rw_h2_stream *rw_h2_stream_find(rw_h2_session *s, uint32_t id);
rw_h2_stream *rw_h2_stream_new(rw_h2_session *s, uint32_t id);
/* Releases the response body and producer, unlinks and recycles the stream. */
void rw_h2_stream_close(rw_h2_stream *st);
/* RST_STREAM(code) and close. */
void rw_h2_stream_error(rw_h2_stream *st, uint32_t code);
bool rw_h2_recently_closed(const rw_h2_session *s, uint32_t id);
bool rw_h2_we_reset(const rw_h2_session *s, uint32_t id);
/* A complete header block for stream id (HEADERS [+ CONTINUATION]). */
void rw_h2_on_header_block(rw_h2_session *s, uint32_t id, uint8_t kind, uint32_t discard_code,
                           bool end_stream, const uint8_t *block, size_t len);
void rw_h2_on_data(rw_h2_session *s, rw_h2_stream *st, const uint8_t *p, size_t n, bool end);
/* Request complete (END_STREAM): validate and dispatch. */
void rw_h2_request_done(rw_h2_stream *st);
/* Runs the router on a request whose pseudo-headers and headers are in
 * s->hdrs[0..nh); used by push for its synthetic request too. */
void rw_h2_dispatch(rw_h2_stream *st, rw_str method, rw_str path, const rw_header *hdrs,
                    size_t nh, rw_str body);
/* Encodes and queues a HEADERS block (+CONTINUATION) for a response. */
int rw_h2_send_response_headers(rw_h2_stream *st, int status, const rw_header *h, size_t nh,
                                int64_t clen, bool end_stream);
/* The stream's last frame was queued: closes it when the peer is done too. */
void rw_h2_stream_end_local(rw_h2_stream *st);
/* Encodes fields into s->enc_buf; returns the length or -1. */
long rw_h2_encode_fields(rw_h2_session *s, const rw_hpack_field *f, size_t n);

/* h2_sched.c */
void rw_h2_sched_add(rw_h2_stream *st);
void rw_h2_sched_remove(rw_h2_stream *st);
/* Produces DATA for ready streams while windows and the output queue allow. */
void rw_h2_sched_run(rw_h2_session *s);
/* True when a response has waited for flow-control window (peer's
 * WINDOW_UPDATE) longer than limit_ms without any DATA going out. */
bool rw_h2_sched_stalled(rw_h2_session *s, uint64_t now, uint64_t limit_ms);
/* Parses an RFC 9218 priority field value into st. */
void rw_h2_parse_priority(rw_h2_stream *st, rw_str v);

/* h2_push.c */
/* True if r is an HTTP/2 request (its responder is ours). */
bool rw_h2_is_request(const rw_request *r);

#endif
