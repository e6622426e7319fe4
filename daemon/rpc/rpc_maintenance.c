/* rpc_maintenance.c — MaintenanceSnapshot, MaintenanceCompact,
 * MaintenanceRestoreSnapshot, MaintenanceArchive: the storage commands of the
 * operator's runbook. Each is atomic with respect to every other request: its
 * slow part (writing a snapshot, a restore's files, an archive) runs on a
 * thread of its own while the engine holds writes (daemon.h), so read-only
 * requests are answered meanwhile and changes wait, in order, for its end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "engine_work.h"
#include "fsutil.h"
#include "lock_engine.h"
#include "log.h"
#include "pipeline.h"
#include "rpc_maintenance.h"
#include "rpc.h"
#include "rpc_table.h"
#include "server.h"
#include "sessions_engine.h"
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

static void free_state(void *arg) { oj_state_free(arg); }

/* Frees a replaced state off the engine thread: a big one takes a while. */
static void free_later(struct oj_daemon *d, struct oj_state *st)
{
    if (st && oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_LOW_PRIORITY, free_state, NULL, st) == 0)
        oj_state_free(st);
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
    struct restore_call *c = calloc(1, sizeof *c);
    if (c == NULL ||
        (c->job = oj_store_restore_begin(d->store, in->latest ? NULL : in->id, in->dry_run)) ==
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

struct pick {
    int64_t cutoff;
    cJSON *chosen;            /* {"<id>": value}: pipelines */
    cJSON *sessions;          /* {"<id>": value}: ended sessions */
    struct oj_hmap referenced; /* session ids a pipeline that stays names */
};

static void pick_old(const char *id, const cJSON *value, void *arg)
{
    struct pick *p = arg;
    struct oj_pipeline pl;
    oj_pipeline_from_json(value, &pl);
    if (oj_pipeline_archivable(&pl, p->cutoff)) /* as it is stored, to the byte */
        cJSON_AddItemToObject(p->chosen, id, cJSON_Duplicate(value, 1));
    oj_pipeline_free(&pl);
}

/* A pipeline that stays in the live state keeps the sessions it names (its
 * agent, the one it is about to end, the one whose `oj done` it recorded). */
static void note_references(const char *id, const cJSON *value, void *arg)
{
    struct pick *p = arg;
    if (cJSON_GetObjectItemCaseSensitive(p->chosen, id))
        return; /* archived with it */
    struct oj_pipeline pl;
    oj_pipeline_from_json(value, &pl);
    const char *sids[] = {pl.session_id, pl.release_session, pl.done_session};
    for (size_t i = 0; i < 3; i++) {
        bool oom;
        if (sids[i][0])
            oj_hmap_put(&p->referenced, sids[i], (void *)1, &oom);
    }
    oj_pipeline_free(&pl);
}

static void pick_sessions(const char *id, const cJSON *value, void *arg)
{
    struct pick *p = arg;
    struct oj_session s;
    oj_session_from_json(value, &s);
    if (oj_session_archivable(&s, p->cutoff, oj_hmap_get(&p->referenced, id) != NULL))
        cJSON_AddItemToObject(p->sessions, id, cJSON_Duplicate(value, 1));
    oj_session_clear(&s);
}

/* Writes `doc` as readable JSON to dir/name atomically. */
static int write_archive(const char *dir, const char *name, const cJSON *doc, char *path,
                         size_t pathlen, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %.400s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, pathlen, "%s/%s", dir, name);
    char *text = cJSON_Print(doc);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct iovec iov[] = {{text, strlen(text)}, {(void *)"\n", 1}};
    int rc = oj_write_atomic(path, iov, 2, err, errlen);
    cJSON_free(text);
    return rc;
}

/* An archive picks among every pipeline and session and writes them as
 * readable JSON: long for a big state. The engine holds writes while a thread
 * of its own picks and writes the file (reads of the state are safe then:
 * nothing changes it); the journal of the removal is the engine's, after. */
struct archive_job {
    const struct oj_state *state; /* read only while writes are held */
    int64_t now, older_than_ms;
    char state_dir[4096];
    struct pick p;
    int n, ns, rc;
    char path[4500], err[600];
    Oj__ArchiveResponse_Closure done;
    void *call;
};

