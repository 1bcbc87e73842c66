// HTTP/1 request-head parser micro-benchmarks: ringwire's rw_h1_parse_request
// against picohttpparser's phr_parse_request (exported by Debian's
// libh2o-evloop.so, which ships no header, so the prototype is declared here).
//
// Every iteration parses every request head in the buffer, one after another,
// exactly as a connection would: parse, skip the body, parse the next.
// A parse failure aborts the benchmark (SkipWithError) so the smoke test
// fails instead of timing an error path.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "corpus.h"

extern "C" {
#include "http1/parser.h"

struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);
}

namespace {

// Room for the largest corpus entry; both parsers get the same capacity.
constexpr unsigned kMaxHeaders = 64;
constexpr size_t kMaxRequestLine = 8192;
constexpr size_t kMaxHeaderBytes = 65536;

// Body length of a picohttpparser-parsed head, so both harnesses skip the
// same bytes. picohttpparser does not interpret framing; this does the
// minimum a server built on it must do.
size_t phr_content_length(const phr_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 14 && strncasecmp(h[i].name, "content-length", 14) == 0) {
            size_t v = 0;
            for (size_t k = 0; k < h[i].value_len; k++)
                v = v * 10 + (size_t)(h[i].value[k] - '0');
            return v;
        }
    }
    return 0;
}

void bm_ours(benchmark::State &state, const rwbench::corpus_entry &c)
{
    rw_h1_limits lim;
    lim.max_request_line = kMaxRequestLine;
    lim.max_header_bytes = kMaxHeaderBytes;
    lim.max_headers = kMaxHeaders;
    rw_header headers[kMaxHeaders];
    const char *buf = c.bytes.data();
    const size_t len = c.bytes.size();

    for (auto _ : state) {
        size_t off = 0;
        int parsed = 0;
        while (off < len) {
            rw_h1_request req;
            int r = rw_h1_parse_request(buf + off, len - off, &req, headers, &lim);
            if (r <= 0) {
                state.SkipWithError("rw_h1_parse_request did not accept the corpus");
                return;
            }
            benchmark::DoNotOptimize(req);
            off += (size_t)r;
            if (req.body == RW_H1_BODY_LENGTH)
                off += (size_t)req.content_length;
            parsed++;
        }
        if (parsed != c.requests) {
            state.SkipWithError("wrong number of requests parsed");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations() * c.requests);
    state.SetBytesProcessed(state.iterations() * (int64_t)len);
}

void bm_peer(benchmark::State &state, const rwbench::corpus_entry &c)
{
    phr_header headers[kMaxHeaders];
    const char *buf = c.bytes.data();
    const size_t len = c.bytes.size();

    for (auto _ : state) {
        size_t off = 0;
        int parsed = 0;
        while (off < len) {
            const char *method, *path;
            size_t method_len, path_len, nh = kMaxHeaders;
            int minor;
            int r = phr_parse_request(buf + off, len - off, &method, &method_len, &path, &path_len,
                                      &minor, headers, &nh, 0);
            if (r <= 0) {
                state.SkipWithError("phr_parse_request did not accept the corpus");
                return;
            }
            benchmark::DoNotOptimize(method);
            benchmark::DoNotOptimize(path);
            benchmark::DoNotOptimize(headers);
            off += (size_t)r + phr_content_length(headers, nh);
            parsed++;
        }
        if (parsed != c.requests) {
            state.SkipWithError("wrong number of requests parsed");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations() * c.requests);
    state.SetBytesProcessed(state.iterations() * (int64_t)len);
}

const rwbench::corpus_entry kShortGet{ "short_get", rwbench::short_get(), 1 };
const rwbench::corpus_entry kBrowserGet{ "browser_get", rwbench::browser_get(), 1 };
const rwbench::corpus_entry kPostSmall{ "post_small", rwbench::post_small(), 1 };
const rwbench::corpus_entry kPipelined{ "pipelined16", rwbench::pipelined_batch(),
                                        rwbench::kPipelineDepth };

} // namespace

// Names are parse/<parser>/<corpus>; bench/report.py pairs them by corpus.
BENCHMARK_CAPTURE(bm_ours, short_get, kShortGet)->Name("parse/ringwire/short_get");
BENCHMARK_CAPTURE(bm_peer, short_get, kShortGet)->Name("parse/picohttpparser/short_get");
BENCHMARK_CAPTURE(bm_ours, browser_get, kBrowserGet)->Name("parse/ringwire/browser_get");
BENCHMARK_CAPTURE(bm_peer, browser_get, kBrowserGet)->Name("parse/picohttpparser/browser_get");
BENCHMARK_CAPTURE(bm_ours, post_small, kPostSmall)->Name("parse/ringwire/post_small");
BENCHMARK_CAPTURE(bm_peer, post_small, kPostSmall)->Name("parse/picohttpparser/post_small");
BENCHMARK_CAPTURE(bm_ours, pipelined16, kPipelined)->Name("parse/ringwire/pipelined16");
BENCHMARK_CAPTURE(bm_peer, pipelined16, kPipelined)->Name("parse/picohttpparser/pipelined16");
