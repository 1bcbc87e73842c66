/* text/event-stream writer. One walker (emit) serves both the size and the
 * write: with out == NULL it only counts, so the two can never disagree. */
#include "sse/sse_format.h"

#include <string.h>

typedef struct sink {
    char *out; /* NULL: count only */
    size_t n;
} sink;

static void put(sink *s, const char *p, size_t n)
{
    if (s->out && n)
        memcpy(s->out + s->n, p, n);
    s->n += n;
}

static bool field_ok(rw_str v, bool allow_nul)
{
    for (size_t i = 0; i < v.n; i++)
        if (v.p[i] == '\n' || v.p[i] == '\r' || (!allow_nul && v.p[i] == '\0'))
            return false;
    return true;
}

bool rw_sse_event_valid(const rw_sse_event *e)
{
    return field_ok(e->event, true) && (!e->id.p || field_ok(e->id, false)) &&
           e->retry_ms <= RW_SSE_MAX_RETRY_MS;
}

/* "<name><line>\n" for each line of v (split on CRLF, LF, CR); an empty
 * line is written with empty_name (the name without the trailing space). */
static void lines(sink *s, const char *name, const char *empty_name, rw_str v)
{
    size_t start = 0;
    for (size_t i = 0;; i++) {
        if (i == v.n || v.p[i] == '\n' || v.p[i] == '\r') {
            if (i == start) {
                put(s, empty_name, strlen(empty_name));
            } else {
                put(s, name, strlen(name));
                put(s, v.p + start, i - start);
            }
            put(s, "\n", 1);
            if (i == v.n)
                return;
            if (v.p[i] == '\r' && i + 1 < v.n && v.p[i + 1] == '\n')
                i++;
            start = i + 1;
        }
    }
}

static void emit(sink *s, const rw_sse_event *e)
{
    if (e->event.n) {
        put(s, "event: ", 7);
        put(s, e->event.p, e->event.n);
        put(s, "\n", 1);
    }
    if (e->id.p) {
        if (e->id.n) {
            put(s, "id: ", 4);
            put(s, e->id.p, e->id.n);
            put(s, "\n", 1);
        } else {
            put(s, "id:\n", 4);
        }
    }
    if (e->retry_ms >= 0) {
        char num[24];
        size_t k = sizeof(num);
        uint64_t r = (uint64_t)e->retry_ms;
        do {
            num[--k] = (char)('0' + r % 10);
            r /= 10;
        } while (r);
        put(s, "retry: ", 7);
        put(s, num + k, sizeof(num) - k);
        put(s, "\n", 1);
    }
    if (e->data.p)
        lines(s, "data: ", "data:", e->data);
    put(s, "\n", 1);
}

size_t rw_sse_event_size(const rw_sse_event *e)
{
    if (!rw_sse_event_valid(e))
        return 0;
    sink s = { NULL, 0 };
    emit(&s, e);
    return s.n;
}

size_t rw_sse_event_write(const rw_sse_event *e, char *out, size_t cap)
{
    size_t need = rw_sse_event_size(e);
    if (!need || cap < need)
        return 0;
    sink s = { out, 0 };
    emit(&s, e);
    return s.n;
}

size_t rw_sse_comment_size(rw_str text)
{
    sink s = { NULL, 0 };
    lines(&s, ": ", ":", text);
    return s.n;
}

size_t rw_sse_comment_write(rw_str text, char *out, size_t cap)
{
    size_t need = rw_sse_comment_size(text);
    if (cap < need)
        return 0;
    sink s = { out, 0 };
    lines(&s, ": ", ":", text);
    return s.n;
}
