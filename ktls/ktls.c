/* Kernel TLS: probe, key derivation, install, control records. */
#include "ktls/ktls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define RW_TLS12_RANDOM_LEN 32
#define RW_TLS12_MASTER_LEN 48
#define RW_KTLS_HANDBACK_CHUNK 16384
#define RW_TLS_ALERT_CLOSE_NOTIFY 0
#define RW_TLS_ALERT_WARNING 1

static void say(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, arg ? arg : "");
}

/* ---- probe ------------------------------------------------------------- */

static void probe_fail(rw_ktls_probe_result *r, const char *step)
{
    r->err = errno;
    snprintf(r->reason, sizeof(r->reason), "%s: %s%s", step, strerror(errno),
             errno == ENOENT && !strcmp(step, "TCP_ULP tls") ? " (kernel without CONFIG_TLS / tls module)" : "");
}

bool rw_ktls_probe(rw_ktls_probe_result *out)
{
    rw_ktls_probe_result r = { 0 };
    int l = -1, c = -1, a = -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &sl) || connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
        (a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
        probe_fail(&r, "loopback TCP pair");
        goto out;
    }
    if (setsockopt(a, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
        probe_fail(&r, "TCP_ULP tls");
        goto out;
    }
    r.ulp = true;
    /* throw-away keys: the socket is closed without carrying a record */
    rw_ktls_keys k = { .version = RW_TLS_V13, .cipher = TLS_CIPHER_AES_GCM_128, .key_len = 16, .iv_len = 12 };
    if (rw_ktls_set_dir(a, &k, true) < 0) {
        probe_fail(&r, "TLS_TX");
        goto out;
    }
    r.tx = true;
    if (rw_ktls_set_dir(a, &k, false) < 0) {
        probe_fail(&r, "TLS_RX");
        goto out;
    }
    r.rx = true;
#ifdef TLS_RX_EXPECT_NO_PAD
    int one = 1;
    r.rx_no_pad = setsockopt(a, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one)) == 0;
#endif
    snprintf(r.reason, sizeof(r.reason), "kTLS available%s", r.rx_no_pad ? " (RX_EXPECT_NO_PAD)" : "");
out:
    if (a >= 0)
        close(a);
    if (c >= 0)
        close(c);
    if (l >= 0)
        close(l);
    if (out)
        *out = r;
    return r.ulp && r.tx && r.rx;
}

/* ---- key derivation ---------------------------------------------------- */

/* TLS 1.3 HKDF-Expand-Label(secret, label, "", len) (RFC 8446 7.1, 7.3). */
static int tls13_expand(const EVP_MD *md, const uint8_t *secret, size_t slen, const char *label,
                        uint8_t *out, size_t olen)
{
    static const char prefix[] = "tls13 ";
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, sizeof(prefix) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)"", 0),
        OSSL_PARAM_construct_end(),
    };
    int ok = kc && EVP_KDF_derive(kc, out, olen, p) == 1;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* TLS 1.2 key_block = PRF(master, "key expansion", server_random + client_random). */
static int tls12_key_block(const EVP_MD *md, const uint8_t *ms, size_t mslen, const uint8_t *sr,
                           const uint8_t *cr, uint8_t *out, size_t olen)
{
    static const char label[] = "key expansion";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    /* repeated seed parameters are concatenated */
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)ms, mslen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, sizeof(label) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)sr, RW_TLS12_RANDOM_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)cr, RW_TLS12_RANDOM_LEN),
        OSSL_PARAM_construct_end(),
    };
    int ok = kc && EVP_KDF_derive(kc, out, olen, p) == 1;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