static void archive_work(void *arg)
{
    struct archive_job *j = arg;
    struct pick *p = &j->p;
    oj_hmap_init(&p->referenced);
    oj_state_each(j->state, "pipeline", pick_old, p);
    oj_state_each(j->state, "pipeline", note_references, p);
    oj_state_each(j->state, "session", pick_sessions, p);
    oj_hmap_free(&p->referenced);
    j->n = cJSON_GetArraySize(p->chosen);
    j->ns = cJSON_GetArraySize(p->sessions);
    if (j->n + j->ns == 0)
        return;
    /* The file first, then the journal: a crash in between leaves the
     * pipelines and sessions live and a spare copy in the archive, never
     * neither. */
    char dir[4200], name[64], stamp[32];
    time_t secs = (time_t)(j->now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof dir, "%s/archive", j->state_dir);
    snprintf(name, sizeof name, "archive-%s-%llu.json", stamp,
             (unsigned long long)oj_state_seq(j->state) + 1);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "archived_at_ms", (double)j->now);
    cJSON_AddNumberToObject(doc, "older_than_ms", (double)j->older_than_ms);
    cJSON_AddItemReferenceToObject(doc, "pipelines", p->chosen);
    cJSON_AddItemReferenceToObject(doc, "sessions", p->sessions);
    j->rc = write_archive(dir, name, doc, j->path, sizeof j->path, j->err, sizeof j->err);
    cJSON_Delete(doc);
}

/* Engine thread: journals the removal of what the file now holds. */
static void archive_then(struct oj_daemon *d, void *arg)
{
    struct archive_job *j = arg;
    struct pick *p = &j->p;
    if (d == NULL) { /* the engine never ends while writes are held: a daemon bug */
        cJSON_Delete(p->chosen);
        cJSON_Delete(p->sessions);
        free(j);
        return;
    }
    oj_engine_release_writes(d);
    int rc = j->rc;
    char *err = j->err;
    if (rc == 0 && j->n + j->ns > 0) {
        cJSON *ops = cJSON_CreateArray();
        for (const cJSON *e = p->chosen->child; e; e = e->next)
            cJSON_AddItemToArray(ops, oj_op_del("pipeline", e->string));
        for (const cJSON *e = p->sessions->child; e; e = e->next)
            cJSON_AddItemToArray(ops, oj_op_del("session", e->string));
        char mark[4600];
        snprintf(mark, sizeof mark, "archived %d pipeline(s) and %d session(s) to %s", j->n,
                 j->ns, j->path);
        cJSON_AddItemToArray(ops, oj_op_mark(mark));
        if (oj_store_commit(d->store, oj_op_batch(ops), err, sizeof j->err) == 0) {
            rc = -1;
        } else {
            for (const cJSON *e = p->sessions->child; e; e = e->next)
                oj_session_forget(d, e->string);
            LOG_INFO("maintenance: %s", mark);
        }
    }
    cJSON_Delete(p->chosen);
    cJSON_Delete(p->sessions);
    if (rc != 0) {
        oj_call_fail(j->call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        j->done(NULL, j->call);
    } else {
        Oj__ArchiveResponse out = OJ__ARCHIVE_RESPONSE__INIT;
        out.archived = (uint32_t)j->n;
        out.sessions_archived = (uint32_t)j->ns;
        out.archive_path = j->path; /* "" when nothing was archived */
        j->done(&out, j->call);
    }
    free(j);
}

static void rpc_archive(Oj__Control_Service *svc, const Oj__ArchiveRequest *in,
                        Oj__ArchiveResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct archive_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    j->state = oj_store_state(d->store);
    j->now = oj_wall_ms();
    j->older_than_ms = in->older_than_ms;
    snprintf(j->state_dir, sizeof j->state_dir, "%s", d->paths.state_dir);
    j->p = (struct pick){.cutoff = j->now - in->older_than_ms, .chosen = cJSON_CreateObject(),
                         .sessions = cJSON_CreateObject()};
    j->done = done;
    j->call = call;
    oj_engine_hold_writes(d);
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD | OJ_WORK_LOW_PRIORITY,
                       archive_work, archive_then, j) == 0) {
        LOG_WARN("maintenance: no thread for the archive; writing it on the engine thread");
        archive_work(j);
        archive_then(d, j);
    }
}

void oj_rpc_register_maintenance(Oj__Control_Service *svc)
{
    svc->maintenance_snapshot = rpc_snapshot;
    svc->maintenance_compact = rpc_compact;
    svc->maintenance_restore_snapshot = rpc_restore;
    svc->maintenance_archive = rpc_archive;
}
