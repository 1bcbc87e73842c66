/* Server SSL_CTX construction: certificates + SNI, versions, ciphers, ALPN,
 * session tickets (rotating key ring), keylog hook for kTLS. */
#include "ktls/tls_ctx.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ktls/tls_session.h"

#define RW_TLS_SID_CTX "ringwire"
#define RW_TLS_TICKET_NAME_LEN 16
#define RW_TLS_TICKET_AES_LEN 32  /* AES-256-CBC, as OpenSSL's own tickets */
#define RW_TLS_TICKET_HMAC_LEN 32 /* HMAC-SHA256 */

typedef struct rw_tls_cert_entry {
    SSL_CTX *ssl_ctx;
    unsigned nnames;
    char names[RW_TLS_MAX_NAMES_PER_CERT][RW_TLS_MAX_NAME_LEN];
} rw_tls_cert_entry;

typedef struct rw_tls_ticket_key {
    bool valid;
    unsigned char name[RW_TLS_TICKET_NAME_LEN];
    unsigned char aes[RW_TLS_TICKET_AES_LEN];
    unsigned char hmac[RW_TLS_TICKET_HMAC_LEN];
} rw_tls_ticket_key;

struct rw_tls_ctx {
    rw_tls_cert_entry certs[RW_TLS_MAX_CERTS];
    unsigned ncerts;
    bool alpn_h2;
    rw_ktls_mode ktls;
    size_t bio_in, bio_out;
    pthread_rwlock_t ticket_lock;
    unsigned ticket_cur; /* index of the current key in tickets[] */
    rw_tls_ticket_key tickets[RW_TLS_TICKET_KEYS];
};

static pthread_once_t exidx_once = PTHREAD_ONCE_INIT;
static int ssl_exidx = -1, ctx_exidx = -1;

static void exidx_init(void)
{
    ssl_exidx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ctx_exidx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int rw_tls_ssl_exidx(void)
{
    pthread_once(&exidx_once, exidx_init);
    return ssl_exidx;
}

static int ctx_exidx_get(void)
{
    pthread_once(&exidx_once, exidx_init);
    return ctx_exidx;
}

/* ---- error text ------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    char ossl[160] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, ossl, sizeof(ossl));
    ERR_clear_error();
    if (!err || !errlen)
        return;
    int n = snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
    if (ossl[0] && n >= 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, " (%s)", ossl);
}

/* ---- SNI names -------------------------------------------------------- */

bool rw_tls_name_matches(const char *pattern, const char *host)
{
    if (!pattern || !host || !*host)
        return false;
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(host, '.');
        /* the wildcard stands for exactly one non-empty label */
        return dot && dot != host && strcasecmp(dot + 1, pattern + 2) == 0;
    }
    return strcasecmp(pattern, host) == 0;
}

static void add_name(rw_tls_cert_entry *e, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n || n >= RW_TLS_MAX_NAME_LEN || e->nnames >= RW_TLS_MAX_NAMES_PER_CERT)
        return;
    memcpy(e->names[e->nnames], s, n);
    e->names[e->nnames][n] = '\0';
    e->nnames++;
}

static void names_from_cert(rw_tls_cert_entry *e, X509 *x)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len > 0 && memchr(d, '\0', (size_t)len) == NULL)
            add_name(e, (const char *)d, (size_t)len);
    }
    GENERAL_NAMES_free(sans);
    if (e->nnames)
        return;
    char cn[RW_TLS_MAX_NAME_LEN];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
    if (n > 0)
        add_name(e, cn, (size_t)n);
}

static void names_from_list(rw_tls_cert_entry *e, const char *list)
{
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        add_name(e, p, n);
        p += n + (c ? 1 : 0);
    }
}

/* ---- callbacks -------------------------------------------------------- */

