/* Static file handler. Path safety is layered: the decoded path is
 * normalized and refused if it holds NUL, '\\' or a ".." segment, then
 * opened relative to the root dirfd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) (or, without openat2, walked one component at a
 * time with O_NOFOLLOW, i.e. no symlinks at all). Contents live in a
 * per-thread refcounted cache; a response holds a reference until the
 * engine has written the bytes. */
#include "app/static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "app/mime.h"
#include "conn/request.h"
#include "core/clock.h"
#include "core/dlist.h"
#include "core/log.h"
#include "core/str.h"
#include "http1/parser.h"

#define RW_STATIC_ETAG_MAX 40 /* '"' + 16 hex + '-' + 16 hex + '"' */
#define RW_STATIC_RANGE_HDR_MAX 64
#define RW_STATIC_LOCATION_MAX (RW_STATIC_PATH_MAX * 3 + 512)

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) /* NONBLOCK: FIFOs */

typedef struct rw_static_entry {
    struct rw_static_entry *hnext; /* bucket chain */
    rw_dlist lru;                  /* head = least recently used */
    uint64_t static_id;
    uint32_t hash;
    unsigned refs;                 /* cache (when cached) + in-flight responses */
    bool cached;
    bool mapped;                   /* data is an mmap (else malloc or NULL) */
    int fd;                        /* mapped: the file, for pread by userspace readers */
    const char *data;
    size_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtim;
    uint64_t checked_ms;
    rw_str ctype;
    char etag[RW_STATIC_ETAG_MAX];
    size_t etag_len;
    char lastmod[RW_DATE_LEN + 1];
    char *rel;                     /* resolved path under the root, for re-stat */
    size_t key_len;
    char key[];                    /* normalized request path, then rel */
} rw_static_entry;

typedef struct rw_static_cache {
    rw_static_entry *buckets[RW_STATIC_CACHE_BUCKETS];
    rw_dlist lru;
    rw_static_cache_stats st;
} rw_static_cache;

_Static_assert((RW_STATIC_CACHE_BUCKETS & (RW_STATIC_CACHE_BUCKETS - 1)) == 0,
               "bucket count must be a power of two");
_Static_assert(RW_STATIC_CACHE_MAX_FILE <= RW_STATIC_CACHE_MAX_BYTES, "cache limits");

static __thread rw_static_cache *tl_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t next_static_id = 1;

/* ---- entries --------------------------------------------------------- */

static void entry_unref(rw_static_entry *e)
{
    if (--e->refs > 0)
        return;
    if (e->mapped) {
        munmap((void *)e->data, e->size);
        close(e->fd);
    } else
        free((void *)e->data);
    free(e);
}

/* release callback handed to rw_respond_ext(). */
static void entry_release(void *arg) { entry_unref(arg); }

static uint64_t mtime_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static bool same_file(const rw_static_entry *e, const struct stat *sb)
{
    return e->dev == sb->st_dev && e->ino == sb->st_ino && (off_t)e->size == sb->st_size &&
           e->mtim.tv_sec == sb->st_mtim.tv_sec && e->mtim.tv_nsec == sb->st_mtim.tv_nsec;
}

static int read_all(int fd, char *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* error, or the file shrank under us */
        got += (size_t)n;
    }
    return 0;
}

/* Builds an entry (refs = 1, owned by the caller) from an open regular file;
 * a mapped entry takes the fd over (*fdp = -1), the caller closes it otherwise. */
