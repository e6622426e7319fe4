/* archive.c — see archive.h. */
#include "archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "clock.h"
#include "engine_work.h"
#include "fsutil.h"
#include "hmap.h"
#include "log.h"
#include "pipeline.h"
#include "sessions.h"
#include "sessions_engine.h"
#include "state.h"
#include "store.h"

#define ARCHIVE_TICK_MS (60 * 1000)

/* One archive at a time: two at once could pick the same records and name
 * their files alike (archive-<time>-<seq>.json of the same state), the second
 * file replacing the first. Requests that come meanwhile wait here, in order. */
struct oj_archive_wait {
    enum oj_archive_by by;
    int64_t older_than_ms;
    oj_archive_done_fn done;
    void *arg;
    struct oj_archive_wait *next;
};

struct archive_job {
    enum oj_archive_by by;
    int64_t now, older_than_ms;
    cJSON *pipelines;          /* {"<id>": value}: as stored, to the byte */
    cJSON *sessions;           /* {"<id>": value}: ended sessions */
    struct oj_hmap referenced; /* session ids a pipeline that stays names */
    char dir[4200], name[64];
    oj_archive_done_fn done;
    void *arg;
    struct oj_daemon *owner; /* whose queue waits for this one (valid until the work's end) */
    /* the writing thread's result */
    int rc;
    struct oj_archive_result r;
    char err[600];
};

static void finished(struct oj_daemon *d, struct oj_daemon *owner);

static void pick_pipeline(const char *id, const cJSON *value, void *arg)
{
    struct archive_job *j = arg;
    struct oj_pipeline pl;
    oj_pipeline_from_json(value, &pl);
    int64_t cutoff = j->now - j->older_than_ms;
    if (j->by == OJ_ARCHIVE_RETENTION ? oj_pipeline_retention_archivable(&pl, cutoff)
                                      : oj_pipeline_archivable(&pl, cutoff))
        cJSON_AddItemToObject(j->pipelines, id, cJSON_Duplicate(value, 1));
    oj_pipeline_free(&pl);
}

/* A pipeline that stays in the live state keeps the sessions it names (its
 * agent, the one it is about to end, the one whose `oj done` it recorded). */
static void note_references(const char *id, const cJSON *value, void *arg)
{
    struct archive_job *j = arg;
    if (cJSON_GetObjectItemCaseSensitive(j->pipelines, id))
        return; /* archived with it */
    struct oj_pipeline pl;
    oj_pipeline_from_json(value, &pl);
    const char *sids[] = {pl.session_id, pl.release_session, pl.done_session};
    for (size_t i = 0; i < 3; i++) {
        bool oom;
        if (sids[i][0])
            oj_hmap_put(&j->referenced, sids[i], (void *)1, &oom);
    }
    oj_pipeline_free(&pl);
}

static void pick_session(const char *id, const cJSON *value, void *arg)
{
    struct archive_job *j = arg;
    struct oj_session s;
    oj_session_from_json(value, &s);
    if (oj_session_archivable(&s, j->now - j->older_than_ms,
                              oj_hmap_get(&j->referenced, id) != NULL))
        cJSON_AddItemToObject(j->sessions, id, cJSON_Duplicate(value, 1));
    oj_session_clear(&s);
}

static void job_free(struct archive_job *j)
{
    cJSON_Delete(j->pipelines);
    cJSON_Delete(j->sessions);
    oj_hmap_free(&j->referenced);
    free(j);
}

/* The writing thread: the file, fsync'd and renamed into place. */
static void write_work(void *arg)
{
    struct archive_job *j = arg;
    if (mkdir(j->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(j->err, sizeof j->err, "cannot create %.400s: %s", j->dir, strerror(errno));
        j->rc = -1;
        return;
    }
    snprintf(j->r.path, sizeof j->r.path, "%s/%s", j->dir, j->name);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "archived_at_ms", (double)j->now);
    cJSON_AddNumberToObject(doc, "older_than_ms", (double)j->older_than_ms);
    cJSON_AddItemReferenceToObject(doc, "pipelines", j->pipelines);
    cJSON_AddItemReferenceToObject(doc, "sessions", j->sessions);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text == NULL) {
        snprintf(j->err, sizeof j->err, "out of memory writing the archive");
        j->rc = -1;
        return;
    }
    struct iovec iov[] = {{text, strlen(text)}, {(void *)"\n", 1}};
    j->rc = oj_write_atomic(j->r.path, iov, 2, j->err, sizeof j->err);
    cJSON_free(text);
}

/* Adds a del for each record of `kind` in `picked` that is still exactly as
 * archived; counts them; the others leave `picked`, so that only what left
 * the live state is forgotten below. */
static unsigned still_as_archived(const struct oj_state *state, const char *kind, cJSON *picked,
                                  cJSON *ops)
{
    unsigned n = 0;
    cJSON *e = picked->child;
    while (e) {
        cJSON *next = e->next;
        const cJSON *now = oj_state_get(state, kind, e->string);
        if (now != NULL && cJSON_Compare(now, e, true)) {
            cJSON_AddItemToArray(ops, oj_op_del(kind, e->string));
            n++;
        } else {
            cJSON_Delete(cJSON_DetachItemViaPointer(picked, e));
        }
        e = next;
    }
    return n;
}

/* Engine thread: the file is on disk; the journal takes them out. */
static void report(struct oj_daemon *d, struct archive_job *j, int rc, const char *err)
{
    struct oj_daemon *owner = j->owner;
    j->done(d, rc, &j->r, err, j->arg);
    job_free(j);
    finished(d, owner);
}

