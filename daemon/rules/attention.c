/* attention.c — see attention.h. */
#include "attention.h"

#include <stdio.h>

#include "duration.h"

void oj_attention_pipeline_next(const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "oj pipeline logs %s, then oj pipeline resume %s (or cancel)", id, id);
}

void oj_attention_session_next(const char *sid, char *buf, size_t len)
{
    snprintf(buf, len, "oj session capture %s, then oj session send %s \"<answer>\"", sid, sid);
}

bool oj_attention_lock_listed(const struct oj_lock_seen *l, int64_t held_long_ms)
{
    return l->stale || (held_long_ms > 0 && l->now_ms - l->since_ms >= held_long_ms);
}

int oj_attention_lock_order(const struct oj_lock_seen *a, const struct oj_lock_seen *b)
{
    if (a->stale != b->stale)
        return a->stale ? -1 : 1;
    return a->since_ms < b->since_ms ? -1 : a->since_ms > b->since_ms;
}

void oj_attention_lock_why(const struct oj_lock_seen *l, char *buf, size_t len)
{
    char a[32], b[32];
    int64_t quiet = l->now_ms - l->heartbeat_ms;
    if (l->stale && l->timeout_ms > 0 && quiet > l->timeout_ms) {
        oj_duration_format(quiet, a, sizeof a);
        oj_duration_format(l->timeout_ms, b, sizeof b);
        snprintf(buf, len, "stale: no heartbeat for %s (timeout %s)", a, b);
    } else if (l->stale) {
        snprintf(buf, len, "stale: holder gone (pid %d)", (int)l->holder_pid);
    } else {
        oj_duration_format(l->now_ms - l->since_ms, a, sizeof a);
        snprintf(buf, len, "held for %s", a);
    }
}

void oj_attention_lock_next(const char *name, bool stale, char *buf, size_t len)
{
    if (stale)
        snprintf(buf, len, "oj lock release %s --force", name);
    else
        snprintf(buf, len, "oj lock status %s; if its holder is stuck: oj lock release %s --force",
                 name, name);
}

int oj_attention_order(bool a_escalated, int64_t a_since, bool b_escalated, int64_t b_since)
{
    if (a_escalated != b_escalated)
        return a_escalated ? -1 : 1;
    return a_since > b_since ? -1 : a_since < b_since ? 1 : 0;
}