static rw_static_entry *entry_create(const rw_static *st, int *fdp, const struct stat *sb,
                                     const char *key, size_t key_len, const char *rel,
                                     size_t rel_len)
{
    rw_static_entry *e = malloc(sizeof *e + key_len + 1 + rel_len + 1);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    int fd = *fdp;
    e->fd = -1;
    e->static_id = st->id;
    e->refs = 1;
    e->size = (size_t)sb->st_size;
    e->dev = sb->st_dev;
    e->ino = sb->st_ino;
    e->mtim = sb->st_mtim;
    memcpy(e->key, key, key_len);
    e->key[key_len] = 0;
    e->key_len = key_len;
    e->rel = e->key + key_len + 1;
    memcpy(e->rel, rel, rel_len);
    e->rel[rel_len] = 0;
    e->ctype = rw_mime_for_path(rel, rel_len);
    int n = snprintf(e->etag, sizeof e->etag, "\"%llx-%llx\"", (unsigned long long)e->size,
                     (unsigned long long)mtime_ns(&e->mtim));
    e->etag_len = (size_t)n;
    rw_http_date(e->mtim.tv_sec, e->lastmod);

    if (e->size == 0) {
        e->data = NULL;
    } else if (e->size <= RW_STATIC_COPY_MAX) {
        /* Small files are copied: immune to truncation while being sent. */
        char *buf = malloc(e->size);
        if (!buf || read_all(fd, buf, e->size) < 0) {
            free(buf);
            free(e);
            return NULL;
        }
        e->data = buf;
    } else {
        void *m = mmap(NULL, e->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            free(e);
            return NULL;
        }
        /* Only the kernel reads the mapping (plain sends); userspace that
         * needs the bytes (TLS) preads fd, since touching the mapping past a
         * new end of file (the file truncated or rewritten in place) would
         * raise SIGBUS. */
        e->data = m;
        e->mapped = true;
        e->fd = fd;
        *fdp = -1;
    }
    return e;
}

/* ---- per-thread cache ------------------------------------------------ */

static void cache_remove(rw_static_cache *c, rw_static_entry *e)
{
    rw_static_entry **pp = &c->buckets[e->hash & (RW_STATIC_CACHE_BUCKETS - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    rw_dlist_remove(&e->lru);
    c->st.entries--;
    c->st.bytes -= e->size;
    e->cached = false;
    entry_unref(e);
}

static void cache_destroy(void *arg)
{
    rw_static_cache *c = arg;
    while (!rw_dlist_empty(&c->lru))
        cache_remove(c, rw_container_of(c->lru.next, rw_static_entry, lru));
    free(c);
    if (tl_cache == c)
        tl_cache = NULL;
}

static void cache_key_create(void)
{
    if (pthread_key_create(&cache_key, cache_destroy) != 0)
        rw_error("static: pthread_key_create failed; caches are freed only at exit");
}

static rw_static_cache *cache_get(void)
{
    if (tl_cache)
        return tl_cache;
    pthread_once(&cache_once, cache_key_create);
    rw_static_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    rw_dlist_init(&c->lru);
    pthread_setspecific(cache_key, c);
    tl_cache = c;
    return c;
}

void rw_static_cache_clear(void)
{
    if (!tl_cache)
        return;
    pthread_setspecific(cache_key, NULL);
    cache_destroy(tl_cache);
}

void rw_static_cache_stats_get(rw_static_cache_stats *out)
{
    if (tl_cache)
        *out = tl_cache->st;
    else
        memset(out, 0, sizeof *out);
}

static uint32_t key_hash(uint64_t id, const char *k, size_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)(id * 0x9E3779B97F4A7C15ull >> 32);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

static rw_static_entry *cache_lookup(rw_static_cache *c, uint64_t id, uint32_t h,
                                     const char *k, size_t n)
{
    for (rw_static_entry *e = c->buckets[h & (RW_STATIC_CACHE_BUCKETS - 1)]; e; e = e->hnext)
        if (e->hash == h && e->static_id == id && e->key_len == n && memcmp(e->key, k, n) == 0)
            return e;
    return NULL;
}

static void cache_insert(rw_static_cache *c, rw_static_entry *e)
{
    if (e->size > RW_STATIC_CACHE_MAX_FILE)
        return;
    while (!rw_dlist_empty(&c->lru) && (c->st.entries >= RW_STATIC_CACHE_MAX_ENTRIES ||
                                        c->st.bytes + e->size > RW_STATIC_CACHE_MAX_BYTES))
        cache_remove(c, rw_container_of(c->lru.next, rw_static_entry, lru));
    rw_static_entry **b = &c->buckets[e->hash & (RW_STATIC_CACHE_BUCKETS - 1)];
    e->hnext = *b;
    *b = e;
    rw_dlist_insert_tail(&c->lru, &e->lru);
    e->cached = true;
    e->refs++;
    c->st.entries++;
    c->st.bytes += e->size;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no syscall */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- path resolution ------------------------------------------------- */

/* Decodes and normalizes the raw path into "/seg/seg" (key) and "seg/seg"
 * (rel = key + 1; "" for the root). Empty and "." segments are dropped;
 * *slash tells whether the path names a directory (ends in "/" or "/.").
 * Returns 0 or an HTTP status. */
static int normalize(const rw_static *st, rw_str raw, char *key, size_t *key_len, bool *slash)
{
    char dec[RW_STATIC_PATH_MAX];
    if (raw.n == 0 || raw.p[0] != '/')
        return 400;
    if (raw.n >= RW_STATIC_PATH_MAX)
        return 414;
    long dn = rw_percent_decode(raw.p, raw.n, dec, sizeof dec);
    if (dn < 0)
        return 400;
    size_t n = (size_t)dn;
    if (memchr(dec, 0, n) || memchr(dec, '\\', n))
        return 400;
    *slash = n > 0 && dec[n - 1] == '/';
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && dec[i] == '/')
            i++;
        size_t s = i;
        while (i < n && dec[i] != '/')
            i++;
        size_t sl = i - s;
        if (sl == 0 || (sl == 1 && dec[s] == '.')) {
            /* A final "." names the directory (RFC 3986 §5.2.4: "/a/." is
             * "/a/"): "/." is the root's index, "/file/." is no file. */
            if (sl == 1 && i == n)
                *slash = true;
            continue;
        }
        if (sl == 2 && dec[s] == '.' && dec[s + 1] == '.')
            return 400;
        if (st->hide_dotfiles && dec[s] == '.' &&
            !(sl == 11 && memcmp(dec + s, ".well-known", 11) == 0))
            return 404;
        key[o++] = '/'; /* o + 1 + sl <= n + 1 < RW_STATIC_PATH_MAX + 1 */
        memcpy(key + o, dec + s, sl);
        o += sl;
    }
    if (o == 0)
        key[o++] = '/';
    key[o] = 0;
    *key_len = o;
    return 0;
}

static int errno_status(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
        return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
        return 503;
    case ENAMETOOLONG:
        return 414;
    default: /* ENOENT, ENOTDIR, ELOOP, EXDEV (escape attempt), ... */
        return 404;
    }
}

