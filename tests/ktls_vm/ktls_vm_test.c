/* kTLS end to end, meant for the kvm-run VM (Debian 6.1 kernel, see
 * tools/kvm-run/README.md): real loopback TCP; our rw_tls_session
 * does the handshake against an OpenSSL client thread, rw_ktls_install()
 * hands the keys to the kernel, then the server moves data with plain
 * send()/recvmsg() while the client stays in userspace OpenSSL. TLS 1.2 and
 * 1.3 x AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; the client's
 * close_notify arrives as a control record; one TLS 1.3 case ends with a
 * client KeyUpdate, which 6.1 cannot follow (reported as MUST_CLOSE).
 * Prints PASS/FAIL lines; exit 0 only if all passed. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "../unit/check.h"
#include "ktls/ktls.h"

#define BULK (512 * 1024)
#define IO_TIMEOUT_S 60
#define ALARM_S 280
#define TICKETS 2 /* TLS 1.3 tickets before the switch: TX seq must start at 2 */

static const char EARLY[] = "client data sent right after its Finished";
static const char MSG_A[] = "server data through kTLS TX with plain send()";
static uint8_t *bulk_c2s, *bulk_s2c;

enum ending { END_CLOSE_NOTIFY, END_KEY_UPDATE };
static const struct tcase {
    const char *name;
    int version;
    const char *suite;
    enum ending end;
} cases[] = {
    { "TLS1.3 AES-128-GCM", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", END_CLOSE_NOTIFY },
    { "TLS1.3 AES-256-GCM", TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", END_CLOSE_NOTIFY },
    { "TLS1.3 CHACHA20-POLY1305", TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", END_CLOSE_NOTIFY },
    { "TLS1.2 AES-128-GCM", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", END_CLOSE_NOTIFY },
    { "TLS1.2 AES-256-GCM", TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", END_CLOSE_NOTIFY },
    { "TLS1.2 CHACHA20-POLY1305", TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", END_CLOSE_NOTIFY },
    { "TLS1.3 AES-128-GCM KeyUpdate", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", END_KEY_UPDATE },
};

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* ---------------------------------------------------------------- client */
struct client { const struct tcase *tc; int port; int ok; char err[200]; };
#define CERR(...) do { snprintf(a->err, sizeof(a->err), __VA_ARGS__); goto out; } while (0)

static void *client_main(void *arg)
{
    struct client *a = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *s = NULL;
    uint8_t *buf = malloc(BULK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL_CTX_set_min_proto_version(ctx, a->tc->version);
    SSL_CTX_set_max_proto_version(ctx, a->tc->version);
    if (a->tc->version == TLS1_3_VERSION)
        SSL_CTX_set_ciphersuites(ctx, a->tc->suite);
    else
        SSL_CTX_set_cipher_list(ctx, a->tc->suite);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        CERR("connect: %s", strerror(errno));
    s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, "localhost");
    if (SSL_connect(s) != 1)
        CERR("SSL_connect failed");
    if (SSL_write(s, EARLY, sizeof(EARLY)) != (int)sizeof(EARLY))
        CERR("write early");
    size_t got = 0, n;
    while (got < sizeof(MSG_A) && SSL_read_ex(s, buf + got, sizeof(MSG_A) - got, &n) == 1)
        got += n;
    if (got != sizeof(MSG_A) || memcmp(buf, MSG_A, got))
        CERR("MSG_A: got %zu bytes", got);
    for (size_t done = 0; done < BULK; done += n)
        if (SSL_write_ex(s, bulk_c2s + done, BULK - done, &n) != 1)
            CERR("bulk write");
    for (got = 0; got < BULK && SSL_read_ex(s, buf + got, BULK - got, &n) == 1;)
        got += n;
    if (got != BULK || memcmp(buf, bulk_s2c, BULK))
        CERR("bulk read: %zu bytes / mismatch", got);
    if (a->tc->end == END_KEY_UPDATE) {
        if (SSL_key_update(s, SSL_KEY_UPDATE_NOT_REQUESTED) != 1 || SSL_write(s, "after", 5) != 5)
            CERR("key update");
    } else {
        SSL_shutdown(s); /* our close_notify */
        int r = SSL_read_ex(s, buf, 16, &n);
        if (r != 0 || SSL_get_error(s, 0) != SSL_ERROR_ZERO_RETURN)
            CERR("no close_notify from the server (r=%d err=%d)", r, SSL_get_error(s, 0));
    }
    a->ok = 1;
out:
    ERR_clear_error();
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    free(buf);
    return NULL;
}

/* ---------------------------------------------------------------- server */
static int flush_out(rw_tls_session *s, int fd)
{
    const uint8_t *p;
    size_t n;
    while (rw_tls_pending_out(s, &p, &n) > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        rw_tls_consume_out(s, (size_t)w);
    }
    return 0;
}

static int recv_feed(rw_tls_session *s, int fd)
{
    uint8_t buf[16384];
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) {
        rw_tls_feed_eof(s);
        return -1;
    }
    /* the input BIO holds >= one record: read out plaintext only after the switch */
    size_t off = 0;
    while (off < (size_t)r) {
        size_t t = rw_tls_feed(s, buf + off, (size_t)r - off);
        if (t == 0)
            return -1; /* not expected in this test: nothing reads plaintext here */
        off += t;
    }
    return 0;
}

/* Read exactly n bytes: first whatever the session handed back, then the socket. */
static int ktls_read_exact(rw_tls_session *s, int fd, uint8_t *out, size_t n, size_t *from_handback)
{
    size_t got = 0, k;
    ssize_t r;
    while (got < n && (r = rw_tls_read(s, out + got, n - got)) > 0)
        got += (size_t)r;
    *from_handback = got;
    while (got < n) {
        rw_ktls_rec t = rw_ktls_recv(fd, out + got, n - got, &k, 0);
        if (t != RW_KTLS_REC_DATA)
            return -(int)t - 1;
        got += k;
    }
    return 0;
}

static void run_case(const struct tcase *tc, rw_tls_ctx *ctx, int lfd, int port)
{
    const char *N = tc->name;
    struct client ca = { .tc = tc, .port = port };
    pthread_t th;
    uint8_t *buf = malloc(BULK);
    char err[RW_KTLS_REASON_LEN];
    rw_tls_session *s = rw_tls_session_new(ctx);
    int fd = -1;
    printf("--- %s\n", N);
    pthread_create(&th, NULL, client_main, &ca);
    fd = accept(lfd, NULL, NULL);
    struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (rw_tls_handshake_step(s) == RW_TLS_HANDSHAKING)
        if (flush_out(s, fd) || recv_feed(s, fd))
            break;
    if (rw_tls_state_get(s) != RW_TLS_ESTABLISHED) {
        CHECK_FAIL("%s: handshake: %s", N, rw_tls_reason(s));
        goto out;
    }
    CHECK_PASS("%s: handshake %s %s", N, rw_tls_version(s) == RW_TLS_V13 ? "TLSv1.3" : "TLSv1.2", rw_tls_cipher(s));
    /* every other case pulls the client's first data into OpenSSL before the
     * switch, so the handback path (plaintext decrypted in userspace) runs */
    bool pull_early = (tc - cases) % 2 == 1;
    if (pull_early && (flush_out(s, fd) || recv_feed(s, fd))) {
        CHECK_FAIL("%s: early recv", N);
        goto out;
    }
    rw_tls_seq txs = rw_tls_session_seq(s, true);
    rw_ktls_status st;
    int tries = 0;
    while ((st = rw_ktls_install(s, fd, err, sizeof(err))) == RW_KTLS_AGAIN_FLUSH ||
           st == RW_KTLS_AGAIN_INPUT) {
        if (++tries > 100 || (st == RW_KTLS_AGAIN_FLUSH ? flush_out(s, fd) : recv_feed(s, fd)))
            break;
        txs = rw_tls_session_seq(s, true);
    }
    if (st != RW_KTLS_OK) {
        CHECK_FAIL("%s: rw_ktls_install: status %d: %s", N, st, err);
        goto out;
    }
    CHECK_PASS("%s: kTLS TX+RX installed (TX seq %llu after %d userspace flushes)", N, (unsigned long long)txs.seq, tries);
    if (tc->version == TLS1_3_VERSION && txs.seq != TICKETS)
        CHECK_FAIL("%s: expected TX seq %d (tickets sent before the switch), got %llu", N, TICKETS,
                   (unsigned long long)txs.seq);
    size_t hb = 0;
    int r = ktls_read_exact(s, fd, buf, sizeof(EARLY), &hb);
    if (pull_early && hb == 0)
        CHECK_FAIL("%s: early data was pulled into OpenSSL but none came back from the handback", N);
    if (r == 0 && !memcmp(buf, EARLY, sizeof(EARLY)))
        CHECK_PASS("%s: early client data intact (%zu bytes from OpenSSL handback, %zu via kTLS RX)", N, hb,
                   sizeof(EARLY) - hb);
    else {
        CHECK_FAIL("%s: early data: r=%d", N, r);
        goto out;
    }
    if (send(fd, MSG_A, sizeof(MSG_A), MSG_NOSIGNAL) == (ssize_t)sizeof(MSG_A))
        CHECK_PASS("%s: kTLS TX: plain send()", N);
    else {
        CHECK_FAIL("%s: send: %s", N, strerror(errno));
        goto out;
    }
    r = ktls_read_exact(s, fd, buf, BULK, &hb);
    if (r == 0 && !memcmp(buf, bulk_c2s, BULK))
        CHECK_PASS("%s: kTLS RX: %d KiB via recvmsg", N, BULK / 1024);
    else {
        CHECK_FAIL("%s: bulk recv: r=%d %s", N, r, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < BULK) {
        ssize_t w = send(fd, bulk_s2c + done, BULK - done, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done == BULK)
        CHECK_PASS("%s: kTLS TX: %d KiB via send()", N, BULK / 1024);
    else {
        CHECK_FAIL("%s: bulk send: %s", N, strerror(errno));
        goto out;
    }
    size_t n = 0;
    rw_ktls_rec t = rw_ktls_recv(fd, buf, 64, &n, 0);
    if (tc->end == END_KEY_UPDATE) {
        if (t == RW_KTLS_REC_MUST_CLOSE && n >= 1 && buf[0] == 24)
            CHECK_PASS("%s: client KeyUpdate arrives as a handshake record -> MUST_CLOSE (no rekey on this kernel)", N);
        else if (t == RW_KTLS_REC_MUST_CLOSE)
            CHECK_PASS("%s: handshake record -> MUST_CLOSE (type %u)", N, n ? buf[0] : 0);
        else
            CHECK_FAIL("%s: KeyUpdate: record kind %d n=%zu", N, t, n);
        shutdown(fd, SHUT_RDWR);
    } else {
        if (t == RW_KTLS_REC_CLOSE_NOTIFY)
            CHECK_PASS("%s: client close_notify seen as a control record", N);
        else
            CHECK_FAIL("%s: close_notify: record kind %d n=%zu errno=%s", N, t, n, strerror(errno));
        if (rw_ktls_send_close_notify(fd) == 0)
            CHECK_PASS("%s: our close_notify sent under kTLS TX", N);
        else
            CHECK_FAIL("%s: send close_notify: %s", N, strerror(errno));
    }
out:
    pthread_join(th, NULL);
    if (ca.ok)
        CHECK_PASS("%s: OpenSSL client verified every byte", N);
    else
        CHECK_FAIL("%s: client: %s", N, ca.err[0] ? ca.err : "did not finish");
    rw_tls_session_free(s);
    if (fd >= 0)
        close(fd);
    free(buf);
}

static void write_cert(const char *dir, char *crt, char *key, size_t len)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, k, EVP_sha256());
    snprintf(crt, len, "%s/c.pem", dir);
    snprintf(key, len, "%s/k.pem", dir);
    FILE *f = fopen(crt, "w");
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key, "w");
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(k);
}

int main(void)
{
    struct utsname u;
    rw_ktls_probe_result pr;
    char dir[] = "/tmp/ktls-vm.XXXXXX", crt[64], key[64], err[RW_TLS_ERR_LEN];
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    alarm(ALARM_S);
    uname(&u);
    printf("INFO: kernel %s, %s, in VM: %s\n", u.release, OpenSSL_version(OPENSSL_VERSION), getenv("KVMRUN") ? "yes" : "no");
    if (rw_ktls_probe(&pr))
        CHECK_PASS("rw_ktls_probe: %s", pr.reason);
    else {
        CHECK_FAIL("rw_ktls_probe: %s", pr.reason);
        return check_summary("ktls_vm_test");
    }
    if (!mkdtemp(dir))
        return 1;
    write_cert(dir, crt, key, sizeof(crt));
    rw_tls_config cfg;
    rw_tls_config_defaults(&cfg);
    cfg.certs[0] = (rw_tls_cert_config){ crt, key, NULL };
    cfg.ncerts = 1;
    cfg.ktls = RW_KTLS_ON;
    cfg.tickets_per_handshake = TICKETS;
    rw_tls_ctx *ctx = rw_tls_ctx_new(&cfg, err, sizeof(err));
    unlink(crt);
    unlink(key);
    rmdir(dir);
    if (!ctx) {
        CHECK_FAIL("rw_tls_ctx_new: %s", err);
        return 1;
    }
    bulk_c2s = malloc(BULK);
    bulk_s2c = malloc(BULK);
    fill(bulk_c2s, BULK, 1);
    fill(bulk_s2c, BULK, 2);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8) || getsockname(lfd, (struct sockaddr *)&sa, &sl))
        return 1;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i], ctx, lfd, ntohs(sa.sin_port));
    close(lfd);
    rw_tls_ctx_free(ctx);
    free(bulk_c2s);
    free(bulk_s2c);
    return check_summary("ktls_vm_test");
}
