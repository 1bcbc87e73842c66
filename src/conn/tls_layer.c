/* The TLS stage of a connection: handshake, decrypt into the engine, encrypt
 * the engine's output, and the hand-off to kernel TLS (see tls_layer.h). */
#include "conn/tls_layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "conn/conn_internal.h"
#include "conn/engine.h"
#include "core/log.h"
#include "ktls/ktls.h"
#include "ktls/tls_ctx.h"
#include "ktls/tls_session.h"
#include "core/probes.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

_Static_assert(RW_MAX_TLS_SNI + 1 <= RW_TLS_MAX_CERTS, "--tls-sni entries + default certificate");

#define RW_TLS_PATH_MAX 4096 /* one --tls-sni certificate or key path */

typedef struct rw_tls_server {
    rw_tls_ctx *ctx;
    bool ktls;               /* try kernel TLS on every connection */
    rw_ktls_mode mode;
    uint64_t next_rotate_ms;
    /* --tls-sni "HOST:CERT:KEY" split into NUL-terminated parts */
    char sni_buf[RW_MAX_TLS_SNI][3 * RW_TLS_PATH_MAX];
} rw_tls_server;

typedef struct rw_tls_conn {
    rw_tls_session *s;
    struct iovec iov;   /* ciphertext handed to the backend */
    uint8_t *stash;     /* ciphertext OpenSSL could not take yet */
    size_t stash_len;
    bool established;   /* handshake done, engine chosen */
    bool ktls_want;     /* switch to kTLS once the socket is quiet */
    bool need_input;    /* the switch waits for the rest of a record */
    bool failed;        /* error counted, alert (if any) being flushed */
    size_t retry_len;   /* a write OpenSSL could not finish: offer at least this again */
} rw_tls_conn;

/* One record of plaintext moved at a time; per thread, never allocated. */
static _Thread_local uint8_t plain_scratch[RW_TLS_PLAIN_CHUNK];

/* ---- process level ------------------------------------------------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "HOST[,HOST]:CERT:KEY" -> names, cert, key (the key is the last field). */
static int split_sni(const char *spec, char *buf, size_t cap, rw_tls_cert_config *out)
{
    size_t n = strlen(spec);
    if (n + 1 > cap)
        return -1;
    memcpy(buf, spec, n + 1);
    char *c1 = strchr(buf, ':');
    char *c2 = strrchr(buf, ':');
    if (!c1 || c1 == c2 || c1 == buf || c2[1] == '\0' || c2 == c1 + 1)
        return -1;
    *c1 = '\0';
    *c2 = '\0';
    out->sni_names = buf;
    out->cert_file = c1 + 1;
    out->key_file = c2 + 1;
    return 0;
}

int rw_tls_server_init(const rw_config *cfg, rw_tls_server **out)
{
    if (*out)
        return 0;
    if (!cfg->tls_cert && !cfg->tls_key && cfg->n_tls_sni == 0)
        return 0;
    if (!cfg->tls_cert || !cfg->tls_key) {
        rw_error("TLS: --tls-cert and --tls-key must be given together");
        return -1;
    }
    rw_tls_server *t = calloc(1, sizeof *t);
    if (!t) {
        rw_error("TLS: out of memory");
        return -1;
    }
    rw_tls_config tc;
    rw_tls_config_defaults(&tc);
    tc.certs[0] = (rw_tls_cert_config){ .cert_file = cfg->tls_cert, .key_file = cfg->tls_key };
    tc.ncerts = 1;
    for (int i = 0; i < cfg->n_tls_sni; i++) {
        if (split_sni(cfg->tls_sni[i], t->sni_buf[i], sizeof t->sni_buf[i],
                      &tc.certs[tc.ncerts]) < 0) {
            rw_error("TLS: --tls-sni \"%s\": expected HOST[,HOST]:CERT:KEY", cfg->tls_sni[i]);
            free(t);
            return -1;
        }
        tc.ncerts++;
    }
    tc.min_version = cfg->tls_min_version == 13 ? RW_TLS_V13 : RW_TLS_V12;
    tc.ciphers = cfg->tls_ciphers;
    tc.ciphersuites = cfg->tls_ciphersuites;
    t->mode = cfg->ktls == 1 ? RW_KTLS_ON : cfg->ktls == 2 ? RW_KTLS_OFF : RW_KTLS_AUTO;
    if (t->mode != RW_KTLS_OFF) {
        rw_ktls_probe_result pr;
        if (rw_ktls_probe(&pr)) {
            t->ktls = true;
            rw_info("TLS: kernel TLS available (TX+RX%s): used after each handshake",
                    pr.rx_no_pad ? ", RX no-pad" : "");
        } else if (t->mode == RW_KTLS_ON) {
            rw_error("TLS: --ktls on, but the kernel cannot do kTLS: %s", pr.reason);
            free(t);
            return -1;
        } else {
            rw_info("TLS: kernel TLS unavailable (%s): userspace TLS", pr.reason);
        }
    } else {
        rw_info("TLS: kernel TLS off (--ktls off): userspace TLS");
    }
    /* No keylog capture or record counting when kTLS will never be used. */
    tc.ktls = t->ktls ? t->mode : RW_KTLS_OFF;
    char err[RW_TLS_ERR_LEN];
    t->ctx = rw_tls_ctx_new(&tc, err, sizeof err);
    if (!t->ctx) {
        rw_error("TLS: %s", err);
        free(t);
        return -1;
    }
    t->next_rotate_ms = mono_ms() + RW_TLS_TICKET_ROTATE_MS;
    *out = t;
    return 0;
}

