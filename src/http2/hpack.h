/* HPACK header compression (RFC 7541) for the HTTP/2 engine. Sans-IO: the
 * caller hands in one complete header block (HEADERS + CONTINUATION payloads
 * joined) or a field list; nothing here allocates after init or makes a
 * syscall. See docs/hpack.md for the memory model and policies. */
#ifndef RW_HTTP2_HPACK_H
#define RW_HTTP2_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringwire/ringwire.h"

/* ---- limits and defaults ---- */
#define RW_HPACK_DEFAULT_TABLE_SIZE 4096u /* SETTINGS_HEADER_TABLE_SIZE initial value */
#define RW_HPACK_MAX_TABLE_SIZE (1u << 24) /* largest table memory init accepts */
#define RW_HPACK_ENTRY_OVERHEAD 32u        /* RFC 7541 4.1 / RFC 9113 6.5.2 */
#define RW_HPACK_STATIC_COUNT 61u
#define RW_HPACK_INT_MAX UINT32_MAX /* integers (indexes, lengths, sizes) above it are rejected */
#define RW_HPACK_INT_MAX_CONT 5u    /* continuation bytes after the prefix, at most */
#define RW_HPACK_INT_MAX_BYTES (1u + RW_HPACK_INT_MAX_CONT)
/* Encoder heuristics. */
#define RW_HPACK_INDEX_MAX_SHARE_NUM 3u /* index only entries <= 3/4 of the table size */
#define RW_HPACK_INDEX_MAX_SHARE_DEN 4u
#define RW_HPACK_COOKIE_NEVER_INDEX_BELOW 20u /* short cookies are guessable: never index */

/* ---- fields ---- */
enum {
    /* Decoder: the field came as "literal never indexed" (RFC 7541 6.2.3).
     * Encoder: emit it as never-indexed (keep it so when proxying). */
    RW_HPACK_F_NEVER_INDEX = 1u << 0,
    /* Encoder only: literal without indexing (do not add to the table). */
    RW_HPACK_F_NO_INDEX = 1u << 1,
};

typedef struct rw_hpack_field {
    rw_str name;
    rw_str value;
    uint32_t flags; /* RW_HPACK_F_* */
} rw_hpack_field;

/* ---- error codes (all negative) ---- */
enum {
    RW_HPACK_OK = 0,
    /* COMPRESSION_ERROR: connection error (RFC 9113 4.3); the decoder is dead. */
    RW_HPACK_E_TRUNCATED = -1,         /* block ends inside a representation */
    RW_HPACK_E_INTEGER = -2,           /* integer > RW_HPACK_INT_MAX or too many bytes */
    RW_HPACK_E_INDEX_ZERO = -3,        /* index 0 */
    RW_HPACK_E_INDEX = -4,             /* index beyond static + dynamic table */
    RW_HPACK_E_HUFFMAN = -5,           /* EOS in string, bad padding */
    RW_HPACK_E_SIZE_UPDATE_POS = -6,   /* table size update after a field */
    RW_HPACK_E_SIZE_UPDATE_LIMIT = -7, /* table size update above our SETTINGS limit */
    RW_HPACK_E_SIZE_UPDATE_MISSING = -8, /* we lowered the limit; block lacks the update */
    /* Stream-level: table state stays consistent, the connection may go on
     * (answer 431 or RST_STREAM). */
    RW_HPACK_E_LIST_TOO_LARGE = -20, /* RFC 9113 6.5.2 size > max_header_list_size */
    RW_HPACK_E_TOO_MANY_FIELDS = -21, /* more fields than max_fields */
    RW_HPACK_E_SCRATCH = -22,         /* decoded strings overflow scratch (cap < list limit) */
    /* Local errors (no protocol meaning). */
    RW_HPACK_E_NOSPACE = -30, /* encoder: cap < rw_hpack_encode_bound(); nothing written */
    RW_HPACK_E_INVALID = -31, /* bad argument (limit above capacity, field > 4 GiB) */
    RW_HPACK_E_NOMEM = -32,   /* init: allocation failed */
};

const char *rw_hpack_strerror(int err);
/* True for the COMPRESSION_ERROR codes (the connection must be closed). */
static inline bool rw_hpack_is_connection_error(int err)
{
    return err <= RW_HPACK_E_TRUNCATED && err >= RW_HPACK_E_SIZE_UPDATE_MISSING;
}

/* ---- dynamic table: ring of bytes + ring of entries, sized once ---- */
typedef struct rw_hpack_entry {
    uint32_t off;   /* start of name in bytes[]; value follows; may wrap */
    uint32_t nlen, vlen;
    uint32_t nhash; /* encoder only: hash of name */
    uint32_t hash;  /* encoder only: hash of name and value */
} rw_hpack_entry;

typedef struct rw_hpack_table {
    uint8_t *bytes;        /* cap bytes */
    rw_hpack_entry *ents;  /* ents_cap = cap / 32 slots */
    uint32_t cap;          /* memory capacity: max_size never exceeds it */
    uint32_t ents_cap;
    uint32_t first;        /* ring slot of the oldest entry */
    uint32_t count;
    uint32_t byte_first;   /* offset of the oldest entry's bytes */
    uint32_t byte_used;
    uint32_t size;         /* RFC size: sum of nlen + vlen + 32 */
    uint32_t max_size;     /* current maximum (last size update) */
} rw_hpack_table;

