/* store.h — the durable state: in-memory entities (state.h) kept on disk as a
 * write-ahead log (wal.c) plus snapshots (snapshot.c).
 *
 * Contract:
 *  - A change is acknowledged only after its WAL record is on disk: callers
 *    commit on the engine thread, then hand their reply to
 *    oj_store_after_sync(), which sends it once a sync covers it. Concurrent
 *    changes share one fdatasync (group commit). Replies to reads wait the
 *    same way when unsynced changes are pending, so nobody ever sees state
 *    that a crash could take back.
 *  - Start-up (oj_store_open) rebuilds exactly the acknowledged state: newest
 *    verifying snapshot, then the gap-free chain of WAL records after it. It
 *    never goes back past the highest seq it can see was used: damage or a
 *    gap stops the start with what is missing and the exact command
 *    (--recover) that accepts the loss; only a torn final record (a write
 *    that never finished) is cut off, and its bytes are kept. The rules are
 *    recovery.h's; docs/storage.md has them as a table.
 *  - Sequence numbers are never reused, across compaction, restore and
 *    --recover: a compacted or restored WAL starts with a base record naming
 *    the snapshot it rests on.
 *  - An fdatasync failure ends the daemon (after logging why): the kernel may
 *    have dropped the data, so nothing may be acknowledged after it.
 *
 * Threads: everything but after_sync, sync_here, stats, oj_store_restore_work
 * and oj_store_maint_work runs on the engine thread (or on a thread that holds
 * the state in its stead, engine.c run_at_once). */
#ifndef OJ_STORE_H
#define OJ_STORE_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "state.h"

struct oj_store;

struct oj_store_opts {
    const char *state_dir;   /* .oj */
    bool recover;            /* --recover: accept the losses start-up would refuse */
    bool rebuild;            /* --rebuild-state: ignore snapshots, replay the whole WAL */
    uint64_t snapshot_every; /* automatic snapshot after this many records; 0 = never */
    unsigned snapshot_keep;  /* snapshots kept after a new one (at least 1) */
    uint64_t compact_bytes;  /* automatic compaction past this WAL size; 0 = never */
    /* Start-up findings the operator should see (torn tail cut, snapshot
     * fallback, what --recover dropped); also logged. */
    void (*note)(const char *text, void *arg);
    void *note_arg;
    /* When set, an automatic snapshot or compaction that falls due is not
     * done inside oj_store_commit: due(due_arg) is called once (engine
     * thread), and whoever it tells runs oj_store_maint_begin(s,
     * oj_store_maint_take(s)) etc. when it can, off the engine thread. */
    void (*maint_due)(void *arg);
    void *maint_due_arg;
};

struct oj_store_stats {
    uint64_t last_seq;
    uint64_t wal_bytes;
    uint64_t records_since_snapshot;
    unsigned snapshot_count;
    int64_t newest_snapshot_ms; /* 0 when there is none */
    uint64_t syncs;             /* fdatasync calls since start-up */
    char newest_snapshot[OJ_SNAPSHOT_ID_MAX];
};

int oj_store_open(struct oj_store **out, const struct oj_store_opts *o, char *err, size_t errlen);
/* Syncs, takes a snapshot when `snapshot` and anything changed since the last
 * one, stops the sync thread, closes. */
void oj_store_close(struct oj_store *s, bool snapshot);

/* The current state (engine thread only; read it, never change it directly). */
const struct oj_state *oj_store_state(const struct oj_store *s);
/* Keeps an index of the state (oj_state_index), a restored state included.
 * 0, or -1 when it could not be made (walks then look at every entity). */
int oj_store_index(struct oj_store *s, const char *kind, oj_state_pred pred);

/* Journals `op` (ownership taken; use oj_op_batch for several that must land
 * together) and applies it. Returns the record's seq, or 0 with err when it
 * could not be written (the state is then unchanged). */
uint64_t oj_store_commit(struct oj_store *s, cJSON *op, char *err, size_t errlen);

/* Runs fn(arg) once everything committed so far is on disk: at once when it
 * already is, else from the sync thread. Any thread. */
void oj_store_after_sync(struct oj_store *s, void (*fn)(void *), void *arg);

/* Group commit led by a thread that commits on its own (engine.c
 * run_at_once) instead of the sync thread: with defer_sync on, its commits
 * do not wake the sync thread; oj_store_sync_here then syncs everything
 * written so far on the calling thread (and hands on every reply that waited
 * for it), unless a round is under way, whose maker then covers it. Call
 * defer_sync only while holding the state as a commit does; sync_here from
 * any thread that is not the engine's and holds no lock. */
void oj_store_defer_sync(struct oj_store *s, bool on);
void oj_store_sync_here(struct oj_store *s);

