/* The TLS stage of a connection (docs/tls.md, "Integration").
 *
 * When the server has TLS on, every connection starts with an rw_tls_conn
 * between the backend and the protocol engine:
 *   backend bytes -> rw_tls_conn_feed -> handshake / decrypt -> rw_conn_feed_plain
 *   engine output (plaintext in c->out) -> encrypted into the session's
 *   output BIO by rw_tls_conn_out_iov -> the backend writes the ciphertext.
 * After the handshake, the engine registered for the ALPN protocol ("h2")
 * takes the connection over at once (conn/engine.h).
 *
 * kTLS: once the handshake output is sent and the backend reports the socket
 * quiet (no read or write in flight: rw_conn_io_quiet), the keys go to the
 * kernel; the session is then freed and the connection runs the plain path
 * (RW_CONNF_KTLS), so an idle kTLS connection costs no more than a plain one.
 *
 * Only conn.c and the server call these. */
#ifndef RW_CONN_TLS_LAYER_H
#define RW_CONN_TLS_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "conn/conn.h"
#include "ktls/tls_config.h"
#include "ringwire/ringwire.h"

struct rw_tls_server;

/* Rotate the session-ticket keys this often (tickets live
 * RW_TLS_DEFAULT_TICKET_LIFETIME_S; a ticket stays valid across the
 * RW_TLS_TICKET_KEYS - 1 following rotations). */
#define RW_TLS_TICKET_ROTATE_MS (RW_TLS_DEFAULT_TICKET_LIFETIME_S * 1000ull / 2)
/* Ciphertext OpenSSL could not take yet (its input BIO was full while its
 * output waited for the socket); over this the connection is dropped. */
#define RW_TLS_STASH_MAX (64 * 1024)
/* Plaintext moved per rw_tls_read()/rw_tls_write() call: one TLS record. */
#define RW_TLS_PLAIN_CHUNK 16384
/* Plaintext that must be copied (gathered, or read from a file) is taken only
 * as far as the output BIO holds it; less room than this waits for a flush. */
#define RW_TLS_MIN_COPY 4096

/* ---- process level (app/server.c) ---- */

/* With cfg->tls_cert set: builds the TLS context (certificates, SNI, ALPN,
 * tickets) into *out (left NULL when TLS is off), probes kTLS per --ktls
 * and logs one line. Returns 0, or -1 after logging why
 * (unreadable/mismatched cert or key, --ktls on without kernel support).
 * Workers get the context as rw_worker.tls. */
int rw_tls_server_init(const rw_config *cfg, struct rw_tls_server **out);
void rw_tls_server_free(struct rw_tls_server **t);
/* Main thread, every few hundred ms: rotates ticket keys when due. */
void rw_tls_server_tick(struct rw_tls_server *t);

/* ---- connection level (conn/conn.c) ---- */

/* Attaches a TLS session to a new connection. -1 on OOM. */
int rw_tls_conn_start(rw_conn *c);
void rw_tls_conn_free(rw_conn *c);
/* Ciphertext from the socket. */
void rw_tls_conn_feed(rw_conn *c, const char *data, size_t len);
/* Encrypts queued plaintext, hands out the next ciphertext chunk. */
int rw_tls_conn_out_iov(rw_conn *c, const struct iovec **iov, size_t *bytes);
/* n ciphertext bytes reached the socket. */
void rw_tls_conn_out_done(rw_conn *c, size_t n);
bool rw_tls_conn_cipher_pending(const rw_conn *c);
bool rw_tls_conn_in_handshake(const rw_conn *c);
/* Reading pauses while the kTLS switch waits for a quiet socket. */
bool rw_tls_conn_read_blocked(const rw_conn *c);
void rw_tls_conn_io_quiet(rw_conn *c);
/* Plain path under kTLS: send our close_notify once when closing. */
void rw_tls_conn_ktls_idle(rw_conn *c);

/* Cheap wrappers for the plaintext hot path: one pointer test. */
static inline bool rw_tls_conn_out_pending(const rw_conn *c)
{
    return c->tls && rw_tls_conn_cipher_pending(c);
}
static inline bool rw_tls_conn_handshaking(const rw_conn *c)
{
    return c->tls && rw_tls_conn_in_handshake(c);
}
static inline bool rw_tls_conn_blocks_read(const rw_conn *c)
{
    return c->tls && rw_tls_conn_read_blocked(c);
}

#endif