/* ---- decoder ---- */
typedef struct rw_hpack_decoder {
    rw_hpack_table t;
    char *staging;          /* t.cap bytes: strings of skipped fields (over a limit) */
    uint32_t limit;         /* our SETTINGS_HEADER_TABLE_SIZE in force */
    uint32_t required_max;  /* with update_required: the next block must start with
                               an update <= this */
    bool update_required;
} rw_hpack_decoder;

/* capacity: the largest SETTINGS_HEADER_TABLE_SIZE this connection will ever
 * announce (memory is allocated for it once). The limit starts at
 * min(capacity, 4096), the protocol default. */
int rw_hpack_decoder_init(rw_hpack_decoder *d, size_t capacity);
void rw_hpack_decoder_free(rw_hpack_decoder *d);
/* Our SETTINGS_HEADER_TABLE_SIZE took effect (the peer ACKed it). Lowering it
 * below the current table maximum obliges the peer to start its next block
 * with a size update <= limit. RW_HPACK_E_INVALID if limit > capacity. */
int rw_hpack_decoder_set_limit(rw_hpack_decoder *d, size_t limit);

/* Decodes one complete header block. On return *nfields fields are in out[]
 * (also on error). Views point into `in` (raw literals), the static table, or
 * scratch (Huffman strings and copies of dynamic-table strings); they stay
 * valid while `in` and `scratch` are untouched, independent of later
 * eviction. With scratch_cap >= max_header_list_size RW_HPACK_E_SCRATCH cannot
 * happen. Once the list exceeds max_header_list_size (or max_fields, or
 * scratch) decoding goes on without emitting, only to keep the dynamic table
 * in sync, and the stream-level error is returned at the end (a compression
 * error found later wins). */
int rw_hpack_decode(rw_hpack_decoder *d, const uint8_t *in, size_t len, rw_hpack_field *out,
                    size_t max_fields, char *scratch, size_t scratch_cap,
                    size_t max_header_list_size, size_t *nfields);

/* ---- encoder ---- */
typedef struct rw_hpack_encoder {
    rw_hpack_table t;
    uint32_t announced;     /* table max the peer's decoder currently assumes */
    uint32_t pending_min;   /* smallest target since the last block */
    uint32_t pending_final; /* target to announce */
    bool pending;           /* a size update is due at the next block start */
} rw_hpack_encoder;

/* capacity: memory for our table; the table max is min(capacity, peer limit).
 * The peer limit starts at 4096. */
int rw_hpack_encoder_init(rw_hpack_encoder *e, size_t capacity);
void rw_hpack_encoder_free(rw_hpack_encoder *e);
/* The peer's SETTINGS_HEADER_TABLE_SIZE arrived (call when applying the
 * SETTINGS frame, before encoding anything after it). */
void rw_hpack_encoder_set_peer_limit(rw_hpack_encoder *e, size_t limit);

/* Worst-case encoded size of fields[0..n); encode() needs cap >= this. */
size_t rw_hpack_encode_bound(const rw_hpack_field *fields, size_t n);
/* Encodes one header block (names are sent as given: HTTP/2 wants lower case).
 * Returns 0, RW_HPACK_E_NOSPACE (cap < bound; nothing written, state
 * unchanged) or RW_HPACK_E_INVALID (a string longer than 2^32-1). */
int rw_hpack_encode(rw_hpack_encoder *e, const rw_hpack_field *fields, size_t n, uint8_t *out,
                    size_t cap, size_t *written);

/* ---- building blocks (exposed for tests and the fuzzer) ---- */
/* Appends an integer with an N-bit prefix (1..8); `first` holds the
 * representation bits above the prefix. Returns bytes written or 0 if cap is
 * too small. */
size_t rw_hpack_int_encode(uint8_t *out, size_t cap, uint8_t first, unsigned prefix, uint32_t v);
/* Reads an N-bit-prefix integer at *p; advances *p. Returns 0,
 * RW_HPACK_E_TRUNCATED or RW_HPACK_E_INTEGER. */
int rw_hpack_int_decode(const uint8_t **p, const uint8_t *end, unsigned prefix, uint32_t *v);
/* Static table entry 1..61 (NULL otherwise). */
const rw_hpack_field *rw_hpack_static_entry(size_t index);
/* Static table lookup: returns the index of an exact (name, value) match or
 * 0, and stores the first index with that name (or 0) in *name_index. */
size_t rw_hpack_static_find(rw_str name, rw_str value, size_t *name_index);
/* Dynamic table inspection (tests, fuzzer): entries, RFC size, max size. */
static inline size_t rw_hpack_table_count(const rw_hpack_table *t) { return t->count; }
static inline size_t rw_hpack_table_size(const rw_hpack_table *t) { return t->size; }
static inline size_t rw_hpack_table_max_size(const rw_hpack_table *t) { return t->max_size; }

#endif
