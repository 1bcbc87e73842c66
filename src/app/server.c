/* The process layer: binds one SO_REUSEPORT listener per worker and address
 * (the kernel spreads connections, no shared accept queue), starts one
 * thread per worker, turns signals into a graceful shutdown and enforces the
 * process-wide connection limit. */
#include "app/server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/stats_log.h"
#include "conn/tls_layer.h"
#include "core/log.h"

/* How often the main thread re-checks stop_requested and worker exits while
 * it waits for signals (also bounds rw_server_stop() latency from threads). */
#define RW_SERVER_WAIT_MS 100

rw_server *rw_server_new(const rw_config *cfg)
{
    rw_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    /* Own the strings: the caller's config may not outlive the server. */
    if (cfg->root && !(s->cfg.root = strdup(cfg->root)))
        goto fail;
    if (cfg->access_log && !(s->cfg.access_log = strdup(cfg->access_log)))
        goto fail;
    atomic_init(&s->conns, 0);
    atomic_init(&s->stop_requested, 0);
    s->access_log_fd = -1;
    rw_budget_init(&s->buffered, s->cfg.max_buffered_total);
    return s;
fail:
    free((char *)s->cfg.root);
    free(s);
    return NULL;
}

int rw_server_route(rw_server *s, const char *method, const char *path, int flags,
                    rw_handler_fn fn, void *ud)
{
    return rw_router_add(&s->router, method, path, flags, fn, ud);
}

void rw_server_stop(rw_server *s)
{
    /* Async-signal-safe: an atomic store and write(2) only. */
    atomic_store(&s->stop_requested, 1);
    rw_worker *ws = s->workers;
    int n = s->nworkers;
    for (int i = 0; ws && i < n; i++) {
        if (ws[i].wake_fd >= 0) {
            uint64_t one = 1;
            ssize_t r = write(ws[i].wake_fd, &one, sizeof one);
            (void)r; /* EAGAIN = counter already nonzero: the worker will wake anyway */
        }
    }
}

void rw_server_free(rw_server *s)
{
    if (!s)
        return;
    rw_channels_free(s);
    rw_router_free(&s->router);
    rw_tls_server_free(&s->tls);
    free((char *)s->cfg.root);
    free((char *)s->cfg.access_log);
    free(s);
}

void rw_server_stats(rw_server *s, rw_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; s->workers && i < s->nworkers; i++)
        rw_stats_add(out, &s->workers[i].stats);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        rw_warn("cannot raise RLIMIT_NOFILE from %llu to %llu: %s", (unsigned long long)old,
                (unsigned long long)rl.rlim_max, strerror(errno));
    else
        rw_debug("RLIMIT_NOFILE raised from %llu to %llu", (unsigned long long)old,
                 (unsigned long long)rl.rlim_max);
}

/* The CPUs this process may run on, in order (so pinning composes with
 * taskset). Returns the count; 0 if the mask cannot be read. */
static int usable_cpus(int *cpus, int cap)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < cap; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n;
}

static int open_listener(const rw_config *cfg, const rw_listen_addr *la)
{
    int fam = la->ss.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rw_error("listen %s: socket: %s", la->text, strerror(errno));
        return -1;
    }
    int one = 1;
    /* TCP_DEFER_ACCEPT deliberately not set: it would hide silent connects
     * from the header timeout. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        rw_error("listen %s: setsockopt: %s", la->text, strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (const struct sockaddr *)&la->ss, la->len) < 0) {
        rw_error("cannot bind %s: %s", la->text, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, cfg->listen_backlog) < 0) {
        rw_error("cannot listen on %s: %s", la->text, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* SO_REUSEPORT would silently let us join another process's listener group
 * (same user) and split its traffic: first bind once without it, which
 * fails with EADDRINUSE if anyone listens there already. */
