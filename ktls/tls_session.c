/* One TLS connection over a memory BIO pair: see tls_session.h. */
#include "ktls/tls_session.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

struct rw_tls_session {
    SSL *ssl;
    BIO *net; /* our end of the pair: we write ciphertext in, read ciphertext out */
    uint8_t state;
    bool peer_closed, sent_close, eof_in, rekeyed;
    bool ktls_tx, ktls_rx;
    rw_tls_seq seq[2]; /* [0] read (RX), [1] write (TX) */
    rw_tls_secrets secrets;
    uint8_t *handback;
    size_t hb_len, hb_off;
    char reason[RW_TLS_REASON_LEN];
};

#define RW_TLS_HS_FINISHED 20
#define RW_TLS_HS_KEY_UPDATE 24
#define RW_TLS_CT_CCS 20

/* ---- callbacks: keylog secrets and record counting for kTLS ------------ */

static rw_tls_session *session_of(const SSL *ssl)
{
    return SSL_get_ex_data(ssl, rw_tls_ssl_exidx());
}

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; n < max; n++, h += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return k == 0 && (c == '\0' || c == ' ' || c == '\n') ? n : 0;
            v = v * 16 + d;
        }
        out[n] = (uint8_t)v;
    }
    return h[0] == '\0' || h[0] == '\n' ? n : 0; /* longer than max: reject */
}

/* "LABEL <client_random hex> <secret hex>": keep the TLS 1.3 application
 * traffic secrets (generation 0); kTLS needs them, nothing else is kept. */
void rw_tls_session_keylog_cb(const SSL *ssl, const char *line)
{
    static const char C0[] = "CLIENT_TRAFFIC_SECRET_0 ", S0[] = "SERVER_TRAFFIC_SECRET_0 ";
    rw_tls_session *s = session_of(ssl);
    if (!s)
        return;
    bool client = strncmp(line, C0, sizeof(C0) - 1) == 0;
    if (!client && strncmp(line, S0, sizeof(S0) - 1) != 0)
        return;
    const char *p = strchr(line + sizeof(C0) - 1, ' ');
    if (!p)
        return;
    uint8_t *dst = client ? s->secrets.client_ap : s->secrets.server_ap;
    size_t n = unhex(p + 1, dst, RW_TLS_SECRET_MAX);
    if (client)
        s->secrets.client_len = n;
    else
        s->secrets.server_len = n;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                   void *arg)
{
    (void)version;
    rw_tls_session *s = arg;
    rw_tls_seq *q = &s->seq[write_p ? 1 : 0];
    const uint8_t *b = buf;
    bool tls13 = SSL_version(ssl) == TLS1_3_VERSION;
    if (content_type == SSL3_RT_HEADER && len >= 1) {
        if (b[0] == RW_TLS_CT_CCS) {
            /* TLS 1.2: keys change after the CCS, whose record is unprotected.
             * TLS 1.3: CCS is middlebox padding, never counted. */
            if (!tls13)
                *q = (rw_tls_seq){ .counting = true, .seq = 0 };
        } else if (q->counting) {
            q->seq++;
        }
    } else if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && tls13) {
        /* The Finished record itself went under the handshake keys: its
         * header was already reported, so the next record is number 0. */
        if (b[0] == RW_TLS_HS_FINISHED && !q->counting)
            *q = (rw_tls_seq){ .counting = true, .seq = 0 };
        else if (b[0] == RW_TLS_HS_KEY_UPDATE)
            s->rekeyed = true;
    }
}

/* ---- errors ------------------------------------------------------------ */

static void set_error(rw_tls_session *s, const char *what, int sslerr)
{
    unsigned long e = ERR_peek_error();
    char ossl[120] = "";
    if (e)
        ERR_error_string_n(e, ossl, sizeof(ossl));
    ERR_clear_error();
    s->state = RW_TLS_ERROR;
    if (s->eof_in && (sslerr == SSL_ERROR_SYSCALL || (e && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)))
        snprintf(s->reason, sizeof(s->reason), "%s: peer closed TCP without close_notify (truncated)", what);
    else
        snprintf(s->reason, sizeof(s->reason), "%s: %s", what, ossl[0] ? ossl : "TLS failure");
}

/* ---- lifecycle --------------------------------------------------------- */