void rw_tls_server_free(rw_tls_server **tp)
{
    rw_tls_server *t = *tp;
    if (!t)
        return;
    rw_tls_ctx_free(t->ctx);
    free(t);
    *tp = NULL;
}

void rw_tls_server_tick(rw_tls_server *t)
{
    if (!t)
        return;
    uint64_t now = mono_ms();
    if (now < t->next_rotate_ms)
        return;
    t->next_rotate_ms = now + RW_TLS_TICKET_ROTATE_MS;
    if (rw_tls_ctx_rotate_ticket_keys(t->ctx) < 0)
        rw_warn("TLS: ticket key rotation failed (no randomness): keeping the current keys");
    else
        rw_debug("TLS: session ticket keys rotated");
}

/* ---- connection level ------------------------------------------------------ */

int rw_tls_conn_start(rw_conn *c)
{
    rw_tls_server *srv = c->w->tls;
    rw_tls_conn *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->s = rw_tls_session_new(srv->ctx);
    if (!t->s) {
        free(t);
        return -1;
    }
    c->tls = t;
    return 0;
}

void rw_tls_conn_free(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    if (!t)
        return;
    c->tls = NULL;
    if (t->established && t->ktls_want && !(c->flags & RW_CONNF_KTLS))
        c->w->stats.tls_userspace++; /* ended before the switch (e.g. Connection: close) */
    rw_tls_session_free(t->s);
    free(t->stash);
    free(t);
}

bool rw_tls_conn_cipher_pending(const rw_conn *c)
{
    const uint8_t *p;
    size_t n;
    return rw_tls_pending_out(c->tls->s, &p, &n) > 0;
}

bool rw_tls_conn_in_handshake(const rw_conn *c)
{
    return !c->tls->established && !c->tls->failed;
}

static bool ktls_ready(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    return t->ktls_want && t->established && !t->failed && !t->need_input && t->stash_len == 0 &&
           c->state == RW_CONN_ACTIVE && !rw_tls_conn_cipher_pending(c);
}

bool rw_tls_conn_read_blocked(const rw_conn *c)
{
    return ktls_ready((rw_conn *)c);
}

/* Handshake failed or a record did not decrypt: count it, send the alert
 * OpenSSL queued (if any), close. */
static void tls_fail(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    if (t->failed)
        return;
    t->failed = true;
    c->w->stats.tls_errors++;
    rw_debug("TLS: fd %d: %s", c->fd, rw_tls_reason(t->s));
    if (rw_tls_conn_cipher_pending(c))
        rw_conn_set_state(c, RW_CONN_CLOSING);
    else
        rw_conn_set_state(c, RW_CONN_DEAD);
}

static void on_established(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    rw_tls_server *srv = c->w->tls;
    t->established = true;
    c->w->stats.tls_handshakes++;
    const char *alpn = rw_tls_alpn(t->s);
    RW_PROBE2(tls__handshake, c->fd, alpn && strcmp(alpn, "h2") == 0);
    /* The engine the client chose: its plaintext starts in that protocol. */
    const rw_engine *e = alpn ? rw_worker_engine(c->w, RW_VIA_ALPN, alpn, strlen(alpn)) : NULL;
    if (e && e != c->engine && e->start)
        e->start(c, NULL);
    t->ktls_want = srv->ktls;
    if (!t->ktls_want)
        c->w->stats.tls_userspace++;
}