static int probe_address(const rw_listen_addr *la)
{
    int fam = la->ss.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rw_error("listen %s: socket: %s", la->text, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fam == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = bind(fd, (const struct sockaddr *)&la->ss, la->len);
    if (rc < 0)
        rw_error("cannot bind %s: %s", la->text, strerror(errno));
    close(fd);
    return rc;
}

/* Multiplicative (Fibonacci) hashing: the high bits of key * 2^32/phi. */
#define RW_REUSEPORT_HASH_MUL 0x9e3779b1u

/* Restricts the SO_REUSEPORT group of one address to our own listeners.
 * Any process of the same user may join the group by binding the port with
 * SO_REUSEPORT, and the kernel's default selection would hand it a share of
 * new connections. Group indices are given in the order sockets listen();
 * ours (one per worker) listened first, so they hold 0..nsocks-1, and this
 * program only ever returns an index in that range: a later member is never
 * chosen. (An out-of-range return would fall back to the kernel's hash over
 * every member, so the modulo is what keeps strangers out.)
 *
 * The index is a hash of the client's address and port, read from the
 * network header (the program sees the TCP payload at offset 0): the flow
 * picks the worker as with the kernel's own hash, and it does not depend on
 * the NIC providing a receive hash or on which CPU runs the softirq. A load
 * beyond the packet ends the program with 0, which is still ours. */
static int restrict_reuseport_group(int fd, int family, unsigned nsocks)
{
    struct sock_filter v4[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, (uint32_t)SKF_NET_OFF), /* X = IP header length */
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, (uint32_t)SKF_NET_OFF),  /* A = TCP source port */
        BPF_STMT(BPF_ST, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_NET_OFF + 12)), /* source address */
        BPF_STMT(BPF_LDX | BPF_W | BPF_MEM, 0),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, RW_REUSEPORT_HASH_MUL),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nsocks),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_filter v6[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_NET_OFF + 40)), /* TCP source port */
        BPF_STMT(BPF_ST, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_NET_OFF + 20)), /* address, low word */
        BPF_STMT(BPF_LDX | BPF_W | BPF_MEM, 0),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, RW_REUSEPORT_HASH_MUL),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nsocks),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog = family == AF_INET6
                                 ? (struct sock_fprog){ sizeof v6 / sizeof v6[0], v6 }
                                 : (struct sock_fprog){ sizeof v4 / sizeof v4[0], v4 };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

typedef struct worker_arg {
    rw_worker *w;
    atomic_int *running; /* workers that have not returned yet */
    int rc;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *a = p;
    rw_worker *w = a->w;
    char name[16];
    snprintf(name, sizeof name, "rw-worker-%d", w->id);
    pthread_setname_np(pthread_self(), name);
    if (w->cfg->backend == RW_BACKEND_URING)
        a->rc = rw_uring_worker_run(w);
    else
        a->rc = rw_epoll_worker_run(w);
    if (a->rc != 0) {
        rw_error("worker %d failed; shutting down", w->id);
        rw_server_stop(rw_worker_server(w));
    }
    atomic_fetch_sub(a->running, 1);
    return NULL;
}

/* Closes what the server opened for each worker and destroys it. */
static void teardown_workers(rw_server *s, rw_worker *ws, int ninit)
{
    s->nworkers = 0; /* a late rw_server_stop() must not touch these */
    s->workers = NULL;
    for (int i = 0; i < ninit; i++) {
        rw_worker *w = &ws[i];
        for (int j = 0; j < w->n_listen; j++)
            if (w->listen_fds[j] >= 0)
                close(w->listen_fds[j]);
        w->n_listen = 0;
        if (w->wake_fd >= 0)
            close(w->wake_fd);
        w->wake_fd = -1;
        rw_worker_destroy(w);
    }
    free(ws);
}

static const char *const backend_names[] = { "uring", "epoll" };

/* SIGHUP, for logrotate: after the file has been renamed, new lines go to a
 * fresh file at the configured path. dup3() swaps the file behind the
 * descriptor number the workers write to, atomically: each write() lands
 * whole in the old file or the new one, and the workers need no signal or
 * lock. Lines still in a worker's buffer land in the new file. */
