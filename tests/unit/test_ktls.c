/* kTLS support without a kTLS kernel: the probe reports the kernel honestly,
 * install fails cleanly (and keeps the connection usable), and the derived
 * keys + sequence numbers are proven by sealing records by hand (as the
 * kernel would) that the OpenSSL client must accept, and by opening the
 * client's records with the RX keys. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/tls.h>

#include "check.h"
#include "tls_testutil.h"
#include "ktls/ktls.h"

static char crt[TU_PATH], key[TU_PATH];

static rw_tls_ctx *make_ctx(rw_ktls_mode mode, unsigned tickets)
{
    rw_tls_config cfg;
    char err[RW_TLS_ERR_LEN];
    rw_tls_config_defaults(&cfg);
    cfg.certs[0] = (rw_tls_cert_config){ crt, key, NULL };
    cfg.ncerts = 1;
    cfg.ktls = mode;
    cfg.tickets_per_handshake = tickets;
    rw_tls_ctx *ctx = rw_tls_ctx_new(&cfg, err, sizeof(err));
    if (!ctx)
        tu_fatal(err);
    return ctx;
}

static const EVP_CIPHER *aead(const rw_ktls_keys *k)
{
    return k->cipher == TLS_CIPHER_AES_GCM_128 ? EVP_aes_128_gcm()
         : k->cipher == TLS_CIPHER_AES_GCM_256 ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

/* Per-record nonce: TLS 1.3 and ChaCha: iv XOR seq; TLS 1.2 GCM: salt || seq. */
static void nonce(const rw_ktls_keys *k, const rw_ktls_dir *d, uint64_t seq, uint8_t out[12])
{
    if (k->iv_len == 4) {
        memcpy(out, d->iv, 4);
        for (int i = 0; i < 8; i++)
            out[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
        return;
    }
    memcpy(out, d->iv, 12);
    for (int i = 0; i < 8; i++)
        out[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
}

#define TAG 16

/* Build one application_data record of plaintext pt as kTLS TX would. */
static size_t seal(const rw_ktls_keys *k, const rw_ktls_dir *d, uint64_t seq, const uint8_t *pt, size_t n,
                   uint8_t *out)
{
    uint8_t iv[12], aad[13], inner[512];
    size_t explicit_len = k->version == RW_TLS_V12 && k->iv_len == 4 ? 8 : 0, aadlen, inlen = n;
    size_t body = explicit_len + n + (k->version == RW_TLS_V13 ? 1 : 0) + TAG;
    int l;
    memcpy(inner, pt, n);
    if (k->version == RW_TLS_V13)
        inner[inlen++] = 23; /* inner content type */
    nonce(k, d, seq, iv);
    out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(body >> 8), out[4] = (uint8_t)body;
    if (k->version == RW_TLS_V13) {
        memcpy(aad, out, 5);
        aadlen = 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[i] = (uint8_t)(seq >> (56 - 8 * i));
        aad[8] = 23, aad[9] = 3, aad[10] = 3, aad[11] = (uint8_t)(n >> 8), aad[12] = (uint8_t)n;
        aadlen = 13;
        memcpy(out + 5, iv + 4, explicit_len);
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, aead(k), NULL, d->key, iv);
    EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen);
    EVP_EncryptUpdate(c, out + 5 + explicit_len, &l, inner, (int)inlen);
    EVP_EncryptFinal_ex(c, out + 5 + explicit_len + l, &l);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, out + 5 + explicit_len + inlen);
    EVP_CIPHER_CTX_free(c);
    return 5 + body;
}

/* Open one record as kTLS RX would; returns plaintext length or -1. */
static int open_rec(const rw_ktls_keys *k, const rw_ktls_dir *d, uint64_t seq, const uint8_t *rec, size_t len,
                    uint8_t *out)
{
    uint8_t iv[12], aad[13];
    size_t explicit_len = k->version == RW_TLS_V12 && k->iv_len == 4 ? 8 : 0, aadlen;
    if (len < 5 + explicit_len + TAG || rec[0] != 23)
        return -1;
    size_t body = (size_t)rec[3] << 8 | rec[4];
    if (body + 5 != len)
        return -1;
    size_t ctlen = body - explicit_len - TAG;
    nonce(k, d, seq, iv);
    if (explicit_len)
        memcpy(iv + 4, rec + 5, 8);
    if (k->version == RW_TLS_V13) {
        memcpy(aad, rec, 5);
        aadlen = 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[i] = (uint8_t)(seq >> (56 - 8 * i));
        aad[8] = 23, aad[9] = 3, aad[10] = 3, aad[11] = (uint8_t)(ctlen >> 8), aad[12] = (uint8_t)ctlen;
        aadlen = 13;
    }
    int l, ok;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_DecryptInit_ex(c, aead(k), NULL, d->key, iv);
    EVP_DecryptUpdate(c, NULL, &l, aad, (int)aadlen);
    EVP_DecryptUpdate(c, out, &l, rec + 5 + explicit_len, (int)ctlen);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, (void *)(rec + 5 + explicit_len + ctlen));
    ok = EVP_DecryptFinal_ex(c, out + l, &l);
    EVP_CIPHER_CTX_free(c);
    if (ok != 1)
        return -1;
    if (k->version == RW_TLS_V13) { /* strip padding zeros and the inner type */
        while (ctlen && out[ctlen - 1] == 0)
            ctlen--;
        if (!ctlen || out[--ctlen] != 23)
            return -1;
    }
    return (int)ctlen;
}

