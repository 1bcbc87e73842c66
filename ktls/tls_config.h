/* TLS configuration: what the server operator chooses (certificates, protocol
 * versions, ciphers, ALPN, session tickets, kernel TLS). Plain data; the
 * strings are borrowed and must outlive rw_tls_ctx_new(). */
#ifndef RW_KTLS_TLS_CONFIG_H
#define RW_KTLS_TLS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define RW_TLS_MAX_CERTS 8            /* certificate/key pairs (SNI choices) */
#define RW_TLS_MAX_NAMES_PER_CERT 16  /* host names one certificate answers for */
#define RW_TLS_MAX_NAME_LEN 254       /* DNS name (253) + NUL */
#define RW_TLS_TICKET_KEYS 3          /* ring: current key + 2 older ones still accepted */

/* Protocol versions, as on the wire (same values as OpenSSL's TLS1_x_VERSION). */
#define RW_TLS_V12 0x0303
#define RW_TLS_V13 0x0304

/* Only AEAD suites the kernel can take over (AES-GCM, ChaCha20-Poly1305). */
#define RW_TLS_DEFAULT_CIPHERS                                                                 \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                              \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                              \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define RW_TLS_DEFAULT_CIPHERSUITES                                                            \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

#define RW_TLS_DEFAULT_TICKET_LIFETIME_S 7200 /* caller should rotate every lifetime/2 */
#define RW_TLS_DEFAULT_TICKETS 1              /* TLS 1.3 NewSessionTickets per handshake */
/* Per-connection memory BIO pair sizes. Input holds at least one full TLS
 * record (16 KiB payload + 2 KiB expansion + header); output bounds how much
 * ciphertext waits for the socket before rw_tls_write() pushes back. */
#define RW_TLS_MIN_BIO_SIZE (16384 + 2048 + 5)
#define RW_TLS_DEFAULT_BIO_IN (16384 + 2048 + 5)
#define RW_TLS_DEFAULT_BIO_OUT (32 * 1024)

typedef enum rw_ktls_mode {
    RW_KTLS_AUTO = 0, /* use kernel TLS when rw_ktls_probe() says the kernel can */
    RW_KTLS_ON = 1,   /* require it: a failed install is an error */
    RW_KTLS_OFF = 2,  /* userspace OpenSSL only (no keylog capture, no record counting) */
} rw_ktls_mode;

typedef struct rw_tls_cert_config {
    const char *cert_file; /* PEM: leaf certificate first, then the chain */
    const char *key_file;  /* PEM private key */
    /* Optional comma-separated host names ("a.example,*.b.example") this pair
     * answers for; NULL or "": the certificate's DNS SANs (else its CN). */
    const char *sni_names;
} rw_tls_cert_config;

typedef struct rw_tls_config {
    rw_tls_cert_config certs[RW_TLS_MAX_CERTS]; /* certs[0] is the default */
    unsigned ncerts;
    int min_version;          /* RW_TLS_V12 or RW_TLS_V13 */
    const char *ciphers;      /* TLS 1.2 cipher list; NULL: RW_TLS_DEFAULT_CIPHERS */
    const char *ciphersuites; /* TLS 1.3 suites; NULL: RW_TLS_DEFAULT_CIPHERSUITES */
    bool disable_h2;          /* ALPN offers only http/1.1 */
    bool session_tickets;     /* stateless resumption (TLS 1.2 tickets, TLS 1.3 PSK) */
    unsigned tickets_per_handshake; /* TLS 1.3 NewSessionTickets after the handshake */
    unsigned ticket_lifetime_s;
    size_t bio_in_size;  /* >= RW_TLS_MIN_BIO_SIZE */
    size_t bio_out_size; /* >= RW_TLS_MIN_BIO_SIZE */
    rw_ktls_mode ktls;
} rw_tls_config;

static inline void rw_tls_config_defaults(rw_tls_config *c)
{
    *c = (rw_tls_config){
        .min_version = RW_TLS_V12,
        .session_tickets = true,
        .tickets_per_handshake = RW_TLS_DEFAULT_TICKETS,
        .ticket_lifetime_s = RW_TLS_DEFAULT_TICKET_LIFETIME_S,
        .bio_in_size = RW_TLS_DEFAULT_BIO_IN,
        .bio_out_size = RW_TLS_DEFAULT_BIO_OUT,
        .ktls = RW_KTLS_AUTO,
    };
}

#endif
