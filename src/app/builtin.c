/* The routes the ringwire binary serves out of the box: the TechEmpower
 * plaintext and JSON tests, a chunked streaming demo, and static files. */
#include "app/builtin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/metrics.h"
#include "app/realtime_demo.h"
#include "app/static.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/str.h"

#define RW_STREAM_DEMO_DEFAULT 10  /* chunks when ?n= is absent */
#define RW_STREAM_DEMO_MAX 10000   /* upper bound for ?n= */
#define RW_STREAM_POOL_MAX_FREE 64 /* per-thread free stream states kept */
#define RW_JSON_BUF 128            /* /json body buffer */

/* ---- /plaintext ------------------------------------------------------ */

static void handle_plaintext(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_header h = { RW_STR("Content-Type"), RW_STR("text/plain") };
    static const char body[] = "Hello, World!";
    rw_respond(req, 200, &h, 1, body, sizeof body - 1);
}

/* ---- /json: a minimal JSON writer (objects of string members) -------- */

typedef struct json_writer {
    char *p, *end;
    bool err;   /* out of space */
    bool first; /* no member written yet in the current object */
} json_writer;

static void jw_put(json_writer *w, const char *s, size_t n)
{
    if (w->err || (size_t)(w->end - w->p) < n) {
        w->err = true;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

static void jw_string(json_writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_put(w, "\"", 1);
    size_t run = 0; /* bytes copied as-is, flushed in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jw_put(w, s + run, i - run);
        run = i + 1;
        char esc[6] = { '\\', (char)c, 0 };
        if (c == '"' || c == '\\') {
            jw_put(w, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            jw_put(w, esc, 2);
        } else {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            jw_put(w, u, 6);
        }
    }
    jw_put(w, s + run, n - run);
    jw_put(w, "\"", 1);
}

static void jw_begin(json_writer *w)
{
    jw_put(w, "{", 1);
    w->first = true;
}

static void jw_member(json_writer *w, const char *key, const char *val)
{
    if (!w->first)
        jw_put(w, ",", 1);
    w->first = false;
    jw_string(w, key, strlen(key));
    jw_put(w, ":", 1);
    jw_string(w, val, strlen(val));
}

static void jw_end(json_writer *w) { jw_put(w, "}", 1); }

static void handle_json(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_header h = { RW_STR("Content-Type"), RW_STR("application/json") };
    char buf[RW_JSON_BUF];
    json_writer w = { buf, buf + sizeof buf, false, true };
    jw_begin(&w);
    jw_member(&w, "message", "Hello, World!");
    jw_end(&w);
    if (w.err) {
        static const rw_header t = { RW_STR("Content-Type"), RW_STR("text/plain") };
        rw_respond(req, 500, &t, 1, "Internal Server Error\n", 22);
        return;
    }
    rw_respond(req, 200, &h, 1, buf, (size_t)(w.p - buf));
}

/* ---- /stream: n chunks, one per produce() call ----------------------- */

typedef struct stream_state {
    unsigned next, total;
} stream_state;

/* Per-thread pool: steady-state streaming allocates nothing. */
static __thread rw_pool *tl_stream_pool;
static pthread_key_t stream_pool_key;
static pthread_once_t stream_pool_once = PTHREAD_ONCE_INIT;

static void stream_pool_destroy(void *p)
{
    rw_pool_destroy(p);
    free(p);
    if (tl_stream_pool == p)
        tl_stream_pool = NULL;
}

static void stream_pool_key_create(void)
{
    if (pthread_key_create(&stream_pool_key, stream_pool_destroy) != 0)
        rw_error("builtin: pthread_key_create failed");
}

static rw_pool *stream_pool(void)
{
    if (!tl_stream_pool) {
        pthread_once(&stream_pool_once, stream_pool_key_create);
        rw_pool *p = malloc(sizeof *p);
        if (!p)
            return NULL;
        rw_pool_init(p, sizeof(stream_state), RW_STREAM_POOL_MAX_FREE);
        pthread_setspecific(stream_pool_key, p);
        tl_stream_pool = p;
    }
    return tl_stream_pool;
}

static int stream_produce(rw_stream *st, void *ud)
{
    stream_state *s = ud;
    if (s->next >= s->total)
        return RW_STREAM_DONE;
    char line[64];
    int n = snprintf(line, sizeof line, "chunk %u of %u\n", s->next + 1, s->total);
    if (rw_stream_write(st, line, (size_t)n) < 0)
        return RW_STREAM_DONE;
    s->next++;
    return s->next >= s->total ? RW_STREAM_DONE : RW_STREAM_MORE;
}

static void stream_close(void *ud)
{
    if (tl_stream_pool)
        rw_pool_put(tl_stream_pool, ud);
    else
        free(ud); /* thread pool already gone (thread exiting) */
}

/* ?n=<decimal>; absent or malformed -> default, clamped to the max. */
static unsigned stream_count(rw_str q)
{
    size_t i = 0;
    while (i < q.n) {
        size_t s = i;
        while (i < q.n && q.p[i] != '&')
            i++;
        if (i - s > 2 && q.p[s] == 'n' && q.p[s + 1] == '=') {
            unsigned long v = 0;
            size_t j = s + 2;
            for (; j < i && q.p[j] >= '0' && q.p[j] <= '9'; j++)
                if ((v = v * 10 + (unsigned long)(q.p[j] - '0')) > RW_STREAM_DEMO_MAX)
                    v = RW_STREAM_DEMO_MAX;
            return j == i ? (unsigned)v : RW_STREAM_DEMO_DEFAULT;
        }
        i++;
    }
    return RW_STREAM_DEMO_DEFAULT;
}

static void handle_stream(rw_request *req, void *ud)
{
    (void)ud;
    static const rw_header h = { RW_STR("Content-Type"), RW_STR("text/plain") };
    rw_pool *p = stream_pool();
    stream_state *s = p ? rw_pool_get(p) : NULL;
    if (!s) {
        rw_respond(req, 503, &h, 1, "Service Unavailable\n", 20);
        return;
    }
    s->next = 0;
    s->total = stream_count(rw_req_query(req));
    rw_respond_stream(req, 200, &h, 1, -1, stream_produce, s, stream_close);
}

/* ---- registration ---------------------------------------------------- */

/* Static roots live until exit (routes have no destructor); kept reachable
 * from here so leak checkers stay quiet. */
typedef struct static_root {
    struct static_root *next;
    rw_static st;
} static_root;
static static_root *static_roots;
static pthread_mutex_t static_roots_lock = PTHREAD_MUTEX_INITIALIZER;

int rw_app_add_builtin_routes(rw_server *s, const rw_config *cfg)
{
    if (rw_server_route(s, "GET", "/plaintext", RW_ROUTE_EXACT, handle_plaintext, NULL) < 0 ||
        rw_server_route(s, "GET", "/json", RW_ROUTE_EXACT, handle_json, NULL) < 0 ||
        rw_server_route(s, "GET", "/stream", RW_ROUTE_EXACT, handle_stream, NULL) < 0) {
        rw_error("builtin: cannot register routes");
        return -1;
    }
    if (cfg->metrics && rw_metrics_add_routes(s, cfg) < 0)
        return -1;
    if (rw_app_add_realtime_routes(s, cfg) < 0)
        return -1;
    if (!cfg->root)
        return 0;
    static_root *r = malloc(sizeof *r);
    if (!r)
        return -1;
    if (rw_static_init(&r->st, cfg->root) < 0) {
        free(r);
        return -1;
    }
    pthread_mutex_lock(&static_roots_lock);
    r->next = static_roots;
    static_roots = r;
    pthread_mutex_unlock(&static_roots_lock);
    /* GET routes answer HEAD too (router). */
    if (rw_server_route(s, "GET", "/", RW_ROUTE_PREFIX, rw_static_handler, &r->st) < 0) {
        rw_error("builtin: cannot register the static route");
        return -1;
    }
    return 0;
}
