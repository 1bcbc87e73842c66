/* Test helper: a fake rw_responder that records the one response a handler
 * produces (status, headers, body) so unit tests can build an rw_request by
 * hand and call rw_router_dispatch() or a handler directly. Header-only;
 * include from exactly one test_*.c. */
#ifndef RW_TESTS_FAKE_RESPONDER_H
#define RW_TESTS_FAKE_RESPONDER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conn/request.h"
#include "core/str.h"
#include "http1/parser.h"
#include "ringwire/ringwire.h"

#define FAKE_MAX_HEADERS 16
#define FAKE_NAME_MAX 64
#define FAKE_VALUE_MAX 512

typedef struct fake_resp {
    int calls;        /* responder invocations (must end up 1) */
    int status;
    size_t nh;
    char name[FAKE_MAX_HEADERS][FAKE_NAME_MAX];
    char value[FAKE_MAX_HEADERS][FAKE_VALUE_MAX];
    char *body;       /* copy (NUL-terminated for convenience) */
    size_t len;
    bool ext;         /* answered through rw_respond_ext with a release */
    bool stream;      /* answered through rw_respond_stream */
    int64_t stream_clen;
    /* When defer_release is set, release is stored here instead of being
     * called at once, so tests can check the body outlives other events. */
    bool defer_release;
    void (*release)(void *);
    void *release_arg;
    const void *body_ptr; /* the pointer the handler passed */
    bool file;            /* answered through rw_respond_file (body read with pread) */
    bool file_short;      /* that pread came up short */
} fake_resp;

static int fake_respond(rw_request *r, int status, const rw_header *h, size_t nh,
                        const void *body, size_t len, const rw_body_file *file,
                        void (*release)(void *), void *arg)
{
    fake_resp *f = r->proto;
    f->calls++;
    f->status = status;
    f->nh = 0;
    for (size_t i = 0; i < nh && i < FAKE_MAX_HEADERS; i++) {
        snprintf(f->name[i], FAKE_NAME_MAX, "%.*s", (int)h[i].name.n, h[i].name.p);
        snprintf(f->value[i], FAKE_VALUE_MAX, "%.*s", (int)h[i].value.n, h[i].value.p);
        f->nh++;
    }
    free(f->body);
    f->body = malloc(len + 1);
    f->file = file != NULL;
    if (file) { /* read like userspace TLS does: the file, never the mapping */
        ssize_t got = pread(file->fd, f->body, len, (off_t)file->off);
        f->file_short = got < 0 || (size_t)got != len;
    } else if (len) {
        memcpy(f->body, body, len);
    }
    f->body[len] = 0;
    f->len = len;
    f->body_ptr = body;
    f->ext = release != NULL;
    if (release) {
        if (f->defer_release) {
            f->release = release;
            f->release_arg = arg;
        } else {
            release(arg);
        }
    }
    return 0;
}

static int fake_stream(rw_request *r, int status, const rw_header *h, size_t nh, int64_t clen,
                       rw_stream_fn produce, void *ud, void (*on_close)(void *))
{
    (void)produce;
    int rc = fake_respond(r, status, h, nh, NULL, 0, NULL, NULL, NULL);
    fake_resp *f = r->proto;
    f->stream = true;
    f->stream_clen = clen;
    if (on_close)
        on_close(ud);
    return rc;
}

static const rw_responder fake_responder = { fake_respond, fake_stream, NULL };

static void fake_reset(fake_resp *f)
{
    free(f->body);
    memset(f, 0, sizeof *f);
}

static int fake_method_id(const char *m)
{
    static const char *const names[] = { "", "GET", "HEAD", "POST", "PUT", "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH" };
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(m, names[i]) == 0)
            return i;
    return RW_METHOD_OTHER;
}

/* Builds a request for "METHOD target" with the given headers (views must
 * outlive the request). Resets f. */
static void fake_request(rw_request *r, fake_resp *f, const char *method, const char *target,
                         const rw_header *h, size_t nh)
{
    fake_reset(f);
    memset(r, 0, sizeof *r);
    r->method = rw_str_c(method);
    r->method_id = fake_method_id(method);
    r->target = rw_str_c(target);
    const char *q = strchr(target, '?');
    r->path = q ? rw_str_make(target, (size_t)(q - target)) : rw_str_c(target);
    r->query = q ? rw_str_c(q + 1) : rw_str_make("", 0);
    r->version = 11;
    r->headers = h;
    r->nheaders = nh;
    r->is_head = r->method_id == RW_METHOD_HEAD;
    r->resp = &fake_responder;
    r->proto = f;
}

/* Value of a captured response header (case-insensitive), or NULL. */
static const char *fake_header(const fake_resp *f, const char *name)
{
    for (size_t i = 0; i < f->nh; i++)
        if (strcasecmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

#endif
