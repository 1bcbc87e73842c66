/* Static file handler: content, types, validators, conditionals, ranges,
 * directories, traversal defences (with openat2 and with the no-symlink
 * fallback), cache revalidation and reference counting. */
#include "app/static.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "core/log.h"
#include "fake_responder.h"

#define SECRET "TOP SECRET outside the root"
#define HELLO "Hello static\n"
#define BIG_SIZE 100000 /* > RW_STATIC_COPY_MAX: served from an mmap */

static char base[64]; /* temp dir: base/root is the root, base/outside is not */
static char root[128];

static void write_file(const char *rel, const void *data, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n) {
        perror(p);
        exit(2);
    }
    close(fd);
}

static void mk(const char *rel, int kind, const char *target)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int rc = kind == 'd' ? mkdir(p, 0755) : kind == 'l' ? symlink(target, p) : mkfifo(p, 0644);
    if (rc < 0) {
        perror(p);
        exit(2);
    }
}

static char big[BIG_SIZE];

static void make_tree(void)
{
    strcpy(base, "/tmp/rw_static_XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(root, sizeof root, "%s/root", base);
    mk("root", 'd', NULL);
    mk("outside", 'd', NULL);
    write_file("outside/secret.txt", SECRET, strlen(SECRET));
    write_file("root/hello.txt", HELLO, strlen(HELLO));
    write_file("root/index.html", "root index", 10);
    write_file("root/style.css", "body{}", 6);
    write_file("root/app.JS", "1;", 2);
    write_file("root/noext", "x", 1);
    write_file("root/empty.txt", "", 0);
    write_file("root/a b.txt", "spaced", 6);
    write_file("root/.hidden", "hidden", 6);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 251);
    write_file("root/big.bin", big, sizeof big);
    mk("root/sub", 'd', NULL);
    write_file("root/sub/index.html", "sub index", 9);
    write_file("root/sub/data.json", "{}", 2);
    mk("root/noindex", 'd', NULL);
    mk("root/indexdir", 'd', NULL);
    mk("root/indexdir/index.html", 'd', NULL); /* index that is not a file */
    mk("root/link_out", 'l', "../outside/secret.txt");
    mk("root/link_abs", 'l', "/etc/passwd");
    mk("root/dir_out", 'l', "../outside");
    mk("root/link_in", 'l', "hello.txt");
    mk("root/fifo", 'f', NULL);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static rw_static st;
static fake_resp f;

/* Runs one request through the handler; returns the status. */
static int req(const char *method, const char *target, const rw_header *h, size_t nh)
{
    rw_request r;
    fake_request(&r, &f, method, target, h, nh);
    rw_static_handler(&r, &st);
    CHECK(f.calls == 1, "%s %s: %d responses", method, target, f.calls);
    return f.status;
}

static bool hdr_is(const char *name, const char *want)
{
    const char *v = fake_header(&f, name);
    return v && strcmp(v, want) == 0;
}

static char etag[64], lastmod[64];

static void test_content(const char *mode)
{
    CHECK(req("GET", "/hello.txt", NULL, 0) == 200, "%s hello %d", mode, f.status);
    CHECK(f.len == strlen(HELLO) && memcmp(f.body, HELLO, f.len) == 0, "%s hello body", mode);
    CHECK(hdr_is("Content-Type", "text/plain; charset=utf-8"), "%s hello ctype", mode);
    CHECK(hdr_is("Accept-Ranges", "bytes"), "%s accept-ranges", mode);
    CHECK(f.ext, "%s zero-copy path used", mode);
    const char *et = fake_header(&f, "ETag"), *lm = fake_header(&f, "Last-Modified");
    CHECK(et && et[0] == '"' && et[strlen(et) - 1] == '"', "%s etag %s", mode, et ? et : "-");
    CHECK(lm && strlen(lm) == RW_DATE_LEN && rw_http_date_parse(lm, strlen(lm)) > 0,
          "%s last-modified %s", mode, lm ? lm : "-");
    snprintf(etag, sizeof etag, "%s", et ? et : "");
    snprintf(lastmod, sizeof lastmod, "%s", lm ? lm : "");

    CHECK(req("HEAD", "/hello.txt", NULL, 0) == 200 && f.len == strlen(HELLO) &&
              hdr_is("ETag", etag) && hdr_is("Content-Type", "text/plain; charset=utf-8"),
          "%s HEAD full length + same headers", mode);

    static const struct { const char *path, *ctype, *body; } types[] = {
        { "/style.css", "text/css; charset=utf-8", "body{}" },
        { "/app.JS", "text/javascript; charset=utf-8", "1;" },
        { "/noext", "application/octet-stream", "x" },
        { "/a%20b.txt", "text/plain; charset=utf-8", "spaced" },
        { "/sub/data.json", "application/json", "{}" },
        { "/sub/", "text/html; charset=utf-8", "sub index" },
        { "/sub/?q=1", "text/html; charset=utf-8", "sub index" },
        { "/", "text/html; charset=utf-8", "root index" },
        { "//sub//./data.json", "application/json", "{}" },
        { "/empty.txt", "text/plain; charset=utf-8", "" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        CHECK(req("GET", types[i].path, NULL, 0) == 200, "%s %s: %d", mode, types[i].path,
              f.status);
        CHECK(hdr_is("Content-Type", types[i].ctype), "%s %s ctype %s", mode, types[i].path,
              fake_header(&f, "Content-Type"));
        CHECK(f.len == strlen(types[i].body) && memcmp(f.body, types[i].body, f.len) == 0,
              "%s %s body '%s'", mode, types[i].path, f.body);
    }

    CHECK(req("GET", "/big.bin", NULL, 0) == 200 && f.len == BIG_SIZE &&
              memcmp(f.body, big, BIG_SIZE) == 0 && f.ext,
          "%s big file", mode);

    static const struct { const char *path; int status; const char *location; } dirs[] = {
        { "/sub", 301, "/sub/" },
        { "/sub?x=1&y", 301, "/sub/?x=1&y" },
        { "//sub", 301, "/sub/" }, /* never "//sub/": that would leave the site */
        { "/noindex/", 404, NULL },
        { "/noindex", 301, "/noindex/" },
        { "/indexdir/", 404, NULL },
        { "/nope", 404, NULL },
        { "/nope/", 404, NULL },
        { "/hello.txt/", 404, NULL },
        { "/.hidden", 404, NULL },
        { "/sub/.hidden", 404, NULL },
        { "/fifo", 404, NULL },
        { "/%zz", 400, NULL },
        { "/%4", 400, NULL },
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        CHECK(req("GET", dirs[i].path, NULL, 0) == dirs[i].status, "%s %s: %d want %d", mode,
              dirs[i].path, f.status, dirs[i].status);
        if (dirs[i].location)
            CHECK(hdr_is("Location", dirs[i].location), "%s %s location %s", mode,
                  dirs[i].path, fake_header(&f, "Location"));
    }
    CHECK(req("POST", "/hello.txt", NULL, 0) == 405 && hdr_is("Allow", "GET, HEAD"),
          "%s POST 405", mode);

    char longp[RW_STATIC_PATH_MAX + 16];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = 0;
    CHECK(req("GET", longp, NULL, 0) == 414, "%s long path %d", mode, f.status);
}

typedef struct cond_case {
    const char *method, *target, *h1, *v1, *h2, *v2;
    int status;
    const char *body;     /* expected body, NULL = don't check */
    const char *crange;   /* expected Content-Range, NULL = must be absent */
} cond_case;

static void test_conditionals(const char *mode)
{
    char weak[80], list[128], other[] = "\"nope\"";
    snprintf(weak, sizeof weak, "W/%s", etag);
    snprintf(list, sizeof list, "\"a\", W/\"b\" ,%s", etag);
    const cond_case cases[] = {
        { "GET", "/hello.txt", "If-None-Match", etag, NULL, NULL, 304, "", NULL },
        { "HEAD", "/hello.txt", "if-none-match", etag, NULL, NULL, 304, "", NULL },
        { "GET", "/hello.txt", "If-None-Match", list, NULL, NULL, 304, "", NULL },
        { "GET", "/hello.txt", "If-None-Match", weak, NULL, NULL, 304, "", NULL },
        { "GET", "/hello.txt", "If-None-Match", "*", NULL, NULL, 304, "", NULL },
        { "GET", "/hello.txt", "If-None-Match", other, NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "If-None-Match", "garbage", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "If-Modified-Since", lastmod, NULL, NULL, 304, "", NULL },
        { "GET", "/hello.txt", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:01 GMT", NULL, NULL,
          200, HELLO, NULL },
        { "GET", "/hello.txt", "If-Modified-Since", "yesterday", NULL, NULL, 200, HELLO, NULL },
        /* If-None-Match wins over If-Modified-Since */
        { "GET", "/hello.txt", "If-None-Match", other, "If-Modified-Since", lastmod, 200, HELLO,
          NULL },
        { "GET", "/hello.txt", "If-Match", other, NULL, NULL, 412, NULL, NULL },
        { "GET", "/hello.txt", "If-Match", weak, NULL, NULL, 412, NULL, NULL }, /* strong cmp */
        { "GET", "/hello.txt", "If-Match", etag, NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:01 GMT", NULL,
          NULL, 412, NULL, NULL },
        { "GET", "/hello.txt", "If-Unmodified-Since", lastmod, NULL, NULL, 200, HELLO, NULL },
        /* ranges over "Hello static\n" (13 bytes) */
        { "GET", "/hello.txt", "Range", "bytes=0-4", NULL, NULL, 206, "Hello", "bytes 0-4/13" },
        { "GET", "/hello.txt", "Range", "bytes=6-", NULL, NULL, 206, "static\n",
          "bytes 6-12/13" },
        { "GET", "/hello.txt", "Range", "bytes=-7", NULL, NULL, 206, "static\n",
          "bytes 6-12/13" },
        { "GET", "/hello.txt", "Range", "bytes=-100", NULL, NULL, 206, HELLO, "bytes 0-12/13" },
        { "GET", "/hello.txt", "Range", "bytes=12-12", NULL, NULL, 206, "\n", "bytes 12-12/13" },
        { "GET", "/hello.txt", "Range", "bytes=2-99999999999999999999999", NULL, NULL, 206,
          "llo static\n", "bytes 2-12/13" },
        { "GET", "/hello.txt", "Range", "BYTES=0-0", NULL, NULL, 206, "H", "bytes 0-0/13" },
        { "GET", "/hello.txt", "Range", "bytes=13-", NULL, NULL, 416, NULL, "bytes */13" },
        { "GET", "/hello.txt", "Range", "bytes=99999999999999999999999-", NULL, NULL, 416, NULL,
          "bytes */13" },
        { "GET", "/hello.txt", "Range", "bytes=-0", NULL, NULL, 416, NULL, "bytes */13" },
        { "GET", "/hello.txt", "Range", "bytes=5-2", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=0-1,3-4", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "items=0-1", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=a-b", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=-", NULL, NULL, 200, HELLO, NULL },
        { "HEAD", "/hello.txt", "Range", "bytes=0-4", NULL, NULL, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=0-4", "If-Range", etag, 206, "Hello",
          "bytes 0-4/13" },
        { "GET", "/hello.txt", "Range", "bytes=0-4", "If-Range", other, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=0-4", "If-Range", weak, 200, HELLO, NULL },
        { "GET", "/hello.txt", "Range", "bytes=0-4", "If-Range", lastmod, 206, "Hello",
          "bytes 0-4/13" },
        { "GET", "/hello.txt", "Range", "bytes=0-4", "If-Range",
          "Thu, 01 Jan 1970 00:00:01 GMT", 200, HELLO, NULL },
        { "GET", "/empty.txt", "Range", "bytes=0-", NULL, NULL, 416, NULL, "bytes */0" },
        { "GET", "/empty.txt", "Range", "bytes=-5", NULL, NULL, 416, NULL, "bytes */0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const cond_case *c = &cases[i];
        rw_header h[2];
        size_t nh = 0;
        if (c->h1)
            h[nh++] = (rw_header){ rw_str_c(c->h1), rw_str_c(c->v1) };
        if (c->h2)
            h[nh++] = (rw_header){ rw_str_c(c->h2), rw_str_c(c->v2) };
        int s = req(c->method, c->target, h, nh);
        CHECK(s == c->status, "%s #%zu %s: %s: %s -> %d want %d", mode, i, c->target, c->h1,
              c->v1, s, c->status);
        if (c->body)
            CHECK(f.len == strlen(c->body) && memcmp(f.body, c->body, f.len) == 0,
                  "%s #%zu body '%s' want '%s'", mode, i, f.body, c->body);
        const char *cr = fake_header(&f, "Content-Range");
        if (c->crange)
            CHECK(cr && strcmp(cr, c->crange) == 0, "%s #%zu Content-Range %s want %s", mode,
                  i, cr ? cr : "-", c->crange);
        else
            CHECK(!cr, "%s #%zu unexpected Content-Range %s", mode, i, cr);
        if (s == 304)
            CHECK(hdr_is("ETag", etag) && f.len == 0, "%s #%zu 304 keeps ETag", mode, i);
    }

    /* A range inside the mmapped file. */
    rw_header h = { RW_STR("Range"), RW_STR("bytes=70000-70999") };
    CHECK(req("GET", "/big.bin", &h, 1) == 206 && f.len == 1000 &&
              memcmp(f.body, big + 70000, 1000) == 0 &&
              hdr_is("Content-Range", "bytes 70000-70999/100000"),
          "%s mmap range", mode);
}

static void test_traversal(const char *mode)
{
    static const char *const attacks[] = {
        "/../etc/passwd",
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/a/../../outside/secret.txt",
        "/sub/../../outside/secret.txt",
        "/..%2f..%2fetc%2fpasswd",
        "/..%2foutside%2fsecret.txt",
        "/sub/..%5c..%5coutside%5csecret.txt",
        "/..\\outside\\secret.txt",
        "/%00",
        "/hello.txt%00.png",
        "/link_out",
        "/link_abs",
        "/dir_out/secret.txt",
        "/dir_out/",
        "/.%2e/outside/secret.txt",
        "/./../outside/secret.txt",
        "/../root/../outside/secret.txt",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..",
        "outside/secret.txt",
        "",
        "*",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        int s = req("GET", attacks[i], NULL, 0);
        CHECK(s != 200 && s != 206 && s != 301, "%s attack %s -> %d", mode, attacks[i], s);
        CHECK(!strstr(f.body, "SECRET") && !strstr(f.body, "root:"),
              "%s attack %s leaked content", mode, attacks[i]);
        CHECK(s == 400 || s == 404, "%s attack %s -> %d (want 400/404)", mode, attacks[i], s);
    }
}

static void test_symlink_inside(void)
{
    st.use_openat2 = true;
    CHECK(req("GET", "/link_in", NULL, 0) == 200 && strcmp(f.body, HELLO) == 0,
          "openat2: symlink within the root is followed (%d)", f.status);
    st.use_openat2 = false;
    rw_static_cache_clear();
    CHECK(req("GET", "/link_in", NULL, 0) == 404, "fallback: every symlink refused (%d)",
          f.status);
}

static void test_cache(void)
{
    rw_static_cache_clear();
    rw_static_cache_stats cs;
    req("GET", "/hello.txt", NULL, 0);
    req("GET", "/hello.txt", NULL, 0);
    req("GET", "/hello.txt", NULL, 0);
    rw_static_cache_stats_get(&cs);
    CHECK(cs.hits == 2 && cs.misses == 1 && cs.entries == 1 && cs.bytes == strlen(HELLO),
          "cache counts hits=%llu misses=%llu entries=%u bytes=%zu",
          (unsigned long long)cs.hits, (unsigned long long)cs.misses, cs.entries, cs.bytes);

    /* A changed file is picked up once the revalidation interval passed
     * (0 here: stat on every hit). */
    st.revalidate_ms = 0;
    char old_etag[64];
    req("GET", "/hello.txt", NULL, 0);
    snprintf(old_etag, sizeof old_etag, "%s", fake_header(&f, "ETag"));
    write_file("root/hello.txt", "changed!", 8);
    struct timespec ts[2] = { { 1000000000, 5 }, { 1000000000, 5 } };
    char p[256];
    snprintf(p, sizeof p, "%s/hello.txt", root);
    utimensat(AT_FDCWD, p, ts, 0);
    CHECK(req("GET", "/hello.txt", NULL, 0) == 200 && strcmp(f.body, "changed!") == 0 &&
              !hdr_is("ETag", old_etag) && hdr_is("Last-Modified", "Sun, 09 Sep 2001 01:46:40 GMT"),
          "changed file served (%s)", f.body);
    rw_static_cache_stats_get(&cs);
    CHECK(cs.stale >= 1, "stale counted");
    unlink(p);
    CHECK(req("GET", "/hello.txt", NULL, 0) == 404, "deleted file -> 404 (%d)", f.status);
    write_file("root/hello.txt", HELLO, strlen(HELLO));

    /* With the default interval a change inside it is not seen yet. */
    st.revalidate_ms = 60000;
    req("GET", "/style.css", NULL, 0);
    write_file("root/style.css", "p{}", 3);
    CHECK(req("GET", "/style.css", NULL, 0) == 200 && strcmp(f.body, "body{}") == 0,
          "within the interval the cached copy is served");
    st.revalidate_ms = RW_STATIC_REVALIDATE_MS;

    /* The body must outlive its cache entry until the engine releases it. */
    f.defer_release = true;
    rw_request r;
    fake_request(&r, &f, "GET", "/big.bin", NULL, 0);
    f.defer_release = true;
    rw_static_handler(&r, &st);
    CHECK(f.release != NULL, "release deferred");
    rw_static_cache_clear(); /* drops the cache's reference */
    const char *body = f.body_ptr;
    CHECK(body && memcmp(body, big, BIG_SIZE) == 0, "body valid after cache clear");
    if (f.release)
        f.release(f.release_arg); /* last reference: unmapped here (ASan checks the rest) */
    fake_reset(&f);

    /* Another instance (another root) never sees this one's entries. */
    rw_static other;
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", root);
    CHECK(rw_static_init(&other, sub) == 0, "second instance");
    fake_request(&r, &f, "GET", "/", NULL, 0);
    rw_static_handler(&r, &other);
    CHECK(f.status == 200 && strcmp(f.body, "sub index") == 0, "instances are separate (%s)",
          f.body);
    fake_request(&r, &f, "GET", "/", NULL, 0);
    rw_static_handler(&r, &st);
    CHECK(f.status == 200 && strcmp(f.body, "root index") == 0, "instances are separate (%s)",
          f.body);
    rw_static_destroy(&other);
    CHECK(rw_static_init(&other, "/nonexistent/dir") < 0, "bad root fails");
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* A final "." segment names a directory, as a final "/" does (RFC 3986
 * §5.2.4): "/." is the root index (not a redirect to "//"), "/file/." is no
 * file. No redirect may ever point to "//...". */
static void test_dot_segments(const char *mode)
{
    static const struct { const char *path; int status; const char *body; } cases[] = {
        { "/.", 200, "root index" },
        { "/%2e", 200, "root index" },
        { "/./", 200, "root index" },
        { "/.?x=1", 200, "root index" },
        { "//.", 200, "root index" },
        { "/sub/.", 200, "sub index" },
        { "/sub/./", 200, "sub index" },
        { "/sub/%2E", 200, "sub index" },
        { "/index.html/.", 404, NULL },
        { "/index.html/%2e", 404, NULL },
        { "/hello.txt/.", 404, NULL },
        { "/sub/data.json/.", 404, NULL },
        { "/noindex/.", 404, NULL },
        { "/index.html/./", 404, NULL },
        { "/./index.html", 200, "root index" },
        { "/sub/./data.json", 200, "{}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int s = req("GET", cases[i].path, NULL, 0);
        CHECK(s == cases[i].status, "%s %s: %d want %d", mode, cases[i].path, s,
              cases[i].status);
        if (cases[i].body)
            CHECK(f.len == strlen(cases[i].body) && memcmp(f.body, cases[i].body, f.len) == 0,
                  "%s %s body '%.*s'", mode, cases[i].path, (int)f.len, f.body);
        const char *loc = fake_header(&f, "Location");
        CHECK(!loc || strncmp(loc, "//", 2) != 0, "%s %s: Location %s", mode, cases[i].path,
              loc);
    }
}

int main(void)
{
    rw_log_level = -1; /* the bad-root case logs on purpose */
    int fds_before = count_fds();
    make_tree();
    if (rw_static_init(&st, root) < 0)
        return 2;
    bool have_openat2 = st.use_openat2;
    CHECK(have_openat2, "openat2 expected on this kernel (>= 5.6)");

    for (int pass = 0; pass < 2; pass++) {
        st.use_openat2 = pass == 0 ? have_openat2 : false;
        const char *mode = pass == 0 ? "openat2" : "fallback";
        rw_static_cache_clear();
        test_content(mode);
        test_conditionals(mode);
        test_traversal(mode);
        /* Again with a warm cache. */
        test_content(mode);
        test_traversal(mode);
        test_conditionals(mode);
        test_dot_segments(mode);
    }
    st.use_openat2 = have_openat2;
    test_symlink_inside();
    st.use_openat2 = have_openat2;
    test_cache();

    rw_static_cache_clear();
    rw_static_destroy(&st);
    fake_reset(&f);
    CHECK(count_fds() == fds_before, "fd leak: %d open, %d before", count_fds(), fds_before);
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_summary("static");
}
