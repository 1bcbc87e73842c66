/* TLS session over memory BIOs against an OpenSSL client: every version and
 * cipher, ALPN, SNI, resumption and ticket key rotation, KeyUpdate,
 * close_notify, garbage, truncation, tampering, 1 MiB each way. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "tls_testutil.h"
#include "ktls/tls_ctx.h"
#include "ktls/tls_session.h"

#define BIG (1024 * 1024)

static char ec_crt[TU_PATH], ec_key[TU_PATH], rsa_crt[TU_PATH], rsa_key[TU_PATH];
static char b_crt[TU_PATH], b_key[TU_PATH];

static rw_tls_ctx *make_ctx(void (*tweak)(rw_tls_config *))
{
    rw_tls_config cfg;
    char err[RW_TLS_ERR_LEN];
    rw_tls_config_defaults(&cfg);
    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, ec_key, NULL };
    cfg.certs[1] = (rw_tls_cert_config){ rsa_crt, rsa_key, NULL };
    cfg.ncerts = 2;
    if (tweak)
        tweak(&cfg);
    rw_tls_ctx *ctx = rw_tls_ctx_new(&cfg, err, sizeof(err));
    if (!ctx) {
        fprintf(stderr, "ctx: %s\n", err);
        tu_fatal("rw_tls_ctx_new");
    }
    return ctx;
}

static void test_ctx_errors(void)
{
    rw_tls_config cfg;
    char err[RW_TLS_ERR_LEN], bad[TU_PATH];
    rw_tls_config_defaults(&cfg);
    cfg.ncerts = 1;

    cfg.certs[0] = (rw_tls_cert_config){ "/nonexistent/x.crt", ec_key, NULL };
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "missing cert accepted");
    CHECK(strstr(err, "cannot open certificate file /nonexistent/x.crt") != NULL, "err: %s", err);

    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, "/nonexistent/x.key", NULL };
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "missing key accepted");
    CHECK(strstr(err, "cannot open key file") != NULL, "err: %s", err);

    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, b_key, NULL }; /* another EC key */
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "mismatched key accepted");
    CHECK(strstr(err, "does not match") != NULL, "err: %s", err);

    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, rsa_key, NULL }; /* wrong key type */
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "RSA key for EC cert accepted");
    CHECK(strstr(err, "does not match") != NULL, "err: %s", err);

    snprintf(bad, sizeof(bad), "%s/garbage.pem", tu_dir);
    tu_write_file(bad, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    cfg.certs[0] = (rw_tls_cert_config){ bad, ec_key, NULL };
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "garbage cert accepted");
    CHECK(strstr(err, "not a PEM certificate") != NULL, "err: %s", err);

    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, ec_key, NULL };
    cfg.ciphers = "NO-SUCH-CIPHER";
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "bad cipher list accepted");
    CHECK(strstr(err, "cipher list") != NULL, "err: %s", err);
    cfg.ciphers = NULL;
    cfg.ciphersuites = "TLS_NOPE";
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "bad ciphersuites accepted");
    cfg.ciphersuites = NULL;
    cfg.ncerts = 0;
    CHECK(rw_tls_ctx_new(&cfg, err, sizeof(err)) == NULL, "no certs accepted");
    cfg.ncerts = 1;
    rw_tls_ctx *ok = rw_tls_ctx_new(&cfg, err, sizeof(err));
    CHECK(ok != NULL, "good config refused: %s", err);
    rw_tls_ctx_free(ok);
}

