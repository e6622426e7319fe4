/* rpc_maintenance.c — MaintenanceSnapshot, MaintenanceCompact,
 * MaintenanceRestoreSnapshot, MaintenanceArchive, MaintenanceSnapshots: the storage commands of the
 * operator's runbook. Each is atomic with respect to every other request: the
 * slow part of a snapshot, a compaction and a restore (writing files) runs on
 * a thread of its own while the engine holds writes (daemon.h), so read-only
 * requests are answered meanwhile and changes wait, in order, for its end; an
 * archive holds nothing: its file is written on a thread of its own and only
 * the records still as written leave the live state (archive.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "daemon.h"
#include "engine_work.h"
#include "lock_engine.h"
#include "log.h"
#include "rpc_maintenance.h"
#include "rpc.h"
#include "rpc_table.h"
#include "server.h"
#include "snapshot_pick.h"
#include "store.h"
#include "store_jobs.h"

/* A snapshot and a compaction are written off the engine thread while the
 * engine holds writes (store_jobs.h); the reply goes out when they are live. */
struct maint_reply {
    Oj__SnapshotResponse_Closure snapshot_done;
    Oj__CompactResponse_Closure compact_done;
    void *call;
};

static void snapshot_done(struct oj_daemon *d, int rc, const struct oj_compact_result *r,
                          const char *err, void *arg)
{
    (void)d;
    struct maint_reply *m = arg;
    if (rc != 0) {
        oj_call_fail(m->call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        m->snapshot_done(NULL, m->call);
    } else {
        LOG_INFO("maintenance: snapshot %s (%llu bytes)", r->snapshot.id,
                 (unsigned long long)r->snapshot.bytes);
        Oj__SnapshotResponse out = OJ__SNAPSHOT_RESPONSE__INIT;
        out.snapshot_id = (char *)r->snapshot.id;
        out.sequence = r->snapshot.seq;
        out.bytes = r->snapshot.bytes;
        m->snapshot_done(&out, m->call);
    }
    free(m);
}

static void rpc_snapshot(Oj__Control_Service *svc, const Oj__SnapshotRequest *in,
                         Oj__SnapshotResponse_Closure done, void *call)
{
    (void)in;
    struct maint_reply *m = calloc(1, sizeof *m);
    if (m == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    m->snapshot_done = done;
    m->call = call;
    oj_maintain(oj_daemon_of(svc), OJ_MAINT_SNAPSHOT, snapshot_done, m);
}

static void compact_done(struct oj_daemon *d, int rc, const struct oj_compact_result *r,
                         const char *err, void *arg)
{
    (void)d;
    struct maint_reply *m = arg;
    if (rc != 0) {
        oj_call_fail(m->call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        m->compact_done(NULL, m->call);
    } else {
        LOG_INFO("maintenance: compacted the WAL %llu -> %llu bytes (snapshot %s)",
                 (unsigned long long)r->wal_bytes_before, (unsigned long long)r->wal_bytes_after,
                 r->snapshot.id);
        Oj__CompactResponse out = OJ__COMPACT_RESPONSE__INIT;
        out.snapshot_id = (char *)r->snapshot.id;
        out.wal_bytes_before = r->wal_bytes_before;
        out.wal_bytes_after = r->wal_bytes_after;
        out.snapshots_removed = r->snapshots_removed;
        m->compact_done(&out, m->call);
    }
    free(m);
}

static void rpc_compact(Oj__Control_Service *svc, const Oj__CompactRequest *in,
                        Oj__CompactResponse_Closure done, void *call)
{
    (void)in;
    struct maint_reply *m = calloc(1, sizeof *m);
    if (m == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    m->compact_done = done;
    m->call = call;
    oj_maintain(oj_daemon_of(svc), OJ_MAINT_COMPACT, compact_done, m);
}

void oj_restore_reply(const struct oj_restore_result *r, bool dry_run,
                      Oj__RestoreSnapshotResponse *out)
{
    oj__restore_snapshot_response__init(out);
    out->snapshot_id = (char *)r->restored.id;
    out->wal_backup = (char *)r->wal_backup;
    out->sequence = dry_run ? 0 : r->written.seq;
    out->snapshot_sequence = r->snapshot_seq;
    out->dropped_from = r->dropped_from;
    out->dropped_to = r->dropped_to;
    out->dropped_count = r->dropped_count;
    out->entity_counts = (char *)r->counts;
}

/* ---- which snapshots there are ----------------------------------------------- */

int oj_snapshot_find(const char *state_dir, const char *query, char *id, size_t idlen,
                     char *why, size_t whylen)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/snapshots", state_dir);
    struct oj_snapshot_info *list;
    int n = oj_snapshot_list(dir, &list, why, whylen);
    if (n < 0)
        return -3;
    const char **ids = calloc(n > 0 ? (size_t)n : 1, sizeof *ids);
    int pick = OJ_SNAPSHOT_PICK_NONE;
    if (ids == NULL) {
        snprintf(why, whylen, "out of memory");
        free(list);
        return -3;
    }
    for (int i = 0; i < n; i++)
        ids[i] = list[i].id;
    pick = oj_snapshot_pick(ids, n, query, why, whylen);
    if (pick >= 0)
        snprintf(id, idlen, "%s", list[pick].id);
    free(ids);
    free(list);
    return pick >= 0 ? 0 : pick;
}

/* The reply and what its strings point into, freed together. */
struct listing {
    Oj__SnapshotListResponse reply; /* first: the pointer handed out */
    struct oj_snapshot_info *list;
    Oj__SnapshotInfo *infos;
    Oj__SnapshotInfo **ptrs;
};

int oj_snapshot_listing(const char *state_dir, Oj__SnapshotListResponse **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/snapshots", state_dir);
    struct listing *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = oj_snapshot_list(dir, &l->list, err, errlen);
    if (n < 0) {
        free(l);
        return -1;
    }
    l->infos = calloc(n > 0 ? (size_t)n : 1, sizeof *l->infos);
    l->ptrs = calloc(n > 0 ? (size_t)n : 1, sizeof *l->ptrs);
    oj__snapshot_list_response__init(&l->reply);
    if (l->infos == NULL || l->ptrs == NULL) {
        snprintf(err, errlen, "out of memory");
        oj_snapshot_listing_free(&l->reply);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        Oj__SnapshotInfo *info = &l->infos[i];
        oj__snapshot_info__init(info);
        info->id = l->list[i].id;
        info->sequence = l->list[i].seq;
        info->time_ms = l->list[i].time_ms;
        info->bytes = l->list[i].bytes;
        l->ptrs[i] = info;
    }
    l->reply.snapshots = l->ptrs;
    l->reply.n_snapshots = (size_t)n;
    *out = &l->reply;
    return 0;
}

void oj_snapshot_listing_free(Oj__SnapshotListResponse *out)
{
    struct listing *l = (struct listing *)(void *)out;
    if (l == NULL)
        return;
    free(l->list);
    free(l->infos);
    free(l->ptrs);
    free(l);
}

/* A read of one small directory (at most OJ_SNAPSHOT_KEEP files and the ones
 * being written): cheap enough for the engine thread. */
static void rpc_snapshots(Oj__Control_Service *svc, const Oj__SnapshotListRequest *in,
                          Oj__SnapshotListResponse_Closure done, void *call)
{
    (void)in;
    Oj__SnapshotListResponse *out;
    char err[512];
    if (oj_snapshot_listing(oj_daemon_of(svc)->paths.state_dir, &out, err, sizeof err) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    done(out, call);
    oj_snapshot_listing_free(out);
}

/* A restore loads and writes snapshots of the whole state: seconds for a big
 * one. It runs on a thread of its own; meanwhile the engine holds writes
 * (daemon.h): read-only requests are answered from the state as it was, and
 * every request or job that may change the state waits, in order, until the
 * restored state is in place, then runs on it. */
struct restore_call {
    struct oj_restore_job *job;
    bool dry_run;
    Oj__RestoreSnapshotResponse_Closure done;
    void *call;
};

static void restore_work(void *arg)
{
    struct restore_call *c = arg;
    oj_store_restore_work(c->job);
}

static void free_state(void *arg) { oj_store_free_replaced(arg); }

/* Frees a replaced state off the engine thread: a big one takes a while. */
static void free_later(struct oj_daemon *d, struct oj_state *st)
{
    if (st && oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_LOW_PRIORITY, free_state, NULL, st) == 0)
        oj_store_free_replaced(st);
}

/* Engine thread: the restored state goes live and writes run again. */
static void restore_then(struct oj_daemon *d, void *arg)
{
    struct restore_call *c = arg;
    if (d == NULL) { /* only a dry run lets the engine end first: it holds nothing */
        oj_store_restore_abandon(c->job);
        free(c);
        return;
    }
    struct oj_restore_result r;
    char err[512];
    struct oj_state *replaced;
    int rc = oj_store_restore_finish_keep(d->store, c->job, &r, &replaced, err, sizeof err);
    free_later(d, replaced);
    if (!c->dry_run) {
        oj_engine_release_writes(d);
        if (rc == 0)
            oj_lock_forget(d); /* liveness belongs to the state that was replaced */
    }
    if (rc != 0) {
        oj_call_fail(c->call, rc == -2 ? OJ__STATUS_CODE__NOT_FOUND : OJ__STATUS_CODE__INTERNAL,
                     "%s", err);
        c->done(NULL, c->call);
    } else {
        Oj__RestoreSnapshotResponse out;
        oj_restore_reply(&r, c->dry_run, &out);
        c->done(&out, c->call);
    }
    free(c);
}

static void rpc_restore(Oj__Control_Service *svc, const Oj__RestoreSnapshotRequest *in,
                        Oj__RestoreSnapshotResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[OJ_SNAPSHOT_ID_MAX], why[600];
    if (!in->latest) {
        int rc = oj_snapshot_find(d->paths.state_dir, in->id, id, sizeof id, why, sizeof why);
        if (rc != 0)
            OJ_FAIL_RETURN(call, done,
                           rc == OJ_SNAPSHOT_PICK_NONE        ? OJ__STATUS_CODE__NOT_FOUND
                           : rc == OJ_SNAPSHOT_PICK_AMBIGUOUS ? OJ__STATUS_CODE__INVALID_ARGUMENT
                                                              : OJ__STATUS_CODE__INTERNAL,
                           "%s", why);
    }
    struct restore_call *c = calloc(1, sizeof *c);
    if (c == NULL ||
        (c->job = oj_store_restore_begin(d->store, in->latest ? NULL : id, in->dry_run)) ==
            NULL) {
        free(c);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    c->dry_run = in->dry_run;
    c->done = done;
    c->call = call;
    if (!in->dry_run)
        oj_engine_hold_writes(d);
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD | OJ_WORK_LOW_PRIORITY,
                       restore_work, restore_then, c) == 0) {
        LOG_WARN("maintenance: no thread for the restore; restoring on the engine thread");
        restore_work(c);
        restore_then(d, c);
    }
}

/* ---- archive ---------------------------------------------------------------- */

struct archive_call {
    Oj__ArchiveResponse_Closure done;
    void *call;
};

static void archive_done(struct oj_daemon *d, int rc, const struct oj_archive_result *r,
                         const char *err, void *arg)
{
    struct archive_call *c = arg;
    if (d == NULL) { /* the engine ended first: the call is the server's to abandon */
        free(c);
        return;
    }
    if (rc != 0) {
        oj_call_fail(c->call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        c->done(NULL, c->call);
    } else {
        Oj__ArchiveResponse out = OJ__ARCHIVE_RESPONSE__INIT;
        out.archived = r->pipelines;
        out.sessions_archived = r->sessions;
        out.archive_path = (char *)r->path;
        c->done(&out, c->call);
    }
    free(c);
}

static void rpc_archive(Oj__Control_Service *svc, const Oj__ArchiveRequest *in,
                        Oj__ArchiveResponse_Closure done, void *call)
{
    if (in->older_than_ms < 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "older_than_ms must not be negative; 0 archives everything finished");
    struct archive_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    c->done = done;
    c->call = call;
    oj_archive_start(oj_daemon_of(svc), OJ_ARCHIVE_ASKED, in->older_than_ms, archive_done, c);
}

void oj_rpc_register_maintenance(Oj__Control_Service *svc)
{
    svc->maintenance_snapshot = rpc_snapshot;
    svc->maintenance_compact = rpc_compact;
    svc->maintenance_restore_snapshot = rpc_restore;
    svc->maintenance_archive = rpc_archive;
    svc->maintenance_snapshots = rpc_snapshots;
}