static void reopen_access_log(rw_server *s)
{
    const char *path = s->cfg.access_log;
    if (s->access_log_fd < 0) {
        rw_info("SIGHUP received: no access log to reopen");
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        rw_warn("SIGHUP received: cannot reopen access log %s: %s; still writing to the old file",
                path, strerror(errno));
        return;
    }
    if (dup3(fd, s->access_log_fd, O_CLOEXEC) < 0)
        rw_warn("SIGHUP received: cannot reopen access log %s: dup3: %s; still writing to the "
                "old file", path, strerror(errno));
    else
        rw_info("SIGHUP received: access log %s reopened", path);
    close(fd);
}

/* Waits for SIGINT/SIGTERM (-> stop), SIGUSR1 (-> stats dump), SIGHUP
 * (-> reopen the access log) or a stop
 * request, then for every worker to finish; logs the --stats-interval
 * lines meanwhile. The signals stay blocked throughout so a second Ctrl-C
 * during the drain is consumed here instead of killing us. */
static void wait_loop(rw_server *s, const sigset_t *sigs, atomic_int *running)
{
    const struct timespec tick = { 0, RW_SERVER_WAIT_MS * 1000000L };
    bool stopping = false;
    rw_stats_ticker ticker;
    rw_stats_ticker_start(&ticker, s, s->cfg.stats_interval_ms);
    for (;;) {
        if (!stopping && (atomic_load(&s->stop_requested) || atomic_load(running) == 0)) {
            stopping = true;
            rw_server_stop(s);
        }
        if (atomic_load(running) == 0)
            return;
        siginfo_t si;
        int sig = sigs ? sigtimedwait(sigs, &si, &tick) : -1;
        if (!sigs)
            nanosleep(&tick, NULL);
        if (sig == SIGINT || sig == SIGTERM) {
            if (!stopping)
                rw_info("%s received: shutting down (draining up to %u ms)",
                        sig == SIGINT ? "SIGINT" : "SIGTERM", s->cfg.shutdown_timeout_ms);
            else
                rw_info("%s received: already shutting down",
                        sig == SIGINT ? "SIGINT" : "SIGTERM");
            atomic_store(&s->stop_requested, 1);
        } else if (sig == SIGUSR1) {
            rw_stats_log_dump(s);
        } else if (sig == SIGHUP) {
            reopen_access_log(s);
        }
        if (!stopping) {
            rw_stats_ticker_poll(&ticker, s);
            rw_tls_server_tick(s->tls); /* session ticket key rotation */
        }
    }
}

