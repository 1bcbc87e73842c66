// WebSocket, UTF-8 and SSE micro-benchmarks.
//
//   ws_frame   one masked binary frame (64 B, 16 KiB payload) received and
//              unmasked: rw_ws_frame_parse + rw_ws_frame_unmask_to into a
//              destination buffer (ours) vs wslay's frame layer
//              (wslay_frame_recv over an in-memory recv callback, which
//              copies into wslay's own buffer and unmasks there). Peer:
//              wslay (libwslay). wslay does not export its unmask routine,
//              so its whole receive path is the fair unit. Built only with
//              RW_BENCH_WSLAY (CMake found libwslay).
//   ws_unmask  rw_ws_unmask_copy (widest path the CPU has) vs
//              rw_ws_unmask_scalar, our byte-at-a-time twin. No peer.
//   utf8       rw_utf8_valid on ASCII and mixed (1-4 byte sequences) text of
//              64 B and 16 KiB vs a plain byte-at-a-time validator written
//              below ("baseline", not a peer: wslay does not validate
//              UTF-8).
//   sse        rw_sse_event_size + rw_sse_event_write per event (short
//              one-line data; multi-line data with event type and id). No
//              peer.
// Every case checks its result at setup (same payload out of both frame
// receivers, the validators agree and accept the text, the SSE bytes match
// the expected text) and aborts with an error otherwise, which fails
// bench.smoke.
// Counters: items = frames / buffers / events, bytes = payload or text bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef RW_BENCH_WSLAY
#include <wslay/wslay.h>
#endif

extern "C" {
#include "sse/sse_format.h"
#include "ws/ws_frame.h"
#include "ws/ws_unmask.h"
#include "ws/ws_utf8.h"
}

namespace {

constexpr size_t kSmall = 64;
constexpr size_t kLarge = 16 * 1024;
constexpr uint8_t kKey[RW_WS_MASK_LEN] = { 0x37, 0xfa, 0x21, 0x3d };

std::vector<uint8_t> payload_of(size_t n)
{
    std::vector<uint8_t> p(n);
    uint32_t x = 0x9e3779b9u; // fixed xorshift: reproducible, not all one value
    for (auto &b : p) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = (uint8_t)x;
    }
    return p;
}

struct masked_frame {
    std::vector<uint8_t> payload; // plain
    std::vector<uint8_t> wire;    // header + masked payload, as a client sends it
};

const masked_frame &frame_of(size_t n)
{
    static masked_frame small, large;
    masked_frame &f = n == kSmall ? small : large;
    if (f.wire.empty()) {
        f.payload = payload_of(n);
        f.wire.resize(n + RW_WS_MAX_HEADER_LEN);
        size_t w = rw_ws_frame_build(f.wire.data(), f.wire.size(), true, 0, RW_WS_OP_BINARY,
                                     f.payload.data(), n, kKey);
        f.wire.resize(w);
    }
    return f;
}

// ---- ws_frame: ours --------------------------------------------------------

// Parses one whole frame from wire and unmasks its payload into dst.
// Returns the payload bytes, or -1.
long ours_recv(rw_ws_frame_parser *p, const std::vector<uint8_t> &wire, uint8_t *dst)
{
    const uint8_t *in = wire.data();
    size_t left = wire.size();
    long got = 0;
    for (;;) {
        size_t used = 0;
        rw_ws_chunk c;
        rw_ws_frame_result r = rw_ws_frame_parse(p, in, left, &used, &c);
        in += used;
        left -= used;
        switch (r) {
        case RW_WS_FRAME_HEADER:
            break;
        case RW_WS_FRAME_DATA:
            rw_ws_frame_unmask_to(p, &c, dst + c.off);
            got += (long)c.n;
            break;
        case RW_WS_FRAME_END:
            return left == 0 ? got : -1;
        default:
            return -1;
        }
    }
}

bool ours_check(const masked_frame &f)
{
    rw_ws_frame_parser p;
    rw_ws_frame_parser_init(&p, true, 0, 0);
    std::vector<uint8_t> out(f.payload.size());
    long n = ours_recv(&p, f.wire, out.data());
    return n == (long)f.payload.size() && out == f.payload;
}