/* Drives the handshake and moves every plaintext byte into the engine. */
static void tls_drain(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    while (c->state == RW_CONN_ACTIVE && c->tls == t) {
        if (!t->established) {
            rw_tls_state st = rw_tls_handshake_step(t->s);
            if (st == RW_TLS_HANDSHAKING)
                return;
            if (st != RW_TLS_ESTABLISHED) {
                tls_fail(c);
                return;
            }
            on_established(c);
            if (c->state != RW_CONN_ACTIVE)
                return;
        }
        ssize_t r = rw_tls_read(t->s, plain_scratch, sizeof plain_scratch);
        if (r > 0) {
            rw_conn_feed_plain(c, (const char *)plain_scratch, (size_t)r);
            continue;
        }
        if (r == 0)
            return;
        if (rw_tls_state_get(t->s) == RW_TLS_CLOSED)
            rw_conn_feed_eof(c); /* the peer's close_notify */
        else
            tls_fail(c);
        return;
    }
}

/* Feeds ciphertext until OpenSSL takes no more; returns the bytes taken. */
static size_t tls_pump(rw_conn *c, const uint8_t *p, size_t n)
{
    rw_tls_conn *t = c->tls;
    size_t off = 0;
    bool stalled = false;
    for (;;) {
        size_t took = rw_tls_feed(t->s, p + off, n - off);
        off += took;
        tls_drain(c);
        if (off == n || c->state != RW_CONN_ACTIVE || c->tls != t || t->failed)
            return n; /* everything taken, or nothing more will be read */
        if (took == 0 && stalled)
            return off; /* input BIO full until our output is flushed */
        stalled = took == 0;
    }
}

static void stash_keep(rw_conn *c, const uint8_t *p, size_t n)
{
    rw_tls_conn *t = c->tls;
    if (n == 0)
        return;
    if (t->stash_len + n > RW_TLS_STASH_MAX) {
        rw_conn_set_state(c, RW_CONN_DEAD);
        return;
    }
    if (!t->stash) {
        t->stash = malloc(RW_TLS_STASH_MAX);
        if (!t->stash) {
            rw_conn_set_state(c, RW_CONN_DEAD);
            return;
        }
    }
    memmove(t->stash + t->stash_len, p, n);
    t->stash_len += n;
}

/* Retries stashed ciphertext (after output went out). */
static void stash_run(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    if (!t || t->stash_len == 0 || c->state != RW_CONN_ACTIVE)
        return;
    size_t used = tls_pump(c, t->stash, t->stash_len);
    if (c->tls != t)
        return;
    if (used >= t->stash_len) {
        free(t->stash);
        t->stash = NULL;
        t->stash_len = 0;
    } else {
        memmove(t->stash, t->stash + used, t->stash_len - used);
        t->stash_len -= used;
    }
}

static void after_tls_input(rw_conn *c)
{
    if (c->tls && rw_tls_conn_cipher_pending(c))
        rw_conn_schedule(c); /* handshake messages, alerts, KeyUpdate answers */
    if (c->tls && ktls_ready(c))
        rw_conn_schedule(c); /* the backend reports a quiet socket, then we switch */
    rw_conn_update_timer(c, true);
    (void)rw_conn_want_read(c);
}

void rw_tls_conn_feed(rw_conn *c, const char *data, size_t len)
{
    rw_tls_conn *t = c->tls;
    if (c->state != RW_CONN_ACTIVE || len == 0 || t->failed)
        return;
    t->need_input = false;
    if (t->stash_len) {
        stash_keep(c, (const uint8_t *)data, len);
        stash_run(c);
    } else {
        size_t used = tls_pump(c, (const uint8_t *)data, len);
        if (c->tls == t && used < len && c->state == RW_CONN_ACTIVE)
            stash_keep(c, (const uint8_t *)data + used, len - used);
    }
    after_tls_input(c);
}

/* A file segment came up short: the file shrank while being sent. The
 * promised length cannot be kept, so only this connection ends (HTTP/2 reads
 * file bytes when it builds DATA frames and resets just the stream). */
static void tls_file_short(rw_conn *c)
{
    rw_warn("TLS: fd %d: a file being sent shrank or failed to read; closing", c->fd);
    rw_conn_set_state(c, RW_CONN_DEAD);
}

