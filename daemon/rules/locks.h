/* locks.h — the rules of shared locks (merge-lock and friends), as pure
 * functions: no clock, no I/O, no process checks. The handlers in rpc_lock.c
 * gather the facts (now, heartbeat, is the holder's process alive) and act on
 * the verdict.
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

enum oj_acquire_verdict {
    OJ_ACQUIRE_GRANTED,   /* was free */
    OJ_ACQUIRE_RENEWED,   /* already ours: heartbeat */
    OJ_ACQUIRE_TAKE_OVER, /* someone else's, but stale */
    OJ_ACQUIRE_BUSY,      /* someone else's and alive */
};
/* current NULL = free. */
enum oj_acquire_verdict oj_lock_acquire_verdict(const struct oj_lock *current, bool stale,
                                                const char *holder);

enum oj_release_verdict {
    OJ_RELEASE_OK,
    OJ_RELEASE_NOT_HELD,
    OJ_RELEASE_NOT_HOLDER,
};
enum oj_release_verdict oj_lock_release_verdict(const struct oj_lock *current, const char *holder,
                                                bool force);
#endif
