/* locks.h — the rules of shared locks (merge-lock and friends), as pure
 * functions: no clock, no I/O, no process checks. lock_engine.c gathers the
 * facts (now, heartbeat, is the holder's process alive) and acts on the
 * verdict, for LockAcquire/LockRelease and for pipelines alike.
 *
 * A lock entity ("lock"/<name>) holds: holder, since_ms, timeout_ms,
 * holder_pid, host. Heartbeats are liveness, kept in memory, never journaled.
 * A held lock is stale when its holder is gone (holder_pid no longer runs on
 * this host) or its last heartbeat is older than timeout_ms. Acquiring a
 * stale lock takes it over; acquiring a lock you hold is a heartbeat. */
#ifndef OJ_LOCKS_H
#define OJ_LOCKS_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define OJ_LOCK_NAME_MAX 64
#define OJ_LOCK_HOLDER_MAX 200
/* Pipelines hold locks through the daemon: no process of their own (pid 0,
 * so never "holder gone"), a heartbeat every tick, and this timeout so a lock
 * whose pipeline stopped heartbeating is stale. */
#define OJ_LOCK_PIPELINE_TIMEOUT_MS 60000

struct oj_lock {
    char holder[OJ_LOCK_HOLDER_MAX + 1];
    char host[128];
    int32_t holder_pid;
    int64_t since_ms, timeout_ms;
};

/* NULL when the name is fine for a new lock, else why it is not. */
const char *oj_lock_name_problem(const char *name);
/* The looser rule for naming a lock that may already exist (status, release):
 * a lock taken under an older, laxer rule (a runbook could hold "../../etc")
 * must stay visible and releasable by its exact name. Whether one exists is
 * for the caller to check; a name that fails oj_lock_name_problem can only
 * find an existing lock, never make one. */
const char *oj_lock_ref_problem(const char *name);

int oj_lock_from_json(const cJSON *v, struct oj_lock *l); /* 0, or -1 when malformed */
cJSON *oj_lock_to_json(const struct oj_lock *l);

bool oj_lock_is_stale(const struct oj_lock *l, int64_t heartbeat_ms, int64_t now_ms,
                      bool holder_alive);
/* The holder's last heartbeat: the one seen (heartbeat, NULL when none was
 * seen since the daemon started), else the later of the lock's since_ms and
 * the daemon's start. Heartbeats are not journaled, so after a restart a held
 * lock counts from the start: a fair grace for its holder to show up. */
int64_t oj_lock_last_heartbeat(const struct oj_lock *l, const int64_t *heartbeat,
                               int64_t daemon_started_ms);
/* The pid whose life decides whether the holder is alive, when this host can
 * tell: 0 when the lock names no process (a pipeline's) or one on another
 * host (a lock with no host is taken for this host's). */
int32_t oj_lock_pid_to_check(const struct oj_lock *l, const char *this_host);

/* The terms a pipeline holds a lock on (holder = its id; since_ms 0, set
 * when it is taken). */
struct oj_lock oj_lock_pipeline_terms(const char *pipeline_id, const char *host);

enum oj_acquire_verdict {
    OJ_ACQUIRE_GRANTED,   /* was free */
    OJ_ACQUIRE_RENEWED,   /* already ours: heartbeat */
    OJ_ACQUIRE_TAKE_OVER, /* someone else's, but stale */
    OJ_ACQUIRE_BUSY,      /* someone else's and alive */
};
/* current NULL = free. */
enum oj_acquire_verdict oj_lock_acquire_verdict(const struct oj_lock *current, bool stale,
                                                const char *holder);
/* The record after acquiring with verdict v (not BUSY): want's terms, held
 * since now, or since it was first taken when renewed. Returns whether it
 * differs from current, i.e. must be journaled (a renewal on the same terms
 * is only a heartbeat). */
bool oj_lock_acquired(const struct oj_lock *current, enum oj_acquire_verdict v,
                      const struct oj_lock *want, int64_t now_ms, struct oj_lock *next);

enum oj_release_verdict {
    OJ_RELEASE_OK,
    OJ_RELEASE_NOT_HELD,
    OJ_RELEASE_NOT_HOLDER,
};
enum oj_release_verdict oj_lock_release_verdict(const struct oj_lock *current, const char *holder,
                                                bool force);
#endif