static void write_then(struct oj_daemon *d, void *arg)
{
    struct archive_job *j = arg;
    if (d == NULL) {
        report(NULL, j, -1, "the daemon stopped");
        return;
    }
    if (j->rc != 0) {
        report(d, j, -1, j->err);
        return;
    }
    const struct oj_state *state = oj_store_state(d->store);
    cJSON *ops = cJSON_CreateArray();
    j->r.pipelines = still_as_archived(state, "pipeline", j->pipelines, ops);
    j->r.sessions = still_as_archived(state, "session", j->sessions, ops);
    char mark[4700];
    snprintf(mark, sizeof mark, "archived %u pipeline(s) and %u session(s) to %s",
             j->r.pipelines, j->r.sessions, j->r.path);
    cJSON_AddItemToArray(ops, oj_op_mark(mark));
    char err[600];
    if (oj_store_commit(d->store, oj_op_batch(ops), err, sizeof err) == 0) {
        report(d, j, -1, err);
        return;
    }
    for (const cJSON *e = j->sessions->child; e; e = e->next)
        oj_session_forget(d, e->string);
    LOG_INFO("maintenance: %s", mark);
    report(d, j, 0, "");
}

static void begin(struct oj_daemon *d, enum oj_archive_by by, int64_t older_than_ms,
                  oj_archive_done_fn done, void *arg);

/* Engine thread (d NULL: the engine ended, and the waiting ones are only told
 * so): the archive in flight is over; the next waiting one begins. */
static void finished(struct oj_daemon *d, struct oj_daemon *owner)
{
    owner->archive_busy = false; /* begin sets it again while a file is written */
    struct oj_archive_wait *w;
    while ((w = owner->archive_queue) != NULL) {
        owner->archive_queue = w->next;
        if (d == NULL) {
            struct oj_archive_result none = {0};
            w->done(NULL, -1, &none, "the daemon stopped", w->arg);
            free(w);
            continue;
        }
        begin(d, w->by, w->older_than_ms, w->done, w->arg);
        free(w);
        if (d->archive_busy)
            return; /* in flight: the rest wait for it */
    }
}

void oj_archive_start(struct oj_daemon *d, enum oj_archive_by by, int64_t older_than_ms,
                      oj_archive_done_fn done, void *arg)
{
    if (!d->archive_busy) {
        begin(d, by, older_than_ms, done, arg);
        return;
    }
    struct oj_archive_wait *w = calloc(1, sizeof *w), **tail = &d->archive_queue;
    if (w == NULL) {
        struct oj_archive_result none = {0};
        done(d, -1, &none, "daemon out of memory", arg);
        return;
    }
    *w = (struct oj_archive_wait){.by = by, .older_than_ms = older_than_ms, .done = done,
                                  .arg = arg};
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
}

/* Starts one archive; sets d->archive_busy while its file is being written. */
static void begin(struct oj_daemon *d, enum oj_archive_by by, int64_t older_than_ms,
                  oj_archive_done_fn done, void *arg)
{
    struct archive_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        struct oj_archive_result none = {0};
        done(d, -1, &none, "daemon out of memory", arg);
        return;
    }
    j->by = by;
    j->now = oj_wall_ms();
    j->older_than_ms = older_than_ms;
    j->pipelines = cJSON_CreateObject();
    j->sessions = cJSON_CreateObject();
    j->done = done;
    j->arg = arg;
    oj_hmap_init(&j->referenced);
    const struct oj_state *state = oj_store_state(d->store);
    oj_state_each(state, "pipeline", pick_pipeline, j);
    oj_state_each(state, "pipeline", note_references, j);
    oj_state_each(state, "session", pick_session, j);
    if (j->pipelines->child == NULL && j->sessions->child == NULL) {
        done(d, 0, &j->r, "", arg); /* nothing old enough: no file */
        job_free(j);
        return;
    }
    char stamp[32];
    time_t secs = (time_t)(j->now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(j->dir, sizeof j->dir, "%s/archive", d->paths.state_dir);
    snprintf(j->name, sizeof j->name, "archive-%s-%llu.json", stamp,
             (unsigned long long)oj_state_seq(state) + 1);
    d->archive_busy = true;
    j->owner = d;
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_LOW_PRIORITY, write_work, write_then, j) == 0) {
        LOG_WARN("maintenance: no thread for the archive; writing it on the engine thread");
        write_work(j);
        write_then(d, j);
    }
}

/* ---- on its own, from the tick ------------------------------------------------ */

static void tick_done(struct oj_daemon *d, int rc, const struct oj_archive_result *r,
                      const char *err, void *arg)
{
    (void)r;
    (void)arg;
    if (d != NULL && rc != 0)
        LOG_WARN("maintenance: archiving what finished more than OJ_RETAIN_FINISHED ago "
                 "failed: %s; trying again in a minute",
                 err);
}

void oj_archive_tick(struct oj_daemon *d)
{
    int64_t now = oj_mono_ms();
    if (d->cfg.retain_finished_ms <= 0 || d->archive_busy || now < d->archive_next_ms)
        return; /* one in flight: the next minute's tick tries again */
    d->archive_next_ms = now + ARCHIVE_TICK_MS;
    oj_archive_start(d, OJ_ARCHIVE_RETENTION, d->cfg.retain_finished_ms, tick_done, NULL);
}
