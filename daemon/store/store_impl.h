/* store_impl.h — what the two halves of the store share: store_open.c (start-up:
 * load, check, repair or refuse) and store.c (commits, group commit, snapshots,
 * compaction, restore). Nothing outside those two files includes this. */
#ifndef OJ_STORE_IMPL_H
#define OJ_STORE_IMPL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "state.h"
#include "store.h"

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
    uint64_t wal_bytes; /* where the records end: the next one is written here */
    uint64_t wal_alloc; /* the file's size: wal_bytes plus the preallocated end (wal.c) */
    char *fill;         /* OJ_WAL_CHUNK bytes of OJ_WAL_FILL, made at the first growth */
    uint64_t last_seq;     /* last record written (engine thread) */
    uint64_t snapshot_seq; /* seq of the newest snapshot */
    unsigned snapshot_count;
    int64_t newest_snapshot_ms;
    char newest_snapshot[OJ_SNAPSHOT_ID_MAX];
    bool restoring; /* between oj_store_restore_begin and _finish (not a dry run), or
                     * oj_store_maint_begin and _finish: no commit */
    bool maint_told; /* opts.maint_due was called; cleared by oj_store_maint_begin */

    /* shared with the sync thread */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, synced_cv;
    uint64_t written, synced;
    uint64_t delivered; /* synced, and the replies waiting for it handed on */
    uint64_t syncs; /* fdatasync calls made: fewer than records under load (group commit) */
    struct waiter *waiters, *waiters_tail;
    bool stopping;
    bool syncing;    /* a round is under way (the sync thread's or a leader's) */
    pthread_t syncer;
    /* Set by the one thread that holds the state (engine.c state_mu) while
     * it commits and will call oj_store_sync_here: no wake-up for the sync
     * thread. Read only by that thread. */
    bool defer_sync;
};

/* Logs a warning and hands it to opts.note (the starting CLI's `note:`). */
void oj_store_note(struct oj_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* UTC now as YYYYMMDDTHHMMSSZ. */
void oj_store_stamp(char *buf, size_t len);

/* Keeps the file at `path` under a second name, `<path>.<tag>-<time>` (with
 * -2, -3, … when taken), as a hard link: no byte is copied and none can be
 * lost. When some `<path>.*` already is the same file, that name is reused.
 * A missing `path` keeps nothing (out = ""). *made says whether a new name
 * was made (so a failed operation can take it back). 0, or -1 + err. */
int oj_store_keep_copy(const char *path, const char *tag, char *out, size_t outlen, bool *made,
                       char *err, size_t errlen);

/* Whether some `<path>.*` is the same file as `path` (a kept copy), its
 * name in out. */
bool oj_store_has_copy(const char *path, char *out, size_t outlen);

/* Replaces the WAL with a new one whose only record is the base record of
 * snapshot `snap` (seq snap->seq + 1), atomically: temp file, fsync, rename,
 * fsync of the directory. With keep_tag, the old WAL is first kept with
 * oj_store_keep_copy (its name in kept, when kept is not NULL). 0, or -1 + err
 * with nothing changed. */
int oj_store_rebase_wal(const char *dir, const char *wal_path, const struct oj_snapshot_info *snap,
                        const char *keep_tag, char *kept, size_t keptlen, char *err,
                        size_t errlen);

/* Starts the sync thread on an open store (last step of oj_store_open). */
int oj_store_start_syncer(struct oj_store *s, char *err, size_t errlen);
void oj_store_free(struct oj_store *s);
#endif
