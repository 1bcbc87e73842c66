/* Channels (include/ringwire/ws.h): broadcast to WebSocket and SSE members
 * on every worker. Each worker has its own member list, touched only by that
 * worker; a publish is a refcounted copy posted to each worker's mailbox. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "conn/mailbox.h"
#include "conn/worker.h"
#include "ringwire/ws.h"
#include "ws/ws_session.h"

#define RW_CHANNEL_MAX_EVENT 64
#define RW_CHANNEL_MAX_WORKERS 1024 /* as many as --threads allows */

typedef struct member {
    rw_ws *ws;   /* exactly one of ws / sse is set; both NULL: left during delivery */
    rw_sse *sse;
    char event[RW_CHANNEL_MAX_EVENT];
} member;

typedef struct slot {
    member *m;
    size_t n, cap;
    bool delivering; /* leave() only clears entries while set; compacted after */
    bool holes;
} slot;

struct rw_channel {
    rw_server *s;
    rw_channel *next; /* the server's list: freed with the server */
    int nslots;
    _Atomic(slot *) *slots; /* one per worker, created by its worker on first join */
};

typedef struct message {
    atomic_int refs;
    rw_channel *ch;
    bool binary;
    size_t len;
    char data[];
} message;

rw_channel *rw_channel_new(rw_server *s)
{
    rw_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->s = s;
    ch->next = s->channels;
    s->channels = ch;
    /* Workers are created by rw_server_run(); size for the most it can start. */
    ch->nslots = RW_CHANNEL_MAX_WORKERS;
    ch->slots = calloc((size_t)ch->nslots, sizeof *ch->slots);
    if (!ch->slots) {
        free(ch);
        return NULL;
    }
    return ch;
}

void rw_channel_free(rw_channel *ch)
{
    if (!ch)
        return;
    for (rw_channel **pp = &ch->s->channels; *pp; pp = &(*pp)->next) {
        if (*pp == ch) {
            *pp = ch->next;
            break;
        }
    }
    for (int i = 0; i < ch->nslots; i++) {
        slot *sl = atomic_load(&ch->slots[i]);
        if (sl) {
            free(sl->m);
            free(sl);
        }
    }
    free(ch->slots);
    free(ch);
}

static slot *slot_of(rw_channel *ch, rw_worker *w, bool create)
{
    if (w->id < 0 || w->id >= ch->nslots)
        return NULL;
    slot *sl = atomic_load(&ch->slots[w->id]);
    if (!sl && create) {
        sl = calloc(1, sizeof *sl);
        if (sl)
            atomic_store(&ch->slots[w->id], sl); /* only this worker writes its slot */
    }
    return sl;
}

static int join(rw_channel *ch, rw_worker *w, rw_ws *ws, rw_sse *sse, const char *event)
{
    slot *sl = slot_of(ch, w, true);
    if (!sl)
        return -1;
    if (sl->n == sl->cap) {
        size_t cap = sl->cap ? sl->cap * 2 : 16;
        member *m = realloc(sl->m, cap * sizeof *m);
        if (!m)
            return -1;
        sl->m = m;
        sl->cap = cap;
    }
    member *m = &sl->m[sl->n++];
    memset(m, 0, sizeof *m);
    m->ws = ws;
    m->sse = sse;
    if (event)
        strncpy(m->event, event, sizeof m->event - 1);
    return 0;
}

static void leave(rw_channel *ch, rw_worker *w, const void *who)
{
    slot *sl = slot_of(ch, w, false);
    if (!sl)
        return;
    for (size_t i = 0; i < sl->n; i++) {
        member *m = &sl->m[i];
        if ((const void *)m->ws != who && (const void *)m->sse != who)
            continue;
        if (sl->delivering) { /* a send in the delivery loop closed it */
            m->ws = NULL;
            m->sse = NULL;
            sl->holes = true;
        } else {
            sl->m[i] = sl->m[--sl->n];
        }
        return;
    }
}

int rw_channel_join_ws(rw_channel *ch, rw_ws *ws)
{
    return join(ch, rw_ws_worker(ws), ws, NULL, NULL);
}

void rw_channel_leave_ws(rw_channel *ch, rw_ws *ws)
{
    leave(ch, rw_ws_worker(ws), ws);
}

int rw_channel_join_sse(rw_channel *ch, rw_sse *sse, const char *event)
{
    return join(ch, rw_sse_worker(sse), NULL, sse, event);
}

void rw_channel_leave_sse(rw_channel *ch, rw_sse *sse)
{
    leave(ch, rw_sse_worker(sse), sse);
}

static void message_unref(message *msg)
{
    if (atomic_fetch_sub(&msg->refs, 1) == 1)
        free(msg);
}

/* Runs on the member's worker. */
static void deliver(rw_worker *w, void *arg)
{
    message *msg = arg;
    slot *sl = slot_of(msg->ch, w, false);
    if (sl) {
        sl->delivering = true;
        for (size_t i = 0; i < sl->n; i++) {
            member *m = &sl->m[i];
            if (m->ws)
                (msg->binary ? rw_ws_send_binary : rw_ws_send_text)(m->ws, msg->data, msg->len);
            else if (m->sse)
                rw_sse_send(m->sse, m->event[0] ? m->event : NULL, NULL, msg->data, msg->len);
        }
        sl->delivering = false;
        if (sl->holes) {
            size_t k = 0;
            for (size_t i = 0; i < sl->n; i++)
                if (sl->m[i].ws || sl->m[i].sse)
                    sl->m[k++] = sl->m[i];
            sl->n = k;
            sl->holes = false;
        }
    }
    message_unref(msg);
}

int rw_channel_publish(rw_channel *ch, const void *data, size_t len, bool binary)
{
    rw_server *s = ch->s;
    if (atomic_load(&s->stop_requested))
        return -1;
    rw_worker *ws = s->workers;
    int n = s->nworkers;
    if (!ws || n <= 0)
        return -1;
    message *msg = malloc(sizeof *msg + len);
    if (!msg)
        return -1;
    msg->ch = ch;
    msg->binary = binary;
    msg->len = len;
    if (len)
        memcpy(msg->data, data, len);
    atomic_init(&msg->refs, 1); /* the publisher's own reference */
    for (int i = 0; i < n && i < ch->nslots; i++) {
        if (!atomic_load(&ch->slots[i]))
            continue; /* no member ever joined on that worker */
        atomic_fetch_add(&msg->refs, 1);
        if (rw_worker_post(&ws[i], deliver, msg) != 0)
            message_unref(msg);
    }
    message_unref(msg);
    return 0;
}

void rw_channels_free(rw_server *s)
{
    while (s->channels)
        rw_channel_free(s->channels);
}
