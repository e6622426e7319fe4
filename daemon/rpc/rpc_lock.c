/* rpc_lock.c — LockList, LockStatus, LockAcquire, LockRelease. The rules are
 * in locks.c; this file gathers the facts (clock, heartbeats, whether the
 * holder's process lives) and journals the outcome. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "locks.h"
#include "log.h"
#include "server.h"
#include "store.h"

int64_t oj_lock_heartbeat(struct oj_daemon *d, const char *name, int64_t fallback_ms)
{
    int64_t *hb = oj_hmap_get(&d->lock_heartbeats, name);
    return hb ? *hb : fallback_ms;
}

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
    oj_hmap_free(&d->lock_heartbeats);
}

static bool holder_alive(const struct oj_lock *l)
{
    if (l->holder_pid <= 0)
        return true;
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    if (l->host[0] && strcmp(l->host, host) != 0)
        return true; /* another machine's process: we cannot tell */
    return kill(l->holder_pid, 0) == 0 || errno == EPERM;
}

/* Fills info for lock `name` (held or not). Strings point into `l`. */
static void describe(struct oj_daemon *d, const char *name, const struct oj_lock *l,
                     Oj__LockInfo *info, int64_t now)
{
    info->name = (char *)name;
    if (l == NULL)
        return;
    /* Heartbeats are not journaled: after a restart a held lock counts from
     * the daemon's start, a fair grace period for its holder to show up. */
    int64_t hb = oj_lock_heartbeat(d, name, d->started_at_ms > l->since_ms ? d->started_at_ms
                                                                             : l->since_ms);
    info->held = true;
    info->holder = (char *)l->holder;
    info->host = (char *)l->host;
    info->holder_pid = l->holder_pid;
    info->since_ms = l->since_ms;
    info->timeout_ms = l->timeout_ms;
    info->heartbeat_ms = hb;
    info->stale = oj_lock_is_stale(l, hb, now, holder_alive(l));
}

static bool load(struct oj_daemon *d, const char *name, struct oj_lock *l)
{
    const cJSON *v = oj_state_get(oj_store_state(d->store), "lock", name);
    return v && oj_lock_from_json(v, l) == 0;
}

static void fail(void *call, int status, const char *msg)
{
    oj_call_fail(call, status, "%s", msg);
}

static void rpc_lock_status(Oj__Control_Service *svc, const Oj__LockRef *in,
                            Oj__LockInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock l;
    bool held = oj_lock_ref_problem(in->name) == NULL && load(d, in->name, &l);
    const char *bad = held ? NULL : oj_lock_name_problem(in->name);
    if (bad) {
        fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT, bad);
        done(NULL, call);
        return;
    }
    Oj__LockInfo info = OJ__LOCK_INFO__INIT;
    describe(d, in->name, held ? &l : NULL, &info, oj_wall_ms());
    done(&info, call);
}

struct list_ctx {
    struct oj_daemon *d;
    bool stale_only;
    int64_t now;
    size_t n;
    struct oj_lock *locks;
    Oj__LockInfo *infos;
    Oj__LockInfo **ptrs;
    char (*names)[OJ_LOCK_NAME_MAX + 1];
};

static void collect(const char *id, const cJSON *value, void *arg)
{
    struct list_ctx *c = arg;
    struct oj_lock *l = &c->locks[c->n];
    if (oj_lock_from_json(value, l) != 0)
        return;
    snprintf(c->names[c->n], sizeof c->names[0], "%s", id);
    Oj__LockInfo *info = &c->infos[c->n];
    oj__lock_info__init(info);
    describe(c->d, c->names[c->n], l, info, c->now);
    if (c->stale_only && !info->stale)
        return;
    c->ptrs[c->n] = info;
    c->n++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(Oj__LockInfo *const *)a)->name, (*(Oj__LockInfo *const *)b)->name);
}

