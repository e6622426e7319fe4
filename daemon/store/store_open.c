/* store_open.c — start-up of the store: load the newest snapshot that verifies,
 * replay the gap-free chain of WAL records after it, ask recovery.c what the
 * files say, then start, repair what needs no decision (a torn tail, a missing
 * final newline, a WAL older than its snapshot), refuse, or — with --recover —
 * set the damage aside. docs/storage.md has the same rules as a table. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "recovery.h"
#include "store_impl.h"
#include "wal.h"

/* Appends to a NUL-terminated buffer, cutting what does not fit. */
static void appendf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

/* ---- snapshots ---------------------------------------------------------------- */

/* Lists the snapshots and loads the newest that verifies into s->state.
 * Returns the index of the one loaded, or -1. */
static int load_snapshots(struct oj_store *s, struct oj_recovery_snap **out, size_t *count,
                          int *version)
{
    *out = NULL;
    *count = 0;
    struct oj_snapshot_info *list;
    char err[512];
    int n = oj_snapshot_list(s->snap_dir, &list, err, sizeof err);
    if (n < 0) {
        oj_store_note(s, "%s; starting without snapshots", err);
        return -1;
    }
    struct oj_recovery_snap *snaps = calloc(n > 0 ? (size_t)n : 1, sizeof *snaps);
    if (snaps == NULL) {
        free(list);
        return -1;
    }
    for (int i = 0; i < n; i++)
        snaps[i].info = list[i];
    free(list);
    *out = snaps;
    *count = (size_t)n;
    s->snapshot_count = (unsigned)n;
    if (n > 0) {
        s->newest_snapshot_ms = snaps[0].info.time_ms;
        snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", snaps[0].info.id);
        s->snapshot_seq = snaps[0].info.seq;
    }
    if (s->opts.rebuild) {
        if (n > 0)
            oj_store_note(s, "--rebuild-state: ignoring %d snapshot(s), replaying the whole WAL",
                          n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.json", s->snap_dir, snaps[i].info.id);
        snaps[i].tried = true;
        if (oj_snapshot_load_version(path, s->state, version, snaps[i].why,
                                     sizeof snaps[i].why) == 0) {
            snaps[i].usable = true;
            LOG_INFO("store: loaded snapshot %s (seq %llu, %zu entities)", snaps[i].info.id,
                     (unsigned long long)snaps[i].info.seq, oj_state_total(s->state));
            return i;
        }
        oj_state_free(s->state);
        s->state = oj_state_new();
    }
    return -1;
}

/* ---- replaying the WAL ---------------------------------------------------------- */

/* Applies records in seq order from the state's seq on; the first record that
 * does not continue the chain ends it (recovery.c reports what came after). */
struct replay {
    struct oj_store *s;
    uint64_t expect; /* next seq to apply */
    bool broken;
    char err[512];
};

static int replay_one(struct oj_wal_record *rec, void *arg)
{
    struct replay *r = arg;
    if (r->broken || rec->seq < r->expect)
        return 0;
    if (rec->seq > r->expect) {
        r->broken = true;
        return 0;
    }
    char why[256];
    if (oj_state_apply(r->s->state, rec->seq, rec->op, why, sizeof why) != 0) {
        if (r->s->opts.recover) { /* the chain ends before it; reported as lost */
            r->broken = true;
            return 0;
        }
        snprintf(r->err, sizeof r->err,
                 "WAL record seq %llu has a good checksum but cannot be applied: %s; run `oj "
                 "daemon start --recover` to start from the records before it",
                 (unsigned long long)rec->seq, why);
        return 1;
    }
    r->expect = rec->seq + 1;
    return 0;
}

/* ---- repairs that need no decision -------------------------------------------- */

/* Copies bytes [start, end) of `from` into a new file `to`. */
static int copy_tail(const char *from, off_t start, off_t end, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;
    if (in >= 0 && out >= 0 && lseek(in, start, SEEK_SET) == start) {
        char buf[65536];
        ssize_t n = 0;
        rc = 0;
        for (off_t left = end - start; left > 0 && rc == 0; left -= n) {
            n = read(in, buf, left < (off_t)sizeof buf ? (size_t)left : sizeof buf);
            if (n <= 0 || write(out, buf, (size_t)n) != n)
                rc = -1;
        }
        if (fsync(out) != 0)
            rc = -1;
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

/* A write cut short is cut off, but its bytes are kept. */
static int cut_torn_tail(struct oj_store *s, const struct oj_wal_scan *scan, off_t start,
                         char *err, size_t errlen)
{
    char stamp[32], saved[4400];
    oj_store_stamp(stamp, sizeof stamp);
    int i = 1;
    do
        snprintf(saved, sizeof saved, i == 1 ? "%s.torn-%s" : "%s.torn-%s-%d", s->wal_path,
                 stamp, i);
    while (access(saved, F_OK) == 0 && ++i < 1000);
    if (copy_tail(s->wal_path, start, scan->data_end, saved) != 0) {
        snprintf(err, errlen, "cannot keep the torn end of the WAL as %s: %s", saved,
                 strerror(errno));
        return -1;
    }
    int fd = open(s->wal_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, start) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot truncate %s: %s", s->wal_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    oj_fsync_dir(s->dir);
    oj_store_note(s,
                  "WAL: cut off a record whose write never finished (%lld bytes after seq %llu, "
                  "never acknowledged); its bytes are kept in %s",
                  (long long)(scan->data_end - start), (unsigned long long)scan->last_seq, saved);
    return 0;
}

/* The newline goes right after the record: over the first byte of a
 * preallocated end, if there is one. */
static int add_final_newline(struct oj_store *s, uint64_t seq, off_t at, char *err, size_t errlen)
{
    int fd = open(s->wal_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || pwrite(fd, "\n", 1, at) != 1 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot end the last WAL record with a newline: %s",
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    oj_store_note(s, "WAL: the last record (seq %llu) was complete but lacked its newline; kept "
                     "it and added the newline",
                  (unsigned long long)seq);
    return 0;
}

/* ---- refusing, and --recover ----------------------------------------------------- */

static void first_damage(const struct oj_wal_scan *scan, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < scan->nsegs; i++) {
        const struct oj_wal_seg *sg = &scan->segs[i];
        if (sg->kind != OJ_WAL_DAMAGE)
            continue;
        if (sg->first_line == sg->last_line)
            snprintf(buf, len, "line %zu (%s)", sg->first_line, sg->why);
        else
            snprintf(buf, len, "lines %zu-%zu (%s)", sg->first_line, sg->last_line, sg->why);
        if (scan->damaged_segs > 1)
            appendf(buf, len, " and %zu more damaged stretch(es)", scan->damaged_segs - 1);
        return;
    }
}

static void what_start_keeps(const struct oj_recovery_in *in, char *buf, size_t len)
{
    if (in->loaded >= 0)
        snprintf(buf, len, "snapshot %s (seq %llu)", in->snaps[in->loaded].info.id,
                 (unsigned long long)in->snaps[in->loaded].info.seq);
    else
        snprintf(buf, len, "an empty state");
    if (in->state_seq > (in->loaded >= 0 ? in->snaps[in->loaded].info.seq : 0))
        appendf(buf, len, " plus WAL records up to seq %llu", (unsigned long long)in->state_seq);
}

static void refusal(const struct oj_store *s, const struct oj_recovery_in *in,
                    const struct oj_recovery_plan *p, const struct oj_wal_scan *scan, char *err,
                    size_t errlen)
{
    char keeps[300], damage[400], lost[2048];
    what_start_keeps(in, keeps, sizeof keeps);
    first_damage(scan, damage, sizeof damage);
    if (p->nlost == 0) {
        snprintf(err, errlen,
                 "the WAL %s is damaged at %s, but nothing is lost: %s holds every record. "
                 "Nothing was changed. Run `oj daemon start --recover` to keep the damaged WAL "
                 "as a copy and go on",
                 s->wal_path, damage, keeps);
        return;
    }
    oj_recovery_describe_lost(p, lost, sizeof lost);
    snprintf(err, errlen,
             "acknowledged changes are missing or damaged: %s. Nothing was changed. Put back "
             "what is missing, or run `oj daemon start --recover` to accept the loss: it starts "
             "from %s, keeps the WAL and unusable snapshots as copies, and numbers new changes "
             "from seq %llu",
             lost, keeps, (unsigned long long)p->next_seq + 2);
}

/* Sets aside an unusable snapshot (renamed, never deleted) so that neither
 * start-up nor pruning picks it again. */
static void set_aside_snapshot(struct oj_store *s, const struct oj_recovery_snap *sn, char *list,
                               size_t len)
{
    char from[4400], to[4500];
    snprintf(from, sizeof from, "%s/%s.json", s->snap_dir, sn->info.id);
    snprintf(to, sizeof to, "%s.unusable", from);
    if (rename(from, to) == 0)
        appendf(list, len, "%s%s", list[0] ? ", " : "", to); else if (errno != ENOENT) {
        LOG_WARN("store: cannot set aside the unusable snapshot %s: %s", from, strerror(errno));
    }
}

/* --recover: the state is the newest good snapshot plus the gap-free chain
 * after it. In an order a crash at any point can be carried on from: keep the
 * whole WAL as a copy, set unusable snapshots aside, say (and log) what is
 * lost, then write the state as a new snapshot numbered past every seq that
 * may have been used, and put a new WAL resting on it in place. Killed after
 * the snapshot, the next start sees the WAL already kept and finishes. */
static int recover(struct oj_store *s, const struct oj_recovery_in *in,
                   const struct oj_recovery_plan *p, const struct oj_wal_scan *scan, char *err,
                   size_t errlen)
{
    char kept[4400] = "", aside[4096] = "", keeps[300], lost[2048], damage[400];
    if (p->next_seq + 2 > OJ_SEQ_MAX) {
        snprintf(err, errlen,
                 "--recover would number the state past seq %llu, the largest oj can store; the "
                 "WAL or a snapshot name claims seqs that high: move the file that does aside",
                 (unsigned long long)OJ_SEQ_MAX);
        return -1;
    }
    bool made = false;
    if (oj_store_keep_copy(s->wal_path, "corrupt", kept, sizeof kept, &made, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < in->nsnaps; i++)
        if (in->snaps[i].tried && !in->snaps[i].usable)
            set_aside_snapshot(s, &in->snaps[i], aside, sizeof aside);
    what_start_keeps(in, keeps, sizeof keeps);
    oj_recovery_describe_lost(p, lost, sizeof lost);
    first_damage(scan, damage, sizeof damage);
    uint64_t had = oj_state_seq(s->state), seq = p->next_seq;
    if (p->nlost > 0)
        oj_store_note(s,
                      "recovered: kept %s; lost %s; the old WAL is kept as %s%s%s; the state (as "
                      "of seq %llu) becomes snapshot seq %llu and new changes start at seq %llu",
                      keeps, lost, kept[0] ? kept : "(there was none)",
                      aside[0] ? "; unusable snapshots set aside as " : "", aside,
                      (unsigned long long)had, (unsigned long long)seq,
                      (unsigned long long)seq + 2);
    else
        oj_store_note(s,
                      "recovered: lost nothing (the damage at %s held only records %s has); the "
                      "old WAL is kept as %s%s%s; new changes start at seq %llu",
                      damage, keeps, kept[0] ? kept : "(there was none)",
                      aside[0] ? "; unusable snapshots set aside as " : "", aside,
                      (unsigned long long)seq + 2);
    oj_state_set_seq(s->state, seq);
    struct oj_snapshot_info snap;
    if (oj_snapshot_write(s->snap_dir, s->state, oj_wall_ms(), &snap, err, errlen) != 0 ||
        oj_store_rebase_wal(s->dir, s->wal_path, &snap, NULL, NULL, 0, err, errlen) != 0) {
        /* Nothing lost yet: the WAL is as it was (and kept), so is the state. */
        oj_state_set_seq(s->state, had);
        return -1;
    }
    oj_state_set_seq(s->state, snap.seq + 1);
    s->snapshot_seq = snap.seq;
    s->newest_snapshot_ms = snap.time_ms;
    snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", snap.id);
    return 0;
}

/* Rewrites a WAL holding format-1 records (whose checksum leaves out seq and
 * time) as a snapshot and a new WAL, once, at the first clean start. */
static int migrate_format1(struct oj_store *s, size_t legacy, char *err, size_t errlen)
{
    struct oj_snapshot_info snap;
    char kept[4400];
    if (oj_snapshot_write(s->snap_dir, s->state, oj_wall_ms(), &snap, err, errlen) != 0 ||
        oj_store_rebase_wal(s->dir, s->wal_path, &snap, "format1", kept, sizeof kept, err,
                            errlen) != 0)
        return -1;
    oj_state_set_seq(s->state, snap.seq + 1);
    s->snapshot_seq = snap.seq;
    s->newest_snapshot_ms = snap.time_ms;
    snprintf(s->newest_snapshot, sizeof s->newest_snapshot, "%s", snap.id);
    oj_store_note(s,
                  "the WAL held %zu record(s) in the older format, whose checksum leaves out "
                  "their seq and time: moved into snapshot %s, the old WAL is kept as %s",
                  legacy, snap.id, kept);
    return 0;
}

/* ---- start-up ----------------------------------------------------------------- */

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
    struct oj_recovery_snap *snaps;
    size_t nsnaps;
    int version = 0;
    int loaded = load_snapshots(s, &snaps, &nsnaps, &version);
    struct replay r = {.s = s, .expect = oj_state_seq(s->state) + 1};
    struct oj_wal_scan scan;
    int rc = oj_wal_scan(s->wal_path, oj_state_seq(s->state), replay_one, &r, &scan, err, errlen);
    if (rc == -1) {
        free(snaps);
        goto fail;
    }
    if (rc == -2) {
        snprintf(err, errlen, "%s", r.err);
        goto fail_scan;
    }
    char kept_as[4400] = "";
    struct oj_recovery_in in = {.snaps = snaps, .nsnaps = nsnaps, .loaded = loaded,
                                .loaded_version = version, .rebuild = o->rebuild, .scan = &scan,
                                .state_seq = oj_state_seq(s->state),
                                .wal_kept = oj_store_has_copy(s->wal_path, kept_as,
                                                              sizeof kept_as)};
    struct oj_recovery_plan plan;
    oj_recovery_plan(&in, &plan);
    if (plan.verdict == OJ_RECOVERY_BROKEN) {
        snprintf(err, errlen,
                 "--rebuild-state needs the whole history, but the WAL starts at seq %llu (it "
                 "was compacted); start without --rebuild-state",
                 (unsigned long long)scan.first_seq);
        goto fail_scan;
    }
    if (plan.verdict == OJ_RECOVERY_REFUSE && !o->recover) {
        refusal(s, &in, &plan, &scan, err, errlen);
        goto fail_scan;
    }
    if (plan.fallback[0])
        oj_store_note(s, "%s", plan.fallback);
    if (plan.verdict == OJ_RECOVERY_REFUSE) {
        if (recover(s, &in, &plan, &scan, err, errlen) != 0)
            goto fail_scan;
    } else {
        if (plan.cut_torn && cut_torn_tail(s, &scan, plan.torn_start, err, errlen) != 0)
            goto fail_scan;
        if (plan.add_newline &&
            add_final_newline(s, scan.last_seq, scan.data_end, err, errlen) != 0)
            goto fail_scan;
        if (plan.rebase && loaded >= 0) {
            /* A restore or --recover was cut off after writing its snapshot:
             * the WAL is kept already and older than it. Finish. */
            if (oj_store_rebase_wal(s->dir, s->wal_path, &snaps[loaded].info, NULL, NULL, 0, err,
                                    errlen) != 0)
                goto fail_scan;
            oj_state_set_seq(s->state, snaps[loaded].info.seq + 1);
            oj_store_note(s, "a restore or --recover was cut off after writing snapshot %s (seq "
                             "%llu); finished it: a new WAL rests on it, the old one is kept as "
                             "%s (what a --recover lost is in .oj/logs/daemon.log)",
                          snaps[loaded].info.id, (unsigned long long)snaps[loaded].info.seq,
                          kept_as);
        } else if (scan.legacy > 0 && migrate_format1(s, scan.legacy, err, errlen) != 0) {
            goto fail_scan;
        }
    }
    size_t replayed = scan.records;
    oj_wal_scan_free(&scan);
    free(snaps);
    /* Replay parsed every record of the history and freed it again (and a
     * snapshot's text, as big as the state); malloc keeps what was freed for
     * itself. Give it back, so that the daemon's RSS is a multiple of the live
     * records, not of the WAL it read. */
    malloc_trim(0);
    struct oj_snapshot_info *now_list;
    int nnow = oj_snapshot_list(s->snap_dir, &now_list, err, errlen);
    s->snapshot_count = nnow > 0 ? (unsigned)nnow : 0;
    free(now_list);

    s->last_seq = oj_state_seq(s->state);
    /* Records go right after the last one, over the preallocated end if the
     * file has one (store.c). */
    s->fd = open(s->wal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    off_t data_end = -1;
    if (s->fd >= 0 && fstat(s->fd, &st) == 0)
        data_end = oj_wal_data_end(s->fd, st.st_size);
    if (data_end < 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->wal_path, strerror(errno));
        goto fail;
    }
    s->wal_bytes = (uint64_t)data_end;
    s->wal_alloc = (uint64_t)st.st_size;
    oj_fsync_dir(s->dir);
    s->written = s->synced = s->delivered = s->last_seq;
    if (oj_store_start_syncer(s, err, errlen) != 0)
        goto fail;
    LOG_INFO("store: state at seq %llu (%zu entities) after reading %zu WAL record(s) in %lld ms",
             (unsigned long long)s->last_seq, oj_state_total(s->state), replayed,
             (long long)(oj_mono_ms() - t0));
    *out = s;
    return 0;
fail_scan:
    oj_wal_scan_free(&scan);
    free(snaps);
fail:
    oj_store_free(s);
    return -1;
}
