/* Router + request entry points: precedence, 404/405/501/500, HEAD->GET,
 * Allow, OPTIONS, exactly-one-response enforcement. */
#include "app/router.h"

#include "check.h"
#include "core/log.h"
#include "fake_responder.h"

/* Every handler answers 200 with its own name as the body. */
#define NAMED_HANDLER(name)                                                                   \
    static void h_##name(rw_request *req, void *ud)                                            \
    {                                                                                          \
        (void)ud;                                                                              \
        rw_respond(req, 200, NULL, 0, #name, sizeof #name - 1);                                \
    }
NAMED_HANDLER(json)
NAMED_HANDLER(static_)
NAMED_HANDLER(img)
NAMED_HANDLER(special)
NAMED_HANDLER(api)
NAMED_HANDLER(form)
NAMED_HANDLER(root)
NAMED_HANDLER(head)
NAMED_HANDLER(purge)

static void h_forget(rw_request *req, void *ud)
{
    (void)req;
    (void)ud;
}

static int ud_seen;
static void h_ud(rw_request *req, void *ud)
{
    ud_seen = *(int *)ud;
    rw_respond(req, 204, NULL, 0, NULL, 0);
}

typedef struct route_case {
    const char *method, *target;
    int status;
    const char *body;  /* expected body (NULL = don't check) */
    const char *allow; /* expected Allow value (NULL = header must be absent) */
} route_case;

static void run_cases(const char *label, const rw_router *r, const route_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rw_request req;
        fake_resp f = { 0 };
        fake_request(&req, &f, c[i].method, c[i].target, NULL, 0);
        rw_router_dispatch(r, &req);
        CHECK(f.calls == 1, "%s %s %s: %d responses", label, c[i].method, c[i].target, f.calls);
        CHECK(f.status == c[i].status, "%s %s %s: status %d, want %d", label, c[i].method,
              c[i].target, f.status, c[i].status);
        if (c[i].body)
            CHECK(f.body && strcmp(f.body, c[i].body) == 0, "%s %s %s: body '%s', want '%s'",
                  label, c[i].method, c[i].target, f.body ? f.body : "(null)", c[i].body);
        const char *allow = fake_header(&f, "Allow");
        if (c[i].allow)
            CHECK(allow && strcmp(allow, c[i].allow) == 0, "%s %s %s: Allow '%s', want '%s'",
                  label, c[i].method, c[i].target, allow ? allow : "(none)", c[i].allow);
        else
            CHECK(!allow, "%s %s %s: unexpected Allow '%s'", label, c[i].method, c[i].target,
                  allow);
        if (c[i].status >= 400)
            CHECK(fake_header(&f, "Content-Type") &&
                      strcmp(fake_header(&f, "Content-Type"), "text/plain") == 0,
                  "%s %s %s: error without text/plain", label, c[i].method, c[i].target);
        fake_reset(&f);
    }
}

