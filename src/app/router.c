/* Method + path routing. The table is kept ordered at insert time (exact
 * routes in insertion order, then prefix routes longest first, ties in
 * insertion order), so dispatch is one allocation-free linear scan where the
 * first route matching both path and method wins. */
#include "app/router.h"

#include <stdlib.h>
#include <string.h>

#include "conn/request.h"
#include "core/log.h"
#include "core/str.h"
#include "http1/parser.h"

/* Allow: every distinct method of RW_MAX_ROUTES routes plus HEAD/OPTIONS. */
#define RW_ROUTER_ALLOW_MAX ((RW_MAX_ROUTES + 2) * 18)

static const rw_header text_plain = { RW_STR("Content-Type"), RW_STR("text/plain") };

static bool valid_method(const char *m, size_t n)
{
    if (n >= sizeof(((rw_route *)0)->method))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m[i];
        /* tchar (RFC 9110 5.6.2) */
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", c) != NULL))
            return false;
    }
    return true;
}

int rw_router_add(rw_router *r, const char *method, const char *path, int flags,
                  rw_handler_fn fn, void *ud)
{
    size_t mlen = method ? strlen(method) : 0;
    if (r->n >= RW_MAX_ROUTES || !path || !fn || !valid_method(method, mlen) ||
        (flags != RW_ROUTE_EXACT && flags != RW_ROUTE_PREFIX)) {
        rw_error("router: cannot add route %s %s (%s)", method ? method : "*",
                 path ? path : "(null)", r->n >= RW_MAX_ROUTES ? "table full" : "bad argument");
        return -1;
    }
    size_t plen = strlen(path);
    char *copy = malloc(plen + 1);
    if (!copy)
        return -1;
    memcpy(copy, path, plen + 1);

    /* Find the insertion slot that keeps the table ordered. */
    int at = r->n;
    if (flags == RW_ROUTE_EXACT) {
        at = 0;
        while (at < r->n && r->routes[at].flags == RW_ROUTE_EXACT)
            at++;
    } else {
        at = 0;
        while (at < r->n && (r->routes[at].flags == RW_ROUTE_EXACT ||
                             r->routes[at].path_len >= plen))
            at++;
    }
    memmove(&r->routes[at + 1], &r->routes[at], (size_t)(r->n - at) * sizeof(rw_route));
    rw_route *rt = &r->routes[at];
    memset(rt, 0, sizeof *rt);
    memcpy(rt->method, method ? method : "", mlen);
    rt->method[mlen] = 0;
    rt->path = copy;
    rt->path_len = plen;
    rt->flags = flags;
    rt->fn = fn;
    rt->ud = ud;
    r->n++;
    return 0;
}

void rw_router_free(rw_router *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->routes[i].path);
    r->n = 0;
}

static bool path_matches(const rw_route *rt, rw_str path)
{
    if (rt->flags == RW_ROUTE_EXACT)
        return path.n == rt->path_len && memcmp(path.p, rt->path, path.n) == 0;
    return path.n >= rt->path_len && memcmp(path.p, rt->path, rt->path_len) == 0;
}

static bool method_matches(const rw_route *rt, const rw_request *req)
{
    if (rt->method[0] == 0)
        return true;
    size_t n = strlen(rt->method);
    if (req->method.n == n && memcmp(req->method.p, rt->method, n) == 0)
        return true;
    /* GET routes answer HEAD; the engine drops the body. */
    return req->method_id == RW_METHOD_HEAD && strcmp(rt->method, "GET") == 0;
}

/* Appends m to the comma-separated list in buf unless already present. */
static void allow_add(char *buf, size_t *len, const char *m)
{
    size_t mn = strlen(m);
    for (size_t i = 0; i < *len;) {
        size_t j = i;
        while (j < *len && buf[j] != ',')
            j++;
        if (j - i == mn && memcmp(buf + i, m, mn) == 0)
            return;
        i = j + 2; /* skip ", " */
    }
    if (*len + mn + 2 > RW_ROUTER_ALLOW_MAX)
        return;
    if (*len) {
        buf[(*len)++] = ',';
        buf[(*len)++] = ' ';
    }
    memcpy(buf + *len, m, mn);
    *len += mn;
}

/* Allow value for every route whose path matches (all routes when all). */
static size_t build_allow(const rw_router *r, rw_str path, bool all, char *buf)
{
    size_t len = 0;
    for (int i = 0; i < r->n; i++) {
        const rw_route *rt = &r->routes[i];
        if ((!all && !path_matches(rt, path)) || rt->method[0] == 0)
            continue;
        allow_add(buf, &len, rt->method);
        if (strcmp(rt->method, "GET") == 0)
            allow_add(buf, &len, "HEAD");
    }
    allow_add(buf, &len, "OPTIONS"); /* answered below for any known resource */
    return len;
}

static void respond_text(rw_request *req, int status, const rw_header *extra, size_t nextra,
                         const char *body, size_t len)
{
    rw_header h[2] = { text_plain };
    size_t nh = 1;
    if (nextra)
        h[nh++] = extra[0];
    rw_respond(req, status, h, nh, body, len);
}
#define RESPOND_LIT(req, status, extra, nextra, lit)                                          \
    respond_text((req), (status), (extra), (nextra), (lit), sizeof(lit) - 1)

void rw_router_dispatch(const rw_router *r, rw_request *req)
{
    bool path_seen = false;
    for (int i = 0; i < r->n; i++) {
        const rw_route *rt = &r->routes[i];
        if (!path_matches(rt, req->path))
            continue;
        path_seen = true;
        if (!method_matches(rt, req))
            continue;
        rt->fn(req, rt->ud);
        if (!req->responded) {
            rw_warn("handler for %.*s %s returned without responding", (int)req->method.n,
                    req->method.p, rt->path);
            RESPOND_LIT(req, 500, NULL, 0, "Internal Server Error\n");
        }
        return;
    }

    if (req->method_id == RW_METHOD_OTHER) {
        RESPOND_LIT(req, 501, NULL, 0, "Not Implemented\n");
        return;
    }
    bool star = req->path.n == 1 && req->path.p[0] == '*';
    if (!path_seen && !(star && req->method_id == RW_METHOD_OPTIONS)) {
        RESPOND_LIT(req, 404, NULL, 0, "Not Found\n");
        return;
    }

    char allow[RW_ROUTER_ALLOW_MAX];
    size_t alen = build_allow(r, req->path, star, allow);
    rw_header ah = { RW_STR("Allow"), { allow, alen } };
    if (req->method_id == RW_METHOD_OPTIONS) {
        rw_respond(req, 200, &ah, 1, NULL, 0);
        return;
    }
    RESPOND_LIT(req, 405, &ah, 1, "Method Not Allowed\n");
}