rw_tls_session *rw_tls_session_new(rw_tls_ctx *ctx)
{
    rw_tls_session *s = OPENSSL_zalloc(sizeof(*s));
    BIO *internal = NULL;
    if (!s)
        return NULL;
    s->ssl = SSL_new(rw_tls_ctx_default_ssl_ctx(ctx));
    if (!s->ssl || BIO_new_bio_pair(&internal, rw_tls_ctx_bio_out_size(ctx), &s->net,
                                    rw_tls_ctx_bio_in_size(ctx)) != 1) {
        SSL_free(s->ssl);
        OPENSSL_free(s);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(s->ssl, internal, internal);
    SSL_set_accept_state(s->ssl);
    SSL_set_ex_data(s->ssl, rw_tls_ssl_exidx(), s);
    if (rw_tls_ctx_ktls_mode(ctx) != RW_KTLS_OFF) {
        SSL_set_msg_callback(s->ssl, msg_cb);
        SSL_set_msg_callback_arg(s->ssl, s);
    }
    return s;
}

void rw_tls_session_free(rw_tls_session *s)
{
    if (!s)
        return;
    SSL_free(s->ssl); /* frees the internal BIO */
    BIO_free(s->net);
    OPENSSL_clear_free(s->handback, s->hb_len);
    OPENSSL_clear_free(s, sizeof(*s));
}

/* ---- input ------------------------------------------------------------- */

size_t rw_tls_feed(rw_tls_session *s, const uint8_t *in, size_t len)
{
    size_t done = 0;
    if (s->eof_in)
        return 0;
    while (done < len) {
        size_t chunk = len - done > (size_t)INT_MAX ? (size_t)INT_MAX : len - done;
        int w = BIO_write(s->net, in + done, (int)chunk);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    return done;
}

void rw_tls_feed_eof(rw_tls_session *s)
{
    if (!s->eof_in) {
        s->eof_in = true;
        BIO_shutdown_wr(s->net);
    }
}

rw_tls_state rw_tls_handshake_step(rw_tls_session *s)
{
    if (s->state != RW_TLS_HANDSHAKING)
        return s->state;
    ERR_clear_error();
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->state = RW_TLS_ESTABLISHED;
        return s->state;
    }
    int e = SSL_get_error(s->ssl, r);
    if ((e == SSL_ERROR_WANT_READ && !s->eof_in) || e == SSL_ERROR_WANT_WRITE)
        return s->state;
    set_error(s, "handshake", e);
    return s->state;
}

rw_tls_state rw_tls_state_get(const rw_tls_session *s) { return s->state; }
const char *rw_tls_reason(const rw_tls_session *s) { return s->reason; }

ssize_t rw_tls_read(rw_tls_session *s, uint8_t *out, size_t cap)
{
    if (s->hb_off < s->hb_len) {
        size_t n = s->hb_len - s->hb_off < cap ? s->hb_len - s->hb_off : cap;
        memcpy(out, s->handback + s->hb_off, n);
        s->hb_off += n;
        if (s->hb_off == s->hb_len) {
            OPENSSL_clear_free(s->handback, s->hb_len);
            s->handback = NULL;
            s->hb_len = s->hb_off = 0;
        }
        return (ssize_t)n;
    }
    if (s->state == RW_TLS_HANDSHAKING && rw_tls_handshake_step(s) == RW_TLS_HANDSHAKING)
        return 0;
    if (s->state != RW_TLS_ESTABLISHED)
        return -1;
    if (s->ktls_rx)
        return 0; /* the socket delivers plaintext now */
    if (cap == 0)
        return 0;
    size_t got = 0;
    ERR_clear_error();
    if (SSL_read_ex(s->ssl, out, cap, &got) == 1)
        return (ssize_t)got;
    int e = SSL_get_error(s->ssl, 0);
    if ((e == SSL_ERROR_WANT_READ && !s->eof_in) || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        s->peer_closed = true;
        s->state = RW_TLS_CLOSED;
        return -1;
    }
    set_error(s, "read", e);
    return -1;
}

/* ---- output ------------------------------------------------------------ */

ssize_t rw_tls_write(rw_tls_session *s, const void *plain, size_t len)
{
    if (s->state != RW_TLS_ESTABLISHED || s->ktls_tx)
        return -1;
    if (len == 0)
        return 0;
    size_t done = 0;
    ERR_clear_error();
    if (SSL_write_ex(s->ssl, plain, len, &done) == 1)
        return (ssize_t)done;
    int e = SSL_get_error(s->ssl, 0);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
        return 0;
    set_error(s, "write", e);
    return -1;
}

size_t rw_tls_write_room(rw_tls_session *s)
{
    size_t room = BIO_ctrl_get_write_guarantee(SSL_get_wbio(s->ssl));
    return room > RW_TLS_RECORD_OVERHEAD ? room - RW_TLS_RECORD_OVERHEAD : 0;
}

size_t rw_tls_pending_out(rw_tls_session *s, const uint8_t **p, size_t *n)
{
    char *buf = NULL;
    int avail = BIO_nread0(s->net, &buf);
    if (avail <= 0) {
        *p = NULL;
        *n = 0;
        return 0;
    }
    *p = (const uint8_t *)buf;
    *n = (size_t)avail;
    return *n;
}

void rw_tls_consume_out(rw_tls_session *s, size_t n)
{
    while (n) {
        char *buf;
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        int r = BIO_nread(s->net, &buf, chunk);
        if (r <= 0)
            return;
        n -= (size_t)r;
    }
}

void rw_tls_close(rw_tls_session *s)
{
    if (s->sent_close || s->state == RW_TLS_ERROR)
        return;
    if (s->state == RW_TLS_HANDSHAKING || s->ktls_tx) {
        /* nothing to say during a handshake; under kTLS TX the caller sends
         * it with rw_ktls_send_close_notify() */
        s->state = RW_TLS_CLOSED;
        return;
    }
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* queues close_notify in the output BIO */
    ERR_clear_error();
    s->sent_close = true;
    s->state = RW_TLS_CLOSED;
}

bool rw_tls_peer_closed(const rw_tls_session *s) { return s->peer_closed; }
bool rw_tls_sent_close(const rw_tls_session *s) { return s->sent_close; }

/* ---- negotiated parameters -------------------------------------------- */

const char *rw_tls_alpn(const rw_tls_session *s)
{
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(s->ssl, &p, &n);
    /* the callback only ever selects from our two static spellings */
    if (n == 2 && memcmp(p, "h2", 2) == 0)
        return "h2";
    if (n == 8 && memcmp(p, "http/1.1", 8) == 0)
        return "http/1.1";
    return NULL;
}

const char *rw_tls_sni(const rw_tls_session *s)
{
    return SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
}

int rw_tls_version(const rw_tls_session *s)
{
    int v = SSL_version(s->ssl);
    return v == TLS1_3_VERSION ? RW_TLS_V13 : v == TLS1_2_VERSION ? RW_TLS_V12 : 0;
}

const char *rw_tls_cipher(const rw_tls_session *s)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    return c ? SSL_CIPHER_get_name(c) : NULL;
}