/* How much plaintext to copy into the scratch for the next record: what the
 * output BIO takes now (a copy that does not fit would be made again after
 * the flush), but never less than a write OpenSSL still holds. 0: flush first. */
static size_t tls_copy_cap(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    size_t cap = rw_tls_write_room(t->s);
    if (cap < t->retry_len)
        cap = t->retry_len;
    if (cap > RW_TLS_PLAIN_CHUNK)
        cap = RW_TLS_PLAIN_CHUNK;
    if (cap < RW_TLS_MIN_COPY && rw_tls_conn_cipher_pending(c))
        return 0;
    return cap ? cap : RW_TLS_PLAIN_CHUNK; /* nothing pending: let OpenSSL say */
}

/* Encrypts queued plaintext until the session's output BIO is full. Small
 * segments are gathered into one record and a big one is written in place;
 * file segments are read with pread, never through their mapping (a file
 * truncated meanwhile would raise SIGBUS there). */
static void tls_encrypt(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    rw_outbuf *o = c->out;
    if (!o)
        return;
    rw_outbuf_pools pools = rw_conn_pools(c->w);
    rw_tls_state st = rw_tls_state_get(t->s);
    if (st != RW_TLS_ESTABLISHED || rw_tls_sent_close(t->s)) {
        if (st != RW_TLS_HANDSHAKING) { /* nothing can carry it any more */
            rw_outbuf_free(o, &pools);
            c->out = NULL;
        }
        return;
    }
    while (o->count > 0) {
        const rw_outseg *sg = &o->segs[o->head];
        const void *src = sg->p;
        size_t n = sg->n;
        bool copy = sg->fd >= 0 || (n < RW_TLS_PLAIN_CHUNK && o->count > 1);
        if (copy) {
            size_t cap = tls_copy_cap(c);
            if (cap == 0)
                break;
            n = 0;
            for (unsigned i = 0; i < o->count && n < cap; i++) {
                const rw_outseg *g = &o->segs[(o->head + i) % RW_OUT_MAX_SEGS];
                size_t k = g->n < cap - n ? g->n : cap - n;
                if (rw_outseg_read(g, plain_scratch + n, k) != k) {
                    tls_file_short(c);
                    return;
                }
                n += k;
            }
            src = plain_scratch;
        }
        ssize_t r = rw_tls_write(t->s, src, n);
        if (r <= 0) {
            t->retry_len = r == 0 ? n : 0;
            break; /* output full: the same bytes are offered again later */
        }
        t->retry_len = 0;
        rw_outbuf_consume(o, &pools, (size_t)r);
    }
    if (o->count == 0) {
        rw_outbuf_free(o, &pools);
        c->out = NULL;
    }
}

int rw_tls_conn_out_iov(rw_conn *c, const struct iovec **iov, size_t *bytes)
{
    rw_tls_conn *t = c->tls;
    *bytes = 0;
    tls_encrypt(c);
    if (c->state == RW_CONN_DEAD)
        return 0;
    if (!c->out && c->state == RW_CONN_CLOSING && t->established &&
        rw_tls_state_get(t->s) != RW_TLS_ERROR && !rw_tls_sent_close(t->s))
        rw_tls_close(t->s); /* close_notify, then the backend closes TCP */
    const uint8_t *p;
    size_t n;
    if (rw_tls_pending_out(t->s, &p, &n) == 0)
        return 0;
    t->iov.iov_base = (void *)p;
    t->iov.iov_len = n;
    *iov = &t->iov;
    *bytes = n;
    return 1;
}

void rw_tls_conn_out_done(rw_conn *c, size_t n)
{
    rw_tls_conn *t = c->tls;
    t->iov.iov_len = 0;
    if (n)
        rw_tls_consume_out(t->s, n);
    if (c->state == RW_CONN_DEAD)
        return;
    if (t->stash_len) {
        stash_run(c);
        if (c->tls)
            after_tls_input(c);
    } else if (ktls_ready(c)) {
        rw_conn_schedule(c);
    }
}

/* ---- kernel TLS ------------------------------------------------------------- */

