/* SSE formatting: each event/comment against its exact text/event-stream
 * bytes; size() agrees with write(); a buffer one byte short writes
 * nothing; fields with line breaks (or NUL in id) are refused. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sse/sse_format.h"

#define NO_STR ((rw_str){ NULL, 0 })
#define L(lit) RW_STR(lit)

typedef struct ecase {
    const char *name;
    rw_sse_event e;
    const char *want; /* NULL: invalid */
} ecase;

static const ecase k_cases[] = {
    { "data only", { NO_STR, NO_STR, L("hello"), -1 }, "data: hello\n\n" },
    { "all fields", { L("update"), L("42"), L("x"), 3000 }, "event: update\nid: 42\nretry: 3000\ndata: x\n\n" },
    { "LF lines", { NO_STR, NO_STR, L("a\nb\nc"), -1 }, "data: a\ndata: b\ndata: c\n\n" },
    { "CRLF lines", { NO_STR, NO_STR, L("a\r\nb"), -1 }, "data: a\ndata: b\n\n" },
    { "CR lines", { NO_STR, NO_STR, L("a\rb"), -1 }, "data: a\ndata: b\n\n" },
    { "CR CR is two breaks", { NO_STR, NO_STR, L("a\r\rb"), -1 }, "data: a\ndata:\ndata: b\n\n" },
    { "LF CR is two breaks", { NO_STR, NO_STR, L("a\n\rb"), -1 }, "data: a\ndata:\ndata: b\n\n" },
    { "trailing newline kept", { NO_STR, NO_STR, L("a\n"), -1 }, "data: a\ndata:\n\n" },
    { "leading space kept", { NO_STR, NO_STR, L(" a"), -1 }, "data:  a\n\n" },
    { "empty data", { NO_STR, NO_STR, L(""), -1 }, "data:\n\n" },
    { "colon in data", { NO_STR, NO_STR, L("k: v"), -1 }, "data: k: v\n\n" },
    { "no data (retry only)", { NO_STR, NO_STR, NO_STR, 0 }, "retry: 0\n\n" },
    { "empty id resets", { NO_STR, L(""), NO_STR, -1 }, "id:\n\n" },
    { "empty event omitted", { L(""), NO_STR, L("d"), -1 }, "data: d\n\n" },
    { "big retry", { NO_STR, NO_STR, NO_STR, RW_SSE_MAX_RETRY_MS }, "retry: 999999999999\n\n" },
    { "id with LF", { NO_STR, L("a\nb"), L("x"), -1 }, NULL },
    { "id with CR", { NO_STR, L("a\rb"), L("x"), -1 }, NULL },
    { "id with NUL", { NO_STR, { "a\0b", 3 }, L("x"), -1 }, NULL },
    { "event with LF", { L("a\nevent: evil"), NO_STR, L("x"), -1 }, NULL },
    { "event with CR", { L("a\r"), NO_STR, L("x"), -1 }, NULL },
    { "retry too big", { NO_STR, NO_STR, NO_STR, RW_SSE_MAX_RETRY_MS + 1 }, NULL },
};

static void test_events(void)
{
    char out[256];
    for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
        const ecase *c = &k_cases[i];
        size_t sz = rw_sse_event_size(&c->e);
        memset(out, '#', sizeof(out));
        size_t n = rw_sse_event_write(&c->e, out, sizeof(out));
        if (!c->want) {
            CHECK(sz == 0 && n == 0 && !rw_sse_event_valid(&c->e) && out[0] == '#',
                  "[%s] should be refused: size %zu, wrote %zu", c->name, sz, n);
            continue;
        }
        size_t wl = strlen(c->want);
        CHECK(n == wl && memcmp(out, c->want, wl) == 0, "[%s]\n  want %s\n  got  %.*s", c->name,
              c->want, (int)n, out);
        CHECK(sz == n, "[%s] size %zu, wrote %zu", c->name, sz, n);
        memset(out, '#', sizeof(out));
        CHECK(rw_sse_event_write(&c->e, out, wl - 1) == 0 && out[0] == '#',
              "[%s] one byte short writes nothing", c->name);
    }
}

static void test_comments(void)
{
    char out[64];
    size_t n = rw_sse_comment_write(RW_STR("ping"), out, sizeof(out));
    CHECK(n == 7 && memcmp(out, ": ping\n", 7) == 0, "ping comment: %.*s", (int)n, out);
    n = rw_sse_comment_write(RW_STR(""), out, sizeof(out));
    CHECK(n == 2 && memcmp(out, ":\n", 2) == 0, "empty comment: %.*s", (int)n, out);
    n = rw_sse_comment_write(RW_STR("a\r\nb"), out, sizeof(out));
    CHECK(n == 8 && memcmp(out, ": a\n: b\n", 8) == 0, "multi-line comment: %.*s", (int)n, out);
    CHECK(rw_sse_comment_size(RW_STR("a\r\nb")) == 8, "comment size");
    CHECK(rw_sse_comment_write(RW_STR("ping"), out, 6) == 0, "comment one byte short");
}

int main(void)
{
    test_events();
    test_comments();
    return check_summary("test_sse_format");
}
