/* retention.h — which history files a daemon left running removes.
 *
 * History is what finished work leaves under .oj/: session logs and exit
 * status files, pipeline logs, agent prompts and archive files. A file that
 * belongs to a record in the live state is never removed (its session or
 * pipeline may still be looked at, resumed or archived), nor one written in
 * the OJ_RETENTION_FRESH_MS before the list of live ids was taken or since (its
 * record may be too new to be in that list: a session's log can be made just
 * before its record is journaled). Of the others, those older than
 * the retention period go, and then, while the history (the files of records
 * no longer live) is over its size cap, the oldest of what is left.
 *
 * Pure: no I/O, no clock (now is given), so it is unit-tested. */
#ifndef OJ_RETENTION_H
#define OJ_RETENTION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_RETENTION_FRESH_MS (60 * 1000)

struct oj_history_file {
    char *path;  /* the caller's; the plan only moves it with its file */
    int64_t mtime_ms;
    uint64_t bytes;
    bool live;   /* belongs to a record in the live state (or is never history) */
    bool remove; /* set by oj_retention_plan */
};

struct oj_retention_totals {
    size_t removed;           /* files marked */
    uint64_t removed_bytes;
    uint64_t kept_bytes;      /* what is left, live files included */
    size_t history;           /* what is left of the history (what the cap bounds): */
    uint64_t history_bytes;   /* files and bytes */
    size_t kept;
};

/* Marks f[i].remove for the files to remove; now_ms is when the live ids were
 * taken. retain_ms <= 0: no age limit;
 * cap_bytes 0: no size cap. Reorders f (oldest first). */
void oj_retention_plan(struct oj_history_file *f, size_t n, int64_t now_ms, int64_t retain_ms,
                       uint64_t cap_bytes, struct oj_retention_totals *t);
#endif
