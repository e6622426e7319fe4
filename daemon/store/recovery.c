/* recovery.c — see recovery.h. Pure: facts in, a plan out. */
#include "recovery.h"

#include <stdio.h>
#include <string.h>

/* No record line is shorter than this, so damaged bytes hold at most
 * bytes / MIN_RECORD_BYTES records: the seqs a recovery must skip to be sure
 * it reuses none. */
#define MIN_RECORD_BYTES 48

static void add_lost(struct oj_recovery_plan *p, uint64_t from, uint64_t to, bool intact,
                     const char *where)
{
    if (to != 0)
        p->lost_count += to - from + 1;
    else
        p->lost_open = true;
    if (p->nlost == OJ_RECOVERY_MAX_LOST) {
        p->lost_more = true;
        return;
    }
    struct oj_recovery_lost *l = &p->lost[p->nlost++];
    l->from = from;
    l->to = to;
    l->intact = intact;
    snprintf(l->where, sizeof l->where, "%s", where);
}

static void lines_of(const struct oj_wal_seg *s, char *buf, size_t len)
{
    if (s->first_line == s->last_line)
        snprintf(buf, len, "line %zu", s->first_line);
    else
        snprintf(buf, len, "lines %zu-%zu", s->first_line, s->last_line);
}

/* Why seqs from..to are not in the state: damage between the two runs
 * around them in the file (segments lo..hi), or a snapshot that held them. */
static void explain_gap(const struct oj_recovery_in *in, struct oj_recovery_plan *p,
                        uint64_t from, uint64_t to, size_t lo, size_t hi, size_t *damage_used)
{
    const struct oj_wal_scan *sc = in->scan;
    char where[400], lines[64];
    for (size_t i = lo; i < hi && i < sc->nsegs; i++) {
        const struct oj_wal_seg *s = &sc->segs[i];
        if (s->kind != OJ_WAL_DAMAGE)
            continue;
        (*damage_used)++;
        lines_of(s, lines, sizeof lines);
        snprintf(where, sizeof where, "damaged WAL %s: %s", lines, s->why);
        add_lost(p, from, to, false, where);
        return;
    }
    /* The smallest snapshot that would have covered them. */
    for (size_t k = in->nsnaps; k-- > 0;) {
        const struct oj_recovery_snap *sn = &in->snaps[k];
        if (sn->info.seq < to || sn->usable)
            continue;
        snprintf(where, sizeof where, "only in snapshot %s, which is unusable: %s", sn->info.id,
                 sn->tried ? sn->why : "not tried");
        add_lost(p, from, to, false, where);
        return;
    }
    if (sc->base.base && sc->base.base_snapshot_seq >= to) {
        snprintf(where, sizeof where,
                 "only in snapshot %s, which the WAL rests on (it was compacted) and which is "
                 "missing from .oj/snapshots/",
                 sc->base.base_snapshot);
        add_lost(p, from, to, false, where);
        return;
    }
    add_lost(p, from, to, false, "missing from the WAL");
}