static void rpc_lock_list(Oj__Control_Service *svc, const Oj__LockListRequest *in,
                          Oj__LockListResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    size_t total = oj_state_count(oj_store_state(d->store), "lock");
    struct list_ctx c = {.d = d, .stale_only = in->stale_only, .now = oj_wall_ms()};
    c.locks = calloc(total + 1, sizeof *c.locks);
    c.infos = calloc(total + 1, sizeof *c.infos);
    c.ptrs = calloc(total + 1, sizeof *c.ptrs);
    c.names = calloc(total + 1, sizeof *c.names);
    Oj__LockListResponse out = OJ__LOCK_LIST_RESPONSE__INIT;
    if (c.locks && c.infos && c.ptrs && c.names) {
        oj_state_each(oj_store_state(d->store), "lock", collect, &c);
        if (c.n > 1)
            qsort(c.ptrs, c.n, sizeof *c.ptrs, by_name);
        out.n_locks = c.n;
        out.locks = c.ptrs;
        done(&out, call);
    } else {
        fail(call, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        done(NULL, call);
    }
    free(c.locks);
    free(c.infos);
    free(c.ptrs);
    free(c.names);
}

static void rpc_lock_acquire(Oj__Control_Service *svc, const Oj__LockAcquireRequest *in,
                             Oj__LockInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    int64_t now = oj_wall_ms();
    struct oj_lock cur;
    bool held = load(d, in->name, &cur);
    Oj__LockInfo info = OJ__LOCK_INFO__INIT;
    if (held)
        describe(d, in->name, &cur, &info, now);
    enum oj_acquire_verdict v = oj_lock_acquire_verdict(held ? &cur : NULL, info.stale, in->holder);
    if (v == OJ_ACQUIRE_BUSY) {
        char ago[32], msg[512];
        snprintf(ago, sizeof ago, "%llds", (long long)((now - info.heartbeat_ms) / 1000));
        snprintf(msg, sizeof msg,
                 "lock %s is held by %s (last heartbeat %s ago); wait for it, or release it with "
                 "`oj lock release %s --force`",
                 in->name, cur.holder, ago, in->name);
        fail(call, OJ__STATUS_CODE__CONFLICT, msg);
        done(NULL, call);
        return;
    }

    struct oj_lock next = {0};
    snprintf(next.holder, sizeof next.holder, "%s", in->holder);
    snprintf(next.host, sizeof next.host, "%s", in->host);
    next.holder_pid = in->holder_pid;
    next.timeout_ms = in->timeout_ms;
    next.since_ms = v == OJ_ACQUIRE_RENEWED ? cur.since_ms : now;
    bool changed = v != OJ_ACQUIRE_RENEWED || cur.timeout_ms != next.timeout_ms ||
                   cur.holder_pid != next.holder_pid || strcmp(cur.host, next.host) != 0;
    char note[320];
    if (v == OJ_ACQUIRE_TAKE_OVER)
        snprintf(note, sizeof note, "took over from %s (stale)", cur.holder);
    else
        snprintf(note, sizeof note, "%s", v == OJ_ACQUIRE_RENEWED ? "renewed" : "acquired");
    if (changed) {
        char err[512];
        if (oj_store_commit(d->store, oj_op_put("lock", in->name, oj_lock_to_json(&next)), err,
                            sizeof err) == 0) {
            fail(call, OJ__STATUS_CODE__INTERNAL, err);
            done(NULL, call);
            return;
        }
    }
    if (v == OJ_ACQUIRE_TAKE_OVER)
        LOG_INFO("lock: %s taken over by %s from stale holder %s", in->name, next.holder,
                 cur.holder);
    oj_lock_set_heartbeat(d, in->name, now);
    Oj__LockInfo out = OJ__LOCK_INFO__INIT;
    describe(d, in->name, &next, &out, now);
    out.note = note;
    done(&out, call);
}

static void rpc_lock_release(Oj__Control_Service *svc, const Oj__LockReleaseRequest *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock cur;
    bool held = oj_lock_ref_problem(in->name) == NULL && load(d, in->name, &cur);
    const char *bad = held ? NULL : oj_lock_name_problem(in->name);
    if (bad) {
        fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT, bad);
        done(NULL, call);
        return;
    }
    char msg[600];
    switch (oj_lock_release_verdict(held ? &cur : NULL, in->holder, in->force)) {
    case OJ_RELEASE_NOT_HELD:
        snprintf(msg, sizeof msg, "lock %s is not held; nothing to release", in->name);
        fail(call, OJ__STATUS_CODE__NOT_FOUND, msg);
        done(NULL, call);
        return;
    case OJ_RELEASE_NOT_HOLDER:
        snprintf(msg, sizeof msg,
                 "lock %s is held by %s, not by %s; only its holder may release it (or use "
                 "--force)",
                 in->name, cur.holder, in->holder);
        fail(call, OJ__STATUS_CODE__CONFLICT, msg);
        done(NULL, call);
        return;
    case OJ_RELEASE_OK:
        break;
    }
    char err[512];
    if (oj_store_commit(d->store, oj_op_del("lock", in->name), err, sizeof err) == 0) {
        fail(call, OJ__STATUS_CODE__INTERNAL, err);
        done(NULL, call);
        return;
    }
    clear_heartbeat(d, in->name);
    oj_pipelines_lock_freed(d, in->name);
    bool forced = strcmp(cur.holder, in->holder) != 0;
    snprintf(msg, sizeof msg, "%s %s (held by %s)", forced ? "force-released" : "released",
             in->name, cur.holder);
    if (forced)
        LOG_INFO("lock: %s", msg);
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = in->name;
    out.message = msg;
    done(&out, call);
}

