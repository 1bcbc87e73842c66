/* Shared by the TLS unit tests: throw-away certificates written to a temp
 * dir, an OpenSSL client over memory BIOs, and a pump that moves bytes
 * between that client and an rw_tls_session. */
#ifndef RW_TEST_TLS_TESTUTIL_H
#define RW_TEST_TLS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ktls/tls_session.h"

#define TU_MAX_ROUNDS 10000
#define TU_PATH 512

#define TU_DIR_LEN 64
static char tu_dir[TU_DIR_LEN];

static inline void tu_fatal(const char *what)
{
    fprintf(stderr, "fatal: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static inline void tu_tmpdir(void)
{
    snprintf(tu_dir, sizeof(tu_dir), "/tmp/rw-tls-test.XXXXXX");
    if (!mkdtemp(tu_dir))
        tu_fatal("mkdtemp");
}

static inline void tu_cleanup(void)
{
    char cmd[TU_PATH + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tu_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tu_dir);
}

/* Self-signed certificate for cn with one DNS SAN per comma-separated name
 * in sans (NULL: none); key type "EC" (P-256) or "RSA" (2048). Writes
 * <tag>.crt and <tag>.key into tu_dir and returns their paths. */
static inline void tu_make_cert(const char *tag, const char *cn, const char *sans, const char *type,
                         char *crt_path, char *key_path)
{
    EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                           : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    if (!k || !x)
        tu_fatal("keygen");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, nm);
    if (sans) {
        char val[1024] = "";
        const char *p = sans;
        while (*p) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            snprintf(val + strlen(val), sizeof(val) - strlen(val), "%sDNS:%.*s", val[0] ? "," : "", (int)n, p);
            p += n + (c ? 1 : 0);
        }
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, val);
        if (!ext || !X509_add_ext(x, ext, -1))
            tu_fatal("SAN");
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(x, k, EVP_sha256()))
        tu_fatal("X509_sign");
    snprintf(crt_path, TU_PATH, "%s/%s.crt", tu_dir, tag);
    snprintf(key_path, TU_PATH, "%s/%s.key", tu_dir, tag);
    FILE *f = fopen(crt_path, "w");
    if (!f || !PEM_write_X509(f, x))
        tu_fatal("write crt");
    fclose(f);
    f = fopen(key_path, "w");
    if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
        tu_fatal("write key");
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(k);
}

static inline void tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0)
        tu_fatal("write file");
    fclose(f);
}

/* Client SSL_CTX limited to one version and one cipher (NULL: defaults). */
static inline SSL_CTX *tu_client_ctx(int version, const char *cipher)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c)
        tu_fatal("client ctx");
    if (version) {
        SSL_CTX_set_min_proto_version(c, version);
        SSL_CTX_set_max_proto_version(c, version);
    }
    if (cipher && version == TLS1_3_VERSION && SSL_CTX_set_ciphersuites(c, cipher) != 1)
        tu_fatal("client ciphersuites");
    if (cipher && version == TLS1_2_VERSION && SSL_CTX_set_cipher_list(c, cipher) != 1)
        tu_fatal("client cipher list");
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    return c;
}

typedef struct tu_pair {
    rw_tls_session *s;
    SSL *c;
    BIO *c_rbio, *c_wbio; /* memory BIOs of the client */
    uint8_t *q;           /* client -> server bytes the server has not taken yet */
    size_t qlen, qcap;
    size_t s2c_bytes, c2s_bytes;
} tu_pair;

static inline void tu_pair_init(tu_pair *p, rw_tls_ctx *ctx, SSL_CTX *cctx, const char *sni, const char *alpn_wire,
                         unsigned alpn_len)
{
    memset(p, 0, sizeof(*p));
    p->s = rw_tls_session_new(ctx);
    p->c = SSL_new(cctx);
    p->c_rbio = BIO_new(BIO_s_mem());
    p->c_wbio = BIO_new(BIO_s_mem());
    if (!p->s || !p->c || !p->c_rbio || !p->c_wbio)
        tu_fatal("pair");
    BIO_set_mem_eof_return(p->c_rbio, -1); /* empty: "retry", not EOF */
    SSL_set_bio(p->c, p->c_rbio, p->c_wbio);
    SSL_set_connect_state(p->c);
    if (sni)
        SSL_set_tlsext_host_name(p->c, sni);
    if (alpn_wire)
        SSL_set_alpn_protos(p->c, (const unsigned char *)alpn_wire, alpn_len);
}

