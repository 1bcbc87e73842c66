/* Idle-connection cost client for bench/run.sh.
 *
 * Opens COUNT keep-alive connections to HOST:PORT, sends one GET on each and
 * reads its whole response (so the server really holds per-connection state
 * after a request, not just an accepted socket), then prints
 *   READY <connections> <responses>
 * and keeps every connection open until stdin reaches EOF or a line arrives
 * (the driver measures the server's RSS meanwhile). Exits after resetting
 * every connection (SO_LINGER 0: no TIME_WAIT left behind).
 *
 * Bounded: at most MAX_INFLIGHT connects/requests outstanding at a time (so
 * the listen backlog never overflows into SYN retries), and the whole setup
 * phase gives up after --timeout-ms.
 *
 * usage: idle_conns HOST PORT COUNT [PATH] [TIMEOUT_MS]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 256       /* outstanding connects+requests */
#define MAX_COUNT 100000       /* sanity bound on COUNT */
#define RESP_BUF 4096          /* enough for the small test response */
#define DEFAULT_TIMEOUT_MS 60000
#define EPOLL_BATCH 256

enum conn_state { C_FREE, C_CONNECTING, C_READING, C_IDLE, C_DEAD };

struct conn {
    int fd;
    enum conn_state st;
    size_t got;
    char buf[RESP_BUF];
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* True once buf holds a complete response head plus Content-Length bytes. */
static bool response_complete(const char *buf, size_t n)
{
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t head = (size_t)(end - buf) + 4;
    size_t clen = 0;
    for (const char *p = buf; p < end; p++) {
        if ((p == buf || p[-1] == '\n') && (size_t)(end - p) > 15 &&
            strncasecmp(p, "content-length:", 15) == 0) {
            clen = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    return n >= head + clen;
}

static int raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT COUNT [PATH] [TIMEOUT_MS]\n", argv[0]);
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long count = atol(argv[3]);
    const char *path = argc > 4 ? argv[4] : "/plaintext";
    long timeout_ms = argc > 5 ? atol(argv[5]) : DEFAULT_TIMEOUT_MS;
    if (port <= 0 || port > 65535 || count <= 0 || count > MAX_COUNT || timeout_ms <= 0) {
        fprintf(stderr, "idle_conns: bad arguments\n");
        return 2;
    }
    if (raise_nofile() != 0)
        perror("idle_conns: setrlimit (continuing)");

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "idle_conns: bad IPv4 address %s\n", host);
        return 2;
    }
    char req[512];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    if (reqlen <= 0 || (size_t)reqlen >= sizeof req) {
        fprintf(stderr, "idle_conns: path too long\n");
        return 2;
    }

    struct conn *c = calloc((size_t)count, sizeof *c);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!c || ep < 0) {
        perror("idle_conns: setup");
        return 1;
    }

    long opened = 0, inflight = 0, idle = 0, failed = 0;
    long deadline = now_ms() + timeout_ms;
    struct epoll_event evs[EPOLL_BATCH];

    while (idle + failed < count && now_ms() < deadline) {
        while (opened < count && inflight < MAX_INFLIGHT) {
            struct conn *k = &c[opened];
            k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (k->fd < 0) {
                perror("idle_conns: socket");
                k->st = C_DEAD;
                failed++;
                opened++;
                continue;
            }
            if (connect(k->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
                perror("idle_conns: connect");
                close(k->fd);
                k->fd = -1;
                k->st = C_DEAD;
                failed++;
                opened++;
                continue;
            }
            k->st = C_CONNECTING;
            struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u64 = (uint64_t)opened };
            epoll_ctl(ep, EPOLL_CTL_ADD, k->fd, &ev);
            opened++;
            inflight++;
        }
        int n = epoll_wait(ep, evs, EPOLL_BATCH, 100);
        for (int i = 0; i < n; i++) {
            struct conn *k = &c[evs[i].data.u64];
            if (k->st == C_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err != 0 || write(k->fd, req, (size_t)reqlen) != reqlen) {
                    k->st = C_DEAD;
                    failed++;
                    inflight--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                    continue;
                }
                k->st = C_READING;
                struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evs[i].data.u64 };
                epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &ev);
            } else if (k->st == C_READING && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                ssize_t r = read(k->fd, k->buf + k->got, sizeof k->buf - k->got);
                if (r > 0)
                    k->got += (size_t)r;
                if (r == 0 || (r < 0 && errno != EAGAIN) || k->got == sizeof k->buf) {
                    k->st = C_DEAD;
                    failed++;
                    inflight--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                } else if (response_complete(k->buf, k->got)) {
                    k->st = C_IDLE;
                    idle++;
                    inflight--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                }
            }
        }
    }

    printf("READY %ld %ld\n", opened - failed, idle);
    fflush(stdout);

    /* Hold until the driver is done measuring. */
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        /* EOF: done as well */
    }

    /* Count connections the server closed while idle, then reset all. */
    long closed_by_server = 0;
    for (long i = 0; i < opened; i++) {
        if (c[i].st == C_FREE || c[i].st == C_DEAD) {
            if (c[i].st == C_DEAD && c[i].fd >= 0)
                close(c[i].fd);
            continue;
        }
        struct pollfd pfd = { .fd = c[i].fd, .events = POLLIN };
        if (c[i].st == C_IDLE && poll(&pfd, 1, 0) == 1)
            closed_by_server++;
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c[i].fd);
    }
    printf("DONE closed_by_server=%ld failed=%ld\n", closed_by_server, failed);
    free(c);
    close(ep);
    return idle == count ? 0 : 1;
}
