/* server.c — see server.h. */
#include "server.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "oj.pb-c.h"
#include "peer.h"
#include "reply_cache.h"
#include "request.h"
#include "rpc_client.h" /* OJ_MAX_REQUEST_BYTES */
#include "version.h"
#include "wire.pb-c.h"

#define DEFAULT_RECEIVERS 16
#define MAX_SLOTS 4096          /* bound on contexts (= requests in flight + receivers) */
#define REPLY_CACHE_ENTRIES 1024

/* A context and its aio: receives one request, then carries its reply. */
struct slot {
    struct oj_server *srv;
    nng_ctx ctx;
    nng_aio *aio;
    enum { SLOT_IDLE, SLOT_RECV, SLOT_HELD, SLOT_SEND } phase;
    struct slot *next_free;
    struct slot *next_all;
    struct slot *next_io;
};

struct oj_call {
    struct oj_server *srv;
    struct slot *slot; /* where the reply goes; a repeated request moves it */
    uint64_t request_id;
    uint64_t digest; /* what the request was (request.h), to tell a repeat from a reuse */
    bool dedup;      /* remembered by id: repeats attach, the reply is cached */
    unsigned method_index;
    const ProtobufCMethodDescriptor *method;
    ProtobufCMessage *input;
    int status;
    char message[512];
    uint8_t *reply; /* packed ReplyFrame, between pack and send (for the reply cache) */
    size_t reply_len;
    nng_msg *msg;   /* the same bytes as nng sends them, made where it was packed */
    struct oj_call *prev, *next; /* in-flight list */
};

struct oj_server {
    nng_socket sock;
    nng_listener listener;
    char url[1100];
    const char *sock_path;
    const ProtobufCServiceDescriptor *service;
    const struct oj_rpc_entry *rpcs;
    oj_call_sink sink;
    void *sink_arg;
    unsigned min_receivers;

    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    struct slot *free_slots, *all_slots;
    unsigned n_slots, receiving, sending;
    struct oj_call *in_flight;
    _Atomic unsigned n_in_flight; /* changed under mu; read without it (others_in_flight) */
    struct oj_reply_cache *cache;
    bool draining, closing;
    uint64_t served;
    uint32_t restarts;
    _Atomic uint64_t pings; /* Pings that reached us: proof the listener accepts */
    const char *version;    /* ReplyFrame.daemon_version */
    /* client versions other than ours already logged: each is said once */
    char other_versions[8][32];
    unsigned n_other_versions;
};

static void slot_cb(void *arg);

/* ---- slots ---------------------------------------------------------------- */

/* Lock discipline: nng is never called with `mu` held (message allocation
 * aside, which is plain malloc). nng may hold its own socket or listener locks
 * while it waits for one of our callbacks to return, and our callbacks take
 * `mu`; calling back into nng under `mu` could then deadlock. So work on nng
 * is collected in a struct io under the lock and done by run_io() after it. */
struct io {
    struct slot *recv;  /* post a receive on each (chained by next_io) */
    unsigned new_slots; /* receivers to create: no free slot was left */
    struct slot *send;  /* send `msg` on this slot */
    nng_msg *msg;
};

/* Keeps min_receivers contexts waiting for requests. Caller holds mu. */
static void top_up(struct oj_server *s, struct io *io)
{
    while (!s->closing && s->receiving < s->min_receivers) {
        struct slot *sl = s->free_slots;
        if (sl) {
            s->free_slots = sl->next_free;
            sl->phase = SLOT_RECV;
            sl->next_io = io->recv;
            io->recv = sl;
        } else if (s->n_slots + io->new_slots < MAX_SLOTS) {
            io->new_slots++;
        } else {
            return; /* at the cap: requests wait in nng's queue */
        }
        s->receiving++;
    }
}

static void slot_release(struct oj_server *s, struct slot *sl)
{
    sl->phase = SLOT_IDLE;
    sl->next_free = s->free_slots;
    s->free_slots = sl;
}

