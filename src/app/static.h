/* Static files under a root directory: safe path resolution, conditional
 * requests (ETag / Last-Modified), single byte ranges, and a per-worker-
 * thread cache of open file contents served zero-copy through
 * rw_respond_ext(). See docs/static-files.md. */
#ifndef RW_APP_STATIC_H
#define RW_APP_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

#define RW_STATIC_PATH_MAX 1024              /* raw request path bytes; 414 beyond */
#define RW_STATIC_REVALIDATE_MS 1000         /* re-stat a cached file at most this often */
#define RW_STATIC_CACHE_MAX_ENTRIES 1024     /* per worker thread */
#define RW_STATIC_CACHE_MAX_BYTES (64u << 20) /* per worker thread, file bytes held */
#define RW_STATIC_CACHE_MAX_FILE (8u << 20)  /* bigger files are served but not cached */
#define RW_STATIC_COPY_MAX (16u << 10)       /* files up to this are read, bigger mmapped */
#define RW_STATIC_CACHE_BUCKETS 2048         /* hash buckets (power of two) */
#define RW_STATIC_INDEX "index.html"

typedef struct rw_static {
    int root_fd;            /* O_PATH|O_DIRECTORY of the root */
    uint64_t id;            /* distinguishes instances in the thread caches */
    unsigned revalidate_ms; /* RW_STATIC_REVALIDATE_MS; 0 = stat on every hit */
    bool use_openat2;       /* probed at init; false = per-component O_NOFOLLOW walk */
    bool hide_dotfiles;     /* 404 for any path segment starting with '.' */
} rw_static;

/* Opens root. 0, or -1 with errno set (and a logged reason). */
int rw_static_init(rw_static *st, const char *root);
void rw_static_destroy(rw_static *st);

/* Route handler; ud is an rw_static*. Answers GET and HEAD (others: 405). */
void rw_static_handler(rw_request *req, void *ud);

/* Per-thread cache introspection, for tests and stats. */
typedef struct rw_static_cache_stats {
    unsigned entries;
    size_t bytes;
    uint64_t hits, misses, stale; /* stale: dropped after revalidation */
} rw_static_cache_stats;
void rw_static_cache_stats_get(rw_static_cache_stats *out);
/* Drops the calling thread's cache (entries still referenced by in-flight
 * responses stay alive until released). Also runs at thread exit. */
void rw_static_cache_clear(void);

#endif
