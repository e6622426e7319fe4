/* store.c — see store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "recovery.h"
#include "store_impl.h"
#include "wal.h"

static void free_store(struct oj_store *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->fill);
    oj_state_free(s->state);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->synced_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void oj_store_free(struct oj_store *s) { free_store(s); }

/* ---- group commit ---------------------------------------------------------
 *
 * One fdatasync covers every record written before it started, and the
 * replies waiting for those records are handed on by whoever made it. Two
 * kinds of thread sync: the sync thread, woken by commits the engine thread
 * makes (the engine never waits for the disk), and a thread that committed
 * on its own between the engine's items (engine.c run_at_once) and then
 * calls oj_store_sync_here: it syncs itself instead of waking the sync
 * thread and waiting for it, one thread hand-off fewer per change (the
 * leader of group commit, as in PostgreSQL's and MySQL's). `syncing` makes
 * the rounds one at a time; whoever ends a round looks again, under the
 * mutex, for records written meanwhile (the sync thread syncs them, a leader
 * wakes the sync thread for them), so no record is left unsynced with nobody
 * syncing it. */

/* One round: syncs what is written and hands on the replies it covers.
 * Called and returns with s->mu held and s->syncing set by the caller. */
static void sync_round(struct oj_store *s)
{
    uint64_t target = s->written;
    int fd = s->fd;
    pthread_mutex_unlock(&s->mu);
    if (fdatasync(fd) != 0) {
        /* The kernel may have dropped the data (fsyncgate): never
         * acknowledge anything after this. */
        LOG_ERROR("store: fdatasync of the WAL failed: %s; stopping the daemon so nothing "
                  "unsynced is acknowledged. Start it again to recover.",
                  strerror(errno));
        _exit(70);
    }
    pthread_mutex_lock(&s->mu);
    s->synced = target;
    s->syncs++;
    struct waiter *ready = NULL, **tail = &ready;
    while (s->waiters && s->waiters->target <= target) {
        struct waiter *w = s->waiters;
        s->waiters = w->next;
        w->next = NULL;
        *tail = w;
        tail = &w->next;
    }
    if (s->waiters == NULL)
        s->waiters_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (ready) {
        struct waiter *w = ready;
        ready = w->next;
        w->fn(w->arg);
        free(w);
    }
    pthread_mutex_lock(&s->mu);
    /* Only now: whoever waits in flush() also waits for these replies. */
    s->delivered = target;
    pthread_cond_broadcast(&s->synced_cv);
}

static void *sync_main(void *arg)
{
    struct oj_store *s = arg;
    pthread_setname_np(pthread_self(), "oj:sync"); /* for top -H, perf and gdb */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->syncing || s->written == s->synced) { /* a leader's round, or nothing */
            if (s->stopping && !s->syncing && s->written == s->synced)
                break;
            pthread_cond_wait(&s->work_cv, &s->mu);
            continue;
        }
        s->syncing = true;
        sync_round(s);
        s->syncing = false;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void oj_store_defer_sync(struct oj_store *s, bool on) { s->defer_sync = on; }

void oj_store_sync_here(struct oj_store *s)
{
    pthread_mutex_lock(&s->mu);
    /* A round under way covers ours, or its maker's look after it does. */
    if (s->syncing || s->written == s->synced) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->syncing = true;
    sync_round(s);
    s->syncing = false;
    /* Written during the round (by the engine, whose wake-up found a round
     * under way, or at once by another thread): the sync thread's turn. One
     * round only, so that nng's thread goes back to its own work. */
    if (s->written != s->synced || s->stopping)
        pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}

void oj_store_after_sync(struct oj_store *s, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&s->mu);
    if (s->synced >= s->written) {
        pthread_mutex_unlock(&s->mu);
        fn(arg);
        return;
    }
    struct waiter *w = malloc(sizeof *w);
    if (w == NULL) { /* cannot wait without memory: sync here instead */
        uint64_t target = s->written;
        pthread_cond_signal(&s->work_cv); /* a deferred commit (defer_sync) woke nobody */
        while (s->delivered < target)
            pthread_cond_wait(&s->synced_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        fn(arg);
        return;
    }
    *w = (struct waiter){.target = s->written, .fn = fn, .arg = arg};
    if (s->waiters_tail)
        s->waiters_tail->next = w;
    else
        s->waiters = w;
    s->waiters_tail = w;
    pthread_mutex_unlock(&s->mu);
}