static void test_dispatch(void)
{
    rw_router r = { .n = 0 };
    /* Registered in an order that the router must re-sort. */
    CHECK(rw_router_add(&r, "GET", "/static/", RW_ROUTE_PREFIX, h_static_, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "GET", "/json", RW_ROUTE_EXACT, h_json, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "GET", "/static/img/", RW_ROUTE_PREFIX, h_img, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "GET", "/static/special", RW_ROUTE_EXACT, h_special, NULL) == 0,
          "add");
    CHECK(rw_router_add(&r, NULL, "/api/", RW_ROUTE_PREFIX, h_api, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "POST", "/form", RW_ROUTE_EXACT, h_form, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "PUT", "/form", RW_ROUTE_EXACT, h_form, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "GET", "/forget", RW_ROUTE_EXACT, h_forget, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "HEAD", "/h", RW_ROUTE_EXACT, h_head, NULL) == 0, "add");
    CHECK(rw_router_add(&r, "PURGE", "/cache", RW_ROUTE_EXACT, h_purge, NULL) == 0, "add");

    static const route_case cases[] = {
        { "GET", "/json", 200, "json", NULL },
        { "GET", "/json?x=1", 200, "json", NULL },
        { "HEAD", "/json", 200, "json", NULL },          /* GET answers HEAD */
        { "GET", "/json/", 404, "Not Found\n", NULL },    /* exact is exact */
        { "GET", "/jso", 404, "Not Found\n", NULL },
        { "GET", "/static/a.css", 200, "static_", NULL },
        { "GET", "/static/", 200, "static_", NULL },
        { "GET", "/static", 404, NULL, NULL },           /* prefix "/static/" needs the slash */
        { "GET", "/static/img/x.png", 200, "img", NULL }, /* longest prefix wins */
        { "GET", "/static/imgx", 200, "static_", NULL },
        { "GET", "/static/special", 200, "special", NULL }, /* exact before prefix */
        { "GET", "/static/special/x", 200, "static_", NULL },
        { "DELETE", "/api/x", 200, "api", NULL },        /* any method */
        { "BREW", "/api/x", 200, "api", NULL },          /* any includes unknown tokens */
        { "POST", "/form", 200, "form", NULL },
        { "PUT", "/json", 405, "Method Not Allowed\n", "GET, HEAD, OPTIONS" },
        { "DELETE", "/form", 405, NULL, "POST, PUT, OPTIONS" },
        { "GET", "/form", 405, NULL, "POST, PUT, OPTIONS" },
        { "POST", "/static/img/a", 405, NULL, "GET, HEAD, OPTIONS" },
        { "GET", "/h", 405, NULL, "HEAD, OPTIONS" },      /* HEAD does not answer GET */
        { "HEAD", "/h", 200, "head", NULL },
        { "FOO", "/json", 501, "Not Implemented\n", NULL }, /* unknown method */
        { "FOO", "/nothing", 501, NULL, NULL },
        { "PURGE", "/cache", 200, "purge", NULL },       /* custom method routed by name */
        { "GET", "/cache", 405, NULL, "PURGE, OPTIONS" },
        { "GET", "/forget", 500, "Internal Server Error\n", NULL },
        { "GET", "/nothing", 404, "Not Found\n", NULL },
        { "GET", "/", 404, NULL, NULL },
        { "OPTIONS", "/json", 200, "", "GET, HEAD, OPTIONS" },
        { "OPTIONS", "*", 200, "", "GET, HEAD, POST, PUT, PURGE, OPTIONS" },
        { "OPTIONS", "/nothing", 404, NULL, NULL },
    };
    run_cases("table1", &r, cases, sizeof cases / sizeof cases[0]);

    /* A "/" prefix catches everything else; more specific routes still win. */
    CHECK(rw_router_add(&r, "GET", "/", RW_ROUTE_PREFIX, h_root, NULL) == 0, "add /");
    static const route_case cases2[] = {
        { "GET", "/nothing", 200, "root", NULL },
        { "GET", "/", 200, "root", NULL },
        { "HEAD", "/x/y", 200, "root", NULL },
        { "GET", "/json", 200, "json", NULL },
        { "GET", "/static/a", 200, "static_", NULL },
        { "GET", "/static/img/a", 200, "img", NULL },
        { "POST", "/x", 405, NULL, "GET, HEAD, OPTIONS" },
        /* exact GET /json mismatches, so the Allow is the union of matches */
        { "PUT", "/json", 405, NULL, "GET, HEAD, OPTIONS" },
    };
    run_cases("table2", &r, cases2, sizeof cases2 / sizeof cases2[0]);
    rw_router_free(&r);
    CHECK(r.n == 0, "free resets");
}

static void test_add_limits(void)
{
    rw_router r = { .n = 0 };
    static int v = 42;
    int ok = 0;
    for (int i = 0; i < RW_MAX_ROUTES; i++) {
        char path[32];
        snprintf(path, sizeof path, "/r%d", i);
        ok += rw_router_add(&r, "GET", path, RW_ROUTE_EXACT, h_ud, &v) == 0;
    }
    CHECK(ok == RW_MAX_ROUTES, "filled %d", ok);
    CHECK(rw_router_add(&r, "GET", "/one-too-many", RW_ROUTE_EXACT, h_json, NULL) < 0,
          "table full must fail");
    rw_request req;
    fake_resp f = { 0 };
    fake_request(&req, &f, "GET", "/r63", NULL, 0);
    ud_seen = 0;
    rw_router_dispatch(&r, &req);
    CHECK(f.status == 204 && ud_seen == 42, "ud passed through (%d, %d)", f.status, ud_seen);
    fake_reset(&f);
    rw_router_free(&r);

    CHECK(rw_router_add(&r, "G ET", "/x", RW_ROUTE_EXACT, h_json, NULL) < 0, "bad method");
    CHECK(rw_router_add(&r, "AVERYLONGMETHODNAME", "/x", RW_ROUTE_EXACT, h_json, NULL) < 0,
          "method too long");
    CHECK(rw_router_add(&r, "GET", NULL, RW_ROUTE_EXACT, h_json, NULL) < 0, "null path");
    CHECK(rw_router_add(&r, "GET", "/x", RW_ROUTE_EXACT, NULL, NULL) < 0, "null fn");
    CHECK(rw_router_add(&r, "GET", "/x", 7, h_json, NULL) < 0, "bad flags");
    CHECK(r.n == 0, "nothing added");
}

/* ---- request.c entry points ---- */

