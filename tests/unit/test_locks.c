/* The rules of shared locks on struct oj_lock, without a daemon: names, the
 * record's codec, staleness, who may take and release a lock, and what an
 * acquisition writes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "locks.h"

static struct oj_lock held_by(const char *holder, int64_t since_ms, int64_t timeout_ms)
{
    struct oj_lock l = {.since_ms = since_ms, .timeout_ms = timeout_ms};
    snprintf(l.holder, sizeof l.holder, "%s", holder);
    snprintf(l.host, sizeof l.host, "%s", "box");
    return l;
}

Test(locks_rules, names_for_new_locks_and_for_existing_ones)
{
    cr_expect_null(oj_lock_name_problem("merge-lock"));
    cr_expect_null(oj_lock_name_problem("a.b_c-9"));
    cr_expect_str_eq(oj_lock_name_problem(""), "a lock needs a name");
    cr_expect_not_null(oj_lock_name_problem("../../etc"), "no path pieces in a new name");
    char long_name[OJ_LOCK_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    cr_expect_not_null(oj_lock_name_problem(long_name), "65 characters is one too many");
    long_name[OJ_LOCK_NAME_MAX] = '\0';
    cr_expect_null(oj_lock_name_problem(long_name), "64 characters is fine");
    /* An old lock's name is looked up as it is, whatever it holds. */
    cr_expect_null(oj_lock_ref_problem("../../etc"));
    cr_expect_str_eq(oj_lock_ref_problem(""), "a lock needs a name");
}

Test(locks_rules, the_record_goes_to_json_and_back)
{
    struct oj_lock l = held_by("alice", 1700000000123, 30000);
    l.holder_pid = 4242;
    cJSON *j = oj_lock_to_json(&l);
    char *text = cJSON_PrintUnformatted(j);
    cr_expect_str_eq(text, "{\"holder\":\"alice\",\"host\":\"box\",\"holder_pid\":4242,"
                           "\"since_ms\":1700000000123,\"timeout_ms\":30000}",
                     "the on-disk form of a lock");
    struct oj_lock back;
    cr_assert_eq(oj_lock_from_json(j, &back), 0);
    cr_expect(memcmp(&back, &l, sizeof l) == 0, "the same lock comes back");
    cJSON_free(text);
    cJSON_Delete(j);
}

Test(locks_rules, an_old_or_odd_record_still_loads)
{
    struct oj_lock l;
    cJSON *old = cJSON_Parse("{\"holder\":\"p1a2b3c\",\"since_ms\":5}");
    cr_assert_eq(oj_lock_from_json(old, &l), 0, "host, pid and timeout are optional");
    cr_expect_str_eq(l.holder, "p1a2b3c");
    cr_expect_str_eq(l.host, "");
    cr_expect_eq(l.holder_pid, 0);
    cr_expect_eq(l.timeout_ms, 0);
    cr_expect_eq(l.since_ms, 5);
    cJSON *huge_pid = cJSON_Parse("{\"holder\":\"x\",\"holder_pid\":1e12}");
    cr_assert_eq(oj_lock_from_json(huge_pid, &l), 0);
    cr_expect_eq(l.holder_pid, 0, "a pid no process can have names none");
    cJSON *no_holder = cJSON_Parse("{\"holder\":7}");
    cr_expect_eq(oj_lock_from_json(no_holder, &l), -1, "a lock without a holder is malformed");
    cJSON_Delete(old);
    cJSON_Delete(huge_pid);
    cJSON_Delete(no_holder);
}

Test(locks_rules, stale_when_the_holder_is_gone_or_quiet_too_long)
{
    struct oj_lock l = held_by("bob", 1000, 10000);
    cr_expect_not(oj_lock_is_stale(&l, 5000, 15000, true), "a heartbeat 10 s ago is in time");
    cr_expect(oj_lock_is_stale(&l, 5000, 15001, true), "older than its timeout");
    cr_expect(oj_lock_is_stale(&l, 15000, 15000, false), "its holder's process is gone");
    struct oj_lock forever = held_by("bob", 1000, 0);
    cr_expect_not(oj_lock_is_stale(&forever, 0, INT64_MAX / 2, true),
                  "no timeout: only a dead holder makes it stale");
}