/* An nng message holding an encoded ReplyFrame; NULL when out of memory. */
static nng_msg *reply_msg(const void *data, size_t len)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, len) != 0)
        return NULL;
    if (len) /* an empty ReplyFrame packs to 0 bytes, and its body may be NULL */
        memcpy(nng_msg_body(m), data, len);
    return m;
}

/* Queues message m (NULL: it could not be made) for `sl`. Caller holds mu. */
static void queue_msg(struct oj_server *s, struct slot *sl, nng_msg *m, struct io *io)
{
    if (m == NULL) {
        LOG_ERROR("server: out of memory for a reply");
        slot_release(s, sl);
        return;
    }
    sl->phase = SLOT_SEND;
    s->sending++;
    io->send = sl;
    io->msg = m;
}

/* Queues an encoded ReplyFrame for `sl`. Caller holds mu. */
static void queue_send(struct oj_server *s, struct slot *sl, const void *data, size_t len,
                       struct io *io)
{
    queue_msg(s, sl, reply_msg(data, len), io);
}

static void run_io(struct oj_server *s, struct io *io)
{
    if (io->send) {
        nng_aio_set_msg(io->send->aio, io->msg);
        nng_ctx_send(io->send->ctx, io->send->aio);
    }
    for (struct slot *sl = io->recv, *next; sl; sl = next) {
        next = sl->next_io;
        nng_ctx_recv(sl->ctx, sl->aio);
    }
    for (unsigned i = 0; i < io->new_slots; i++) {
        struct slot *sl = calloc(1, sizeof *sl);
        if (sl) {
            sl->srv = s;
            if (nng_ctx_open(&sl->ctx, s->sock) != 0) {
                free(sl);
                sl = NULL;
            } else if (nng_aio_alloc(&sl->aio, slot_cb, sl) != 0) {
                nng_ctx_close(sl->ctx);
                free(sl);
                sl = NULL;
            }
        }
        pthread_mutex_lock(&s->mu);
        if (sl == NULL) {
            s->receiving--;
            pthread_mutex_unlock(&s->mu);
            if (!s->closing)
                LOG_ERROR("server: cannot open a request context");
            continue;
        }
        sl->phase = SLOT_RECV;
        sl->next_all = s->all_slots;
        s->all_slots = sl;
        s->n_slots++;
        pthread_mutex_unlock(&s->mu);
        nng_ctx_recv(sl->ctx, sl->aio);
    }
}

/* Answers directly (frame errors, Ping, refusals); nothing is cached. */
static void reply_now(struct oj_server *s, struct slot *sl, uint64_t id, int status,
                      const char *message, const ProtobufCMessage *out)
{
    size_t len = 0;
    uint8_t *buf = oj_reply_pack(id, status, message, out, s->version, &len);
    struct io io = {0};
    pthread_mutex_lock(&s->mu);
    if (buf)
        queue_send(s, sl, buf, len, &io);
    else
        slot_release(s, sl);
    top_up(s, &io);
    pthread_mutex_unlock(&s->mu);
    run_io(s, &io);
    free(buf);
}

/* The running call that remembers `id`, if any. Caller holds mu. */
static struct oj_call *find_in_flight(struct oj_server *s, uint64_t id)
{
    for (struct oj_call *c = s->in_flight; c; c = c->next)
        if (c->dedup && c->request_id == id)
            return c;
    return NULL;
}

static bool allowed_while_draining(const char *method)
{
    return strcmp(method, "Ping") == 0 || strcmp(method, "Status") == 0 ||
           strcmp(method, "DaemonStop") == 0;
}

static void refuse_reused_id(struct oj_server *s, struct slot *sl, uint64_t id, bool running)
{
    char why[300];
    snprintf(why, sizeof why,
             "request id %llu belongs to another request the daemon %s (a different method "
             "or payload); this one did not run: send it with a new request id",
             (unsigned long long)id, running ? "is running" : "answered");
    LOG_WARN_LIMITED("server: %s", why);
    reply_now(s, sl, id, OJ__STATUS_CODE__REQUEST_ID_REUSED, why, NULL);
}

