#include "conn/mailbox.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn/worker.h"

typedef struct rw_mail {
    struct rw_mail *next;
    rw_mail_fn fn;
    void *arg;
} rw_mail;

int rw_worker_post(rw_worker *w, rw_mail_fn fn, void *arg)
{
    rw_mail *m = malloc(sizeof *m);
    if (!m)
        return -1;
    m->next = NULL;
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_lock(&w->mail_lock);
    bool was_empty = w->mail_head == NULL;
    if (w->mail_tail)
        w->mail_tail->next = m;
    else
        w->mail_head = m;
    w->mail_tail = m;
    pthread_mutex_unlock(&w->mail_lock);
    if (was_empty && w->wake_fd >= 0) { /* one wake-up per batch of posts */
        uint64_t one = 1;
        ssize_t r = write(w->wake_fd, &one, sizeof one);
        (void)r;
    }
    return 0;
}

void rw_worker_mail_run(rw_worker *w)
{
    pthread_mutex_lock(&w->mail_lock);
    rw_mail *m = w->mail_head;
    w->mail_head = w->mail_tail = NULL;
    pthread_mutex_unlock(&w->mail_lock);
    while (m) {
        rw_mail *next = m->next;
        m->fn(w, m->arg);
        free(m);
        m = next;
    }
}

bool rw_worker_wake(rw_worker *w)
{
    uint64_t v;
    ssize_t r = read(w->wake_fd, &v, sizeof v);
    (void)r;
    rw_worker_mail_run(w);
    return atomic_load(w->stop) != 0;
}
