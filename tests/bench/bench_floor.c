/* bench_floor.c — the floors of the durable-changes figures (bench_store.c):
 * the cheapest server that does the daemon's job over the same transport, in
 * the same run.
 *
 * A req/rep server on ipc:// with 16 contexts, as the daemon keeps. Its
 * receive callback hands each request to one commit thread (the daemon's
 * engine) that writes 200 bytes with pwrite into a file filled ahead of time
 * (as the daemon's WAL is) and queues the reply; one sync thread calls
 * fdatasync and sends the replies that sync covered (group commit). No
 * decoding, no state, no JSON, no checksums: what is left is nng, the two
 * thread hand-offs any design with a state-owning thread and a sync thread
 * pays, and the disk. With FLOOR_ECHO the callback answers at once: one bare
 * round trip. Clients are threads with their own req socket each, sending
 * 60-byte requests (a LockAcquire frame is about that). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"

#define FLOOR_CTX 16
#define FLOOR_REC 200
#define FLOOR_REQ 60
#define FLOOR_REPLY 45
#define FLOOR_WARMUP 100 /* untimed round trips per client first */

struct fctx {
    struct floor_srv *srv;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    nng_msg *msg;
    uint64_t target;
    struct fctx *next;
};

struct floor_srv {
    bool echo;
    int fd;
    off_t pos;
    pthread_mutex_t mu;
    pthread_cond_t engine_cv, sync_cv;
    struct fctx *queue, **queue_tail;     /* received, for the commit thread */
    struct fctx *pending, **pending_tail; /* written, waiting for a sync */
    uint64_t written, synced;
    bool stopping, failed;
    nng_socket sock;
    struct fctx ctx[FLOOR_CTX];
};

static void reply(struct fctx *c)
{
    if (nng_msg_realloc(c->msg, FLOOR_REPLY) != 0) {
        nng_msg_free(c->msg);
        return;
    }
    nng_aio_set_msg(c->aio, c->msg);
    c->sending = true;
    nng_ctx_send(c->ctx, c->aio);
}

static void ctx_cb(void *arg)
{
    struct fctx *c = arg;
    struct floor_srv *s = c->srv;
    if (c->sending) {
        c->sending = false;
        if (nng_aio_result(c->aio) != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        else
            nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (nng_aio_result(c->aio) != 0)
        return; /* closed */
    c->msg = nng_aio_get_msg(c->aio);
    if (s->echo) {
        reply(c);
        return;
    }
    pthread_mutex_lock(&s->mu);
    c->next = NULL;
    *s->queue_tail = c;
    s->queue_tail = &c->next;
    pthread_cond_signal(&s->engine_cv);
    pthread_mutex_unlock(&s->mu);
}

static void *commit_main(void *arg)
{
    struct floor_srv *s = arg;
    char rec[FLOOR_REC];
    memset(rec, 'x', sizeof rec - 1);
    rec[sizeof rec - 1] = '\n';
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->queue == NULL && !s->stopping)
            pthread_cond_wait(&s->engine_cv, &s->mu);
        if (s->queue == NULL)
            break;
        struct fctx *c = s->queue;
        s->queue = c->next;
        if (s->queue == NULL)
            s->queue_tail = &s->queue;
        pthread_mutex_unlock(&s->mu);
        bool ok = pwrite(s->fd, rec, sizeof rec, s->pos) == (ssize_t)sizeof rec;
        s->pos += FLOOR_REC;
        pthread_mutex_lock(&s->mu);
        s->failed = s->failed || !ok;
        c->target = ++s->written;
        c->next = NULL;
        *s->pending_tail = c;
        s->pending_tail = &c->next;
        pthread_cond_signal(&s->sync_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *sync_main(void *arg)
{
    struct floor_srv *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->written == s->synced && !s->stopping)
            pthread_cond_wait(&s->sync_cv, &s->mu);
        if (s->written == s->synced)
            break;
        uint64_t target = s->written;
        pthread_mutex_unlock(&s->mu);
        bool ok = fdatasync(s->fd) == 0;
        pthread_mutex_lock(&s->mu);
        s->failed = s->failed || !ok;
        s->synced = target;
        struct fctx *ready = NULL, **tail = &ready;
        while (s->pending && s->pending->target <= target) {
            struct fctx *c = s->pending;
            s->pending = c->next;
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
        if (s->pending == NULL)
            s->pending_tail = &s->pending;
        pthread_mutex_unlock(&s->mu);
        for (struct fctx *c = ready, *next; c; c = next) {
            next = c->next;
            reply(c);
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct floor_client {
    const char *url;
    int each;
    double *us; /* each round trip's time, when not NULL */
    bool failed;
};

static bool round_trip(nng_socket sock)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, FLOOR_REQ) != 0)
        return false;
    memset(nng_msg_body(m), 0x5a, FLOOR_REQ);
    if (nng_sendmsg(sock, m, 0) != 0) {
        nng_msg_free(m);
        return false;
    }
    if (nng_recvmsg(sock, &m, 0) != 0)
        return false;
    nng_msg_free(m);
    return true;
}

static void *client_main(void *arg)
{
    struct floor_client *c = arg;
    nng_socket sock;
    if (nng_req0_open(&sock) != 0) {
        c->failed = true;
        return NULL;
    }
    nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 10000);
    if (nng_dial(sock, c->url, NULL, 0) != 0) {
        c->failed = true;
        nng_close(sock);
        return NULL;
    }
    for (int i = 0; i < c->each && !c->failed; i++) {
        int64_t t0 = oj_mono_ns();
        c->failed = !round_trip(sock);
        if (c->us)
            c->us[i] = (double)(oj_mono_ns() - t0) / 1e3;
    }
    nng_close(sock);
    return NULL;
}

/* Runs `clients` clients doing `each` round trips; wall seconds, or -1. */
static double run_clients(const char *url, int clients, int each, double *us)
{
    pthread_t t[FLOOR_CTX];
    struct floor_client c[FLOOR_CTX];
    if (clients > FLOOR_CTX)
        return -1;
    int64_t t0 = oj_mono_ns();
    for (int i = 0; i < clients; i++) {
        c[i] = (struct floor_client){.url = url, .each = each, .us = i == 0 ? us : NULL};
        pthread_create(&t[i], NULL, client_main, &c[i]);
    }
    bool failed = false;
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        failed = failed || c[i].failed;
    }
    return failed ? -1 : (double)(oj_mono_ns() - t0) / 1e9;
}