int rw_ktls_derive(rw_tls_session *s, rw_ktls_keys *k, char *err, size_t errlen)
{
    SSL *ssl = rw_tls_session_ssl(s);
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    memset(k, 0, sizeof(*k));
    if (rw_tls_state_get(s) != RW_TLS_ESTABLISHED || !c) {
        say(err, errlen, "kTLS: handshake not finished%s", NULL);
        return -1;
    }
    if (rw_tls_session_rekeyed(s)) {
        say(err, errlen, "kTLS: a KeyUpdate already changed the keys%s", NULL);
        return -1;
    }
    rw_tls_seq txs = rw_tls_session_seq(s, true), rxs = rw_tls_session_seq(s, false);
    if (!txs.counting || !rxs.counting) {
        say(err, errlen, "kTLS: record sequence numbers unknown (kTLS mode off?)%s", NULL);
        return -1;
    }
    switch (SSL_CIPHER_get_cipher_nid(c)) {
    case NID_aes_128_gcm: k->cipher = TLS_CIPHER_AES_GCM_128; k->key_len = 16; break;
    case NID_aes_256_gcm: k->cipher = TLS_CIPHER_AES_GCM_256; k->key_len = 32; break;
    case NID_chacha20_poly1305: k->cipher = TLS_CIPHER_CHACHA20_POLY1305; k->key_len = 32; break;
    default:
        say(err, errlen, "kTLS: cipher %s not supported by the kernel", SSL_CIPHER_get_name(c));
        return -1;
    }
    const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);
    k->tx.seq = txs.seq;
    k->rx.seq = rxs.seq;
    int rc = -1;
    if (SSL_version(ssl) == TLS1_3_VERSION) {
        const rw_tls_secrets *sec = rw_tls_session_secrets(s);
        k->version = RW_TLS_V13;
        k->iv_len = RW_KTLS_IV_MAX;
        if (!sec->client_len || !sec->server_len || sec->client_len != (size_t)EVP_MD_get_size(md)) {
            say(err, errlen, "kTLS: traffic secrets not captured (keylog)%s", NULL);
            goto out;
        }
        if (tls13_expand(md, sec->server_ap, sec->server_len, "key", k->tx.key, k->key_len) ||
            tls13_expand(md, sec->server_ap, sec->server_len, "iv", k->tx.iv, k->iv_len) ||
            tls13_expand(md, sec->client_ap, sec->client_len, "key", k->rx.key, k->key_len) ||
            tls13_expand(md, sec->client_ap, sec->client_len, "iv", k->rx.iv, k->iv_len)) {
            say(err, errlen, "kTLS: HKDF-Expand-Label failed%s", NULL);
            goto out;
        }
    } else if (SSL_version(ssl) == TLS1_2_VERSION) {
        uint8_t ms[RW_TLS12_MASTER_LEN], sr[RW_TLS12_RANDOM_LEN], cr[RW_TLS12_RANDOM_LEN];
        uint8_t kb[2 * RW_KTLS_KEY_MAX + 2 * RW_KTLS_IV_MAX];
        k->version = RW_TLS_V12;
        k->iv_len = k->cipher == TLS_CIPHER_CHACHA20_POLY1305 ? 12 : 4; /* RFC 7905 / RFC 5288 */
        size_t mslen = SSL_SESSION_get_master_key(SSL_get_session(ssl), ms, sizeof(ms));
        size_t need = 2 * k->key_len + 2 * k->iv_len; /* AEAD: no MAC keys */
        if (mslen != sizeof(ms) || SSL_get_server_random(ssl, sr, sizeof(sr)) != sizeof(sr) ||
            SSL_get_client_random(ssl, cr, sizeof(cr)) != sizeof(cr) ||
            tls12_key_block(md, ms, mslen, sr, cr, kb, need)) {
            say(err, errlen, "kTLS: TLS 1.2 key expansion failed%s", NULL);
        } else {
            /* client_write_key, server_write_key, client_write_IV, server_write_IV */
            memcpy(k->rx.key, kb, k->key_len);
            memcpy(k->tx.key, kb + k->key_len, k->key_len);
            memcpy(k->rx.iv, kb + 2 * k->key_len, k->iv_len);
            memcpy(k->tx.iv, kb + 2 * k->key_len + k->iv_len, k->iv_len);
            rc = 0;
        }
        OPENSSL_cleanse(ms, sizeof(ms));
        OPENSSL_cleanse(kb, sizeof(kb));
        goto out;
    } else {
        say(err, errlen, "kTLS: protocol version not supported%s", NULL);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    if (rc)
        OPENSSL_cleanse(k, sizeof(*k));
    return rc;
}