static rw_tls_ctx *ctx_of(SSL *ssl)
{
    return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_exidx_get());
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    rw_tls_ctx *ctx = arg;
    const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!host)
        return SSL_TLSEXT_ERR_OK; /* no SNI: default certificate */
    for (unsigned i = 0; i < ctx->ncerts; i++)
        for (unsigned j = 0; j < ctx->certs[i].nnames; j++)
            if (rw_tls_name_matches(ctx->certs[i].names[j], host)) {
                if (i != 0 && SSL_set_SSL_CTX(ssl, ctx->certs[i].ssl_ctx) == NULL)
                    return SSL_TLSEXT_ERR_ALERT_FATAL;
                return SSL_TLSEXT_ERR_OK;
            }
    return SSL_TLSEXT_ERR_OK; /* unknown name: default certificate, as nginx does */
}

/* Server preference: h2 (unless disabled), then http/1.1; nothing in common:
 * no ALPN in the reply, and the connection speaks HTTP/1.1. */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    rw_tls_ctx *ctx = arg;
    static const struct { const char *p; unsigned char n; } prefs[] = { { "h2", 2 }, { "http/1.1", 8 } };
    for (unsigned k = 0; k < sizeof(prefs) / sizeof(prefs[0]); k++) {
        if (k == 0 && !ctx->alpn_h2)
            continue;
        for (unsigned i = 0; i < inlen;) {
            unsigned n = in[i];
            if (i + 1 + n > inlen)
                return SSL_TLSEXT_ERR_NOACK; /* malformed list */
            if (n == prefs[k].n && memcmp(in + i + 1, prefs[k].p, n) == 0) {
                *out = in + i + 1;
                *outlen = (unsigned char)n;
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + n;
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static int ticket_mac_init(EVP_MAC_CTX *hctx, const rw_tls_ticket_key *k)
{
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof(k->hmac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(hctx, p);
}

/* OpenSSL contract: enc=1: fill name+iv, init cipher+MAC, return 1 (0: no
 * ticket). enc=0: return 0 unknown key (full handshake), 1 ok, 2 ok but
 * issue a fresh ticket (key no longer current), -1 error. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    rw_tls_ctx *ctx = ctx_of(ssl);
    int ret = 0;
    if (!ctx)
        return -1;
    const EVP_CIPHER *cipher = EVP_aes_256_cbc();
    pthread_rwlock_rdlock(&ctx->ticket_lock);
    if (enc) {
        const rw_tls_ticket_key *k = &ctx->tickets[ctx->ticket_cur];
        int ivlen = EVP_CIPHER_get_iv_length(cipher);
        if (k->valid && RAND_bytes(iv, ivlen) == 1 &&
            EVP_EncryptInit_ex(cctx, cipher, NULL, k->aes, iv) == 1 && ticket_mac_init(hctx, k) == 1) {
            memcpy(name, k->name, RW_TLS_TICKET_NAME_LEN);
            ret = 1;
        } else {
            ret = -1;
        }
    } else {
        for (unsigned i = 0; i < RW_TLS_TICKET_KEYS; i++) {
            const rw_tls_ticket_key *k = &ctx->tickets[i];
            if (!k->valid || memcmp(k->name, name, RW_TLS_TICKET_NAME_LEN) != 0)
                continue;
            if (EVP_DecryptInit_ex(cctx, cipher, NULL, k->aes, iv) != 1 || ticket_mac_init(hctx, k) != 1)
                ret = -1;
            else if (i != ctx->ticket_cur || SSL_version(ssl) == TLS1_3_VERSION)
                ret = 2; /* old key; or TLS 1.3, whose clients use a ticket once */
            else
                ret = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&ctx->ticket_lock);
    return ret;
}

int rw_tls_ctx_rotate_ticket_keys(rw_tls_ctx *ctx)
{
    rw_tls_ticket_key k = { .valid = true };
    if (RAND_bytes(k.name, sizeof(k.name)) != 1 || RAND_priv_bytes(k.aes, sizeof(k.aes)) != 1 ||
        RAND_priv_bytes(k.hmac, sizeof(k.hmac)) != 1) {
        OPENSSL_cleanse(&k, sizeof(k));
        return -1;
    }
    pthread_rwlock_wrlock(&ctx->ticket_lock);
    unsigned next = (ctx->ticket_cur + 1) % RW_TLS_TICKET_KEYS;
    OPENSSL_cleanse(&ctx->tickets[next], sizeof(ctx->tickets[next]));
    ctx->tickets[next] = k;
    ctx->ticket_cur = next;
    pthread_rwlock_unlock(&ctx->ticket_lock);
    OPENSSL_cleanse(&k, sizeof(k));
    return 0;
}

/* ---- construction ----------------------------------------------------- */

static int check_readable(const char *path, const char *what, char *err, size_t errlen)
{
    if (!path || !*path) {
        set_err(err, errlen, "tls: no %s file given%s", what, NULL);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        char msg[RW_TLS_ERR_LEN];
        snprintf(msg, sizeof(msg), "tls: cannot open %s file %s: %s", what, path, strerror(errno));
        set_err(err, errlen, "%s%s", msg, NULL);
        return -1;
    }
    fclose(f);
    return 0;
}

static SSL_CTX *make_ssl_ctx(rw_tls_ctx *ctx, const rw_tls_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        set_err(err, errlen, "tls: SSL_CTX_new failed%s%s", NULL, NULL);
        return NULL;
    }
    int minv = cfg->min_version == RW_TLS_V13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    const char *ciphers = cfg->ciphers ? cfg->ciphers : RW_TLS_DEFAULT_CIPHERS;
    const char *suites = cfg->ciphersuites ? cfg->ciphersuites : RW_TLS_DEFAULT_CIPHERSUITES;
    if (SSL_CTX_set_min_proto_version(c, minv) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1) {
        set_err(err, errlen, "tls: cannot set protocol versions%s%s", NULL, NULL);
        goto fail;
    }
    /* An empty list is legal for the version that min_version excludes. */
    if (SSL_CTX_set_cipher_list(c, ciphers) != 1 && minv == TLS1_2_VERSION) {
        set_err(err, errlen, "tls: bad TLS 1.2 cipher list \"%s\"%s", ciphers, NULL);
        goto fail;
    }
    ERR_clear_error();
    if (SSL_CTX_set_ciphersuites(c, suites) != 1) {
        set_err(err, errlen, "tls: bad TLS 1.3 ciphersuites \"%s\"%s", suites, NULL);
        goto fail;
    }
    SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_NO_COMPRESSION | SSL_OP_PRIORITIZE_CHACHA);
    /* Partial writes + moving buffer: rw_tls_write() returns what fit in the
     * output BIO; release buffers: idle connections hold no record buffers. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(c, (const unsigned char *)RW_TLS_SID_CTX, sizeof(RW_TLS_SID_CTX) - 1);
    /* Stateless resumption only: no server-side session cache, no locks. */
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    if (cfg->session_tickets) {
        SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(c, cfg->tickets_per_handshake);
        SSL_CTX_set_timeout(c, cfg->ticket_lifetime_s ? cfg->ticket_lifetime_s : RW_TLS_DEFAULT_TICKET_LIFETIME_S);
        SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_cb);
    } else {
        SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(c, 0);
    }
    SSL_CTX_set_alpn_select_cb(c, alpn_cb, ctx);
    SSL_CTX_set_tlsext_servername_callback(c, servername_cb);
    SSL_CTX_set_tlsext_servername_arg(c, ctx);
    if (cfg->ktls != RW_KTLS_OFF)
        SSL_CTX_set_keylog_callback(c, rw_tls_session_keylog_cb);
    SSL_CTX_set_ex_data(c, ctx_exidx_get(), ctx);
    return c;