static int openat2_beneath(int dirfd, const char *rel)
{
    struct open_how how = { .flags = OPEN_FLAGS,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    return (int)fd;
}

/* Fallback without openat2: walk component by component refusing every
 * symlink, so nothing outside the (already ".."-free) path can be reached. */
static int open_walk_nofollow(int rootfd, const char *rel)
{
    char buf[RW_STATIC_PATH_MAX + sizeof RW_STATIC_INDEX + 1];
    size_t n = strlen(rel);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, rel, n + 1);
    int dfd = rootfd;
    char *seg = buf;
    for (;;) {
        char *sep = strchr(seg, '/');
        if (!sep) {
            int fd = openat(dfd, seg, OPEN_FLAGS | O_NOFOLLOW);
            int e = errno;
            if (dfd != rootfd)
                close(dfd);
            errno = e;
            return fd;
        }
        *sep = 0;
        int nfd = openat(dfd, seg, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (dfd != rootfd)
            close(dfd);
        if (nfd < 0) {
            errno = e;
            return -1;
        }
        dfd = nfd;
        seg = sep + 1;
    }
}

static int open_beneath(const rw_static *st, const char *rel)
{
    if (rel[0] == 0)
        rel = ".";
    return st->use_openat2 ? openat2_beneath(st->root_fd, rel)
                           : open_walk_nofollow(st->root_fd, rel);
}

/* ---- responses ------------------------------------------------------- */

static const rw_header text_plain = { RW_STR("Content-Type"), RW_STR("text/plain") };

static void respond_error(rw_request *req, int status)
{
    const char *reason = rw_status_reason(status);
    char body[64];
    int n = snprintf(body, sizeof body, "%s\n", reason);
    rw_respond(req, status, &text_plain, 1, body, (size_t)n);
}

static bool is_unreserved_or_path(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* 301 to the directory with a trailing slash, built from the normalized
 * path (so "//host" style paths cannot become an off-site redirect). */
static void redirect_dir(rw_request *req, const char *key, size_t key_len)
{
    static const char hex[] = "0123456789ABCDEF";
    char loc[RW_STATIC_LOCATION_MAX];
    size_t o = 0;
    for (size_t i = 0; i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c != 0 && is_unreserved_or_path(c)) {
            loc[o++] = (char)c;
        } else {
            loc[o++] = '%';
            loc[o++] = hex[c >> 4];
            loc[o++] = hex[c & 15];
        }
    }
    if (key_len > 1) /* the root has its slash already: never "//", an off-site URL */
        loc[o++] = '/';
    if (req->query.n && o + 1 + req->query.n <= sizeof loc) {
        loc[o++] = '?';
        memcpy(loc + o, req->query.p, req->query.n);
        o += req->query.n;
    }
    rw_header h[2] = { text_plain, { RW_STR("Location"), { loc, o } } };
    rw_respond(req, 301, h, 2, "Moved Permanently\n", 18);
}

static rw_str trim_ows(rw_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Does the entity-tag list (or "*") match our (strong) tag? weak selects
 * the weak comparison (If-None-Match), otherwise strong (If-Match). */
static bool etag_list_match(rw_str list, const rw_static_entry *e, bool weak)
{
    list = trim_ows(list);
    if (list.n == 1 && list.p[0] == '*')
        return true;
    size_t i = 0;
    while (i < list.n) {
        while (i < list.n && (list.p[i] == ' ' || list.p[i] == '\t' || list.p[i] == ','))
            i++;
        if (i >= list.n)
            break;
        bool is_weak = false;
        if (list.n - i >= 2 && list.p[i] == 'W' && list.p[i + 1] == '/') {
            is_weak = true;
            i += 2;
        }
        if (list.p[i] != '"')
            return false; /* malformed: treat as no match */
        size_t s = i++;
        while (i < list.n && list.p[i] != '"')
            i++;
        if (i >= list.n)
            return false;
        i++;
        size_t tn = i - s;
        if ((weak || !is_weak) && tn == e->etag_len && memcmp(list.p + s, e->etag, tn) == 0)
            return true;
    }
    return false;
}

/* Parses an HTTP date header; false when absent or malformed. */
static bool header_date(const rw_request *req, const char *name, time_t *t)
{
    rw_str v;
    if (!rw_req_header(req, name, &v))
        return false;
    v = trim_ows(v);
    *t = rw_http_date_parse(v.p, v.n);
    return *t != (time_t)-1;
}

enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSAT };

/* Digits -> value, saturating (a huge first-byte-pos is simply unsatisfiable). */
static size_t parse_digits(rw_str s, size_t i, uint64_t *v)
{
    uint64_t x = 0;
    size_t start = i;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
        unsigned d = (unsigned)(s.p[i] - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
        i++;
    }
    *v = x;
    return i - start;
}

/* One "bytes=" range against size. RANGE_NONE means "ignore the header"
 * (invalid syntax, other unit, or several ranges: answered 200 in full). */
static enum range_result parse_range(rw_str v, uint64_t size, uint64_t *first, uint64_t *last)
{
    v = trim_ows(v);
    if (v.n < 6 || !rw_str_eq_lit_nocase((rw_str){ v.p, 6 }, "bytes=", 6))
        return RANGE_NONE;
    rw_str s = { v.p + 6, v.n - 6 };
    size_t i = 0;
    while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == ','))
        i++;
    uint64_t a = 0, b = 0;
    bool suffix = false, have_b = false;
    if (i < s.n && s.p[i] == '-') {
        suffix = true;
        size_t d = parse_digits(s, ++i, &b);
        if (d == 0)
            return RANGE_NONE;
        i += d;
    } else {
        size_t d = parse_digits(s, i, &a);
        if (d == 0)
            return RANGE_NONE;
        i += d;
        if (i >= s.n || s.p[i] != '-')
            return RANGE_NONE;
        d = parse_digits(s, ++i, &b);
        have_b = d > 0;
        i += d;
        if (have_b && b < a)
            return RANGE_NONE;
    }
    while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == ','))
        i++;
    if (i != s.n)
        return RANGE_NONE; /* a second range (or junk): serve the whole file */
    if (suffix) {
        if (b == 0 || size == 0)
            return RANGE_UNSAT;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (a >= size)
        return RANGE_UNSAT;
    *first = a;
    *last = (!have_b || b >= size) ? size - 1 : b;
    return RANGE_OK;
}

