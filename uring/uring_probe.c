/* Kernel probing: which ring setup flags work (trying the best set first and
 * falling back), which opcodes exist, and functional checks of multishot
 * accept, multishot recv and the provided buffer ring, which have no
 * feature bit. rw_uring_probe() logs the result once. */
#include "uring/uring_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/log.h"

rw_uring_features rw_uring_feat;

#define RW_URING_DEFAULT_ENTRIES 256u
#define RW_URING_PROBE_ENTRIES 8u
#define RW_URING_PROBE_BUFS 8u
#define RW_URING_PROBE_BUF_SIZE 64u
#define RW_URING_PROBE_WAIT_MS 1000
#define RW_URING_PROBE_MAX_CQES 8
#define RW_URING_PROBE_UD_RECV 1
#define RW_URING_PROBE_UD_ACCEPT 2

/* Candidate setup flag sets, best first. DEFER_TASKRUN needs SINGLE_ISSUER
 * and excludes SQPOLL; COOP_TASKRUN is rejected together with SQPOLL. */
static const unsigned rw_uring_sets_normal[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN |
        IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SUBMIT_ALL,
    0,
};
static const unsigned rw_uring_sets_sqpoll[] = {
    IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SQPOLL | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SQPOLL,
};

static int rw_uring_try(struct io_uring *ring, unsigned entries, unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    p.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = entries * RW_URING_CQ_FACTOR;
    return io_uring_queue_init_params(entries, ring, &p);
}

int rw_uring_ring_open(struct io_uring *ring, const rw_config *cfg, unsigned *used)
{
    unsigned entries = cfg->ring_entries ? cfg->ring_entries : RW_URING_DEFAULT_ENTRIES;
    int ret = -EINVAL;
    if (cfg->sqpoll) {
        for (size_t i = 0; i < sizeof(rw_uring_sets_sqpoll) / sizeof(unsigned); i++) {
            ret = rw_uring_try(ring, entries, rw_uring_sets_sqpoll[i]);
            if (ret == 0) {
                *used = rw_uring_sets_sqpoll[i];
                return 0;
            }
        }
    }
    for (size_t i = 0; i < sizeof(rw_uring_sets_normal) / sizeof(unsigned); i++) {
        ret = rw_uring_try(ring, entries, rw_uring_sets_normal[i]);
        if (ret == 0) {
            *used = rw_uring_sets_normal[i];
            return 0;
        }
    }
    return ret;
}

/* Waits (bounded) for the CQE carrying user_data ud, dropping any other
 * (e.g. the end of an earlier check's recv); returns it or NULL. */
static struct io_uring_cqe *rw_uring_probe_wait(struct io_uring *ring, uint64_t ud)
{
    for (int i = 0; i < RW_URING_PROBE_MAX_CQES; i++) {
        struct io_uring_cqe *cqe = NULL;
        struct __kernel_timespec ts = { .tv_sec = 0,
                                        .tv_nsec = RW_URING_PROBE_WAIT_MS * 1000000L };
        int ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
        if (ret < 0 && ret != -ETIME)
            return NULL;
        if (!cqe && io_uring_peek_cqe(ring, &cqe) != 0)
            return NULL;
        if (cqe->user_data == ud)
            return cqe;
        io_uring_cqe_seen(ring, cqe);
    }
    return NULL;
}

/* Multishot recv with buffer select on a socketpair: one byte must come back
 * in a provided buffer with F_MORE set. */
static bool rw_uring_check_recv(struct io_uring *ring)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return false;
    bool ok = false;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (sqe) {
        io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = RW_URING_BGID;
        io_uring_sqe_set_data64(sqe, RW_URING_PROBE_UD_RECV);
        if (write(sv[1], "x", 1) == 1) {
            struct io_uring_cqe *cqe = rw_uring_probe_wait(ring, RW_URING_PROBE_UD_RECV);
            ok = cqe && cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE) &&
                 (cqe->flags & IORING_CQE_F_BUFFER);
            if (cqe)
                io_uring_cqe_seen(ring, cqe);
        }
    }
    close(sv[0]);
    close(sv[1]);
    return ok;
}

/* Multishot accept on a loopback listener: a connection must come out with
 * F_MORE set (older kernels fail the SQE with -EINVAL). */
static bool rw_uring_check_accept(struct io_uring *ring)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    bool ok = false;
    int cl = -1;
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) < 0)
        goto out;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe)
        goto out;
    io_uring_prep_multishot_accept(sqe, l, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, RW_URING_PROBE_UD_ACCEPT);
    cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cl < 0 || connect(cl, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto out;
    struct io_uring_cqe *cqe = rw_uring_probe_wait(ring, RW_URING_PROBE_UD_ACCEPT);
    if (cqe) {
        ok = cqe->res >= 0 && (cqe->flags & IORING_CQE_F_MORE);
        if (cqe->res >= 0)
            close(cqe->res);
        io_uring_cqe_seen(ring, cqe);
    }
out:
    if (cl >= 0)
        close(cl);
    close(l);
    return ok;
}