void bm_frame_ours(benchmark::State &state, size_t n)
{
    const masked_frame &f = frame_of(n);
    if (!ours_check(f)) {
        state.SkipWithError("ringwire frame parser did not return the payload");
        return;
    }
    rw_ws_frame_parser p;
    rw_ws_frame_parser_init(&p, true, 0, 0);
    std::vector<uint8_t> out(n);
    size_t frames = 0;
    for (auto _ : state) {
        if (ours_recv(&p, f.wire, out.data()) != (long)n) {
            state.SkipWithError("rw_ws_frame_parse failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        frames++;
    }
    state.SetItemsProcessed((int64_t)frames);
    state.SetBytesProcessed((int64_t)(frames * n));
}

// ---- ws_frame: wslay -------------------------------------------------------
#ifdef RW_BENCH_WSLAY

// The "socket": the same frame over and over; a read never crosses the end
// of a frame (as if each frame arrived in its own segment).
struct mem_source {
    const std::vector<uint8_t> *wire;
    size_t pos;
};

ssize_t mem_recv(uint8_t *buf, size_t len, int, void *ud)
{
    auto *s = static_cast<mem_source *>(ud);
    size_t n = std::min(len, s->wire->size() - s->pos);
    memcpy(buf, s->wire->data() + s->pos, n);
    s->pos += n;
    if (s->pos == s->wire->size())
        s->pos = 0;
    return (ssize_t)n;
}

ssize_t no_send(const uint8_t *, size_t, int, void *) { return -1; }
int no_genmask(uint8_t *, size_t, void *) { return -1; }

struct wslay_rx {
    mem_source src{};
    wslay_frame_context_ptr ctx = nullptr;
    bool init(const std::vector<uint8_t> &wire)
    {
        static const wslay_frame_callbacks cb = { no_send, mem_recv, no_genmask };
        src = { &wire, 0 };
        return wslay_frame_context_init(&ctx, &cb, &src) == 0;
    }
    ~wslay_rx()
    {
        if (ctx)
            wslay_frame_context_free(ctx);
    }
    // Receives one whole frame; copies the unmasked payload into dst when
    // given (setup check only: wslay hands out a view, as our parser does).
    long recv(uint8_t *dst)
    {
        long got = 0;
        for (;;) {
            wslay_frame_iocb io;
            ssize_t r = wslay_frame_recv(ctx, &io);
            if (r < 0 || !io.mask)
                return -1;
            if (dst && io.data_length)
                memcpy(dst + got, io.data, io.data_length);
            benchmark::DoNotOptimize(io.data);
            got += (long)io.data_length;
            if ((uint64_t)got == io.payload_length)
                return got;
        }
    }
};

bool wslay_check(const masked_frame &f)
{
    wslay_rx w;
    if (!w.init(f.wire))
        return false;
    std::vector<uint8_t> out(f.payload.size());
    for (int i = 0; i < 2; i++) { // twice: the second frame starts from wslay's leftover state
        if (w.recv(out.data()) != (long)f.payload.size() || out != f.payload)
            return false;
    }
    return true;
}

void bm_frame_wslay(benchmark::State &state, size_t n)
{
    const masked_frame &f = frame_of(n);
    if (!wslay_check(f) || !ours_check(f)) {
        state.SkipWithError("wslay and ringwire do not yield the same payload");
        return;
    }
    wslay_rx w;
    if (!w.init(f.wire)) {
        state.SkipWithError("wslay_frame_context_init failed");
        return;
    }
    size_t frames = 0;
    for (auto _ : state) {
        if (w.recv(nullptr) != (long)n) {
            state.SkipWithError("wslay_frame_recv failed");
            break;
        }
        frames++;
    }
    state.SetItemsProcessed((int64_t)frames);
    state.SetBytesProcessed((int64_t)(frames * n));
}

#endif // RW_BENCH_WSLAY

// ---- ws_unmask -------------------------------------------------------------

void bm_unmask(benchmark::State &state, bool fast, size_t n)
{
    const masked_frame &f = frame_of(n);
    const uint8_t *src = f.wire.data() + (f.wire.size() - n);
    std::vector<uint8_t> out(n);
    // Odd phase too: a piece that starts mid-key must come out right.
    for (unsigned ph = 0; ph < RW_WS_MASK_LEN; ph++) {
        std::vector<uint8_t> a(n), b(n);
        unsigned pa = rw_ws_unmask_copy(a.data(), src, n, kKey, ph);
        unsigned pb = rw_ws_unmask_scalar(b.data(), src, n, kKey, ph);
        if (pa != pb || a != b || (ph == 0 && a != f.payload)) {
            state.SkipWithError("rw_ws_unmask_copy and rw_ws_unmask_scalar disagree");
            return;
        }
    }
    size_t bufs = 0;
    for (auto _ : state) {
        // fast is loop-invariant: the branch predicts perfectly
        unsigned ph = fast ? rw_ws_unmask_copy(out.data(), src, n, kKey, 0)
                           : rw_ws_unmask_scalar(out.data(), src, n, kKey, 0);
        benchmark::DoNotOptimize(ph);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        bufs++;
    }
    state.SetItemsProcessed((int64_t)bufs);
    state.SetBytesProcessed((int64_t)(bufs * n));
}

// ---- utf8 ------------------------------------------------------------------

// Baseline: the textbook validator, one byte per step, Unicode Table 3-7
// ranges for the byte after a lead byte, 80..BF for the rest.
bool baseline_utf8(const uint8_t *p, size_t n)
{
    unsigned need = 0;
    uint8_t lo = 0x80, hi = 0xbf;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (need) {
            if (c < lo || c > hi)
                return false;
            lo = 0x80;
            hi = 0xbf;
            need--;
            continue;
        }
        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
    }
    return need == 0;
}

// n bytes of text cut at a character boundary (padded with ASCII).
std::string text_of(bool mixed, size_t n)
{
    static const char *const kAscii =
        "The quick brown fox jumps over the lazy dog; {\"id\":42,\"ok\":true} ";
    // 1-, 2-, 3- and 4-byte sequences: Latin-1, Greek, CJK, emoji.
    static const char *const kMixed =
        "caf\xc3\xa9 na\xc3\xafve \xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1 "
        "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80\xf0\x9f\x9a\x80 ok ";
    const std::string unit = mixed ? kMixed : kAscii;
    std::string s;
    while (s.size() + unit.size() <= n)
        s += unit;
    // Fill the rest with ASCII so the size is exact and no sequence is cut.
    while (s.size() < n)
        s += 'x';
    return s;
}

void bm_utf8(benchmark::State &state, bool ours, bool mixed, size_t n)
{
    const std::string t = text_of(mixed, n);
    const auto *p = reinterpret_cast<const uint8_t *>(t.data());
    std::string bad = t;
    bad[n / 2] = '\xc0'; // an overlong lead byte: both must reject
    const auto *q = reinterpret_cast<const uint8_t *>(bad.data());
    if (t.size() != n || !rw_utf8_valid(p, n) || !baseline_utf8(p, n) || rw_utf8_valid(q, n) ||
        baseline_utf8(q, n) || (mixed && rw_utf8_ascii_prefix(p, n) == n)) {
        state.SkipWithError("UTF-8 validators disagree on the test text");
        return;
    }
    size_t bufs = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(p);
        bool ok = ours ? rw_utf8_valid(p, n) : baseline_utf8(p, n);
        benchmark::DoNotOptimize(ok);
        if (!ok) {
            state.SkipWithError("valid text rejected");
            break;
        }
        bufs++;
    }
    state.SetItemsProcessed((int64_t)bufs);
    state.SetBytesProcessed((int64_t)(bufs * n));
}