/* Logs, once per version, a client of an oj version other than ours: what
 * an operator looks for when a command says the daemon is older or newer. */
static void note_client_version(struct oj_server *s, const char *v)
{
    if (v[0] == '\0' || strcmp(v, s->version) == 0)
        return;
    char shown[32];
    size_t n = 0;
    for (; v[n] && n < sizeof shown - 1; n++) /* from the wire: shown as plain text */
        shown[n] = (v[n] >= '!' && v[n] <= '~') ? v[n] : '?';
    shown[n] = '\0';
    pthread_mutex_lock(&s->mu);
    bool seen = false;
    for (unsigned i = 0; i < s->n_other_versions && !seen; i++)
        seen = strcmp(s->other_versions[i], shown) == 0;
    bool say = !seen && s->n_other_versions < 8;
    if (say)
        snprintf(s->other_versions[s->n_other_versions++], 32, "%s", shown);
    pthread_mutex_unlock(&s->mu);
    if (say)
        LOG_INFO("server: a client of oj %s talks to this daemon (oj %s); restart the daemon "
                 "after an upgrade (oj daemon stop && oj daemon start)",
                 shown, s->version);
}

/* One request arrived on `sl` (which now belongs to it). */
static void handle_request(struct oj_server *s, struct slot *sl, nng_msg *msg)
{
    struct oj_request rq;
    char why[512];
    int st = oj_request_read(s->service, s->rpcs, nng_msg_body(msg), nng_msg_len(msg), &rq, why,
                             sizeof why);
    nng_msg_free(msg);
    note_client_version(s, rq.client_version);
    if (st != OJ__STATUS_CODE__OK) {
        if (st == OJ__STATUS_CODE__BAD_FRAME && rq.method == NULL)
            LOG_WARN_LIMITED("server: dropped an undecodable request frame");
        reply_now(s, sl, rq.id, st, why, NULL);
        oj_request_clear(&rq);
        return;
    }
    const ProtobufCMethodDescriptor *m = rq.method;

    /* A repeated request: answer from memory or attach to the running call.
     * Only the same request (same digest) is a repeat: another one that
     * reuses a remembered id is refused, so it can neither get nor take over
     * the answer to a request it is not. */
    struct io io = {0};
    pthread_mutex_lock(&s->mu);
    struct oj_call *running = rq.id ? find_in_flight(s, rq.id) : NULL;
    const void *cached = NULL;
    size_t cached_len = 0;
    uint64_t cached_digest = 0;
    bool known = running == NULL && rq.id != 0 &&
                 oj_reply_cache_get(s->cache, rq.id, &cached_digest, &cached, &cached_len);
    if ((running && running->digest != rq.digest) || (known && cached_digest != rq.digest)) {
        pthread_mutex_unlock(&s->mu);
        refuse_reused_id(s, sl, rq.id, running != NULL);
        oj_request_clear(&rq);
        return;
    }
    if (running) {
        LOG_DEBUG("server: request %llu repeated while running; reply moves to the new context",
                  (unsigned long long)rq.id);
        slot_release(s, running->slot);
        running->slot = sl;
        top_up(s, &io);
        pthread_mutex_unlock(&s->mu);
        run_io(s, &io);
        oj_request_clear(&rq);
        return;
    }
    if (known) {
        LOG_DEBUG("server: request %llu repeated; answered from the reply cache",
                  (unsigned long long)rq.id);
        if (cached) {
            queue_send(s, sl, cached, cached_len, &io);
            top_up(s, &io);
            pthread_mutex_unlock(&s->mu);
            run_io(s, &io);
        } else {
            pthread_mutex_unlock(&s->mu);
            reply_now(s, sl, rq.id, OJ__STATUS_CODE__CONFLICT,
                      "this request id already ran and its reply is gone; send a new request",
                      NULL);
        }
        oj_request_clear(&rq);
        return;
    }
    bool draining = s->draining;
    pthread_mutex_unlock(&s->mu);

    if (draining && !allowed_while_draining(m->name)) {
        reply_now(s, sl, rq.id, OJ__STATUS_CODE__SHUTTING_DOWN,
                  "the daemon is stopping and accepts no new work; start it again with `oj "
                  "daemon start`",
                  NULL);
        oj_request_clear(&rq);
        return;
    }

    if (strcmp(m->name, "Ping") == 0) { /* liveness never waits for the engine */
        atomic_fetch_add(&s->pings, 1);
        Oj__PingResponse pr = OJ__PING_RESPONSE__INIT;
        pr.pid = (int32_t)getpid();
        pr.version = (char *)OJ_VERSION;
        reply_now(s, sl, rq.id, OJ__STATUS_CODE__OK, NULL, &pr.base);
        oj_request_clear(&rq);
        return;
    }

    struct oj_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        reply_now(s, sl, rq.id, OJ__STATUS_CODE__INTERNAL, "daemon out of memory", NULL);
        oj_request_clear(&rq);
        return;
    }
    c->srv = s;
    c->slot = sl;
    c->request_id = rq.id;
    c->digest = rq.digest;
    c->dedup = rq.dedup;
    c->method = m;
    c->method_index = rq.method_index;
    c->input = rq.input; /* the call owns the decoded request now */
    c->status = OJ__STATUS_CODE__OK;

    pthread_mutex_lock(&s->mu);
    sl->phase = SLOT_HELD;
    c->next = s->in_flight;
    if (s->in_flight)
        s->in_flight->prev = c;
    s->in_flight = c;
    s->n_in_flight++;
    pthread_mutex_unlock(&s->mu);

    LOG_DEBUG("server: %s (request %llu)", m->name, (unsigned long long)c->request_id);
    s->sink(c, s->sink_arg);
}