static const struct {
    int version;
    const char *cipher;
    int kcipher;
} suites[] = {
    { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", TLS_CIPHER_AES_GCM_128 },
    { TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", TLS_CIPHER_AES_GCM_256 },
    { TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", TLS_CIPHER_CHACHA20_POLY1305 },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", TLS_CIPHER_AES_GCM_128 },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", TLS_CIPHER_AES_GCM_256 },
    { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", TLS_CIPHER_CHACHA20_POLY1305 },
};

/* Userspace traffic first (so the counters must count), then derive and
 * take over both directions by hand. */
static void cross_check(rw_tls_ctx *ctx, size_t i, unsigned tickets)
{
    const char *N = suites[i].cipher;
    SSL_CTX *cc = tu_client_ctx(suites[i].version, suites[i].cipher);
    tu_pair p;
    uint8_t buf[512], rec[600], pt[512];
    char err[RW_KTLS_REASON_LEN];
    rw_ktls_keys k;
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "%s handshake", N);
    const unsigned s_recs = 3, c_recs = 2;
    for (unsigned r = 0; r < s_recs; r++)
        CHECK(tu_server_to_client(&p, (const uint8_t *)"srv", buf, 3) == 0, "%s s->c", N);
    for (unsigned r = 0; r < c_recs; r++)
        CHECK(tu_client_to_server(&p, (const uint8_t *)"cli", buf, 3) == 0, "%s c->s", N);

    CHECK(rw_ktls_derive(p.s, &k, err, sizeof(err)) == 0, "%s derive: %s", N, err);
    CHECK_EQ_INT(k.cipher, suites[i].kcipher, N);
    CHECK_EQ_INT(k.version, suites[i].version, N);
    /* TLS 1.2: Finished was record 0; TLS 1.3: tickets went under the app key */
    uint64_t want_tx = suites[i].version == TLS1_2_VERSION ? 1 + s_recs : tickets + s_recs;
    uint64_t want_rx = suites[i].version == TLS1_2_VERSION ? 1 + c_recs : c_recs;
    CHECK_EQ_INT(k.tx.seq, want_tx, "TX seq");
    CHECK_EQ_INT(k.rx.seq, want_rx, "RX seq");

    /* TX: two hand-sealed records, consecutive sequence numbers */
    for (int r = 0; r < 2; r++) {
        const char *msg = r ? "second record under kTLS-style TX" : "first record under kTLS-style TX";
        size_t n = seal(&k, &k.tx, k.tx.seq + (uint64_t)r, (const uint8_t *)msg, strlen(msg), rec);
        BIO_write(p.c_rbio, rec, (int)n);
        size_t got = 0;
        CHECK(SSL_read_ex(p.c, buf, sizeof(buf), &got) == 1 && got == strlen(msg) && !memcmp(buf, msg, got),
              "%s: client rejected hand-sealed record %d", N, r);
    }
    /* RX: the client's next two records open with the RX keys */
    for (int r = 0; r < 2; r++) {
        const char *msg = r ? "client record two" : "client record one";
        CHECK(SSL_write(p.c, msg, (int)strlen(msg)) == (int)strlen(msg), "client write");
        int rn = BIO_read(p.c_wbio, rec, sizeof(rec));
        int pn = rn > 0 ? open_rec(&k, &k.rx, k.rx.seq + (uint64_t)r, rec, (size_t)rn, pt) : -1;
        CHECK(pn == (int)strlen(msg) && !memcmp(pt, msg, (size_t)pn), "%s: RX record %d did not open (%d)", N, r, pn);
    }
    /* a record with the wrong sequence number must be rejected (the check can fail);
     * last, since the client then sends a fatal alert */
    size_t n = seal(&k, &k.tx, k.tx.seq + 5, (const uint8_t *)"bad", 3, rec);
    BIO_write(p.c_rbio, rec, (int)n);
    size_t got = 0;
    CHECK(SSL_read_ex(p.c, buf, sizeof(buf), &got) == 0, "%s: wrong seq accepted", N);
    ERR_clear_error();

    OPENSSL_cleanse(&k, sizeof(k));
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void test_probe(void)
{
    rw_ktls_probe_result r;
    bool ok = rw_ktls_probe(&r);
    printf("probe: %s (%s)\n", ok ? "available" : "unavailable", r.reason);
    CHECK(r.reason[0] != '\0', "no reason");
    if (ok) {
        CHECK(r.ulp && r.tx && r.rx && r.err == 0, "inconsistent probe");
    } else {
        CHECK(r.err != 0, "failure without errno");
        CHECK(!(r.ulp && r.tx && r.rx), "all steps ok but unavailable");
        if (!r.ulp)
            CHECK(strstr(r.reason, "TCP_ULP") != NULL, "reason: %s", r.reason);
    }
    /* the host this is developed on has no CONFIG_TLS: make that explicit */
    if (!getenv("KVMRUN") && access("/sys/module/tls", F_OK) != 0 && !ok)
        CHECK_EQ_INT(r.err, ENOENT, "errno on a kernel without tls");
}

static int tcp_pair(int *a, int *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    *c = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || *c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &sl) || connect(*c, (struct sockaddr *)&sa, sizeof(sa)))
        return -1;
    *a = accept(l, NULL, NULL);
    close(l);
    return *a < 0 ? -1 : 0;
}

/* install: AGAIN_FLUSH, AGAIN_INPUT, plaintext handback, and on a kernel
 * without kTLS a clean UNSUPPORTED that leaves userspace TLS working. */
static void test_install_paths(rw_tls_ctx *ctx)
{
    SSL_CTX *cc = tu_client_ctx(TLS1_3_VERSION, NULL);
    tu_pair p;
    uint8_t buf[256], rec[512];
    char err[RW_KTLS_REASON_LEN];
    int a, c;
    CHECK(tcp_pair(&a, &c) == 0, "tcp pair");
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    /* client: handshake, then data in the same flight as its Finished */
    int done = 0;
    for (int i = 0; i < 50 && !done; i++) {
        done = SSL_do_handshake(p.c) == 1;
        rw_tls_handshake_step(p.s);
        const uint8_t *o;
        size_t n;
        while (rw_tls_pending_out(p.s, &o, &n) > 0) {
            if (rw_tls_state_get(p.s) == RW_TLS_ESTABLISHED)
                break; /* keep the tickets in the BIO: AGAIN_FLUSH below */
            BIO_write(p.c_rbio, o, (int)n);
            rw_tls_consume_out(p.s, n);
        }
        if (done) {
            SSL_write(p.c, "early app data", 14);
            SSL_write(p.c, "and more", 8);
        }
        int r = BIO_read(p.c_wbio, rec, sizeof(rec));
        if (r > 0)
            rw_tls_feed(p.s, rec, (size_t)r);
    }
    while (rw_tls_state_get(p.s) == RW_TLS_HANDSHAKING && rw_tls_handshake_step(p.s) == RW_TLS_HANDSHAKING)
        break;
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ESTABLISHED, "established");
    CHECK_EQ_INT(rw_ktls_install(p.s, a, err, sizeof(err)), RW_KTLS_AGAIN_FLUSH, "tickets unsent");
    tu_pump(&p);
    /* a partial record from the client */
    SSL_write(p.c, "partial", 7);
    int rn = BIO_read(p.c_wbio, rec, sizeof(rec));
    rw_tls_feed(p.s, rec, 8);
    CHECK_EQ_INT(rw_ktls_install(p.s, a, err, sizeof(err)), RW_KTLS_AGAIN_INPUT, "partial record");
    rw_tls_feed(p.s, rec + 8, (size_t)rn - 8);
    rw_ktls_status st = rw_ktls_install(p.s, a, err, sizeof(err));
    rw_ktls_probe_result pr;
    if (!rw_ktls_probe(&pr)) {
        CHECK_EQ_INT(st, RW_KTLS_UNSUPPORTED, "install without kernel support");
        CHECK(strstr(err, "TCP_ULP") != NULL, "err: %s", err);
        CHECK(!rw_tls_session_ktls_tx(p.s) && !rw_tls_session_ktls_rx(p.s), "flags");
    } else {
        CHECK_EQ_INT(st, RW_KTLS_OK, "install on a kTLS kernel");
    }
    /* every plaintext byte decrypted before the switch comes back, in order */
    const char want[] = "early app dataand morepartial";
    size_t got = 0;
    ssize_t r;
    while ((r = rw_tls_read(p.s, buf + got, 5)) > 0)
        got += (size_t)r;
    CHECK(got == sizeof(want) - 1 && !memcmp(buf, want, got), "handback: got %zu bytes", got);
    if (st == RW_KTLS_UNSUPPORTED) {
        /* userspace TLS carries on */
        CHECK(tu_server_to_client(&p, (const uint8_t *)"still works", buf, 11) == 0 && !memcmp(buf, "still works", 11),
              "userspace after failed install");
        CHECK(tu_client_to_server(&p, (const uint8_t *)"both ways", buf, 9) == 0, "c->s after failed install");
    }
    tu_pair_free(&p);
    close(a);
    close(c);

    /* not established / mode off */
    rw_tls_session *s = rw_tls_session_new(ctx);
    CHECK_EQ_INT(rw_ktls_install(s, -1, err, sizeof(err)), RW_KTLS_UNSUITABLE, "before handshake");
    rw_tls_session_free(s);
    rw_tls_ctx *off = make_ctx(RW_KTLS_OFF, 1);
    tu_pair_init(&p, off, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake (off)");
    rw_ktls_keys k;
    CHECK(rw_ktls_derive(p.s, &k, err, sizeof(err)) == -1, "derive with kTLS off");
    CHECK_EQ_INT(rw_ktls_install(p.s, -1, err, sizeof(err)), RW_KTLS_UNSUITABLE, "install with kTLS off");
    tu_pair_free(&p);
    rw_tls_ctx_free(off);
    /* KeyUpdate: keys moved on, derivation must refuse */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake (keyupdate)");
    SSL_key_update(p.c, SSL_KEY_UPDATE_NOT_REQUESTED);
    CHECK(tu_client_to_server(&p, (const uint8_t *)"ku", buf, 2) == 0, "data after KeyUpdate");
    CHECK(rw_ktls_derive(p.s, &k, err, sizeof(err)) == -1 && strstr(err, "KeyUpdate"), "derive after KeyUpdate: %s", err);
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void test_classify(void)
{
    CHECK_EQ_INT(rw_ktls_classify(23, (const uint8_t *)"x", 1), RW_KTLS_REC_DATA, "data");
    CHECK_EQ_INT(rw_ktls_classify(21, (const uint8_t *)"\x01\x00", 2), RW_KTLS_REC_CLOSE_NOTIFY, "close_notify");
    CHECK_EQ_INT(rw_ktls_classify(21, (const uint8_t *)"\x02\x28", 2), RW_KTLS_REC_ALERT, "fatal alert");
    CHECK_EQ_INT(rw_ktls_classify(21, (const uint8_t *)"\x01", 1), RW_KTLS_REC_ALERT, "short alert");
    CHECK_EQ_INT(rw_ktls_classify(22, (const uint8_t *)"\x18\x00\x00\x01\x00", 5), RW_KTLS_REC_MUST_CLOSE, "KeyUpdate");
    CHECK_EQ_INT(rw_ktls_classify(99, NULL, 0), RW_KTLS_REC_MUST_CLOSE, "unknown type");
    /* on a plain TCP socket (no kTLS) the helper still reads and reports EOF */
    int a, c;
    uint8_t b[8];
    size_t n;
    if (tcp_pair(&a, &c) == 0) {
        CHECK(send(c, "hi", 2, 0) == 2, "send");
        CHECK_EQ_INT(rw_ktls_recv(a, b, sizeof(b), &n, 0), RW_KTLS_REC_DATA, "plain data");
        CHECK_EQ_INT(n, 2, "len");
        CHECK_EQ_INT(rw_ktls_recv(a, b, sizeof(b), &n, MSG_DONTWAIT), RW_KTLS_REC_AGAIN, "EAGAIN");
        close(c);
        CHECK_EQ_INT(rw_ktls_recv(a, b, sizeof(b), &n, 0), RW_KTLS_REC_EOF, "EOF");
        close(a);
    }
}

int main(void)
{
    tu_tmpdir();
    tu_make_cert("k", "ktls.test", "ktls.test", "EC", crt, key);
    test_probe();
    test_classify();
    rw_tls_ctx *ctx2 = make_ctx(RW_KTLS_AUTO, 2), *ctx0 = make_ctx(RW_KTLS_ON, 0);
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        cross_check(ctx2, i, 2);
        cross_check(ctx0, i, 0);
    }
    test_install_paths(ctx2);
    rw_tls_ctx_free(ctx2);
    rw_tls_ctx_free(ctx0);
    tu_cleanup();
    return check_summary("test_ktls");
}