/* Pipelines hold locks through the daemon: no process of their own (pid 0,
 * so never "holder gone"), a heartbeat every tick, and this timeout so a lock
 * whose pipeline stopped heartbeating is stale. */
#define PIPELINE_LOCK_TIMEOUT_MS 60000

int oj_lock_take(struct oj_daemon *d, const char *name, const char *holder, char *who,
                 size_t wholen, char *err, size_t errlen)
{
    int64_t now = oj_wall_ms();
    struct oj_lock cur;
    bool held = load(d, name, &cur);
    Oj__LockInfo info = OJ__LOCK_INFO__INIT;
    if (held)
        describe(d, name, &cur, &info, now);
    enum oj_acquire_verdict v = oj_lock_acquire_verdict(held ? &cur : NULL, info.stale, holder);
    if (v == OJ_ACQUIRE_BUSY) {
        snprintf(who, wholen, "%s", cur.holder);
        return 0;
    }
    if (v != OJ_ACQUIRE_RENEWED) {
        struct oj_lock next = {0};
        snprintf(next.holder, sizeof next.holder, "%s", holder);
        gethostname(next.host, sizeof next.host - 1);
        next.timeout_ms = PIPELINE_LOCK_TIMEOUT_MS;
        next.since_ms = now;
        if (oj_store_commit(d->store, oj_op_put("lock", name, oj_lock_to_json(&next)), err,
                            errlen) == 0)
            return -1;
        if (v == OJ_ACQUIRE_TAKE_OVER)
            LOG_INFO("lock: %s taken over by %s from stale holder %s", name, holder, cur.holder);
    }
    oj_lock_set_heartbeat(d, name, now);
    return 1;
}

void oj_lock_drop(struct oj_daemon *d, const char *name, const char *holder)
{
    struct oj_lock cur;
    if (!load(d, name, &cur) || oj_lock_release_verdict(&cur, holder, false) != OJ_RELEASE_OK)
        return; /* not ours (any more): an operator may have forced it away */
    char err[512];
    if (oj_store_commit(d->store, oj_op_del("lock", name), err, sizeof err) == 0)
        LOG_ERROR("lock: cannot release %s for %s: %s", name, holder, err);
    else
        clear_heartbeat(d, name);
}

void oj_rpc_register_lock(Oj__Control_Service *svc)
{
    svc->lock_list = rpc_lock_list;
    svc->lock_status = rpc_lock_status;
    svc->lock_acquire = rpc_lock_acquire;
    svc->lock_release = rpc_lock_release;
}
