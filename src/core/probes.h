/* USDT (user-level statically defined tracing) probes, provider "ringwire".
 *
 * Each RW_PROBEn(name, args...) compiles to a single nop plus an ELF note
 * (.note.stapsdt) that perf, bpftrace or SystemTap can turn into a uprobe
 * at run time. Untraced cost: the nop, and the argument values must be
 * available in registers or memory at that point (no extra computation:
 * every argument we pass is a field or a local already at hand, so no
 * semaphore guard is needed; a probe whose arguments cost something to
 * compute would need one).
 *
 * <sys/sdt.h> comes from Debian's systemtap-sdt-dev. Without it (or with
 * -DRW_NO_SDT) every probe compiles to nothing and arguments are not
 * evaluated beyond a (void) cast.
 *
 * Each probe name must appear at exactly one place in the code: perf 6.1
 * cannot add an SDT event whose name has two locations ("File exists").
 *
 * Probe list (docs/profiling.md has worked perf examples):
 *   conn__accept(fd, worker)            a connection was taken (not refused)
 *   conn__close(fd, requests)           a connection object is released
 *   conn__timeout(fd, timer)            timer: 0 header, 1 idle, 2 busy
 *   request__start(fd, method, method_len, path_len)  HTTP/1 or HTTP/2 dispatch
 *   request__done(fd, status, body_bytes)             response queued
 *   request__stream(fd, status, content_length)      streamed response
 *                                       started (content_length -1: chunked)
 *   enobufs(worker)                     io_uring provided buffers ran out
 *   slow__consumer(fd, queued_bytes)    reading paused: peer reads too slowly
 *   h2__stream_open(fd, stream_id)      HTTP/2 stream created (client or push)
 *   h2__stream_close(fd, stream_id)     HTTP/2 stream released
 *   h2__rst_sent(fd, stream_id, code)   we reset a stream (RST_STREAM)
 *   h2__rst_received(fd, stream_id, code)  the client reset a stream
 *   tls__handshake(fd, alpn_h2)         TLS handshake done (userspace so far)
 *   tls__ktls(fd)                       record keys handed to kernel TLS
 *   ws__slow_close(fd)                  WebSocket closed 1008: send queue full
 *   sse__slow_close(queued_bytes)       SSE stream ended: event queue full
 */
#ifndef RW_CORE_PROBES_H
#define RW_CORE_PROBES_H

#if !defined(RW_NO_SDT) && defined(__has_include)
#if __has_include(<sys/sdt.h>)
#define RW_HAVE_SDT 1
#endif
#endif

#ifdef RW_HAVE_SDT
#include <sys/sdt.h>
#define RW_PROBE1(name, a) DTRACE_PROBE1(ringwire, name, a)
#define RW_PROBE2(name, a, b) DTRACE_PROBE2(ringwire, name, a, b)
#define RW_PROBE3(name, a, b, c) DTRACE_PROBE3(ringwire, name, a, b, c)
#define RW_PROBE4(name, a, b, c, d) DTRACE_PROBE4(ringwire, name, a, b, c, d)
#else
#define RW_PROBE1(name, a) ((void)(a))
#define RW_PROBE2(name, a, b) ((void)(a), (void)(b))
#define RW_PROBE3(name, a, b, c) ((void)(a), (void)(b), (void)(c))
#define RW_PROBE4(name, a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))
#endif

#endif