/* ---- install ----------------------------------------------------------- */

int rw_ktls_set_dir(int fd, const rw_ktls_keys *k, bool tx)
{
    const rw_ktls_dir *d = tx ? &k->tx : &k->rx;
    union {
        struct tls12_crypto_info_aes_gcm_128 g128;
        struct tls12_crypto_info_aes_gcm_256 g256;
        struct tls12_crypto_info_chacha20_poly1305 cc;
    } u;
    uint8_t seq[8];
    socklen_t len;
    unsigned version = k->version == RW_TLS_V13 ? TLS_1_3_VERSION : TLS_1_2_VERSION;
    memset(&u, 0, sizeof(u));
    for (int i = 0; i < 8; i++)
        seq[i] = (uint8_t)(d->seq >> (56 - 8 * i));
    switch (k->cipher) {
#define RW_GCM_FILL(f, klen)                                                                   \
    u.f.info.version = version;                                                                \
    u.f.info.cipher_type = k->cipher;                                                          \
    memcpy(u.f.key, d->key, klen);                                                             \
    memcpy(u.f.salt, d->iv, 4);                                                                \
    /* 1.3: IV = salt || iv; 1.2: iv = first explicit nonce (OpenSSL's choice: the seq) */     \
    memcpy(u.f.iv, k->version == RW_TLS_V13 ? d->iv + 4 : seq, 8);                            \
    memcpy(u.f.rec_seq, seq, 8);                                                               \
    len = sizeof(u.f);
    case TLS_CIPHER_AES_GCM_128:
        RW_GCM_FILL(g128, 16)
        break;
    case TLS_CIPHER_AES_GCM_256:
        RW_GCM_FILL(g256, 32)
        break;
#undef RW_GCM_FILL
    case TLS_CIPHER_CHACHA20_POLY1305:
        u.cc.info.version = version;
        u.cc.info.cipher_type = k->cipher;
        memcpy(u.cc.key, d->key, 32);
        memcpy(u.cc.iv, d->iv, 12);
        memcpy(u.cc.rec_seq, seq, 8);
        len = sizeof(u.cc);
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    int r = setsockopt(fd, SOL_TLS, tx ? TLS_TX : TLS_RX, &u, len);
    int saved = errno;
    OPENSSL_cleanse(&u, sizeof(u));
    errno = saved;
    return r;
}

/* Decrypt every complete record OpenSSL can still reach into a handback
 * buffer, so no plaintext is lost when the kernel takes RX over. */
static rw_ktls_status drain_plaintext(rw_tls_session *s, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < RW_KTLS_HANDBACK_CHUNK) {
            uint8_t *nb = OPENSSL_realloc(buf, cap + RW_KTLS_HANDBACK_CHUNK);
            if (!nb) {
                OPENSSL_clear_free(buf, cap);
                say(err, errlen, "kTLS: out of memory%s", NULL);
                return RW_KTLS_UNSUITABLE;
            }
            buf = nb;
            cap += RW_KTLS_HANDBACK_CHUNK;
        }
        ssize_t n = rw_tls_read(s, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    rw_tls_session_set_handback(s, buf, len);
    if (rw_tls_state_get(s) != RW_TLS_ESTABLISHED) {
        say(err, errlen, "kTLS: connection no longer established: %s", rw_tls_reason(s));
        return RW_KTLS_UNSUITABLE;
    }
    return RW_KTLS_OK;
}

rw_ktls_status rw_ktls_install(rw_tls_session *s, int fd, char *err, size_t errlen)
{
    const uint8_t *p;
    size_t n;
    rw_ktls_keys k;
    if (err && errlen)
        err[0] = '\0';
    if (rw_tls_session_ktls_tx(s) || rw_tls_session_ktls_rx(s)) {
        say(err, errlen, "kTLS: already installed%s", NULL);
        return RW_KTLS_UNSUITABLE;
    }
    if (rw_tls_state_get(s) != RW_TLS_ESTABLISHED) {
        say(err, errlen, "kTLS: handshake not finished%s", NULL);
        return RW_KTLS_UNSUITABLE;
    }
    rw_ktls_status st = drain_plaintext(s, err, errlen);
    if (st != RW_KTLS_OK)
        return st;
    if (rw_tls_pending_out(s, &p, &n) > 0) {
        say(err, errlen, "kTLS: ciphertext still to send (flush it first)%s", NULL);
        return RW_KTLS_AGAIN_FLUSH;
    }
    if (rw_tls_session_input_pending(s) > 0) {
        say(err, errlen, "kTLS: a partial record is buffered (feed more input)%s", NULL);
        return RW_KTLS_AGAIN_INPUT;
    }
    if (rw_ktls_derive(s, &k, err, errlen) != 0)
        return RW_KTLS_UNSUITABLE;
    st = RW_KTLS_OK;
    if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
        say(err, errlen, "kTLS: TCP_ULP tls: %s", strerror(errno));
        st = RW_KTLS_UNSUPPORTED;
    } else if (rw_ktls_set_dir(fd, &k, true) < 0) {
        /* the ULP without keys passes bytes through: userspace TLS goes on */
        say(err, errlen, "kTLS: TLS_TX: %s", strerror(errno));
        st = RW_KTLS_UNSUPPORTED;
    } else if (rw_ktls_set_dir(fd, &k, false) < 0) {
        say(err, errlen, "kTLS: TLS_RX: %s (TX already in the kernel: close)", strerror(errno));
        rw_tls_session_set_ktls(s, true, false);
        st = RW_KTLS_BROKEN;
    } else {
#ifdef TLS_RX_EXPECT_NO_PAD
        /* We never pad and nor do common clients; the kernel falls back by
         * itself when a padded record shows up. */
        int one = 1;
        if (k.version == RW_TLS_V13)
            (void)setsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one));
