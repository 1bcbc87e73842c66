// HPACK micro-benchmarks: ringwire's rw_hpack_encode / rw_hpack_decode
// against nghttp2's HPACK (nghttp2_hd_deflate_hd / nghttp2_hd_inflate_hd2,
// libnghttp2) on the same header lists and the same encoded bytes.
//
// Tables are persistent, as on a real connection: one iteration encodes or
// decodes ONE header block, in order, with the table state the previous
// blocks left.
//   request   a browser-like request (14 fields), the same one again and
//             again: after the first block everything is indexed
//   response  a typical static-file response (12 fields), same scheme
//   sequence  32 different requests of one page load (paths, referers and
//             fetch modes vary; cookie and user agent stay): the dynamic
//             table keeps being filled, hit and evicted
// Both decoders read the blocks our encoder produced (checked at setup: both
// must decode them to the original fields). Decoders restart from an empty
// table every kStreamBlocks blocks (timing paused) because a recorded block
// stream only decodes from its start.
// Counters: items = header fields (ns per field = 1e9 / items_per_second),
// bytes = encoded block bytes (written or read).
#include <benchmark/benchmark.h>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "http2/hpack.h"
}

namespace {

constexpr size_t kTableSize = RW_HPACK_DEFAULT_TABLE_SIZE; // both sides: the HTTP/2 default
constexpr size_t kMaxFields = 64;
constexpr size_t kScratch = 65536;
constexpr size_t kMaxHeaderList = 1 << 20;
constexpr size_t kStreamBlocks = 1024; // decoder restart period (blocks)
constexpr int kSequenceLen = 32;

struct kv {
    std::string name, value;
};
using header_list = std::vector<kv>;

const char kUserAgent[] = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
const char kCookie[] = "_ga=GA1.2.1234567890.1700000000; session=9f8e7d6c5b4a39281706f5e4d3c2b1a0;"
                       " theme=dark; consent=analytics%3Dno%26ads%3Dno";

header_list browser_request(const std::string &path, const std::string &dest,
                            const std::string &accept, const std::string &referer)
{
    return {
        { ":method", "GET" },
        { ":scheme", "https" },
        { ":authority", "www.example.com" },
        { ":path", path },
        { "user-agent", kUserAgent },
        { "accept", accept },
        { "accept-language", "en-US,en;q=0.5" },
        { "accept-encoding", "gzip, deflate, br" },
        { "referer", referer },
        { "cookie", kCookie },
        { "sec-fetch-dest", dest },
        { "sec-fetch-mode", dest == "document" ? "navigate" : "no-cors" },
        { "sec-fetch-site", "same-origin" },
        { "te", "trailers" },
    };
}

const std::vector<header_list> &case_request()
{
    static const std::vector<header_list> c = { browser_request(
        "/products/index.html?ref=home", "document",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "https://www.example.com/") };
    return c;
}

const std::vector<header_list> &case_response()
{
    static const std::vector<header_list> c = { {
        { ":status", "200" },
        { "server", "ringwire" },
        { "date", "Wed, 25 Nov 2026 18:30:00 GMT" },
        { "content-type", "text/html; charset=utf-8" },
        { "content-length", "48213" },
        { "last-modified", "Mon, 23 Nov 2026 09:12:44 GMT" },
        { "etag", "\"65f1c2a9-bc55\"" },
        { "cache-control", "public, max-age=3600" },
        { "vary", "accept-encoding" },
        { "content-encoding", "br" },
        { "x-content-type-options", "nosniff" },
        { "strict-transport-security", "max-age=63072000; includeSubDomains" },
    } };
    return c;
}

const std::vector<header_list> &case_sequence()
{
    static const std::vector<header_list> c = [] {
        std::vector<header_list> v;
        v.push_back(browser_request("/products/index.html", "document",
                                    "text/html,application/xhtml+xml,*/*;q=0.8",
                                    "https://www.example.com/"));
        for (int i = 1; i < kSequenceLen; i++) {
            char path[64];
            const char *dest, *accept;
            if (i % 3 == 0) {
                snprintf(path, sizeof path, "/static/css/section-%d.css?v=4f2a", i);
                dest = "style";
                accept = "text/css,*/*;q=0.1";
            } else if (i % 3 == 1) {
                snprintf(path, sizeof path, "/static/js/chunk-%04d.js", i * 37);
                dest = "script";
                accept = "*/*";
            } else {
                snprintf(path, sizeof path, "/images/products/item-%d-thumb.webp", i * 101);
                dest = "image";
                accept = "image/avif,image/webp,*/*";
            }
            v.push_back(browser_request(path, dest, accept,
                                        "https://www.example.com/products/index.html"));
        }
        return v;
    }();
    return c;
}

std::vector<rw_hpack_field> to_rw(const header_list &h)
{
    std::vector<rw_hpack_field> f;
    for (const auto &x : h)
        f.push_back({ { x.name.data(), x.name.size() }, { x.value.data(), x.value.size() }, 0 });
    return f;
}

std::vector<nghttp2_nv> to_ng(const header_list &h)
{
    std::vector<nghttp2_nv> f;
    for (const auto &x : h)
        f.push_back({ (uint8_t *)x.name.data(), (uint8_t *)x.value.data(), x.name.size(),
                      x.value.size(), NGHTTP2_NV_FLAG_NONE });
    return f;
}

// ---- encoding --------------------------------------------------------------

void bm_encode_ours(benchmark::State &state, const std::vector<header_list> &(*cs)())
{
    const auto &c = cs();
    std::vector<std::vector<rw_hpack_field>> lists;
    size_t cap = 0;
    for (const auto &h : c) {
        lists.push_back(to_rw(h));
        cap = std::max(cap, rw_hpack_encode_bound(lists.back().data(), lists.back().size()));
    }
    std::vector<uint8_t> out(cap);
    rw_hpack_encoder enc;
    if (rw_hpack_encoder_init(&enc, kTableSize) != RW_HPACK_OK) {
        state.SkipWithError("rw_hpack_encoder_init failed");
        return;
    }
    size_t i = 0, fields = 0, bytes = 0;
    for (auto _ : state) {
        const auto &l = lists[i];
        size_t written = 0;
        if (rw_hpack_encode(&enc, l.data(), l.size(), out.data(), out.size(), &written) != 0) {
            state.SkipWithError("rw_hpack_encode failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        fields += l.size();
        bytes += written;
        i = i + 1 == lists.size() ? 0 : i + 1;
    }
    rw_hpack_encoder_free(&enc);
    state.SetItemsProcessed((int64_t)fields);
    state.SetBytesProcessed((int64_t)bytes);
}

void bm_encode_peer(benchmark::State &state, const std::vector<header_list> &(*cs)())
{
    const auto &c = cs();
    std::vector<std::vector<nghttp2_nv>> lists;
    for (const auto &h : c)
        lists.push_back(to_ng(h));
    nghttp2_hd_deflater *def;
    if (nghttp2_hd_deflate_new(&def, kTableSize) != 0) {
        state.SkipWithError("nghttp2_hd_deflate_new failed");
        return;
    }
    size_t cap = 0;
    for (const auto &l : lists)
        cap = std::max(cap, nghttp2_hd_deflate_bound(def, l.data(), l.size()));
    std::vector<uint8_t> out(cap);
    size_t i = 0, fields = 0, bytes = 0;
    for (auto _ : state) {
        const auto &l = lists[i];
        ssize_t n = nghttp2_hd_deflate_hd(def, out.data(), out.size(), l.data(), l.size());
        if (n < 0) {
            state.SkipWithError("nghttp2_hd_deflate_hd failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        fields += l.size();
        bytes += (size_t)n;
        i = i + 1 == lists.size() ? 0 : i + 1;
    }
    nghttp2_hd_deflate_del(def);
    state.SetItemsProcessed((int64_t)fields);
    state.SetBytesProcessed((int64_t)bytes);
}

// ---- decoding --------------------------------------------------------------

// kStreamBlocks consecutive blocks of the case (cycled), from one encoder:
// the bytes a decoder sees on one connection.
struct block_stream {
    std::vector<std::vector<uint8_t>> blocks;
    std::vector<size_t> nfields;
    std::vector<const header_list *> src;
};

bool record(const std::vector<header_list> &c, block_stream *bs)
{
    rw_hpack_encoder enc;
    if (rw_hpack_encoder_init(&enc, kTableSize) != RW_HPACK_OK)
        return false;
    bool ok = true;
    for (size_t b = 0; b < kStreamBlocks && ok; b++) {
        const header_list &h = c[b % c.size()];
        auto f = to_rw(h);
        std::vector<uint8_t> out(rw_hpack_encode_bound(f.data(), f.size()));
        size_t written = 0;
        ok = rw_hpack_encode(&enc, f.data(), f.size(), out.data(), out.size(), &written) == 0;
        out.resize(written);
        bs->blocks.push_back(std::move(out));
        bs->nfields.push_back(h.size());
        bs->src.push_back(&h);
    }
    rw_hpack_encoder_free(&enc);
    return ok;
}

bool same(const kv &want, const char *n, size_t nl, const char *v, size_t vl)
{
    return want.name.size() == nl && want.value.size() == vl &&
           memcmp(want.name.data(), n, nl) == 0 && memcmp(want.value.data(), v, vl) == 0;
}

// Decodes one block with nghttp2; checks the fields when `want` is set.
// Returns the field count or -1.
long peer_decode(nghttp2_hd_inflater *inf, const std::vector<uint8_t> &blk, const header_list *want)
{
    const uint8_t *in = blk.data();
    size_t left = blk.size();
    long n = 0;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, left, 1);
        if (r < 0)
            return -1;
        in += r;
        left -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (want && ((size_t)n >= want->size() ||
                         !same((*want)[(size_t)n], (const char *)nv.name, nv.namelen,
                               (const char *)nv.value, nv.valuelen)))
                return -1;
            n++;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(inf);
            return n;
        }
        if (r == 0 && left == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT))
            return -1;
    }
}

struct ours_decoder {
    rw_hpack_decoder d;
    std::vector<rw_hpack_field> f = std::vector<rw_hpack_field>(kMaxFields);
    std::vector<char> scratch = std::vector<char>(kScratch);
    bool init() { return rw_hpack_decoder_init(&d, kTableSize) == RW_HPACK_OK; }
    void reset()
    {
        rw_hpack_decoder_free(&d);
        init();
    }
    ~ours_decoder() { rw_hpack_decoder_free(&d); }
    long decode(const std::vector<uint8_t> &blk, const header_list *want)
    {
        size_t n = 0;
        if (rw_hpack_decode(&d, blk.data(), blk.size(), f.data(), f.size(), scratch.data(),
                            scratch.size(), kMaxHeaderList, &n) != RW_HPACK_OK)
            return -1;
        if (want) {
            if (n != want->size())
                return -1;
            for (size_t i = 0; i < n; i++)
                if (!same((*want)[i], f[i].name.p, f[i].name.n, f[i].value.p, f[i].value.n))
                    return -1;
        }
        return (long)n;
    }
};

// Both decoders must turn the recorded stream back into the input fields.
bool verify(const block_stream &bs)
{
    ours_decoder o;
    nghttp2_hd_inflater *inf;
    if (!o.init() || nghttp2_hd_inflate_new(&inf) != 0)
        return false;
    bool ok = true;
    for (size_t b = 0; b < bs.blocks.size() && ok; b++)
        ok = o.decode(bs.blocks[b], bs.src[b]) >= 0 && peer_decode(inf, bs.blocks[b], bs.src[b]) >= 0;
    nghttp2_hd_inflate_del(inf);
    return ok;
}

const block_stream *stream_of(const std::vector<header_list> &(*cs)(), benchmark::State &state)
{
    static std::vector<std::pair<const std::vector<header_list> &(*)(), block_stream>> cache;
    for (auto &e : cache)
        if (e.first == cs)
            return &e.second;
    block_stream bs;
    if (!record(cs(), &bs) || !verify(bs)) {
        state.SkipWithError("recorded HPACK stream does not round-trip");
        return nullptr;
    }
    cache.emplace_back(cs, std::move(bs));
    return &cache.back().second;
}

void bm_decode_ours(benchmark::State &state, const std::vector<header_list> &(*cs)())
{
    const block_stream *bs = stream_of(cs, state);
    if (!bs)
        return;
    ours_decoder o;
    if (!o.init()) {
        state.SkipWithError("rw_hpack_decoder_init failed");
        return;
    }
    size_t b = 0, fields = 0, bytes = 0;
    for (auto _ : state) {
        if (b == bs->blocks.size()) {
            state.PauseTiming();
            o.reset();
            b = 0;
            state.ResumeTiming();
        }
        long n = o.decode(bs->blocks[b], nullptr);
        if (n < 0) {
            state.SkipWithError("rw_hpack_decode failed");
            break;
        }
        benchmark::DoNotOptimize(o.f.data());
        fields += (size_t)n;
        bytes += bs->blocks[b].size();
        b++;
    }
    state.SetItemsProcessed((int64_t)fields);
    state.SetBytesProcessed((int64_t)bytes);
}

void bm_decode_peer(benchmark::State &state, const std::vector<header_list> &(*cs)())
{
    const block_stream *bs = stream_of(cs, state);
    if (!bs)
        return;
    nghttp2_hd_inflater *inf;
    if (nghttp2_hd_inflate_new(&inf) != 0) {
        state.SkipWithError("nghttp2_hd_inflate_new failed");
        return;
    }
    size_t b = 0, fields = 0, bytes = 0;
    for (auto _ : state) {
        if (b == bs->blocks.size()) {
            state.PauseTiming();
            nghttp2_hd_inflate_del(inf);
            if (nghttp2_hd_inflate_new(&inf) != 0)
                abort();
            b = 0;
            state.ResumeTiming();
        }
        long n = peer_decode(inf, bs->blocks[b], nullptr);
        if (n < 0) {
            state.SkipWithError("nghttp2_hd_inflate_hd2 failed");
            break;
        }
        fields += (size_t)n;
        bytes += bs->blocks[b].size();
        b++;
    }
    nghttp2_hd_inflate_del(inf);
    state.SetItemsProcessed((int64_t)fields);
    state.SetBytesProcessed((int64_t)bytes);
}

} // namespace

#define RW_HPACK_BENCH(op, name, fn)                                                           \
    BENCHMARK_CAPTURE(bm_##op##_ours, name, fn)->Name("hpack/" #op "/ringwire/" #name);        \
    BENCHMARK_CAPTURE(bm_##op##_peer, name, fn)->Name("hpack/" #op "/nghttp2/" #name)

RW_HPACK_BENCH(encode, request, case_request);
RW_HPACK_BENCH(encode, response, case_response);
RW_HPACK_BENCH(encode, sequence, case_sequence);
RW_HPACK_BENCH(decode, request, case_request);
RW_HPACK_BENCH(decode, response, case_response);
RW_HPACK_BENCH(decode, sequence, case_sequence);