static const struct {
    int version;
    const char *cipher;
    const char *expect;
    const char *sni;
} suites[] = {
    { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", NULL },
    { TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", NULL },
    { TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", NULL },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", NULL },
    { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305", NULL },
    { TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "rsa.test" },
};

static void test_versions_ciphers(rw_tls_ctx *ctx)
{
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        SSL_CTX *cc = tu_client_ctx(suites[i].version, suites[i].cipher);
        tu_pair p;
        uint8_t in[100], out[100];
        tu_pair_init(&p, ctx, cc, suites[i].sni, NULL, 0);
        CHECK(tu_handshake(&p), "handshake %s: %s", suites[i].cipher, rw_tls_reason(p.s));
        CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ESTABLISHED, suites[i].cipher);
        CHECK_EQ_INT(rw_tls_version(p.s), suites[i].version, "version");
        CHECK(rw_tls_cipher(p.s) && !strcmp(rw_tls_cipher(p.s), suites[i].expect), "cipher %s",
              rw_tls_cipher(p.s) ? rw_tls_cipher(p.s) : "(null)");
        tu_fill(in, sizeof(in), (uint32_t)i);
        CHECK(tu_client_to_server(&p, in, out, sizeof(in)) == 0 && !memcmp(in, out, sizeof(in)), "c->s %s",
              suites[i].cipher);
        CHECK(tu_server_to_client(&p, in, out, sizeof(in)) == 0 && !memcmp(in, out, sizeof(in)), "s->c %s",
              suites[i].cipher);
        tu_pair_free(&p);
        SSL_CTX_free(cc);
    }
}

static void test_min_version(void)
{
    rw_tls_config cfg;
    char err[RW_TLS_ERR_LEN];
    rw_tls_config_defaults(&cfg);
    cfg.certs[0] = (rw_tls_cert_config){ ec_crt, ec_key, NULL };
    cfg.ncerts = 1;
    cfg.min_version = RW_TLS_V13;
    rw_tls_ctx *ctx = rw_tls_ctx_new(&cfg, err, sizeof(err));
    CHECK(ctx != NULL, "ctx: %s", err);
    if (!ctx)
        return;
    SSL_CTX *cc = tu_client_ctx(TLS1_2_VERSION, NULL);
    tu_pair p;
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(!tu_handshake(&p), "TLS 1.2 client accepted by a 1.3-only server");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ERROR, "state");
    CHECK(strstr(rw_tls_reason(p.s), "handshake") != NULL, "reason: %s", rw_tls_reason(p.s));
    tu_pair_free(&p);
    SSL_CTX_free(cc);
    rw_tls_ctx_free(ctx);
}

static void alpn_case(rw_tls_ctx *ctx, const char *wire, unsigned len, const char *expect, const char *what)
{
    SSL_CTX *cc = tu_client_ctx(0, NULL);
    tu_pair p;
    tu_pair_init(&p, ctx, cc, NULL, wire, len);
    CHECK(tu_handshake(&p), "handshake (%s): %s", what, rw_tls_reason(p.s));
    const char *got = rw_tls_alpn(p.s);
    CHECK(expect ? got && !strcmp(got, expect) : got == NULL, "%s: ALPN %s, expected %s", what,
          got ? got : "none", expect ? expect : "none");
    const unsigned char *cp;
    unsigned cn;
    SSL_get0_alpn_selected(p.c, &cp, &cn);
    CHECK(expect ? cn == strlen(expect) && !memcmp(cp, expect, cn) : cn == 0, "%s: client sees other ALPN", what);
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void no_h2(rw_tls_config *c) { c->disable_h2 = true; }

static void test_alpn(rw_tls_ctx *ctx)
{
    alpn_case(ctx, "\x02h2\x08http/1.1", 12, "h2", "h2+http/1.1");
    alpn_case(ctx, "\x08http/1.1\x02h2", 12, "h2", "server preference");
    alpn_case(ctx, "\x08http/1.1", 9, "http/1.1", "http/1.1 only");
    alpn_case(ctx, NULL, 0, NULL, "no ALPN");
    alpn_case(ctx, "\x06spdy/3\x08http/1.1", 16, "http/1.1", "unknown + http/1.1");
    alpn_case(ctx, "\x06spdy/3", 7, NULL, "nothing in common");
    rw_tls_ctx *noh2 = make_ctx(no_h2);
    alpn_case(noh2, "\x02h2\x08http/1.1", 12, "http/1.1", "h2 disabled");
    alpn_case(noh2, "\x02h2", 3, NULL, "h2 disabled, h2 only");
    rw_tls_ctx_free(noh2);
}

static char *peer_cn(SSL *c, char *buf, size_t n)
{
    X509 *x = SSL_get1_peer_certificate(c);
    buf[0] = '\0';
    if (x) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)n);
        X509_free(x);
    }
    return buf;
}

