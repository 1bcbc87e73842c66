/* io_uring backend: the probe succeeds on this kernel, and a ring with the
 * chosen flags, the provided buffer ring and a round trip through it work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "core/log.h"
#include "ringwire/ringwire.h"
#include "uring/uring_internal.h"

static void test_probe_and_ring(const rw_config *cfg)
{
    CHECK(rw_uring_probe(cfg) == 0);
    CHECK(rw_uring_feat.probed);
    CHECK(rw_uring_feat.multishot_accept && rw_uring_feat.multishot_recv && rw_uring_feat.pbuf_ring);

    struct io_uring ring;
    unsigned used = 0;
    int ret = rw_uring_ring_open(&ring, cfg, &used);
    CHECK(ret == 0);
    if (ret < 0)
        return;
    CHECK(used == rw_uring_feat.setup_flags);
    /* DEFER_TASKRUN is never used without SINGLE_ISSUER. */
    CHECK(!(used & IORING_SETUP_DEFER_TASKRUN) || (used & IORING_SETUP_SINGLE_ISSUER));
    CHECK(ring.cq.ring_entries >= ring.sq.ring_entries * 2);

    rw_uring_bufring br;
    ret = rw_uring_bufring_init(&br, &ring, cfg->bufs, cfg->buf_size, RW_URING_BGID);
    CHECK(ret == 0);
    if (ret == 0) {
        /* One multishot recv round trip through a provided buffer. */
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = RW_URING_BGID;
        io_uring_sqe_set_data64(sqe, 42);
        CHECK(write(sv[1], "hello", 5) == 5);
        struct io_uring_cqe *cqe = NULL;
        struct __kernel_timespec ts = { .tv_sec = 2, .tv_nsec = 0 };
        ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
        CHECK(ret >= 0 && cqe != NULL);
        if (cqe) {
            CHECK(cqe->user_data == 42 && cqe->res == 5);
            CHECK(cqe->flags & IORING_CQE_F_BUFFER);
            CHECK(cqe->flags & IORING_CQE_F_MORE);
            unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            CHECK(bid < br.nbufs);
            if (bid < br.nbufs)
                CHECK(memcmp(rw_uring_buf_ptr(&br, bid), "hello", 5) == 0);
            io_uring_cqe_seen(&ring, cqe);
        }
        close(sv[0]);
        close(sv[1]);
        io_uring_queue_exit(&ring);
        br.registered = false; /* the ring is gone; only the memory remains */
        rw_uring_bufring_destroy(&br, NULL, RW_URING_BGID);
    } else {
        io_uring_queue_exit(&ring);
    }
}

static void test_bufring_rejects_bad_sizes(void)
{
    rw_config cfg;
    rw_config_defaults(&cfg);
    struct io_uring ring;
    unsigned used;
    if (rw_uring_ring_open(&ring, &cfg, &used) != 0) {
        CHECK(!"ring open");
        return;
    }
    rw_uring_bufring br;
    CHECK(rw_uring_bufring_init(&br, &ring, 3, 1024, RW_URING_BGID) == -EINVAL);
    CHECK(rw_uring_bufring_init(&br, &ring, RW_URING_MAX_BUFS * 2, 64, RW_URING_BGID) == -EINVAL);
    CHECK(rw_uring_bufring_init(&br, &ring, 8, 0, RW_URING_BGID) == -EINVAL);
    io_uring_queue_exit(&ring);
}

static void test_user_data(void)
{
    static _Alignas(8) char obj[16];
    for (unsigned op = 0; op <= RW_UOP_MASK; op++) {
        uint64_t ud = rw_uring_ud(obj, op);
        CHECK(rw_uring_ud_op(ud) == op);
        CHECK(rw_uring_ud_ptr(ud) == obj);
    }
    CHECK(_Alignof(rw_conn) >= 8);
}

int main(void)
{
    rw_log_level = RW_LOG_WARN;
    rw_config cfg;
    rw_config_defaults(&cfg);
    test_probe_and_ring(&cfg);
    /* With --sqpoll the ring still opens (SQPOLL, or the normal set). */
    cfg.sqpoll = true;
    struct io_uring ring;
    unsigned used = 0;
    CHECK(rw_uring_ring_open(&ring, &cfg, &used) == 0);
    if (used)
        CHECK(!(used & IORING_SETUP_DEFER_TASKRUN) || !(used & IORING_SETUP_SQPOLL));
    io_uring_queue_exit(&ring);
    test_bufring_rejects_bad_sizes();
    test_user_data();
    return check_summary("test_uring_probe");
}