int rw_uring_features_detect(const rw_config *cfg, rw_uring_features *f)
{
    memset(f, 0, sizeof(*f));
    f->wanted_flags = cfg->sqpoll ? rw_uring_sets_sqpoll[0] : rw_uring_sets_normal[0];
    struct io_uring ring;
    /* The real setup flags are checked with the configured size; the
     * functional checks use a small ring of their own. */
    int ret = rw_uring_ring_open(&ring, cfg, &f->setup_flags);
    if (ret < 0)
        return ret;
    f->kernel_features = ring.features;
    struct io_uring_probe *pr = io_uring_get_probe_ring(&ring);
    io_uring_queue_exit(&ring);
    if (!pr)
        return -ENOSYS;
    static const int required[] = { IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND,
                                    IORING_OP_SENDMSG, IORING_OP_CLOSE, IORING_OP_ASYNC_CANCEL,
                                    IORING_OP_POLL_ADD };
    bool have_all = true;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        have_all = have_all && io_uring_opcode_supported(pr, required[i]);
    f->send_zc = io_uring_opcode_supported(pr, IORING_OP_SEND_ZC);
    f->sendmsg_zc = io_uring_opcode_supported(pr, IORING_OP_SENDMSG_ZC);
    io_uring_free_probe(pr);
    if (!have_all)
        return -ENOSYS;
    if (!(f->kernel_features & IORING_FEAT_EXT_ARG))
        return -ENOSYS; /* waits with a timeout without burning an SQE */

    rw_config small = *cfg;
    small.ring_entries = RW_URING_PROBE_ENTRIES;
    small.sqpoll = false;
    unsigned used;
    ret = rw_uring_ring_open(&ring, &small, &used);
    if (ret < 0)
        return ret;
    rw_uring_bufring br;
    f->pbuf_ring = rw_uring_bufring_init(&br, &ring, RW_URING_PROBE_BUFS,
                                         RW_URING_PROBE_BUF_SIZE, RW_URING_BGID) == 0;
    if (f->pbuf_ring)
        f->multishot_recv = rw_uring_check_recv(&ring);
    f->multishot_accept = rw_uring_check_accept(&ring);
    /* Exit first: the kernel drops the still-armed multishot recv before
     * the buffer memory goes away. */
    io_uring_queue_exit(&ring);
    if (f->pbuf_ring) {
        br.registered = false;
        rw_uring_bufring_destroy(&br, NULL, RW_URING_BGID);
    }
    f->probed = true;
    return (f->pbuf_ring && f->multishot_recv && f->multishot_accept) ? 0 : -ENOSYS;
}

static void rw_uring_append(char *buf, size_t cap, const char *word)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? " " : "", word);
}

int rw_uring_probe(const rw_config *cfg)
{
    int ret = rw_uring_features_detect(cfg, &rw_uring_feat);
    struct utsname un;
    const char *rel = uname(&un) == 0 ? un.release : "?";
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {
        { IORING_SETUP_SQPOLL, "sqpoll" },
        { IORING_SETUP_SINGLE_ISSUER, "single_issuer" },
        { IORING_SETUP_DEFER_TASKRUN, "defer_taskrun" },
        { IORING_SETUP_COOP_TASKRUN, "coop_taskrun" },
        { IORING_SETUP_SUBMIT_ALL, "submit_all" },
    };
    char used[256] = "", fell[256] = "";
    const rw_uring_features *f = &rw_uring_feat;
    /* With --sqpoll unavailable, we fell back to the normal set: report what
     * that set lost against the normal wish list too. */
    unsigned wanted = f->wanted_flags | (f->setup_flags & IORING_SETUP_SQPOLL ? 0 : rw_uring_sets_normal[0]);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (f->setup_flags & names[i].flag)
            rw_uring_append(used, sizeof(used), names[i].name);
        else if (wanted & names[i].flag)
            rw_uring_append(fell, sizeof(fell), names[i].name);
    }
    const struct {
        bool have;
        const char *name;
    } feats[] = {
        { f->multishot_accept, "multishot_accept" },
        { f->multishot_recv, "multishot_recv" },
        { f->pbuf_ring, "pbuf_ring" },
        { f->send_zc, "send_zc" },
        { f->sendmsg_zc, "sendmsg_zc" },
    };
    for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
        rw_uring_append(feats[i].have ? used : fell, feats[i].have ? sizeof(used) : sizeof(fell),
                        feats[i].name);
    if (ret < 0) {
        rw_warn("io_uring: kernel %s unusable (%s); have: %s; missing: %s", rel, strerror(-ret),
                used[0] ? used : "none", fell[0] ? fell : "none");
        return -1;
    }
    rw_info("io_uring: kernel %s, used: %s%s; fell back: %s", rel, used,
            cfg->send_zc_threshold ? "" : " (send_zc disabled by config)",
            fell[0] ? fell : "none");
    return 0;
}