static void slot_cb(void *arg)
{
    struct slot *sl = arg;
    struct oj_server *s = sl->srv;
    int rv = nng_aio_result(sl->aio);
    nng_msg *msg = nng_aio_get_msg(sl->aio);
    struct io io = {0};

    pthread_mutex_lock(&s->mu);
    if (sl->phase == SLOT_SEND) {
        s->sending--;
        slot_release(s, sl);
        top_up(s, &io);
        pthread_cond_broadcast(&s->idle_cv);
        pthread_mutex_unlock(&s->mu);
        if (rv != 0) {
            nng_msg_free(msg);
            if (rv != NNG_ECLOSED)
                LOG_DEBUG("server: reply not delivered: %s", nng_strerror(rv));
        }
        run_io(s, &io);
        return;
    }
    /* A receive finished. */
    s->receiving--;
    if (rv != 0) {
        slot_release(s, sl);
        top_up(s, &io);
        pthread_mutex_unlock(&s->mu);
        if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
            LOG_WARN_LIMITED("server: receive failed: %s", nng_strerror(rv));
        run_io(s, &io);
        return;
    }
    sl->phase = SLOT_HELD;
    top_up(s, &io); /* someone else listens while this request runs */
    pthread_mutex_unlock(&s->mu);
    run_io(s, &io);
    handle_request(s, sl, msg);
}

/* ---- calls --------------------------------------------------------------- */

unsigned oj_call_method_index(const struct oj_call *c) { return c->method_index; }
const char *oj_call_method_name(const struct oj_call *c) { return c->method->name; }
const ProtobufCMessage *oj_call_input(const struct oj_call *c) { return c->input; }
bool oj_call_read_only(const struct oj_call *c)
{
    return oj_rpc_read_only(c->srv->rpcs, c->method->name);
}
unsigned oj_call_others_in_flight(const struct oj_call *c)
{
    unsigned n = atomic_load(&c->srv->n_in_flight); /* each change run at once asks: no lock */
    return n > 0 ? n - 1 : 0;
}
bool oj_call_at_once(const struct oj_call *c)
{
    return oj_rpc_at_once(c->srv->rpcs, c->method->name);
}
void *oj_call_context(const struct oj_call *c) { return c->srv->sink_arg; }