/* If-Range: a strong ETag that matches, or exactly our Last-Modified. */
static bool if_range_ok(const rw_request *req, const rw_static_entry *e)
{
    rw_str v;
    if (!rw_req_header(req, "if-range", &v))
        return true;
    v = trim_ows(v);
    if ((v.n && v.p[0] == '"') || (v.n >= 2 && v.p[0] == 'W' && v.p[1] == '/'))
        return v.n == e->etag_len && memcmp(v.p, e->etag, v.n) == 0;
    time_t t = rw_http_date_parse(v.p, v.n);
    return t != (time_t)-1 && t == e->mtim.tv_sec;
}

/* Sends len bytes of e from off; consumes the caller's reference. */
static void respond_body(rw_request *req, int status, const rw_header *h, size_t nh,
                         rw_static_entry *e, uint64_t off, size_t len)
{
    if (e->mapped) {
        rw_body_file f = { e->fd, off };
        rw_respond_file(req, status, h, nh, e->data + off, len, &f, entry_release, e);
    } else {
        rw_respond_ext(req, status, h, nh, e->data + off, len, entry_release, e);
    }
}

/* Answers from e; consumes the caller's reference. */
static void serve_entry(rw_request *req, rw_static_entry *e)
{
    rw_header h[6];
    size_t nh = 0;
    h[nh++] = (rw_header){ RW_STR("Content-Type"), e->ctype };
    h[nh++] = (rw_header){ RW_STR("ETag"), { e->etag, e->etag_len } };
    h[nh++] = (rw_header){ RW_STR("Last-Modified"), { e->lastmod, RW_DATE_LEN } };
    h[nh++] = (rw_header){ RW_STR("Accept-Ranges"), RW_STR("bytes") };
    rw_str v;
    time_t t;

    /* RFC 9110 13.2.2 evaluation order. */
    bool precond_failed = false;
    if (rw_req_header(req, "if-match", &v))
        precond_failed = !etag_list_match(v, e, false);
    else if (header_date(req, "if-unmodified-since", &t))
        precond_failed = e->mtim.tv_sec > t;
    if (precond_failed) {
        rw_header ph[2] = { text_plain, h[1] };
        rw_respond(req, 412, ph, 2, "Precondition Failed\n", 20);
        entry_unref(e);
        return;
    }
    bool not_modified;
    if (rw_req_header(req, "if-none-match", &v))
        not_modified = etag_list_match(v, e, true);
    else
        not_modified = header_date(req, "if-modified-since", &t) && e->mtim.tv_sec <= t;
    if (not_modified) {
        rw_respond(req, 304, h + 1, 2, NULL, 0); /* ETag + Last-Modified */
        entry_unref(e);
        return;
    }

    uint64_t first = 0, last = 0;
    enum range_result rr = RANGE_NONE;
    if (req->method_id == RW_METHOD_GET && rw_req_header(req, "range", &v) &&
        if_range_ok(req, e))
        rr = parse_range(v, e->size, &first, &last);
    char cr[RW_STATIC_RANGE_HDR_MAX];
    if (rr == RANGE_UNSAT) {
        int n = snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)e->size);
        rw_header uh[2] = { text_plain, { RW_STR("Content-Range"), { cr, (size_t)n } } };
        rw_respond(req, 416, uh, 2, "Range Not Satisfiable\n", 22);
        entry_unref(e);
        return;
    }
    if (rr == RANGE_OK) {
        int n = snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
                         (unsigned long long)last, (unsigned long long)e->size);
        h[nh++] = (rw_header){ RW_STR("Content-Range"), { cr, (size_t)n } };
        respond_body(req, 206, h, nh, e, first, (size_t)(last - first + 1));
        return;
    }
    if (e->size == 0) {
        rw_respond(req, 200, h, nh, NULL, 0);
        entry_unref(e);
        return;
    }
    respond_body(req, 200, h, nh, e, 0, e->size);
}