fail:
    SSL_CTX_free(c);
    return NULL;
}

static int load_cert(rw_tls_ctx *ctx, rw_tls_cert_entry *e, const rw_tls_cert_config *cc,
                     const rw_tls_config *cfg, char *err, size_t errlen)
{
    if (check_readable(cc->cert_file, "certificate", err, errlen) ||
        check_readable(cc->key_file, "key", err, errlen))
        return -1;
    e->ssl_ctx = make_ssl_ctx(ctx, cfg, err, errlen);
    if (!e->ssl_ctx)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(e->ssl_ctx, cc->cert_file) != 1) {
        set_err(err, errlen, "tls: %s is not a PEM certificate (chain)%s", cc->cert_file, NULL);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(e->ssl_ctx, cc->key_file, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL also fails here when the key does not match the certificate */
        unsigned long code = ERR_peek_last_error();
        if (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH ||
            ERR_GET_REASON(code) == X509_R_KEY_TYPE_MISMATCH)
            set_err(err, errlen, "tls: key %s does not match certificate %s", cc->key_file, cc->cert_file);
        else
            set_err(err, errlen, "tls: %s is not a PEM private key%s", cc->key_file, NULL);
        return -1;
    }
    if (SSL_CTX_check_private_key(e->ssl_ctx) != 1) {
        set_err(err, errlen, "tls: key %s does not match certificate %s", cc->key_file, cc->cert_file);
        return -1;
    }
    if (cc->sni_names && *cc->sni_names)
        names_from_list(e, cc->sni_names);
    else
        names_from_cert(e, SSL_CTX_get0_certificate(e->ssl_ctx));
    return 0;
}