/* Waits until everything written is synced and the replies waiting for it
 * are handed on (engine thread). */
static void flush(struct oj_store *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->delivered < s->written) /* a deferred commit (defer_sync) woke nobody */
        pthread_cond_signal(&s->work_cv);
    while (s->delivered < s->written)
        pthread_cond_wait(&s->synced_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

int oj_store_start_syncer(struct oj_store *s, char *err, size_t errlen)
{
    if (pthread_create(&s->syncer, NULL, sync_main, s) != 0) {
        snprintf(err, errlen, "cannot start the WAL sync thread");
        return -1;
    }
    return 0;
}

const struct oj_state *oj_store_state(const struct oj_store *s) { return s->state; }

int oj_store_index(struct oj_store *s, const char *kind, oj_state_pred pred)
{
    return oj_state_index(s->state, kind, pred);
}

/* ---- changes -------------------------------------------------------------- */

static enum oj_maint_kind maint_due(const struct oj_store *s)
{
    if (s->opts.compact_bytes && s->wal_bytes > s->opts.compact_bytes)
        return OJ_MAINT_COMPACT;
    if (s->opts.snapshot_every && s->last_seq - s->snapshot_seq >= s->opts.snapshot_every)
        return OJ_MAINT_SNAPSHOT;
    return OJ_MAINT_NONE;
}

enum oj_maint_kind oj_store_maint_take(struct oj_store *s)
{
    s->maint_told = false;
    return maint_due(s);
}

static void maybe_maintain(struct oj_store *s)
{
    enum oj_maint_kind due = maint_due(s);
    if (due == OJ_MAINT_NONE)
        return;
    if (s->opts.maint_due) { /* done off the engine thread by whoever is told */
        if (!s->maint_told) {
            s->maint_told = true;
            s->opts.maint_due(s->opts.maint_due_arg);
        }
        return;
    }
    char err[512];
    if (due == OJ_MAINT_COMPACT) {
        struct oj_compact_result r;
        if (oj_store_compact(s, &r, err, sizeof err) == 0)
            oj_store_maint_log(s, OJ_MAINT_COMPACT, &r);
        else
            LOG_ERROR("store: automatic compaction failed: %s", err);
    } else {
        struct oj_compact_result r = {0};
        if (oj_store_snapshot(s, &r.snapshot, err, sizeof err) == 0)
            oj_store_maint_log(s, OJ_MAINT_SNAPSHOT, &r);
        else
            LOG_ERROR("store: automatic snapshot failed: %s", err);
    }
}

/* Grows the file so that `need` more bytes fit after the last record: up to
 * the next multiple of OJ_WAL_CHUNK, the new part filled with OJ_WAL_FILL
 * (wal.c, PREALLOCATION). Records then overwrite bytes already allocated and
 * written, and the fdatasync that covers them commits no new file size: one
 * device write fewer per sync (docs/performance.md). One sync in a chunk's
 * worth of records carries the chunk. Growing that fails (a full disk) only
 * means the record is appended as before. */
static void preallocate(struct oj_store *s, size_t need)
{
    uint64_t end = s->wal_bytes + need;
    if (end <= s->wal_alloc)
        return;
    if (s->fill == NULL) {
        s->fill = malloc(OJ_WAL_CHUNK);
        if (s->fill == NULL)
            return;
        memset(s->fill, OJ_WAL_FILL, OJ_WAL_CHUNK);
    }
    uint64_t to = (end + OJ_WAL_CHUNK - 1) / OJ_WAL_CHUNK * OJ_WAL_CHUNK;
    while (s->wal_alloc < to) {
        uint64_t n = to - s->wal_alloc < OJ_WAL_CHUNK ? to - s->wal_alloc : OJ_WAL_CHUNK;
        ssize_t w = pwrite(s->fd, s->fill, (size_t)n, (off_t)s->wal_alloc);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s->wal_alloc += (uint64_t)w;
    }
}

uint64_t oj_store_commit(struct oj_store *s, cJSON *op, char *err, size_t errlen)
{
    if (s->restoring) { /* being written (a restore's WAL would lose it) */
        LOG_ERROR("store: a change came while a restore or snapshot is written (daemon bug)");
        snprintf(err, errlen, "a restore or snapshot is being written; try again when it is "
                              "done");
        cJSON_Delete(op);
        return 0;
    }
    uint64_t seq = s->last_seq + 1;
    if (seq > OJ_SEQ_MAX) { /* a record no reader could hold exactly */
        snprintf(err, errlen, "the WAL is at seq %llu, the largest oj can store",
                 (unsigned long long)s->last_seq);
        cJSON_Delete(op);
        return 0;
    }
    char why[256];
    if (oj_state_check(op, why, sizeof why) != 0) { /* never journal what replay would reject */
        LOG_ERROR("store: refused a malformed operation (daemon bug): %s", why);
        snprintf(err, errlen, "malformed change refused: %s", why);
        cJSON_Delete(op);
        return 0;
    }
    size_t len;
    char *line = oj_wal_format(seq, oj_wall_ms(), op, &len);
    if (line == NULL) {
        cJSON_Delete(op);
        snprintf(err, errlen, "out of memory writing the WAL");
        return 0;
    }
    preallocate(s, len);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(s->fd, line + done, len - done, (off_t)(s->wal_bytes + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            /* Never leave half a record in the log: cut it off, and the
             * preallocated end with it (the next commit grows the file again). */
            if (done > 0 || s->wal_alloc > s->wal_bytes) {
                if (ftruncate(s->fd, (off_t)s->wal_bytes) == 0)
                    s->wal_alloc = s->wal_bytes;
                else
                    LOG_ERROR("store: cannot remove a partial WAL record: %s", strerror(errno));
            }
            snprintf(err, errlen, "cannot write the WAL: %s", strerror(e ? e : EIO));
            free(line);
            cJSON_Delete(op);
            return 0;
        }
        done += (size_t)w;
    }
    free(line);
    s->wal_bytes += len;
    if (s->wal_bytes > s->wal_alloc) /* appended past the end: growing it failed */
        s->wal_alloc = s->wal_bytes;
    if (oj_state_apply(s->state, seq, op, why, sizeof why) != 0)
        LOG_ERROR("store: record seq %llu written but not applicable (daemon bug): %s",
                  (unsigned long long)seq, why);
    cJSON_Delete(op);
    s->last_seq = seq;
    oj_state_set_seq(s->state, seq);

    pthread_mutex_lock(&s->mu);
    s->written = seq;
    if (!s->defer_sync) /* else the committing thread syncs (oj_store_sync_here) */
        pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    maybe_maintain(s);
    return seq;
}

/* ---- snapshots, compaction, restore ---------------------------------------- */

/* Prunes old snapshots after a new one: how many it removed, and how many are
 * left in *left. Files only: any thread. */
static unsigned prune_snapshots(const struct oj_store *s, unsigned *left)
{
    int removed = oj_snapshot_prune(s->snap_dir, s->opts.snapshot_keep);
    struct oj_snapshot_info *list;
    char err[256];
    int n = oj_snapshot_list(s->snap_dir, &list, err, sizeof err);
    *left = n > 0 ? (unsigned)n : 0;
    free(list);
    return removed > 0 ? (unsigned)removed : 0;
}

/* Makes the WAL that a rebase put in place the one commits go to; its base
 * record, seq `seq`, is on disk already. */
static void switch_wal(struct oj_store *s, uint64_t seq)
{
    int nfd = open(s->wal_path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (nfd < 0 || fstat(nfd, &st) != 0) {
        /* The files are consistent; only this process cannot go on writing. */
        LOG_ERROR("store: cannot open the new WAL: %s; stopping", strerror(errno));
        _exit(70);
    }
    pthread_mutex_lock(&s->mu); /* the sync thread is idle: we flushed */
    close(s->fd);
    s->fd = nfd;
    s->written = s->synced = s->delivered = seq;
    pthread_mutex_unlock(&s->mu);
    s->wal_bytes = s->wal_alloc = (uint64_t)st.st_size; /* only the base record, no fill */
    s->last_seq = seq;
    oj_state_set_seq(s->state, seq);
}

struct oj_maint_job {
    struct oj_store *s;
    enum oj_maint_kind kind;
    struct oj_compact_result r;
    unsigned snapshot_count; /* snapshots left after the new one's prune */
    int rc;
    char err[512];
};

struct oj_maint_job *oj_store_maint_begin(struct oj_store *s, enum oj_maint_kind kind)
{
    struct oj_maint_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->s = s;
    j->kind = kind == OJ_MAINT_COMPACT ? OJ_MAINT_COMPACT : OJ_MAINT_SNAPSHOT;
    j->r.wal_bytes_before = s->wal_bytes;
    s->restoring = true; /* the state must hold still until finish */
    return j;
}

void oj_store_maint_work(struct oj_maint_job *j)
{
    struct oj_store *s = j->s;
    struct oj_compact_result *r = &j->r;
    flush(s); /* a snapshot must never be ahead of the synced WAL */
    j->rc = oj_snapshot_write(s->snap_dir, s->state, oj_wall_ms(), &r->snapshot, j->err,
                              sizeof j->err);
    /* The snapshot covers every record: the new WAL holds only the base
     * record naming it, so the count goes on and a lost snapshot is noticed. */
    if (j->rc == 0 && j->kind == OJ_MAINT_COMPACT)
        j->rc = oj_store_rebase_wal(s->dir, s->wal_path, &r->snapshot, NULL, NULL, 0, j->err,
                                    sizeof j->err);
    if (j->rc == 0)
        r->snapshots_removed = prune_snapshots(s, &j->snapshot_count);
}

int oj_store_maint_finish(struct oj_store *s, struct oj_maint_job *j, struct oj_compact_result *r,
                          char *err, size_t errlen)
{
    int rc = j->rc;
    *r = j->r;
    s->restoring = false;
    if (rc != 0) {
        snprintf(err, errlen, "%s", j->err);
    } else {
        if (j->kind == OJ_MAINT_COMPACT)
            switch_wal(s, r->snapshot.seq + 1);
        r->wal_bytes_after = s->wal_bytes;
        s->snapshot_seq = r->snapshot.seq;
        s->newest_snapshot_ms = r->snapshot.time_ms;
        snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", r->snapshot.id);
        s->snapshot_count = j->snapshot_count;
    }
    free(j);
    return rc;
}

void oj_store_maint_log(const struct oj_store *s, enum oj_maint_kind kind,
                        const struct oj_compact_result *r)
{
    if (kind == OJ_MAINT_COMPACT)
        LOG_INFO("store: WAL passed %llu bytes; compacted %llu -> %llu bytes (snapshot %s)",
                 (unsigned long long)s->opts.compact_bytes,
                 (unsigned long long)r->wal_bytes_before, (unsigned long long)r->wal_bytes_after,
                 r->snapshot.id);
    else
        LOG_INFO("store: automatic snapshot %s after %llu records", r->snapshot.id,
                 (unsigned long long)s->opts.snapshot_every);
}

static int maintain_here(struct oj_store *s, enum oj_maint_kind kind, struct oj_compact_result *r,
                         char *err, size_t errlen)
{
    struct oj_maint_job *j = oj_store_maint_begin(s, kind);
    if (j == NULL) {
        memset(r, 0, sizeof *r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    oj_store_maint_work(j);
    return oj_store_maint_finish(s, j, r, err, errlen);
}

int oj_store_snapshot(struct oj_store *s, struct oj_snapshot_info *info, char *err, size_t errlen)
{
    struct oj_compact_result r;
    int rc = maintain_here(s, OJ_MAINT_SNAPSHOT, &r, err, errlen);
    *info = r.snapshot;
    return rc;
}

int oj_store_compact(struct oj_store *s, struct oj_compact_result *r, char *err, size_t errlen)
{
    return maintain_here(s, OJ_MAINT_COMPACT, r, err, errlen);
}

/* Finds the snapshot (id NULL = newest) and loads it. 0, -1 + err, or -2
 * when there is no such snapshot. */
static int load_pick(const char *snap_dir, const char *id, struct oj_snapshot_info *picked,
                     struct oj_state **out, char *err, size_t errlen)
{
    struct oj_snapshot_info *list;
    int n = oj_snapshot_list(snap_dir, &list, err, errlen);
    if (n < 0)
        return -1;
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++)
        if (id == NULL || strcmp(list[i].id, id) == 0)
            pick = i;
    if (pick < 0) {
        if (id)
            snprintf(err, errlen, "no snapshot %.80s in %s; `oj maintenance snapshot` takes one",
                     id, snap_dir);
        else
            snprintf(err, errlen, "no snapshot in %s; take one with `oj maintenance snapshot`",
                     snap_dir);
        free(list);
        return -2;
    }
    *picked = list[pick];
    free(list);
    char path[4400], why[512];
    snprintf(path, sizeof path, "%s/%s.json", snap_dir, picked->id);
    struct oj_state *next = oj_state_new();
    if (oj_snapshot_load(path, next, why, sizeof why) != 0) {
        snprintf(err, errlen, "snapshot %s is unusable: %s", picked->id, why);
        oj_state_free(next);
        return -1;
    }
    *out = next;
    return 0;
}

/* "lock 6 -> 3, pipeline 2 -> 2": the documented kinds, now and restored. */
static const char *const kinds[] = {"lock", "pipeline", "session", "workspace", "cron"};
#define N_KINDS (sizeof kinds / sizeof *kinds)

static void count_now(const struct oj_state *now, size_t counts[N_KINDS])
{
    for (size_t i = 0; i < N_KINDS; i++)
        counts[i] = oj_state_count(now, kinds[i]);
}

static void count_kinds(const size_t now[N_KINDS], const struct oj_state *next, char *buf,
                        size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_KINDS && n + 1 < len; i++) {
        size_t a = now[i], b = oj_state_count(next, kinds[i]);
        if (a || b)
            n += (size_t)snprintf(buf + n, len - n, "%s%s %zu -> %zu", n ? ", " : "", kinds[i],
                                  a, b);
    }
}

static void dropped(struct oj_restore_result *r, uint64_t last)
{
    r->snapshot_seq = r->restored.seq;
    if (last > r->restored.seq) {
        r->dropped_from = r->restored.seq + 1;
        r->dropped_to = last;
        r->dropped_count = last - r->restored.seq;
    }
}

/* Records the restored state `next` as a new snapshot at `seq` (so seqs are
 * never reused and start-up picks it as the newest) and puts a WAL resting
 * on it in place. In an order a crash at any point can be carried on from:
 * first the current WAL is kept under a second name, then the snapshot is
 * written, then the new WAL renamed in; killed after the snapshot, the next
 * start sees the WAL already kept and older than the snapshot, and finishes
 * (store_open.c). A failure leaves the store as it was. */
static int restore_files(const char *dir, const char *snap_dir, const char *wal_path,
                         struct oj_state *next, uint64_t seq, struct oj_restore_result *r,
                         char *err, size_t errlen)
{
    bool made = false;
    if (oj_store_keep_copy(wal_path, "pre-restore", r->wal_backup, sizeof r->wal_backup, &made,
                           err, errlen) != 0)
        return -1;
    oj_state_set_seq(next, seq);
    if (oj_snapshot_write(snap_dir, next, oj_wall_ms(), &r->written, err, errlen) != 0) {
        if (made)
            unlink(r->wal_backup);
        return -1;
    }
    if (oj_store_rebase_wal(dir, wal_path, &r->written, NULL, NULL, 0, err, errlen) != 0) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.json", snap_dir, r->written.id);
        unlink(path);
        oj_fsync_dir(snap_dir);
        if (made)
            unlink(r->wal_backup);
        return -1;
    }
    return 0;
}

/* An online restore in three steps, so the engine never waits for the disk
 * (store.h): begin and finish on the engine thread, the work between them on
 * any thread. */
struct oj_restore_job {
    struct oj_store *s;
    char id[OJ_SNAPSHOT_ID_MAX];
    bool latest, dry_run;
    uint64_t last_seq;       /* the live state's, at the start */
    size_t counts[N_KINDS];  /* the live state's kinds, at the start */
    struct oj_state *next;   /* the restored state, until finish swaps it in */
    struct oj_restore_result r;
    unsigned snapshot_count; /* snapshots left after the new one's prune */
    int rc;
    char err[512];
};

struct oj_restore_job *oj_store_restore_begin(struct oj_store *s, const char *id, bool dry_run)
{
    struct oj_restore_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->s = s;
    j->latest = id == NULL;
    snprintf(j->id, sizeof j->id, "%s", id ? id : "");
    j->dry_run = dry_run;
    j->last_seq = s->last_seq;
    count_now(s->state, j->counts);
    if (!dry_run)
        s->restoring = true; /* no commit until finish (oj_store_commit refuses) */
    return j;
}

void oj_store_restore_work(struct oj_restore_job *j)
{
    struct oj_store *s = j->s;
    struct oj_restore_result *r = &j->r;
    if (!j->dry_run)
        flush(s); /* the WAL kept as the backup holds every acknowledged change */
    j->rc = load_pick(s->snap_dir, j->latest ? NULL : j->id, &r->restored, &j->next, j->err,
                      sizeof j->err);
    if (j->rc != 0)
        return;
    dropped(r, j->last_seq);
    count_kinds(j->counts, j->next, r->counts, sizeof r->counts);
    if (j->dry_run)
        return;
    uint64_t seq = j->last_seq + 1;
    if (restore_files(s->dir, s->snap_dir, s->wal_path, j->next, seq, r, j->err,
                      sizeof j->err) != 0) {
        j->rc = -1;
        return;
    }
    oj_snapshot_prune(s->snap_dir, s->opts.snapshot_keep);
    struct oj_snapshot_info *list;
    char why[256];
    int n = oj_snapshot_list(s->snap_dir, &list, why, sizeof why);
    j->snapshot_count = n > 0 ? (unsigned)n : 0;
    free(list);
}

int oj_store_restore_finish(struct oj_store *s, struct oj_restore_job *j,
                            struct oj_restore_result *r, char *err, size_t errlen)
{
    struct oj_state *replaced;
    int rc = oj_store_restore_finish_keep(s, j, r, &replaced, err, errlen);
    oj_store_free_replaced(replaced);
    return rc;
}

void oj_store_free_replaced(struct oj_state *replaced)
{
    if (replaced == NULL)
        return;
    oj_state_free(replaced);
    /* It was as big as the live one: give its pages back (malloc keeps what
     * is freed for itself), so a restore does not leave the daemon at twice
     * its size. */
    malloc_trim(0);
}

int oj_store_restore_finish_keep(struct oj_store *s, struct oj_restore_job *j,
                                 struct oj_restore_result *r, struct oj_state **replaced,
                                 char *err, size_t errlen)
{
    *replaced = NULL;
    int rc = j->rc;
    *r = j->r;
    if (rc != 0)
        snprintf(err, errlen, "%s", j->err);
    if (!j->dry_run)
        s->restoring = false;
    if (rc == 0 && !j->dry_run) {
        /* The files are in place: the new state and WAL become the live ones.
         * It keeps the live state's indexes (a pass over its entities in
         * memory, no disk). The replaced one goes to the caller, to free off
         * the engine thread and give its pages back (oj_store_free_replaced). */
        if (oj_state_index_like(j->next, s->state) != 0)
            LOG_WARN("store: out of memory indexing the restored state; walks look at "
                     "everything");
        *replaced = s->state;
        s->state = j->next;
        j->next = NULL;
        uint64_t seq = j->last_seq + 1;
        switch_wal(s, seq + 1);
        s->snapshot_seq = r->written.seq;
        s->newest_snapshot_ms = r->written.time_ms;
        snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", r->written.id);
        s->snapshot_count = j->snapshot_count;
        LOG_INFO("store: restored snapshot %s as seq %llu (seqs %llu..%llu left the live "
                 "state); previous WAL kept as %s",
                 r->restored.id, (unsigned long long)seq, (unsigned long long)r->dropped_from,
                 (unsigned long long)r->dropped_to, r->wal_backup);
    }
    oj_state_free(j->next);
    free(j);
    return rc;
}

void oj_store_restore_abandon(struct oj_restore_job *j)
{
    oj_state_free(j->next);
    free(j);
}

int oj_store_restore(struct oj_store *s, const char *id, bool dry_run,
                     struct oj_restore_result *r, char *err, size_t errlen)
{
    struct oj_restore_job *j = oj_store_restore_begin(s, id, dry_run);
    if (j == NULL) {
        memset(r, 0, sizeof *r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    oj_store_restore_work(j);
    return oj_store_restore_finish(s, j, r, err, errlen);
}

int oj_store_restore_offline(const char *state_dir, const char *id, bool dry_run,
                             struct oj_restore_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    char wal_path[4200], snap_dir[4200];
    snprintf(wal_path, sizeof wal_path, "%s/wal.jsonl", state_dir);
    snprintf(snap_dir, sizeof snap_dir, "%s/snapshots", state_dir);
    /* The new seq must be past anything ever written, even records beyond
     * damage: a restore is often what follows a WAL that will not load. The
     * recovery rules know that number. */
    struct oj_wal_scan scan;
    if (oj_wal_scan(wal_path, UINT64_MAX, NULL, NULL, &scan, err, errlen) != 0)
        return -1;
    struct oj_snapshot_info *list;
    int n = oj_snapshot_list(snap_dir, &list, err, errlen);
    if (n < 0) {
        oj_wal_scan_free(&scan);
        return -1;
    }
    struct oj_recovery_snap *snaps = calloc(n > 0 ? (size_t)n : 1, sizeof *snaps);
    for (int i = 0; snaps && i < n; i++)
        snaps[i].info = list[i];
    free(list);
    struct oj_recovery_in in = {.snaps = snaps, .nsnaps = snaps ? (size_t)n : 0, .loaded = -1,
                                .scan = &scan};
    struct oj_recovery_plan plan;
    oj_recovery_plan(&in, &plan);
    oj_wal_scan_free(&scan);
    free(snaps);

    struct oj_state *next;
    int rc = load_pick(snap_dir, id, &r->restored, &next, err, errlen);
    if (rc != 0)
        return rc;
    dropped(r, plan.hwm);
    if (dry_run) {
        oj_state_free(next);
        return 0;
    }
    rc = restore_files(state_dir, snap_dir, wal_path, next, plan.next_seq, r, err, errlen);
    oj_state_free(next); /* the daemon loads it from the new snapshot */
    return rc;
}

void oj_store_stats(struct oj_store *s, struct oj_store_stats *st)
{
    memset(st, 0, sizeof *st);
    st->last_seq = s->last_seq;
    st->wal_bytes = s->wal_bytes;
    st->records_since_snapshot = s->last_seq - s->snapshot_seq;
    st->snapshot_count = s->snapshot_count;
    st->newest_snapshot_ms = s->newest_snapshot_ms;
    pthread_mutex_lock(&s->mu);
    st->syncs = s->syncs;
    pthread_mutex_unlock(&s->mu);
    snprintf(st->newest_snapshot, sizeof st->newest_snapshot, "%s", s->newest_snapshot);
}

void oj_store_close(struct oj_store *s, bool snapshot)
{
    if (s == NULL)
        return;
    flush(s);
    if (snapshot && s->last_seq != s->snapshot_seq) {
        struct oj_snapshot_info info;
        char err[512];
        if (oj_store_snapshot(s, &info, err, sizeof err) == 0)
            LOG_INFO("store: snapshot %s at stop", info.id);
        else
            LOG_ERROR("store: snapshot at stop failed: %s", err);
    }
    /* A stopped daemon leaves a plain file: no preallocated end. */
    if (s->wal_alloc > s->wal_bytes &&
        (ftruncate(s->fd, (off_t)s->wal_bytes) != 0 || fdatasync(s->fd) != 0))
        LOG_WARN("store: cannot cut the WAL's preallocated end: %s (the next start reads past "
                 "it)",
                 strerror(errno));
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->syncer, NULL);
    free_store(s);
}
