/* Server TLS context: one OpenSSL SSL_CTX per certificate (the first is the
 * default; the servername callback switches a handshake to the one whose
 * names match the client's SNI), shared settings (versions, ciphers, ALPN,
 * session tickets with a rotating key ring, keylog capture for kTLS).
 *
 * One rw_tls_ctx is shared by all workers. Everything is read-only after
 * rw_tls_ctx_new() except the ticket key ring, which rw_tls_ctx_rotate_ticket_keys()
 * changes under a rwlock (taken only inside handshakes that issue or accept
 * a ticket, never on the data path). */
#ifndef RW_KTLS_TLS_CTX_H
#define RW_KTLS_TLS_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "ktls/tls_config.h"

#define RW_TLS_ERR_LEN 256

typedef struct rw_tls_ctx rw_tls_ctx;

/* Builds the context; on failure returns NULL and writes a readable reason
 * (which file, what is wrong) into err. */
rw_tls_ctx *rw_tls_ctx_new(const rw_tls_config *cfg, char *err, size_t errlen);
void rw_tls_ctx_free(rw_tls_ctx *ctx);

/* Make a fresh ticket key current; the oldest of RW_TLS_TICKET_KEYS drops out
 * (tickets under it then get a full handshake). Tickets under a non-current
 * key are accepted and renewed. Call from a timer (e.g. every lifetime/2).
 * Returns 0, or -1 if no randomness was available (the ring is unchanged). */
int rw_tls_ctx_rotate_ticket_keys(rw_tls_ctx *ctx);

/* For tls_session.c / ktls.c. */
SSL_CTX *rw_tls_ctx_default_ssl_ctx(const rw_tls_ctx *ctx);
rw_ktls_mode rw_tls_ctx_ktls_mode(const rw_tls_ctx *ctx);
size_t rw_tls_ctx_bio_in_size(const rw_tls_ctx *ctx);
size_t rw_tls_ctx_bio_out_size(const rw_tls_ctx *ctx);
/* ex_data index under which every SSL stores its rw_tls_session. */
int rw_tls_ssl_exidx(void);

/* Host-name matching used for SNI: case-insensitive, "*.example.com" matches
 * exactly one extra leftmost label. Exposed for tests. */
bool rw_tls_name_matches(const char *pattern, const char *host);

#endif
