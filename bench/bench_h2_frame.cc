// HTTP/2 frame codec micro-benchmarks: rw_h2_frame_decode over a mixed frame
// stream (what a server reads from a busy browser connection) and the
// writers over a mixed set of frames (what it writes). ringwire only: no
// peer implementation exports a comparable stand-alone frame codec
// (nghttp2's frame functions are internal to libnghttp2).
// Counters: items = frames, bytes = frame bytes decoded / written.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
#include "http2/frame.h"
}

namespace {

constexpr int kStreams = 16;          // requests in the recorded stream
constexpr uint32_t kFieldBlock = 180; // a typical compressed request head
constexpr uint32_t kBody = 1200;      // POST body per DATA frame

void put(std::vector<uint8_t> &v, const uint8_t *p, size_t n) { v.insert(v.end(), p, p + n); }

// Client side of a connection: SETTINGS, WINDOW_UPDATE, then per stream
// HEADERS (+ CONTINUATION every 4th, priority every 2nd), DATA on every 3rd,
// a PING and a RST_STREAM now and then.
std::vector<uint8_t> mixed_stream(size_t *frames)
{
    std::vector<uint8_t> v;
    uint8_t buf[64];
    std::vector<uint8_t> payload(kBody, 'x');
    const rw_h2_setting s[] = { { RW_H2_SETTINGS_HEADER_TABLE_SIZE, 65536 },
                                { RW_H2_SETTINGS_ENABLE_PUSH, 0 },
                                { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 6291456 },
                                { RW_H2_SETTINGS_MAX_HEADER_LIST_SIZE, 262144 } };
    size_t n = 0;
    put(v, buf, rw_h2_write_settings(buf, s, 4)), n++;
    put(v, buf, rw_h2_write_window_update(buf, 0, 15663105)), n++;
    put(v, buf, rw_h2_write_settings_ack(buf)), n++;
    for (int i = 0; i < kStreams; i++) {
        uint32_t id = 2u * (uint32_t)i + 1;
        bool cont = i % 4 == 3, body = i % 3 == 2;
        rw_h2_priority pr = { 0, 219, false };
        uint32_t first = cont ? kFieldBlock / 2 : kFieldBlock;
        put(v, buf, rw_h2_write_headers_header(buf, id, first, !body, !cont, i % 2 ? &pr : nullptr));
        put(v, payload.data(), first), n++;
        if (cont) {
            put(v, buf, rw_h2_write_continuation_header(buf, id, kFieldBlock - first, true));
            put(v, payload.data(), kFieldBlock - first), n++;
        }
        if (body) {
            put(v, buf, rw_h2_write_data_header(buf, id, kBody, true));
            put(v, payload.data(), kBody), n++;
        }
        if (i % 5 == 4) {
            const uint8_t op[RW_H2_PING_OPAQUE_LEN] = { 1, 2, 3, 4, 5, 6, 7, (uint8_t)i };
            put(v, buf, rw_h2_write_ping(buf, false, op)), n++;
        }
        if (i % 7 == 6)
            put(v, buf, rw_h2_write_rst_stream(buf, id, 8)), n++;
    }
    *frames = n;
    return v;
}

void bm_decode(benchmark::State &state)
{
    size_t nframes = 0;
    const std::vector<uint8_t> in = mixed_stream(&nframes);
    for (auto _ : state) {
        size_t pos = 0, got = 0;
        while (pos < in.size()) {
            rw_h2_frame f;
            int r = rw_h2_frame_decode(in.data() + pos, in.size() - pos,
                                       RW_H2_DEFAULT_MAX_FRAME_SIZE, &f);
            if (r <= 0) {
                state.SkipWithError("rw_h2_frame_decode rejected the stream");
                return;
            }
            benchmark::DoNotOptimize(f);
            pos += (size_t)r;
            got++;
        }
        if (got != nframes) {
            state.SkipWithError("frame count mismatch");
            return;
        }
    }
    state.SetItemsProcessed((int64_t)(state.iterations() * nframes));
    state.SetBytesProcessed((int64_t)(state.iterations() * in.size()));
}

// Server side: per response a HEADERS header and a DATA header (payload is
// zero-copy in the engine, so only headers are written), plus the control
// frames of a connection's life.
void bm_write(benchmark::State &state)
{
    std::vector<uint8_t> out(4096);
    const rw_h2_setting s[] = { { RW_H2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
                                { RW_H2_SETTINGS_INITIAL_WINDOW_SIZE, 1048576 },
                                { RW_H2_SETTINGS_MAX_FRAME_SIZE, 16384 } };
    const uint8_t op[RW_H2_PING_OPAQUE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    size_t bytes = 0, frames = 0;
    for (auto _ : state) {
        uint8_t *p = out.data();
        size_t n = 0, k = 0;
        n += rw_h2_write_settings(p + n, s, 3), k++;
        n += rw_h2_write_settings_ack(p + n), k++;
        n += rw_h2_write_window_update(p + n, 0, 983041), k++;
        for (uint32_t i = 0; i < kStreams; i++) {
            uint32_t id = 2 * i + 1;
            n += rw_h2_write_headers_header(p + n, id, 48, false, true, nullptr), k++;
            n += rw_h2_write_data_header(p + n, id, 13, true), k++;
            if (i % 4 == 3)
                n += rw_h2_write_window_update(p + n, id, 65535), k++;
        }
        n += rw_h2_write_ping(p + n, true, op), k++;
        n += rw_h2_write_rst_stream(p + n, 33, 8), k++;
        n += rw_h2_write_goaway(p + n, 31, 0, nullptr, 0), k++;
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        bytes += n;
        frames += k;
    }
    state.SetItemsProcessed((int64_t)frames);
    state.SetBytesProcessed((int64_t)bytes);
}

} // namespace

BENCHMARK(bm_decode)->Name("h2frame/decode/ringwire/mixed");
BENCHMARK(bm_write)->Name("h2frame/write/ringwire/mixed");
