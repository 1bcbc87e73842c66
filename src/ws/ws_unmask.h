/* WebSocket payload (un)masking (RFC 6455 §5.3): XOR with a 4-byte key,
 * byte i of the payload with key[i % 4]. Masking and unmasking are the same
 * operation. A payload may arrive in pieces, so every function takes the
 * key phase (payload offset mod 4) at the start of the piece and returns the
 * phase after it.
 *
 * rw_ws_unmask() picks the widest path the CPU has (AVX2, else SSE2 on
 * x86-64, else 8 bytes per step); rw_ws_unmask_scalar() is the byte-at-a-time
 * twin the tests and benchmarks compare it with. No allocation, no syscalls.
 * dst and src may be the same buffer (in place) but must not otherwise
 * overlap. */
#ifndef RW_WS_UNMASK_H
#define RW_WS_UNMASK_H

#include <stddef.h>
#include <stdint.h>

#define RW_WS_MASK_LEN 4

unsigned rw_ws_unmask(uint8_t *buf, size_t len, const uint8_t key[RW_WS_MASK_LEN], unsigned phase);
unsigned rw_ws_unmask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                           const uint8_t key[RW_WS_MASK_LEN], unsigned phase);
unsigned rw_ws_unmask_scalar(uint8_t *dst, const uint8_t *src, size_t len,
                             const uint8_t key[RW_WS_MASK_LEN], unsigned phase);

#endif
