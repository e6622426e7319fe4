/* lock_engine.h — shared locks with their effects (engine thread only): the
 * records in the store, heartbeats (liveness, kept in memory and never
 * journaled), whether a holder's process still runs. The rules are in
 * locks.h; this file gathers the facts, asks them, and journals the outcome.
 * LockAcquire/LockRelease (rpc_lock.c) and pipelines (pipeline_drive.c,
 * pipeline_tick.c) take and release locks by the same flow.
 *
 * Releasing a lock wakes nobody: whoever frees one tells the pipeline engine
 * (oj_pipelines_lock_freed), the part that knows who waits for it. */
#ifndef OJ_LOCK_ENGINE_H
#define OJ_LOCK_ENGINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "locks.h"

struct oj_daemon;

/* A lock as seen now. */
struct oj_lock_view {
    bool held;
    struct oj_lock lock;  /* when held */
    int64_t heartbeat_ms; /* when held: its last heartbeat (oj_lock_last_heartbeat) */
    bool stale;           /* when held */
    bool pid_checked;     /* when held: its holder's pid is on this machine and was looked at
                           * (it can go stale by dying, at any time) */
};

/* Looks at lock `name`; returns v->held. */
bool oj_lock_look(struct oj_daemon *d, const char *name, int64_t now_ms, struct oj_lock_view *v);

/* Every lock the state holds, as seen now (a malformed record is left out).
 * *out is malloc'd; names point into the state and are valid until its next
 * change. 0, or -1 when out of memory. */
struct oj_lock_entry {
    const char *name;
    struct oj_lock_view v;
};
int oj_locks_all(struct oj_daemon *d, int64_t now_ms, struct oj_lock_entry **out, size_t *n);
/* The same, one lock at a time, keeping none: for a walk that keeps little
 * of what it sees (oj status's, over every lock). */
void oj_locks_each(struct oj_daemon *d, int64_t now_ms,
                   void (*fn)(const char *name, const struct oj_lock_view *v, void *arg),
                   void *arg);

/* The one acquire flow: lock `name` for want's holder on want's terms
 * (since_ms is set here). *verdict says what happened; BUSY changes nothing.
 * Otherwise the new record is journaled when it changed and the heartbeat is
 * now. *was is the lock as it was. 0, or -1 with err when journaling failed. */
int oj_lock_acquire(struct oj_daemon *d, const char *name, const struct oj_lock *want,
                    int64_t now_ms, enum oj_acquire_verdict *verdict, struct oj_lock_view *was,
                    char *err, size_t errlen);

/* Releases lock `name` for holder (force: whoever holds it). *verdict OK: it
 * is free now (journaled, its heartbeat forgotten) and *was names who held
 * it; tell the pipeline engine. 0, or -1 with err when journaling failed. */
int oj_lock_release(struct oj_daemon *d, const char *name, const char *holder, bool force,
                    enum oj_release_verdict *verdict, struct oj_lock *was, char *err,
                    size_t errlen);

/* Locks held by the daemon itself for pipelines (oj_lock_pipeline_terms),
 * same flow as LockAcquire/LockRelease. take returns 1 when held now, 0 when
 * busy (holder named in who), -1 on a journaling error. drop releases the
 * lock when holder still holds it (an operator may have forced it away) and
 * wakes nobody. */
int oj_lock_take(struct oj_daemon *d, const char *name, const char *holder, char *who,
                 size_t wholen, char *err, size_t errlen);
void oj_lock_drop(struct oj_daemon *d, const char *name, const char *holder);

/* Heartbeats: a holder is alive as of ms (a pipeline's tick). */
void oj_lock_set_heartbeat(struct oj_daemon *d, const char *name, int64_t ms);
/* Forgets every heartbeat: at the stop, or when a restored state replaced the
 * one they belonged to (its locks then count from the daemon's start). */
void oj_lock_forget(struct oj_daemon *d);
#endif