Test(locks_rules, a_heartbeat_unseen_since_the_start_counts_from_the_start)
{
    struct oj_lock l = held_by("bob", 1000, 10000);
    int64_t seen = 7000;
    cr_expect_eq(oj_lock_last_heartbeat(&l, &seen, 50000), 7000, "a heartbeat seen wins");
    cr_expect_eq(oj_lock_last_heartbeat(&l, NULL, 50000), 50000,
                 "taken before this daemon started: counts from its start");
    cr_expect_eq(oj_lock_last_heartbeat(&l, NULL, 500), 1000,
                 "taken after the start (a restored state): counts from when it was taken");
}

Test(locks_rules, only_a_process_on_this_host_is_checked)
{
    struct oj_lock l = held_by("script", 1, 0);
    cr_expect_eq(oj_lock_pid_to_check(&l, "box"), 0, "no pid: nothing to check");
    l.holder_pid = 99;
    cr_expect_eq(oj_lock_pid_to_check(&l, "box"), 99);
    cr_expect_eq(oj_lock_pid_to_check(&l, "other"), 0, "another machine's pid tells nothing");
    l.host[0] = '\0';
    cr_expect_eq(oj_lock_pid_to_check(&l, "other"), 99, "no host: taken for this one's");
}

Test(locks_rules, who_gets_a_lock)
{
    struct oj_lock l = held_by("alice", 1, 0);
    cr_expect_eq(oj_lock_acquire_verdict(NULL, false, "bob"), OJ_ACQUIRE_GRANTED);
    cr_expect_eq(oj_lock_acquire_verdict(&l, false, "alice"), OJ_ACQUIRE_RENEWED);
    cr_expect_eq(oj_lock_acquire_verdict(&l, true, "alice"), OJ_ACQUIRE_RENEWED,
                 "its own holder renews even a stale lock");
    cr_expect_eq(oj_lock_acquire_verdict(&l, false, "bob"), OJ_ACQUIRE_BUSY);
    cr_expect_eq(oj_lock_acquire_verdict(&l, true, "bob"), OJ_ACQUIRE_TAKE_OVER);
}

Test(locks_rules, who_may_release_a_lock)
{
    struct oj_lock l = held_by("alice", 1, 0);
    cr_expect_eq(oj_lock_release_verdict(NULL, "alice", false), OJ_RELEASE_NOT_HELD);
    cr_expect_eq(oj_lock_release_verdict(NULL, "", true), OJ_RELEASE_NOT_HELD,
                 "force cannot release what nobody holds");
    cr_expect_eq(oj_lock_release_verdict(&l, "alice", false), OJ_RELEASE_OK);
    cr_expect_eq(oj_lock_release_verdict(&l, "bob", false), OJ_RELEASE_NOT_HOLDER);
    cr_expect_eq(oj_lock_release_verdict(&l, "", true), OJ_RELEASE_OK, "force: anyone's");
}

Test(locks_rules, what_an_acquisition_writes)
{
    struct oj_lock cur = held_by("alice", 1000, 30000), want = held_by("alice", 0, 30000), next;
    cr_expect_not(oj_lock_acquired(&cur, OJ_ACQUIRE_RENEWED, &want, 9000, &next),
                  "renewed on the same terms: only a heartbeat, nothing to journal");
    cr_expect_eq(next.since_ms, 1000, "a renewal keeps when it was first taken");
    want.timeout_ms = 60000;
    cr_expect(oj_lock_acquired(&cur, OJ_ACQUIRE_RENEWED, &want, 9000, &next),
              "new terms are journaled");
    cr_expect_eq(next.since_ms, 1000);
    cr_expect_eq(next.timeout_ms, 60000);
    struct oj_lock bob = held_by("bob", 0, 5000);
    cr_expect(oj_lock_acquired(&cur, OJ_ACQUIRE_TAKE_OVER, &bob, 9000, &next));
    cr_expect_str_eq(next.holder, "bob");
    cr_expect_eq(next.since_ms, 9000, "a new holder holds it from now");
    cr_expect(oj_lock_acquired(NULL, OJ_ACQUIRE_GRANTED, &bob, 9500, &next));
    cr_expect_eq(next.since_ms, 9500);
}

Test(locks_rules, a_pipeline_holds_a_lock_without_a_process)
{
    struct oj_lock l = oj_lock_pipeline_terms("p00beef", "box");
    cr_expect_str_eq(l.holder, "p00beef");
    cr_expect_str_eq(l.host, "box");
    cr_expect_eq(l.holder_pid, 0, "never 'holder gone': the daemon heartbeats for it");
    cr_expect_eq(oj_lock_pid_to_check(&l, "box"), 0);
    cr_expect_eq(l.timeout_ms, OJ_LOCK_PIPELINE_TIMEOUT_MS,
                 "stale once its pipeline stops heartbeating");
}