static inline void tu_pair_free(tu_pair *p)
{
    rw_tls_session_free(p->s);
    SSL_free(p->c);
    free(p->q);
    memset(p, 0, sizeof(*p));
}

/* Move server output to the client, then client output (queued) to the
 * server. Returns the number of bytes moved. */
static inline size_t tu_pump(tu_pair *p)
{
    size_t moved = 0;
    const uint8_t *o;
    size_t n;
    while (rw_tls_pending_out(p->s, &o, &n) > 0) {
        if (BIO_write(p->c_rbio, o, (int)n) != (int)n)
            tu_fatal("BIO_write client");
        rw_tls_consume_out(p->s, n);
        moved += n;
        p->s2c_bytes += n;
    }
    size_t avail = BIO_ctrl_pending(p->c_wbio);
    if (avail) {
        if (p->qlen + avail > p->qcap) {
            p->qcap = (p->qlen + avail) * 2;
            p->q = realloc(p->q, p->qcap);
            if (!p->q)
                tu_fatal("realloc");
        }
        int r = BIO_read(p->c_wbio, p->q + p->qlen, (int)avail);
        if (r > 0)
            p->qlen += (size_t)r;
    }
    if (p->qlen) {
        size_t t = rw_tls_feed(p->s, p->q, p->qlen);
        memmove(p->q, p->q + t, p->qlen - t);
        p->qlen -= t;
        moved += t;
        p->c2s_bytes += t;
    }
    return moved;
}

/* Run both handshakes to completion; returns 1 when both sides are done. */
static inline int tu_handshake(tu_pair *p)
{
    int cdone = 0;
    for (int i = 0; i < TU_MAX_ROUNDS; i++) {
        if (!cdone) {
            int r = SSL_do_handshake(p->c);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(p->c, r) != SSL_ERROR_WANT_READ)
                return 0;
        }
        rw_tls_state st = rw_tls_handshake_step(p->s);
        size_t moved = tu_pump(p);
        if (st == RW_TLS_ERROR)
            return 0;
        if (cdone && st == RW_TLS_ESTABLISHED && moved == 0)
            return 1;
    }
    return 0;
}

/* Server reads exactly n plaintext bytes (pumping as needed). */
static inline int tu_server_read(tu_pair *p, uint8_t *out, size_t n)
{
    size_t got = 0;
    for (int idle = 0; got < n && idle < 3;) {
        ssize_t r = rw_tls_read(p->s, out + got, n - got);
        if (r < 0)
            return -1;
        if (r > 0) {
            got += (size_t)r;
            idle = 0;
            continue;
        }
        idle = tu_pump(p) ? 0 : idle + 1;
    }
    return got == n ? 0 : -1;
}

/* Server writes n bytes, pumping whenever the output BIO is full; the client
 * reads them into out. */
static inline int tu_server_to_client(tu_pair *p, const uint8_t *in, uint8_t *out, size_t n)
{
    size_t sent = 0, got = 0;
    for (int idle = 0; got < n && idle < 3;) {
        int progress = 0;
        if (sent < n) {
            ssize_t w = rw_tls_write(p->s, in + sent, n - sent);
            if (w < 0)
                return -1;
            sent += (size_t)w;
            progress |= w > 0;
        }
        progress |= tu_pump(p) > 0;
        size_t r = 0;
        while (got < n && SSL_read_ex(p->c, out + got, n - got, &r) == 1) {
            got += r;
            progress = 1;
        }
        idle = progress ? 0 : idle + 1;
    }
    return got == n ? 0 : -1;
}

/* Client writes n bytes; the server reads them into out. */
static inline int tu_client_to_server(tu_pair *p, const uint8_t *in, uint8_t *out, size_t n)
{
    size_t sent = 0, got = 0;
    for (int idle = 0; got < n && idle < 3;) {
        int progress = 0;
        size_t w = 0;
        if (sent < n && SSL_write_ex(p->c, in + sent, n - sent, &w) == 1) {
            sent += w;
            progress = 1;
        }
        progress |= tu_pump(p) > 0;
        ssize_t r;
        while (got < n && (r = rw_tls_read(p->s, out + got, n - got)) > 0) {
            got += (size_t)r;
            progress = 1;
        }
        idle = progress ? 0 : idle + 1;
    }
    return got == n ? 0 : -1;
}

static inline void tu_fill(uint8_t *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}

#endif
