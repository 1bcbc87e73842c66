/* Kernel TLS hand-off: after the userspace handshake (tls_session.h), derive
 * the record keys, install TLS_TX + TLS_RX on the socket, and let plain
 * send()/recv() (or io_uring send/recv) carry TLS records.
 *
 * Sequence numbers come from counting the records OpenSSL actually wrote and
 * read after the Finished messages (tls_session.c), so TLS 1.3
 * NewSessionTickets may stay on: they leave through rw_tls_pending_out()
 * before the switch and advance the TX sequence (see docs/tls.md).
 *
 * Linux 6.1 limits: no rekey (a TLS 1.3 KeyUpdate cannot be followed: the
 * connection must be closed), io_uring send_zc on kTLS gives EOPNOTSUPP. */
#ifndef RW_KTLS_KTLS_H
#define RW_KTLS_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktls/tls_session.h"

#define RW_KTLS_KEY_MAX 32
#define RW_KTLS_IV_MAX 12
#define RW_KTLS_REASON_LEN 160

typedef struct rw_ktls_probe_result {
    bool ulp;       /* setsockopt(TCP_ULP, "tls") worked */
    bool tx, rx;    /* TLS_TX / TLS_RX accepted (AES-128-GCM, TLS 1.3) */
    bool rx_no_pad; /* TLS_RX_EXPECT_NO_PAD (6.0+) */
    int err;        /* errno of the first failing step, 0 if none */
    char reason[RW_KTLS_REASON_LEN];
} rw_ktls_probe_result;

/* Can this kernel do kTLS? Tries on a connected loopback TCP pair (a few
 * syscalls: call once at startup). Returns true when ULP+TX+RX all work;
 * r (optional) tells which step failed and why (ENOENT: no tls module). */
bool rw_ktls_probe(rw_ktls_probe_result *r);

/* One direction's record protection state, as the kernel wants it. */
typedef struct rw_ktls_dir {
    uint8_t key[RW_KTLS_KEY_MAX];
    uint8_t iv[RW_KTLS_IV_MAX]; /* TLS 1.3 and ChaCha: 12-byte IV; TLS 1.2 GCM: 4-byte salt */
    uint64_t seq;               /* next record's sequence number */
} rw_ktls_dir;

typedef struct rw_ktls_keys {
    int version;     /* RW_TLS_V12 / RW_TLS_V13 */
    int cipher;      /* TLS_CIPHER_AES_GCM_128 / _256 / TLS_CIPHER_CHACHA20_POLY1305 */
    size_t key_len;  /* 16 or 32 */
    size_t iv_len;   /* 12, or 4 for TLS 1.2 AES-GCM */
    rw_ktls_dir tx;  /* server -> client */
    rw_ktls_dir rx;  /* client -> server */
} rw_ktls_keys;

/* Derive both directions from an ESTABLISHED session (TLS 1.3: traffic
 * secrets from the keylog + HKDF-Expand-Label via EVP_KDF "TLS13-KDF";
 * TLS 1.2: master secret + TLS PRF "key expansion"). Returns 0, or -1 with
 * a reason (cipher the kernel cannot take, KeyUpdate seen, secrets missing).
 * Wipe the result with OPENSSL_cleanse() after use. */
int rw_ktls_derive(rw_tls_session *s, rw_ktls_keys *k, char *err, size_t errlen);

typedef enum rw_ktls_status {
    RW_KTLS_OK = 0,          /* TX and RX are in the kernel */
    RW_KTLS_AGAIN_FLUSH = 1, /* send rw_tls_pending_out() first, then retry */
    RW_KTLS_AGAIN_INPUT = 2, /* OpenSSL holds part of a record: feed more, retry */
    RW_KTLS_UNSUITABLE = 3,  /* this connection cannot (cipher, KeyUpdate, state, mode off): stay in userspace */
    RW_KTLS_UNSUPPORTED = 4, /* the kernel refused before any key was set: stay in userspace */
    RW_KTLS_BROKEN = 5,      /* TX set but RX failed: the connection must be closed */
} rw_ktls_status;

/* Switch fd to kTLS. Call when ESTABLISHED and every byte received from fd
 * has been fed. Plaintext OpenSSL already decrypted is kept and returned by
 * rw_tls_read() first (never lost); ciphertext OpenSSL still has to send
 * gives AGAIN_FLUSH (it must go out before the kernel encrypts). */
rw_ktls_status rw_ktls_install(rw_tls_session *s, int fd, char *err, size_t errlen);

/* Lower level: setsockopt TLS_TX (tx=true) or TLS_RX for one direction. */
int rw_ktls_set_dir(int fd, const rw_ktls_keys *k, bool tx);

/* Records read under kTLS RX. */
typedef enum rw_ktls_rec {
    RW_KTLS_REC_DATA = 0,         /* *n plaintext bytes in buf */
    RW_KTLS_REC_CLOSE_NOTIFY = 1, /* clean close by the peer */
    RW_KTLS_REC_ALERT = 2,        /* any other alert: close */
    RW_KTLS_REC_MUST_CLOSE = 3,   /* handshake record (KeyUpdate, ...): kernel cannot rekey, close */
    RW_KTLS_REC_AGAIN = 4,        /* EAGAIN */
    RW_KTLS_REC_EOF = 5,          /* TCP FIN without close_notify */
    RW_KTLS_REC_ERROR = 6,        /* recvmsg failed; errno set (EBADMSG: bad record) */
} rw_ktls_rec;

#define RW_TLS_CT_ALERT 21
#define RW_TLS_CT_HANDSHAKE 22
#define RW_TLS_CT_APPDATA 23

/* Pure: what a record of this type and content means to the server. */
rw_ktls_rec rw_ktls_classify(int record_type, const uint8_t *data, size_t len);
/* recvmsg() with a TLS_GET_RECORD_TYPE cmsg. Use it for every read, or after
 * a plain recv()/io_uring recv returned EIO (a non-data record is waiting). */
rw_ktls_rec rw_ktls_recv(int fd, uint8_t *buf, size_t cap, size_t *n, int flags);
/* Send our close_notify under kTLS TX (sendmsg with TLS_SET_RECORD_TYPE).
 * Returns 0 or -1 with errno. */
int rw_ktls_send_close_notify(int fd);

#endif
