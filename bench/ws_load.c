/* WebSocket echo load client for bench/lib/realtime.py.
 *
 *   ws_load PORT CONNS SIZE DEPTH SECONDS
 *
 * Opens CONNS connections to 127.0.0.1:PORT/ws/echo (no deflate offer),
 * keeps DEPTH binary messages of SIZE bytes in flight on each (DEPTH 1 =
 * one round trip at a time), and prints after SECONDS:
 *   messages=N seconds=S msgs_per_s=X
 * where N counts echoed messages received. Client frames are masked (RFC
 * 6455 5.3): one masked frame is built once and sent repeatedly. One
 * thread, epoll, non-blocking sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 10000
#define MAX_SIZE (1 << 20)
#define MAX_DEPTH 1024
#define RECV_BUF 65536
#define HEAD_MAX 4096

typedef struct conn {
    int fd;
    int upgraded;
    size_t head_len;         /* bytes of the 101 response read so far */
    char head[HEAD_MAX];
    uint64_t to_send;        /* frame bytes still to write */
    uint64_t sent;           /* frame bytes written in total */
    unsigned char hdr[14];   /* incoming frame header being gathered */
    size_t hdr_len;
    uint64_t payload_left;
    int in_payload;
} conn;

static unsigned char *frame;
static size_t frame_len;

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

static void build_frame(size_t size)
{
    frame = malloc(size + 14);
    if (!frame)
        die("malloc");
    size_t h = 0;
    frame[h++] = 0x82; /* FIN, binary */
    if (size < 126) {
        frame[h++] = (unsigned char)(0x80 | size);
    } else if (size < 65536) {
        frame[h++] = 0x80 | 126;
        frame[h++] = (unsigned char)(size >> 8);
        frame[h++] = (unsigned char)size;
    } else {
        frame[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            frame[h++] = (unsigned char)((uint64_t)size >> (8 * i));
    }
    static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    memcpy(frame + h, key, 4);
    h += 4;
    for (size_t i = 0; i < size; i++)
        frame[h + i] = (unsigned char)(i * 31 + 7) ^ key[i & 3];
    frame_len = h + size;
}

/* Writes what it can of the pending frames; 0, or -1 on a socket error. */
static int flush_out(conn *c)
{
    while (c->to_send) {
        size_t off = (size_t)(c->sent % frame_len);
        size_t n = frame_len - off;
        if (n > c->to_send)
            n = (size_t)c->to_send;
        ssize_t w = send(c->fd, frame + off, n, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        c->sent += (uint64_t)w;
        c->to_send -= (uint64_t)w;
    }
    return 0;
}

/* Consumes server frames; returns the number of complete messages. */
static uint64_t parse_frames(conn *c, const unsigned char *p, size_t n)
{
    uint64_t msgs = 0;
    while (n) {
        if (c->in_payload) {
            size_t k = c->payload_left < n ? (size_t)c->payload_left : n;
            c->payload_left -= k;
            p += k;
            n -= k;
            if (c->payload_left == 0) {
                c->in_payload = 0;
                msgs++;
            }
            continue;
        }
        c->hdr[c->hdr_len++] = *p++;
        n--;
        if (c->hdr_len < 2)
            continue;
        unsigned l7 = c->hdr[1] & 0x7f;
        size_t need = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
        if (c->hdr_len < need)
            continue;
        uint64_t len = l7;
        if (l7 == 126)
            len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
        else if (l7 == 127)
            for (int i = 0; i < 8; i++)
                len = len << 8 | c->hdr[2 + i];
        c->hdr_len = 0;
        if ((c->hdr[0] & 0x0f) == 0x8) {
            fprintf(stderr, "ws_load: server closed the WebSocket\n");
            exit(1);
        }
        if (len == 0) {
            msgs++;
        } else {
            c->payload_left = len;
            c->in_payload = 1;
        }
    }
    return msgs;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: ws_load PORT CONNS SIZE DEPTH SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]), nconns = atoi(argv[2]), depth = atoi(argv[4]);
    long size = atol(argv[3]);
    double secs = atof(argv[5]);
    if (port <= 0 || port > 65535 || nconns <= 0 || nconns > MAX_CONNS || size <= 0 ||
        size > MAX_SIZE || depth <= 0 || depth > MAX_DEPTH || secs <= 0) {
        fprintf(stderr, "ws_load: bad arguments\n");
        return 2;
    }
    struct rlimit rl = { (rlim_t)nconns + 64, (rlim_t)nconns + 64 };
    setrlimit(RLIMIT_NOFILE, &rl);
    build_frame((size_t)size);
    conn *cs = calloc((size_t)nconns, sizeof *cs);
    unsigned char *buf = malloc(RECV_BUF);
    int ep = epoll_create1(0);
    if (!cs || !buf || ep < 0)
        die("setup");
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
    for (int i = 0; i < nconns; i++) {
        conn *c = &cs[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (send(c->fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
            die("send handshake");
        /* blocking handshake: read the 101 head */
        while (!c->upgraded) {
            ssize_t r = recv(c->fd, c->head + c->head_len, 1, 0); /* never read past the head */
            if (r <= 0)
                die("handshake");
            c->head_len++;
            if (c->head_len >= 4 && memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0)
                c->upgraded = 1;
            else if (c->head_len == HEAD_MAX)
                die("handshake head too long");
        }
        if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "ws_load: no 101: %.40s\n", c->head);
            return 1;
        }
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            die("fcntl");
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl");
    }
    double t0 = now_s(), end = t0 + secs;
    for (int i = 0; i < nconns; i++) {
        cs[i].to_send = (uint64_t)depth * frame_len;
        if (flush_out(&cs[i]) < 0)
            die("send");
    }
    uint64_t messages = 0;
    struct epoll_event evs[256];
    while (now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLIN) {
                for (;;) {
                    ssize_t r = recv(c->fd, buf, RECV_BUF, 0);
                    if (r < 0 && errno == EAGAIN)
                        break;
                    if (r <= 0) {
                        fprintf(stderr, "ws_load: connection ended\n");
                        return 1;
                    }
                    uint64_t m = parse_frames(c, buf, (size_t)r);
                    messages += m;
                    c->to_send += m * frame_len; /* one new message per echo */
                }
            }
            if (flush_out(c) < 0)
                die("send");
        }
    }
    double el = now_s() - t0;
    printf("messages=%llu seconds=%.3f msgs_per_s=%.1f\n", (unsigned long long)messages, el,
           (double)messages / el);
    return 0;
}
