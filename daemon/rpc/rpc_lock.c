/* rpc_lock.c — LockList, LockStatus, LockAcquire, LockRelease: check the
 * request, take or release the lock through lock_engine.c (which asks the
 * rules in locks.c), and say what happened. A release tells the pipeline
 * engine the lock is free, so the pipeline waiting longest takes it at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "rpc.h"
#include "rpc_table.h"
#include "daemon.h"
#include "lock_engine.h"
#include "log.h"
#include "server.h"
#include "pipelines.h"

/* Fills info for lock `name` as seen (held or not). Strings point into v. */
static void describe(const char *name, const struct oj_lock_view *v, Oj__LockInfo *info)
{
    info->name = (char *)name;
    if (!v->held)
        return;
    info->held = true;
    info->holder = (char *)v->lock.holder;
    info->host = (char *)v->lock.host;
    info->holder_pid = v->lock.holder_pid;
    info->since_ms = v->lock.since_ms;
    info->timeout_ms = v->lock.timeout_ms;
    info->heartbeat_ms = v->heartbeat_ms;
    info->stale = v->stale;
}

/* Why `name` names no lock to look at or release: a held lock is found by
 * its exact name (oj_lock_ref_problem); a free one must have a valid name. */
static const char *existing_problem(struct oj_daemon *d, const char *name, int64_t now,
                                    struct oj_lock_view *v)
{
    bool held = oj_lock_ref_problem(name) == NULL && oj_lock_look(d, name, now, v);
    if (!held)
        memset(v, 0, sizeof *v);
    return held ? NULL : oj_lock_name_problem(name);
}

static void rpc_lock_status(Oj__Control_Service *svc, const Oj__LockRef *in,
                            Oj__LockInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock_view v;
    const char *bad = existing_problem(d, in->name, oj_wall_ms(), &v);
    if (bad)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, "%s", bad);
    Oj__LockInfo info = OJ__LOCK_INFO__INIT;
    describe(in->name, &v, &info);
    done(&info, call);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(Oj__LockInfo *const *)a)->name, (*(Oj__LockInfo *const *)b)->name);
}

static void rpc_lock_list(Oj__Control_Service *svc, const Oj__LockListRequest *in,
                          Oj__LockListResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock_entry *locks = NULL;
    size_t total = 0, n = 0;
    Oj__LockInfo *infos = NULL;
    Oj__LockInfo **ptrs = NULL;
    if (oj_locks_all(d, oj_wall_ms(), &locks, &total) == 0) {
        infos = calloc(total + 1, sizeof *infos);
        ptrs = calloc(total + 1, sizeof *ptrs);
    }
    if (infos && ptrs) {
        for (size_t i = 0; i < total; i++) {
            if (in->stale_only && !locks[i].v.stale)
                continue;
            oj__lock_info__init(&infos[n]);
            describe(locks[i].name, &locks[i].v, &infos[n]);
            ptrs[n] = &infos[n];
            n++;
        }
        if (n > 1)
            qsort(ptrs, n, sizeof *ptrs, by_name);
        Oj__LockListResponse out = OJ__LOCK_LIST_RESPONSE__INIT;
        out.n_locks = n;
        out.locks = ptrs;
        done(&out, call);
    } else {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    free(locks);
    free(infos);
    free(ptrs);
}

static void rpc_lock_acquire(Oj__Control_Service *svc, const Oj__LockAcquireRequest *in,
                             Oj__LockInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock want = {.holder_pid = in->holder_pid, .timeout_ms = in->timeout_ms};
    snprintf(want.holder, sizeof want.holder, "%s", in->holder);
    snprintf(want.host, sizeof want.host, "%s", in->host);
    int64_t now = oj_wall_ms();
    enum oj_acquire_verdict v;
    struct oj_lock_view was;
    char err[512];
    if (oj_lock_acquire(d, in->name, &want, now, &v, &was, err, sizeof err) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    if (v == OJ_ACQUIRE_BUSY) {
        char ago[32], msg[512];
        snprintf(ago, sizeof ago, "%llds", (long long)((now - was.heartbeat_ms) / 1000));
        snprintf(msg, sizeof msg,
                 "lock %s is held by %s (last heartbeat %s ago); wait for it, or release it with "
                 "`oj lock release %s --force`",
                 in->name, was.lock.holder, ago, in->name);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT, "%s", msg);
    }
    char note[320];
    if (v == OJ_ACQUIRE_TAKE_OVER)
        snprintf(note, sizeof note, "took over from %s (stale)", was.lock.holder);
    else
        snprintf(note, sizeof note, "%s", v == OJ_ACQUIRE_RENEWED ? "renewed" : "acquired");
    struct oj_lock_view now_held;
    oj_lock_look(d, in->name, now, &now_held);
    Oj__LockInfo out = OJ__LOCK_INFO__INIT;
    describe(in->name, &now_held, &out);
    out.note = note;
    done(&out, call);
}

static void rpc_lock_release(Oj__Control_Service *svc, const Oj__LockReleaseRequest *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_lock_view seen;
    const char *bad = existing_problem(d, in->name, oj_wall_ms(), &seen);
    if (bad)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, "%s", bad);
    enum oj_release_verdict v;
    struct oj_lock was;
    char msg[600], err[512];
    if (oj_lock_release(d, in->name, in->holder, in->force, &v, &was, err, sizeof err) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    switch (v) {
    case OJ_RELEASE_NOT_HELD:
        /* --force asks for "free afterwards", which it is: a script or runbook
         * that frees a lock to be sure must not fail because it already was. */
        if (in->force) {
            snprintf(msg, sizeof msg, "lock %s was already free; nothing to release", in->name);
            oj_reply_action(call, done, in->name, msg);
            return;
        }
        snprintf(msg, sizeof msg, "lock %s is not held; nothing to release", in->name);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__NOT_FOUND, "%s", msg);
    case OJ_RELEASE_NOT_HOLDER:
        snprintf(msg, sizeof msg,
                 "lock %s is held by %s, not by %s; only its holder may release it (or use "
                 "--force)",
                 in->name, was.holder, in->holder);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT, "%s", msg);
    case OJ_RELEASE_OK:
        break;
    }
    oj_pipelines_lock_freed(d, in->name); /* the longest waiter takes it next */
    bool forced = strcmp(was.holder, in->holder) != 0;
    snprintf(msg, sizeof msg, "%s %s (held by %s)", forced ? "force-released" : "released",
             in->name, was.holder);
    if (forced)
        LOG_INFO("lock: %s", msg);
    oj_reply_action(call, done, in->name, msg);
}

void oj_rpc_register_lock(Oj__Control_Service *svc)
{
    svc->lock_list = rpc_lock_list;
    svc->lock_status = rpc_lock_status;
    svc->lock_acquire = rpc_lock_acquire;
    svc->lock_release = rpc_lock_release;
}