int rw_server_run(rw_server *s, bool install_signals)
{
    rw_config *cfg = &s->cfg;
    if (cfg->n_listen <= 0) {
        rw_error("no listen address configured");
        return -1;
    }
    /* Writes to a reset peer must fail with EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    int cpus[CPU_SETSIZE];
    int ncpus = usable_cpus(cpus, CPU_SETSIZE);
    if (cfg->threads <= 0) {
        /* One per CPU we may run on: the online count unless taskset narrowed it. */
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = ncpus > 0 ? ncpus : (online > 0 ? (int)online : 1);
    }
    if (cfg->pin_cpus && ncpus == 0) {
        rw_warn("--pin-cpus: cannot read the CPU affinity mask (%s); not pinning",
                strerror(errno));
        cfg->pin_cpus = false;
    }
    if (cfg->backend == RW_BACKEND_URING && rw_uring_probe(cfg) < 0) {
        rw_warn("io_uring is unusable here; falling back to the epoll backend");
        cfg->backend = RW_BACKEND_EPOLL;
    }

    if (rw_tls_server_init(&s->cfg, &s->tls) < 0)
        return -1; /* the reason (file, mismatch, --ktls on) is logged */

    if (cfg->access_log) {
        s->access_log_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->access_log_fd < 0) {
            rw_error("cannot open access log %s: %s", cfg->access_log, strerror(errno));
            return -1;
        }
    }

    for (int j = 0; j < cfg->n_listen; j++)
        if (probe_address(&cfg->listen[j]) < 0)
            goto fail_log;

    int n = cfg->threads;
    rw_worker *ws = calloc((size_t)n, sizeof *ws);
    worker_arg *args = calloc((size_t)n, sizeof *args);
    if (!ws || !args) {
        rw_error("out of memory allocating %d workers", n);
        free(ws);
        free(args);
        goto fail_log;
    }
    int ninit = 0;
    for (; ninit < n; ninit++) {
        rw_worker *w = &ws[ninit];
        if (rw_server_worker_init(s, w, ninit) < 0) {
            rw_error("worker %d: initialisation failed", ninit);
            goto fail_workers;
        }
        w->n_listen = 0;
        w->wake_fd = -1;
        w->cpu = cfg->pin_cpus ? cpus[(cfg->pin_cpu_base + ninit) % ncpus] : -1;
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->wake_fd < 0) {
            rw_error("eventfd: %s", strerror(errno));
            ninit++;
            goto fail_workers;
        }
        for (int j = 0; j < cfg->n_listen; j++) {
            int fd = open_listener(cfg, &cfg->listen[j]);
            if (fd < 0) {
                ninit++;
                goto fail_workers;
            }
            w->listen_fds[w->n_listen++] = fd;
        }
    }
    /* Every worker's listener of an address has joined its group now. */
    for (int j = 0; j < cfg->n_listen; j++)
        if (restrict_reuseport_group(ws[0].listen_fds[j], cfg->listen[j].ss.ss_family,
                                     (unsigned)n) < 0)
            rw_warn("listen %s: cannot restrict SO_REUSEPORT to our own listeners (%s): another "
                    "process of this user could take a share of new connections",
                    cfg->listen[j].text, strerror(errno));
    for (int j = 0; j < cfg->n_listen; j++)
        rw_info("listening on %s (backend %s, %d thread%s%s)", cfg->listen[j].text,
                backend_names[cfg->backend], n, n == 1 ? "" : "s",
                cfg->pin_cpus ? ", pinned" : "");

    /* Workers inherit the mask: only the main thread sees these signals. */
    sigset_t sigs, oldmask;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGHUP); /* its default action would end the process */
    if (install_signals)
        pthread_sigmask(SIG_BLOCK, &sigs, &oldmask);

    s->workers = ws;
    s->nworkers = n;
    atomic_int running;
    atomic_init(&running, 0);
    int started = 0;
    for (; started < n; started++) {
        rw_worker *w = &ws[started];
        args[started] = (worker_arg){ .w = w, .running = &running, .rc = 0 };
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (w->cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(w->cpu, &one);
            pthread_attr_setaffinity_np(&attr, sizeof one, &one);
        }
        atomic_fetch_add(&running, 1);
        int err = pthread_create(&w->thread, &attr, worker_main, &args[started]);
        pthread_attr_destroy(&attr);
        if (err) {
            atomic_fetch_sub(&running, 1);
            rw_error("cannot start worker thread %d: %s", started, strerror(err));
            atomic_store(&s->stop_requested, 1);
            break;
        }
    }

    wait_loop(s, install_signals ? &sigs : NULL, &running);
    int rc = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        if (args[i].rc != 0)
            rc = -1;
    }
    if (started < n)
        rc = -1;
    if (install_signals) {
        /* Consume signals that arrived after the last wait, then restore. */
        const struct timespec zero = { 0, 0 };
        while (sigtimedwait(&sigs, NULL, &zero) > 0)
            ;
        pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    }
    if (rc == 0)
        rw_info("shut down cleanly");
    teardown_workers(s, ws, ninit);
    free(args);
    if (s->access_log_fd >= 0)
        close(s->access_log_fd);
    s->access_log_fd = -1;
    return rc;

fail_workers:
    teardown_workers(s, ws, ninit);
    free(args);
fail_log:
    if (s->access_log_fd >= 0)
        close(s->access_log_fd);
    s->access_log_fd = -1;
    return -1;
}
