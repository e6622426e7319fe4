/* store.c — see store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
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
#include "wal.h"

struct waiter {
    uint64_t target;
    void (*fn)(void *);
    void *arg;
    struct waiter *next;
};

struct oj_store {
    struct oj_store_opts opts;
    char dir[4096], wal_path[4200], snap_dir[4200];
    struct oj_state *state;
    int fd;
    uint64_t wal_bytes;
    uint64_t last_seq;     /* last record written (engine thread) */
    uint64_t snapshot_seq; /* seq of the newest snapshot */
    unsigned snapshot_count;
    int64_t newest_snapshot_ms;
    char newest_snapshot[OJ_SNAPSHOT_ID_MAX];

    /* shared with the sync thread */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, synced_cv;
    uint64_t written, synced;
    uint64_t delivered; /* synced, and the replies waiting for it handed on */
    uint64_t syncs; /* fdatasync calls made: fewer than records under load (group commit) */
    struct waiter *waiters, *waiters_tail;
    bool stopping;
    pthread_t syncer;
};

static void note(struct oj_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct oj_store *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    LOG_WARN("store: %s", buf);
    if (s->opts.note)
        s->opts.note(buf, s->opts.note_arg);
}

static void utc_stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

static void free_store(struct oj_store *s)
{
    if (s->fd >= 0)
        close(s->fd);
    oj_state_free(s->state);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->synced_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the sync thread ------------------------------------------------------ */

static void *sync_main(void *arg)
{
    struct oj_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->written == s->synced && !s->stopping)
            pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->written == s->synced && s->stopping)
            break;
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
    pthread_mutex_unlock(&s->mu);
    return NULL;
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
    while (s->delivered < s->written)
        pthread_cond_wait(&s->synced_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* ---- start-up ------------------------------------------------------------- */

struct replay {
    struct oj_store *s;
    uint64_t expect; /* next seq to apply */
    bool allow_gap, rebuild;
    char err[512];
};

static int replay_one(struct oj_wal_record *rec, void *arg)
{
    struct replay *r = arg;
    if (rec->seq != r->expect) {
        if (r->rebuild && r->expect == 1) {
            snprintf(r->err, sizeof r->err,
                     "--rebuild-state needs the whole history, but the WAL starts at seq %llu (it "
                     "was compacted); start without --rebuild-state",
                     (unsigned long long)rec->seq);
            return 1;
        }
        if (!r->allow_gap) {
            snprintf(r->err, sizeof r->err,
                     "the WAL continues at seq %llu but the loaded state ends at seq %llu: records "
                     "%llu..%llu exist only in an unusable snapshot",
                     (unsigned long long)rec->seq, (unsigned long long)r->expect - 1,
                     (unsigned long long)r->expect, (unsigned long long)rec->seq - 1);
            return 1;
        }
        note(r->s, "recover: records %llu..%llu are lost (their snapshot is unusable); "
                   "continuing from seq %llu",
             (unsigned long long)r->expect, (unsigned long long)rec->seq - 1,
             (unsigned long long)rec->seq);
    }
    char why[256];
    if (oj_state_apply(r->s->state, rec->seq, rec->op, why, sizeof why) != 0) {
        snprintf(r->err, sizeof r->err, "WAL record seq %llu cannot be applied: %s",
                 (unsigned long long)rec->seq, why);
        return 1;
    }
    r->expect = rec->seq + 1;
    return 0;
}

static int copy_tail(const char *from, off_t start, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;
    if (in >= 0 && out >= 0 && lseek(in, start, SEEK_SET) == start) {
        char buf[65536];
        ssize_t n;
        rc = 0;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n) {
                rc = -1;
                break;
            }
        if (n < 0 || fsync(out) != 0)
            rc = -1;
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static int truncate_wal(struct oj_store *s, off_t size, char *err, size_t errlen)
{
    int fd = open(s->wal_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, size) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot truncate %s: %s", s->wal_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static void load_snapshots(struct oj_store *s)
{
    struct oj_snapshot_info *list;
    char err[512];
    int n = oj_snapshot_list(s->snap_dir, &list, err, sizeof err);
    if (n < 0) {
        note(s, "%s; starting without snapshots", err);
        return;
    }
    s->snapshot_count = (unsigned)n;
    if (n > 0) {
        s->newest_snapshot_ms = list[0].time_ms;
        snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", list[0].id);
        s->snapshot_seq = list[0].seq;
    }
    if (s->opts.rebuild) {
        if (n > 0)
            note(s, "--rebuild-state: ignoring %d snapshot(s), replaying the whole WAL", n);
        free(list);
        return;
    }
    for (int i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.json", s->snap_dir, list[i].id);
        if (oj_snapshot_load(path, s->state, err, sizeof err) == 0) {
            LOG_INFO("store: loaded snapshot %s (seq %llu, %zu entities)", list[i].id,
                     (unsigned long long)list[i].seq, oj_state_total(s->state));
            break;
        }
        note(s, "snapshot %s is unusable (%s); %s", list[i].id, err,
             i + 1 < n ? "trying an older one" : "replaying the WAL from the start");
        oj_state_free(s->state);
        s->state = oj_state_new();
    }
    free(list);
}

int oj_store_open(struct oj_store **out, const struct oj_store_opts *o, char *err, size_t errlen)
{
    struct oj_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->opts = *o;
    if (s->opts.snapshot_keep == 0)
        s->opts.snapshot_keep = 1;
    snprintf(s->dir, sizeof s->dir, "%s", o->state_dir);
    snprintf(s->wal_path, sizeof s->wal_path, "%s/wal.jsonl", o->state_dir);
    snprintf(s->snap_dir, sizeof s->snap_dir, "%s/snapshots", o->state_dir);
    s->fd = -1;
    s->state = oj_state_new();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->synced_cv, NULL);

    int64_t t0 = oj_mono_ms();
    load_snapshots(s);
    uint64_t base = oj_state_seq(s->state);

    struct replay r = {.s = s, .expect = base + 1, .allow_gap = o->recover, .rebuild = o->rebuild};
    struct oj_wal_scan scan;
    int rc = oj_wal_scan(s->wal_path, base, replay_one, &r, &scan, err, errlen);
    if (rc == -1)
        goto fail;
    if (rc == -2) {
        if (o->rebuild)
            snprintf(err, errlen, "%s", r.err);
        else
            snprintf(err, errlen, "%s; run `oj daemon start --recover` to start from what is usable",
                     r.err);
        goto fail;
    }

    if (scan.bad_line) {
        off_t bad_bytes = scan.file_size - scan.good_end;
        if (scan.torn) {
            note(s, "WAL: cut off a torn final record at line %zu (%s, %lld bytes); the last "
                    "complete record is seq %llu",
                 scan.bad_line, scan.bad_reason, (long long)bad_bytes,
                 (unsigned long long)scan.last_seq);
            if (truncate_wal(s, scan.good_end, err, errlen) != 0)
                goto fail;
        } else if (!o->recover) {
            snprintf(err, errlen,
                     "WAL %s is corrupt at line %zu, after seq %llu: %s; %zu valid record(s) "
                     "follow. Nothing was changed. Run `oj daemon start --recover` to save the "
                     "bad part beside the WAL and continue from seq %llu",
                     s->wal_path, scan.bad_line, (unsigned long long)scan.last_seq,
                     scan.bad_reason, scan.valid_after_bad, (unsigned long long)scan.last_seq);
            goto fail;
        } else {
            char stamp[32], saved[4300];
            utc_stamp(stamp, sizeof stamp);
            snprintf(saved, sizeof saved, "%s.corrupt-%s", s->wal_path, stamp);
            if (copy_tail(s->wal_path, scan.good_end, saved) != 0) {
                snprintf(err, errlen, "--recover: cannot save the bad part to %s: %s", saved,
                         strerror(errno));
                goto fail;
            }
            if (truncate_wal(s, scan.good_end, err, errlen) != 0)
                goto fail;
            note(s, "recovered: dropped the WAL from line %zu on (%s): %lld bytes holding %zu "
                    "valid-looking record(s), saved to %s; state is at seq %llu",
                 scan.bad_line, scan.bad_reason, (long long)bad_bytes, scan.valid_after_bad, saved,
                 (unsigned long long)(scan.last_seq > base ? scan.last_seq : base));
        }
    }

    /* Records all older than the snapshot (e.g. after a restore): the WAL must
     * start afresh or the next append would jump in sequence. */
    if (scan.records > 0 && scan.last_seq < base) {
        note(s, "WAL ends at seq %llu, before the snapshot's seq %llu; starting a new WAL",
             (unsigned long long)scan.last_seq, (unsigned long long)base);
        if (truncate_wal(s, 0, err, errlen) != 0)
            goto fail;
    }

    s->last_seq = oj_state_seq(s->state);
    s->fd = open(s->wal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->wal_path, strerror(errno));
        goto fail;
    }
    struct stat st;
    fstat(s->fd, &st);
    s->wal_bytes = (uint64_t)st.st_size;
    oj_fsync_dir(s->dir);
    s->written = s->synced = s->delivered = s->last_seq;
    if (pthread_create(&s->syncer, NULL, sync_main, s) != 0) {
        snprintf(err, errlen, "cannot start the WAL sync thread");
        goto fail;
    }
    LOG_INFO("store: state at seq %llu (%zu entities) after replaying %zu WAL record(s) in %lld "
             "ms",
             (unsigned long long)s->last_seq, oj_state_total(s->state),
             scan.records, (long long)(oj_mono_ms() - t0));
    *out = s;
    return 0;
fail:
    free_store(s);
    return -1;
}

const struct oj_state *oj_store_state(const struct oj_store *s) { return s->state; }

/* ---- changes -------------------------------------------------------------- */

static void maybe_maintain(struct oj_store *s)
{
    char err[512];
    if (s->opts.compact_bytes && s->wal_bytes > s->opts.compact_bytes) {
        struct oj_compact_result r;
        if (oj_store_compact(s, &r, err, sizeof err) == 0)
            LOG_INFO("store: WAL passed %llu bytes; compacted %llu -> %llu bytes (snapshot %s)",
                     (unsigned long long)s->opts.compact_bytes,
                     (unsigned long long)r.wal_bytes_before, (unsigned long long)r.wal_bytes_after,
                     r.snapshot.id);
        else
            LOG_ERROR("store: automatic compaction failed: %s", err);
    } else if (s->opts.snapshot_every && s->last_seq - s->snapshot_seq >= s->opts.snapshot_every) {
        struct oj_snapshot_info info;
        if (oj_store_snapshot(s, &info, err, sizeof err) == 0)
            LOG_INFO("store: automatic snapshot %s after %llu records", info.id,
                     (unsigned long long)s->opts.snapshot_every);
        else
            LOG_ERROR("store: automatic snapshot failed: %s", err);
    }
}

uint64_t oj_store_commit(struct oj_store *s, cJSON *op, char *err, size_t errlen)
{
    uint64_t seq = s->last_seq + 1;
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
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(s->fd, line + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            /* Never leave half a record in the middle of the log. */
            if (done > 0 && ftruncate(s->fd, (off_t)s->wal_bytes) != 0)
                LOG_ERROR("store: cannot remove a partial WAL record: %s", strerror(errno));
            snprintf(err, errlen, "cannot write the WAL: %s", strerror(e ? e : EIO));
            free(line);
            cJSON_Delete(op);
            return 0;
        }
        done += (size_t)w;
    }
    free(line);
    s->wal_bytes += len;
    if (oj_state_apply(s->state, seq, op, why, sizeof why) != 0)
        LOG_ERROR("store: record seq %llu written but not applicable (daemon bug): %s",
                  (unsigned long long)seq, why);
    cJSON_Delete(op);
    s->last_seq = seq;
    oj_state_set_seq(s->state, seq);

    pthread_mutex_lock(&s->mu);
    s->written = seq;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    maybe_maintain(s);
    return seq;
}