static int released;
static void count_release(void *arg) { released += *(int *)arg; }
static void count_close(void *arg) { released += *(int *)arg; }
static int dummy_produce(rw_stream *st, void *ud)
{
    (void)st;
    (void)ud;
    return RW_STREAM_DONE;
}

static void test_request_api(void)
{
    static const rw_header hdrs[] = {
        { RW_STR("Host"), RW_STR("example") },
        { RW_STR("X-Thing"), RW_STR("one") },
        { RW_STR("x-thing"), RW_STR("two") },
    };
    rw_request req;
    fake_resp f = { 0 };
    fake_request(&req, &f, "HEAD", "/p/q?a=b&c", hdrs, 3);
    rw_str v;
    CHECK(rw_req_header(&req, "x-THING", &v) && v.n == 3 && memcmp(v.p, "one", 3) == 0,
          "case-insensitive first match");
    CHECK(rw_req_header(&req, "host", NULL), "presence only");
    CHECK(!rw_req_header(&req, "hos", &v) && !rw_req_header(&req, "hostx", &v), "no prefix match");
    CHECK(rw_req_header_count(&req) == 3 && rw_req_header_at(&req, 2) == &hdrs[2] &&
              rw_req_header_at(&req, 3) == NULL,
          "header_at");
    CHECK(RW_STR_IEQ(rw_req_path(&req), "/p/q") && RW_STR_IEQ(rw_req_query(&req), "a=b&c") &&
              RW_STR_IEQ(rw_req_target(&req), "/p/q?a=b&c") &&
              RW_STR_IEQ(rw_req_method(&req), "head"),
          "views");
    CHECK(rw_req_is_head(&req) && rw_req_version(&req) == 11 && rw_req_body(&req).n == 0,
          "flags");

    CHECK(rw_respond(&req, 200, NULL, 0, "x", 1) == 0 && req.responded, "first respond");
    int one = 1;
    released = 0;
    CHECK(rw_respond(&req, 500, NULL, 0, "y", 1) < 0, "second respond refused");
    CHECK(rw_respond_ext(&req, 500, NULL, 0, "y", 1, count_release, &one) < 0 && released == 1,
          "refused respond_ext still releases");
    CHECK(rw_respond_stream(&req, 200, NULL, 0, -1, dummy_produce, &one, count_close) < 0 &&
              released == 2,
          "refused stream still closes");
    CHECK(f.calls == 1 && f.status == 200 && strcmp(f.body, "x") == 0, "only first response");

    fake_request(&req, &f, "GET", "/", NULL, 0);
    released = 0;
    CHECK(rw_respond_ext(&req, 200, NULL, 0, "abc", 3, count_release, &one) == 0 &&
              released == 1 && f.ext && f.len == 3,
          "respond_ext forwards release");
    fake_request(&req, &f, "GET", "/", NULL, 0);
    CHECK(rw_respond(&req, 42, NULL, 0, NULL, 0) < 0 && f.calls == 0 && !req.responded,
          "invalid status refused");
    CHECK(rw_respond_stream(&req, 200, NULL, 0, -1, dummy_produce, NULL, NULL) == 0 && f.stream &&
              f.stream_clen == -1,
          "stream forwarded");
    fake_reset(&f);

    static const struct { int code; const char *reason; } reasons[] = {
        { 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" },
        { 206, "Partial Content" }, { 301, "Moved Permanently" }, { 304, "Not Modified" },
        { 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 404, "Not Found" },
        { 405, "Method Not Allowed" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
        { 416, "Range Not Satisfiable" }, { 417, "Expectation Failed" },
        { 421, "Misdirected Request" }, { 431, "Request Header Fields Too Large" },
        { 451, "Unavailable For Legal Reasons" }, { 500, "Internal Server Error" },
        { 501, "Not Implemented" }, { 505, "HTTP Version Not Supported" }, { 799, "Unknown" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        CHECK(strcmp(rw_status_reason(reasons[i].code), reasons[i].reason) == 0, "reason %d: %s",
              reasons[i].code, rw_status_reason(reasons[i].code));
    for (int code = 100; code < 600; code++) {
        bool standard = code == 100 || code == 101 || (code >= 200 && code <= 206) ||
                        (code >= 300 && code <= 305) || code == 307 || code == 308 ||
                        (code >= 400 && code <= 417) || code == 421 || code == 422 ||
                        code == 425 || code == 426 || code == 428 || code == 429 ||
                        code == 431 || code == 451 || (code >= 500 && code <= 505);
        if (standard)
            CHECK(strcmp(rw_status_reason(code), "Unknown") != 0, "no reason for %d", code);
    }
}

int main(void)
{
    rw_log_level = -1; /* the 500 and bad-add cases log on purpose */
    test_dispatch();
    test_add_limits();
    test_request_api();
    return check_summary("router");
}