struct oj_compact_result {
    struct oj_snapshot_info snapshot;
    uint64_t wal_bytes_before, wal_bytes_after;
    unsigned snapshots_removed;
};
struct oj_restore_result {
    struct oj_snapshot_info restored; /* the snapshot whose state is now live */
    struct oj_snapshot_info written;  /* the new snapshot recording it at a fresh seq */
    char wal_backup[4400];
    /* What the live state loses: seqs dropped_from..dropped_to (dropped_count
     * of them, 0 = none), the changes made after the snapshot. */
    uint64_t snapshot_seq, dropped_from, dropped_to, dropped_count;
    char counts[512]; /* "lock 6 -> 3, pipeline 2 -> 2" (online only) */
};

int oj_store_snapshot(struct oj_store *s, struct oj_snapshot_info *info, char *err, size_t errlen);
/* Snapshot, then a new WAL holding only the base record that names it. */
int oj_store_compact(struct oj_store *s, struct oj_compact_result *r, char *err, size_t errlen);

/* The same snapshot or compaction in three steps, so that the engine never
 * waits for the disk: begin (engine thread) notes where the WAL is; work (any
 * thread) waits for the WAL's sync, writes the snapshot of the live state
 * and, for a compaction, puts the new WAL in place; finish (engine thread)
 * makes them the live ones, fills r (for a snapshot only r->snapshot and
 * r->snapshots_removed), frees the job and returns what oj_store_snapshot or
 * oj_store_compact would. Between begin and finish the state must not
 * change, since work reads it: oj_store_commit refuses (and logs a daemon
 * bug); the engine holds writes meanwhile and answers only reads. begin
 * returns NULL when out of memory. */
enum oj_maint_kind { OJ_MAINT_NONE, OJ_MAINT_SNAPSHOT, OJ_MAINT_COMPACT };
struct oj_maint_job;
struct oj_maint_job *oj_store_maint_begin(struct oj_store *s, enum oj_maint_kind kind);
void oj_store_maint_work(struct oj_maint_job *j);
int oj_store_maint_finish(struct oj_store *s, struct oj_maint_job *j, struct oj_compact_result *r,
                          char *err, size_t errlen);
/* Which automatic maintenance the thresholds call for now (for whoever
 * opts.maint_due told): a compaction past compact_bytes, else a snapshot
 * after snapshot_every records, else none. The next commit that finds one due
 * tells opts.maint_due again. */
enum oj_maint_kind oj_store_maint_take(struct oj_store *s);
/* Logs a finished automatic snapshot or compaction. */
void oj_store_maint_log(const struct oj_store *s, enum oj_maint_kind kind,
                        const struct oj_compact_result *r);
/* id NULL = newest. With dry_run, only fills in what would be dropped.
 * Returns 0, -1 + err (the store unchanged), or -2 when no such snapshot
 * exists. Begin, work and finish below, one after the other. */
int oj_store_restore(struct oj_store *s, const char *id, bool dry_run,
                     struct oj_restore_result *r, char *err, size_t errlen);

/* The same restore in three steps, so that the engine never waits for the
 * disk: begin (engine thread) notes what the live state is; work (any thread)
 * waits for the WAL's sync, loads and verifies the snapshot and writes the new
 * files in the crash-safe order of docs/storage.md; finish (engine thread)
 * swaps the restored state and the new WAL in, fills r and frees the job, and
 * returns what oj_store_restore would. Between begin and finish of a restore
 * that is not a dry run nothing may be committed (oj_store_commit refuses
 * and logs a daemon bug): the engine holds writes meanwhile. begin returns
 * NULL when out of memory. */
struct oj_restore_job;
struct oj_restore_job *oj_store_restore_begin(struct oj_store *s, const char *id, bool dry_run);
void oj_store_restore_work(struct oj_restore_job *j);
int oj_store_restore_finish(struct oj_store *s, struct oj_restore_job *j,
                            struct oj_restore_result *r, char *err, size_t errlen);
/* The same, but the state the restore replaced is handed to *replaced (NULL
 * when none was), for the caller to free with oj_store_free_replaced on
 * another thread: freeing a big state takes long. */
int oj_store_restore_finish_keep(struct oj_store *s, struct oj_restore_job *j,
                                 struct oj_restore_result *r, struct oj_state **replaced,
                                 char *err, size_t errlen);
/* Frees a state a restore replaced and gives its memory back to the system
 * (any thread; NULL is fine). */
void oj_store_free_replaced(struct oj_state *replaced);
/* Frees a dry run's job whose finish will never run (the engine ended first);
 * any thread. */
void oj_store_restore_abandon(struct oj_restore_job *j);

/* The same restore with no daemon running (the caller holds the daemon's
 * single-instance lock): works even when the WAL is damaged, and numbers the
 * restored state past every seq the WAL, its damage or the snapshots may
 * have used. */
int oj_store_restore_offline(const char *state_dir, const char *id, bool dry_run,
                             struct oj_restore_result *r, char *err, size_t errlen);
void oj_store_stats(struct oj_store *s, struct oj_store_stats *st);
#endif