// ---- sse -------------------------------------------------------------------

struct sse_case {
    rw_sse_event ev;
    const char *want;
};

rw_str str_of(const char *s) { return { s, strlen(s) }; }

const sse_case &sse_short()
{
    static const sse_case c = { { { nullptr, 0 }, { nullptr, 0 }, str_of("{\"price\":101.25,\"qty\":3}"), -1 },
                                "data: {\"price\":101.25,\"qty\":3}\n\n" };
    return c;
}

const sse_case &sse_multiline()
{
    static const sse_case c = {
        { str_of("update"), str_of("1842"),
          str_of("line one of the update\r\nline two\nline three, a bit longer than the others\n"
                 "{\"a\":1,\"b\":[2,3]}"),
          -1 },
        "event: update\nid: 1842\ndata: line one of the update\ndata: line two\n"
        "data: line three, a bit longer than the others\ndata: {\"a\":1,\"b\":[2,3]}\n\n"
    };
    return c;
}

void bm_sse(benchmark::State &state, const sse_case &(*cs)())
{
    const sse_case &c = cs();
    const size_t want = strlen(c.want);
    std::vector<char> out(want + 64);
    if (rw_sse_event_size(&c.ev) != want ||
        rw_sse_event_write(&c.ev, out.data(), out.size()) != want ||
        memcmp(out.data(), c.want, want) != 0) {
        state.SkipWithError("rw_sse_event_write did not produce the expected text");
        return;
    }
    size_t events = 0, bytes = 0;
    for (auto _ : state) {
        size_t need = rw_sse_event_size(&c.ev); // what a caller reserves first
        size_t w = rw_sse_event_write(&c.ev, out.data(), need);
        if (w == 0) {
            state.SkipWithError("rw_sse_event_write failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        events++;
        bytes += w;
    }
    state.SetItemsProcessed((int64_t)events);
    state.SetBytesProcessed((int64_t)bytes);
}

} // namespace

BENCHMARK_CAPTURE(bm_frame_ours, 64B, kSmall)->Name("ws_frame/ringwire/64B");
#ifdef RW_BENCH_WSLAY
BENCHMARK_CAPTURE(bm_frame_wslay, 64B, kSmall)->Name("ws_frame/wslay/64B");
#endif
BENCHMARK_CAPTURE(bm_frame_ours, 16KiB, kLarge)->Name("ws_frame/ringwire/16KiB");
#ifdef RW_BENCH_WSLAY
BENCHMARK_CAPTURE(bm_frame_wslay, 16KiB, kLarge)->Name("ws_frame/wslay/16KiB");
#endif

BENCHMARK_CAPTURE(bm_unmask, fast_64B, true, kSmall)->Name("ws_unmask/ringwire/64B");
BENCHMARK_CAPTURE(bm_unmask, scalar_64B, false, kSmall)->Name("ws_unmask/scalar/64B");
BENCHMARK_CAPTURE(bm_unmask, fast_16KiB, true, kLarge)->Name("ws_unmask/ringwire/16KiB");
BENCHMARK_CAPTURE(bm_unmask, scalar_16KiB, false, kLarge)->Name("ws_unmask/scalar/16KiB");

BENCHMARK_CAPTURE(bm_utf8, ours_ascii_64B, true, false, kSmall)->Name("utf8/ringwire/ascii_64B");
BENCHMARK_CAPTURE(bm_utf8, base_ascii_64B, false, false, kSmall)->Name("utf8/baseline/ascii_64B");
BENCHMARK_CAPTURE(bm_utf8, ours_ascii_16KiB, true, false, kLarge)->Name("utf8/ringwire/ascii_16KiB");
BENCHMARK_CAPTURE(bm_utf8, base_ascii_16KiB, false, false, kLarge)->Name("utf8/baseline/ascii_16KiB");
BENCHMARK_CAPTURE(bm_utf8, ours_mixed_64B, true, true, kSmall)->Name("utf8/ringwire/mixed_64B");
BENCHMARK_CAPTURE(bm_utf8, base_mixed_64B, false, true, kSmall)->Name("utf8/baseline/mixed_64B");
BENCHMARK_CAPTURE(bm_utf8, ours_mixed_16KiB, true, true, kLarge)->Name("utf8/ringwire/mixed_16KiB");
BENCHMARK_CAPTURE(bm_utf8, base_mixed_16KiB, false, true, kLarge)->Name("utf8/baseline/mixed_16KiB");

BENCHMARK_CAPTURE(bm_sse, short, sse_short)->Name("sse/format/ringwire/short");
BENCHMARK_CAPTURE(bm_sse, multiline, sse_multiline)->Name("sse/format/ringwire/multiline");
