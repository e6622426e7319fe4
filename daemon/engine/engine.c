/* engine.c — runs every rpc handler, one at a time, on one thread.
 *
 * The server hands over decoded calls (from nng's callback threads, which
 * must not block); this thread looks up the handler in the generated
 * oj.Control service table (filled in by rpc_table.c) and runs it. A handler
 * either answers at once or keeps the call and answers later (the closure is
 * thread-safe), so slow work never holds up the queue. An rpc with no
 * handler yet answers NOT_IMPLEMENTED. The once-a-second tick is a function
 * handed in (oj_engine_set_tick): the engine knows no handler and no tick by
 * name. A read-only call may instead run on the thread that received it,
 * when the engine is between items (run_at_once): still one at a time, under
 * the state lock the engine holds around each item. */
#include <stdlib.h>
#include <time.h>

#include "clock.h"

#include "cron.h"
#include "daemon.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "version.h"
#include "work_queue.h"
#include "wire.pb-c.h"

/* A queued item: a call from a client, or a job posted by another thread
 * (a finished shell step) that must run where the state lives. */
struct oj_call_node {
    struct oj_call *call;
    void (*job)(struct oj_daemon *d, void *arg);
    void *job_arg;
    bool through_hold; /* a job that runs while writes are held (the one ending the hold) */
    struct oj_call_node *next;
};

typedef void (*generic_handler)(Oj__Control_Service *svc, const ProtobufCMessage *input,
                                ProtobufCClosure closure, void *closure_data);

/* The closure every handler gets: the reply is encoded now and sent once
 * the WAL is synced up to everything committed so far, so no client ever
 * sees a change (its own or another's) that a crash could take back. */
static void engine_done(const ProtobufCMessage *out, void *call)
{
    struct oj_daemon *d = oj_call_context(call);
    oj_call_pack(out, call);
    oj_store_after_sync(d->store, oj_call_send, call);
}

static void run_call(struct oj_daemon *d, struct oj_call *call)
{
    unsigned idx = oj_call_method_index(call);
    /* protoc-c lays the handlers out right after `base`, in method order. */
    generic_handler *handlers = (generic_handler *)(&d->svc.base + 1);
    if (handlers[idx] == NULL) {
        oj_call_fail(call, OJ__STATUS_CODE__NOT_IMPLEMENTED,
                     "%s is not implemented yet in oj %s", oj_call_method_name(call), OJ_VERSION);
        oj_call_complete(NULL, call);
        return;
    }
    handlers[idx](&d->svc, oj_call_input(call), engine_done, call);
}

/* The tick: once a second, between calls, the engine runs the function
 * handed in (daemon_main.c), which reconciles what time and the outside world
 * changed (sessions that ended, ...). */
#define TICK_MS 1000

/* While writes are held (a restore writes its files), only what cannot
 * change the state runs: read-only rpcs and the jobs posted through the hold.
 * The rest waits, in order, for the release. */
static bool runs_while_held(const struct oj_call_node *n)
{
    return n->job ? n->through_hold : oj_call_read_only(n->call);
}

static void defer(struct oj_daemon *d, struct oj_call_node *n)
{
    n->next = NULL;
    if (d->deferred_tail)
        d->deferred_tail->next = n;
    else
        d->deferred_head = n;
    d->deferred_tail = n;
}