/* ---- snapshots, compaction, restore ---------------------------------------- */

/* Records a new snapshot, prunes old ones; returns how many it removed. */
static unsigned after_snapshot(struct oj_store *s, const struct oj_snapshot_info *info)
{
    s->snapshot_seq = info->seq;
    s->newest_snapshot_ms = info->time_ms;
    snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", info->id);
    int removed = oj_snapshot_prune(s->snap_dir, s->opts.snapshot_keep);
    struct oj_snapshot_info *list;
    char err[256];
    int n = oj_snapshot_list(s->snap_dir, &list, err, sizeof err);
    s->snapshot_count = n > 0 ? (unsigned)n : 0;
    free(list);
    return removed > 0 ? (unsigned)removed : 0;
}

int oj_store_snapshot(struct oj_store *s, struct oj_snapshot_info *info, char *err, size_t errlen)
{
    flush(s); /* a snapshot must never be ahead of the synced WAL */
    if (oj_snapshot_write(s->snap_dir, s->state, oj_wall_ms(), info, err, errlen) != 0)
        return -1;
    after_snapshot(s, info);
    return 0;
}

/* Puts an empty WAL file in place of `wal_path` (keeping the old one as
 * `backup` when given), atomically: temp file, fsync, link, rename, fsync of
 * the directory. */
