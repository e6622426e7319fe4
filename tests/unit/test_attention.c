/* What oj status lists first and what it says to run next (rules/attention.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "attention.h"

Test(attention, a_lock_is_listed_when_stale_or_held_long)
{
    struct oj_lock_seen l = {.since_ms = 0, .heartbeat_ms = 0, .now_ms = 59000};
    cr_expect(!oj_attention_lock_listed(&l, 60000), "held 59 s of 60: not yet");
    l.now_ms = 60000;
    cr_expect(oj_attention_lock_listed(&l, 60000), "held 60 s of 60");
    cr_expect(!oj_attention_lock_listed(&l, 0), "0: only stale ones");
    l.stale = true;
    cr_expect(oj_attention_lock_listed(&l, 0));
}

Test(attention, why_tells_gone_from_silent_from_long)
{
    char why[160];
    struct oj_lock_seen l = {.stale = true, .since_ms = 0, .heartbeat_ms = 1000,
                             .timeout_ms = 60000, .now_ms = 301000, .holder_pid = 77};
    oj_attention_lock_why(&l, why, sizeof why);
    cr_expect_str_eq(why, "stale: no heartbeat for 5m 0s (timeout 1m 0s)");
    l.now_ms = 2000; /* heartbeat fresh, yet stale: its process is gone */
    oj_attention_lock_why(&l, why, sizeof why);
    cr_expect_str_eq(why, "stale: holder gone (pid 77)");
    l.stale = false;
    l.now_ms = 7380000;
    oj_attention_lock_why(&l, why, sizeof why);
    cr_expect(strncmp(why, "held for 2h 3m", 14) == 0, "%s", why);
}

Test(attention, the_next_command_names_the_thing)
{
    char next[300];
    oj_attention_lock_next("merge-lock", true, next, sizeof next);
    cr_expect_str_eq(next, "oj lock release merge-lock --force");
    oj_attention_lock_next("merge-lock", false, next, sizeof next);
    cr_expect(strncmp(next, "oj lock status merge-lock", 25) == 0, "%s", next);
    oj_attention_pipeline_next("p1a2b3c", next, sizeof next);
    cr_expect(strstr(next, "oj pipeline logs p1a2b3c") &&
                  strstr(next, "oj pipeline resume p1a2b3c"),
              "%s", next);
    oj_attention_session_next("s1a2b3c", next, sizeof next);
    cr_expect(strstr(next, "oj session send s1a2b3c") != NULL, "%s", next);
}

Test(attention, escalated_first_then_newest)
{
    cr_expect_lt(oj_attention_order(true, 1, false, 9), 0, "escalated before a newer failure");
    cr_expect_gt(oj_attention_order(false, 9, true, 1), 0);
    cr_expect_lt(oj_attention_order(false, 9, false, 1), 0, "newest first");
    cr_expect_eq(oj_attention_order(false, 5, false, 5), 0);
}

Test(attention, stale_locks_first_then_the_longest_held)
{
    struct oj_lock_seen stale_new = {.stale = true, .since_ms = 900};
    struct oj_lock_seen old = {.since_ms = 100}, newer = {.since_ms = 500};
    cr_expect_lt(oj_attention_lock_order(&stale_new, &old), 0, "stale before held long");
    cr_expect_gt(oj_attention_lock_order(&old, &stale_new), 0);
    cr_expect_lt(oj_attention_lock_order(&old, &newer), 0, "the longest held first");
    cr_expect_eq(oj_attention_lock_order(&old, &old), 0);
}
