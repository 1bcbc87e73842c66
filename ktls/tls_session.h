/* One TLS connection, sans socket: OpenSSL runs over a memory BIO pair.
 *
 *   ciphertext from the socket -> rw_tls_feed()          (may take less: full)
 *   drive the handshake        -> rw_tls_handshake_step() (rw_tls_read() does it too)
 *   plaintext for the protocol <- rw_tls_read()
 *   plaintext to encrypt       -> rw_tls_write()
 *   ciphertext for the socket  <- rw_tls_pending_out() + rw_tls_consume_out()
 *
 * No syscalls. After every call that can produce output (handshake_step,
 * read, write, close) the caller must look at rw_tls_pending_out(): the
 * handshake, alerts, KeyUpdate answers and close_notify all leave that way,
 * including after a failed handshake (the fatal alert). The handshake timeout
 * is the caller's: it sees rw_tls_state() == RW_TLS_HANDSHAKING. */
#ifndef RW_KTLS_TLS_SESSION_H
#define RW_KTLS_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "ktls/tls_ctx.h"

#define RW_TLS_REASON_LEN 160
#define RW_TLS_SECRET_MAX 64 /* EVP_MAX_MD_SIZE: traffic secret of SHA-384 is 48 */
/* Bound on a record's bytes beyond its plaintext (header, explicit IV, MAC or
 * tag, padding, TLS 1.3 content type); 85 for CBC-SHA384, 22 for TLS 1.3. */
#define RW_TLS_RECORD_OVERHEAD 128

typedef enum rw_tls_state {
    RW_TLS_HANDSHAKING = 0,
    RW_TLS_ESTABLISHED = 1,
    RW_TLS_CLOSED = 2, /* close_notify received (and/or sent): no more plaintext */
    RW_TLS_ERROR = 3,  /* see rw_tls_reason(); flush pending output (alert), then close */
} rw_tls_state;

typedef struct rw_tls_session rw_tls_session;

rw_tls_session *rw_tls_session_new(rw_tls_ctx *ctx);
void rw_tls_session_free(rw_tls_session *s);

/* Ciphertext in. Returns how many bytes were taken (less than len when the
 * input BIO is full: read plaintext / step the handshake, then feed the rest). */
size_t rw_tls_feed(rw_tls_session *s, const uint8_t *in, size_t len);
/* The peer closed its side of TCP. Without a prior close_notify that is a
 * truncation: state becomes RW_TLS_ERROR at the next read/step. */
void rw_tls_feed_eof(rw_tls_session *s);

rw_tls_state rw_tls_handshake_step(rw_tls_session *s);
rw_tls_state rw_tls_state_get(const rw_tls_session *s);
const char *rw_tls_reason(const rw_tls_session *s); /* "" unless ERROR */

/* Plaintext out: >0 bytes; 0 nothing now (more input needed, or output must
 * be flushed first); -1 no more plaintext ever (CLOSED or ERROR). */
ssize_t rw_tls_read(rw_tls_session *s, uint8_t *out, size_t cap);
/* Encrypt: bytes taken (>0); 0 output BIO full: flush, then call again with
 * the SAME remaining bytes (OpenSSL may hold part of a record); -1 not
 * writable (handshaking, closed, error, or kTLS owns TX). */
ssize_t rw_tls_write(rw_tls_session *s, const void *plain, size_t len);
/* Plaintext bytes that rw_tls_write() can take as one record right now
 * without filling the output BIO (so a caller that must copy its plaintext
 * first copies no more than will be taken). */
size_t rw_tls_write_room(rw_tls_session *s);

/* Ciphertext to send: one contiguous chunk (call again after consuming: the
 * BIO is a ring). *p stays valid until the next call into this session. */
size_t rw_tls_pending_out(rw_tls_session *s, const uint8_t **p, size_t *n);
void rw_tls_consume_out(rw_tls_session *s, size_t n);

/* Queue our close_notify (once). State becomes CLOSED; flush, then close TCP
 * (we do not wait for the peer's close_notify). */
void rw_tls_close(rw_tls_session *s);
bool rw_tls_peer_closed(const rw_tls_session *s); /* its close_notify arrived */
bool rw_tls_sent_close(const rw_tls_session *s);

/* Negotiated parameters (valid once ESTABLISHED). */
const char *rw_tls_alpn(const rw_tls_session *s); /* "h2", "http/1.1" or NULL */
const char *rw_tls_sni(const rw_tls_session *s);  /* client's SNI or NULL */
int rw_tls_version(const rw_tls_session *s);      /* RW_TLS_V12 / RW_TLS_V13 */
const char *rw_tls_cipher(const rw_tls_session *s);
bool rw_tls_resumed(const rw_tls_session *s);

/* ---- for ktls.c (and tests) ------------------------------------------ */

/* Record sequence numbers under the application keys, counted from the
 * records OpenSSL really wrote/read after the Finished messages (TLS 1.2: the
 * CCS resets to 0 and Finished uses 0; TLS 1.3: 0 after Finished, CCS not
 * counted). counting=false: the application keys are not in use yet. */
typedef struct rw_tls_seq {
    bool counting;
    uint64_t seq;
} rw_tls_seq;

typedef struct rw_tls_secrets {
    uint8_t client_ap[RW_TLS_SECRET_MAX], server_ap[RW_TLS_SECRET_MAX];
    size_t client_len, server_len;
} rw_tls_secrets;

SSL *rw_tls_session_ssl(rw_tls_session *s);
const rw_tls_secrets *rw_tls_session_secrets(const rw_tls_session *s);
rw_tls_seq rw_tls_session_seq(const rw_tls_session *s, bool tx);
bool rw_tls_session_rekeyed(const rw_tls_session *s); /* a TLS 1.3 KeyUpdate happened */
/* Bytes fed but not yet taken by OpenSSL, and whether OpenSSL holds a
 * partial record or undelivered plaintext. */
size_t rw_tls_session_input_pending(rw_tls_session *s);
/* kTLS took over: TX means rw_tls_write() refuses; RX means rw_tls_read()
 * only hands back the plaintext saved in handback (then returns 0). */
void rw_tls_session_set_ktls(rw_tls_session *s, bool tx, bool rx);
bool rw_tls_session_ktls_tx(const rw_tls_session *s);
bool rw_tls_session_ktls_rx(const rw_tls_session *s);
/* Plaintext OpenSSL decrypted before kTLS RX took over: rw_ktls_install()
 * moves it here and rw_tls_read() returns it first. Takes ownership of buf
 * (OPENSSL_malloc'd). */
void rw_tls_session_set_handback(rw_tls_session *s, uint8_t *buf, size_t len);
void rw_tls_session_wipe_secrets(rw_tls_session *s);

/* SSL_CTX keylog callback (installed by tls_ctx.c when kTLS may be used). */
void rw_tls_session_keylog_cb(const SSL *ssl, const char *line);

#endif