#endif
        rw_tls_session_set_ktls(s, true, true);
        rw_tls_session_wipe_secrets(s);
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return st;
}

/* ---- control records --------------------------------------------------- */

rw_ktls_rec rw_ktls_classify(int record_type, const uint8_t *data, size_t len)
{
    switch (record_type) {
    case RW_TLS_CT_APPDATA:
        return RW_KTLS_REC_DATA;
    case RW_TLS_CT_ALERT:
        if (len == 2 && data[0] == RW_TLS_ALERT_WARNING && data[1] == RW_TLS_ALERT_CLOSE_NOTIFY)
            return RW_KTLS_REC_CLOSE_NOTIFY;
        return RW_KTLS_REC_ALERT;
    case RW_TLS_CT_HANDSHAKE: /* KeyUpdate / unexpected post-handshake message */
    default:
        return RW_KTLS_REC_MUST_CLOSE;
    }
}

rw_ktls_rec rw_ktls_recv(int fd, uint8_t *buf, size_t cap, size_t *n, int flags)
{
    char cbuf[CMSG_SPACE(sizeof(unsigned char))];
    struct iovec iov = { buf, cap };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    *n = 0;
    ssize_t r = recvmsg(fd, &mh, flags);
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? RW_KTLS_REC_AGAIN : RW_KTLS_REC_ERROR;
    int type = RW_TLS_CT_APPDATA;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
            type = *CMSG_DATA(cm);
    if (r == 0 && type == RW_TLS_CT_APPDATA)
        return cap ? RW_KTLS_REC_EOF : RW_KTLS_REC_DATA;
    *n = (size_t)r;
    return rw_ktls_classify(type, buf, (size_t)r);
}

int rw_ktls_send_close_notify(int fd)
{
    static const uint8_t alert[2] = { RW_TLS_ALERT_WARNING, RW_TLS_ALERT_CLOSE_NOTIFY };
    char cbuf[CMSG_SPACE(sizeof(unsigned char))];
    struct iovec iov = { (void *)alert, sizeof(alert) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_TLS;
    cm->cmsg_type = TLS_SET_RECORD_TYPE;
    cm->cmsg_len = CMSG_LEN(sizeof(unsigned char));
    *CMSG_DATA(cm) = RW_TLS_CT_ALERT;
    ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
    return r == (ssize_t)sizeof(alert) ? 0 : -1;
}
