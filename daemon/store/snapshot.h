/* snapshot.h — point-in-time copies of the whole state in .oj/snapshots/.
 * Format at the top of snapshot.c and in docs/storage.md. */
#ifndef OJ_SNAPSHOT_H
#define OJ_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define OJ_SNAPSHOT_ID_MAX 64
/* Sequence numbers stay below 2^52, so every JSON reader holds them exactly. */
#define OJ_SEQ_MAX (1ull << 52)

struct oj_snapshot_info {
    char id[OJ_SNAPSHOT_ID_MAX]; /* file name without ".json" */
    uint64_t seq;
    int64_t time_ms;             /* from the file name (UTC, second resolution) */
    uint64_t bytes;
};

/* Writes `state` (covering records up to its seq) atomically: temp file,
 * fsync, rename, fsync of the directory. Fills info. Returns 0 or -1 + err. */
int oj_snapshot_write(const char *dir, const struct oj_state *state, int64_t now_ms,
                      struct oj_snapshot_info *info, char *err, size_t errlen);

/* Lists snapshots (by name pattern, a seq of at most OJ_SEQ_MAX; content
 * unchecked), newest (highest seq, then latest time) first. Returns the count, or -1 + err. *out is malloc'd. */
int oj_snapshot_list(const char *dir, struct oj_snapshot_info **out, char *err, size_t errlen);

/* Reads and verifies a snapshot file into `state`. Returns 0, or -1 with the
 * reason (unreadable, bad JSON, checksum mismatch, ...). */
int oj_snapshot_load(const char *path, struct oj_state *state, char *err, size_t errlen);
/* The same, also saying which format the file had (1 or 2) when version is
 * not NULL. */
int oj_snapshot_load_version(const char *path, struct oj_state *state, int *version, char *err,
                             size_t errlen);

/* Parses a snapshot file's contents (for the fuzzer and tests). */
int oj_snapshot_parse(const char *data, size_t len, struct oj_state *state, char *err,
                      size_t errlen);

/* Removes all but the newest `keep` snapshots. Returns how many it removed. */
int oj_snapshot_prune(const char *dir, unsigned keep);
#endif
