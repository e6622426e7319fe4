/* lock_engine.c — see lock_engine.h. */
#include "lock_engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "store.h"

/* ---- liveness ------------------------------------------------------------------------ */

void oj_lock_set_heartbeat(struct oj_daemon *d, const char *name, int64_t ms)
{
    int64_t *hb = oj_hmap_get(&d->lock_heartbeats, name);
    if (hb == NULL) {
        hb = malloc(sizeof *hb);
        if (hb == NULL)
            return;
        bool oom;
        oj_hmap_put(&d->lock_heartbeats, name, hb, &oom);
        if (oom) {
            free(hb);
            return;
        }
    }
    *hb = ms;
}

static void clear_heartbeat(struct oj_daemon *d, const char *name)
{
    free(oj_hmap_del(&d->lock_heartbeats, name));
}

void oj_lock_forget(struct oj_daemon *d)
{
    const char *k;
    void *v;
    for (size_t it = 0; oj_hmap_next(&d->lock_heartbeats, &it, &k, &v);)
        free(v);
    oj_hmap_free(&d->lock_heartbeats); /* empty again, ready for new heartbeats */
}

static void this_host(char host[128])
{
    memset(host, 0, 128);
    gethostname(host, 127);
}

static bool holder_alive(const struct oj_lock *l, const char *host)
{
    pid_t pid = oj_lock_pid_to_check(l, host);
    return pid == 0 || kill(pid, 0) == 0 || errno == EPERM;
}

/* ---- looking ----------------------------------------------------------------------- */

/* host: this machine's name (this_host), asked once per walk. */
static void view_of(struct oj_daemon *d, const char *name, const struct oj_lock *l,
                    int64_t now, const char *host, struct oj_lock_view *v)
{
    v->held = true;
    v->lock = *l;
    v->heartbeat_ms = oj_lock_last_heartbeat(l, oj_hmap_get(&d->lock_heartbeats, name),
                                             d->started_at_ms);
    v->stale = oj_lock_is_stale(l, v->heartbeat_ms, now, holder_alive(l, host));
    v->pid_checked = oj_lock_pid_to_check(l, host) != 0;
}

/* The record of lock `name`; false when it is free (or its record is malformed). */
static bool load(struct oj_daemon *d, const char *name, struct oj_lock *l)
{
    const cJSON *rec = oj_state_get(oj_store_state(d->store), "lock", name);
    return rec && oj_lock_from_json(rec, l) == 0;
}

bool oj_lock_look(struct oj_daemon *d, const char *name, int64_t now_ms, struct oj_lock_view *v)
{
    memset(v, 0, sizeof *v);
    struct oj_lock l;
    if (load(d, name, &l)) {
        char host[128];
        this_host(host);
        view_of(d, name, &l, now_ms, host, v);
    }
    return v->held;
}

struct all_ctx {
    struct oj_daemon *d;
    int64_t now;
    char host[128];
    struct oj_lock_entry *e;
    size_t n;
};

static void collect(const char *id, const cJSON *value, void *arg)
{
    struct all_ctx *c = arg;
    struct oj_lock l;
    if (oj_lock_from_json(value, &l) != 0)
        return;
    c->e[c->n].name = id;
    view_of(c->d, id, &l, c->now, c->host, &c->e[c->n].v);
    c->n++;
}

struct each_ctx {
    struct oj_daemon *d;
    int64_t now;
    char host[128];
    void (*fn)(const char *name, const struct oj_lock_view *v, void *arg);
    void *arg;
};

static void each_one(const char *id, const cJSON *value, void *arg)
{
    struct each_ctx *c = arg;
    struct oj_lock l;
    if (oj_lock_from_json(value, &l) != 0)
        return;
    struct oj_lock_view v;
    view_of(c->d, id, &l, c->now, c->host, &v);
    c->fn(id, &v, c->arg);
}

void oj_locks_each(struct oj_daemon *d, int64_t now_ms,
                   void (*fn)(const char *name, const struct oj_lock_view *v, void *arg),
                   void *arg)
{
    struct each_ctx c = {.d = d, .now = now_ms, .fn = fn, .arg = arg};
    this_host(c.host);
    oj_state_each(oj_store_state(d->store), "lock", each_one, &c);
}

int oj_locks_all(struct oj_daemon *d, int64_t now_ms, struct oj_lock_entry **out, size_t *n)
{
    const struct oj_state *st = oj_store_state(d->store);
    struct all_ctx c = {.d = d, .now = now_ms};
    this_host(c.host);
    c.e = calloc(oj_state_count(st, "lock") + 1, sizeof *c.e);
    if (c.e == NULL)
        return -1;
    oj_state_each(st, "lock", collect, &c);
    *out = c.e;
    *n = c.n;
    return 0;
}

/* ---- taking and releasing ------------------------------------------------------------- */

int oj_lock_acquire(struct oj_daemon *d, const char *name, const struct oj_lock *want,
                    int64_t now_ms, enum oj_acquire_verdict *verdict, struct oj_lock_view *was,
                    char *err, size_t errlen)
{
    oj_lock_look(d, name, now_ms, was);
    *verdict = oj_lock_acquire_verdict(was->held ? &was->lock : NULL, was->stale, want->holder);
    if (*verdict == OJ_ACQUIRE_BUSY)
        return 0;
    struct oj_lock next;
    if (oj_lock_acquired(was->held ? &was->lock : NULL, *verdict, want, now_ms, &next) &&
        oj_store_commit(d->store, oj_op_put("lock", name, oj_lock_to_json(&next)), err,
                        errlen) == 0)
        return -1;
    if (*verdict == OJ_ACQUIRE_TAKE_OVER)
        LOG_INFO("lock: %s taken over by %s from stale holder %s", name, next.holder,
                 was->lock.holder);
    oj_lock_set_heartbeat(d, name, now_ms);
    return 0;
}

int oj_lock_release(struct oj_daemon *d, const char *name, const char *holder, bool force,
                    enum oj_release_verdict *verdict, struct oj_lock *was, char *err,
                    size_t errlen)
{
    bool held = load(d, name, was);
    if (!held)
        memset(was, 0, sizeof *was);
    *verdict = oj_lock_release_verdict(held ? was : NULL, holder, force);
    if (*verdict != OJ_RELEASE_OK)
        return 0;
    if (oj_store_commit(d->store, oj_op_del("lock", name), err, errlen) == 0)
        return -1;
    clear_heartbeat(d, name);
    return 0;
}

int oj_lock_take(struct oj_daemon *d, const char *name, const char *holder, char *who,
                 size_t wholen, char *err, size_t errlen)
{
    char host[128];
    this_host(host);
    struct oj_lock want = oj_lock_pipeline_terms(holder, host);
    enum oj_acquire_verdict v;
    struct oj_lock_view was;
    if (oj_lock_acquire(d, name, &want, oj_wall_ms(), &v, &was, err, errlen) != 0)
        return -1;
    if (v == OJ_ACQUIRE_BUSY) {
        snprintf(who, wholen, "%s", was.lock.holder);
        return 0;
    }
    return 1;
}

void oj_lock_drop(struct oj_daemon *d, const char *name, const char *holder)
{
    enum oj_release_verdict v;
    struct oj_lock was;
    char err[512];
    if (oj_lock_release(d, name, holder, false, &v, &was, err, sizeof err) != 0)
        LOG_ERROR("lock: cannot release %s for %s: %s", name, holder, err);
    /* not released otherwise: not ours (any more), an operator may have forced it away */
}
