/* Prometheus exposition rendering: label escaping, sums of per-thread
 * counters, the size bound and the all-or-nothing failure on a small buffer. */
#include <stdlib.h>
#include <string.h>

#include "app/metrics.h"
#include "check.h"

static const char *find_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return p;
    return NULL;
}

static void test_render(void)
{
    rw_stats t[3];
    memset(t, 0, sizeof t);
    t[0].requests = 10;
    t[1].requests = 5;
    t[2].requests = 1;
    t[1].requests_h2 = 4;
    t[0].responses_by_class[2] = 9;
    t[2].responses_by_class[4] = 2;
    t[0].loop_iterations = 7;
    t[2].loop_iterations = 18446744073709551615ull;
    t[1].enobufs = 3;
    rw_metrics_snapshot m = { t, 3, 42, "1.2\"x", "a\\b\nc", 5, 7, 1 };
    size_t cap = rw_metrics_bound(&m);
    char *buf = malloc(cap);
    size_t len = rw_metrics_render(&m, buf, cap);
    CHECK(len > 0 && len < cap, "rendered %zu of %zu", len, cap);
    buf[len] = '\0';
    CHECK(find_line(buf, "ringwire_build_info{version=\"1.2\\\"x\",backend=\"a\\\\b\\nc\"} 1"),
          "escaped build_info in:\n%s", buf);
    CHECK(find_line(buf, "ringwire_connections_open 42"), "open");
    CHECK(find_line(buf, "ringwire_buffered_request_bytes 5"), "buffered gauge");
    CHECK(find_line(buf, "ringwire_buffered_request_limit_bytes 7"), "buffered limit");
    CHECK(find_line(buf, "ringwire_buffered_request_refused_total 1"), "buffered refused");
    CHECK(find_line(buf, "ringwire_requests_total{proto=\"http1\"} 12"), "http1 = 16 - 4");
    CHECK(find_line(buf, "ringwire_requests_total{proto=\"h2\"} 4"), "h2");
    CHECK(find_line(buf, "ringwire_responses_total{class=\"2xx\"} 9"), "2xx");
    CHECK(find_line(buf, "ringwire_responses_total{class=\"4xx\"} 2"), "4xx");
    CHECK(find_line(buf, "ringwire_uring_enobufs_total 3"), "enobufs");
    CHECK(find_line(buf, "ringwire_loop_iterations_total{thread=\"0\"} 7"), "thread 0");
    CHECK(find_line(buf, "ringwire_loop_iterations_total{thread=\"1\"} 0"), "thread 1");
    CHECK(find_line(buf, "ringwire_loop_iterations_total{thread=\"2\"} 18446744073709551615"),
          "thread 2, u64 max");
    CHECK(find_line(buf, "# TYPE ringwire_submits_total counter"), "TYPE line");
    CHECK(buf[len - 1] == '\n', "ends with a newline");
    /* Every byte short of the real size must fail cleanly, never truncate. */
    char *small = malloc(len);
    for (size_t c = 0; c < len; c += 97)
        CHECK(rw_metrics_render(&m, small, c) == 0, "cap %zu accepted", c);
    CHECK(rw_metrics_render(&m, small, len - 1) == 0, "cap len-1 accepted");
    CHECK(rw_metrics_render(&m, buf, len) == len, "exact cap");
    free(small);
    free(buf);
}

static void test_bound_scales(void)
{
    enum { N = 1024 };
    rw_stats *t = calloc(N, sizeof *t);
    for (int i = 0; i < N; i++) {
        t[i].loop_iterations = t[i].completions = t[i].submits = UINT64_MAX;
    }
    rw_metrics_snapshot m = { t, N, UINT64_MAX, "0.1.0", "uring", UINT64_MAX, UINT64_MAX,
                              UINT64_MAX };
    size_t cap = rw_metrics_bound(&m);
    char *buf = malloc(cap);
    CHECK(rw_metrics_render(&m, buf, cap) > 0, "1024 threads with maximal values fit the bound");
    free(buf);
    free(t);
}

int main(void)
{
    test_render();
    test_bound_scales();
    return check_summary("metrics");
}