/* Opens the file for key (a directory maps to its index). Returns 0 with a
 * new entry (refs = 1), 301 when a directory lacks its slash, or a status. */
static int load_entry(const rw_static *st, const char *key, size_t key_len, bool slash,
                      rw_static_entry **out)
{
    char rel[RW_STATIC_PATH_MAX + sizeof RW_STATIC_INDEX + 1];
    size_t rel_len = key_len - 1;
    memcpy(rel, key + 1, rel_len); /* key always starts with '/' */
    rel[rel_len] = 0;

    int fd = open_beneath(st, rel);
    if (fd < 0)
        return errno_status(errno);
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return 404;
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        if (!slash)
            return 301;
        if (rel_len)
            rel[rel_len++] = '/';
        memcpy(rel + rel_len, RW_STATIC_INDEX, sizeof RW_STATIC_INDEX);
        rel_len += sizeof RW_STATIC_INDEX - 1;
        fd = open_beneath(st, rel);
        if (fd < 0)
            return errno_status(errno);
        if (fstat(fd, &sb) < 0) {
            close(fd);
            return 404;
        }
    } else if (slash) {
        close(fd); /* "/file.txt/" names no file */
        return 404;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return 404;
    }
    /* The cache key keeps the trailing slash so "/d/" and "/d" differ. */
    char k[RW_STATIC_PATH_MAX + 1];
    size_t kl = key_len;
    memcpy(k, key, kl);
    if (slash && kl > 1)
        k[kl++] = '/';
    *out = entry_create(st, &fd, &sb, k, kl, rel, rel_len);
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (!*out) {
        rw_warn("static: cannot load %s: %s", rel, strerror(err));
        return 500;
    }
    return 0;
}