double bench_floor_run(const char *dir, enum bench_floor_kind kind, int clients, int each,
                       double *us)
{
    static struct floor_srv s;
    memset(&s, 0, sizeof s);
    s.echo = kind == FLOOR_ECHO;
    s.queue_tail = &s.queue;
    s.pending_tail = &s.pending;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.engine_cv, NULL);
    pthread_cond_init(&s.sync_cv, NULL);
    char path[PATH_MAX], url[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/floor.bin", dir);
    snprintf(url, sizeof url, "ipc://%s/floor.sock", dir);

    /* The file filled ahead of every record, durably, as the daemon's WAL is. */
    s.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s.fd < 0)
        return -1;
    size_t size = (size_t)clients * (size_t)(each + FLOOR_WARMUP) * FLOOR_REC + 4096;
    char *fill = malloc(size);
    bool ok = fill != NULL;
    if (ok) {
        memset(fill, 0xff, size);
        ok = write(s.fd, fill, size) == (ssize_t)size && fsync(s.fd) == 0;
    }
    free(fill);

    pthread_t engine, syncer;
    bool threads = ok && !s.echo;
    if (threads) {
        pthread_create(&engine, NULL, commit_main, &s);
        pthread_create(&syncer, NULL, sync_main, &s);
    }
    ok = ok && nng_rep0_open(&s.sock) == 0 && nng_listen(s.sock, url, NULL, 0) == 0;
    for (int i = 0; ok && i < FLOOR_CTX; i++) {
        s.ctx[i].srv = &s;
        ok = nng_ctx_open(&s.ctx[i].ctx, s.sock) == 0 &&
             nng_aio_alloc(&s.ctx[i].aio, ctx_cb, &s.ctx[i]) == 0;
        if (ok)
            nng_ctx_recv(s.ctx[i].ctx, s.ctx[i].aio);
    }
    double secs = -1;
    if (ok && run_clients(url, clients, FLOOR_WARMUP, NULL) >= 0)
        secs = run_clients(url, clients, each, us);

    if (threads) { /* they answer what is left, then end */
        pthread_mutex_lock(&s.mu);
        s.stopping = true;
        pthread_cond_broadcast(&s.engine_cv);
        pthread_cond_broadcast(&s.sync_cv);
        pthread_mutex_unlock(&s.mu);
        pthread_join(engine, NULL);
        pthread_join(syncer, NULL);
    }
    nng_close(s.sock);
    for (int i = 0; i < FLOOR_CTX; i++)
        if (s.ctx[i].aio) {
            nng_aio_stop(s.ctx[i].aio);
            nng_aio_free(s.ctx[i].aio);
        }
    close(s.fd);
    unlink(path);
    pthread_cond_destroy(&s.engine_cv);
    pthread_cond_destroy(&s.sync_cv);
    pthread_mutex_destroy(&s.mu);
    if (secs <= 0 || s.failed)
        return -1;
    return (double)clients * each / secs;
}
