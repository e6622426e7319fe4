/* recovery.h — what start-up does with the state files it found: the rules of
 * docs/storage.md's recovery table, as a pure function of what the snapshot
 * loader and the WAL scan saw. No I/O here: store.c gathers the facts, asks
 * oj_recovery_plan(), and carries out the answer.
 *
 * The promise it keeps: start-up never goes back past the highest sequence
 * number it can see was used (the high-water mark: every valid WAL record,
 * every snapshot's name, the snapshot a compacted WAL rests on). Whatever is
 * below that mark and not in the rebuilt state is "lost", reported by exact
 * seq range with where it was; bytes that are set aside are kept in a copy;
 * and the next seq is past every number that may have been used. */
#ifndef OJ_RECOVERY_H
#define OJ_RECOVERY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapshot.h"
#include "wal.h"

/* One snapshot file as start-up saw it. */
struct oj_recovery_snap {
    struct oj_snapshot_info info;
    bool tried;     /* start-up tried to load it */
    bool usable;    /* and it loaded */
    char why[200];  /* why not, when tried and unusable */
};

struct oj_recovery_in {
    const struct oj_recovery_snap *snaps; /* every snapshot by name, newest first */
    size_t nsnaps;
    int loaded;                 /* index of the snapshot the state came from; -1 = none */
    int loaded_version;         /* its format (1 or 2) */
    bool wal_kept;              /* the WAL is already kept under another name (a restore
                                   or --recover made the copy, then was cut off) */
    bool rebuild;               /* --rebuild-state: snapshots ignored */
    const struct oj_wal_scan *scan;
    uint64_t state_seq;         /* seq of the state after replaying the gap-free chain */
};

enum oj_recovery_verdict {
    OJ_RECOVERY_CLEAN,   /* start; maybe with notes (an older snapshot used, a torn tail) */
    OJ_RECOVERY_REFUSE,  /* damage or loss: start only with --recover */
    OJ_RECOVERY_BROKEN,  /* cannot start at all (--rebuild-state on a compacted WAL) */
};

#define OJ_RECOVERY_MAX_LOST 8

struct oj_recovery_lost {
    uint64_t from, to;   /* seqs from..to; to == 0: "and any after from" (damaged tail) */
    bool intact;         /* intact records set aside because they follow a gap */
    char where[400];
};

struct oj_recovery_plan {
    enum oj_recovery_verdict verdict;
    uint64_t hwm;            /* highest seq known to have been used */
    uint64_t next_seq;       /* first seq free for a recovered state: past hwm and any
                                records damaged bytes may have held */
    bool cut_torn;           /* cut the torn tail (a copy kept) */
    off_t torn_start;
    bool add_newline;        /* the final record lacks only its "\n" */
    bool rebase;             /* a restore or --recover was cut off after its snapshot:
                                finish it with a new WAL resting on the snapshot */
    size_t damaged_segs;     /* damaged stretches of the WAL, lost or not */
    bool damage_covered;     /* some damage held only records the state already has */
    struct oj_recovery_lost lost[OJ_RECOVERY_MAX_LOST];
    size_t nlost;            /* ranges listed (more may be summed in lost_more) */
    bool lost_more;
    uint64_t lost_count;     /* seqs lost, counting only the closed ranges */
    bool lost_open;          /* a damaged tail may have held more records */
    char fallback[512];      /* a note when newer snapshots were unusable, else "" */
};

void oj_recovery_plan(const struct oj_recovery_in *in, struct oj_recovery_plan *out);

/* "seq 4..6 (only in snapshot X, which is unusable: ...); seq 7..9 (...)" */
void oj_recovery_describe_lost(const struct oj_recovery_plan *p, char *buf, size_t len);
#endif