static int replace_wal_file(const char *dir, const char *wal_path, const char *backup, char *err,
                            size_t errlen)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", wal_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (backup && link(wal_path, backup) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot keep the WAL as %s: %s", backup, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, wal_path) != 0 || oj_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "cannot replace %s: %s", wal_path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* replace_wal_file() for the running store: also switches the descriptor. */
static int fresh_wal(struct oj_store *s, const char *backup, char *err, size_t errlen)
{
    if (replace_wal_file(s->dir, s->wal_path, backup, err, errlen) != 0)
        return -1;
    int nfd = open(s->wal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (nfd < 0) {
        snprintf(err, errlen, "cannot open the new WAL: %s", strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&s->mu); /* the sync thread is idle: we flushed */
    close(s->fd);
    s->fd = nfd;
    pthread_mutex_unlock(&s->mu);
    s->wal_bytes = 0;
    return 0;
}

int oj_store_compact(struct oj_store *s, struct oj_compact_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->wal_bytes_before = s->wal_bytes;
    flush(s);
    if (oj_snapshot_write(s->snap_dir, s->state, oj_wall_ms(), &r->snapshot, err, errlen) != 0)
        return -1;
    /* The snapshot covers every record, so the compacted WAL is empty. */
    if (fresh_wal(s, NULL, err, errlen) != 0)
        return -1;
    r->snapshots_removed = after_snapshot(s, &r->snapshot);
    r->wal_bytes_after = s->wal_bytes;
    return 0;
}

/* The restore both ways share: find and verify the snapshot, record its
 * state as a new snapshot at `seq` (so seqs are never reused and start-up
 * picks it as the newest), then swap in an empty WAL, keeping the old one.
 * The new snapshot is written before the WAL moves: a crash in between
 * still starts from the restored state. */
static int restore_files(const char *dir, const char *snap_dir, const char *wal_path,
                         const char *id, uint64_t seq, struct oj_restore_result *r,
                         struct oj_state **restored, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    struct oj_snapshot_info *list;
    int n = oj_snapshot_list(snap_dir, &list, err, errlen);
    if (n < 0)
        return -1;
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++)
        if (id == NULL || strcmp(list[i].id, id) == 0)
            pick = i;
    if (pick < 0) {
        snprintf(err, errlen, id ? "no snapshot %s in %s" : "no snapshot in %s; take one with `oj "
                                                           "maintenance snapshot`",
                 id ? id : snap_dir, snap_dir);
        free(list);
        return -2;
    }
    r->restored = list[pick];
    free(list);

    char path[4400], why[512];
    snprintf(path, sizeof path, "%s/%s.json", snap_dir, r->restored.id);
    struct oj_state *next = oj_state_new();
    if (oj_snapshot_load(path, next, why, sizeof why) != 0) {
        snprintf(err, errlen, "snapshot %s is unusable: %s", r->restored.id, why);
        oj_state_free(next);
        return -1;
    }
    oj_state_set_seq(next, seq);
    char stamp[32];
    utc_stamp(stamp, sizeof stamp);
    snprintf(r->wal_backup, sizeof r->wal_backup, "%s.pre-restore-%s", wal_path, stamp);
    if (oj_snapshot_write(snap_dir, next, oj_wall_ms(), &r->written, err, errlen) != 0 ||
        replace_wal_file(dir, wal_path, r->wal_backup, err, errlen) != 0) {
        oj_state_free(next);
        return -1;
    }
    *restored = next;
    return 0;
}

int oj_store_restore(struct oj_store *s, const char *id, struct oj_restore_result *r, char *err,
                     size_t errlen)
{
    flush(s);
    uint64_t seq = s->last_seq + 1;
    struct oj_state *next;
    int rc = restore_files(s->dir, s->snap_dir, s->wal_path, id, seq, r, &next, err, errlen);
    if (rc != 0)
        return rc;
    int nfd = open(s->wal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (nfd < 0) {
        /* The files are restored; only this process cannot go on writing. */
        LOG_ERROR("store: cannot open the new WAL after a restore: %s; stopping",
                  strerror(errno));
        _exit(70);
    }
    pthread_mutex_lock(&s->mu); /* the sync thread is idle: we flushed */
    close(s->fd);
    s->fd = nfd;
    s->written = s->synced = s->delivered = seq;
    pthread_mutex_unlock(&s->mu);
    s->wal_bytes = 0;
    oj_state_free(s->state);
    s->state = next;
    s->last_seq = seq;
    after_snapshot(s, &r->written);
    LOG_INFO("store: restored snapshot %s as seq %llu; previous WAL kept as %s", r->restored.id,
             (unsigned long long)seq, r->wal_backup);
    return 0;
}

int oj_store_restore_offline(const char *state_dir, const char *id, struct oj_restore_result *r,
                             char *err, size_t errlen)
{
    char wal_path[4200], snap_dir[4200];
    snprintf(wal_path, sizeof wal_path, "%s/wal.jsonl", state_dir);
    snprintf(snap_dir, sizeof snap_dir, "%s/snapshots", state_dir);
    /* The next seq must be past anything ever written, even records beyond a
     * corrupt line: a restore is often what follows a WAL that will not load. */
    struct oj_wal_scan scan;
    if (oj_wal_scan(wal_path, UINT64_MAX, NULL, NULL, &scan, err, errlen) != 0)
        return -1;
    uint64_t top = scan.max_seq_seen;
    struct oj_snapshot_info *list;
    int n = oj_snapshot_list(snap_dir, &list, err, errlen);
    if (n < 0)
        return -1;
    if (n > 0 && list[0].seq > top)
        top = list[0].seq;
    free(list);
    struct oj_state *next;
    int rc = restore_files(state_dir, snap_dir, wal_path, id, top + 1, r, &next, err, errlen);
    if (rc == 0)
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
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->syncer, NULL);
    free_store(s);
}
