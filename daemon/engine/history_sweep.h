/* history_sweep.h — keeps what finished work leaves under .oj/ (session logs
 * and status files, pipeline logs, prompts, archive files) within
 * OJ_RETAIN_HISTORY and OJ_HISTORY_MAX_SIZE, so that a daemon left running for
 * weeks does not fill the disk with millions of files.
 *
 * At the first tick and then every tenth of OJ_RETAIN_HISTORY (at least 10 s,
 * at most OJ_HISTORY_SWEEP_MS: every 10 minutes by default), the engine copies the
 * ids of the records in the live state and hands them to a thread of its own
 * (engine_work.h), which lists the files, asks retention.h which to remove,
 * removes them and reports back; the engine never waits for the disk. */
#ifndef OJ_HISTORY_SWEEP_H
#define OJ_HISTORY_SWEEP_H
#include <stdint.h>

#include "daemon.h"

#define OJ_HISTORY_SWEEP_MS (10 * 60 * 1000)

/* Engine thread, from the tick: starts a sweep when one is due and none runs. */
void oj_history_tick(struct oj_daemon *d);

/* What the last sweep found (kept) and removed; all 0 before the first. Any thread. */
struct oj_history_stats {
    uint64_t bytes, files;          /* the history now (files of records no longer live) */
    uint64_t removed, removed_bytes; /* by every sweep since the start */
    int64_t last_sweep_ms;          /* wall clock of the last sweep's end; 0: none yet */
};
void oj_history_stats(struct oj_daemon *d, struct oj_history_stats *st);
#endif
