/* store_jobs.c — see store_jobs.h. */
#include "store_jobs.h"

#include <stdint.h>
#include <stdlib.h>

#include "engine_work.h"
#include "log.h"

struct maint_call {
    struct oj_maint_job *job;
    oj_maintain_done done;
    void *arg;
};

static void maint_work(void *arg)
{
    struct maint_call *c = arg;
    oj_store_maint_work(c->job);
}

/* Engine thread: the snapshot (and the compacted WAL) goes live, writes run
 * again. The engine never ends while writes are held, so d is never NULL
 * here but for a daemon bug. */
static void maint_then(struct oj_daemon *d, void *arg)
{
    struct maint_call *c = arg;
    if (d == NULL) {
        LOG_ERROR("store: the engine ended during a snapshot (daemon bug)");
        free(c);
        return;
    }
    struct oj_compact_result r;
    char err[512] = "";
    int rc = oj_store_maint_finish(d->store, c->job, &r, err, sizeof err);
    oj_engine_release_writes(d);
    c->done(d, rc, &r, err, c->arg);
    free(c);
}

void oj_maintain(struct oj_daemon *d, enum oj_maint_kind kind, oj_maintain_done done, void *arg)
{
    struct maint_call *c = calloc(1, sizeof *c);
    if (c == NULL || (c->job = oj_store_maint_begin(d->store, kind)) == NULL) {
        free(c);
        struct oj_compact_result r = {0};
        done(d, -1, &r, "daemon out of memory", arg);
        return;
    }
    c->done = done;
    c->arg = arg;
    oj_engine_hold_writes(d);
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD | OJ_WORK_LOW_PRIORITY,
                       maint_work, maint_then, c) == 0) {
        LOG_WARN("store: no thread for the snapshot; writing it on the engine thread");
        maint_work(c);
        maint_then(d, c);
    }
}

static void auto_done(struct oj_daemon *d, int rc, const struct oj_compact_result *r,
                      const char *err, void *arg)
{
    if (rc == 0)
        oj_store_maint_log(d->store, (enum oj_maint_kind)(uintptr_t)arg, r);
    else
        LOG_ERROR("store: automatic snapshot or compaction failed: %s", err);
}

/* A posted job: runs after the handler whose commit made it due, and after
 * whatever was queued before it. */
static void start_due(struct oj_daemon *d, void *arg)
{
    (void)arg;
    enum oj_maint_kind kind = oj_store_maint_take(d->store);
    if (kind != OJ_MAINT_NONE)
        oj_maintain(d, kind, auto_done, (void *)(uintptr_t)kind);
}

void oj_maintain_when_due(void *arg)
{
    struct oj_daemon *d = arg;
    if (oj_engine_post(d, start_due, NULL))
        return;
    /* The engine is gone (a change made by the stop, on the main thread, which
     * owns the state now) or out of memory: here, as it always was. */
    enum oj_maint_kind kind = oj_store_maint_take(d->store);
    if (kind == OJ_MAINT_NONE)
        return;
    struct oj_compact_result r = {0};
    char err[512];
    int rc = kind == OJ_MAINT_COMPACT
                 ? oj_store_compact(d->store, &r, err, sizeof err)
                 : oj_store_snapshot(d->store, &r.snapshot, err, sizeof err);
    auto_done(d, rc, &r, err, (void *)(uintptr_t)kind);
}