void oj_call_fail(struct oj_call *c, int status, const char *fmt, ...)
{
    c->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
}

void oj_call_pack(const ProtobufCMessage *out, struct oj_call *c)
{
    if (c->status == OJ__STATUS_CODE__OK && out == NULL)
        oj_call_fail(c, OJ__STATUS_CODE__INTERNAL, "%s produced no reply (daemon bug)",
                     c->method->name);
    if (c->status != OJ__STATUS_CODE__OK) {
        out = NULL;
        LOG_DEBUG("server: %s failed: %s: %s", c->method->name, oj_status_name(c->status),
                  c->message);
    }
    c->reply = oj_reply_pack(c->request_id, c->status, c->message, out, c->srv->version,
                             &c->reply_len);
    if (c->reply == NULL)
        c->reply_len = 0;
    /* The copy into nng's message is made here, on the thread that packed
     * it, not where it is sent: a reply can be 16 MiB (a log read), and the
     * sync thread sends the replies its sync released. */
    c->msg = c->reply_len ? reply_msg(c->reply, c->reply_len) : NULL;
    if (!c->dedup) { /* only the reply cache keeps the bytes */
        free(c->reply);
        c->reply = NULL;
    }
}

void oj_call_send(void *arg)
{
    struct oj_call *c = arg;
    struct oj_server *s = c->srv;
    struct io io = {0};
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->in_flight = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_in_flight--;
    s->served++;
    if (c->reply_len) {
        if (c->dedup &&
            oj_reply_cache_put(s->cache, c->request_id, c->digest, c->reply, c->reply_len) != 0)
            LOG_WARN("server: reply cache out of memory; request %llu not remembered",
                     (unsigned long long)c->request_id);
        queue_msg(s, c->slot, c->msg, &io); /* NULL (out of memory): the slot is released */
    } else {
        LOG_ERROR("server: out of memory packing the %s reply", c->method->name);
        slot_release(s, c->slot);
    }
    pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
    run_io(s, &io);
    free(c->reply);
    protobuf_c_message_free_unpacked(c->input, NULL);
    free(c);
}

void oj_call_complete(const ProtobufCMessage *out, void *call)
{
    oj_call_pack(out, call);
    oj_call_send(call);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int listen_on(struct oj_server *s, char *err, size_t errlen)
{
    /* We hold the single-instance lock, so a file at our socket path is a
     * leftover of a crashed daemon: remove it rather than let nng probe it. */
    unlink(s->sock_path);
    int rv = nng_listener_create(&s->listener, s->sock, s->url);
    if (rv == 0)
        rv = nng_listener_set_int(s->listener, NNG_OPT_IPC_PERMISSIONS, 0600);
    if (rv == 0)
        rv = nng_listener_start(s->listener, 0);
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", s->url, nng_strerror(rv));
        return -1;
    }
    return 0;
}

int oj_server_start(struct oj_server **out, const struct oj_server_opts *o, char *err,
                    size_t errlen)
{
    struct oj_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->sock_path = o->sock_path;
    s->service = o->service;
    s->rpcs = o->rpcs;
    s->sink = o->sink;
    s->sink_arg = o->sink_arg;
    s->min_receivers = o->min_receivers ? o->min_receivers : DEFAULT_RECEIVERS;
    s->version = o->version ? o->version : OJ_VERSION;
    snprintf(s->url, sizeof s->url, "ipc://%s", o->sock_path);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    s->cache = oj_reply_cache_new(REPLY_CACHE_ENTRIES);
    if (s->cache == NULL) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return -1;
    }
    int rv = nng_rep0_open(&s->sock);
    if (rv != 0) {
        snprintf(err, errlen, "cannot open the request socket: %s", nng_strerror(rv));
        oj_reply_cache_free(s->cache);
        free(s);
        return -1;
    }
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, OJ_MAX_REQUEST_BYTES);
    oj_peer_only_own_user(s->sock, "server"); /* peer.h */
    if (listen_on(s, err, errlen) != 0) {
        nng_close(s->sock);
        oj_reply_cache_free(s->cache);
        free(s);
        return -1;
    }
    struct io io = {0};
    pthread_mutex_lock(&s->mu);
    top_up(s, &io);
    pthread_mutex_unlock(&s->mu);
    run_io(s, &io);
    *out = s;
    return 0;
}