static void sni_setup(rw_tls_config *c)
{
    c->certs[1] = (rw_tls_cert_config){ b_crt, b_key, NULL };           /* SANs: b.test, *.b.test */
    c->certs[2] = (rw_tls_cert_config){ rsa_crt, rsa_key, "rsa.test, other.test" };
    c->ncerts = 3;
}

static void test_sni(void)
{
    rw_tls_ctx *ctx = make_ctx(sni_setup);
    static const struct { const char *sni; const char *cn; } cases[] = {
        { "a.test", "a.test" }, { "b.test", "b-cert" },    { "x.B.TEST", "b-cert" },
        { "y.x.b.test", "a.test" }, { "other.test", "rsa.test" }, { "unknown.example", "a.test" },
        { NULL, "a.test" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* TLS 1.2 with both ECDSA and RSA suites so the RSA cert can be used */
        SSL_CTX *cc = tu_client_ctx(i % 2 ? TLS1_2_VERSION : TLS1_3_VERSION, NULL);
        tu_pair p;
        char cn[128];
        tu_pair_init(&p, ctx, cc, cases[i].sni, NULL, 0);
        CHECK(tu_handshake(&p), "SNI %s handshake: %s", cases[i].sni ? cases[i].sni : "(none)", rw_tls_reason(p.s));
        CHECK(!strcmp(peer_cn(p.c, cn, sizeof(cn)), cases[i].cn), "SNI %s: got cert %s, want %s",
              cases[i].sni ? cases[i].sni : "(none)", cn, cases[i].cn);
        const char *h = rw_tls_sni(p.s);
        CHECK(cases[i].sni ? h && !strcmp(h, cases[i].sni) : h == NULL, "rw_tls_sni %s", h ? h : "(null)");
        tu_pair_free(&p);
        SSL_CTX_free(cc);
    }
    CHECK(rw_tls_name_matches("*.b.test", "x.b.test"), "wildcard");
    CHECK(!rw_tls_name_matches("*.b.test", "b.test"), "wildcard needs a label");
    CHECK(!rw_tls_name_matches("*.b.test", ".b.test"), "empty label");
    CHECK(!rw_tls_name_matches("a.test", ""), "empty host");
    rw_tls_ctx_free(ctx);
}

/* One connection; returns the client's session for resumption (caller frees). */
static SSL_SESSION *connect_once(rw_tls_ctx *ctx, SSL_CTX *cc, SSL_SESSION *resume, int *resumed)
{
    tu_pair p;
    uint8_t b[8] = "ping", o[8];
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    if (resume)
        SSL_set_session(p.c, resume);
    int ok = tu_handshake(&p);
    CHECK(ok, "handshake: %s", rw_tls_reason(p.s));
    /* TLS 1.3 tickets arrive after the handshake: read some data to get them */
    CHECK(tu_server_to_client(&p, b, o, sizeof(b)) == 0, "data");
    *resumed = rw_tls_resumed(p.s);
    CHECK(*resumed == SSL_session_reused(p.c), "both sides agree on resumption");
    SSL_SESSION *sess = SSL_get1_session(p.c);
    /* a client freed without shutdown marks its session not resumable */
    SSL_set_shutdown(p.c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    tu_pair_free(&p);
    return sess;
}

static void test_resumption(rw_tls_ctx *ctx)
{
    int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION };
    for (int v = 0; v < 2; v++) {
        SSL_CTX *cc = tu_client_ctx(versions[v], NULL);
        int resumed;
        SSL_SESSION *s1 = connect_once(ctx, cc, NULL, &resumed);
        CHECK(!resumed, "first connection resumed?");
        CHECK(s1 && SSL_SESSION_is_resumable(s1), "v%x: no resumable session (ticket)", versions[v]);
        SSL_SESSION *s2 = connect_once(ctx, cc, s1, &resumed);
        CHECK(resumed, "v%x: ticket not accepted", versions[v]);
        /* one rotation: the old key is still accepted (and the ticket renewed) */
        CHECK(rw_tls_ctx_rotate_ticket_keys(ctx) == 0, "rotate");
        SSL_SESSION *s3 = connect_once(ctx, cc, s2, &resumed);
        CHECK(resumed, "v%x: ticket under the previous key refused", versions[v]);
        /* RW_TLS_TICKET_KEYS rotations: the key of s1 is gone */
        for (int i = 0; i < RW_TLS_TICKET_KEYS; i++)
            rw_tls_ctx_rotate_ticket_keys(ctx);
        SSL_SESSION *s4 = connect_once(ctx, cc, s1, &resumed);
        CHECK(!resumed, "v%x: ticket under a dropped key accepted", versions[v]);
        SSL_SESSION_free(s1);
        SSL_SESSION_free(s2);
        SSL_SESSION_free(s3);
        SSL_SESSION_free(s4);
        SSL_CTX_free(cc);
    }
}

static void no_tickets(rw_tls_config *c) { c->session_tickets = false; }

static void test_no_tickets(void)
{
    rw_tls_ctx *ctx = make_ctx(no_tickets);
    SSL_CTX *cc = tu_client_ctx(TLS1_3_VERSION, NULL);
    int resumed;
    SSL_SESSION *s1 = connect_once(ctx, cc, NULL, &resumed);
    CHECK(!s1 || !SSL_SESSION_is_resumable(s1), "tickets disabled but session resumable");
    SSL_SESSION_free(s1);
    SSL_CTX_free(cc);
    rw_tls_ctx_free(ctx);
}

static void test_key_update(rw_tls_ctx *ctx)
{
    SSL_CTX *cc = tu_client_ctx(TLS1_3_VERSION, NULL);
    tu_pair p;
    uint8_t in[300], out[300];
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    tu_fill(in, sizeof(in), 7);
    CHECK(SSL_key_update(p.c, SSL_KEY_UPDATE_REQUESTED) == 1, "client key update");
    CHECK(tu_client_to_server(&p, in, out, sizeof(in)) == 0 && !memcmp(in, out, sizeof(in)),
          "data after client KeyUpdate");
    CHECK(rw_tls_session_rekeyed(p.s), "KeyUpdate not noticed");
    CHECK(tu_server_to_client(&p, in, out, sizeof(in)) == 0 && !memcmp(in, out, sizeof(in)),
          "server data after KeyUpdate (server must have updated too)");
    CHECK(tu_client_to_server(&p, in, out, sizeof(in)) == 0, "second round");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ESTABLISHED, "state");
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void test_close_notify(rw_tls_ctx *ctx)
{
    SSL_CTX *cc = tu_client_ctx(0, NULL);
    tu_pair p;
    uint8_t buf[16];
    /* client closes first */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    SSL_shutdown(p.c);
    tu_pump(&p);
    CHECK(rw_tls_read(p.s, buf, sizeof(buf)) == -1, "read after close_notify");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_CLOSED, "state");
    CHECK(rw_tls_peer_closed(p.s), "peer_closed");
    rw_tls_close(p.s);
    tu_pump(&p);
    CHECK(SSL_shutdown(p.c) == 1, "client did not get our close_notify");
    CHECK(rw_tls_write(p.s, "x", 1) == -1, "write after close");
    tu_pair_free(&p);
    /* server closes first */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    rw_tls_close(p.s);
    CHECK(rw_tls_sent_close(p.s) && !rw_tls_peer_closed(p.s), "flags");
    tu_pump(&p);
    size_t n;
    CHECK(SSL_read_ex(p.c, buf, sizeof(buf), &n) == 0 && SSL_get_error(p.c, 0) == SSL_ERROR_ZERO_RETURN,
          "client did not see close_notify");
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void test_garbage(rw_tls_ctx *ctx)
{
    static const char *inputs[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", /* ClientHello with a bogus body */
        "\x16\x03\x01\xff\xff",                     /* oversized record length */
        ("\x17\x03\x03\x00\x10" "0123456789abcdef"), /* app data before any handshake */
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        rw_tls_session *s = rw_tls_session_new(ctx);
        uint8_t buf[64];
        const uint8_t *o;
        size_t n = strlen(inputs[i]) ? strlen(inputs[i]) : 1;
        if (i == 1)
            n = 10;
        if (i == 3)
            n = 21;
        rw_tls_feed(s, (const uint8_t *)inputs[i], n);
        rw_tls_feed_eof(s);
        rw_tls_handshake_step(s);
        CHECK_EQ_INT(rw_tls_state_get(s), RW_TLS_ERROR, inputs[i]);
        CHECK(rw_tls_reason(s)[0] != '\0', "no reason");
        CHECK(rw_tls_read(s, buf, sizeof(buf)) == -1, "read after error");
        CHECK(rw_tls_write(s, "x", 1) == -1, "write after error");
        rw_tls_pending_out(s, &o, &n); /* an alert may be waiting: must not crash */
        rw_tls_consume_out(s, n);
        rw_tls_session_free(s);
    }
    /* random bytes in many sizes, no EOF: either ERROR or still waiting */
    uint8_t junk[4096];
    for (uint32_t seed = 1; seed < 200; seed++) {
        rw_tls_session *s = rw_tls_session_new(ctx);
        tu_fill(junk, sizeof(junk), seed);
        if (seed % 2)
            junk[0] = 0x16, junk[1] = 3, junk[2] = 1;
        rw_tls_feed(s, junk, seed * 20 % sizeof(junk));
        rw_tls_state st = rw_tls_handshake_step(s);
        CHECK(st == RW_TLS_ERROR || st == RW_TLS_HANDSHAKING, "seed %u state %d", seed, st);
        rw_tls_session_free(s);
    }
}

static void test_truncation_and_tamper(rw_tls_ctx *ctx)
{
    SSL_CTX *cc = tu_client_ctx(0, NULL);
    tu_pair p;
    uint8_t rec[512], buf[512];
    /* half a record, then TCP EOF */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    CHECK(SSL_write(p.c, "hello, truncated world", 22) == 22, "client write");
    int n = BIO_read(p.c_wbio, rec, sizeof(rec));
    CHECK(n > 10, "record");
    CHECK_EQ_INT(rw_tls_feed(p.s, rec, (size_t)n / 2), n / 2, "feed half");
    CHECK_EQ_INT(rw_tls_read(p.s, buf, sizeof(buf)), 0, "half a record gives nothing yet");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ESTABLISHED, "still established");
    rw_tls_feed_eof(p.s);
    CHECK_EQ_INT(rw_tls_read(p.s, buf, sizeof(buf)), -1, "EOF inside a record");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ERROR, "state");
    CHECK(strstr(rw_tls_reason(p.s), "truncated") != NULL, "reason: %s", rw_tls_reason(p.s));
    CHECK_EQ_INT(rw_tls_feed(p.s, rec, 1), 0, "feed after EOF");
    tu_pair_free(&p);
    /* EOF between records without close_notify is a truncation too */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    rw_tls_feed_eof(p.s);
    CHECK_EQ_INT(rw_tls_read(p.s, buf, sizeof(buf)), -1, "EOF without close_notify");
    CHECK(strstr(rw_tls_reason(p.s), "truncated") != NULL, "reason: %s", rw_tls_reason(p.s));
    tu_pair_free(&p);
    /* half a ClientHello, then EOF */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    SSL_do_handshake(p.c);
    n = BIO_read(p.c_wbio, rec, sizeof(rec));
    rw_tls_feed(p.s, rec, (size_t)n / 2);
    CHECK_EQ_INT(rw_tls_handshake_step(p.s), RW_TLS_HANDSHAKING, "half ClientHello");
    rw_tls_feed_eof(p.s);
    CHECK_EQ_INT(rw_tls_handshake_step(p.s), RW_TLS_ERROR, "EOF in ClientHello");
    tu_pair_free(&p);
    /* one flipped ciphertext bit */
    tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
    CHECK(tu_handshake(&p), "handshake");
    CHECK(SSL_write(p.c, "tamper", 6) == 6, "client write");
    n = BIO_read(p.c_wbio, rec, sizeof(rec));
    rec[n - 3] ^= 0x40;
    rw_tls_feed(p.s, rec, (size_t)n);
    CHECK_EQ_INT(rw_tls_read(p.s, buf, sizeof(buf)), -1, "tampered record");
    CHECK_EQ_INT(rw_tls_state_get(p.s), RW_TLS_ERROR, "state");
    const uint8_t *o;
    size_t on;
    /* the fatal alert (a protected record in TLS 1.3) waits to be sent */
    CHECK(rw_tls_pending_out(p.s, &o, &on) > 0 && (o[0] == 0x15 || o[0] == 0x17), "no alert queued");
    tu_pair_free(&p);
    SSL_CTX_free(cc);
}