bool rw_tls_resumed(const rw_tls_session *s) { return SSL_session_reused(s->ssl) == 1; }

/* ---- kTLS support ------------------------------------------------------ */

SSL *rw_tls_session_ssl(rw_tls_session *s) { return s->ssl; }
const rw_tls_secrets *rw_tls_session_secrets(const rw_tls_session *s) { return &s->secrets; }
rw_tls_seq rw_tls_session_seq(const rw_tls_session *s, bool tx) { return s->seq[tx ? 1 : 0]; }
bool rw_tls_session_rekeyed(const rw_tls_session *s) { return s->rekeyed; }

size_t rw_tls_session_input_pending(rw_tls_session *s)
{
    return BIO_ctrl_pending(SSL_get_rbio(s->ssl)) + (SSL_has_pending(s->ssl) ? 1 : 0);
}

void rw_tls_session_set_ktls(rw_tls_session *s, bool tx, bool rx)
{
    s->ktls_tx = s->ktls_tx || tx;
    s->ktls_rx = s->ktls_rx || rx;
}
bool rw_tls_session_ktls_tx(const rw_tls_session *s) { return s->ktls_tx; }
bool rw_tls_session_ktls_rx(const rw_tls_session *s) { return s->ktls_rx; }

void rw_tls_session_set_handback(rw_tls_session *s, uint8_t *buf, size_t len)
{
    OPENSSL_clear_free(s->handback, s->hb_len);
    s->handback = len ? buf : NULL;
    s->hb_len = len;
    s->hb_off = 0;
    if (!len)
        OPENSSL_free(buf);
}

void rw_tls_session_wipe_secrets(rw_tls_session *s) { OPENSSL_cleanse(&s->secrets, sizeof(s->secrets)); }