void rw_tls_conn_io_quiet(rw_conn *c)
{
    rw_tls_conn *t = c->tls;
    if (!ktls_ready(c))
        return;
    rw_worker *w = c->w;
    char err[RW_KTLS_REASON_LEN];
    rw_ktls_status st = rw_ktls_install(t->s, c->fd, err, sizeof err);
    switch (st) {
    case RW_KTLS_OK:
        w->stats.tls_ktls++;
        RW_PROBE1(tls__ktls, c->fd);
        c->flags |= RW_CONNF_KTLS;
        rw_debug("TLS: fd %d: kTLS on (%s %s)", c->fd,
                 rw_tls_version(t->s) == RW_TLS_V13 ? "TLSv1.3" : "TLSv1.2", rw_tls_cipher(t->s));
        /* Plaintext OpenSSL decrypted before the switch goes first. */
        for (;;) {
            ssize_t r = rw_tls_read(t->s, plain_scratch, sizeof plain_scratch);
            if (r <= 0)
                break;
            rw_conn_feed_plain(c, (const char *)plain_scratch, (size_t)r);
        }
        rw_tls_conn_free(c); /* the kernel owns the records: nothing left to keep */
        break;
    case RW_KTLS_AGAIN_FLUSH:
        break; /* out_done reschedules once the ciphertext is gone */
    case RW_KTLS_AGAIN_INPUT:
        t->need_input = true;
        break;
    case RW_KTLS_UNSUITABLE:
    case RW_KTLS_UNSUPPORTED:
        t->ktls_want = false;
        if (w->tls->mode == RW_KTLS_ON) {
            w->stats.tls_errors++;
            rw_warn("TLS: fd %d: --ktls on: %s; closing", c->fd, err);
            rw_conn_set_state(c, RW_CONN_CLOSING);
        } else {
            w->stats.tls_userspace++;
            rw_debug("TLS: fd %d: staying in userspace: %s", c->fd, err);
        }
        break;
    case RW_KTLS_BROKEN:
    default:
        w->stats.tls_errors++;
        rw_warn("TLS: fd %d: %s", c->fd, err);
        rw_conn_set_state(c, RW_CONN_DEAD);
        break;
    }
    rw_conn_update_timer(c, true);
    (void)rw_conn_want_read(c);
    rw_conn_schedule(c);
}

/* sendmsg with a TLS_SET_RECORD_TYPE cmsg, never blocking (the io_uring
 * backend's sockets are blocking); best effort: the FIN follows anyway. */
static void ktls_send_close_notify(int fd)
{
    static const uint8_t alert[2] = { 1, 0 }; /* warning, close_notify */
    char cbuf[CMSG_SPACE(sizeof(unsigned char))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { (void *)alert, sizeof alert };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_TLS;
    cm->cmsg_type = TLS_SET_RECORD_TYPE;
    cm->cmsg_len = CMSG_LEN(sizeof(unsigned char));
    *CMSG_DATA(cm) = RW_TLS_CT_ALERT;
    ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)r;
}

void rw_tls_conn_ktls_idle(rw_conn *c)
{
    if (c->state != RW_CONN_CLOSING || (c->flags & RW_CONNF_KTLS_CLOSED))
        return;
    c->flags |= RW_CONNF_KTLS_CLOSED;
    ktls_send_close_notify(c->fd);
}

bool rw_conn_ktls_control(rw_conn *c)
{
    size_t n = 0;
    rw_ktls_rec r = rw_ktls_recv(c->fd, plain_scratch, sizeof plain_scratch, &n, MSG_DONTWAIT);
    switch (r) {
    case RW_KTLS_REC_DATA:
        if (n)
            rw_conn_feed(c, (const char *)plain_scratch, n);
        return true;
    case RW_KTLS_REC_AGAIN:
        return true;
    case RW_KTLS_REC_CLOSE_NOTIFY:
    case RW_KTLS_REC_EOF:
        rw_conn_feed_eof(c);
        return false;
    case RW_KTLS_REC_MUST_CLOSE:
        /* A KeyUpdate: the kernel (6.1) cannot follow it. Finish what is
         * queued under our unchanged TX key, say close_notify, close. */
        rw_debug("TLS: fd %d: handshake record under kTLS (KeyUpdate): closing", c->fd);
        c->flags |= RW_CONNF_EOF;
        rw_conn_set_state(c, RW_CONN_CLOSING);
        return false;
    case RW_KTLS_REC_ALERT:
        rw_conn_set_state(c, RW_CONN_DEAD);
        return false;
    case RW_KTLS_REC_ERROR:
    default:
        c->w->stats.tls_errors++;
        rw_conn_io_error(c, errno);
        return false;
    }
}