void oj_recovery_plan(const struct oj_recovery_in *in, struct oj_recovery_plan *p)
{
    memset(p, 0, sizeof *p);
    const struct oj_wal_scan *sc = in->scan;
    uint64_t e = in->state_seq;

    if (in->rebuild && sc->records > 0 && (sc->first_seq != 1 || sc->base.base)) {
        p->verdict = OJ_RECOVERY_BROKEN;
        return;
    }

    uint64_t hwm = sc->max_seq;
    for (size_t i = 0; i < in->nsnaps; i++)
        if (in->snaps[i].info.seq > hwm)
            hwm = in->snaps[i].info.seq;
    if (sc->base.base && sc->base.base_snapshot_seq > hwm)
        hwm = sc->base.base_snapshot_seq;
    if (e > hwm)
        hwm = e;
    p->hwm = hwm;

    uint64_t damaged_bytes = 0;
    for (size_t i = 0; i < sc->nsegs; i++) {
        const struct oj_wal_seg *s = &sc->segs[i];
        if (s->kind == OJ_WAL_DAMAGE)
            damaged_bytes += (uint64_t)(s->end - s->start);
        if (s->kind == OJ_WAL_TORN) {
            p->cut_torn = true;
            p->torn_start = s->start;
        }
    }
    p->damaged_segs = sc->damaged_segs;
    p->add_newline = sc->missing_newline;
    uint64_t top = hwm > sc->max_claimed ? hwm : sc->max_claimed;
    p->next_seq = top + 1 + damaged_bytes / MIN_RECORD_BYTES;

    /* A restore or --recover cut off after writing its snapshot: the WAL is
     * already kept as a copy and everything it holds (or seems to hold) is
     * older than that snapshot. Finish it: a new WAL resting on the snapshot. */
    uint64_t wal_top = sc->max_seq > sc->max_claimed ? sc->max_seq : sc->max_claimed;
    if (in->wal_kept && in->loaded >= 0 && wal_top < e) {
        p->rebase = true;
        p->cut_torn = p->add_newline = false;
        p->damaged_segs = 0;
        p->verdict = OJ_RECOVERY_CLEAN;
        return;
    }

    /* Where in the file the records after the state would start: after the
     * last run that ends at or before it. */
    size_t after = 0, last_run = 0;
    bool any_run = false;
    for (size_t i = 0; i < sc->nsegs; i++) {
        const struct oj_wal_seg *s = &sc->segs[i];
        if (s->kind != OJ_WAL_RUN)
            continue;
        if (s->last_seq <= e)
            after = i + 1;
        last_run = i;
        any_run = true;
    }
    /* Damage after the last valid record: it may hold any number of records. */
    const struct oj_wal_seg *tail = NULL;
    for (size_t i = any_run ? last_run + 1 : 0; i < sc->nsegs && tail == NULL; i++)
        if (sc->segs[i].kind == OJ_WAL_DAMAGE)
            tail = &sc->segs[i];

    size_t damage_used = 0;
    uint64_t cur = e;
    for (size_t i = after; i < sc->nsegs; i++) {
        const struct oj_wal_seg *s = &sc->segs[i];
        if (s->kind != OJ_WAL_RUN || s->last_seq <= e)
            continue;
        uint64_t a = s->first_seq > e + 1 ? s->first_seq : e + 1;
        if (a > cur + 1)
            explain_gap(in, p, cur + 1, a - 1, after, i, &damage_used);
        char where[400], lines[64];
        lines_of(s, lines, sizeof lines);
        if (sc->base.base && s->first_seq == sc->first_seq && s->first_seq == s->last_seq)
            snprintf(where, sizeof where, "the WAL's base record, which names snapshot %s",
                     sc->base.base_snapshot);
        else
            snprintf(where, sizeof where, "intact records on WAL %s, after the gap", lines);
        add_lost(p, a, s->last_seq, true, where);
        cur = s->last_seq;
        after = i + 1;
    }
    char where[400], lines[64];
    if (tail) {
        lines_of(tail, lines, sizeof lines);
        /* Up to the end of the data: a preallocated end after it holds nothing. */
        off_t end = sc->segs[sc->nsegs - 1].end;
        snprintf(where, sizeof where, "damaged bytes at the end of the WAL (%s, %lld bytes: %s)",
                 lines, (long long)(end - tail->start), tail->why);
        add_lost(p, cur + 1, 0, false, where);
        damage_used++;
    } else if (hwm > cur) {
        explain_gap(in, p, cur + 1, hwm, after, sc->nsegs, &damage_used);
    } else if (in->loaded >= 0 && sc->records > 0 && sc->max_seq < e) {
        snprintf(where, sizeof where,
                 "the WAL ends at seq %llu, before snapshot %s (seq %llu): whatever was written "
                 "after the snapshot is missing",
                 (unsigned long long)sc->max_seq, in->snaps[in->loaded].info.id,
                 (unsigned long long)e);
        add_lost(p, e + 1, 0, false, where);
    } else if (in->loaded >= 0 && sc->records == 0 && sc->damaged_segs == 0 && !p->cut_torn &&
               in->loaded_version >= 2) {
        /* Compaction, restore and --recover always leave a base record: an
         * empty WAL beside a format-2 snapshot was deleted or truncated. (An
         * empty WAL beside a format-1 snapshot is how older versions left
         * a compacted one.) */
        snprintf(where, sizeof where,
                 "wal.jsonl is missing or empty, but snapshot %s (seq %llu) always has a WAL "
                 "after it: whatever was written after the snapshot is missing",
                 in->snaps[in->loaded].info.id, (unsigned long long)e);
        add_lost(p, e + 1, 0, false, where);
    }
    p->damage_covered = damage_used < sc->damaged_segs;

    if (in->loaded != 0 && !in->rebuild) {
        size_t n = 0;
        for (size_t i = 0; i < in->nsnaps && n + 1 < sizeof p->fallback; i++) {
            const struct oj_recovery_snap *sn = &in->snaps[i];
            if (!sn->tried || sn->usable)
                continue;
            n += (size_t)snprintf(p->fallback + n, sizeof p->fallback - n,
                                  "%ssnapshot %s is unusable (%s)", n ? "; " : "", sn->info.id,
                                  sn->why);
        }
        if (n > 0 && n + 1 < sizeof p->fallback) {
            if (in->loaded >= 0)
                snprintf(p->fallback + n, sizeof p->fallback - n,
                         "; started from snapshot %s (seq %llu) and the WAL",
                         in->snaps[in->loaded].info.id,
                         (unsigned long long)in->snaps[in->loaded].info.seq);
            else
                snprintf(p->fallback + n, sizeof p->fallback - n, "; replayed the WAL from the start");
        }
    }
    p->verdict = p->damaged_segs > 0 || p->nlost > 0 ? OJ_RECOVERY_REFUSE : OJ_RECOVERY_CLEAN;
}

void oj_recovery_describe_lost(const struct oj_recovery_plan *p, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->nlost && n + 1 < len; i++) {
        const struct oj_recovery_lost *l = &p->lost[i];
        const char *sep = i ? "; " : "";
        if (l->to == 0)
            n += (size_t)snprintf(buf + n, len - n, "%sany seq from %llu on (%s)", sep,
                                  (unsigned long long)l->from, l->where);
        else if (l->from == l->to)
            n += (size_t)snprintf(buf + n, len - n, "%sseq %llu (%s)", sep,
                                  (unsigned long long)l->from, l->where);
        else
            n += (size_t)snprintf(buf + n, len - n, "%sseq %llu..%llu (%s)", sep,
                                  (unsigned long long)l->from, (unsigned long long)l->to,
                                  l->where);
    }
    if (p->lost_more && n + 1 < len)
        snprintf(buf + n, len - n, "; and more");
}