int oj_server_relisten(struct oj_server *s)
{
    char err[256];
    /* Only the watchdog calls this (and start before it), so the listener
     * needs no lock; `mu` must not be held around nng calls (see struct io).
     * Closing the old listener resets the connections stuck in its backlog, so
     * their clients reconnect to the new one; it also closes the connections
     * it accepted, and their clients resend in-flight requests (same id, see
     * rpc_client.h), which the reply cache answers without a second run. */
    nng_listener_close(s->listener);
    int rv = listen_on(s, err, sizeof err);
    pthread_mutex_lock(&s->mu);
    s->restarts++;
    pthread_mutex_unlock(&s->mu);
    if (rv != 0)
        LOG_ERROR("server: %s", err);
    return rv;
}

/* Not closed by relisten: the watchdog repairs the local socket only. */
int oj_server_listen_remote(struct oj_server *s, const char *url, struct nng_tls_config *tls,
                            char *err, size_t errlen)
{
    return oj_peer_listen_extra(s->sock, url, tls, err, errlen);
}

int oj_server_listen_ws(struct oj_server *s, const char *url, char *err, size_t errlen)
{
    return oj_peer_listen_extra(s->sock, url, NULL, err, errlen);
}

uint64_t oj_server_pings(struct oj_server *s) { return atomic_load(&s->pings); }

void oj_server_set_draining(struct oj_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    pthread_mutex_unlock(&s->mu);
}

unsigned oj_server_wait_idle(struct oj_server *s, int64_t deadline_mono_ms)
{
    pthread_mutex_lock(&s->mu);
    while (s->n_in_flight > 0 || s->sending > 0) {
        int64_t left = deadline_mono_ms - oj_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts = oj_deadline_in(left);
        pthread_cond_timedwait(&s->idle_cv, &s->mu, &ts);
    }
    unsigned left = s->n_in_flight;
    pthread_mutex_unlock(&s->mu);
    return left;
}

void oj_server_stats(struct oj_server *s, struct oj_server_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->served = s->served;
    st->in_flight = s->n_in_flight;
    st->listener_restarts = s->restarts;
    st->reply_cache_entries = oj_reply_cache_count(s->cache);
    st->reply_cache_bytes = oj_reply_cache_bytes(s->cache);
    pthread_mutex_unlock(&s->mu);
}

void oj_server_stop(struct oj_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    pthread_mutex_unlock(&s->mu);
    nng_close(s->sock);
    for (struct slot *sl = s->all_slots; sl; sl = sl->next_all)
        nng_aio_stop(sl->aio);
    struct slot *sl = s->all_slots;
    while (sl) {
        struct slot *next = sl->next_all;
        nng_aio_free(sl->aio);
        free(sl);
        sl = next;
    }
    /* Calls abandoned past the drain deadline: their handlers are gone with
     * the engine, so free them here. */
    struct oj_call *c = s->in_flight;
    while (c) {
        struct oj_call *next = c->next;
        protobuf_c_message_free_unpacked(c->input, NULL);
        free(c->reply);
        if (c->msg)
            nng_msg_free(c->msg);
        free(c);
        c = next;
    }
    unlink(s->sock_path);
    oj_reply_cache_free(s->cache);
    pthread_cond_destroy(&s->idle_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
