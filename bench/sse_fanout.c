/* SSE fan-out client for bench/lib/realtime.py.
 *
 *   sse_fanout PORT SUBSCRIBERS EVERY_MS SECONDS
 *
 * Opens SUBSCRIBERS streams of GET /events?every=EVERY_MS on 127.0.0.1:PORT
 * (each one is its own ticker on the server), then counts the events that
 * arrive on all of them for SECONDS and prints
 *   events=N seconds=S events_per_s=X subscribers=K
 * An event ends with a blank line ("\n\n"; ringwire writes each event whole
 * into one chunk, so the chunk framing never splits that pair). One thread,
 * epoll, non-blocking sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SUBS 20000
#define RECV_BUF 65536

typedef struct sub {
    int fd;
    char last; /* last byte seen, for a "\n\n" split across reads */
} sub;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sse_fanout PORT SUBSCRIBERS EVERY_MS SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]), nsubs = atoi(argv[2]), every = atoi(argv[3]);
    double secs = atof(argv[4]);
    if (port <= 0 || port > 65535 || nsubs <= 0 || nsubs > MAX_SUBS || every <= 0 || secs <= 0) {
        fprintf(stderr, "sse_fanout: bad arguments\n");
        return 2;
    }
    struct rlimit rl = { (rlim_t)nsubs + 64, (rlim_t)nsubs + 64 };
    setrlimit(RLIMIT_NOFILE, &rl);
    sub *ss = calloc((size_t)nsubs, sizeof *ss);
    char *buf = malloc(RECV_BUF);
    int ep = epoll_create1(0);
    if (!ss || !buf || ep < 0)
        die("setup");
    char req[160];
    int rl_ = snprintf(req, sizeof req,
                       "GET /events?every=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Accept: text/event-stream\r\n\r\n",
                       every);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nsubs; i++) {
        sub *s = &ss[i];
        s->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        if (send(s->fd, req, (size_t)rl_, MSG_NOSIGNAL) != rl_)
            die("send");
        int fl = fcntl(s->fd, F_GETFL);
        if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            die("fcntl");
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
            die("epoll_ctl");
    }
    uint64_t events = 0;
    int counting = 0;
    double t0 = now_s(), start = t0, end = t0 + secs + 1.0; /* 1 s warm-up */
    struct epoll_event evs[256];
    for (double t = t0; t < end; t = now_s()) {
        if (!counting && t >= t0 + 1.0) {
            counting = 1;
            events = 0;
            start = t;
        }
        int n = epoll_wait(ep, evs, 256, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            sub *s = evs[i].data.ptr;
            ssize_t r = recv(s->fd, buf, RECV_BUF, 0);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r <= 0) {
                fprintf(stderr, "sse_fanout: stream ended\n");
                return 1;
            }
            for (ssize_t k = 0; k < r; k++) {
                if (buf[k] == '\n' && s->last == '\n')
                    events++;
                s->last = buf[k];
            }
        }
    }
    double el = now_s() - start;
    printf("events=%llu seconds=%.3f events_per_s=%.1f subscribers=%d\n",
           (unsigned long long)events, el, (double)events / el, nsubs);
    return 0;
}