void rw_static_handler(rw_request *req, void *ud)
{
    const rw_static *st = ud;
    if (req->method_id != RW_METHOD_GET && req->method_id != RW_METHOD_HEAD) {
        rw_header h[2] = { text_plain, { RW_STR("Allow"), RW_STR("GET, HEAD") } };
        rw_respond(req, 405, h, 2, "Method Not Allowed\n", 19);
        return;
    }
    char key[RW_STATIC_PATH_MAX + 1];
    size_t key_len = 0;
    bool slash = false;
    int status = normalize(st, req->path, key, &key_len, &slash);
    if (status) {
        respond_error(req, status);
        return;
    }
    /* Lookup key: normalized path plus the trailing slash, if any. */
    char lk[RW_STATIC_PATH_MAX + 1];
    size_t lkl = key_len;
    memcpy(lk, key, lkl);
    if (slash && lkl > 1)
        lk[lkl++] = '/';

    rw_static_cache *c = cache_get();
    rw_static_entry *e = NULL;
    if (c) {
        uint32_t h = key_hash(st->id, lk, lkl);
        e = cache_lookup(c, st->id, h, lk, lkl);
        if (e) {
            uint64_t now = now_ms();
            if (now - e->checked_ms >= st->revalidate_ms) {
                struct stat sb;
                if (fstatat(st->root_fd, e->rel, &sb, 0) == 0 && S_ISREG(sb.st_mode) &&
                    same_file(e, &sb)) {
                    e->checked_ms = now;
                } else {
                    c->st.stale++;
                    cache_remove(c, e);
                    e = NULL;
                }
            }
        }
        if (e) {
            c->st.hits++;
            /* Most recently used goes to the tail. */
            rw_dlist_remove(&e->lru);
            rw_dlist_insert_tail(&c->lru, &e->lru);
            e->refs++;
            serve_entry(req, e);
            return;
        }
        c->st.misses++;
    }

    status = load_entry(st, key, key_len, slash, &e);
    if (status == 301) {
        redirect_dir(req, key, key_len);
        return;
    }
    if (status) {
        respond_error(req, status);
        return;
    }
    e->hash = key_hash(st->id, e->key, e->key_len);
    e->checked_ms = now_ms();
    if (c)
        cache_insert(c, e);
    serve_entry(req, e);
}

int rw_static_init(rw_static *st, const char *root)
{
    memset(st, 0, sizeof *st);
    st->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (st->root_fd < 0) {
        int e = errno;
        rw_error("static: cannot open root %s: %s", root, strerror(e));
        errno = e;
        return -1;
    }
    st->id = atomic_fetch_add(&next_static_id, 1);
    st->revalidate_ms = RW_STATIC_REVALIDATE_MS;
    st->hide_dotfiles = true;
    int fd = openat2_beneath(st->root_fd, ".");
    st->use_openat2 = fd >= 0;
    if (fd >= 0)
        close(fd);
    else
        rw_info("static: openat2 unavailable (%s); symlinks under the root are refused",
                strerror(errno));
    return 0;
}

void rw_static_destroy(rw_static *st)
{
    if (st->root_fd >= 0)
        close(st->root_fd);
    st->root_fd = -1;
}
