/* attention.h — what oj status puts first, the things that need a human, as
 * pure rules: which locks are worth a look and why, which pipelines come
 * first, and the command to run next for each. No clock, no I/O. */
#ifndef OJ_ATTENTION_H
#define OJ_ATTENTION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Escalated and failed pipelines listed at most; the rest are counted. */
#define OJ_ATTENTION_MAX_PIPELINES 5
#define OJ_ATTENTION_MAX_LOCKS 10 /* locks listed; the rest counted */

/* The next command for a pipeline that needs a human. */
void oj_attention_pipeline_next(const char *id, char *buf, size_t len);
/* The next command for a session whose agent waits for an answer. */
void oj_attention_session_next(const char *sid, char *buf, size_t len);

/* A held lock as status sees it. */
struct oj_lock_seen {
    bool stale;
    int64_t since_ms, heartbeat_ms, timeout_ms, now_ms;
    int32_t holder_pid;
};
/* Whether the lock is worth a look: stale, or held for held_long_ms or more
 * (0: only stale ones). */
bool oj_attention_lock_listed(const struct oj_lock_seen *l, int64_t held_long_ms);
/* Why, in a few words ("holder gone (pid 123)", "no heartbeat for 5m 0s
 * (timeout 1m 0s)", "held for 2h 3m"), and the command to run next. */
void oj_attention_lock_why(const struct oj_lock_seen *l, char *buf, size_t len);
void oj_attention_lock_next(const char *name, bool stale, char *buf, size_t len);

/* Order of listed locks: stale before held long, then the longest held
 * first. <0 when a comes first. */
int oj_attention_lock_order(const struct oj_lock_seen *a, const struct oj_lock_seen *b);

/* Order of listed pipelines: escalated before failed, then the newest
 * change first. <0 when a comes first. */
int oj_attention_order(bool a_escalated, int64_t a_since, bool b_escalated, int64_t b_since);
#endif