static void *engine_main(void *arg)
{
    struct oj_daemon *d = arg;
    pthread_setname_np(pthread_self(), "oj:engine"); /* for top -H, perf, gdb and make bench */
    int64_t next_tick = oj_mono_ms(); /* first tick at once: re-adopt sessions */
    pthread_mutex_lock(&d->engine_mu);
    for (;;) {
        /* No tick while writes are held: it changes the state. */
        bool tick_due = !d->writes_held && !d->engine_stopping && oj_mono_ms() >= next_tick;
        if (d->queue_head == NULL && !tick_due) {
            if (d->engine_stopping && !d->writes_held)
                break; /* stopping and nothing left */
            if (d->engine_stopping || d->writes_held) {
                pthread_cond_wait(&d->engine_cv, &d->engine_mu); /* for the release */
            } else {
                struct timespec ts = oj_deadline_in(next_tick - oj_mono_ms());
                pthread_cond_timedwait(&d->engine_cv, &d->engine_mu, &ts);
            }
            continue;
        }
        if (tick_due) {
            d->engine_busy = true;
            pthread_mutex_unlock(&d->engine_mu);
            pthread_mutex_lock(&d->state_mu);
            if (d->engine_tick) {
                int64_t t0 = oj_mono_ns();
                d->engine_tick(d->engine_tick_arg);
                unsigned n = atomic_load(&d->tick_count);
                atomic_store(&d->tick_us[n % OJ_TICK_KEEP], (uint64_t)(oj_mono_ns() - t0) / 1000);
                atomic_store(&d->tick_count, n + 1);
            }
            pthread_mutex_unlock(&d->state_mu);
            next_tick = oj_mono_ms() + TICK_MS;
            pthread_mutex_lock(&d->engine_mu);
            d->engine_busy = false;
            continue;
        }
        struct oj_call_node *n = d->queue_head;
        d->queue_head = n->next;
        if (d->queue_head == NULL)
            d->queue_tail = NULL;
        d->engine_busy = true; /* an at-once change must not overtake this item */
        pthread_mutex_unlock(&d->engine_mu);
        if (d->writes_held && !runs_while_held(n)) {
            defer(d, n);
        } else {
            pthread_mutex_lock(&d->state_mu);
            if (n->job)
                n->job(d, n->job_arg);
            else
                run_call(d, n->call);
            pthread_mutex_unlock(&d->state_mu);
            free(n);
        }
        pthread_mutex_lock(&d->engine_mu);
        d->engine_busy = false;
    }
    /* Under both mutexes: no post slips in after this, and no read-only call
     * is still running at once when the main thread takes the state over. */
    pthread_mutex_unlock(&d->engine_mu);
    pthread_mutex_lock(&d->state_mu);
    pthread_mutex_lock(&d->engine_mu);
    d->engine_gone = true;
    pthread_mutex_unlock(&d->engine_mu);
    pthread_mutex_unlock(&d->state_mu);
    return NULL;
}

void oj_engine_hold_writes(struct oj_daemon *d) { d->writes_held = true; }

void oj_engine_release_writes(struct oj_daemon *d)
{
    d->writes_held = false;
    if (d->deferred_head == NULL)
        return;
    /* What waited goes first: it arrived before everything still queued. */
    pthread_mutex_lock(&d->engine_mu);
    d->deferred_tail->next = d->queue_head;
    d->queue_head = d->deferred_head;
    if (d->queue_tail == NULL)
        d->queue_tail = d->deferred_tail;
    pthread_mutex_unlock(&d->engine_mu);
    d->deferred_head = d->deferred_tail = NULL;
}

/* Appends n to the queue and wakes the engine; engine_mu held. */
static void enqueue_locked(struct oj_daemon *d, struct oj_call_node *n)
{
    if (d->queue_tail)
        d->queue_tail->next = n;
    else
        d->queue_head = n;
    d->queue_tail = n;
    pthread_cond_signal(&d->engine_cv);
}

static bool post(struct oj_daemon *d, void (*job)(struct oj_daemon *, void *), void *arg,
                 bool through_hold)
{
    struct oj_call_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        LOG_ERROR("engine: out of memory; a finished job is lost");
        return false;
    }
    n->job = job;
    n->job_arg = arg;
    n->through_hold = through_hold;
    /* Accepted while stopping (oj_engine_stop runs what is queued), refused
     * once the thread is gone. */
    pthread_mutex_lock(&d->engine_mu);
    bool gone = d->engine_gone;
    if (!gone)
        enqueue_locked(d, n);
    pthread_mutex_unlock(&d->engine_mu);
    if (gone)
        free(n);
    return !gone;
}

bool oj_engine_post(struct oj_daemon *d, void (*job)(struct oj_daemon *, void *), void *arg)
{
    return post(d, job, arg, false);
}

bool oj_engine_post_through_hold(struct oj_daemon *d, void (*job)(struct oj_daemon *, void *),
                                 void *arg)
{
    return post(d, job, arg, true);
}

/* How many calls in a row must have found no other request in flight before
 * a call run at once syncs the WAL itself. One client at a time (an operator,
 * a script) then pays no wake-up of the sync thread: waking a thread that
 * sleeps on an idle core costs tens of microseconds on a virtual machine,
 * about a fifth of a change (docs/performance.md). With many clients the
 * sync thread is busy anyway and batches their changes, and a leader on
 * nng's thread measured 5 % slower there; the streak tells the two apart. */
#define LEAD_AFTER 4