rw_tls_ctx *rw_tls_ctx_new(const rw_tls_config *cfg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    ERR_clear_error();
    if (!cfg || cfg->ncerts == 0 || cfg->ncerts > RW_TLS_MAX_CERTS) {
        set_err(err, errlen, "tls: need 1..%s certificates%s", "RW_TLS_MAX_CERTS", NULL);
        return NULL;
    }
    if (cfg->min_version != RW_TLS_V12 && cfg->min_version != RW_TLS_V13) {
        set_err(err, errlen, "tls: min_version must be TLS 1.2 or 1.3%s%s", NULL, NULL);
        return NULL;
    }
    if (cfg->bio_in_size < RW_TLS_MIN_BIO_SIZE || cfg->bio_out_size < RW_TLS_MIN_BIO_SIZE) {
        set_err(err, errlen, "tls: BIO sizes below one TLS record%s%s", NULL, NULL);
        return NULL;
    }
    rw_tls_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));
    if (!ctx) {
        set_err(err, errlen, "tls: out of memory%s%s", NULL, NULL);
        return NULL;
    }
    pthread_rwlock_init(&ctx->ticket_lock, NULL);
    ctx->alpn_h2 = !cfg->disable_h2;
    ctx->ktls = cfg->ktls;
    ctx->bio_in = cfg->bio_in_size;
    ctx->bio_out = cfg->bio_out_size;
    ctx->ticket_cur = RW_TLS_TICKET_KEYS - 1;
    if (cfg->session_tickets && rw_tls_ctx_rotate_ticket_keys(ctx) != 0) {
        set_err(err, errlen, "tls: no randomness for ticket keys%s%s", NULL, NULL);
        rw_tls_ctx_free(ctx);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->ncerts; i++) {
        ctx->ncerts = i + 1;
        if (load_cert(ctx, &ctx->certs[i], &cfg->certs[i], cfg, err, errlen) != 0) {
            rw_tls_ctx_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

void rw_tls_ctx_free(rw_tls_ctx *ctx)
{
    if (!ctx)
        return;
    for (unsigned i = 0; i < ctx->ncerts; i++)
        SSL_CTX_free(ctx->certs[i].ssl_ctx);
    pthread_rwlock_destroy(&ctx->ticket_lock);
    OPENSSL_clear_free(ctx, sizeof(*ctx));
}

SSL_CTX *rw_tls_ctx_default_ssl_ctx(const rw_tls_ctx *ctx) { return ctx->certs[0].ssl_ctx; }
rw_ktls_mode rw_tls_ctx_ktls_mode(const rw_tls_ctx *ctx) { return ctx->ktls; }
size_t rw_tls_ctx_bio_in_size(const rw_tls_ctx *ctx) { return ctx->bio_in; }
size_t rw_tls_ctx_bio_out_size(const rw_tls_ctx *ctx) { return ctx->bio_out; }