static void test_bulk(rw_tls_ctx *ctx)
{
    uint8_t *in = malloc(BIG), *out = malloc(BIG);
    int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION };
    for (int v = 0; v < 2; v++) {
        SSL_CTX *cc = tu_client_ctx(versions[v], NULL);
        tu_pair p;
        tu_pair_init(&p, ctx, cc, NULL, NULL, 0);
        CHECK(tu_handshake(&p), "handshake");
        tu_fill(in, BIG, 11 + (uint32_t)v);
        memset(out, 0, BIG);
        CHECK(tu_server_to_client(&p, in, out, BIG) == 0 && !memcmp(in, out, BIG), "1 MiB s->c");
        tu_fill(in, BIG, 21 + (uint32_t)v);
        memset(out, 0, BIG);
        CHECK(tu_client_to_server(&p, in, out, BIG) == 0 && !memcmp(in, out, BIG), "1 MiB c->s");
        /* the input BIO is bounded: a feed larger than it is taken in part */
        uint8_t *big = calloc(1, RW_TLS_DEFAULT_BIO_IN * 2);
        size_t t = rw_tls_feed(p.s, big, RW_TLS_DEFAULT_BIO_IN * 2);
        CHECK(t > 0 && t <= RW_TLS_DEFAULT_BIO_IN, "feed took %zu", t);
        free(big);
        tu_pair_free(&p);
        SSL_CTX_free(cc);
    }
    free(in);
    free(out);
}

int main(void)
{
    tu_tmpdir();
    tu_make_cert("ec", "a.test", "a.test", "EC", ec_crt, ec_key);
    tu_make_cert("rsa", "rsa.test", NULL, "RSA", rsa_crt, rsa_key);
    tu_make_cert("b", "b-cert", "b.test,*.b.test", "EC", b_crt, b_key);

    test_ctx_errors();
    rw_tls_ctx *ctx = make_ctx(NULL);
    test_versions_ciphers(ctx);
    test_min_version();
    test_alpn(ctx);
    test_sni();
    test_resumption(ctx);
    test_no_tickets();
    test_key_update(ctx);
    test_close_notify(ctx);
    test_garbage(ctx);
    test_truncation_and_tamper(ctx);
    test_bulk(ctx);
    rw_tls_ctx_free(ctx);
    tu_cleanup();
    return check_summary("test_tls_session");
}