/* A read-only call, or a change marked at_once (request.h: state and WAL
 * only), answered on the thread that received it when the state is free
 * (the engine is between items): one thread hand-off fewer than through the
 * queue, and no wait behind calls queued before it. The state lock makes it
 * see and change the state as between two of the engine's items, and its
 * reply still goes out only once the WAL is synced up to everything
 * committed (engine_done). A change goes this way only when nothing is
 * queued and the engine holds no item it took off the queue (it does not
 * overtake calls or jobs that came first: a lock release's wake-up of the
 * pipeline waiting longest runs before another acquire) and writes are not
 * held. Never waits for the lock: nng's threads must not block, so a busy
 * engine means the queue as before. When one client sends one change at a
 * time, this thread also makes the sync that covers it (LEAD_AFTER). */
static bool run_at_once(struct oj_daemon *d, struct oj_call *call)
{
    bool read_only = oj_call_read_only(call);
    if (!(read_only || oj_call_at_once(call)) || pthread_mutex_trylock(&d->state_mu) != 0)
        return false;
    pthread_mutex_lock(&d->engine_mu);
    bool open = !d->engine_stopping && !d->engine_gone &&
                (read_only || (d->queue_head == NULL && !d->engine_busy && !d->writes_held));
    pthread_mutex_unlock(&d->engine_mu);
    bool lead = false;
    if (open) {
        d->alone_streak = oj_call_others_in_flight(call) == 0 ? d->alone_streak + 1 : 0;
        /* a read commits nothing: its reply waits for the sync thread's round */
        lead = !read_only && d->alone_streak >= LEAD_AFTER;
        if (lead) /* the stop closes the store only once this thread is done with it */
            atomic_fetch_add(&d->leaders_active, 1);
        oj_store_defer_sync(d->store, lead);
        run_call(d, call);
        oj_store_defer_sync(d->store, false);
    }
    pthread_mutex_unlock(&d->state_mu);
    if (lead) { /* after the state is free: a sync must not hold up the engine */
        oj_store_sync_here(d->store);
        atomic_fetch_sub(&d->leaders_active, 1);
    }
    return open;
}

void oj_engine_submit(struct oj_call *call, void *arg)
{
    struct oj_daemon *d = arg;
    if (run_at_once(d, call))
        return;
    struct oj_call_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        oj_call_complete(NULL, call);
        return;
    }
    n->call = call;
    n->next = NULL;
    pthread_mutex_lock(&d->engine_mu);
    if (d->engine_stopping) { /* a late call after the drain: nobody will run it */
        pthread_mutex_unlock(&d->engine_mu);
        free(n);
        oj_call_fail(call, OJ__STATUS_CODE__SHUTTING_DOWN, "the daemon is stopping");
        oj_call_complete(NULL, call);
        return;
    }
    enqueue_locked(d, n);
    pthread_mutex_unlock(&d->engine_mu);
}

void oj_engine_tick_times(struct oj_daemon *d, uint64_t *last_us, uint64_t *max_us)
{
    unsigned n = atomic_load(&d->tick_count);
    *last_us = n ? atomic_load(&d->tick_us[(n - 1) % OJ_TICK_KEEP]) : 0;
    *max_us = 0;
    for (unsigned i = 0; i < OJ_TICK_KEEP && i < n; i++) {
        uint64_t v = atomic_load(&d->tick_us[i]);
        if (v > *max_us)
            *max_us = v;
    }
}

void oj_engine_set_tick(struct oj_daemon *d, void (*tick)(void *arg), void *arg)
{
    d->engine_tick = tick;
    d->engine_tick_arg = arg;
}

int oj_engine_start(struct oj_daemon *d)
{
    pthread_mutex_init(&d->state_mu, NULL);
    pthread_mutex_init(&d->engine_mu, NULL);
    pthread_cond_init(&d->engine_cv, NULL);
    if ((d->tmux_work = oj_work_queue_new("tmux")) == NULL)
        return -1;
    if (pthread_create(&d->engine_thread, NULL, engine_main, d) != 0) {
        oj_work_queue_free(d->tmux_work);
        d->tmux_work = NULL;
        return -1;
    }
    return 0;
}

/* Runs what is already queued, then ends the thread. */
void oj_engine_stop(struct oj_daemon *d)
{
    pthread_mutex_lock(&d->engine_mu);
    d->engine_stopping = true;
    pthread_cond_signal(&d->engine_cv);
    pthread_mutex_unlock(&d->engine_mu);
    pthread_join(d->engine_thread, NULL);
    /* tmux commands still queued (a stop past its timeout) run now; their
     * results find the engine gone (engine_work.h). */
    oj_work_queue_free(d->tmux_work);
    d->tmux_work = NULL;
    /* The mutex and condition stay: a runner that outlived the stop's
     * timeout still takes the mutex to find the engine gone. */
}
